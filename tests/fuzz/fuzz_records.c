// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The ring-buffer record handlers of trace: every record through
 * correlator_feed() (user/correlate.c), as the tracer feeds them, with the
 * symbolizer (pystack_stash/resolve/take), --types/--owners
 * (objtrack_on_*, the type name, dict and MRO readers), Python thread
 * names (user/pythreads.c, user/pyobj.c: threading._active from
 * _PyRuntime, which is the start of the image), the summary, and the text
 * and JSON sinks behind it.  The records are BPF's, but what
 * they carry was read from the target (addresses, counts, names), and the
 * symbolizer then reads the target's memory at those addresses.
 *
 * The target's memory is part of the input: this file defines
 * procmem_read() (instead of user/procmaps.c) to read from that image.
 *
 * Input: 1 byte version (a column of the layout table), 1 byte options
 * (bits 0-1: --owners patterns, 2-5: --top, 6: JSON sink, else text,
 * 7: the layout is overridden by a _Py_DebugOffsets at the start of the
 * image, as target.c does for 3.13+), 1 byte --min-ms, 2 bytes image
 * size, the image (mapped at FUZZ_BASE), then records, each 2 bytes size
 * and its bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "common.h"
#include "correlate.h"
#include "fuzz.h"
#include "gcscope.h"
#include "jsoncheck.h"
#include "objects.h"
#include "procmaps.h"
#include "pystack.h"
#include "pythreads.h"
#include "sink.h"
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

/* The target's maps: none in a fuzzed image (Qt is never found, the fatal
 * record's native frames name no file), as for a target that exited. */
int procmaps_read(struct procmaps *pm, pid_t pid)
{
	(void)pid;
	memset(pm, 0, sizeof(*pm));
	return -ESRCH;
}

void procmaps_free(struct procmaps *pm)
{
	(void)pm;
}

int procmaps_open_path(const struct procmaps *pm, const struct mapping *m, char *out, size_t size)
{
	(void)pm;
	(void)m;
	(void)out;
	(void)size;
	return -ENOENT;
}

static FILE *out;
static uint64_t verdicts;

static void set_verdict(void *ctx, uint64_t type, uint32_t verdict)
{
	(void)ctx;
	(void)type;
	FUZZ_ASSERT(verdict == GCSCOPE_VERDICT_WATCH || verdict == GCSCOPE_VERDICT_IGNORE);
	verdicts++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const owners[4] = { NULL, "Q*,myapp.*", "@heap", "*Widget*,@heap" };
	static struct pytarget t;	/* large: off the stack */
	struct fin in = { data, size };
	struct sinks sinks = { .n = 0 };
	struct sink_config cfg;
	struct correlator *c;
	struct pystack *ps;
	struct objtrack *ot;
	struct pythreads *pt;
	struct gc_end end = { .reason = "fuzz" };
	char *jbuf = NULL;
	size_t jlen = 0;
	FILE *jf = NULL;
	double min_ms;
	char why[256];
	uint8_t opt;
	uint64_t fed = 0, bad;

	/* FUZZ_RECORDS_SHOW=1: print what the records came to (for seeds) */
	if (!out && !(out = getenv("FUZZ_RECORDS_SHOW") ? stdout : fopen("/dev/null", "w")))
		abort();
	memset(&t, 0, sizeof(t));
	t.elf.fd = -1;		/* no ELF: no type checks by address, the harder case */
	t.symelf.fd = -1;
	t.pid = FUZZ_PID;
	t.runtime_addr = FUZZ_BASE;
	t.version = pyl_columns[fin_u8(&in) % PYL_NCOLS];
	opt = fin_u8(&in);
	min_ms = fin_u8(&in) / 16.0;
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

	/* the JSON sink writes to memory, to be checked line by line */
	if ((opt & 0x40) && !(jf = open_memstream(&jbuf, &jlen)))
		abort();
	cfg = (struct sink_config){ .out = jf ? jf : out, .top = 1 + ((opt >> 2) & 15) };
	if (sinks_add(&sinks, opt & 0x40 ? sink_json_new(&cfg) : sink_text_new(&cfg)))
		abort();
	/* as the tracer makes them: a symbolizer for --stack and --owners */
	ps = pystack_new(&t, why, sizeof(why));
	ot = objtrack_new(&t, owners[opt & 3], cfg.top, why, sizeof(why));
	pt = pythreads_new(&t, why, sizeof(why));
	c = correlator_new(&(struct correlator_config){ .min_ns = (uint64_t)(min_ms * 1e6), .min_ms = min_ms,
							.show_stack = ps != NULL, .ps = ps, .ot = ot, .pt = pt,
							.set_verdict = set_verdict },
			   &sinks);
	if (!c)
		abort();
	sinks_attach(&sinks, &(struct gc_attach){ .pid = FUZZ_PID, .comm = "python3", .python = "3.x",
						  .version_source = "fuzz", .binary = "/usr/bin/python3",
						  .root = "/", .probe = "usdt", .probe_detail = "fuzz",
						  .counts = true, .stack_requested = true, .stacks = ps != NULL });
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
		correlator_feed(c, rec, len);
		fed++;
		free(rec);
	}
	bad = correlator_bad_records(c);
	FUZZ_ASSERT(bad <= fed);
	correlator_end(c, &end);
	correlator_free(c);
	sinks_free(&sinks);
	objtrack_free(ot);
	pythreads_free(pt);
	pystack_free(ps);
	if (jf) {
		const char *p;

		fclose(jf);
		/* JSON Lines: every line one valid value, whatever the target said */
		for (p = jbuf; p < jbuf + jlen;) {
			const char *nl = memchr(p, '\n', jbuf + jlen - p);

			FUZZ_ASSERT(nl && json_line_valid(p, nl));
			p = nl + 1;
		}
		if (out == stdout)
			fwrite(jbuf, 1, jlen, stdout);
		free(jbuf);
	}
	return 0;
}
