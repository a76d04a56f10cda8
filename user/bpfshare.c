// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The registry of shared BPF objects (user/bpfshare.h, bpf/shared.bpf.h).
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcscope.h"
#include "gcscope.skel.h"
#include "bpfshare.h"
#include "common.h"

struct bpfshare {
	struct gcscope_bpf *obj;
	/* what makes two targets' objects the same (share_key()) */
	void *key;
	size_t keylen;
	int nmembers;
	int hiwater;			/* slots used at most: the dispatch looks below */
	struct bpfshare_member *slot[BPFSHARE_SLOTS];
	/* the ring_buffer its ring is in, and that ring_buffer's generation */
	struct ring_buffer *rb;
	unsigned rb_gen;
	struct bpfshare *next;
};

struct bpfshare_member {
	struct bpfshare *s;
	pid_t pid;
	uint32_t slot;
	bpfshare_record_fn fn;
	void *ctx;
	bool started;
	/* records before the start: [uint32_t size][data], 8-aligned */
	uint8_t *q;
	size_t qlen, qcap;
	uint64_t lost;
};

/* USDT specs a target may take: probe locations of gc__start and gc__done */
#define BPFSHARE_USDT_SPECS 4

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct bpfshare *shared;
static int nobjects;
static struct ring_buffer *cur_rb;
static unsigned cur_rb_gen;

/* Everything of obj's configuration that its programs see, but for what
 * is per target (zero in rodata by then): the build, the ring size asked
 * for, which programs load, every map's size and the whole rodata.  Equal
 * keys: one object serves both targets. */
static void *share_key(struct gcscope_bpf *obj, const char *build, long ringbuf_kb, size_t *len)
{
	size_t rsz = 0, n = 0, cap;
	const void *ro = bpf_map__initial_value(obj->maps.rodata, &rsz);
	struct bpf_program *p;
	struct bpf_map *m;
	uint8_t *k;
	char b[64] = "";

	if (!ro)
		return NULL;
	cap = sizeof(b) + sizeof(ringbuf_kb) + rsz;
	bpf_object__for_each_program(p, obj->obj)
		cap++;
	bpf_object__for_each_map(m, obj->obj)
		cap += sizeof(uint32_t);
	k = calloc(1, cap);
	if (!k)
		return NULL;
	snprintf(b, sizeof(b), "%s", build);
	memcpy(k, b, sizeof(b));
	n = sizeof(b);
	memcpy(k + n, &ringbuf_kb, sizeof(ringbuf_kb));
	n += sizeof(ringbuf_kb);
	bpf_object__for_each_program(p, obj->obj)
		k[n++] = bpf_program__autoload(p);
	bpf_object__for_each_map(m, obj->obj) {
		uint32_t e = bpf_map__max_entries(m);

		memcpy(k + n, &e, sizeof(e));
		n += sizeof(e);
	}
	memcpy(k + n, ro, rsz);
	*len = n + rsz;
	return k;
}

/* A new shared object from obj (configured, not loaded): sized for
 * BPFSHARE_SLOTS targets, loaded, its tracepoints attached. */
static int share_create(struct gcscope_bpf *obj, long ringbuf_kb, char *why, size_t size)
{
	uint64_t ring = (uint64_t)ringbuf_kb * 1024 * BPFSHARE_RING_MULT;
	struct bpf_link *l;

	if (bpf_map__set_max_entries(obj->maps.targets, BPFSHARE_SLOTS) ||
	    bpf_map__set_max_entries(obj->maps.counters, GCSCOPE_CNT__MAX * BPFSHARE_SLOTS) ||
	    bpf_map__set_max_entries(obj->maps.events, (uint32_t)ring)) {
		snprintf(why, size, "cannot size the shared maps: %s", strerror(errno));
		return -errno;
	}
	/* libbpf gives each USDT attach its own spec ids (one per probe
	 * location: Debian's 3.11 has one gc__start, one gc__done) from the
	 * object's spec map, 256 by default (bpf/usdt.bpf.h): 128 targets */
	{
		struct bpf_map *specs = bpf_object__find_map_by_name(obj->obj, "__bpf_usdt_specs");
		struct bpf_map *ips = bpf_object__find_map_by_name(obj->obj, "__bpf_usdt_ip_to_spec_id");

		if ((specs && bpf_map__set_max_entries(specs, BPFSHARE_USDT_SPECS * BPFSHARE_SLOTS)) ||
		    (ips && bpf_map__set_max_entries(ips, 4 * BPFSHARE_USDT_SPECS * BPFSHARE_SLOTS))) {
			snprintf(why, size, "cannot size the shared USDT maps: %s", strerror(errno));
			return -errno;
		}
	}
	/* a quarter of the ring, as for a target's own (user/tracer.c) */
	obj->rodata->targ_wakeup_bytes = ring / 4;
	if (gcscope_bpf__load(obj)) {
		int err = -errno;

		snprintf(why, size, "%s (run with -v for details)", strerror(errno));
		return err;
	}
	if (!obj->rodata->targ_fatal)
		return 0;
	/* once for all its targets: they filter through the targets map */
	l = bpf_program__attach(obj->progs.signal_generate);
	if (!l)
		p_warn("cannot watch for fatal signals (tp_btf/signal_generate: %s): a collection "
		       "a target dies in will be reported without its signal", strerror(errno));
	obj->links.signal_generate = l;
	l = bpf_program__attach(obj->progs.sched_process_exit);
	if (!l)
		p_warn("cannot watch threads exit (tp_btf/sched_process_exit: %s): a collection a target "
		       "dies in will not be reported", strerror(errno));
	obj->links.sched_process_exit = l;
	return 0;
}

