// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

bool privs_can_trace(char *why, size_t size)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = {};
	bool bpf, perfmon, admin;

	if (syscall(SYS_capget, &h, d)) {
		snprintf(why, size, "cannot read this process's capabilities");
		return false;
	}
	admin = has_cap(d, CAP_SYS_ADMIN);
	bpf = has_cap(d, CAP_BPF) || admin;
	perfmon = has_cap(d, CAP_PERFMON) || admin;
	if (bpf && perfmon)
		return true;
	snprintf(why, size, "tracing needs root, or CAP_BPF and CAP_PERFMON (missing:%s%s); run it with sudo",
		 bpf ? "" : " CAP_BPF", perfmon ? "" : " CAP_PERFMON");
	return false;
}
