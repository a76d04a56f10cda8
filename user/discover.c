// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's scans of /proc (discover.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "discover.h"

/* How long a process that is not ready (its runtime not mapped, a 3.9/3.10
 * that has not stated its version) is offered again, scan after scan. */
#define RETRY_NS (10ULL * 1000000000ULL)

struct seen {
	pid_t pid;			/* 0: empty slot */
	uint64_t exe_hash;		/* FNV-1a of readlink(/proc/PID/exe), and of comm */
	uint64_t first_ns;		/* when it was first offered */
	bool retry;
	unsigned gen;			/* the scan that last saw it */
};

struct discover {
	struct seen *tab;		/* open addressing on pid */
	size_t cap, n;
	unsigned gen;
	pid_t self;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct discover *discover_new(void)
{
	struct discover *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cap = 1024;
	d->tab = calloc(d->cap, sizeof(*d->tab));
	if (!d->tab) {
		free(d);
		return NULL;
	}
	d->self = getpid();
	return d;
}

void discover_free(struct discover *d)
{
	if (!d)
		return;
	free(d->tab);
	free(d);
}

void discover_reset(struct discover *d)
{
	memset(d->tab, 0, d->cap * sizeof(*d->tab));
	d->n = 0;
}

static struct seen *slot(struct seen *tab, size_t cap, pid_t pid)
{
	size_t i = ((size_t)pid * 2654435761u) & (cap - 1);

	while (tab[i].pid && tab[i].pid != pid)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

/* Keep the live entries (seen by scan gen) in a table at most half full. */
static int rebuild(struct discover *d, size_t cap)
{
	struct seen *tab = calloc(cap, sizeof(*tab));
	size_t n = 0;

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < d->cap; i++)
		if (d->tab[i].pid && d->tab[i].gen == d->gen) {
			*slot(tab, cap, d->tab[i].pid) = d->tab[i];
			n++;
		}
	free(d->tab);
	d->tab = tab;
	d->cap = cap;
	d->n = n;
	return 0;
}

bool discover_python_name(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (!strncmp(b, "lib", 3))
		b += 3;
	/* python, python3, python3.X, python3.Xd/t, libpython3.X.so...; not
	 * python3-config, pythonw wrappers, a script named python-foo */
	if (strncmp(b, "python", 6))
		return false;
	b += 6;
	while (isdigit((unsigned char)*b) || (*b == '.' && isdigit((unsigned char)b[1])))
		b++;
	while (*b == 'd' || *b == 't' || *b == 'm' || *b == 'u')
		b++;
	return !*b || !strncmp(b, ".so", 3) || !strcmp(b, " (deleted)");
}

bool discover_match(const char *exe, const char *comm, char *const *globs, int nglobs)
{
	const char *base = strrchr(exe, '/');

	base = base ? base + 1 : exe;
	for (int i = 0; i < nglobs; i++)
		if ((exe[0] && !fnmatch(globs[i], exe, 0)) || (base[0] && !fnmatch(globs[i], base, 0)) ||
		    (comm[0] && !fnmatch(globs[i], comm, 0)))
			return true;
	return false;
}

/* Does the process map a file named like a CPython runtime?  The
 * executable is checked first; the maps only for the rest (embedders). */
static bool maps_python(pid_t pid, const char *exe)
{
	char path[64], line[PATH_MAX + 256];
	bool found = false;
	FILE *f;

	if (discover_python_name(exe))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/'), *nl;

		if (!p)
			continue;
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		found = discover_python_name(p) && strstr(p, ".so");
	}
	fclose(f);
	return found;
}

int discover_scan(struct discover *d, bool all, char *const *globs, int nglobs,
		  enum disc_verdict (*offer)(const struct disc_proc *p, void *ctx), void *ctx)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	uint64_t now = mono_ns();

	if (!dir)
		return -errno;
	d->gen++;
	while ((de = readdir(dir))) {
		char path[64], exe[PATH_MAX], comm[64];
		struct disc_proc p;
		struct seen *s;
		long pid;
		ssize_t n;
		uint64_t h;

		if (!isdigit((unsigned char)de->d_name[0]) || !parse_long(de->d_name, 1, INT32_MAX, &pid) ||
		    (pid_t)pid == d->self)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
		n = readlink(path, exe, sizeof(exe) - 1);
		if (n <= 0)
			continue;	/* a kernel thread, gone, or not ours to see */
		exe[n] = '\0';
		/* a process that renames itself (prctl(PR_SET_NAME),
		 * setproctitle) is looked at again: --match may take it now */
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if (read_text_file(path, comm, sizeof(comm)) < 0)
			comm[0] = '\0';
		h = fnv(exe) ^ (fnv(comm) * 31);
		if (d->n * 2 >= d->cap && rebuild(d, d->cap * 2))
			break;
		s = slot(d->tab, d->cap, (pid_t)pid);
		if (s->pid && s->exe_hash == h && !(s->retry && now - s->first_ns < RETRY_NS)) {
			s->gen = d->gen;
			continue;
		}
		if (!s->pid || s->exe_hash != h) {
			if (!s->pid)
				d->n++;
			s->pid = (pid_t)pid;
			s->exe_hash = h;
			s->first_ns = now;
		}
		s->gen = d->gen;
		s->retry = false;
		p = (struct disc_proc){ .pid = (pid_t)pid, .exe = exe, .comm = comm,
					.young = now - s->first_ns < RETRY_NS };
		p.python = maps_python((pid_t)pid, exe);
		if (!(all && p.python) && !discover_match(exe, comm, globs, nglobs))
			continue;
		if (offer(&p, ctx) == DISC_RETRY)
			s->retry = true;
	}
	closedir(dir);
	/* drop the entries of processes gone (not seen by this scan) */
	rebuild(d, d->cap);
	return 0;
}
