/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * One object for many targets of one interpreter build (the agent:
 * user/bpfshare.c).  With targ_shared, what is per target (its runtime's
 * address, the slot of its counters) is not in rodata but in the "targets"
 * map, keyed by tgid, and a program that runs for a process looks it up:
 * a process not in the map is not traced.  Without it (gcscope trace, the
 * agent's targets with type windows) the map has one unused entry and no
 * program looks at it: the branches on targ_shared are dead code the
 * verifier drops.
 *
 * Included by bpf/gcscope.bpf.c before the headers that use it.
 */
#ifndef __GCSCOPE_SHARED_BPF_H
#define __GCSCOPE_SHARED_BPF_H

#include "gcscope.h"

const volatile bool targ_shared = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);		/* user space sizes it when shared */
	__type(key, __u32);		/* tgid, as the root pid namespace sees it */
	__type(value, struct gcscope_target);
} targets SEC(".maps");

static __always_inline struct gcscope_target *shared_target(__u32 tgid)
{
	return bpf_map_lookup_elem(&targets, &tgid);
}

#endif /* __GCSCOPE_SHARED_BPF_H */
