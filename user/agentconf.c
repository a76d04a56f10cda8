// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's configuration: flags and --config lines alike (agentconf.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agentconf.h"
#include "common.h"
#include "patterns.h"

void agentconf_init(struct agentconf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->listen, AGENT_DEFAULT_LISTEN);
	c->scan_interval = 0.5;
	c->otlp_interval = 10;
	/* trace's is 256: BPF wakes the loop at a quarter of the ring, and the
	 * agent's loop does nothing long (attaches are in their own thread),
	 * so 64 KiB lost nothing under the churn workload (~15k collections/s;
	 * 32 KiB neither) and saves 0.4 MiB resident a target (libbpf maps
	 * the ring twice) */
	c->ringbuf_kb = 64;
	c->probe = PROBE_AUTO;
	/* no windows unless asked: a target with them is opened with its
	 * walk's sites (its DWARF read, no plan cache) and its type maps
	 * (about 1 MiB of kernel memory), which the always-on counters need
	 * not */
	c->types_every = 0;
	c->types_window = 1;
	c->budget = 1;
	c->top = 10;
	c->max_objects = 10000;
	c->tier = AGENT_TIER_AUTO;
	/* a 3.15 target keeps its last 11 young collections' records: read
	 * 10 times a second, a target collecting up to ~100 times a second
	 * loses none of their durations (the counters are exact whatever the
	 * interval: they are running totals) */
	c->stats_interval = AGENT_DEFAULT_STATS_INTERVAL;
}

void agentconf_free(struct agentconf *c)
{
	for (int i = 0; i < c->nmatch; i++)
		free(c->match[i]);
	c->nmatch = 0;
	free(c->owners);
	c->owners = NULL;
	free(c->jsonl);
	c->jsonl = NULL;
}

int agentconf_check_url(const char *s, char *why, size_t size)
{
	const char *host;
	size_t hlen;

	if (!strncmp(s, "http://", 7))
		host = s + 7;
	else if (!strncmp(s, "https://", 8))
		host = s + 8;
	else {
		snprintf(why, size, "invalid otlp-endpoint '%s': give an http:// or https:// URL, e.g. "
			 "http://127.0.0.1:4318/v1/metrics", s);
		return -1;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(why, size, "invalid otlp-endpoint: a URL has no spaces or control characters");
			return -1;
		}
	hlen = strcspn(host, "/?#");
	if (!hlen || host[0] == ':' || host[0] == '@') {
		snprintf(why, size, "invalid otlp-endpoint '%s': no host after the scheme", s);
		return -1;
	}
	return 0;
}

int agentconf_split_listen(const char *s, char *host, size_t hsize, char *port, size_t psize, char *why,
			   size_t size)
{
	const char *colon, *h = s;
	size_t hlen;
	long p;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM }, *ai;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			goto bad;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			goto bad;
		hlen = (size_t)(colon - s);
	}
	if (!hlen || hlen >= hsize || !parse_long(colon + 1, 1, 65535, &p))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, psize, "%ld", p);
	if (getaddrinfo(host, port, &hints, &ai)) {
		snprintf(why, size, "invalid listen address '%s': '%s' is not a numeric IPv4 or IPv6 address "
			 "(give e.g. 127.0.0.1:9464, [::1]:9464 or 0.0.0.0:9464)", s, host);
		return -1;
	}
	freeaddrinfo(ai);
	return 0;
bad:
	snprintf(why, size, "invalid listen address '%s': give ADDR:PORT with a port from 1 to 65535, "
		 "e.g. 127.0.0.1:9464 or [::1]:9464", s);
	return -1;
}

static int boolean(const char *key, const char *v, bool *out, char *why, size_t size)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	snprintf(why, size, "invalid %s '%s': give true or false", key, v);
	return -1;
}

