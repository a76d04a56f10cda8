// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's type windows without a kernel: the budget's decisions
 * (user/typewin.c), the bounded, monotonic top K of types and the owner
 * pairs (user/met_types.c), their exposition, and their options. */
#include <stdlib.h>
#include <string.h>

#include "agentconf.h"
#include "check.h"
#include "common.h"
#include "met_types.h"
#include "metrics.h"
#include "prom.h"
#include "typewin.h"

#define MS 1000000ULL
#define S 1000000000ULL

static void test_budget(void)
{
	struct typewin w;
	struct typewin_conf c = { .every_s = 1, .window_s = 0.5, .budget = 0.01 };

	typewin_init(&w, &c, 0);
	CHECK_EQ_INT(typewin_decide(&w, S / 2, 0), TW_NONE);		/* a period after the attach */
	CHECK_EQ_INT(typewin_decide(&w, S, 0), TW_OPENED);
	CHECK_EQ_INT(typewin_decide(&w, 1200 * MS, 5 * MS), TW_NONE);	/* 5 ms of 12 allowed */
	CHECK_EQ_INT(typewin_decide(&w, 1500 * MS, 6 * MS), TW_CLOSED);	/* its length */
	CHECK_EQ_INT(w.cut, 0);
	CHECK_EQ_INT(w.next_ns, 2 * S);
	CHECK_EQ_INT(typewin_decide(&w, 1900 * MS, 6 * MS), TW_NONE);
	CHECK_EQ_INT(typewin_decide(&w, 2 * S, 6 * MS), TW_OPENED);
	/* 30 ms by 2.1 s: over the 21 ms allowed, cut */
	CHECK_EQ_INT(typewin_decide(&w, 2100 * MS, 30 * MS), TW_CLOSED);
	CHECK_EQ_INT(w.cut, 1);
	CHECK_EQ_INT(w.next_ns, 3 * S);				/* 30 ms is 1% of 3 s */
	CHECK_EQ_INT(w.skipped, 0);
	CHECK_EQ_INT(typewin_decide(&w, 3 * S, 30 * MS), TW_OPENED);
	/* 100 ms: within the budget again at 10 s; the windows of 4 s to 10 s
	 * are skipped, the next at 11 s */
	CHECK_EQ_INT(typewin_decide(&w, 3100 * MS, 100 * MS), TW_CLOSED);
	CHECK_EQ_INT(w.cut, 2);
	CHECK_EQ_INT(w.skipped, 7);
	CHECK_EQ_INT(w.next_ns, 11 * S);
	CHECK_EQ_INT(typewin_decide(&w, 10900 * MS, 100 * MS), TW_NONE);
	CHECK_EQ_INT(typewin_decide(&w, 11 * S, 100 * MS), TW_OPENED);
	CHECK_EQ_INT(w.run, 4);
	CHECK(w.active);

	/* due, but over the budget (a walk that ended after the close):
	 * skipped, looked at a period later */
	typewin_init(&w, &c, 0);
	CHECK_EQ_INT(typewin_decide(&w, S, 20 * MS), TW_NONE);
	CHECK_EQ_INT(w.skipped, 1);
	CHECK_EQ_INT(w.next_ns, 2 * S);
	CHECK(!w.active);

	/* no windows */
	c.every_s = 0;
	typewin_init(&w, &c, 0);
	CHECK_EQ_INT(typewin_decide(&w, 100 * S, 0), TW_NONE);
	CHECK_EQ_INT(w.run, 0);
}

static struct gc_collection walked(int gen, const struct gc_type_count *types, size_t n)
{
	struct gc_collection c = { .gen = gen, .walked = true, .types_traced = true, .types = types, .ntypes = n,
				   .thread = "python3" };

	for (size_t i = 0; i < n; i++)
		c.objects_seen += types[i].count;
	return c;
}

/* The value of the exposition line that starts with prefix, or -1. */
static double value_of(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);
	const char *sp;

	if (!p)
		return -1;
	sp = strchr(p, '}');
	return sp ? strtod(strchr(sp, ' ') + 1, NULL) : -1;
}

