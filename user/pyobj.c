// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"
#include "pylayout.h"
#include "pyobj.h"
#include "pystack.h"

#define DICT_SCAN_MAX 4096	/* entries of one dict looked at, at most */

static uint64_t rd_ptr(const struct pyobj_reader *r, uint64_t addr, bool *ok)
{
	uint64_t v = 0;

	if (!addr || procmem_read(r->pid, addr, &v, sizeof(v)))
		*ok = false;
	return v;
}

static bool known(const struct pyobj_reader *r, enum pyl_field f)
{
	return pyl_known(r->l, f);
}

/* A keys table: where its n entries are, and where key and value sit in
 * one (Objects/dictobject.c: 3.9/3.10 PyDictKeyEntry with a hash; 3.11+
 * PyDictUnicodeEntry {me_key, me_value} for str-keyed tables). */
struct dk {
	uint64_t entries, n;
	uint64_t esize, koff, voff;
};

static bool keys_of(const struct pyobj_reader *r, uint64_t keys, struct dk *k)
{
	const struct pylayout *l = r->l;
	bool ok = true;
	uint64_t ibytes;

	if (!keys || !known(r, PYL_DICTKEYS_DK_NENTRIES) || !known(r, PYL_DICTKEYS_DK_INDICES) ||
	    !known(r, PYL_DICTENTRY_SIZEOF) || !known(r, PYL_DICTENTRY_ME_KEY) || !known(r, PYL_DICTENTRY_ME_VALUE))
		return false;
	k->n = rd_ptr(r, keys + pyl(l, PYL_DICTKEYS_DK_NENTRIES), &ok);
	k->esize = pyl(l, PYL_DICTENTRY_SIZEOF);
	k->koff = pyl(l, PYL_DICTENTRY_ME_KEY);
	k->voff = pyl(l, PYL_DICTENTRY_ME_VALUE);
	if (!ok || k->n > DICT_SCAN_MAX)
		return false;
	if (known(r, PYL_DICTKEYS_DK_SIZE)) {
		/* 3.9/3.10: the index width follows the table size */
		uint64_t size = rd_ptr(r, keys + pyl(l, PYL_DICTKEYS_DK_SIZE), &ok);

		if (!ok || size > (1 << 20))
			return false;
		ibytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : 4);
	} else if (known(r, PYL_DICTKEYS_DK_LOG2_SIZE) && known(r, PYL_DICTUENTRY_SIZEOF)) {
		uint8_t b[3];	/* dk_log2_size, dk_log2_index_bytes, dk_kind */

		if (procmem_read(r->pid, keys + pyl(l, PYL_DICTKEYS_DK_LOG2_SIZE), b, sizeof(b)) || b[1] > 24)
			return false;
		ibytes = 1ULL << b[1];
		if (b[2] != 0) {	/* unicode keys: {me_key, me_value} */
			k->esize = pyl(l, PYL_DICTUENTRY_SIZEOF);
			k->koff = 0;
			k->voff = 8;
		}
	} else {
		return false;
	}
	/* the sizes come from DWARF, which the target's owner wrote: an entry
	 * is 2 or 3 pointers, and both fields are inside it */
	if (k->esize < 16 || k->esize > 64 || k->koff > k->esize - 8 || k->voff > k->esize - 8)
		return false;
	k->entries = keys + pyl(l, PYL_DICTKEYS_DK_INDICES) + ibytes;
	return true;
}

/* The entries of a keys table, values from the entries (values == 0) or,
 * for a split table, from the array at values. */
