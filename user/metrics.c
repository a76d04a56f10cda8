// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's metrics: bounded per-target series (metrics.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "metrics.h"
#include "met_types.h"

const double met_bucket_le[MET_NBUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
};

const char *const met_state_name[MET_NSTATES] = { "attached", "exited" };
const char *const met_push_reason_name[MET_NPUSH_REASONS] = { "connect", "timeout", "http_status", "other" };
const char *const met_reason_name[MET_NREASONS] = {
	"exited", "not_python", "no_probe", "permission", "unsupported", "bpf", "other",
};

enum met_reason met_reason_of(int code)
{
	switch (code) {
	case EXIT_NO_PROCESS:
		return MET_R_EXITED;
	case EXIT_NOT_PYTHON:
		return MET_R_NOT_PYTHON;
	case EXIT_NO_PROBE:
		return MET_R_NO_PROBE;
	case EXIT_PERMISSION:
		return MET_R_PERMISSION;
	case EXIT_UNSUPPORTED:
		return MET_R_UNSUPPORTED;
	case EXIT_FAILURE_INTERNAL:
		return MET_R_BPF;
	default:
		return MET_R_OTHER;
	}
}

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m)
		pthread_mutex_init(&m->mu, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	while (m->targets) {
		struct met_target *t = m->targets;

		m->targets = t->next;
		met_target_free(t);
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void met_target_free(struct met_target *t)
{
	if (t)
		met_types_free(t->types);
	free(t);
}

struct met_target *met_target_new(uint32_t pid)
{
	struct met_target *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->pid = pid;
	/* the tracer kind: "bpf"; the no-BPF tier (user/gcstats.c) sets its own */
	strcpy(t->tier, "bpf");
	t->durations = true;
	strcpy(t->other.name, "other");
	return t;
}

void met_target_add(struct metrics *m, struct met_target *t)
{
	struct met_target **p;

	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->start_unix_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	pthread_mutex_lock(&m->mu);
	/* in attach order: a scrape lists targets as they came */
	for (p = &m->targets; *p; p = &(*p)->next)
		;
	*p = t;
	m->attached_total++;
	pthread_mutex_unlock(&m->mu);
}

void met_attached(struct metrics *m, struct met_target *t, const char *python, bool counts)
{
	pthread_mutex_lock(&m->mu);
	tty_clean(python ? python : "", t->python, sizeof(t->python));
	t->counts = counts;
	pthread_mutex_unlock(&m->mu);
}

static struct met_thread *thread_of(struct met_target *t, uint32_t tid)
{
	for (int i = 0; i < t->nthreads; i++)
		if (t->threads[i].tid == tid)
			return &t->threads[i];
	if (t->nthreads < MET_THREADS_MAX) {
		struct met_thread *th = &t->threads[t->nthreads++];

		th->tid = tid;
		return th;
	}
	return &t->other;
}

void met_collection(struct metrics *m, struct met_target *t, int gen, uint64_t pause_ns, bool have_counts,
		    int64_t collected, int64_t uncollectable, uint32_t tid, const char *thread)
{
	double s = (double)pause_ns / 1e9;
	struct met_thread *th;
	int b;

	pthread_mutex_lock(&m->mu);
	th = thread_of(t, tid);
	th->count++;
	th->pause_ns += pause_ns;
	if (th->tid && thread && thread[0])
		tty_clean(thread, th->name, sizeof(th->name));
	if (gen < 0 || gen >= MET_NGEN) {
		t->unknown_gen++;
		pthread_mutex_unlock(&m->mu);
		return;
	}
	t->collections[gen]++;
	t->timed[gen]++;
	t->pause_ns[gen] += pause_ns;
	for (b = 0; b < MET_NBUCKETS && s > met_bucket_le[b]; b++)
		;
	t->bucket[gen][b]++;
	if (have_counts && collected >= 0 && uncollectable >= 0) {
		t->collected[gen] += (uint64_t)collected;
		t->uncollectable[gen] += (uint64_t)uncollectable;
	} else {
		t->uncounted[gen]++;
	}
	pthread_mutex_unlock(&m->mu);
}

void met_lost(struct metrics *m, struct met_target *t, uint64_t count)
{
	pthread_mutex_lock(&m->mu);
	t->lost += count;
	m->lost_total += count;
	pthread_mutex_unlock(&m->mu);
}

void met_totals(struct metrics *m, struct met_target *t, int gen, bool known, uint64_t collections,
		uint64_t collected, uint64_t uncollectable)
{
	if (gen < 0 || gen >= MET_NGEN)
		return;
	pthread_mutex_lock(&m->mu);
	t->unknown[gen] = !known;
	if (known) {
		t->collections[gen] = collections;
		t->collected[gen] = collected;
		t->uncollectable[gen] = uncollectable;
	}
	pthread_mutex_unlock(&m->mu);
}

void met_pause(struct metrics *m, struct met_target *t, int gen, uint64_t pause_ns)
{
	double s = (double)pause_ns / 1e9;
	int b;

	if (gen < 0 || gen >= MET_NGEN)
		return;
	pthread_mutex_lock(&m->mu);
	for (b = 0; b < MET_NBUCKETS && s > met_bucket_le[b]; b++)
		;
	t->bucket[gen][b]++;
	t->pause_ns[gen] += pause_ns;
	t->timed[gen]++;
	pthread_mutex_unlock(&m->mu);
}

void met_records_missed(struct metrics *m, struct met_target *t, uint64_t count)
{
	pthread_mutex_lock(&m->mu);
	t->records_missed += count;
	pthread_mutex_unlock(&m->mu);
}

void met_exited(struct metrics *m, struct met_target *t, uint64_t now_ns)
{
	pthread_mutex_lock(&m->mu);
	t->state = MET_EXITED;
	t->exited_ns = now_ns;
	pthread_mutex_unlock(&m->mu);
}

void met_target_remove(struct metrics *m, struct met_target *t)
{
	pthread_mutex_lock(&m->mu);
	for (struct met_target **p = &m->targets; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			met_target_free(t);
			break;
		}
	}
	pthread_mutex_unlock(&m->mu);
}

void met_failure(struct metrics *m, enum met_reason r)
{
	pthread_mutex_lock(&m->mu);
	m->failures[r < MET_NREASONS ? r : MET_R_OTHER]++;
	pthread_mutex_unlock(&m->mu);
}

void met_render_done(struct metrics *m, uint64_t now_ns, uint64_t max_age_ns)
{
	struct met_target **p = &m->targets;

	while (*p) {
		struct met_target *t = *p;

		bool done = m->otlp ? (t->pushed && (t->served || !m->scrapes)) : t->served;

		if (t->state == MET_EXITED && (done || now_ns - t->exited_ns >= max_age_ns)) {
			*p = t->next;
			met_target_free(t);
			continue;
		}
		p = &t->next;
	}
}

/* A container id in a cgroup path: a run of exactly 64 hex digits (docker,
 * containerd, CRI-O: ".../docker-<id>.scope", "/docker/<id>",
 * ".../cri-containerd-<id>.scope", ".../crio-<id>.scope"). */
static bool find_container(const char *path, size_t len, char *out, size_t size)
{
	size_t run = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && isxdigit((unsigned char)path[i]) && !isupper((unsigned char)path[i])) {
			run++;
			continue;
		}
		if (run == 64 && size > 64) {
			memcpy(out, path + i - 64, 64);
			out[64] = '\0';
			return true;
		}
		run = 0;
	}
	return false;
}

