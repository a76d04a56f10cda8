// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * A tiny shared object with what user/elfinfo.c looks for in a libpython:
 * _PyRuntime (initialised: it starts with a _Py_DebugOffsets head),
 * Py_Version, PY_VERSION as its own string in .rodata, a stapsdt note for
 * python:gc__start with a semaphore, and (from the link) DT_NEEDED, a
 * build-id and, added by mkseeds.sh, a .gnu_debuglink.  Seed of fuzz_elf.
 */
struct runtime {
	char cookie[8];
	unsigned long version;
	unsigned long pad[6];
};

struct runtime _PyRuntime = { "xdebugpy", 0x030d02f0, { 0 } };
const unsigned long Py_Version = 0x030d02f0;
const char *const py_version_str = "3.13.2";
unsigned short python_gc__start_semaphore __attribute__((section(".probes")));

/* What systemtap's <sys/sdt.h> STAP_PROBE1 emits: a NT_STAPSDT note with
 * pc, base, semaphore, then provider\0name\0args\0. */
void collect(int gen)
{
	__asm__ __volatile__("990: nop\n"
			     ".pushsection .note.stapsdt,\"?\",\"note\"\n"
			     ".balign 4\n"
			     ".4byte 992f-991f, 994f-993f, 3\n"
			     "991: .asciz \"stapsdt\"\n"
			     "992: .balign 4\n"
			     "993: .8byte 990b\n"
			     ".8byte _.stapsdt.base\n"
			     ".8byte python_gc__start_semaphore\n"
			     ".asciz \"python\"\n"
			     ".asciz \"gc__start\"\n"
			     ".asciz \"-4@%0\"\n"
			     "994: .balign 4\n"
			     ".popsection\n"
			     ".ifndef _.stapsdt.base\n"
			     ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"
			     ".weak _.stapsdt.base\n"
			     ".hidden _.stapsdt.base\n"
			     "_.stapsdt.base: .space 1\n"
			     ".size _.stapsdt.base, 1\n"
			     ".popsection\n"
			     ".endif\n"
			     :: "nor"(gen));
}