static void test_top_k(void)
{
	struct metrics *m = metrics_new();
	struct met_target *t = met_target_new(42);
	struct gc_type_count w1[] = { { "B", 10 }, { "A", 5 }, { "C", 1 } };
	struct gc_type_count w2[] = { { "D", 100 }, { "A", 1 } };
	struct gc_collection c;
	size_t len;
	char *text;

	strcpy(t->executable, "/usr/bin/python3");
	t->types = met_types_new(2, true, false, 0.01);
	met_target_add(m, t);

	c = walked(0, w1, 3);
	met_types_collection(t->types, &c);
	/* not served before the window ends */
	CHECK_EQ_INT(t->types->nslots, 0);
	CHECK_EQ_INT(t->types->collections[0], 0);
	met_types_commit(m, t, NULL, NULL);
	CHECK_EQ_INT(t->types->nslots, 2);
	CHECK_EQ_STR(t->types->slot[0].name, "B");
	CHECK_EQ_STR(t->types->slot[1].name, "A");
	CHECK_EQ_INT(t->types->other.n[0], 1);
	CHECK_EQ_INT(t->types->collections[0], 1);
	/* a type arriving once the slots are taken stays in "other": every
	 * counter only goes up */
	c = walked(2, w2, 2);
	met_types_collection(t->types, &c);
	c = walked(-1, w2 + 1, 1);
	met_types_collection(t->types, &c);
	met_types_commit(m, t, NULL, NULL);
	CHECK_EQ_INT(t->types->nslots, 2);
	CHECK_EQ_INT(t->types->other.n[2], 100);
	CHECK_EQ_INT(t->types->slot[1].n[2], 1);
	CHECK_EQ_INT(t->types->slot[1].n[3], 1);	/* generation unknown */
	CHECK_EQ_INT(t->types->collections[2], 1);
	CHECK_EQ_INT(t->types->collections[3], 1);
	CHECK_EQ_INT(t->types->objects_seen, 118);

	/* owner pairs: bounded, the rest in one "other" series */
	struct gc_finding f[40];
	char names[40][16];

	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "T%d", i);
		f[i] = (struct gc_finding){ .type = names[i], .owner_thread = "main", .owner_py_thread = "MainThread" };
	}
	for (int round = 0; round < 2; round++) {
		c = walked(0, NULL, 0);
		c.findings = f;
		c.nfindings = 40;
		c.py_thread = "collector";
		met_types_collection(t->types, &c);
		met_types_commit(m, t, NULL, NULL);
	}
	CHECK_EQ_INT(t->types->npairs, MET_PAIRS_MAX);
	CHECK_EQ_INT(t->types->pair_other.n, 2 * (40 - MET_PAIRS_MAX));
	CHECK_EQ_INT(t->types->findings, 80);
	CHECK_EQ_STR(t->types->pair[0].owner, "MainThread");
	CHECK_EQ_STR(t->types->pair[0].thread, "collector");
	CHECK_EQ_INT(t->types->pair[0].n, 2);

	met_types_budget(m, t, 5 * MS, 1000 * MS, 3, 1, 2, false);
	text = prom_render(m, false, NULL, 0, &len);
	CHECK(text != NULL);
	if (text) {
		CHECK(value_of(text, "gcscope_gc_destroyed_objects_total{type=\"B\",generation=\"0\",pid=\"42\"") == 10);
		CHECK(value_of(text, "gcscope_gc_destroyed_objects_total{type=\"other\",generation=\"2\",pid=\"42\"") ==
		      100);
		CHECK(value_of(text, "gcscope_gc_destroyed_objects_total{type=\"A\",generation=\"unknown\"") == 1);
		/* no series of an unknown generation that never was */
		CHECK(!strstr(text, "type=\"B\",generation=\"unknown\""));
		CHECK(!strstr(text, "type=\"D\""));
		CHECK(value_of(text, "gcscope_gc_window_collections_total{generation=\"0\"") == 3);
		CHECK(value_of(text, "gcscope_gc_owner_findings_total{type=\"T0\",owner_thread=\"MainThread\","
				     "thread=\"collector\"") == 2);
		CHECK(value_of(text, "gcscope_gc_owner_findings_total{type=\"other\",owner_thread=\"other\","
				     "thread=\"other\"") == 16);
		CHECK(value_of(text, "gcscope_agent_types_windows_total{result=\"skipped\"") == 2);
		CHECK(value_of(text, "gcscope_agent_types_budget_used_ratio{") == 0.005);
		CHECK(value_of(text, "gcscope_agent_types_budget_ratio{") == 0.01);
		free(text);
	}
	metrics_free(m);

	/* a target without windows has none of these series */
	m = metrics_new();
	met_target_add(m, met_target_new(43));
	text = prom_render(m, false, NULL, 0, &len);
	CHECK(text && !strstr(text, "gcscope_gc_destroyed_objects_total") && !strstr(text, "types_windows"));
	free(text);
	metrics_free(m);
}

/* The window's record (--jsonl): the pending window, most first, with
 * "other" for the names and pairs past the pending room; the same window
 * is then committed (and emptied) as before. */
