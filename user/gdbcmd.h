/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/* `gcscope gdb` and `gcscope core`: run gdb with gcscope's py-gc-* commands. */
#ifndef GCSCOPE_GDBCMD_H
#define GCSCOPE_GDBCMD_H

#include <gelf.h>
#include <stddef.h>

/* gcscope gdb -p PID [GDB ARGS...]: exec an interactive gdb attached to PID,
 * gcscope.py sourced; sysroot and debug-file-directory set when the process
 * lives in another root (container, chroot).  argv[0] is "gdb". */
int cmd_gdb(int argc, char **argv);

/* gcscope core CORE [EXE]: batch post-mortem report of a core via gdb
 * (py-gc-status, py-gc-census, py-gc-collecting, py-gc-garbage, py-gc-types).
 * Without EXE, the executable named in the core's NT_PRPSINFO is used.
 * argv[0] is "core". */
int cmd_core(int argc, char **argv);

/* Directory holding gcscope.py ($GCSCOPE_GDB_DIR, <exe dir>/../share/gcscope/gdb,
 * or the source tree's gdb/ next to .output/), or NULL.  Exposed for tests. */
const char *gdbcmd_script_dir(char *buf, unsigned long size);

/* The executable a core names (NT_PRPSINFO pr_psargs up to its first space,
 * if an absolute path), from the core opened by libelf (a file, or memory
 * for the fuzz harness).  1 with it in out, else 0. */
int gdbcmd_core_exe_elf(Elf *elf, char *out, size_t size);

#endif
