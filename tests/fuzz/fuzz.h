/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Shared by the libFuzzer harnesses of tests/fuzz/: taking typed values off
 * the front of the input, and an oracle check that aborts, so that a wrong
 * result (not only a memory error) is a crash the fuzzer keeps.
 */
#ifndef GCSCOPE_FUZZ_H
#define GCSCOPE_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fin {
	const uint8_t *p;
	size_t n;
};

/* Up to len bytes into out, zero-filled when the input is short: every
 * input is valid, so the fuzzer never wastes runs on rejected ones. */
static inline void fin_take(struct fin *in, void *out, size_t len)
{
	size_t k = in->n < len ? in->n : len;

	memset(out, 0, len);
	memcpy(out, in->p, k);
	in->p += k;
	in->n -= k;
}

static inline uint8_t fin_u8(struct fin *in)
{
	uint8_t v;

	fin_take(in, &v, 1);
	return v;
}

static inline uint16_t fin_u16(struct fin *in)
{
	uint16_t v;

	fin_take(in, &v, 2);
	return v;
}

static inline uint32_t fin_u32(struct fin *in)
{
	uint32_t v;

	fin_take(in, &v, 4);
	return v;
}

static inline uint64_t fin_u64(struct fin *in)
{
	uint64_t v;

	fin_take(in, &v, 8);
	return v;
}

#define FUZZ_ASSERT(cond)                                                               \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: oracle failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                        \
		}                                                                       \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