/* The unit: the innermost path component ending in ".service", else in
 * ".scope" (a container's scope, a session). */
static bool find_unit(const char *path, size_t len, const char *suffix, char *out, size_t size)
{
	size_t end = len, slen = strlen(suffix);

	while (end > 0) {
		size_t start = end;

		while (start > 0 && path[start - 1] != '/')
			start--;
		if (end - start > slen && !memcmp(path + end - slen, suffix, slen)) {
			size_t n = end - start < size - 1 ? end - start : size - 1;
			char raw[MET_LABEL_MAX];

			if (n >= sizeof(raw))
				n = sizeof(raw) - 1;
			memcpy(raw, path + start, n);
			raw[n] = '\0';
			tty_clean(raw, out, size);
			return true;
		}
		end = start ? start - 1 : 0;
	}
	return false;
}

void cgroup_labels(const char *text, char *container, size_t csize, char *unit, size_t usize)
{
	const char *line = text, *v2 = NULL, *sd = NULL;
	size_t v2_len = 0, sd_len = 0;

	container[0] = unit[0] = '\0';
	/* the unit from cgroup v2's "0::PATH", else from v1's name=systemd
	 * hierarchy; the container id from any line */
	while (line && *line) {
		const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
		const char *c1 = memchr(line, ':', (size_t)(end - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;

		if (c2) {
			const char *path = c2 + 1;
			size_t len = (size_t)(end - path);

			if (!container[0])
				find_container(path, len, container, csize);
			if (c1 == line + 1 && line[0] == '0' && c2 == c1 + 1) {
				v2 = path;
				v2_len = len;
			} else if ((size_t)(c2 - c1 - 1) == strlen("name=systemd") &&
				   !memcmp(c1 + 1, "name=systemd", strlen("name=systemd"))) {
				sd = path;
				sd_len = len;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!v2 || v2_len <= 1) {
		v2 = sd;
		v2_len = sd_len;
	}
	if (v2 && !find_unit(v2, v2_len, ".service", unit, usize))
		find_unit(v2, v2_len, ".scope", unit, usize);
}
