/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Qt affinity (--owners on QObjects, docs/objects.md): which binding a
 * QObject subclass comes from, and Qt's private layout in the target, for
 * bpf/qt.bpf.h to read the thread each QObject lives in when it dies.
 */
#ifndef GCSCOPE_QTAFFINITY_H
#define GCSCOPE_QTAFFINITY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "gcscope.h"

/* The verdict bits (GCSCOPE_QT_*: wrapper kind and Qt major) of a class
 * whose module-qualified name is qualname, if it is the QObject of one of
 * the bindings ("PyQt5.QtCore.QObject", "PySide6.QtCore.QObject"...); 0
 * otherwise. */
uint32_t qtaff_binding(const char *qualname);

/* The same from tp_names only: a MRO entry's and the next one's (NULL if
 * none), for a type whose module can no longer be read. */
uint32_t qtaff_binding_by_names(const char *tp_name, const char *next_tp_name);

/* Qt's layout in process pid, read from its mapped libQt5Core/libQt6Core
 * and libc: into cfg (ob_size: sizeof(PyObject) of the target, where the
 * wrappers' own fields start).  Returns how many Qt majors are mapped (0:
 * no Qt loaded yet; why says so).  A mapped Qt whose layout cannot be
 * read has cfg->qt[major].valid 0, and why says so, as it does when no
 * QObject's thread can be turned into a tid. */
int qtaff_layout(pid_t pid, uint64_t ob_size, struct gcscope_qt_cfg *cfg, char *why, size_t size);

/* Decode QObject::thread()'s machine code (x86-64): "mov d_ptr(%rdi),%rax;
 * mov threadData(%rax),%rax; mov thread(%rax),%rax; ret".  Returns 0 and
 * the three offsets, or -1 if the code is not that.  (Exposed for tests.) */
int qtaff_decode_thread(const uint8_t *code, size_t len, uint32_t off[3]);


#endif
