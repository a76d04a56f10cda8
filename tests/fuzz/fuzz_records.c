// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The ring-buffer record handlers of trace: GCSCOPE_EV_STACK
 * (pystack_stash, then the symbolizer at the collection), GCSCOPE_EV_TYPES,
 * _FINDING, _TYPE_NAME, _NEW_TYPE (user/objects.c) and the collection that
 * takes them, dispatched as trace.c's handle_event() does, and printed in
 * text and JSON.  The records are BPF's, but what they carry was read from
 * the target (addresses, counts, names), and the symbolizer then reads the
 * target's memory at those addresses.
 *
 * The target's memory is part of the input: this file defines
 * procmem_read() (instead of user/procmaps.c) to read from that image, so
 * the str, bytes, code object, dict and MRO readers see hostile memory.
 *
 * Input: 1 byte version (a column of the layout table), 1 byte options
 * (bits 0-1: --owners patterns, 2-5: --top, 7: the layout is overridden
 * by a _Py_DebugOffsets at the start of the image, as target.c does for
 * 3.13+), 2 bytes image size, the image (mapped at FUZZ_BASE), then
 * records, each 2 bytes size and its bytes.
 *
 * Written against the decoders of user/pystack.c and user/objects.c; the
 * pipeline that replaces trace.c's dispatch (user/correlate.c,
 * correlator_feed()) is not on main yet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "common.h"
#include "fuzz.h"
#include "gcscope.h"
#include "objects.h"
#include "procmaps.h"
#include "pystack.h"
#include "target.h"

#define FUZZ_BASE 0x10000ULL
#define FUZZ_PID 4242

static const uint8_t *image;
static size_t image_len;

int procmem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	FUZZ_ASSERT(pid == FUZZ_PID);
	/* as process_vm_readv(): all of it or a fault */
	if (addr < FUZZ_BASE || addr - FUZZ_BASE > image_len || len > image_len - (addr - FUZZ_BASE))
		return -EFAULT;
	memcpy(buf, image + (addr - FUZZ_BASE), len);
	return 0;
}

static FILE *out;

static void on_collection(struct pystack *ps, struct objtrack *ot, const struct gcscope_collection *e)
{
	const struct pystack_result *stack = NULL;
	struct objcoll *oc = NULL;
	char name[GCSCOPE_COMM_LEN + 1];
	struct jw w;

	if (ps)
		stack = pystack_take(ps, e->tid, e->ts_start);
	if (ot)
		oc = objtrack_take(ot, e->tid, e->ts_start);
	memcpy(name, e->comm, GCSCOPE_COMM_LEN);
	name[GCSCOPE_COMM_LEN] = '\0';
	tty_clean(name, name, sizeof(name));
	jw_init(&w, out);
	jw_obj_begin(&w);
	if (ps) {
		pystack_print_text(stack, out);
		pystack_print_json(stack, &w);
	}
	if (ot) {
		for (size_t i = 0; i < objtrack_nfindings(oc); i++)
			fprintf(out, "%s\n", objtrack_type_name(ot, oc->findings[i].owner.pytype));
		objtrack_print_text(ot, oc, e->collected, out);
		objtrack_json_fields(ot, oc, &w);
		objtrack_done(ot, oc, e->gen, name);
	}
	jw_obj_end(&w);
	jw_line(&w);
}

/* handle_event() of user/trace.c, less the statistics and the lines. */
static void dispatch(struct pystack *ps, struct objtrack *ot, const void *data, size_t size)
{
	uint32_t type;

	if (size < sizeof(type))
		return;
	memcpy(&type, data, sizeof(type));
	if (type == GCSCOPE_EV_STACK) {
		if (ps)
			pystack_stash(ps, data, size);
	} else if (ot && type == GCSCOPE_EV_TYPES && size >= sizeof(struct gcscope_types)) {
		objtrack_on_types(ot, data);
	} else if (ot && type == GCSCOPE_EV_FINDING && size >= sizeof(struct gcscope_finding)) {
		const struct gcscope_finding *f = data;

		objtrack_on_finding(ot, f);
		if (ps)
			pystack_resolve(ps, f->tid, f->ts_start);
	} else if (ot && type == GCSCOPE_EV_TYPE_NAME && size >= sizeof(struct gcscope_type_name)) {
		objtrack_on_type_name(ot, data);
	} else if (ot && type == GCSCOPE_EV_NEW_TYPE && size >= sizeof(struct gcscope_new_type)) {
		objtrack_on_new_type(ot, data, -1);	/* no map: the update fails, as it may */
	} else if (type == GCSCOPE_EV_COLLECTION && size >= sizeof(struct gcscope_collection)) {
		on_collection(ps, ot, data);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const owners[4] = { NULL, "Q*,myapp.*", "@heap", "*Widget*,@heap" };
	static struct pytarget t;	/* large: off the stack */
	struct fin in = { data, size };
	struct pystack *ps;
	struct objtrack *ot;
	char why[256];
	uint8_t opt;

	/* FUZZ_RECORDS_SHOW=1: print what the records came to (for seeds) */
	if (!out && !(out = getenv("FUZZ_RECORDS_SHOW") ? stdout : fopen("/dev/null", "w")))
		abort();
	memset(&t, 0, sizeof(t));
	t.elf.fd = -1;		/* no ELF: no type checks by address, the harder case */
	t.pid = FUZZ_PID;
	t.version = pyl_columns[fin_u8(&in) % PYL_NCOLS];
	opt = fin_u8(&in);
	pylayout_init(&t.layout, t.version);
	t.layout_ok = true;
	image_len = fin_u16(&in);
	if (image_len > in.n)
		image_len = in.n;
	image = in.p;
	in.p += image_len;
	in.n -= image_len;
	if (opt & 0x80)
		pylayout_apply_debug_offsets(&t.layout, image, image_len);

	ps = pystack_new(&t, why, sizeof(why));
	ot = objtrack_new(&t, owners[opt & 3], 1 + ((opt >> 2) & 15), why, sizeof(why));
	while (in.n >= 2) {
		size_t len = fin_u16(&in);
		void *rec;

		if (len > in.n)
			len = in.n;
		/* exactly size bytes, as the ring buffer hands them: a read past
		 * the record is an ASan report */
		rec = malloc(len ? len : 1);
		if (!rec)
			abort();
		memcpy(rec, in.p, len);
		in.p += len;
		in.n -= len;
		dispatch(ps, ot, rec, len);
		free(rec);
	}
	if (ot) {
		struct jw w;

		objtrack_summary_text(ot, out);
		jw_init(&w, out);
		jw_obj_begin(&w);
		objtrack_summary_json(ot, &w);
		jw_obj_end(&w);
		jw_line(&w);
	}
	objtrack_free(ot);
	pystack_free(ps);
	return 0;
}