static int table_items(const struct pyobj_reader *r, uint64_t keys, uint64_t values, int max, pyobj_item_fn fn,
		       void *ctx)
{
	struct dk k;
	uint8_t *ent = NULL;
	uint64_t *vals = NULL;
	int seen = -1;

	if (!keys_of(r, keys, &k))
		return -1;
	if (k.n > (uint64_t)max)
		k.n = (uint64_t)max;
	ent = malloc(k.n * k.esize + 1);
	vals = values ? malloc(k.n * sizeof(*vals) + 1) : NULL;
	if (!ent || (values && !vals) || procmem_read(r->pid, k.entries, ent, k.n * k.esize) ||
	    (values && procmem_read(r->pid, values, vals, k.n * sizeof(*vals))))
		goto out;
	seen = 0;
	for (uint64_t i = 0; i < k.n; i++) {
		uint64_t key, v;

		memcpy(&key, ent + i * k.esize + k.koff, 8);
		if (values)
			v = vals[i];
		else
			memcpy(&v, ent + i * k.esize + k.voff, 8);
		if (!key || !v)
			continue;	/* a deleted entry, or no value in this split table */
		seen++;
		if (!fn(ctx, key, v))
			break;
	}
out:
	free(ent);
	free(vals);
	return seen;
}

/* A split table's values array from a PyDictValues pointer (3.11+), or
 * the PyObject ** of 3.9/3.10. */
static uint64_t values_array(const struct pyobj_reader *r, uint64_t values)
{
	return values + (known(r, PYL_DICTVALUES_VALUES) ? (uint64_t)pyl(r->l, PYL_DICTVALUES_VALUES) : 0);
}

int pyobj_dict_items(const struct pyobj_reader *r, uint64_t dict, int max, pyobj_item_fn fn, void *ctx)
{
	bool ok = true;
	uint64_t keys, values;

	if (!dict || !known(r, PYL_DICT_MA_KEYS) || !known(r, PYL_DICT_MA_VALUES))
		return -1;
	keys = rd_ptr(r, dict + pyl(r->l, PYL_DICT_MA_KEYS), &ok);
	values = rd_ptr(r, dict + pyl(r->l, PYL_DICT_MA_VALUES), &ok);
	if (!ok)
		return -1;
	return table_items(r, keys, values ? values_array(r, values) : 0, max, fn, ctx);
}

struct find {
	const struct pyobj_reader *r;
	const char *key;
	uint64_t value;
};

static bool find_key(void *ctx, uint64_t key, uint64_t value)
{
	struct find *f = ctx;
	char *s = pystack_read_str(f->r->strs, key);
	bool match = s && !strcmp(s, f->key);

	free(s);
	if (match)
		f->value = value;
	return !match;
}

uint64_t pyobj_dict_get(const struct pyobj_reader *r, uint64_t dict, const char *key)
{
	struct find f = { .r = r, .key = key };

	if (r->strs)
		pyobj_dict_items(r, dict, DICT_SCAN_MAX, find_key, &f);
	return f.value;
}

char *pyobj_dict_get_str(const struct pyobj_reader *r, uint64_t dict, const char *key)
{
	uint64_t v = pyobj_dict_get(r, dict, key);

	return v ? pystack_read_str(r->strs, v) : NULL;
}

/* name in a split table: the type's shared keys, this object's values. */
static uint64_t split_get(const struct pyobj_reader *r, uint64_t type, uint64_t values, const char *name)
{
	struct find f = { .r = r, .key = name };
	bool ok = true;
	uint64_t keys;

	if (!known(r, PYL_HEAPTYPE_HT_CACHED_KEYS))
		return 0;
	keys = rd_ptr(r, type + pyl(r->l, PYL_HEAPTYPE_HT_CACHED_KEYS), &ok);
	if (ok && keys && values)
		table_items(r, keys, values_array(r, values), DICT_SCAN_MAX, find_key, &f);
	return f.value;
}

