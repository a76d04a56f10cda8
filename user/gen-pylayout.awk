# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
#
# user/pylayout.tsv -> C header with the table (see pylayout.h).
# Run by the Makefile: awk -f user/gen-pylayout.awk user/pylayout.tsv
BEGIN { FS = "\t"; n = 0; ncols = 0 }

/^# field\t/ {
	for (i = 4; i <= NF; i++) {
		split($i, v, ".")
		cols[++ncols] = sprintf("0x%02x%02x%02x00", v[1], v[2], (v[3] == "" ? 0 : v[3]))
		colname[ncols] = $i
	}
	next
}
/^#/ || /^[ \t]*$/ { next }
{
	if (NF != 3 + ncols) {
		printf("pylayout.tsv:%d: %d columns, expected %d\n", NR, NF, 3 + ncols) > "/dev/stderr"
		exit 1
	}
	name[++n] = $1; dwarf[n] = $2; pydebug[n] = $3
	vals = ""
	for (i = 4; i <= NF; i++) {
		x = $i
		if (x == "-") x = "PYL_NONE"
		else if (x == "?") x = "PYL_UNKNOWN"
		else if (x !~ /^[0-9]+$/) {
			printf("pylayout.tsv:%d: bad value '%s'\n", NR, x) > "/dev/stderr"
			exit 1
		}
		vals = vals (i > 4 ? ", " : "") x
	}
	values[n] = vals
}
END {
	if (ncols == 0) { print "pylayout.tsv: no '# field' header line" > "/dev/stderr"; exit 1 }
	print "/* Generated from user/pylayout.tsv by user/gen-pylayout.awk: do not edit. */"
	printf("#define PYL_NCOLS %d\n", ncols)
	printf("static const uint32_t pyl_columns[PYL_NCOLS] = {")
	for (i = 1; i <= ncols; i++) printf("%s%s", (i > 1 ? ", " : " "), cols[i])
	print " };"
	printf("static const char *const pyl_column_names[PYL_NCOLS] = {")
	for (i = 1; i <= ncols; i++) printf("%s\"%s\"", (i > 1 ? ", " : " "), colname[i])
	print " };"
	print "enum pyl_field {"
	for (i = 1; i <= n; i++) {
		e = toupper(name[i]); gsub(/[^A-Z0-9]/, "_", e)
		printf("\tPYL_%s,\n", e)
	}
	print "\tPYL__COUNT\n};"
	print "static const struct pyl_row pyl_rows[PYL__COUNT] = {"
	for (i = 1; i <= n; i++)
		printf("\t{ \"%s\", \"%s\", \"%s\", { %s } },\n", name[i], dwarf[i], pydebug[i], values[i])
	print "};"
}
