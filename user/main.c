// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* gcscope: watch CPython's cyclic garbage collector from outside the process. */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "gdbcmd.h"
#include "trace.h"

#ifndef GCSCOPE_VERSION
#define GCSCOPE_VERSION "0.1.0"
#endif

const char *argp_program_version = "gcscope " GCSCOPE_VERSION;
const char *argp_program_bug_address = "https://github.com/gcscope/gcscope/issues";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "trace", cmd_trace, "trace every collection of a live process (-p PID, or -- CMD)" },
	{ "doctor", cmd_doctor, "explain what can be traced in a process, and why not" },
	{ "gdb", cmd_gdb, "gdb attached to PID with the py-gc-* commands loaded" },
	{ "core", cmd_core, "post-mortem GC report of a core file, via gdb" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: gcscope COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`gcscope COMMAND --help` for its options.  Exit codes: 0 ok, 1 runtime failure,\n"
		   "2 usage, 3 no such process, 4 not CPython, 5 no usable probe, 6 not enough\n"
		   "privilege, 7 unsupported version, 8 not a core file, 9 core incomplete\n"
		   "(docs/exit-codes.md).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("%s\n", argp_program_version);
		return EXIT_OK;
	}
	/* argp's own usage errors exit with EX_USAGE (64) unless told. */
	argp_err_exit_status = EXIT_USAGE;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		char name[64];

		if (strcmp(argv[1], commands[i].name))
			continue;
		/* argp prefixes its messages with argv[0]. */
		snprintf(name, sizeof(name), "gcscope %s", commands[i].name);
		argv[1] = name;
		return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "gcscope: unknown command '%s'; run 'gcscope --help' for the list\n", argv[1]);
	return EXIT_USAGE;
}
