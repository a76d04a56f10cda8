// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's logic without a kernel: its configuration, the labels of a
 * cgroup, the series it keeps (bounded), and their exposition. */
#include <stdlib.h>
#include <string.h>

#include "agentconf.h"
#include "check.h"
#include "common.h"
#include "discover.h"
#include "metrics.h"
#include "prom.h"

static void test_conf(void)
{
	struct agentconf c;
	char why[512];

	agentconf_init(&c);
	CHECK_EQ_STR(c.listen, "127.0.0.1:9464");
	CHECK_EQ_INT(agentconf_parse(&c, "# comment\n\npid = 42\npid 43\nall\nmatch = 'gunicorn: *'  # trailing\n"
				     "listen = [::1]:9000\nscan-interval 0.25\nno-debuginfo = false\n",
				     "a.conf", why, sizeof(why)), 0);
	CHECK_EQ_INT(c.npids, 2);
	CHECK_EQ_INT(c.pids[1], 43);
	CHECK(c.all);
	CHECK_EQ_INT(c.nmatch, 1);
	CHECK_EQ_STR(c.match[0], "gunicorn: *");
	CHECK_EQ_STR(c.listen, "[::1]:9000");
	CHECK(c.scan_interval == 0.25);
	CHECK(!c.no_debuginfo);
	/* the same pid twice is one */
	CHECK_EQ_INT(agentconf_set(&c, "pid", "42", why, sizeof(why)), 0);
	CHECK_EQ_INT(c.npids, 2);

	CHECK_EQ_INT(agentconf_parse(&c, "all\nbogus = 1\n", "b.conf", why, sizeof(why)), EXIT_USAGE);
	CHECK_EQ_STR(why, "b.conf:2: unknown option 'bogus' (see gcscope agent --help)");
	CHECK_EQ_INT(agentconf_parse(&c, "pid = -1\n", "c", why, sizeof(why)), EXIT_USAGE);
	CHECK(!strncmp(why, "c:1: invalid pid '-1'", 21));
	CHECK_EQ_INT(agentconf_parse(&c, "scan-interval = 5\n", "c", why, sizeof(why)), EXIT_USAGE);
	CHECK_EQ_INT(agentconf_parse(&c, "all = maybe\n", "c", why, sizeof(why)), EXIT_USAGE);
	CHECK_EQ_STR(why, "c:1: invalid all 'maybe': give true or false");
	CHECK_EQ_INT(agentconf_parse(&c, "pid\n", "c", why, sizeof(why)), EXIT_USAGE);
	CHECK_EQ_STR(why, "c:1: pid needs a value");
	/* a control byte in the file is not echoed raw */
	CHECK_EQ_INT(agentconf_parse(&c, "pro\x1b[2Jbe = x\n", "c", why, sizeof(why)), EXIT_USAGE);
	CHECK(!strchr(why, '\x1b'));
	agentconf_free(&c);

	/* tiers, the memory tier's interval, JSON Lines */
	agentconf_init(&c);
	CHECK(c.tier == AGENT_TIER_AUTO && c.stats_interval == AGENT_DEFAULT_STATS_INTERVAL && !c.jsonl);
	CHECK_EQ_INT(agentconf_parse(&c, "tier = memory\nstats-interval 0.5\njsonl = /tmp/a\njsonl -\n", "t", why,
				     sizeof(why)), 0);
	CHECK(c.tier == AGENT_TIER_MEMORY && c.stats_interval == 0.5);
	CHECK(c.jsonl && !strcmp(c.jsonl, "-"));
	CHECK_EQ_INT(agentconf_set(&c, "tier", "stats", why, sizeof(why)), 0);
	CHECK(c.tier == AGENT_TIER_MEMORY);
	CHECK_EQ_INT(agentconf_set(&c, "tier", "bpf", why, sizeof(why)), 0);
	CHECK(c.tier == AGENT_TIER_BPF);
	CHECK_EQ_INT(agentconf_parse(&c, "tier = fast\n", "t", why, sizeof(why)), EXIT_USAGE);
	CHECK_EQ_STR(why, "t:1: invalid tier 'fast': use auto, bpf or memory (also called stats)");
	CHECK_EQ_INT(agentconf_parse(&c, "stats-interval = 0\n", "t", why, sizeof(why)), EXIT_USAGE);
	CHECK_EQ_STR(why, "t:1: invalid stats-interval '0': give seconds from 0.01 to 60");
	CHECK_EQ_INT(agentconf_parse(&c, "jsonl\n", "t", why, sizeof(why)), EXIT_USAGE);
	CHECK_EQ_STR(why, "t:1: jsonl needs a value");
	agentconf_free(&c);
	CHECK(!c.jsonl);

	/* listen addresses */
	{
		static const char *const good[] = { "127.0.0.1:9464", "0.0.0.0:1", "[::1]:9464", "[::]:65535" };
		static const char *const bad[] = { "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "localhost:9464",
						   "::1:9464", "[::1]9464", ":9464", "1.2.3.4:94x" };
		char host[256], port[16];

		for (size_t i = 0; i < ARRAY_SIZE(good); i++)
			CHECK_EQ_INT(agentconf_split_listen(good[i], host, sizeof(host), port, sizeof(port), why,
							    sizeof(why)), 0);
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
			CHECK_EQ_INT(agentconf_split_listen(bad[i], host, sizeof(host), port, sizeof(port), why,
							    sizeof(why)), -1);
		agentconf_split_listen("[::1]:9000", host, sizeof(host), port, sizeof(port), why, sizeof(why));
		CHECK_EQ_STR(host, "::1");
		CHECK_EQ_STR(port, "9000");
	}
}

