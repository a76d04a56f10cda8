// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The DWARF lookups gcscope does itself, on an ELF image with debug info
 * (user/dwarfinfo.c, user/gcsite.c): opening it through libdwfl as
 * target.c does, every struct member of the layout table
 * (pylayout_apply_dwarf with dwarfinfo_member_offset), the walk for
 * finalize_garbage and its list's location (gcsite_find, with CFI), and
 * the inlining test of probe.c.  A target's debug info is its owner's.
 *
 * Input: the ELF file.  It reaches libdwfl as a file, a memfd opened by its
 * /proc/self/fd path, exactly as dwarfinfo_open() opens a target's: the
 * from-memory dwfl_report_offline_memory() of elfutils 0.188 crashes by
 * itself on some invalid ELF images (a NULL write inside libdw), and
 * gcscope never uses it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dwarfinfo.h"
#include "fuzz.h"
#include "gcsite.h"
#include "pylayout.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void);

/*
 * elfutils' own leak: dwarf_getscopes() allocates the scopes in its first
 * pass and, when the second one (abstract origins) fails, returns the
 * error without them (libdw/dwarf_getscopes.c: "if (result > 0) *scopes =
 * a.scopes"), so no caller can free them.  64 bytes per failed lookup of
 * hostile DWARF, in probe.c's one lookup per run.  Not gcscope's to fix.
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:dwarf_getscopes\n";
}

/* libdw has no frame pointers: without the slow unwinder a leak's stack
 * stops in libdw, and the suppression above cannot see dwarf_getscopes
 * (a suppression of all of libdw would hide our own leaks of what libdw
 * hands us, such as dwarf_cfi_addrframe()'s frame). */
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

static int memfd = -1;
static char memfd_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* no network, and the same answer on every machine */
	unsetenv("DEBUGINFOD_URLS");
	memfd = memfd_create("fuzz_dwarf", MFD_CLOEXEC);
	if (memfd < 0)
		abort();
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char where[512], why[256];
	struct gcsite sites[GCSITE_MAX];
	struct dwarfinfo *d;
	struct pylayout l;
	uint64_t bias;
	int n;

	if (ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	/* a root with nothing under it: a separate debug file is not found */
	d = dwarfinfo_open(memfd_path, "/nonexistent-fuzz-root", where, sizeof(where));
	if (d) {
		pylayout_init(&l, 0x030d0000);
		pylayout_apply_dwarf(&l, dwarfinfo_member_offset, d);
		for (int i = 0; i < PYL__COUNT; i++)
			FUZZ_ASSERT(l.src[i] != PYL_SRC_DWARF || (l.off[i] >= 0 && l.off[i] < PYL_RULE_MAX_OFFSET));
		n = gcsite_find(d, -1, sites, GCSITE_MAX, why, sizeof(why));
		FUZZ_ASSERT(n >= 0 && n <= GCSITE_MAX);
		for (int i = 0; i < n; i++) {
			FUZZ_ASSERT(gcsite_pt_regs_offset(sites[i].dwarf_reg) >= 0);
			dwarfinfo_inlines_at(d, sites[i].vaddr, "finalize_garbage");
		}
		dwarfinfo_inlines_at(d, 0x1000, "gc_collect_main");
		dwarfinfo_cfi(d, &bias);
		dwarfinfo_dwarf(d, &bias);
		dwarfinfo_close(d);
	}
	return 0;
}
