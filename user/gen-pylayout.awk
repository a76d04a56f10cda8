# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
#
# user/pylayout.tsv -> C header with the table (see pylayout.h).
# Run by the Makefile: awk -f user/gen-pylayout.awk user/pylayout.tsv
# gdb/gcscope_layout.py reads the same file: a change of format here is one
# there too.
BEGIN { FS = "\t"; n = 0; ncols = 0; nrules = 0; bad = 0 }

function fail(msg) {
	printf("pylayout.tsv:%d: %s\n", NR, msg) > "/dev/stderr"
	bad = 1
	exit 1
}

/^# field\t/ {
	for (i = 4; i <= NF; i++) {
		split($i, v, ".")
		# ncols is bumped on a line of its own: mawk and gawk
		# evaluate "a[++n] = f(a2[n + 1])" in different orders
		# (mawk 1.3.4 wrote 3.14.5's micro as 0)
		ncols++
		colmicro[ncols] = (v[3] == "" ? 0 : v[3])
		cols[ncols] = sprintf("0x%02x%02x%02x00", v[1], v[2], colmicro[ncols])
		colname[ncols] = $i
	}
	next
}
/^#/ || /^[ \t]*$/ { next }
# "rule NAME VALUE": one setting for both sides, not per column.
$1 == "rule" {
	if (NF != 3 || $2 !~ /^[a-z0-9_]+$/)
		fail("a rule is: rule<TAB>name<TAB>value")
	rname[++nrules] = $2
	rval[nrules] = $3
	next
}
{
	if (NF != 3 + ncols)
		fail(sprintf("%d columns, expected %d", NF, 3 + ncols))
	name[++n] = $1; dwarf[n] = $2; pydebug[n] = $3
	vals = ""
	for (i = 4; i <= NF; i++) {
		x = $i
		if (x == "-") x = "PYL_NONE"
		else if (x == "?") x = "PYL_UNKNOWN"
		else if (x !~ /^[0-9]+$/)
			fail(sprintf("bad value '%s'", x))
		vals = vals (i > 4 ? ", " : "") x
		# the header names a column by its first release
		if ($1 == "column.first_micro" && x != colmicro[i - 3])
			fail(sprintf("column %s: first_micro %s", colname[i - 3], x))
	}
	values[n] = vals
}
END {
	if (bad)
		exit 1
	if (ncols == 0) { print "pylayout.tsv: no '# field' header line" > "/dev/stderr"; exit 1 }
	print "/* Generated from user/pylayout.tsv by user/gen-pylayout.awk: do not edit. */"
	for (i = 1; i <= nrules; i++) {
		r = toupper(rname[i])
		if (rval[i] ~ /^[0-9]+$/)
			printf("#define PYL_RULE_%s %sL\n", r, rval[i])
		else
			printf("#define PYL_RULE_%s \"%s\"\n", r, rval[i])
	}
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
