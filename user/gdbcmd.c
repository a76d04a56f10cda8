// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * gcscope gdb / gcscope core: thin launchers of gdb with gdb/gcscope.py.
 *
 * Exit codes (docs/exit-codes.md): 2 usage, 3 no such process / file,
 * 1 anything else (gdb missing, gcscope.py not found, gdb failed).
 * `gcscope core`: 0 when the report ran; 8 CORE is not a core file gdb can
 * open; 4 gdb finds no CPython runtime in it with EXE; 9 CORE is cut short
 * or lacks memory the report read (the scripts' quit_report() status).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "corefile.h"
#include "elfinfo.h"
#include "gdbcmd.h"

#define MAX_ARGS 64

static int is_script_dir(const char *dir)
{
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/gcscope.py", dir) >= (int)sizeof(p))
		return 0;
	return access(p, R_OK) == 0;
}

const char *gdbcmd_script_dir(char *buf, unsigned long size)
{
	const char *env = getenv("GCSCOPE_GDB_DIR");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		if (!is_script_dir(env))
			return NULL;
		snprintf(buf, size, "%s", env);
		return buf;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	/* installed: $(PREFIX)/bin/gcscope -> $(PREFIX)/share/gcscope/gdb */
	if ((size_t)snprintf(buf, size, "%s/../share/gcscope/gdb", exe) < size && is_script_dir(buf))
		return buf;
	/* source tree: .output/gcscope -> gdb/ */
	if ((size_t)snprintf(buf, size, "%s/../gdb", exe) < size && is_script_dir(buf))
		return buf;
	/* the sanitizer build of the source tree: .output/san/gcscope -> gdb/ */
	slash = strrchr(exe, '/');
	if (slash && !strcmp(slash, "/san") && (size_t)snprintf(buf, size, "%s/../../gdb", exe) < size &&
	    is_script_dir(buf))
		return buf;
	return NULL;
}

/* The process's root differs from ours (a chroot or a container)? */
static int other_root(pid_t pid, char *root, size_t size)
{
	struct stat a, b;

	snprintf(root, size, "/proc/%d/root", (int)pid);
	if (stat(root, &a) || stat("/", &b))
		return 0;
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

/* gdb's argument vector, and the strings in it that we formatted. */
struct gdb_argv {
	char *v[MAX_ARGS + 32];
	int n;
	char *owned[32];
	int nowned;
};

static void arg(struct gdb_argv *g, const char *s)
{
	if (g->n < (int)ARRAY_SIZE(g->v) - 1)
		g->v[g->n++] = (char *)s;
	g->v[g->n] = NULL;
}

/* fmt has one %s: a */
static void argf(struct gdb_argv *g, const char *fmt, const char *a)
{
	char *s;

	if (g->nowned >= (int)ARRAY_SIZE(g->owned) || asprintf(&s, fmt, a) < 0) {
		p_err(EXIT_FAILURE_INTERNAL, "out of memory");
		exit(EXIT_FAILURE_INTERNAL);
	}
	g->owned[g->nowned++] = s;
	arg(g, s);
}

static void gdb_argv_free(struct gdb_argv *g)
{
	for (int i = 0; i < g->nowned; i++)
		free(g->owned[i]);
	g->nowned = g->n = 0;
}

/* gdb arguments for a target whose files live under root (a chroot, a
 * container through /proc/PID/root, or a core's): its libraries and its
 * /usr/lib/debug. */
static void add_sysroot(struct gdb_argv *g, const char *root)
{
	arg(g, "-iex");
	argf(g, "set sysroot %s", root);
	arg(g, "-iex");
	argf(g, "set debug-file-directory %s/usr/lib/debug", root);
}

static int exec_gdb(char **av)
{
	execvp(av[0], av);
	return p_err(errno == ENOENT ? EXIT_NO_PROCESS : EXIT_FAILURE_INTERNAL,
		     "cannot run gdb: %s (install gdb)", strerror(errno));
}

/* -h, --help and -? as argp's commands (trace, doctor) take them */
static bool is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help") || !strcmp(arg, "-?");
}

static void gdb_usage(FILE *f)
{
	fprintf(f, "usage: gcscope gdb -p PID [GDB ARGS...]\n"
		   "Start gdb attached to PID with the py-gc-* commands loaded\n"
		   "(py-gc-status, py-gc-census, py-gc-collecting, py-gc-object, py-gc-types,\n"
		   "py-gc-garbage, py-gc-layout; `help py-gc-status` in gdb).  A process in\n"
		   "another root (container, chroot) gets sysroot and debug-file-directory\n"
		   "under /proc/PID/root.\n"
		   "\n"
		   "  -p PID           the process to attach to\n"
		   "  -h, -?, --help   this help; --usage: the usage line\n");
}

int cmd_gdb(int argc, char **argv)
{
	char dir[PATH_MAX], root[64], exe[PATH_MAX], pidbuf[32], procdir[64];
	struct gdb_argv g = { .n = 0 };
	int first_extra;
	long pid;
	ssize_t n;

	if (argc >= 2 && is_help(argv[1])) {
		gdb_usage(stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "--usage")) {
		printf("usage: gcscope gdb -p PID [GDB ARGS...]\n");
		return EXIT_OK;
	}
	if (argc < 3 || strcmp(argv[1], "-p")) {
		gdb_usage(stderr);
		return EXIT_USAGE;
	}
	if (!parse_long(argv[2], 1, INT_MAX, &pid))
		return p_err(EXIT_USAGE, "bad pid '%s'", argv[2]);
	first_extra = 3;
	if (argc - first_extra > MAX_ARGS)
		return p_err(EXIT_USAGE, "too many gdb arguments");
	snprintf(procdir, sizeof(procdir), "/proc/%ld", pid);
	if (access(procdir, F_OK))
		return p_err(EXIT_NO_PROCESS, "no process %ld", pid);
	if (!gdbcmd_script_dir(dir, sizeof(dir)))
		return p_err(EXIT_FAILURE_INTERNAL, "gcscope.py not found: set GCSCOPE_GDB_DIR or "
			     "install gcscope (share/gcscope/gdb)");
	snprintf(pidbuf, sizeof(pidbuf), "%ld", pid);
	arg(&g, "gdb");
	arg(&g, "-q");
	if (other_root((pid_t)pid, root, sizeof(root))) {
		char link[64], cand[PATH_MAX];
		struct stat want, st;

		/* gdb would look for the binary and its libraries in our root:
		 * point it at the process's root, and at the debug info installed
		 * there (found by build-id).  The binary: the path /proc/PID/exe
		 * names, as seen from here (a chroot) or under the process's root
		 * (another mount namespace), whichever is the same file; else the
		 * magic link itself. */
		snprintf(link, sizeof(link), "/proc/%ld/exe", pid);
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n <= 0 || stat(link, &want))
			return p_err(EXIT_NO_PROCESS, "cannot read %s: %s", link, strerror(errno));
		exe[n] = '\0';
		snprintf(cand, sizeof(cand), "%s", exe);
		if (stat(cand, &st) || st.st_dev != want.st_dev || st.st_ino != want.st_ino) {
			if ((size_t)snprintf(cand, sizeof(cand), "%s%s", root, exe) >= sizeof(cand) ||
			    stat(cand, &st) || st.st_dev != want.st_dev || st.st_ino != want.st_ino)
				snprintf(cand, sizeof(cand), "%s", link);
		}
		add_sysroot(&g, root);
		arg(&g, "-ex");
		argf(&g, "file %s", cand);
		arg(&g, "-ex");
		argf(&g, "attach %s", pidbuf);
	} else {
		arg(&g, "-p");
		arg(&g, pidbuf);
	}
	arg(&g, "-ex");
	argf(&g, "source %s/gcscope.py", dir);
	for (int i = first_extra; i < argc; i++)
		arg(&g, argv[i]);
	return exec_gdb(g.v);
}

