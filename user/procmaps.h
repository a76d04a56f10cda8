/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * A target process as /proc shows it: its file mappings, and a path through
 * which we can open each mapped file even when the target lives in another
 * mount namespace or chroot (container): /proc/PID/root + the path the target
 * itself sees, checked against the mapping's device and inode.
 */
#ifndef GCSCOPE_PROCMAPS_H
#define GCSCOPE_PROCMAPS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct mapping {
	uint64_t start, end, offset;
	uint64_t dev;			/* makedev() of the maps line */
	uint64_t ino;
	char perms[5];
	char path[PATH_MAX];		/* as /proc/PID/maps shows it (our root's view) */
};

struct procmaps {
	pid_t pid;
	struct mapping *m;
	int n;
	char root[PATH_MAX];		/* readlink(/proc/PID/root): "/" or a chroot dir */
	bool foreign_root;		/* the target's "/" is not ours */
};

/* Read /proc/PID/maps.  Returns 0, or -errno (ENOENT/ESRCH: no such process). */
int procmaps_read(struct procmaps *pm, pid_t pid);
void procmaps_free(struct procmaps *pm);
/* The mappings of a maps text in memory (what procmaps_read() reads), into
 * pm->m/pm->n; the caller sets pid and root.  0 or -ENOMEM. */
int procmaps_parse(struct procmaps *pm, const char *buf, size_t len);

/* The path of the mapped file as the target sees it ("/usr/bin/python3.13"
 * for a file in a chroot), written to out. */
void procmaps_inside_path(const struct procmaps *pm, const char *path, char *out, size_t size);

/* A path we can open for mapping m (same file: dev+ino checked), preferring
 * /proc/PID/root/<inside path> for targets with their own root.  Returns 0 or
 * -ENOENT. */
int procmaps_open_path(const struct procmaps *pm, const struct mapping *m, char *out, size_t size);

/* The mapping of `path` with file offset 0, i.e. where the ELF is loaded, or
 * NULL. */
const struct mapping *procmaps_find_base(const struct procmaps *pm, const char *path);

/* What /proc/PID/status says of a task: "State:" (its letter: R, S, Z...),
 * "Tgid:" (the process a thread id belongs to), "PPid:" and "Threads:".  PID may be a
 * thread id: /proc/TID exists for every thread, though readdir() of /proc
 * does not list it. */
struct proc_status {
	char state;			/* '?' if not said */
	pid_t tgid;			/* 0 if not said */
	pid_t ppid;
	int threads;			/* "Threads:", 0 if not said */
};

/* Parse the text of /proc/PID/status: 0, or -EINVAL if there is no Tgid
 * line (the text is untrusted only in the sense that a kernel change could
 * reorder it: each field is looked for by name). */
int proc_status_parse(const char *text, struct proc_status *out);
/* Read and parse /proc/PID/status: 0 or -errno (-ENOENT: no such task). */
int proc_status_read(pid_t pid, struct proc_status *out);

/* Why root was refused /proc/PID/maps (EACCES/EPERM), in words, given
 * gcscope's effective uid and the text of its /proc/self/uid_map (NULL if
 * there is none): not root, root only inside a user namespace, or root of
 * the host refused by a security module. */
void maps_denied_reason(uid_t euid, const char *uid_map, char *out, size_t size);

/* Read target memory; returns 0 only if all len bytes were read. */
int procmem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

#endif