uint64_t pyobj_getattr(const struct pyobj_reader *r, uint64_t obj, const char *name)
{
	const struct pylayout *l = r->l;
	bool ok = true;
	uint64_t type, flags, d;

	if (!r->strs || !known(r, PYL_OBJECT_OB_TYPE) || !known(r, PYL_TYPE_TP_FLAGS))
		return 0;
	type = rd_ptr(r, obj + pyl(l, PYL_OBJECT_OB_TYPE), &ok);
	flags = rd_ptr(r, type + pyl(l, PYL_TYPE_TP_FLAGS), &ok);
	if (!ok)
		return 0;
	if (!known(r, PYL_TPFLAGS_MANAGED_DICT) || !(flags & (uint64_t)pyl(l, PYL_TPFLAGS_MANAGED_DICT))) {
		/* 3.9/3.10, and types without a managed dict: tp_dictoffset */
		int64_t off;

		if (!known(r, PYL_TYPE_TP_DICTOFFSET))
			return 0;
		off = (int64_t)rd_ptr(r, type + pyl(l, PYL_TYPE_TP_DICTOFFSET), &ok);
		/* negative: counted from the end of a variable-size object */
		if (!ok || off <= 0 || off >= PYL_RULE_MAX_OFFSET)
			return 0;
		d = rd_ptr(r, obj + (uint64_t)off, &ok);
		return ok && d ? pyobj_dict_get(r, d, name) : 0;
	}
	if (!known(r, PYL_OBJECT_MANAGED_DICT_BEFORE))
		return 0;
	d = rd_ptr(r, obj - (uint64_t)pyl(l, PYL_OBJECT_MANAGED_DICT_BEFORE), &ok);
	if (!ok)
		return 0;
	if (known(r, PYL_OBJECT_DICT_OR_VALUES_TAG)) {
		/* 3.12: one PyDictOrValues: a dict, or the values pointer less 1
		 * (odd, values being aligned), which _PyDictOrValues_GetValues()
		 * adds back (Include/internal/pycore_object.h, 3.12) */
		uint64_t tag = (uint64_t)pyl(l, PYL_OBJECT_DICT_OR_VALUES_TAG);

		if (d & tag)
			return split_get(r, type, d + tag, name);
		return d ? pyobj_dict_get(r, d, name) : 0;
	}
	if (d)
		return pyobj_dict_get(r, d, name);
	if (known(r, PYL_OBJECT_VALUES_BEFORE)) {
		/* 3.11: no dict made yet, the values apart */
		uint64_t v = rd_ptr(r, obj - (uint64_t)pyl(l, PYL_OBJECT_VALUES_BEFORE), &ok);

		return ok && v ? split_get(r, type, v, name) : 0;
	}
	if (known(r, PYL_TPFLAGS_INLINE_VALUES) && (flags & (uint64_t)pyl(l, PYL_TPFLAGS_INLINE_VALUES)) &&
	    known(r, PYL_TYPE_TP_BASICSIZE)) {
		/* 3.13+: inline values after the object, if still valid */
		uint64_t size = rd_ptr(r, type + pyl(l, PYL_TYPE_TP_BASICSIZE), &ok);
		uint8_t hdr[4];		/* capacity, size, embedded, valid */

		if (!ok || size < 16 || size >= PYL_RULE_MAX_OFFSET ||
		    procmem_read(r->pid, obj + size, hdr, sizeof(hdr)) || !hdr[3])
			return 0;
		return split_get(r, type, obj + size, name);
	}
	return 0;
}

bool pyobj_long(const struct pyobj_reader *r, uint64_t addr, int64_t *out)
{
	const struct pylayout *l = r->l;
	uint32_t digit[3];
	uint64_t nd, v = 0;
	bool neg, ok = true;

	if (!known(r, PYL_LONG_OB_DIGIT))
		return false;
	if (known(r, PYL_LONG_LV_TAG)) {
		/* 3.12+: lv_tag = ndigits << 3 | sign (0 +, 1 zero, 2 -) */
		uint64_t tag = rd_ptr(r, addr + pyl(l, PYL_LONG_LV_TAG), &ok);

		nd = tag >> 3;
		neg = (tag & 3) == 2;
		if ((tag & 3) == 1)
			nd = 0;
	} else {
		int64_t size = (int64_t)rd_ptr(r, addr + pyl(l, PYL_VAROBJECT_OB_SIZE), &ok);

		neg = size < 0;
		nd = size < 0 ? (uint64_t)0 - (uint64_t)size : (uint64_t)size;
	}
	if (!ok || nd > 3 || (nd && procmem_read(r->pid, addr + pyl(l, PYL_LONG_OB_DIGIT), digit, nd * 4)))
		return false;
	for (uint64_t i = nd; i-- > 0;) {
		/* 30-bit digits (PYLONG_BITS_IN_DIGIT on 64-bit builds) */
		if (digit[i] >> 30 || v >> 33)
			return false;
		v = v << 30 | digit[i];
	}
	if (v >> 63)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}
