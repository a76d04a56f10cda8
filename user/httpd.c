// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's /metrics endpoint, through libmicrohttpd (httpd.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agentconf.h"
#include "common.h"
#include "httpd.h"
#include "prom.h"

struct httpd {
	struct MHD_Daemon *d;
	struct metrics *m;
};

int httpd_listen(const char *listen_addr, char *why, size_t size)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM }, *ai;
	char host[256], port[16];
	int fd, one = 1, e;

	if (agentconf_split_listen(listen_addr, host, sizeof(host), port, sizeof(port), why, size))
		return -1;
	if ((e = getaddrinfo(host, port, &hints, &ai))) {
		snprintf(why, size, "cannot listen on %s: %s", listen_addr, gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, size, "cannot listen on %s: socket: %s", listen_addr, strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		e = errno;
		if (e == EADDRINUSE)
			snprintf(why, size, "cannot listen on %s: the address is in use (another agent or exporter?); "
				 "give another with --listen ADDR:PORT", listen_addr);
		else if (e == EACCES)
			snprintf(why, size, "cannot listen on %s: permission denied (a port below 1024 needs "
				 "CAP_NET_BIND_SERVICE); give a port from 1024 up, e.g. --listen %s:9464",
				 listen_addr, strchr(host, ':') ? "[::1]" : "127.0.0.1");
		else if (e == EADDRNOTAVAIL)
			snprintf(why, size, "cannot listen on %s: no interface of this host has address %s",
				 listen_addr, host);
		else
			snprintf(why, size, "cannot listen on %s: %s", listen_addr, strerror(e));
		close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len,
			     bool must_free)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body,
								 must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static char index_page[] = "gcscope agent: the metrics are at /metrics\n";
	static char not_found[] = "not found: the metrics are at /metrics\n";
	static char not_allowed[] = "only GET and HEAD\n";
	static char oom[] = "out of memory\n";
	struct httpd *h = cls;
	struct prom_self self;
	struct timespec ts;
	const char *accept;
	char *body;
	size_t len;
	bool om;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed, strlen(not_allowed), false);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/plain", index_page, strlen(index_page), false);
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, strlen(not_found), false);
	accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	om = prom_wants_openmetrics(accept);
	prom_self_read(&self);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	body = prom_render(h->m, om, &self, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec, &len);
	if (!body)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", oom, strlen(oom), false);
	return reply(c, MHD_HTTP_OK, om ? PROM_OPENMETRICS_TYPE : PROM_TEXT_TYPE, body, len, true);
}

struct httpd *httpd_start(int fd, struct metrics *m, char *why, size_t size)
{
	struct httpd *h = calloc(1, sizeof(*h));
	sigset_t all, old;

	if (!h) {
		close(fd);
		snprintf(why, size, "out of memory");
		return NULL;
	}
	h->m = m;
	/* the server's thread takes no signals: SIGHUP and SIGTERM reach
	 * the event loop's thread (the mask is inherited) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, handle, h, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)10, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->d) {
		snprintf(why, size, "cannot start the HTTP server (libmicrohttpd)");
		close(fd);
		free(h);
		return NULL;
	}
	return h;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	/* MHD_stop_daemon closes the listening socket it was given */
	MHD_stop_daemon(h->d);
	free(h);
}