int gdbcmd_core_exe_elf(Elf *elf, char *out, size_t size)
{
	GElf_Ehdr eh;
	size_t nph;
	int ok = 0;

	if (!elf || elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64 ||
	    !gelf_getehdr(elf, &eh) || eh.e_type != ET_CORE || elf_getphdrnum(elf, &nph))
		return 0;
	for (size_t i = 0; i < nph && !ok; i++) {
		GElf_Phdr ph;
		GElf_Nhdr nh;
		size_t off = 0, name, desc;
		Elf_Data *d;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		while (d && !ok && (off = gelf_getnote(d, off, &nh, &name, &desc)) > 0) {
			/* x86-64 struct elf_prpsinfo: pr_psargs[80] at 56 */
			char args[81];
			size_t len;

			if (nh.n_type != NT_PRPSINFO || nh.n_descsz < 136 || nh.n_namesz != 5 ||
			    memcmp((const char *)d->d_buf + name, "CORE", 5))
				continue;
			memcpy(args, (const char *)d->d_buf + desc + 56, 80);
			args[80] = '\0';
			len = strcspn(args, " ");
			args[len] = '\0';
			if (args[0] == '/' && len < size) {
				memcpy(out, args, len + 1);
				ok = 1;
			}
		}
	}
	return ok;
}