static void test_cgroup(void)
{
	char cont[80], unit[256];
	const char *id = "4f0c1e9d5a7b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d";
	char text[1024];

	cgroup_labels("0::/system.slice/gunicorn.service\n", cont, sizeof(cont), unit, sizeof(unit));
	CHECK_EQ_STR(cont, "");
	CHECK_EQ_STR(unit, "gunicorn.service");
	snprintf(text, sizeof(text), "0::/system.slice/docker-%s.scope\n", id);
	cgroup_labels(text, cont, sizeof(cont), unit, sizeof(unit));
	CHECK_EQ_STR(cont, id);
	CHECK(!strncmp(unit, "docker-", 7));
	/* kubernetes, cgroup v2 with the systemd driver */
	snprintf(text, sizeof(text), "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/"
		 "cri-containerd-%s.scope\n", id);
	cgroup_labels(text, cont, sizeof(cont), unit, sizeof(unit));
	CHECK_EQ_STR(cont, id);
	/* cgroup v1: the unit from name=systemd, a container id from any */
	snprintf(text, sizeof(text), "12:memory:/docker/%s\n1:name=systemd:/system.slice/app.service\n", id);
	cgroup_labels(text, cont, sizeof(cont), unit, sizeof(unit));
	CHECK_EQ_STR(cont, id);
	CHECK_EQ_STR(unit, "app.service");
	/* this machine's kind: no unit, no container */
	cgroup_labels("9:name=systemd:/\n4:memory:/process_api/c390e25cf0aa1ef052487c9f0baca04f\n0::/\n", cont,
		      sizeof(cont), unit, sizeof(unit));
	CHECK_EQ_STR(cont, "");
	CHECK_EQ_STR(unit, "");
	/* 65 hex digits are no id; hostile bytes in a unit are cleaned */
	cgroup_labels("0::/a/0123456789012345678901234567890123456789012345678901234567890123a/x\x1b.service\n",
		      cont, sizeof(cont), unit, sizeof(unit));
	CHECK_EQ_STR(cont, "");
	CHECK_EQ_STR(unit, "x?.service");
	cgroup_labels("", cont, sizeof(cont), unit, sizeof(unit));
	CHECK_EQ_STR(unit, "");
}

