// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * gcscope gdb / gcscope core: thin launchers of gdb with gdb/gcscope.py.
 *
 * Exit codes (docs/exit-codes.md): 2 usage, 3 no such process / file,
 * 4 not CPython, 7 a version or build the commands do not support (the
 * commands could not load for the target: gdb/gcscope.py says so through a
 * status pipe, GCSCOPE_STATUS_FD), 1 anything else (gdb missing,
 * gcscope.py not found, gdb failed).  Otherwise gdb's own status: 0 when the
 * session or the report ran.
 * `gcscope core`: 0 when the report ran; 8 CORE is not a core file gdb can
 * open; 4 gdb finds no CPython runtime in it with EXE; 9 CORE is cut short
 * or lacks memory the report read (the scripts' quit_report() status).
 *
 * gdb runs as our child, its stderr through a filter until gcscope.py has
 * loaded (then it gives gdb the terminal's stderr back, GCSCOPE_STDERR_FD):
 * for a target in a chroot or container gdb says a dozen things nobody can
 * act on (its libthread_db, which gdb must not load from the target's root,
 * and, for a core, every file mapping it cannot open there).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <poll.h>
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
#include "gdbpick.h"
#include "json.h"

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
	char *v[MAX_ARGS + 40];
	int n;
	char *owned[32];
	int nowned;
	const struct gdbexe *exe;	/* the gdb run (its first words in v) */
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

/* The gdb to run, as g's first words.  choose (`gcscope gdb`): the first
 * that can make inferior calls (gdbpick.c), with a note when that is not
 * the first gdb found or when none can; else (`gcscope core`, which makes
 * no calls) GCSCOPE_GDB or gdb, unprobed.  pick must outlive g.  Returns 0,
 * or the exit code after saying why. */
static int add_gdb(struct gdb_argv *g, struct gdbpick *pick, bool choose)
{
	const char *env = getenv("GCSCOPE_GDB"), *words[4];
	char note[2048];
	int n;

	if (choose) {
		gdbpick_choose(pick, false);
	} else {
		memset(pick, 0, sizeof(*pick));
		pick->chosen = -1;
		pick->forced = env && *env;
		if (gdbexe_init(&pick->cand[0], pick->forced ? env : "gdb")) {
			pick->n = 1;
			pick->chosen = 0;
		}
	}
	if (pick->chosen < 0) {
		if (pick->forced)
			return p_err(EXIT_FAILURE_INTERNAL, "GCSCOPE_GDB=%s is not an executable: give the path "
				     "of a gdb, or unset it", env);
		arg(g, "gdb");	/* exec_gdb() says it is missing */
		return 0;
	}
	g->exe = &pick->cand[pick->chosen];
	n = gdbexe_argv(g->exe, words);
	for (int i = 0; i < n; i++)
		arg(g, words[i]);
	if (choose) {
		gdbpick_note(pick, note, sizeof(note));
		if (note[0])
			p_info("gdb: %s", note);
	}
	return 0;
}

/* The libthread_db of our own C library (a gdb of another root, on a
 * process of our root, would otherwise load its root's, which does not
 * match the target's libc, and lose thread debugging). */
static bool our_thread_db(char *dir, size_t dsize, char *file, size_t fsize)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char *line = NULL, *path, *slash;
	size_t cap = 0;
	bool ok = false;

	if (!f)
		return false;
	while (!ok && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		path = strchr(line, '/');
		slash = path ? strrchr(path, '/') : NULL;
		if (!slash || strcmp(slash, "/libc.so.6"))
			continue;
		*slash = '\0';
		if ((size_t)snprintf(dir, dsize, "%s", path) < dsize &&
		    (size_t)snprintf(file, fsize, "%s/libthread_db.so.1", path) < fsize && !access(file, R_OK))
			ok = true;
	}
	free(line);
	fclose(f);
	return ok;
}

/* gcscope gdb --which [-j]: the gdbs tried and the one `gcscope gdb` runs. */
static int gdb_which(bool json)
{
	static struct gdbpick pick;
	char name[PATH_MAX + 64];

	gdbpick_choose(&pick, true);
	if (json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_str(&w, "type", "gdb");
		if (pick.chosen >= 0)
			jw_int(&w, "chosen", pick.chosen);
		else
			jw_null(&w, "chosen");
		jw_bool(&w, "forced", pick.forced);
		jw_key_arr(&w, "candidates");
		for (int i = 0; i < pick.n; i++) {
			const struct gdbexe *e = &pick.cand[i];
			const char *words[4];
			int n = gdbexe_argv(e, words);

			jw_obj_begin(&w);
			jw_str(&w, "path", e->path);
			jw_str(&w, "root", e->root[0] ? e->root : NULL);
			jw_key_arr(&w, "argv");
			for (int k = 0; k < n; k++)
				jw_str(&w, NULL, words[k]);
			jw_arr_end(&w);
			jw_str(&w, "version", e->version[0] ? e->version : NULL);
			if (e->calls < 0)
				jw_null(&w, "calls");
			else
				jw_bool(&w, "calls", e->calls == 1);
			jw_str(&w, "why", e->calls == 0 ? e->why : NULL);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
		jw_line(&w);
	} else {
		if (pick.chosen < 0)
			p_line("no gdb found%s", pick.forced ? " at GCSCOPE_GDB" : " (install gdb)");
		for (int i = 0; i < pick.n; i++) {
			const struct gdbexe *e = &pick.cand[i];

			gdbexe_name(e, name, sizeof(name));
			p_line("%s %s%s: %s%s%s", i == pick.chosen ? "*" : " ", name,
			       e->root[0] ? ", run by its own root's loader" : "",
			       e->calls == 1 ? "can make inferior calls here" : "cannot make inferior calls here (",
			       e->calls == 1 ? "" : e->why, e->calls == 1 ? "" : ")");
		}
	}
	return pick.chosen >= 0 ? EXIT_OK : EXIT_FAILURE_INTERNAL;
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

static int exec_gdb(struct gdb_argv *g)
{
	char **av = g->v;

	/* our PYTHONHOME/PYTHONPATH are for our python: a gdb of another root
	 * has its own, found relative to its path */
	if (g->exe && g->exe->root[0]) {
		unsetenv("PYTHONHOME");
		unsetenv("PYTHONPATH");
	}
	execvp(av[0], av);
	return p_err(errno == ENOENT ? EXIT_NO_PROCESS : EXIT_FAILURE_INTERNAL,
		     "cannot run gdb: %s (install gdb)", strerror(errno));
}

/* -h, --help and -? as argp's commands (trace, doctor) take them */
static bool is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help") || !strcmp(arg, "-?");
}

/* Lines of gdb's that say nothing a gcscope user can act on.  gdb prints
 * the first two for any target whose libthread_db is not ours (a chroot's
 * or a container's, which we do not let gdb load: it would run the target's
 * code in a root gdb); the third for each file a core maps that is not in
 * the sysroot as gdb expects it; then a thread of a core; and the source
 * line of the frame gdb stopped in, when the C library's debug info is
 * there but not its sources ("26\t../sysdeps/unix/sysv/linux/read.c: No
 * such file or directory.", gdb 16: "warning: 26\t...: No such file or
 * directory" after an empty line; the empty lines of gdb's start-up go). */
static bool noise(const char *line)
{
	/* gdb 16 says it as a warning, after an empty line */
	const char *src = strncmp(line, "warning: ", 9) ? line : line + 9;
	size_t digits = strspn(src, "0123456789");

	if (digits && src[digits] == '\t' && strstr(src, ": No such file or directory"))
		return true;
	if (!strcmp(line, "\n"))
		return true;
	static const char *const subs[] = {
		"Unable to find libthread_db matching inferior's thread library",
		"auto-loading has been declined by your `auto-load safe-path'",
		"during file-backed mapping note processing",
	};

	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (strstr(line, subs[i]))
			return true;
	return !strncmp(line, "[New LWP ", 9);
}

/* One stream of gdb's, copied to fd out a line at a time without the noise. */
struct relay {
	int in, out;
	char buf[8192];
	size_t len;
};

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Copies out every whole line held (and, with all or a full buffer, the
 * rest), dropping the noise. */
static void relay_flush(struct relay *r, bool all)
{
	size_t start = 0;

	while (start < r->len) {
		char *nl = memchr(r->buf + start, '\n', r->len - start);
		size_t end = nl ? (size_t)(nl - r->buf) + 1 : r->len;
		char line[sizeof(r->buf) + 1];

		if (!nl && !all && !(start == 0 && r->len == sizeof(r->buf)))
			break;
		memcpy(line, r->buf + start, end - start);
		line[end - start] = '\0';
		if (!noise(line))
			write_all(r->out, line, end - start);
		start = end;
	}
	memmove(r->buf, r->buf + start, r->len - start);
	r->len -= start;
}

/* Returns false at the stream's end. */
static bool relay_read(struct relay *r)
{
	ssize_t n = read(r->in, r->buf + r->len, sizeof(r->buf) - r->len);

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0) {
		relay_flush(r, true);
		return false;
	}
	r->len += (size_t)n;
	relay_flush(r, false);
	return true;
}

/* Runs gdb with argv g and waits for it.  filter_stdout: gdb's stdout goes
 * through the filter too (gcscope core: nobody types into it).  Returns the
 * exit code for gcscope: the load check's (gdb/gcscope.py) when the commands
 * could not load, else gdb's.  *said: we printed why it is not 0. */
static int run_gdb(struct gdb_argv *g, bool filter_stdout, const char *what, bool *said)
{
	int status_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, out_p[2] = { -1, -1 };
	struct relay rel[2] = { { .in = -1 }, { .in = -1 } };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	char status[1024], msg[1024], fdbuf[2][16];
	size_t slen = 0;
	int saved_err, code, wst;
	bool status_open = true;
	pid_t child;

	*said = true;
	if (pipe2(status_p, O_CLOEXEC) || pipe2(err_p, O_CLOEXEC) || (filter_stdout && pipe2(out_p, O_CLOEXEC)))
		return p_err(EXIT_FAILURE_INTERNAL, "pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	child = fork();
	if (child < 0)
		return p_err(EXIT_FAILURE_INTERNAL, "fork: %s", strerror(errno));
	if (child == 0) {
		/* gdb's stderr (and stdout) into the filter; the status pipe and
		 * the terminal's stderr kept open for gcscope.py */
		saved_err = fcntl(2, F_DUPFD, 3);
		if (saved_err < 0 || dup2(err_p[1], 2) < 0 || (filter_stdout && dup2(out_p[1], 1) < 0) ||
		    fcntl(status_p[1], F_SETFD, 0) < 0)
			_exit(EXIT_FAILURE_INTERNAL);
		snprintf(fdbuf[0], sizeof(fdbuf[0]), "%d", status_p[1]);
		snprintf(fdbuf[1], sizeof(fdbuf[1]), "%d", saved_err);
		setenv("GCSCOPE_STATUS_FD", fdbuf[0], 1);
		setenv("GCSCOPE_STDERR_FD", fdbuf[1], 1);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		if (exec_gdb(g) == EXIT_NO_PROCESS)
			_exit(EXIT_NO_PROCESS);
		_exit(EXIT_FAILURE_INTERNAL);
	}
	/* Ctrl-C is gdb's (it interrupts the target), not ours */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	close(status_p[1]);
	close(err_p[1]);
	rel[0] = (struct relay){ .in = err_p[0], .out = 2 };
	if (filter_stdout) {
		close(out_p[1]);
		rel[1] = (struct relay){ .in = out_p[0], .out = 1 };
	}
	while (rel[0].in >= 0 || rel[1].in >= 0 || status_open) {
		struct pollfd pf[3] = { { .fd = rel[0].in, .events = POLLIN }, { .fd = rel[1].in, .events = POLLIN },
					{ .fd = status_open ? status_p[0] : -1, .events = POLLIN } };

		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].revents && !relay_read(&rel[i])) {
				close(rel[i].in);
				rel[i].in = -1;
			}
		}
		if (pf[2].revents) {
			ssize_t n = read(status_p[0], status + slen, sizeof(status) - 1 - slen);

			if (n > 0)
				slen += (size_t)n;
			else if (n == 0 || errno != EINTR)
				status_open = false;
		}
	}
	close(status_p[0]);
	for (int i = 0; i < 2; i++)
		if (rel[i].in >= 0)
			close(rel[i].in);
	while (waitpid(child, &wst, 0) < 0) {
		if (errno != EINTR) {
			code = p_err(EXIT_FAILURE_INTERNAL, "waitpid: %s", strerror(errno));
			goto out;
		}
	}
	status[slen] = '\0';
	status[strcspn(status, "\n")] = '\0';
	code = WIFEXITED(wst) ? WEXITSTATUS(wst) : EXIT_FAILURE_INTERNAL;
	if (!strncmp(status, "error ", 6)) {
		char *end;
		long c = strtol(status + 6, &end, 10);

		if (c <= 0 || c > 125 || *end != ' ')
			c = EXIT_FAILURE_INTERNAL;
		tty_clean(end + (*end == ' '), msg, sizeof(msg));
		code = p_err((int)c, "the py-gc-* commands cannot work on %s: %s", what, msg);
	} else if (strcmp(status, "ok") && code != EXIT_NO_PROCESS) {
		/* gdb ended, or gcscope.py failed, before the check: gdb said why */
		code = p_err(code ? code : EXIT_FAILURE_INTERNAL, "the py-gc-* commands did not load in gdb for %s",
			     what);
	} else {
		*said = code == EXIT_NO_PROCESS;	/* exec_gdb() said it */
	}
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	return code;
}

