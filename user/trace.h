/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
#ifndef GCSCOPE_TRACE_H
#define GCSCOPE_TRACE_H

int cmd_trace(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_stats(int argc, char **argv);	/* user/gcstats_cmd.c */

#endif