/* argv[0] of the process that dumped CORE (NT_PRPSINFO pr_psargs), if any. */
static int core_exe(const char *core, char *out, size_t size)
{
	Elf *elf;
	int fd, ok;

	/* libelf walks the notes: a core file is the user's input, and its
	 * note sizes are checked there, not by hand */
	fd = open(core, O_RDONLY);
	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	ok = gdbcmd_core_exe_elf(elf, out, size);
	if (elf)
		elf_end(elf);
	close(fd);
	return ok;
}

static void core_usage(FILE *f)
{
	fprintf(f, "usage: gcscope core CORE [EXE]\n"
		   "Post-mortem GC report of a core file via gdb: py-gc-status, py-gc-census,\n"
		   "py-gc-collecting, py-gc-garbage and py-gc-types.  EXE is the python\n"
		   "executable that dumped it (default: the one named in the core).\n"
		   "GCSCOPE_SYSROOT=DIR: the core comes from a chroot/container rooted at DIR.\n"
		   "\n"
		   "  -h, -?, --help   this help; --usage: the usage line\n");
}

int cmd_core(int argc, char **argv)
{
	static const char *const report[] = { "py-gc-status", "py-gc-census all",
					      "py-gc-collecting", "py-gc-garbage", "py-gc-types" };
	char dir[PATH_MAX], exe[PATH_MAX], sysexe[PATH_MAX], why[PATH_MAX + 256], have[32], need[32];
	const char *sysroot = getenv("GCSCOPE_SYSROOT");
	struct core_info ci;
	struct elffile ef;
	struct gdb_argv g = { .n = 0 };
	int status, code;
	pid_t child;

	if (argc >= 2 && is_help(argv[1])) {
		core_usage(stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "--usage")) {
		printf("usage: gcscope core CORE [EXE]\n");
		return EXIT_OK;
	}
	if (argc < 2 || argc > 3) {
		core_usage(stderr);
		return EXIT_USAGE;
	}
	code = core_inspect(argv[1], &ci, why, sizeof(why));
	if (code)
		return p_err(code, "%s", why);
	if (argc == 3) {
		snprintf(exe, sizeof(exe), "%s", argv[2]);
		if (access(exe, R_OK))
			return p_err(EXIT_NO_PROCESS, "cannot read %s: %s", exe, strerror(errno));
	} else if (!core_exe(argv[1], exe, sizeof(exe))) {
		return p_err(EXIT_USAGE, "%s does not name its executable: give it (gcscope core CORE EXE)",
			     argv[1]);
	} else if (sysroot && *sysroot) {
		snprintf(sysexe, sizeof(sysexe), "%s%s", sysroot, exe);
		memcpy(exe, sysexe, sizeof(exe));
	}
	if (argc == 2 && access(exe, R_OK))
		return p_err(EXIT_NO_PROCESS, "the core was dumped by %s, which cannot be read here: "
			     "give the executable (gcscope core CORE EXE)", exe);
	if (!elf_open(&ef, exe)) {
		bool mismatch = ef.build_id[0] && core_has_build_id(argv[1], ef.build_id) == 0;

		elf_close(&ef);
		if (mismatch)
			return p_err(EXIT_NOT_PYTHON, "%s was not dumped by %s: no mapping in the core has its "
				     "build-id %s; give the executable that dumped it (gcscope core CORE EXE)",
				     argv[1], exe, ef.build_id);
	}
	if (!gdbcmd_script_dir(dir, sizeof(dir)))
		return p_err(EXIT_FAILURE_INTERNAL, "gcscope.py not found: set GCSCOPE_GDB_DIR or "
			     "install gcscope (share/gcscope/gdb)");
	arg(&g, "gdb");
	arg(&g, "--batch");
	arg(&g, "-nx");
	if (sysroot && *sysroot)
		add_sysroot(&g, sysroot);
	arg(&g, "-ex");
	argf(&g, "file %s", exe);
	arg(&g, "-ex");
	argf(&g, "core-file %s", argv[1]);
	arg(&g, "-ex");
	argf(&g, "source %s/gcscope.py", dir);
	for (size_t i = 0; i < ARRAY_SIZE(report); i++) {
		arg(&g, "-ex");
		argf(&g, "echo \\n== %s ==\\n", report[i]);
		arg(&g, "-ex");
		arg(&g, report[i]);
	}
	/* gdb's status says how the report went (gdb/gcscope_command.py) */
	arg(&g, "-ex");
	arg(&g, "python import gcscope_command; gcscope_command.quit_report()");
	fflush(stdout);
	child = fork();
	if (child < 0) {
		gdb_argv_free(&g);
		return p_err(EXIT_FAILURE_INTERNAL, "fork: %s", strerror(errno));
	}
	if (child == 0)
		_exit(exec_gdb(g.v));
	gdb_argv_free(&g);
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			return p_err(EXIT_FAILURE_INTERNAL, "waitpid: %s", strerror(errno));
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (code == EXIT_NO_PROCESS)
		return EXIT_NO_PROCESS;		/* exec_gdb: no gdb */
	/* a cut-short core: whatever gdb could show, the rest is missing */
	if (ci.missing)
		return p_err(EXIT_CORE_INCOMPLETE, "%s is truncated: it holds %s of the %s its headers "
			     "describe (%d of %d memory segments cut off), so the report above is partial; "
			     "the dump was cut short (ulimit -c, disk space, an incomplete copy): take "
			     "another core", argv[1], core_size_str(ci.file_size, have, sizeof(have)),
			     core_size_str(ci.needed, need, sizeof(need)), ci.nload_cut, ci.nload);
	switch (code) {
	case EXIT_OK:
		return EXIT_OK;
	case EXIT_CORE_INCOMPLETE:
		return p_err(code, "the report read memory that %s does not hold (see above); take another "
			     "core", argv[1]);
	case EXIT_NOT_PYTHON:
		return p_err(code, "no CPython runtime that gdb can read in %s with %s (see above): give the "
			     "python executable that dumped it (gcscope core CORE EXE)", argv[1], exe);
	case EXIT_NOT_CORE:
		return p_err(code, "gdb cannot open %s as a core of %s (see above)", argv[1], exe);
	default:
		return p_err(EXIT_FAILURE_INTERNAL, "gdb failed on %s (exit status %d)", argv[1], code);
	}
}