int agentconf_set(struct agentconf *c, const char *key, const char *v, char *why, size_t size)
{
	long n;

	if (!strcmp(key, "all"))
		return boolean(key, v, &c->all, why, size);
	if (!strcmp(key, "no-debuginfo"))
		return boolean(key, v, &c->no_debuginfo, why, size);
	if (!strcmp(key, "window-stacks"))
		return boolean(key, v, &c->window_stacks, why, size);
	if (!strcmp(key, "verbose")) {
		bool b;

		if (boolean(key, v, &b, why, size))
			return -1;
		c->verbose = b;
		return 0;
	}
	if (!v) {
		snprintf(why, size, "%s needs a value", key);
		return -1;
	}
	if (!strcmp(key, "pid")) {
		if (!parse_long(v, 1, INT32_MAX, &n)) {
			snprintf(why, size, "invalid pid '%s': give a process id, e.g. pid = 4242", v);
			return -1;
		}
		for (int i = 0; i < c->npids; i++)
			if (c->pids[i] == (pid_t)n)
				return 0;
		if (c->npids == AGENT_MAX_PIDS) {
			snprintf(why, size, "too many pids: at most %d (use match or all)", AGENT_MAX_PIDS);
			return -1;
		}
		c->pids[c->npids++] = (pid_t)n;
		return 0;
	}
	if (!strcmp(key, "match")) {
		if (!v[0]) {
			snprintf(why, size, "empty match: give a glob on the executable or comm, e.g. 'python3*'");
			return -1;
		}
		if (c->nmatch == AGENT_MAX_MATCH) {
			snprintf(why, size, "too many match patterns: at most %d", AGENT_MAX_MATCH);
			return -1;
		}
		c->match[c->nmatch] = strdup(v);
		if (!c->match[c->nmatch]) {
			snprintf(why, size, "out of memory");
			return -1;
		}
		c->nmatch++;
		return 0;
	}
	if (!strcmp(key, "listen")) {
		char host[256], port[16];

		if (strlen(v) >= sizeof(c->listen)) {
			snprintf(why, size, "invalid listen address: too long");
			return -1;
		}
		if (agentconf_split_listen(v, host, sizeof(host), port, sizeof(port), why, size))
			return -1;
		strcpy(c->listen, v);
		return 0;
	}
	if (!strcmp(key, "otlp-endpoint")) {
		if (strlen(v) >= sizeof(c->otlp_endpoint)) {
			snprintf(why, size, "invalid otlp-endpoint: longer than %zu bytes", sizeof(c->otlp_endpoint) - 1);
			return -1;
		}
		/* "" turns the push off (a file's setting, undone by a flag) */
		if (v[0] && agentconf_check_url(v, why, size))
			return -1;
		strcpy(c->otlp_endpoint, v);
		return 0;
	}
	if (!strcmp(key, "otlp-interval")) {
		if (!parse_double(v, 0.1, 3600, &c->otlp_interval)) {
			snprintf(why, size, "invalid otlp-interval '%s': give seconds from 0.1 to 3600", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "scan-interval")) {
		if (!parse_double(v, 0.05, 1.0, &c->scan_interval)) {
			snprintf(why, size, "invalid scan-interval '%s': give seconds from 0.05 to 1", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "ringbuf-kb")) {
		if (!parse_long(v, 4, 1 << 20, &n) || (n & (n - 1))) {
			snprintf(why, size, "invalid ringbuf-kb '%s': give a power of 2 from 4 to 1048576", v);
			return -1;
		}
		c->ringbuf_kb = n;
		return 0;
	}
	if (!strcmp(key, "probe")) {
		if (!strcmp(v, "auto"))
			c->probe = PROBE_AUTO;
		else if (!strcmp(v, "usdt"))
			c->probe = PROBE_USDT;
		else if (!strcmp(v, "uprobe"))
			c->probe = PROBE_UPROBE;
		else {
			snprintf(why, size, "invalid probe '%s': use auto, usdt or uprobe", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "types-every")) {
		if (!parse_double(v, 0, 86400, &c->types_every) || (c->types_every > 0 && c->types_every < 0.1)) {
			snprintf(why, size, "invalid types-every '%s': give seconds from 0.1 to 86400, or 0 for no "
				 "type windows", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "types-window")) {
		if (!parse_double(v, 0.01, 3600, &c->types_window)) {
			snprintf(why, size, "invalid types-window '%s': give seconds from 0.01 to 3600", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "budget")) {
		if (!parse_double(v, 0.001, 100, &c->budget)) {
			snprintf(why, size, "invalid budget '%s': give a percent of each target's time from 0.001 "
				 "to 100, e.g. budget = 1", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "top")) {
		if (!parse_long(v, 1, 100, &c->top)) {
			snprintf(why, size, "invalid top '%s': give a number of types from 1 to 100", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "max-objects")) {
		if (!parse_long(v, 1, 1000000, &c->max_objects)) {
			snprintf(why, size, "invalid max-objects '%s': give a number from 1 to 1000000", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "owners")) {
		char *o;

		char msg[400];

		if (owners_check(v, msg, sizeof(msg))) {
			snprintf(why, size, "invalid owners: %s", msg);
			return -1;
		}
		o = strdup(v);
		if (!o) {
			snprintf(why, size, "out of memory");
			return -1;
		}
		free(c->owners);
		c->owners = o;
		return 0;
	}
	if (!strcmp(key, "tier")) {
		/* "stats": the tier's command is gcscope stats */
		if (!strcmp(v, "auto"))
			c->tier = AGENT_TIER_AUTO;
		else if (!strcmp(v, "bpf"))
			c->tier = AGENT_TIER_BPF;
		else if (!strcmp(v, "memory") || !strcmp(v, "stats"))
			c->tier = AGENT_TIER_MEMORY;
		else {
			snprintf(why, size, "invalid tier '%s': use auto, bpf or memory (also called stats)", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "stats-interval")) {
		if (!parse_double(v, 0.01, 60.0, &c->stats_interval)) {
			snprintf(why, size, "invalid stats-interval '%s': give seconds from 0.01 to 60", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "jsonl")) {
		char *d;

		if (!v[0]) {
			snprintf(why, size, "empty jsonl: give a file, or - for stdout");
			return -1;
		}
		d = strdup(v);
		if (!d) {
			snprintf(why, size, "out of memory");
			return -1;
		}
		free(c->jsonl);
		c->jsonl = d;
		return 0;
	}
	snprintf(why, size, "unknown option '%s' (see gcscope agent --help)", key);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int agentconf_parse(struct agentconf *c, const char *text, const char *name, char *why, size_t size)
{
	const char *line = text;
	int lineno = 0;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[1024], msg[512], *s, *key, *val = NULL, *hash;

		lineno++;
		if (len >= sizeof(buf)) {
			snprintf(why, size, "%s:%d: line too long (at most %zu bytes)", name, lineno, sizeof(buf) - 1);
			return EXIT_USAGE;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl ? nl + 1 : NULL;
		if (memchr(buf, '\0', len)) {
			snprintf(why, size, "%s:%d: a NUL byte: not a text file", name, lineno);
			return EXIT_USAGE;
		}
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		s = trim(buf);
		if (!*s)
			continue;
		key = s;
		s += strcspn(s, " \t=");
		if (*s) {
			*s++ = '\0';
			val = trim(s);
			if (*val == '=')
				val = trim(val + 1);
			if (!*val)
				val = NULL;
		}
		/* a value in quotes: a glob with spaces */
		if (val && (val[0] == '"' || val[0] == '\'') && strlen(val) >= 2 && val[strlen(val) - 1] == val[0]) {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		if (agentconf_set(c, key, val, msg, sizeof(msg))) {
			char clean[600];

			tty_clean(msg, clean, sizeof(clean));
			snprintf(why, size, "%s:%d: %s", name, lineno, clean);
			return EXIT_USAGE;
		}
	}
	return 0;
}

int agentconf_load(struct agentconf *c, const char *path, char *why, size_t size)
{
	FILE *f = fopen(path, "re");
	char *text;
	size_t n;
	int code;

	if (!f) {
		snprintf(why, size, "cannot read --config '%s': %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	/* a configuration is small: refuse a file past 1 MiB */
	text = malloc((1 << 20) + 1);
	if (!text) {
		fclose(f);
		snprintf(why, size, "out of memory");
		return EXIT_FAILURE_INTERNAL;
	}
	n = fread(text, 1, 1 << 20, f);
	if (ferror(f) || (n == 1 << 20 && fgetc(f) != EOF)) {
		snprintf(why, size, "cannot read --config '%s': %s", path, ferror(f) ? strerror(errno) : "larger than 1 MiB");
		fclose(f);
		free(text);
		return EXIT_USAGE;
	}
	fclose(f);
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		snprintf(why, size, "%s: a NUL byte: not a text file", path);
		free(text);
		return EXIT_USAGE;
	}
	code = agentconf_parse(c, text, path, why, size);
	free(text);
	return code;
}
