/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The target's mapped ELF files by name, and what its libc publishes for
 * debuggers about its threads: where the kernel tid sits in glibc's struct
 * pthread.  Both Qt's affinity (a QThreadData's pthread_t) and the
 * free-threaded heap owners (a mimalloc segment's thread id) end at a
 * struct pthread *, read in BPF.
 */
#ifndef GCSCOPE_LIBCTHREAD_H
#define GCSCOPE_LIBCTHREAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "elfinfo.h"
#include "procmaps.h"

/* The mapped ELF whose basename starts with prefix ("libc.so"), opened
 * into ef (elf_close() it).  0, or -ENOENT. */
int mapped_elf_open(const struct procmaps *pm, const char *prefix, struct elffile *ef);

/* The offset of tid in the target libc's struct pthread, from its
 * _thread_db_pthread_tid descriptor (bits, count, offset: what
 * libthread_db reads); 0 if libc is not mapped, is not glibc, or the
 * descriptor is not a 32-bit field within a page. */
uint32_t libc_pthread_tid_offset(const struct procmaps *pm);

/* The kernel's name of thread tid of pid ("" if gone), cleaned: read when
 * a record names a thread that BPF did not name (it may end soon). */
void task_comm(pid_t pid, uint32_t tid, char *out, size_t size);

#endif /* GCSCOPE_LIBCTHREAD_H */
