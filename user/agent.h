/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
#ifndef GCSCOPE_AGENT_H
#define GCSCOPE_AGENT_H

/* gcscope agent: many targets in one event loop, metrics over HTTP
 * (docs/agent.md). */
int cmd_agent(int argc, char **argv);

#endif