/* The slot's counters at zero: a slot is used again after its target left. */
static int zero_counters(struct gcscope_bpf *obj, uint32_t slot)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(obj->maps.counters), r = 0;
	uint64_t *vals;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t c = 0; c < GCSCOPE_CNT__MAX && !r; c++) {
		uint32_t key = slot * GCSCOPE_CNT__MAX + c;

		if (bpf_map_update_elem(fd, &key, vals, BPF_ANY))
			r = -errno;
	}
	free(vals);
	return r;
}

static struct bpfshare_member *find_member(struct bpfshare *s, pid_t pid)
{
	for (int i = 0; i < s->hiwater; i++)
		if (s->slot[i] && s->slot[i]->pid == pid)
			return s->slot[i];
	return NULL;
}

/* m into a free slot of s (under mu) */
static void add_member(struct bpfshare *s, struct bpfshare_member *m, pid_t pid, bpfshare_record_fn fn, void *ctx,
		       long ringbuf_kb)
{
	uint32_t slot = 0;

	while (s->slot[slot])
		slot++;
	m->s = s;
	m->pid = pid;
	m->slot = slot;
	m->fn = fn;
	m->ctx = ctx;
	m->qcap = (size_t)ringbuf_kb * 1024;
	s->slot[slot] = m;
	s->nmembers++;
	if ((int)slot >= s->hiwater)
		s->hiwater = (int)slot + 1;
}

