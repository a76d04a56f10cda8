// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* gcscope: watch CPython's cyclic garbage collector from outside the process. */
#include <argp.h>
#include <stdbool.h>
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
	{ "stats", cmd_stats, "a process's own GC counters, read without BPF (-p PID)" },
	{ "gdb", cmd_gdb, "gdb attached to PID with the py-gc-* commands loaded" },
	{ "core", cmd_core, "post-mortem GC report of a core file, via gdb" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: gcscope COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`gcscope COMMAND --help` (or -h) for its options; `man gcscope`.\n"
		   "Exit codes: 0 ok, 1 runtime failure, 2 usage, 3 no such process,\n"
		   "4 not CPython, 5 no usable probe, 6 not enough privilege, 7 unsupported\n"
		   "version, 8 not a core file, 9 core incomplete (docs/exit-codes.md).\n");
}

static bool is_any(const char *arg, const char *a, const char *b, const char *c)
{
	return !strcmp(arg, a) || !strcmp(arg, b) || (c && !strcmp(arg, c));
}

static int run_command(const struct command *cmd, int argc, char **argv)
{
	char name[64];

	/* argp prefixes its messages with argv[0]. */
	snprintf(name, sizeof(name), "gcscope %s", cmd->name);
	argv[0] = name;
	return cmd->run(argc, argv);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (is_any(argv[1], "--help", "-h", "-?")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--usage")) {
		printf("usage: gcscope {trace|doctor|stats|gdb|core} [OPTIONS]\n");
		return EXIT_OK;
	}
	if (is_any(argv[1], "--version", "-V", "version")) {
		printf("%s\n", argp_program_version);
		return EXIT_OK;
	}
	/* argp's own usage errors exit with EX_USAGE (64) unless told. */
	argp_err_exit_status = EXIT_USAGE;
	/* gcscope help [COMMAND]: COMMAND --help */
	if (!strcmp(argv[1], "help")) {
		static char help[] = "--help";
		char *av[] = { argv[2], help, NULL };

		if (argc < 3) {
			usage(stdout);
			return EXIT_OK;
		}
		cmd = find_command(argv[2]);
		if (cmd)
			return run_command(cmd, 2, av);
	} else {
		cmd = find_command(argv[1]);
		if (cmd)
			return run_command(cmd, argc - 1, argv + 1);
	}
	fprintf(stderr, "gcscope: unknown command '%s'; run 'gcscope --help' for the list\n",
		argv[argc >= 3 && !strcmp(argv[1], "help") ? 2 : 1]);
	return EXIT_USAGE;
}
