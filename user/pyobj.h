/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Reading Python objects of a target from outside: dicts (combined and
 * split tables), an instance's attributes (its __dict__, managed dict or
 * inline values), ints.  Layout from the target's struct pylayout
 * (user/pylayout.tsv); every read is bounded and every value untrusted: a
 * lookup that meets anything odd finds nothing.
 */
#ifndef GCSCOPE_PYOBJ_H
#define GCSCOPE_PYOBJ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pylayout.h"

struct pystack;

struct pyobj_reader {
	pid_t pid;
	const struct pylayout *l;
	struct pystack *strs;		/* reads str objects (user/pystack.h) */
};

/* Each (key, value) of a dict of the target, at most max entries, in
 * order; fn returns false to stop.  Returns the entries seen, or -1 when
 * the dict cannot be read. */
typedef bool (*pyobj_item_fn)(void *ctx, uint64_t key, uint64_t value);
int pyobj_dict_items(const struct pyobj_reader *r, uint64_t dict, int max, pyobj_item_fn fn, void *ctx);

/* The value of str key `key` in a dict, or 0. */
uint64_t pyobj_dict_get(const struct pyobj_reader *r, uint64_t dict, const char *key);
/* The same, as a new UTF-8 string (the value must be a str), or NULL. */
char *pyobj_dict_get_str(const struct pyobj_reader *r, uint64_t dict, const char *key);

/* Instance attribute `name` of obj (from its __dict__, managed dict or
 * inline values: not descriptors, not class attributes), or 0. */
uint64_t pyobj_getattr(const struct pyobj_reader *r, uint64_t obj, const char *name);

/* An int object's value, if it fits in 63 bits. */
bool pyobj_long(const struct pyobj_reader *r, uint64_t addr, int64_t *out);

#endif