int bpfshare_join(struct gcscope_bpf **objp, const char *build, long ringbuf_kb, pid_t pid, uint64_t runtime,
		  bpfshare_record_fn fn, void *ctx, struct bpfshare_member **out, char *why, size_t size)
{
	struct bpfshare *s;
	struct bpfshare_member *m;
	struct gcscope_target v = { .runtime = runtime };
	uint32_t slot = 0, key = (uint32_t)pid;
	size_t keylen = 0;
	void *k;
	int r;

	*out = NULL;
	k = share_key(*objp, build, ringbuf_kb, &keylen);
	m = calloc(1, sizeof(*m));
	if (!k || !m) {
		free(k);
		free(m);
		snprintf(why, size, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&mu);
	/* a pid whose old process has not left yet (pid reuse, an exec)
	 * would lose its entry when the old one leaves */
	for (s = shared; s; s = s->next)
		if (find_member(s, pid)) {
			pthread_mutex_unlock(&mu);
			free(k);
			free(m);
			snprintf(why, size, "pid %d is in a shared BPF object already (its previous process has not "
				 "been detached yet)", pid);
			return -EEXIST;
		}
	for (s = shared; s; s = s->next)
		if (s->keylen == keylen && !memcmp(s->key, k, keylen) && s->nmembers < BPFSHARE_SLOTS)
			break;
	if (s)
		add_member(s, m, pid, fn, ctx, ringbuf_kb);	/* under mu: s cannot go meanwhile */
	pthread_mutex_unlock(&mu);
	if (s) {
		free(k);
		gcscope_bpf__destroy(*objp);
		*objp = s->obj;
	} else {
		/* loaded outside the lock: the event loop dispatches meanwhile
		 * (only this thread joins, so no other makes the same object) */
		s = calloc(1, sizeof(*s));
		r = s ? share_create(*objp, ringbuf_kb, why, size) : -ENOMEM;
		if (r) {
			if (r == -ENOMEM && !s)
				snprintf(why, size, "out of memory");
			free(s);
			free(k);
			free(m);
			return r;
		}
		s->obj = *objp;
		s->key = k;
		s->keylen = keylen;
		pthread_mutex_lock(&mu);
		s->next = shared;
		shared = s;
		nobjects++;
		add_member(s, m, pid, fn, ctx, ringbuf_kb);
		pthread_mutex_unlock(&mu);
		p_debug("pid %d: a new shared BPF object for build %s", pid, build);
	}
	slot = m->slot;
	/* its counters at zero before its entry makes its programs count */
	v.slot = slot;
	r = zero_counters(s->obj, slot);
	if (!r && bpf_map_update_elem(bpf_map__fd(s->obj->maps.targets), &key, &v, BPF_ANY))
		r = -errno;
	if (r) {
		snprintf(why, size, "cannot add pid %d to its shared BPF object: %s", pid, strerror(-r));
		bpfshare_leave(m);
		*objp = NULL;
		return r;
	}
	*out = m;
	return 0;
}

/* A record of a member not started yet, copied in order (under mu). */
static void keep(struct bpfshare_member *m, const void *data, size_t size)
{
	size_t need = (sizeof(uint32_t) + size + 7) & ~(size_t)7;
	uint32_t sz = (uint32_t)size;

	if (m->qlen + need > m->qcap) {
		m->lost++;
		return;
	}
	if (!m->q && !(m->q = malloc(m->qcap))) {
		m->lost++;
		return;
	}
	memcpy(m->q + m->qlen, &sz, sizeof(sz));
	memcpy(m->q + m->qlen + sizeof(sz), data, size);
	m->qlen += need;
}

/* The pid a record is of: only the kinds a shared object sends
 * (collections, fatal records: no stacks, no walks) carry it. */
static int record_pid(const void *data, size_t size, pid_t *pid)
{
	uint32_t type, v;

	if (size < sizeof(uint32_t))
		return -1;
	memcpy(&type, data, sizeof(type));
	if (type == GCSCOPE_EV_COLLECTION && size >= sizeof(struct gcscope_collection))
		memcpy(&v, (const uint8_t *)data + offsetof(struct gcscope_collection, pid), sizeof(v));
	else if (type == GCSCOPE_EV_FATAL && size >= sizeof(struct gcscope_fatal))
		memcpy(&v, (const uint8_t *)data + offsetof(struct gcscope_fatal, pid), sizeof(v));
	else
		return -1;
	*pid = (pid_t)v;
	return 0;
}

static int on_shared_record(void *ctx, void *data, size_t size)
{
	struct bpfshare *s = ctx;
	struct bpfshare_member *m;
	pid_t pid;

	if (record_pid(data, size, &pid)) {
		p_debug("shared BPF object: dropped a record of %zu bytes without a pid", size);
		return 0;
	}
	pthread_mutex_lock(&mu);
	m = find_member(s, pid);
	if (m && !m->started) {
		keep(m, data, size);
		m = NULL;
	}
	pthread_mutex_unlock(&mu);
	/* a started member leaves only from this thread: m stays valid */
	if (m)
		m->fn(m->ctx, data, size);
	return 0;
}

void bpfshare_start(struct bpfshare_member *m)
{
	uint8_t *q;
	size_t qlen;

	pthread_mutex_lock(&mu);
	m->started = true;
	q = m->q;
	qlen = m->qlen;
	m->q = NULL;
	m->qlen = 0;
	pthread_mutex_unlock(&mu);
	for (size_t off = 0; off < qlen;) {
		uint32_t sz;

		memcpy(&sz, q + off, sizeof(sz));
		m->fn(m->ctx, q + off + sizeof(sz), sz);
		off += (sizeof(sz) + sz + 7) & ~(size_t)7;
	}
	free(q);
}

void bpfshare_leave(struct bpfshare_member *m)
{
	struct bpfshare *s, **p;
	uint32_t key;

	if (!m)
		return;
	s = m->s;
	key = (uint32_t)m->pid;
	/* its programs stop counting and sending for it */
	bpf_map_delete_elem(bpf_map__fd(s->obj->maps.targets), &key);
	pthread_mutex_lock(&mu);
	s->slot[m->slot] = NULL;
	if (--s->nmembers == 0) {
		for (p = &shared; *p; p = &(*p)->next)
			if (*p == s) {
				*p = s->next;
				break;
			}
		nobjects--;
	} else {
		s = NULL;
	}
	pthread_mutex_unlock(&mu);
	free(m->q);
	free(m);
	if (s) {
		gcscope_bpf__destroy(s->obj);
		free(s->key);
		free(s);
	}
}

uint32_t bpfshare_counter_key(const struct bpfshare_member *m, uint32_t c)
{
	return m->slot * GCSCOPE_CNT__MAX + c;
}

uint64_t bpfshare_lost(const struct bpfshare_member *m)
{
	uint64_t n;

	pthread_mutex_lock(&mu);
	n = m->lost;
	pthread_mutex_unlock(&mu);
	return n;
}

void bpfshare_ring_made(struct ring_buffer *rb)
{
	pthread_mutex_lock(&mu);
	cur_rb = rb;
	cur_rb_gen++;
	pthread_mutex_unlock(&mu);
}

int bpfshare_add_ring(struct bpfshare_member *m, struct ring_buffer **rb)
{
	struct bpfshare *s = m->s;
	int fd = bpf_map__fd(s->obj->maps.events);
	bool in;

	pthread_mutex_lock(&mu);
	in = *rb && s->rb == *rb && *rb == cur_rb && s->rb_gen == cur_rb_gen;
	pthread_mutex_unlock(&mu);
	if (in)
		return 0;
	if (!*rb) {
		*rb = ring_buffer__new(fd, on_shared_record, s, NULL);
		if (!*rb)
			return -errno;
		bpfshare_ring_made(*rb);
	} else if (ring_buffer__add(*rb, fd, on_shared_record, s)) {
		return -errno;
	}
	pthread_mutex_lock(&mu);
	s->rb = *rb;
	s->rb_gen = cur_rb_gen;
	pthread_mutex_unlock(&mu);
	return 0;
}

int bpfshare_objects(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = nobjects;
	pthread_mutex_unlock(&mu);
	return n;
}
