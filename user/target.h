/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * A CPython target: the process, the ELF file holding the runtime
 * (the python executable, or libpython for --enable-shared builds), where
 * it is loaded, the version the target itself states, its debug info, and
 * the resolved layout.
 */
#ifndef GCSCOPE_TARGET_H
#define GCSCOPE_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dwarfinfo.h"
#include "elfinfo.h"
#include "procmaps.h"
#include "pylayout.h"

struct pytarget {
	pid_t pid;			/* the process (a tgid) */
	pid_t asked_pid;		/* what -p gave: pid, or one of its thread ids */
	char note[128];			/* said once on stderr when asked_pid != pid */
	struct procmaps pm;
	char comm[32];
	char root_path[PATH_MAX];	/* "/proc/PID/root" or "/" */

	/* The ELF that defines _PyRuntime. */
	char py_path[PATH_MAX];		/* as /proc/PID/maps shows it */
	char py_inside[PATH_MAX];	/* as the target sees it */
	char py_open[PATH_MAX];		/* where we open it and attach probes */
	struct elffile elf;
	uint64_t bias;
	uint64_t runtime_addr;		/* &_PyRuntime in the target */

	uint32_t version;		/* major<<24 | minor<<16 | micro<<8 */
	const char *version_source;	/* "Py_Version", "_Py_DebugOffsets", ".rodata" */
	bool has_debug_offsets;
	bool free_threaded;

	struct dwarfinfo *dwarf;	/* NULL without debug info */
	char dwarf_where[PATH_MAX + 256]; /* its file, or what was tried */
	bool no_dwarf;			/* --no-debuginfo: do not look */
	struct elffile symelf;		/* a separate debug file's .symtab, if any */
	bool have_symelf;

	struct pylayout layout;
	bool layout_ok;			/* version known to the table or overridden */
};

/* Find the CPython runtime of process pid.  Returns an EXIT_* code (0 on
 * success) and writes one line for the user to err; on failure t holds
 * nothing to close.  pid may be a thread id: t->pid is then its process,
 * and one line on stderr says so. */
int pytarget_open(struct pytarget *t, pid_t pid, bool no_dwarf, char *err, size_t errsz);
void pytarget_close(struct pytarget *t);

/* In a process that may not have run any Python yet (gcscope trace -- CMD):
 * 0 if the ELF with _PyRuntime is mapped, -ENOENT if not; and whether the
 * target can already state its version. */
int pytarget_runtime_ready(pid_t pid, bool *version_known);

/* 1 if process pid maps a CPython too old to have _PyRuntime (before 3.7),
 * with "CPython 2.7.18 (/usr/lib/libpython2.7.so.1.0)" or "CPython older
 * than 3.7 (...)" in what; else 0. */
int pytarget_old_cpython(pid_t pid, char *what, size_t size);

/* The CPython version as the target states it (see target.c), or 0 while
 * it cannot tell yet (3.9/3.10 before Py_GetVersion() ran). */
uint32_t py_version_of(pid_t pid, struct elffile *ef, uint64_t bias, uint64_t runtime_vaddr,
		       const char **source, bool *debug_offsets);

/* Read target memory (process_vm_readv). */
int pytarget_read(const struct pytarget *t, uint64_t addr, void *buf, size_t len);

#endif