static void gdb_usage(FILE *f)
{
	fprintf(f, "usage: gcscope gdb -p PID [GDB ARGS...] | --which [-j]\n"
		   "Start gdb attached to PID with the py-gc-* commands loaded\n"
		   "(py-gc-status, py-gc-census, py-gc-collecting, py-gc-object, py-gc-types,\n"
		   "py-gc-garbage, py-gc-layout; `help py-gc-status` in gdb).  A process in\n"
		   "another root (container, chroot) gets sysroot and debug-file-directory\n"
		   "under /proc/PID/root.  The gdb run is the first that can make inferior\n"
		   "calls here (py-gc-types --check-traverse): gdb on PATH, then the gdb of a\n"
		   "chroot in gcscope's cache; GCSCOPE_GDB=PATH runs that one (docs/gdb.md).\n"
		   "\n"
		   "  -p PID           the process to attach to\n"
		   "  --which [-j]     list the gdbs tried and the one it runs\n"
		   "  -h, -?, --help   this help; --usage: the usage line\n");
}

int cmd_gdb(int argc, char **argv)
{
	char dir[PATH_MAX], root[64], exe[PATH_MAX], pidbuf[32], procdir[64], what[64];
	static struct gdbpick pick;
	struct gdb_argv g = { .n = 0 };
	int first_extra, code;
	bool said;
	long pid;
	ssize_t n;

	if (argc >= 2 && is_help(argv[1])) {
		gdb_usage(stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "--usage")) {
		printf("usage: gcscope gdb -p PID [GDB ARGS...] | --which [-j]\n");
		return EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "--which")) {
		if (argc > 3 || (argc == 3 && strcmp(argv[2], "-j")))
			return p_err(EXIT_USAGE, "usage: gcscope gdb --which [-j]");
		return gdb_which(argc == 3);
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
	code = add_gdb(&g, &pick, true);
	if (code)
		return code;
	arg(&g, "-q");
	/* "Reading symbols from /proc/PID/root/lib/...", "(No debugging
	 * symbols found in ...)": a dozen lines per attach before the prompt,
	 * none to act on (py-gc-status says where its offsets came from) */
	arg(&g, "-iex");
	arg(&g, "set print symbol-loading off");
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
		/* never the target's libthread_db: its code would run in our gdb */
		arg(&g, "-iex");
		arg(&g, "set auto-load libthread-db off");
		arg(&g, "-ex");
		argf(&g, "file %s", cand);
		arg(&g, "-ex");
		argf(&g, "attach %s", pidbuf);
	} else {
		char tdir[PATH_MAX], tfile[PATH_MAX];

		/* a gdb of another root looks in that root's /usr/lib/debug and
		 * loads that root's libthread_db: the process is of ours */
		if (g.exe && g.exe->root[0]) {
			arg(&g, "-iex");
			arg(&g, "set debug-file-directory /usr/lib/debug");
		}
		if (g.exe && g.exe->root[0] && our_thread_db(tdir, sizeof(tdir), tfile, sizeof(tfile))) {
			arg(&g, "-iex");
			argf(&g, "set libthread-db-search-path %s", tdir);
			arg(&g, "-iex");
			argf(&g, "add-auto-load-safe-path %s", tfile);
		}
		arg(&g, "-p");
		arg(&g, pidbuf);
	}
	arg(&g, "-ex");
	argf(&g, "source %s/gcscope.py", dir);
	for (int i = first_extra; i < argc; i++)
		arg(&g, argv[i]);
	snprintf(what, sizeof(what), "pid %ld", pid);
	code = run_gdb(&g, false, what, &said);
	gdb_argv_free(&g);
	return code;
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
	static struct gdbpick pick;
	struct gdb_argv g = { .n = 0 };
	bool said;
	int code;

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
	code = add_gdb(&g, &pick, false);
	if (code)
		return code;
	arg(&g, "--batch");
	arg(&g, "-nx");
	/* a build's own pythonX.Y-gdb.py (pyenv's beside the binary): the report
	 * does not use it, and gdb's advice on loading it is 8 lines of noise */
	arg(&g, "-iex");
	arg(&g, "set auto-load python-scripts off");
	if (sysroot && *sysroot) {
		add_sysroot(&g, sysroot);
		arg(&g, "-iex");
		arg(&g, "set auto-load libthread-db off");
	} else if (g.exe && g.exe->root[0]) {
		/* a gdb of another root (GCSCOPE_GDB) would look in its root's */
		arg(&g, "-iex");
		arg(&g, "set debug-file-directory /usr/lib/debug");
	}
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
	code = run_gdb(&g, true, argv[1], &said);
	gdb_argv_free(&g);
	/* run_gdb() said why: no gdb, or the commands could not load (a cut
	 * core then also gets the line below: the cause to act on) */
	if (said && code != EXIT_OK && (code == EXIT_NO_PROCESS || !ci.missing))
		return code;
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
