// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's attach thread (attacher.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attacher.h"
#include "common.h"
#include "memtier.h"
#include "metrics.h"
#include "procmaps.h"
#include "target.h"

/* A discovered process not ready yet is looked at again this often, for
 * this long (a 3.9/3.10 states its version only once Py_GetVersion() ran). */
#define RETRY_EVERY_NS (100ULL * 1000000ULL)
#define RETRY_FOR_NS (10ULL * 1000000000ULL)

struct attacher {
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct attach_job *todo, *done;
	pid_t current;			/* being attached, 0 if none */
	struct metrics *m;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void push(struct attach_job **list, struct attach_job *j)
{
	while (*list)
		list = &(*list)->next;
	j->next = NULL;
	*list = j;
}

/* The executable as the target sees it (a chroot's or container's path
 * without our view's prefix). */
static void inside_exe(pid_t pid, const char *exe, char *out, size_t size)
{
	char path[64], root[PATH_MAX];
	ssize_t n;
	size_t rl;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	n = readlink(path, root, sizeof(root) - 1);
	root[n > 0 ? n : 0] = '\0';
	rl = strlen(root);
	if (rl > 1 && !strncmp(exe, root, rl) && exe[rl] == '/')
		exe += rl;
	tty_clean(exe, out, size);
}

double attacher_proc_age_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec ts;
	int field = 2;		/* the state, field 3, follows the space after ')' */

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	/* comm (field 2) may hold spaces and ')': fields go on after the last ')' */
	if (read_text_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')) || hz <= 0)
		return -1;
	for (p++; *p && field <= 22; p++)
		if (*p == ' ' && ++field == 22)
			break;
	if (field != 22 || sscanf(p, " %llu", &ticks) != 1 || clock_gettime(CLOCK_BOOTTIME, &ts))
		return -1;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - (double)ticks / (double)hz;
}

static bool gone(pid_t pid)
{
	struct proc_status st;

	return proc_status_read(pid, &st) || st.state == 'Z' || st.state == 'X';
}

/* Open the target: its series' labels, its sink, its tracer. */
static void run_job(struct attacher *a, struct attach_job *j)
{
	char path[64], buf[4096];

	j->mt = met_target_new((uint32_t)j->pid);
	if (!j->mt) {
		j->code = p_err(EXIT_FAILURE_INTERNAL, "out of memory");
		return;
	}
	inside_exe(j->pid, j->exe, j->mt->executable, sizeof(j->mt->executable));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", j->pid);
	if (read_text_file(path, buf, sizeof(buf)) > 0)
		cgroup_labels(buf, j->mt->container, sizeof(j->mt->container), j->mt->unit, sizeof(j->mt->unit));
	if (sinks_add(&j->sinks, sink_metrics_new(a->m, j->mt))) {
		j->code = p_err(EXIT_FAILURE_INTERNAL, "out of memory");
		return;
	}
	if (j->jsonl && j->tier != AGENT_TIER_MEMORY) {
		struct sink_config cfg = { .out = j->jsonl, .top = 5 };

		if (sinks_add(&j->sinks, sink_json_new(&cfg))) {
			j->code = p_err(EXIT_FAILURE_INTERNAL, "out of memory");
			return;
		}
	}
	if (j->tier != AGENT_TIER_MEMORY) {
		j->code = tracer_open(&j->tr, j->pid, false, &j->opts, &j->sinks);
		/* a process that went while we attached is "exited", whatever
		 * step failed (a uprobe on a gone process: ESRCH) */
		if (j->code && gone(j->pid))
			j->code = EXIT_NO_PROCESS;
		if (!j->code || j->tier == AGENT_TIER_BPF || !memtier_fallback(j->code))
			return;
		p_info("pid %d: BPF cannot be used: reading its GC counters from its memory (tier memory)", j->pid);
	}
	/* its own list: the metrics are set from its totals, not from records */
	if (j->jsonl) {
		struct sink_config cfg = { .out = j->jsonl, .top = 5 };

		if (sinks_add(&j->records, sink_json_new(&cfg))) {
			j->code = p_err(EXIT_FAILURE_INTERNAL, "out of memory");
			return;
		}
	}
	j->code = memtier_open(&j->mem, j->pid, j->opts.no_debuginfo, a->m, j->mt, &j->records);
	if (j->code && gone(j->pid))
		j->code = EXIT_NO_PROCESS;
}

static void *worker(void *arg)
{
	struct attacher *a = arg;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct attach_job **p, *j = NULL;
		uint64_t now = mono_ns(), soonest = UINT64_MAX;

		for (p = &a->todo; *p; p = &(*p)->next) {
			if ((*p)->not_before_ns <= now) {
				j = *p;
				*p = j->next;
				break;
			}
			if ((*p)->not_before_ns < soonest)
				soonest = (*p)->not_before_ns;
		}
		if (!j) {
			if (soonest == UINT64_MAX) {
				pthread_cond_wait(&a->cv, &a->mu);
			} else {
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				uint64_t t = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec + (soonest - now);

				ts.tv_sec = (time_t)(t / 1000000000ULL);
				ts.tv_nsec = (long)(t % 1000000000ULL);
				pthread_cond_timedwait(&a->cv, &a->mu, &ts);
			}
			continue;
		}
		a->current = j->pid;
		pthread_mutex_unlock(&a->mu);

		if (j->wait_ready && now < j->deadline_ns) {
			bool version_known = false;

			/* just started: its runtime not mapped yet, or a 3.9/3.10
			 * that has not written its version: look again soon */
			if ((pytarget_runtime_ready(j->pid, &version_known) || !version_known) && !gone(j->pid)) {
				j->not_before_ns = now + RETRY_EVERY_NS;
				pthread_mutex_lock(&a->mu);
				a->current = 0;
				/* ahead of the backlog still: it is a new process */
				j->next = a->todo;
				a->todo = j;
				continue;
			}
		}
		/* a short-lived process that went while it waited in the
		 * queue: its BPF load and attach (0.1 s or more) would delay
		 * the processes queued behind it for nothing */
		if (gone(j->pid))
			j->code = p_err(EXIT_NO_PROCESS, "no process with pid %d (gone before its attach)", j->pid);
		else
			run_job(a, j);
		pthread_mutex_lock(&a->mu);
		a->current = 0;
		push(&a->done, j);
		if (!a->todo) {
			/* the queue done: the attaches' transient memory (libbpf's
			 * parse of the kernel's BTF, about 6 MiB each; a -dbg
			 * build's DWARF, tens of MiB) back to the system, not kept
			 * by this thread's arena.  Not after each attach: that cost
			 * 100 attaches 2-4 s (faulting the freed pages in again) */
			pthread_mutex_unlock(&a->mu);
			malloc_trim(0);
			pthread_mutex_lock(&a->mu);
		}
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

struct attacher *attacher_new(struct metrics *m)
{
	struct attacher *a = calloc(1, sizeof(*a));
	sigset_t all, old;

	if (!a)
		return NULL;
	a->m = m;
	/* A fixed mmap threshold: glibc's adapts it up to the largest block
	 * freed (an attach's BTF and DWARF, MiBs), after which each target's
	 * calloc()'d tables (user/pystack.c's code cache, 200 KiB) come from
	 * the heap, zeroed and so resident, instead of mmap()'d and touched
	 * only where used.  With the default: 150 MiB RSS for an agent
	 * watching 100 python3.11 processes (make bench, agent). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	/* signals go to the event loop's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	a->started = !pthread_create(&a->thread, NULL, worker, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!a->started) {
		attacher_free(a);
		return NULL;
	}
	return a;
}

static void free_jobs(struct attach_job *j)
{
	while (j) {
		struct attach_job *next = j->next;

		tracer_close(j->tr, false);
		memtier_free(j->mem);
		sinks_free(&j->sinks);
		sinks_free(&j->records);
		met_target_free(j->mt);
		free(j);
		j = next;
	}
}

void attacher_free(struct attacher *a)
{
	if (!a)
		return;
	if (a->started) {
		pthread_mutex_lock(&a->mu);
		a->stop = true;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
	}
	free_jobs(a->todo);
	free_jobs(a->done);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

int attacher_submit(struct attacher *a, struct attach_job *j, bool first)
{
	uint64_t now = mono_ns();

	j->not_before_ns = now;
	j->deadline_ns = now + RETRY_FOR_NS;
	pthread_mutex_lock(&a->mu);
	if (first) {
		j->next = a->todo;
		a->todo = j;
	} else {
		push(&a->todo, j);
	}
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return 0;
}

struct attach_job *attacher_take(struct attacher *a)
{
	struct attach_job *j;

	pthread_mutex_lock(&a->mu);
	j = a->done;
	if (j)
		a->done = j->next;
	pthread_mutex_unlock(&a->mu);
	if (j)
		j->next = NULL;
	return j;
}

bool attacher_busy(struct attacher *a, pid_t pid)
{
	bool busy = false;

	pthread_mutex_lock(&a->mu);
	busy = a->current == pid;
	for (struct attach_job *j = a->todo; j && !busy; j = j->next)
		busy = j->pid == pid;
	for (struct attach_job *j = a->done; j && !busy; j = j->next)
		busy = j->pid == pid;
	pthread_mutex_unlock(&a->mu);
	return busy;
}
