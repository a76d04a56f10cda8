/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
#ifndef GCSCOPE_PRIVS_H
#define GCSCOPE_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

/* Can we load BPF and attach uprobes: CAP_BPF and CAP_PERFMON (Linux 5.8+),
 * or CAP_SYS_ADMIN?  If not, *why says which are missing. */
bool privs_can_trace(char *why, size_t size);

#endif
