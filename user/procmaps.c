// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "procmaps.h"

/* One line of /proc/PID/maps (NUL-terminated, with or without its
 * newline) into *mm; false for lines without a file path. */
static bool parse_line(char *line, struct mapping *mm)
{
	unsigned maj, min;
	unsigned long long s, e, off, ino;
	int pos = 0;

	memset(mm, 0, sizeof(*mm));
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &s, &e, mm->perms, &off, &maj, &min,
		   &ino, &pos) < 7)
		return false;
	if (pos <= 0 || line[pos] != '/')
		return false;	/* anonymous, [heap], [vdso]... */
	line[strcspn(line, "\n")] = '\0';
	/* " (deleted)" marks a replaced file: keep the name, the dev/ino
	 * check in procmaps_open_path() decides whether it is usable. */
	snprintf(mm->path, sizeof(mm->path), "%s", line + pos);
	mm->start = s;
	mm->end = e;
	mm->offset = off;
	mm->dev = makedev(maj, min);
	mm->ino = ino;
	return true;
}

static int add_mapping(struct procmaps *pm, const struct mapping *mm, int *cap)
{
	if (pm->n == *cap) {
		struct mapping *nm;

		*cap = *cap ? *cap * 2 : 64;
		nm = realloc(pm->m, *cap * sizeof(*nm));
		if (!nm) {
			procmaps_free(pm);
			return -ENOMEM;
		}
		pm->m = nm;
	}
	pm->m[pm->n++] = *mm;
	return 0;
}

int procmaps_parse(struct procmaps *pm, const char *buf, size_t len)
{
	/* the same bound as fgets() into this buffer in procmaps_read(): a
	 * longer line goes on as the next "line" */
	char line[PATH_MAX + 128];
	size_t at = 0;
	int cap = 0;

	pm->m = NULL;
	pm->n = 0;
	while (at < len) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t n = (nl ? (size_t)(nl - (buf + at)) + 1 : len - at);
		struct mapping mm;

		if (n > sizeof(line) - 1)
			n = sizeof(line) - 1;
		memcpy(line, buf + at, n);
		line[n] = '\0';
		at += n;
		if (parse_line(line, &mm) && add_mapping(pm, &mm, &cap))
			return -ENOMEM;
	}
	return 0;
}

int procmaps_read(struct procmaps *pm, pid_t pid)
{
	char path[64], line[PATH_MAX + 128], rootlink[PATH_MAX];
	struct stat st_target, st_self;
	FILE *f;
	int cap = 0;
	ssize_t n;

	memset(pm, 0, sizeof(*pm));
	pm->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct mapping mm;

		if (!parse_line(line, &mm))
			continue;
		if (add_mapping(pm, &mm, &cap)) {
			fclose(f);
			return -ENOMEM;
		}
	}
	fclose(f);

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	n = readlink(path, rootlink, sizeof(rootlink) - 1);
	if (n < 0)
		n = 0;
	rootlink[n] = '\0';
	snprintf(pm->root, sizeof(pm->root), "%s", n ? rootlink : "/");
	if (stat(path, &st_target) == 0 && stat("/proc/self/root", &st_self) == 0)
		pm->foreign_root = st_target.st_dev != st_self.st_dev ||
				   st_target.st_ino != st_self.st_ino;
	return 0;
}

void procmaps_free(struct procmaps *pm)
{
	free(pm->m);
	pm->m = NULL;
	pm->n = 0;
}

void procmaps_inside_path(const struct procmaps *pm, const char *path, char *out, size_t size)
{
	size_t rl = strlen(pm->root);

	if (pm->foreign_root && strcmp(pm->root, "/") != 0 && strncmp(path, pm->root, rl) == 0 &&
	    path[rl] == '/')
		snprintf(out, size, "%s", path + rl);
	else
		snprintf(out, size, "%s", path);
}

static bool same_file(const char *path, const struct mapping *m)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_dev == m->dev && st.st_ino == m->ino;
}

int procmaps_open_path(const struct procmaps *pm, const struct mapping *m, char *out, size_t size)
{
	char inside[PATH_MAX], cand[PATH_MAX + 64];

	procmaps_inside_path(pm, m->path, inside, sizeof(inside));
	if (pm->foreign_root) {
		snprintf(cand, sizeof(cand), "/proc/%d/root%s", pm->pid, inside);
		if (same_file(cand, m))
			goto found;
	}
	snprintf(cand, sizeof(cand), "%s", m->path);
	if (same_file(cand, m))
		goto found;
	/* Last resort (deleted or unreachable path): the mapping itself. */
	snprintf(cand, sizeof(cand), "/proc/%d/map_files/%llx-%llx", pm->pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	if (same_file(cand, m))
		goto found;
	return -ENOENT;
found:
	if (strlen(cand) >= size)
		return -ENAMETOOLONG;
	memcpy(out, cand, strlen(cand) + 1);
	return 0;
}

const struct mapping *procmaps_find_base(const struct procmaps *pm, const char *path)
{
	for (int i = 0; i < pm->n; i++)
		if (pm->m[i].offset == 0 && strcmp(pm->m[i].path, path) == 0)
			return &pm->m[i];
	return NULL;
}

static bool status_field(const char *text, const char *key, const char **val)
{
	size_t kl = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			*val = l + kl + 1;
			while (**val == ' ' || **val == '\t')
				(*val)++;
			return true;
		}
	}
	return false;
}

static pid_t status_pid(const char *text, const char *key)
{
	const char *v;
	char *end;
	long n;

	if (!status_field(text, key, &v))
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || n < 0 || n > INT32_MAX || (*end && *end != '\n'))
		return 0;
	return (pid_t)n;
}

int proc_status_parse(const char *text, struct proc_status *out)
{
	const char *v;

	out->state = status_field(text, "State", &v) && *v && *v != '\n' ? *v : '?';
	out->tgid = status_pid(text, "Tgid");
	out->ppid = status_pid(text, "PPid");
	out->threads = (int)status_pid(text, "Threads");
	return out->tgid ? 0 : -EINVAL;
}

int proc_status_read(pid_t pid, struct proc_status *out)
{
	char path[64], buf[4096];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return proc_status_parse(buf, out);
}

void maps_denied_reason(uid_t euid, const char *uid_map, char *out, size_t size)
{
	unsigned long inside, outside, count;

	if (euid != 0) {
		snprintf(out, size, "gcscope runs as uid %u; run it as root (sudo)", (unsigned)euid);
		return;
	}
	/* The initial user namespace maps every uid to itself:
	 * "0 0 4294967295" (user_namespaces(7)); without CONFIG_USER_NS there
	 * is no uid_map, and no other namespace. */
	if (uid_map && sscanf(uid_map, "%lu %lu %lu", &inside, &outside, &count) == 3 &&
	    (inside != 0 || outside != 0 || count != 4294967295UL)) {
		snprintf(out, size, "gcscope is root of a user namespace, not of the host (uid_map: %lu %lu %lu), "
			 "and has no rights over processes outside it; run it as root of the host",
			 inside, outside, count);
		return;
	}
	snprintf(out, size, "the kernel refused root (a security module: Landlock, AppArmor, SELinux, or "
		 "lockdown); allow gcscope ptrace read access to the process");
}

int procmem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (addr == 0 || addr + len < addr)
		return -EFAULT;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}
