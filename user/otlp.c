// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's OTLP/HTTP push (otlp.h). */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "otlp.h"
#include "otlp_json.h"

/* A push waits at most this long for the receiver (or the interval, if
 * shorter); the last one, at exit, less. */
#define PUSH_TIMEOUT_MS 10000L
#define LAST_PUSH_TIMEOUT_MS 2000L

struct otlp {
	char *url;
	long interval_ms;
	struct metrics *m;
	CURL *curl;
	struct curl_slist *headers;
	char host[256];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	/* a push in flight gives up (libcurl's progress callback): a reload
	 * or the exit does not wait for a slow receiver */
	volatile bool abort_push;
	bool last_push;			/* one more push after the stop */
	int last_reason;		/* -1: the last push worked */
	uint64_t failed_in_row;
};

static uint64_t unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const struct otlp *o = ctx;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return __atomic_load_n(&o->abort_push, __ATOMIC_RELAXED);
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* Copies of the targets' series under the lock: the render and the
 * network run without it.  *exited: the pointers of the exited ones. */
static struct met_target *snapshot(struct metrics *m, int *n, struct met_target ***exited, int *nexited)
{
	struct met_target *ts = NULL, **ex = NULL;
	int count = 0, i = 0, e = 0;

	pthread_mutex_lock(&m->mu);
	for (struct met_target *t = m->targets; t; t = t->next)
		count++;
	if (count) {
		ts = malloc((size_t)count * sizeof(*ts));
		ex = malloc((size_t)count * sizeof(*ex));
	}
	if (count && (!ts || !ex)) {
		free(ts);
		free(ex);
		pthread_mutex_unlock(&m->mu);
		*n = -1;
		return NULL;
	}
	for (struct met_target *t = m->targets; t; t = t->next) {
		ts[i] = *t;
		ts[i++].next = NULL;
		if (t->state == MET_EXITED)
			ex[e++] = t;
	}
	pthread_mutex_unlock(&m->mu);
	*n = count;
	*exited = ex;
	*nexited = e;
	return ts;
}

static enum met_push_reason reason_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
		return MET_P_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return MET_P_TIMEOUT;
	default:
		return MET_P_OTHER;
	}
}