static void test_discover_names(void)
{
	char *globs[] = { "gunicorn*", "/opt/app/*" };

	CHECK(discover_python_name("/usr/bin/python3.11"));
	CHECK(discover_python_name("/usr/bin/python3.13d"));
	CHECK(discover_python_name("/usr/lib/x86_64-linux-gnu/libpython3.12.so.1.0"));
	CHECK(discover_python_name("python"));
	CHECK(!discover_python_name("/usr/bin/python3-config"));
	CHECK(!discover_python_name("/usr/bin/pythonw"));
	CHECK(!discover_python_name("/usr/bin/bash"));
	CHECK(discover_match("/usr/bin/python3.11", "gunicorn: worker", globs, 2));
	CHECK(discover_match("/opt/app/bin/server", "server", globs, 2));
	CHECK(discover_match("/usr/local/bin/gunicorn", "python3", globs, 2));
	CHECK(!discover_match("/usr/bin/python3.11", "python3.11", globs, 2));
	CHECK(!discover_match("/usr/bin/python3.11", "python3.11", globs, 0));
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_metrics_and_exposition(void)
{
	struct metrics *m = metrics_new();
	struct met_target *a = met_target_new(100), *b = met_target_new(200);
	struct prom_self self = { .cpu_seconds = 1.5, .rss_bytes = 4096 };
	char *text;
	size_t len;

	strcpy(a->executable, "/usr/bin/py\"th\\on\n");
	strcpy(a->container, "");
	strcpy(a->unit, "app.service");
	met_target_add(m, a);
	met_attached(m, a, "3.11.2", true);
	strcpy(b->executable, "/usr/bin/python3.9");
	met_target_add(m, b);
	met_attached(m, b, "3.9.18", false);	/* counts cannot be read */

	met_collection(m, a, 0, 50000, true, 10, 0, 100, "MainThread");	/* 50 us */
	met_collection(m, a, 0, 2000000, true, 5, 1, 101, "worker");		/* 2 ms */
	met_collection(m, a, 2, 20000000000ULL, true, 7, 0, 100, "MainThread");	/* 20 s: +Inf */
	met_collection(m, a, 1, 300000, false, -1, -1, 100, "MainThread");	/* gen 1 uncounted */
	met_collection(m, a, -1, 1000, false, -1, -1, 100, "MainThread");
	/* more threads than series: the rest in "other" */
	for (uint32_t tid = 1000; tid < 1000 + MET_THREADS_MAX + 5; tid++)
		met_collection(m, b, 0, 1000, false, -1, -1, tid, "t");
	met_lost(m, b, 3);
	CHECK_EQ_INT(b->nthreads, MET_THREADS_MAX);
	CHECK_EQ_INT(b->other.count, 5 - 0 + 0);	/* 21 threads, 16 kept */

	text = prom_render(m, false, &self, 1, &len);
	CHECK(text && strlen(text) == len);
	if (!text)
		goto out;
	CHECK(strstr(text, "# TYPE python_gc_collections_total counter\n"));
	CHECK(strstr(text, "python_gc_collections_total{generation=\"0\",pid=\"100\",executable=\"/usr/bin/py\\\"th"
			   "\\\\on\\n\",python_version=\"3.11.2\",tier=\"bpf\",systemd_unit=\"app.service\"} 2\n"));
	CHECK(strstr(text, "python_gc_objects_collected_total{generation=\"0\",pid=\"100\","));
	CHECK(strstr(text, "python_gc_objects_uncollectable_total{generation=\"0\",pid=\"100\","));
	/* gen 1 had a collection without counts: no collected series for it,
	 * and none at all for the target whose counts cannot be read */
	CHECK(!strstr(text, "python_gc_objects_collected_total{generation=\"1\",pid=\"100\""));
	CHECK(strstr(text, "python_gc_objects_collected_total{generation=\"2\",pid=\"100\""));
	CHECK(!strstr(text, "python_gc_objects_collected_total{generation=\"0\",pid=\"200\""));
	CHECK(strstr(text, "python_gc_collections_total{generation=\"0\",pid=\"200\","));
	/* cumulative buckets: 50 us in le=0.0001, 2 ms in le=0.0025, 20 s only in +Inf */
	CHECK(strstr(text, "python_gc_duration_seconds_bucket{generation=\"0\",pid=\"100\","));
	CHECK(count(text, ",le=\"0.0001\"} 1\n") >= 1);
	CHECK(strstr(text, "tier=\"bpf\",systemd_unit=\"app.service\",le=\"0.0025\"} 2\n"));
	CHECK(strstr(text, "python_gc_duration_seconds_bucket{generation=\"2\",pid=\"100\",executable=\"/usr/bin/py"
			   "\\\"th\\\\on\\n\",python_version=\"3.11.2\",tier=\"bpf\",systemd_unit=\"app.service\","
			   "le=\"10\"} 0\n"));
	CHECK(strstr(text, "systemd_unit=\"app.service\",le=\"+Inf\"} 1\n"));
	CHECK(strstr(text, "python_gc_duration_seconds_sum{generation=\"2\",pid=\"100\","));
	CHECK(strstr(text, "} 20.000000000\n"));
	CHECK(strstr(text, "python_gc_thread_collections_total{tid=\"100\",thread=\"MainThread\",pid=\"100\","));
	CHECK(strstr(text, "python_gc_thread_collections_total{tid=\"other\",thread=\"other\",pid=\"200\","));
	CHECK_EQ_INT(count(text, "python_gc_thread_collections_total{"), 2 + MET_THREADS_MAX + 1);
	CHECK(strstr(text, "gcscope_agent_events_lost_total 3\n"));
	CHECK(strstr(text, "gcscope_agent_targets{state=\"attached\"} 2\n"));
	CHECK(strstr(text, "gcscope_agent_cpu_seconds_total 1.500000\n"));
	CHECK(strstr(text, "gcscope_agent_resident_memory_bytes 4096\n"));
	CHECK(!strstr(text, "# EOF"));
	free(text);

	/* exited: its final values once more, then gone */
	met_exited(m, a, 2);
	met_failure(m, met_reason_of(EXIT_NOT_PYTHON));
	text = prom_render(m, true, NULL, 3, &len);
	CHECK(text && strstr(text, "# TYPE python_gc_collections counter\n"));
	CHECK(text && strstr(text, "python_gc_collections_total{generation=\"0\",pid=\"100\","));
	CHECK(text && strstr(text, "gcscope_agent_target_state{state=\"exited\",pid=\"100\","));
	CHECK(text && strstr(text, "gcscope_agent_attach_failures_total{reason=\"not_python\"} 1\n"));
	CHECK(text && !strstr(text, "gcscope_agent_cpu_seconds_total"));	/* unknown: omitted */
	CHECK(text && len > 6 && !strcmp(text + len - 6, "# EOF\n"));
	free(text);
	text = prom_render(m, false, NULL, 4, &len);
	CHECK(text && !strstr(text, "pid=\"100\""));
	CHECK(text && strstr(text, "pid=\"200\""));
	CHECK(text && strstr(text, "gcscope_agent_targets{state=\"exited\"} 0\n"));
	free(text);
	/* the memory tier: totals set (not added), pauses only from records,
	 * an unreadable generation and a target without records not served
	 * as numbers */
	{
		struct met_target *c3 = met_target_new(300), *d = met_target_new(400);

		CHECK(c3 && d);
		if (!c3 || !d)
			goto out;
		strcpy(c3->tier, "memory");
		c3->durations = false;
		c3->counts = d->counts = true;	/* as memtier_open() says */
		strcpy(d->tier, "memory");
		met_target_add(m, c3);
		met_target_add(m, d);
		met_totals(m, c3, 0, true, 40, 400, 1);
		met_totals(m, c3, 0, true, 45, 450, 1);
		met_totals(m, c3, 1, false, 0, 0, 0);
		met_totals(m, d, 2, true, 3, 30, 0);
		met_pause(m, d, 2, 3000000);		/* 3 ms */
		met_records_missed(m, d, 2);
		text = prom_render(m, false, NULL, 5, &len);
		CHECK(text && strstr(text, "python_gc_collections_total{generation=\"0\",pid=\"300\",executable=\"\","
				   "python_version=\"\",tier=\"memory\"} 45\n"));
		CHECK(text && strstr(text, "python_gc_objects_collected_total{generation=\"0\",pid=\"300\","));
		CHECK(text && strstr(text, "tier=\"memory\"} 450\n"));
		CHECK(text && !strstr(text, "python_gc_collections_total{generation=\"1\",pid=\"300\""));
		CHECK(text && !strstr(text, "python_gc_objects_collected_total{generation=\"1\",pid=\"300\""));
		CHECK(text && !strstr(text, "python_gc_duration_seconds_count{generation=\"0\",pid=\"300\""));
		CHECK(text && strstr(text, "python_gc_duration_seconds_count{generation=\"2\",pid=\"400\",executable=\"\","
				   "python_version=\"\",tier=\"memory\"} 1\n"));
		CHECK(text && strstr(text, "python_gc_duration_seconds_count{generation=\"0\",pid=\"400\",executable=\"\","
				   "python_version=\"\",tier=\"memory\"} 0\n"));
		CHECK(text && strstr(text, "gcscope_agent_target_records_missed_total{pid=\"400\",executable=\"\","
				   "python_version=\"\",tier=\"memory\"} 2\n"));
		CHECK(text && !strstr(text, "gcscope_agent_target_records_missed_total{pid=\"300\""));
		CHECK(text && strstr(text, "gcscope_agent_targets_by_tier{tier=\"bpf\"} 1\n"));
		CHECK(text && strstr(text, "gcscope_agent_targets_by_tier{tier=\"memory\"} 2\n"));
		free(text);
	}
	CHECK(prom_wants_openmetrics("application/openmetrics-text; version=1.0.0,text/plain;q=0.5"));
	CHECK(!prom_wants_openmetrics("text/plain"));
	CHECK(!prom_wants_openmetrics(NULL));
out:
	metrics_free(m);
}

int main(void)
{
	test_conf();
	test_cgroup();
	test_discover_names();
	test_metrics_and_exposition();
	CHECK_DONE("test_agent");
}