static void test_window_record(void)
{
	static struct met_window_buf buf;
	static struct gc_type_count many[MET_TYPES_PENDING + 3];
	static char names[MET_TYPES_PENDING + 3][16];
	struct gc_finding f[MET_PAIRS_PENDING + 2];
	struct metrics *m = metrics_new();
	struct met_target *t = met_target_new(7);
	struct gc_type_window w = { 0 };
	struct gc_collection c;

	t->types = met_types_new(3, true, false, 0.01);
	met_target_add(m, t);
	CHECK(!met_types_pending(t->types));
	for (int i = 0; i < MET_TYPES_PENDING + 3; i++) {
		snprintf(names[i], sizeof(names[i]), "N%d", i);
		/* N0 the most numerous; past the room, 3 names of 1 each */
		many[i] = (struct gc_type_count){ names[i], i == 0 ? 1000 : 1 };
	}
	for (int i = 0; i < MET_PAIRS_PENDING + 2; i++)
		f[i] = (struct gc_finding){ .type = "Owned", .owner_thread = names[i] };
	c = walked(1, many, MET_TYPES_PENDING + 3);
	c.findings = f;
	c.nfindings = MET_PAIRS_PENDING + 2;
	c.thread = "worker";
	met_types_collection(t->types, &c);
	c = walked(-1, many, 1);
	c.findings = f;
	c.nfindings = 1;
	c.thread = "worker";
	met_types_collection(t->types, &c);
	CHECK(met_types_pending(t->types));
	met_types_window(t->types, &w, &buf);
	CHECK_EQ_INT(w.collections[1], 1);
	CHECK_EQ_INT(w.collections[3], 1);	/* generation unknown */
	CHECK_EQ_INT(w.objects_seen, 2000 + MET_TYPES_PENDING + 2);
	CHECK_EQ_INT(w.ntypes, MET_TYPES_PENDING + 1);
	CHECK_EQ_STR(w.types[0].name, "N0");
	CHECK_EQ_INT(w.types[0].count, 2000);
	CHECK_EQ_STR(w.types[w.ntypes - 1].name, "other");
	CHECK_EQ_INT(w.types[w.ntypes - 1].count, 3);
	CHECK(w.owners_traced);
	CHECK_EQ_INT(w.findings, MET_PAIRS_PENDING + 3);
	CHECK_EQ_INT(w.npairs, MET_PAIRS_PENDING + 1);
	CHECK_EQ_STR(w.pairs[0].owner, "N0");	/* 2 of them: first */
	CHECK_EQ_INT(w.pairs[0].count, 2);
	CHECK_EQ_STR(w.pairs[0].thread, "worker");
	CHECK_EQ_STR(w.pairs[w.npairs - 1].type, "other");
	CHECK_EQ_INT(w.pairs[w.npairs - 1].count, 2);
	CHECK(w.budget == 0.01);
	met_types_commit(m, t, NULL, NULL);
	CHECK(!met_types_pending(t->types));
	CHECK_EQ_INT(t->types->findings, MET_PAIRS_PENDING + 3);
	CHECK_EQ_INT(t->types->slot[0].n[1] + t->types->slot[0].n[3], 2000);
	metrics_free(m);
}

static void test_conf(void)
{
	struct agentconf c;
	char why[512];

	agentconf_init(&c);
	CHECK(c.types_every == 0);
	CHECK(c.budget == 1);
	CHECK_EQ_INT(c.top, 10);
	CHECK_EQ_INT(agentconf_parse(&c, "all\ntypes-every = 60\ntypes-window 2.5\nbudget = 0.5\ntop = 20\n"
				     "max-objects = 5000\nowners = myapp.*,@qt\n", "a.conf", why, sizeof(why)), 0);
	CHECK(c.types_every == 60);
	CHECK(c.types_window == 2.5);
	CHECK(c.budget == 0.5);
	CHECK_EQ_INT(c.top, 20);
	CHECK_EQ_INT(c.max_objects, 5000);
	CHECK_EQ_STR(c.owners, "myapp.*,@qt");
	CHECK_EQ_INT(agentconf_set(&c, "budget", "0", why, sizeof(why)), -1);
	CHECK(!strncmp(why, "invalid budget '0'", 18));
	CHECK_EQ_INT(agentconf_set(&c, "top", "101", why, sizeof(why)), -1);
	CHECK(!strncmp(why, "invalid top '101'", 17));
	CHECK_EQ_INT(agentconf_set(&c, "types-every", "0.01", why, sizeof(why)), -1);
	CHECK_EQ_INT(agentconf_set(&c, "owners", "[abc", why, sizeof(why)), -1);
	CHECK(!strncmp(why, "invalid owners: ", 16));
	CHECK_EQ_STR(c.owners, "myapp.*,@qt");	/* kept */
	agentconf_free(&c);
	CHECK(c.owners == NULL);
}

int main(void)
{
	test_budget();
	test_conf();
	test_top_k();
	test_window_record();
	CHECK_DONE("test_typewin");
}
