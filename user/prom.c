// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* Prometheus text exposition and OpenMetrics of the agent's metrics (prom.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common.h"
#include "met_types.h"
#include "prom.h"

/* An exited target no scrape came for is dropped after this long. */
#define EXITED_MAX_AGE_NS (600ULL * 1000000000ULL)

struct pbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct pbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct pbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 16384;

		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *p = realloc(b->p, cap);

		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/* A label value: backslash, double quote and newline escaped (the only
 * escapes of both formats); the value was cleaned to valid UTF-8 before. */
static void escape(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in && o + 3 < size; in++) {
		if (*in == '\\' || *in == '"') {
			out[o++] = '\\';
			out[o++] = *in;
		} else if (*in == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

/* The labels that identify a target's process, without braces. */
static void target_labels(const struct met_target *t, char *out, size_t size)
{
	char exe[2 * MET_LABEL_MAX], unit[2 * MET_LABEL_MAX], cont[2 * 80];
	int n;

	escape(t->executable, exe, sizeof(exe));
	escape(t->unit, unit, sizeof(unit));
	escape(t->container, cont, sizeof(cont));
	n = snprintf(out, size, "pid=\"%u\",executable=\"%s\",python_version=\"%s\",tier=\"%s\"", t->pid, exe,
		     t->python, t->tier);
	if (n > 0 && (size_t)n < size && cont[0])
		n += snprintf(out + n, size - (size_t)n, ",container_id=\"%s\"", cont);
	if (n > 0 && (size_t)n < size && unit[0])
		snprintf(out + n, size - (size_t)n, ",systemd_unit=\"%s\"", unit);
}

/* A metric family's header.  OpenMetrics names a counter's family without
 * its _total suffix. */
static void family(struct pbuf *b, bool om, const char *name, const char *type, const char *help)
{
	size_t n = strlen(name);

	if (om && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total"))
		n -= 6;
	put(b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)n, name, help, (int)n, name, type);
}

static void seconds(char *out, size_t size, uint64_t ns)
{
	snprintf(out, size, "%.9f", (double)ns / 1e9);
}

static const char *const tgen_label[MET_TGEN] = { "0", "1", "2", "unknown" };

/* The type windows' series (user/met_types.h), of the targets that have
 * them. */
static void render_types(struct pbuf *b, bool om, struct metrics *m)
{
	char lab[4 * MET_LABEL_MAX + 256], name[2 * GC_TYPE_NAME_LEN], o[2 * MET_THREAD_LABEL],
		th[2 * MET_THREAD_LABEL], s[64];
	const struct met_target *t;
	bool any = false, owners = false;

	for (t = m->targets; t; t = t->next)
		if (t->types) {
			any = true;
			owners |= t->types->owners;
		}
	if (!any)
		return;
	family(b, om, "gcscope_gc_destroyed_objects_total", "counter",
	       "Objects the collections of type windows destroyed, by type: the top types of a process "
	       "(--top), the rest in type=\"other\" (over gcscope_gc_window_collections_total)");
	for (t = m->targets; t; t = t->next) {
		const struct met_types *ty = t->types;

		if (!ty)
			continue;
		target_labels(t, lab, sizeof(lab));
		for (int i = 0; i <= ty->nslots; i++) {
			const struct met_type_row *r = i < ty->nslots ? &ty->slot[i] : &ty->other;

			escape(r->name, name, sizeof(name));
			for (int g = 0; g < MET_TGEN; g++)
				if (g < MET_TGEN - 1 || r->n[g])
					put(b, "gcscope_gc_destroyed_objects_total{type=\"%s\",generation=\"%s\",%s} %llu\n",
					    name, tgen_label[g], lab, (unsigned long long)r->n[g]);
		}
	}
	family(b, om, "gcscope_gc_window_collections_total", "counter",
	       "Collections whose objects a type window walked");
	for (t = m->targets; t; t = t->next) {
		if (!t->types)
			continue;
		target_labels(t, lab, sizeof(lab));
		for (int g = 0; g < MET_TGEN; g++)
			if (g < MET_TGEN - 1 || t->types->collections[g])
				put(b, "gcscope_gc_window_collections_total{generation=\"%s\",%s} %llu\n", tgen_label[g],
				    lab, (unsigned long long)t->types->collections[g]);
	}
	family(b, om, "gcscope_gc_window_walks_capped_total", "counter",
	       "Walks of type windows stopped at --max-objects: their collections destroyed more than counted");
	for (t = m->targets; t; t = t->next)
		if (t->types) {
			target_labels(t, lab, sizeof(lab));
			put(b, "gcscope_gc_window_walks_capped_total{%s} %llu\n", lab,
			    (unsigned long long)t->types->capped);
		}
	if (owners) {
		family(b, om, "gcscope_gc_owner_findings_total", "counter",
		       "Objects of --owners types that type windows saw destroyed by a collection on another thread "
		       "than their owner's, by type, owner thread and collecting thread (at most 32 series a process, "
		       "the rest \"other\")");
		for (t = m->targets; t; t = t->next) {
			const struct met_types *ty = t->types;

			if (!ty || !ty->owners)
				continue;
			target_labels(t, lab, sizeof(lab));
			for (int i = 0; i <= ty->npairs; i++) {
				const struct met_pair_row *r = i < ty->npairs ? &ty->pair[i] : &ty->pair_other;

				if (i == ty->npairs && !r->n)
					break;
				escape(r->type, name, sizeof(name));
				escape(r->owner, o, sizeof(o));
				escape(r->thread, th, sizeof(th));
				put(b, "gcscope_gc_owner_findings_total{type=\"%s\",owner_thread=\"%s\",thread=\"%s\",%s} "
				    "%llu\n", name, o, th, lab, (unsigned long long)r->n);
			}
		}
		family(b, om, "gcscope_gc_owner_unknown_objects_total", "counter",
		       "Objects of --owners types that type windows saw destroyed whose owner is unknown: made before "
		       "the window opened (creators are recorded in windows only), so not checked");
		for (t = m->targets; t; t = t->next)
			if (t->types && t->types->owners) {
				target_labels(t, lab, sizeof(lab));
				put(b, "gcscope_gc_owner_unknown_objects_total{%s} %llu\n", lab,
				    (unsigned long long)t->types->owners_unknown);
			}
	}
	family(b, om, "gcscope_agent_types_windows_total", "counter",
	       "Type windows: run; cut (of those run, closed early by the budget); skipped (not run: over budget)");
	for (t = m->targets; t; t = t->next)
		if (t->types) {
			target_labels(t, lab, sizeof(lab));
			put(b, "gcscope_agent_types_windows_total{result=\"run\",%s} %llu\n", lab,
			    (unsigned long long)t->types->windows_run);
			put(b, "gcscope_agent_types_windows_total{result=\"cut\",%s} %llu\n", lab,
			    (unsigned long long)t->types->windows_cut);
			put(b, "gcscope_agent_types_windows_total{result=\"skipped\",%s} %llu\n", lab,
			    (unsigned long long)t->types->windows_skipped);
		}
	family(b, om, "gcscope_agent_types_walk_seconds_total", "counter",
	       "Time the target spent in type windows' walks, as the walk program measures it");
	for (t = m->targets; t; t = t->next)
		if (t->types) {
			target_labels(t, lab, sizeof(lab));
			seconds(s, sizeof(s), t->types->walk_ns);
			put(b, "gcscope_agent_types_walk_seconds_total{%s} %s\n", lab, s);
		}
	family(b, om, "gcscope_agent_types_budget_used_ratio", "gauge",
	       "Walk time over the time since the attach: at most gcscope_agent_types_budget_ratio");
	for (t = m->targets; t; t = t->next)
		if (t->types) {
			target_labels(t, lab, sizeof(lab));
			put(b, "gcscope_agent_types_budget_used_ratio{%s} %.9f\n", lab,
			    t->types->wall_ns ? (double)t->types->walk_ns / (double)t->types->wall_ns : 0.0);
		}
	family(b, om, "gcscope_agent_types_budget_ratio", "gauge", "The budget: --budget as a fraction");
	for (t = m->targets; t; t = t->next)
		if (t->types) {
			target_labels(t, lab, sizeof(lab));
			put(b, "gcscope_agent_types_budget_ratio{%s} %g\n", lab, t->types->budget);
		}
	family(b, om, "gcscope_agent_types_window_open", "gauge", "1 while a type window is open");
	for (t = m->targets; t; t = t->next)
		if (t->types) {
			target_labels(t, lab, sizeof(lab));
			put(b, "gcscope_agent_types_window_open{%s} %d\n", lab, t->types->active ? 1 : 0);
		}
}

char *prom_render(struct metrics *m, bool om, const struct prom_self *self, uint64_t now_ns, size_t *len)
{
	struct pbuf b = {};
	char lab[4 * MET_LABEL_MAX + 256], s[64];
	const struct met_target *t;
	unsigned nstate[MET_NSTATES] = {};

	pthread_mutex_lock(&m->mu);
	m->scrapes++;

	family(&b, om, "python_gc_collections_total", "counter", "Number of times this generation was collected");
	for (t = m->targets; t; t = t->next) {
		target_labels(t, lab, sizeof(lab));
		for (int g = 0; g < MET_NGEN; g++)
			if (!t->unknown[g])
				put(&b, "python_gc_collections_total{generation=\"%d\",%s} %llu\n", g, lab,
				    (unsigned long long)t->collections[g]);
	}
	/* A generation with a collection whose counts could not be read has
	 * no collected/uncollectable series: its sum would be short, and a
	 * count gcscope could not read is never shown as a number. */
	family(&b, om, "python_gc_objects_collected_total", "counter", "Objects collected during gc");
	for (t = m->targets; t; t = t->next) {
		target_labels(t, lab, sizeof(lab));
		for (int g = 0; g < MET_NGEN; g++)
			if (t->counts && !t->uncounted[g] && !t->unknown[g])
				put(&b, "python_gc_objects_collected_total{generation=\"%d\",%s} %llu\n", g, lab,
				    (unsigned long long)t->collected[g]);
	}
	family(&b, om, "python_gc_objects_uncollectable_total", "counter", "Uncollectable objects found during GC");
	for (t = m->targets; t; t = t->next) {
		target_labels(t, lab, sizeof(lab));
		for (int g = 0; g < MET_NGEN; g++)
			if (t->counts && !t->uncounted[g] && !t->unknown[g])
				put(&b, "python_gc_objects_uncollectable_total{generation=\"%d\",%s} %llu\n", g, lab,
				    (unsigned long long)t->uncollectable[g]);
	}
	family(&b, om, "python_gc_duration_seconds", "histogram",
	       "Pause of each collection (seen from outside the process by gcscope)");
	/* the memory tier before 3.15 knows no pause: no histogram (not 0s) */
	for (t = m->targets; t; t = t->next) {
		if (!t->durations)
			continue;
		target_labels(t, lab, sizeof(lab));
		for (int g = 0; g < MET_NGEN; g++) {
			uint64_t cum = 0;

			for (int i = 0; i <= MET_NBUCKETS; i++) {
				cum += t->bucket[g][i];
				if (i < MET_NBUCKETS)
					snprintf(s, sizeof(s), "%g", met_bucket_le[i]);
				else
					strcpy(s, "+Inf");
				put(&b, "python_gc_duration_seconds_bucket{generation=\"%d\",%s,le=\"%s\"} %llu\n", g,
				    lab, s, (unsigned long long)cum);
			}
			seconds(s, sizeof(s), t->pause_ns[g]);
			put(&b, "python_gc_duration_seconds_sum{generation=\"%d\",%s} %s\n", g, lab, s);
			put(&b, "python_gc_duration_seconds_count{generation=\"%d\",%s} %llu\n", g, lab,
			    (unsigned long long)t->timed[g]);
		}
	}
	family(&b, om, "python_gc_thread_pause_seconds_total", "counter",
	       "Time a thread spent in collections it ran (at most 16 threads a process, the rest in thread=\"other\")");
	for (t = m->targets; t; t = t->next) {
		target_labels(t, lab, sizeof(lab));
		for (int i = 0; i <= t->nthreads; i++) {
			const struct met_thread *th = i < t->nthreads ? &t->threads[i] : &t->other;
			char name[2 * sizeof(th->name)];

			if (i == t->nthreads && !th->count)
				break;
			escape(th->name, name, sizeof(name));
			seconds(s, sizeof(s), th->pause_ns);
			if (th->tid)
				put(&b, "python_gc_thread_pause_seconds_total{tid=\"%u\",thread=\"%s\",%s} %s\n", th->tid,
				    name, lab, s);
			else
				put(&b, "python_gc_thread_pause_seconds_total{tid=\"other\",thread=\"other\",%s} %s\n",
				    lab, s);
		}
	}
	family(&b, om, "python_gc_thread_collections_total", "counter", "Collections a thread ran (as above)");
	for (t = m->targets; t; t = t->next) {
		target_labels(t, lab, sizeof(lab));
		for (int i = 0; i <= t->nthreads; i++) {
			const struct met_thread *th = i < t->nthreads ? &t->threads[i] : &t->other;
			char name[2 * sizeof(th->name)];

			if (i == t->nthreads && !th->count)
				break;
			escape(th->name, name, sizeof(name));
			if (th->tid)
				put(&b, "python_gc_thread_collections_total{tid=\"%u\",thread=\"%s\",%s} %llu\n", th->tid,
				    name, lab, (unsigned long long)th->count);
			else
				put(&b, "python_gc_thread_collections_total{tid=\"other\",thread=\"other\",%s} %llu\n",
				    lab, (unsigned long long)th->count);
		}
	}
	render_types(&b, om, m);
	family(&b, om, "gcscope_agent_target_events_lost_total", "counter",
	       "Collection events of this target lost (ring buffer full): its counters are short by as many");
	for (t = m->targets; t; t = t->next) {
		target_labels(t, lab, sizeof(lab));
		put(&b, "gcscope_agent_target_events_lost_total{%s} %llu\n", lab, (unsigned long long)t->lost);
		nstate[t->state]++;
	}
	family(&b, om, "gcscope_agent_target_records_missed_total", "counter",
	       "Memory tier, 3.15+: collections whose records the target overwrote before they were read "
	       "(the histogram is short by as many; the counters are not)");
	for (t = m->targets; t; t = t->next) {
		if (strcmp(t->tier, "memory") || !t->durations)
			continue;
		target_labels(t, lab, sizeof(lab));
		put(&b, "gcscope_agent_target_records_missed_total{%s} %llu\n", lab,
		    (unsigned long long)t->records_missed);
	}
	family(&b, om, "gcscope_agent_target_state", "gauge",
	       "1 in the target's state: attached, or exited (final values, served once)");
	for (t = m->targets; t; t = t->next) {
		target_labels(t, lab, sizeof(lab));
		put(&b, "gcscope_agent_target_state{state=\"%s\",%s} 1\n", met_state_name[t->state], lab);
	}

	family(&b, om, "gcscope_agent_targets", "gauge", "Targets by state");
	for (int i = 0; i < MET_NSTATES; i++)
		put(&b, "gcscope_agent_targets{state=\"%s\"} %u\n", met_state_name[i], nstate[i]);
	family(&b, om, "gcscope_agent_targets_by_tier", "gauge",
	       "Attached targets by tier: bpf (probes), memory (the target's own counters, no BPF)");
	{
		unsigned nbpf = 0, nmem = 0;

		for (t = m->targets; t; t = t->next)
			if (t->state == MET_ATTACHED) {
				if (!strcmp(t->tier, "memory"))
					nmem++;
				else
					nbpf++;
			}
		put(&b, "gcscope_agent_targets_by_tier{tier=\"bpf\"} %u\n", nbpf);
		put(&b, "gcscope_agent_targets_by_tier{tier=\"memory\"} %u\n", nmem);
	}
	family(&b, om, "gcscope_agent_bpf_objects", "gauge",
	       "BPF objects loaded: one per interpreter build shared by its targets, one per target with type windows");
	put(&b, "gcscope_agent_bpf_objects %u\n", m->bpf_objects);
	family(&b, om, "gcscope_agent_attached_total", "counter", "Targets attached since the agent started");
	put(&b, "gcscope_agent_attached_total %llu\n", (unsigned long long)m->attached_total);
	family(&b, om, "gcscope_agent_attach_failures_total", "counter", "Processes that could not be traced, by reason");
	for (int i = 0; i < MET_NREASONS; i++)
		put(&b, "gcscope_agent_attach_failures_total{reason=\"%s\"} %llu\n", met_reason_name[i],
		    (unsigned long long)m->failures[i]);
	family(&b, om, "gcscope_agent_events_lost_total", "counter", "Collection events lost, all targets");
	put(&b, "gcscope_agent_events_lost_total %llu\n", (unsigned long long)m->lost_total);
	family(&b, om, "gcscope_agent_reloads_total", "counter", "SIGHUP reloads of the configuration");
	put(&b, "gcscope_agent_reloads_total %llu\n", (unsigned long long)m->reloads);
	family(&b, om, "gcscope_agent_reload_failures_total", "counter",
	       "Reloads refused (bad configuration: the previous one is kept)");
	put(&b, "gcscope_agent_reload_failures_total %llu\n", (unsigned long long)m->reload_failures);
	if (m->otlp) {
		family(&b, om, "gcscope_agent_otlp_pushes_total", "counter",
		       "OTLP pushes the receiver accepted (--otlp-endpoint)");
		put(&b, "gcscope_agent_otlp_pushes_total %llu\n", (unsigned long long)m->otlp_pushes);
		family(&b, om, "gcscope_agent_otlp_push_failures_total", "counter", "OTLP pushes that failed, by reason");
		for (int i = 0; i < MET_NPUSH_REASONS; i++)
			put(&b, "gcscope_agent_otlp_push_failures_total{reason=\"%s\"} %llu\n", met_push_reason_name[i],
			    (unsigned long long)m->otlp_failures[i]);
	}
	if (self && self->cpu_seconds >= 0) {
		family(&b, om, "gcscope_agent_cpu_seconds_total", "counter", "CPU time of the agent, user and system");
		put(&b, "gcscope_agent_cpu_seconds_total %.6f\n", self->cpu_seconds);
	}
	if (self && self->rss_bytes >= 0) {
		family(&b, om, "gcscope_agent_resident_memory_bytes", "gauge", "Resident memory of the agent");
		put(&b, "gcscope_agent_resident_memory_bytes %.0f\n", self->rss_bytes);
	}
	if (om)
		put(&b, "# EOF\n");

	/* Only a scrape that got its text counts as having served an exited
	 * target's final values. */
	if (!b.oom)
		for (struct met_target *x = m->targets; x; x = x->next)
			if (x->state == MET_EXITED)
				x->served = true;
	met_render_done(m, now_ns, EXITED_MAX_AGE_NS);
	pthread_mutex_unlock(&m->mu);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

bool prom_wants_openmetrics(const char *accept)
{
	return accept && strstr(accept, "application/openmetrics-text");
}

void prom_self_read(struct prom_self *s)
{
	struct rusage ru;
	char buf[128];
	long rss_pages;

	s->cpu_seconds = s->rss_bytes = -1;
	if (!getrusage(RUSAGE_SELF, &ru))
		s->cpu_seconds = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
				 ru.ru_stime.tv_usec / 1e6;
	if (read_text_file("/proc/self/statm", buf, sizeof(buf)) > 0 && sscanf(buf, "%*s %ld", &rss_pages) == 1)
		s->rss_bytes = (double)rss_pages * (double)sysconf(_SC_PAGESIZE);
}
