/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's HTTP endpoint: GET /metrics (user/prom.h), served by
 * libmicrohttpd in a thread of its own.  The listening socket is made
 * here, not by libmicrohttpd, so that an address in use or a port without
 * permission is said as such.
 */
#ifndef GCSCOPE_HTTPD_H
#define GCSCOPE_HTTPD_H

#include <stddef.h>

#include "metrics.h"

struct httpd;

/* Bind and listen on ADDR:PORT (agentconf.h's form).  Returns the socket,
 * or -1 with why (one line). */
int httpd_listen(const char *listen, char *why, size_t size);

/* Serve m on socket fd (taken).  NULL with why on failure. */
struct httpd *httpd_start(int fd, struct metrics *m, char *why, size_t size);
void httpd_stop(struct httpd *h);

#endif