static void push(struct otlp *o, long timeout_ms)
{
	struct met_target *ts, **exited = NULL;
	int n, nexited = 0;
	char *body = NULL, errbuf[CURL_ERROR_SIZE] = "", what[CURL_ERROR_SIZE + 64];
	size_t len = 0;
	long status = 0;
	CURLcode rc;
	int reason = -1;

	ts = snapshot(o->m, &n, &exited, &nexited);
	if (n >= 0)
		body = otlp_render(ts, n, o->host, unix_ns(), &len);
	free(ts);
	if (!body) {
		reason = MET_P_OTHER;
		snprintf(what, sizeof(what), "out of memory");
		goto count;
	}
	curl_easy_setopt(o->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(o->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(o->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(o->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(o->curl, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(o->curl);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		/* given up at a stop (otlp_stop): not a push, not a failure */
		free(body);
		free(exited);
		return;
	}
	if (rc != CURLE_OK) {
		reason = reason_of(rc);
		snprintf(what, sizeof(what), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(o->curl, CURLINFO_RESPONSE_CODE, &status);
		/* OTLP/HTTP: 200 is success; any 2xx is taken as one */
		if (status < 200 || status > 299) {
			reason = MET_P_HTTP;
			snprintf(what, sizeof(what), "the receiver answered HTTP %ld", status);
		}
	}
count:
	free(body);
	pthread_mutex_lock(&o->m->mu);
	if (reason < 0) {
		o->m->otlp_pushes++;
		/* the exited targets this push had: their final values are out */
		for (int i = 0; i < nexited; i++)
			for (struct met_target *t = o->m->targets; t; t = t->next)
				if (t == exited[i] && t->state == MET_EXITED)
					t->pushed = true;
	} else {
		o->m->otlp_failures[reason]++;
	}
	pthread_mutex_unlock(&o->m->mu);
	free(exited);
	/* one line when pushes start failing, or fail for another reason,
	 * and one when they work again: not one a push */
	if (reason >= 0) {
		o->failed_in_row++;
		if (reason != o->last_reason)
			p_warn("OTLP push to %s failed (%s): %s; the agent goes on and retries every %.1f s",
			       o->url, met_push_reason_name[reason], what, o->interval_ms / 1000.0);
	} else if (o->last_reason >= 0) {
		p_info("OTLP push to %s works again, after %llu failed", o->url, (unsigned long long)o->failed_in_row);
		o->failed_in_row = 0;
	}
	o->last_reason = reason;
}

static void *run(void *arg)
{
	struct otlp *o = arg;
	long timeout = o->interval_ms < PUSH_TIMEOUT_MS ? o->interval_ms : PUSH_TIMEOUT_MS;

	pthread_mutex_lock(&o->mu);
	while (!o->stop) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += o->interval_ms / 1000;
		until.tv_nsec += (o->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!o->stop && pthread_cond_timedwait(&o->cv, &o->mu, &until) != ETIMEDOUT)
			;
		if (o->stop)
			break;
		pthread_mutex_unlock(&o->mu);
		push(o, timeout);
		pthread_mutex_lock(&o->mu);
	}
	pthread_mutex_unlock(&o->mu);
	/* the final values of every target, once more */
	if (o->last_push) {
		__atomic_store_n(&o->abort_push, false, __ATOMIC_RELAXED);
		push(o, LAST_PUSH_TIMEOUT_MS < timeout ? LAST_PUSH_TIMEOUT_MS : timeout);
	}
	return NULL;
}

static void otlp_free(struct otlp *o)
{
	if (!o)
		return;
	curl_slist_free_all(o->headers);
	if (o->curl)
		curl_easy_cleanup(o->curl);
	free(o->url);
	free(o);
}

int otlp_check_url(const char *url, char *why, size_t size)
{
	/* the whole URL as libcurl will take it (agentconf.c checked only
	 * its scheme and host) */
	CURLU *u = curl_url();
	CURLUcode uc = u ? curl_url_set(u, CURLUPART_URL, url, 0) : CURLUE_OUT_OF_MEMORY;

	curl_url_cleanup(u);
	if (uc == CURLUE_OK)
		return 0;
	snprintf(why, size, "invalid otlp-endpoint '%s': %s; give e.g. http://127.0.0.1:4318/v1/metrics", url,
		 curl_url_strerror(uc));
	return -1;
}

struct otlp *otlp_start(const char *url, double interval_s, struct metrics *m, char *why, size_t size)
{
	struct otlp *o = calloc(1, sizeof(*o));
	pthread_condattr_t ca;

	if (!o || !(o->url = strdup(url))) {
		free(o);
		snprintf(why, size, "out of memory");
		return NULL;
	}
	if (otlp_check_url(url, why, size)) {
		otlp_free(o);
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(o->curl = curl_easy_init())) {
		snprintf(why, size, "cannot start libcurl");
		otlp_free(o);
		return NULL;
	}
	o->interval_ms = (long)(interval_s * 1000);
	o->m = m;
	o->last_reason = -1;
	if (gethostname(o->host, sizeof(o->host) - 1))
		o->host[0] = '\0';
	/* exactly "application/json": Prometheus's receiver compares the
	 * whole header (storage/remote/write_handler.go) */
	o->headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(o->curl, CURLOPT_URL, url);
	curl_easy_setopt(o->curl, CURLOPT_HTTPHEADER, o->headers);
	/* no SIGALRM from a thread (name resolution timeouts) */
	curl_easy_setopt(o->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(o->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(o->curl, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(o->curl, CURLOPT_XFERINFODATA, o);
	curl_easy_setopt(o->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(o->curl, CURLOPT_USERAGENT, "gcscope-agent");
	curl_easy_setopt(o->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	pthread_mutex_init(&o->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&m->mu);
	m->otlp = true;
	pthread_mutex_unlock(&m->mu);
	if (pthread_create(&o->thread, NULL, run, o)) {
		snprintf(why, size, "cannot start the OTLP thread: %s", strerror(errno));
		pthread_mutex_lock(&m->mu);
		m->otlp = false;
		pthread_mutex_unlock(&m->mu);
		otlp_free(o);
		return NULL;
	}
	return o;
}

void otlp_stop(struct otlp *o, bool last_push)
{
	if (!o)
		return;
	__atomic_store_n(&o->abort_push, true, __ATOMIC_RELAXED);
	pthread_mutex_lock(&o->mu);
	o->stop = true;
	o->last_push = last_push;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
	pthread_join(o->thread, NULL);
	pthread_mutex_lock(&o->m->mu);
	o->m->otlp = false;
	pthread_mutex_unlock(&o->m->mu);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	otlp_free(o);
	curl_global_cleanup();
}
