// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dwarfinfo.h"
#include "elfinfo.h"

struct dwarfinfo {
	Dwfl_Callbacks cb;	/* dwfl keeps a pointer to it: same lifetime */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwarf *dw;
	Dwarf_Addr bias;
	char *debuginfo_path;
	char file[PATH_MAX];
	char cached[PATH_MAX];	/* debuginfod's cache file, when it came from there */
	Dwarf_Off gc_cu;	/* offset of the GC module's CU, searched first */
	bool have_gc_cu;
};

static const char *attr_name(Dwarf_Die *die)
{
	return dwarf_diename(die);
}

/* Does the file itself carry .debug_info? */
static bool file_has_dwarf(const char *path)
{
	struct elffile ef;
	bool has;

	if (elf_open(&ef, path))
		return false;
	has = ef.has_debug_info;
	elf_close(&ef);
	return has;
}

/*
 * DWARF that came from debuginfod: libdwfl (elfutils 0.188) hands it over
 * without a file name, but the client keeps it in its cache as
 * CACHE/BUILD-ID/debuginfo (debuginfod-client(3)), where CACHE is
 * $DEBUGINFOD_CACHE_PATH, else $XDG_CACHE_HOME/debuginfod_client, else
 * $HOME/.cache/debuginfod_client.  That file also has the .symtab that uprobes
 * need.
 */
static const char *debuginfod_cached(Dwfl_Module *mod, char *out, size_t size)
{
	const unsigned char *id;
	GElf_Addr vaddr;
	char hex[2 * 64 + 1];
	const char *env;
	int n = dwfl_module_build_id(mod, &id, &vaddr);

	if (n <= 0 || n > 64)
		return NULL;
	for (int i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", id[i]);
	if ((env = getenv("DEBUGINFOD_CACHE_PATH")) && *env)
		snprintf(out, size, "%s/%s/debuginfo", env, hex);
	else if ((env = getenv("XDG_CACHE_HOME")) && *env)
		snprintf(out, size, "%s/debuginfod_client/%s/debuginfo", env, hex);
	else if ((env = getenv("HOME")) && *env)
		snprintf(out, size, "%s/.cache/debuginfod_client/%s/debuginfo", env, hex);
	else
		return NULL;
	return access(out, R_OK) == 0 ? out : NULL;
}

struct dwarfinfo *dwarfinfo_open(const char *path, const char *root, char *where, size_t size)
{
	struct dwarfinfo *d = calloc(1, sizeof(*d));
	Dwfl_Module *mod;
	Dwarf_Addr bias;
	const char *debugfile = NULL, *mainfile = NULL;
	Dwarf_Off off = 0, next;
	size_t hsize;

	if (!d)
		return NULL;
	/* "-" : no CRC check of debuglink targets (Debian's build-id files are
	 * what we want); ".debug": beside the binary; then the target's and our
	 * /usr/lib/debug, where .build-id/xx/yyyy.debug is looked up. */
	if (asprintf(&d->debuginfo_path, "-:.debug:%s/usr/lib/debug:/usr/lib/debug",
		     strcmp(root, "/") ? root : "") < 0) {
		d->debuginfo_path = NULL;
		goto fail;
	}
	d->cb.find_elf = dwfl_build_id_find_elf;
	d->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	d->cb.debuginfo_path = &d->debuginfo_path;
	d->dwfl = dwfl_begin(&d->cb);
	if (!d->dwfl)
		goto fail;
	dwfl_report_begin(d->dwfl);
	mod = dwfl_report_offline(d->dwfl, "target", path, -1);
	dwfl_report_end(d->dwfl, NULL, NULL);
	if (!mod) {
		snprintf(where, size, "%s: %s", path, dwfl_errmsg(-1));
		goto fail;
	}
	d->mod = mod;
	d->dw = dwfl_module_getdwarf(mod, &bias);
	d->bias = bias;
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
	if (!d->dw) {
		snprintf(where, size, "no DWARF in %s, nor by build-id/debuglink in %s/usr/lib/debug "
			 "or /usr/lib/debug%s", path, strcmp(root, "/") ? root : "",
			 getenv("DEBUGINFOD_URLS") ? ", nor from debuginfod" : " (DEBUGINFOD_URLS not set)");
		goto fail;
	}
	if (!debugfile && !file_has_dwarf(path))
		debugfile = debuginfod_cached(mod, d->cached, sizeof(d->cached));
	snprintf(d->file, sizeof(d->file), "%s", debugfile ? debugfile : (mainfile ? mainfile : path));
	snprintf(where, size, "%s", d->file);

	/* The collector's own compilation unit sees every GC struct; looking
	 * there first avoids walking hundreds of CUs. */
	while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		const char *name;

		if (dwarf_offdie(d->dw, off + hsize, &cu) && (name = attr_name(&cu)) &&
		    (strstr(name, "gcmodule.c") || strstr(name, "Python/gc.c"))) {
			d->gc_cu = off + hsize;
			d->have_gc_cu = true;
			break;
		}
		off = next;
	}
	return d;
fail:
	dwarfinfo_close(d);
	return NULL;
}

void dwarfinfo_close(struct dwarfinfo *d)
{
	if (!d)
		return;
	if (d->dwfl)
		dwfl_end(d->dwfl);
	free(d->debuginfo_path);
	free(d);
}

const char *dwarfinfo_file(const struct dwarfinfo *d)
{
	return d->file;
}

Dwarf *dwarfinfo_dwarf(const struct dwarfinfo *d, uint64_t *bias)
{
	*bias = d->bias;
	return d->dw;
}

