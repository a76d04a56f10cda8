// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's OTLP side without a network: the JSON of the request
 * (otlp_json.c), its options (agentconf.c), and an exited target kept for
 * the push as well as the scrape (metrics.c). */
#include <stdlib.h>
#include <string.h>

#include "../fuzz/jsoncheck.h"
#include "agentconf.h"
#include "check.h"
#include "metrics.h"
#include "otlp_json.h"

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_render(void)
{
	struct met_target ts[2];
	size_t len = 0;
	char *s;

	memset(ts, 0, sizeof(ts));
	ts[0].pid = 4242;
	strcpy(ts[0].executable, "/usr/bin/python3.11");
	strcpy(ts[0].python, "3.11.2");
	strcpy(ts[0].container, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	strcpy(ts[0].tier, "bpf");
	ts[0].counts = true;
	ts[0].collections[0] = 5;
	ts[0].collections[2] = 1;
	ts[0].collected[0] = 123;
	ts[0].uncollectable[2] = 7;
	ts[0].bucket[0][0] = 4;
	ts[0].bucket[0][MET_NBUCKETS] = 1;	/* +Inf */
	ts[0].bucket[2][3] = 1;
	ts[0].pause_ns[0] = 1500000123;		/* exactly 1.500000123 s */
	ts[0].start_unix_ns = 1000;
	/* counts not readable; an executable with bytes that are not UTF-8;
	 * a start after "now" (clocks) */
	ts[1].pid = 7;
	strcpy(ts[1].executable, "/opt/\xff\xfe/py\"thon");
	strcpy(ts[1].tier, "bpf");
	ts[1].counts = false;
	ts[1].collections[1] = 3;
	ts[1].start_unix_ns = 999999;

	s = otlp_render(ts, 2, "host-1", 5000, &len);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_INT(len, strlen(s));
	CHECK(json_line_valid(s, s + len));
	CHECK_EQ_INT(count_of(s, "\"resourceMetrics\":["), 1);
	CHECK_EQ_INT(count_of(s, "{\"resource\":{\"attributes\":["), 2);
	/* the first target's resource */
	CHECK(strstr(s, "{\"key\":\"process.pid\",\"value\":{\"intValue\":\"4242\"}}"));
	CHECK(strstr(s, "{\"key\":\"process.executable.path\",\"value\":{\"stringValue\":\"/usr/bin/python3.11\"}}"));
	CHECK(strstr(s, "{\"key\":\"process.executable.name\",\"value\":{\"stringValue\":\"python3.11\"}}"));
	CHECK(strstr(s, "{\"key\":\"process.runtime.version\",\"value\":{\"stringValue\":\"3.11.2\"}}"));
	CHECK(strstr(s, "{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":\"host-1:4242\"}}"));
	CHECK(strstr(s, "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"unknown_service:python3.11\"}}"));
	CHECK_EQ_INT(count_of(s, "\"container.id\""), 1);	/* the second has none: no attribute */
	CHECK_EQ_INT(count_of(s, "\"process.runtime.version\""), 1);	/* nor a version */
	/* the names of the semantic conventions, one metric each per target;
	 * no collected/uncollectable for the target whose counts are unknown */
	CHECK_EQ_INT(count_of(s, "\"name\":\"cpython.gc.collections\",\"description\""), 2);
	CHECK_EQ_INT(count_of(s, "\"name\":\"cpython.gc.collected_objects\""), 1);
	CHECK_EQ_INT(count_of(s, "\"name\":\"cpython.gc.uncollectable_objects\""), 1);
	CHECK_EQ_INT(count_of(s, "\"name\":\"cpython.gc.duration\""), 2);
	CHECK_EQ_INT(count_of(s, "\"unit\":\"{collection}\""), 2);
	CHECK_EQ_INT(count_of(s, "\"unit\":\"s\""), 2);
	CHECK_EQ_INT(count_of(s, "\"aggregationTemporality\":2,\"isMonotonic\":true"), 4);
	/* a point: its generation, the start at the attach, the count */
	CHECK(strstr(s, "{\"attributes\":[{\"key\":\"cpython.gc.generation\",\"value\":{\"intValue\":\"0\"}}],"
			"\"startTimeUnixNano\":\"1000\",\"timeUnixNano\":\"5000\",\"asInt\":\"5\"}"));
	CHECK(strstr(s, "\"intValue\":\"0\"}}],\"startTimeUnixNano\":\"1000\",\"timeUnixNano\":\"5000\",\"asInt\":\"123\"}"));
	CHECK(strstr(s, "\"intValue\":\"2\"}}],\"startTimeUnixNano\":\"1000\",\"timeUnixNano\":\"5000\",\"asInt\":\"7\"}"));
	/* a start after now is now */
	CHECK(strstr(s, "\"startTimeUnixNano\":\"5000\",\"timeUnixNano\":\"5000\",\"asInt\":\"3\"}"));
	CHECK(!strstr(s, "999999"));
	/* the histogram: count, exact sum, MET_NBUCKETS + 1 counts (not
	 * cumulative) and MET_NBUCKETS bounds */
	CHECK(strstr(s, "\"count\":\"5\",\"sum\":1.500000123,\"bucketCounts\":[\"4\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\","
			"\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"1\"],\"explicitBounds\":[0.0001,0.00025,"));
	CHECK_EQ_INT(count_of(s, "\"explicitBounds\":[0.0001,0.00025,0.0005,0.001,0.0025,0.005,0.01,0.025,0.05,0.1,"
				 "0.25,1,2.5,10]"), 6);
	free(s);

	/* no target: a valid, empty request */
	s = otlp_render(NULL, 0, "", 1, &len);
	CHECK(s && !strcmp(s, "{\"resourceMetrics\":[]}"));
	free(s);
}

static void test_conf(void)
{
	struct agentconf c;
	char why[512];

	agentconf_init(&c);
	CHECK_EQ_STR(c.otlp_endpoint, "");
	CHECK(c.otlp_interval == 10);
	CHECK_EQ_INT(agentconf_parse(&c, "all\notlp-endpoint = http://127.0.0.1:4318/v1/metrics\notlp-interval 2.5\n",
				     "a.conf", why, sizeof(why)), 0);
	CHECK_EQ_STR(c.otlp_endpoint, "http://127.0.0.1:4318/v1/metrics");
	CHECK(c.otlp_interval == 2.5);
	CHECK_EQ_INT(agentconf_set(&c, "otlp-endpoint", "https://[::1]:4318/v1/metrics", why, sizeof(why)), 0);
	/* "" is off */
	CHECK_EQ_INT(agentconf_set(&c, "otlp-endpoint", "", why, sizeof(why)), 0);
	CHECK_EQ_STR(c.otlp_endpoint, "");
	CHECK_EQ_INT(agentconf_set(&c, "otlp-endpoint", "ftp://x/", why, sizeof(why)), -1);
	CHECK_EQ_STR(why, "invalid otlp-endpoint 'ftp://x/': give an http:// or https:// URL, e.g. "
		     "http://127.0.0.1:4318/v1/metrics");
	CHECK_EQ_INT(agentconf_set(&c, "otlp-endpoint", "http:///v1", why, sizeof(why)), -1);
	CHECK_EQ_STR(why, "invalid otlp-endpoint 'http:///v1': no host after the scheme");
	CHECK_EQ_INT(agentconf_set(&c, "otlp-endpoint", "http://a b/", why, sizeof(why)), -1);
	CHECK_EQ_INT(agentconf_set(&c, "otlp-endpoint", NULL, why, sizeof(why)), -1);
	CHECK_EQ_STR(why, "otlp-endpoint needs a value");
	CHECK_EQ_INT(agentconf_set(&c, "otlp-interval", "0.01", why, sizeof(why)), -1);
	CHECK_EQ_STR(why, "invalid otlp-interval '0.01': give seconds from 0.1 to 3600");
	CHECK(c.otlp_interval == 2.5);
	agentconf_free(&c);
}

/* An exited target waits for the push too when OTLP is on. */
static void test_exited_kept_for_push(void)
{
	struct metrics *m = metrics_new();
	struct met_target *t = met_target_new(10);

	met_target_add(m, t);
	CHECK(t->start_unix_ns > 0);
	m->otlp = true;
	met_exited(m, t, 100);
	pthread_mutex_lock(&m->mu);
	/* nothing scraped yet, not pushed: kept */
	met_render_done(m, 200, 1000);
	CHECK(m->targets == t);
	/* scraped (served), not pushed: kept */
	m->scrapes = 1;
	t->served = true;
	met_render_done(m, 200, 1000);
	CHECK(m->targets == t);
	/* both: dropped */
	t->pushed = true;
	met_render_done(m, 200, 1000);
	CHECK(m->targets == NULL);
	pthread_mutex_unlock(&m->mu);

	/* pushed, and no one scrapes: dropped */
	t = met_target_new(11);
	met_target_add(m, t);
	met_exited(m, t, 100);
	pthread_mutex_lock(&m->mu);
	m->scrapes = 0;
	t->pushed = true;
	met_render_done(m, 200, 1000);
	CHECK(m->targets == NULL);
	pthread_mutex_unlock(&m->mu);

	/* neither, but too old: dropped */
	t = met_target_new(12);
	met_target_add(m, t);
	met_exited(m, t, 100);
	pthread_mutex_lock(&m->mu);
	met_render_done(m, 1100, 1000);
	CHECK(m->targets == NULL);
	pthread_mutex_unlock(&m->mu);
	metrics_free(m);
}

int main(void)
{
	test_render();
	test_conf();
	test_exited_kept_for_push();
	CHECK_DONE("test_otlp");
}