Dwarf_CFI *dwarfinfo_cfi(const struct dwarfinfo *d, uint64_t *bias)
{
	Dwarf_Addr b = 0;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(d->mod, &b);

	/* .eh_frame is in the loaded file; .debug_frame only in some debug
	 * files.  Either describes the CFA. */
	if (!cfi)
		cfi = dwfl_module_dwarf_cfi(d->mod, &b);
	*bias = b;
	return cfi;
}

static bool inlines(Dwarf_Die *die, const char *inner, int depth)
{
	Dwarf_Die c;

	if (depth > 16 || dwarf_child(die, &c) != 0)
		return false;
	do {
		int tag = dwarf_tag(&c);

		if (tag == DW_TAG_inlined_subroutine) {
			Dwarf_Attribute a;
			Dwarf_Die origin;
			const char *n = NULL;

			if (dwarf_attr(&c, DW_AT_abstract_origin, &a) && dwarf_formref_die(&a, &origin))
				n = dwarf_diename(&origin);
			if (n && !strcmp(n, inner))
				return true;
		}
		if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block) &&
		    inlines(&c, inner, depth + 1))
			return true;
	} while (dwarf_siblingof(&c, &c) == 0);
	return false;
}

int dwarfinfo_inlines_at(struct dwarfinfo *d, uint64_t vaddr, const char *inner)
{
	Dwarf_Die cu, *scopes = NULL;
	int n, r = -1;

	if (!dwarf_addrdie(d->dw, vaddr, &cu))
		return -1;
	n = dwarf_getscopes(&cu, vaddr, &scopes);
	for (int i = 0; i < n; i++) {
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram) {
			r = inlines(&scopes[i], inner, 0);
			break;
		}
	}
	free(scopes);
	return r;
}

/* Follow typedefs and qualifiers to the underlying type. */
static bool strip(Dwarf_Die *die)
{
	for (int guard = 0; guard < 32; guard++) {
		Dwarf_Attribute a;
		int tag = dwarf_tag(die);

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
		    tag != DW_TAG_restrict_type && tag != DW_TAG_atomic_type)
			return true;
		if (!dwarf_attr(die, DW_AT_type, &a) || !dwarf_formref_die(&a, die))
			return false;
	}
	return false;
}

static bool member_type(Dwarf_Die *member, Dwarf_Die *type)
{
	Dwarf_Attribute a;

	return dwarf_attr(member, DW_AT_type, &a) && dwarf_formref_die(&a, type) && strip(type);
}

static long member_loc(Dwarf_Die *member)
{
	Dwarf_Attribute a;
	Dwarf_Word v;

	if (!dwarf_attr(member, DW_AT_data_member_location, &a))
		return 0;	/* union members */
	if (dwarf_formudata(&a, &v) != 0)
		return -1;
	return (long)v;
}

/* Find member `name` in struct/union s, looking into anonymous members. */
static bool find_member(Dwarf_Die *s, const char *name, long *off, Dwarf_Die *mtype, int depth)
{
	Dwarf_Die child, t;

	if (depth > 8 || dwarf_child(s, &child) != 0)
		return false;
	do {
		const char *n;
		long loc;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		n = dwarf_diename(&child);
		loc = member_loc(&child);
		if (loc < 0 || !member_type(&child, &t))
			continue;
		if (n && !strcmp(n, name)) {
			*off = loc;
			*mtype = t;
			return true;
		}
		if (!n && (dwarf_tag(&t) == DW_TAG_structure_type || dwarf_tag(&t) == DW_TAG_union_type)) {
			long inner;

			if (find_member(&t, name, &inner, mtype, depth + 1)) {
				*off = loc + inner;
				return true;
			}
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

/* A complete struct/union/typedef named `name` among the CU's top DIEs. */
static bool find_type_in_cu(Dwarf_Die *cu, const char *name, Dwarf_Die *out)
{
	Dwarf_Die child;

	if (dwarf_child(cu, &child) != 0)
		return false;
	do {
		int tag = dwarf_tag(&child);
		const char *n;

		if (tag != DW_TAG_typedef && tag != DW_TAG_structure_type && tag != DW_TAG_union_type)
			continue;
		n = dwarf_diename(&child);
		if (!n || strcmp(n, name) || dwarf_hasattr(&child, DW_AT_declaration))
			continue;
		*out = child;
		if (!strip(out))
			continue;
		if ((dwarf_tag(out) == DW_TAG_structure_type || dwarf_tag(out) == DW_TAG_union_type) &&
		    !dwarf_hasattr(out, DW_AT_declaration))
			return true;
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

static bool find_type(struct dwarfinfo *d, const char *name, Dwarf_Die *out)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf_Die cu;

	if (d->have_gc_cu && dwarf_offdie(d->dw, d->gc_cu, &cu) && find_type_in_cu(&cu, name, out))
		return true;
	while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		if (dwarf_offdie(d->dw, off + hsize, &cu) && find_type_in_cu(&cu, name, out))
			return true;
		off = next;
	}
	return false;
}

long dwarfinfo_member_offset(void *ctx, const char *type, const char *path)
{
	struct dwarfinfo *d = ctx;
	char buf[256], *save = NULL, *part;
	Dwarf_Die t;
	long total = 0;

	if (!find_type(d, type, &t))
		return -1;
	if (!strcmp(path, "sizeof")) {
		Dwarf_Word sz;

		return dwarf_aggregate_size(&t, &sz) == 0 ? (long)sz : -1;
	}
	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
		Dwarf_Die mt;
		long off;

		if (dwarf_tag(&t) != DW_TAG_structure_type && dwarf_tag(&t) != DW_TAG_union_type)
			return -1;
		if (!find_member(&t, part, &off, &mt, 0))
			return -1;
		total += off;
		t = mt;
	}
	return total;
}
