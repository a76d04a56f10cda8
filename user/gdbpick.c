// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * Which gdb to run, and whether it can make inferior calls here.
 *
 * py-gc-types --check-traverse makes inferior calls (gdb/gcscope_infcall.py),
 * and a gdb older than 14 cannot make any on a CPU whose XSAVE area is larger
 * than the layouts it knows (Intel AMX: gdb 13.1 gives "Couldn't write
 * extended state status: Bad address.", the kernel refusing a
 * PTRACE_SETREGSET NT_X86_XSTATE shorter than its own xstate size; gdb 14
 * sizes the area from CPUID).  Debian 12 ships gdb 13.1.  So the gdb is
 * chosen by trying: `gdb` on PATH, then a gdb in one of the chroots that
 * tests/targets/chroot.sh keeps in gcscope's cache (trixie's is gdb 16.3),
 * which runs here through its own root's dynamic loader and libraries (its
 * python and data directory are found relative to its path).  The probe
 * attaches to a paused child of ours and calls getpid() in it: whether a
 * call works depends on the CPU, the kernel and gdb, not on the target.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "gdbpick.h"

#define PROBE_TIMEOUT_MS 30000

static bool ends_with(const char *s, const char *suffix, size_t *prefix_len)
{
	size_t n = strlen(s), m = strlen(suffix);

	if (n < m || strcmp(s + n - m, suffix))
		return false;
	*prefix_len = n - m;
	return true;
}

/* PT_INTERP of the ELF file at path, or false. */
static bool elf_interp(const char *path, char *out, size_t size)
{
	Elf *elf;
	size_t nph;
	bool ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF && !elf_getphdrnum(elf, &nph)) {
		for (size_t i = 0; i < nph && !ok; i++) {
			GElf_Phdr ph;
			char *raw;
			size_t len;

			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_INTERP)
				continue;
			raw = elf_rawfile(elf, &len);
			/* an untrusted file: the string must lie inside it */
			if (!raw || ph.p_offset >= len || ph.p_filesz == 0 || ph.p_filesz > len - ph.p_offset ||
			    ph.p_filesz >= size || raw[ph.p_offset + ph.p_filesz - 1] != '\0' ||
			    raw[ph.p_offset] != '/')
				break;
			memcpy(out, raw + ph.p_offset, ph.p_filesz);
			ok = true;
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return ok;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static bool find_in_path(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	const char *p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";

	while (*p) {
		size_t len = strcspn(p, ":");

		if (len && (size_t)snprintf(out, size, "%.*s/%s", (int)len, p, name) < size &&
		    access(out, X_OK) == 0)
			return true;
		p += len + (p[len] == ':');
	}
	return false;
}

bool gdbexe_init(struct gdbexe *e, const char *path)
{
	char found[PATH_MAX], real[PATH_MAX], interp[PATH_MAX], ours[PATH_MAX];
	size_t plen = 0;

	memset(e, 0, sizeof(*e));
	e->calls = -1;
	if (strchr(path, '/'))
		snprintf(found, sizeof(found), "%s", path);
	else if (!find_in_path(path, found, sizeof(found)))
		return false;
	if (access(found, X_OK) || !realpath(found, real))
		return false;
	snprintf(e->path, sizeof(e->path), "%s", found);
	if (!(ends_with(real, "/usr/bin/gdb", &plen) || ends_with(real, "/bin/gdb", &plen)) || plen == 0)
		return true;
	/* ROOT/usr/bin/gdb: of another root if ROOT holds the loader it names,
	 * and that loader is not ours */
	if (!elf_interp(real, interp, sizeof(interp)) ||
	    (size_t)snprintf(e->loader, sizeof(e->loader), "%.*s%s", (int)plen, real, interp) >= sizeof(e->loader) ||
	    access(e->loader, X_OK) || (snprintf(ours, sizeof(ours), "%s", interp), same_file(e->loader, ours))) {
		e->loader[0] = '\0';
		return true;
	}
	snprintf(e->root, sizeof(e->root), "%.*s", (int)plen, real);
	snprintf(e->path, sizeof(e->path), "%s", real);
	/* Debian's multiarch directories, then the plain ones */
	snprintf(e->libpath, sizeof(e->libpath), "%s/lib/x86_64-linux-gnu:%s/usr/lib/x86_64-linux-gnu:%s/lib:%s/usr/lib",
		 e->root, e->root, e->root, e->root);
	return true;
}

int gdbexe_argv(const struct gdbexe *e, const char *out[4])
{
	if (!e->root[0]) {
		out[0] = e->path;
		return 1;
	}
	out[0] = e->loader;
	out[1] = "--library-path";
	out[2] = e->libpath;
	out[3] = e->path;
	return 4;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* What gdb said when the call did not work: its last line that is not a
 * warning, a frame, our version line or the detach. */
static void probe_why(char *out, const char *text, size_t size)
{
	const char *p = text, *best = NULL;
	size_t best_len = 0;

	while (*p) {
		size_t len = strcspn(p, "\n");

		if (len && strncmp(p, "warning:", 8) && strncmp(p, "[Inferior", 9) && strncmp(p, "0x", 2) &&
		    strncmp(p, "gcscope-gdb-version ", 20) && strncmp(p, "[New ", 5) && p[0] != ' ' &&
		    p[0] != '\t') {
			best = p;
			best_len = len;
		}
		p += len + (p[len] == '\n');
	}
	if (!best) {
		snprintf(out, size, "no answer to the call");
		return;
	}
	if (best_len >= size)
		best_len = size - 1;
	memcpy(out, best, best_len);
	out[best_len] = '\0';
	tty_clean(out, out, size);
}

static void child_sets_env(const struct gdbexe *e)
{
	/* our PYTHONHOME/PYTHONPATH are for our python: another root's gdb has
	 * its own, found relative to its path */
	if (e->root[0]) {
		unsetenv("PYTHONHOME");
		unsetenv("PYTHONPATH");
	}
}

void gdbexe_probe(struct gdbexe *e)
{
	char attach[32], expect[48], text[16384];
	const char *av[32];
	int n, ready[2] = { -1, -1 }, out[2] = { -1, -1 }, wst = 0;
	size_t len = 0;
	pid_t child, gdb;
	long deadline;
	char c;

	e->calls = 0;
	e->version[0] = '\0';
	if (pipe2(ready, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		snprintf(e->why, sizeof(e->why), "pipe: %s", strerror(errno));
		goto close;
	}
	fflush(stdout);
	fflush(stderr);
	child = fork();
	if (child < 0) {
		snprintf(e->why, sizeof(e->why), "fork: %s", strerror(errno));
		goto close;
	}
	if (child == 0) {
		/* the process gdb attaches to: any gdb may (Yama), and it dies with us */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
		/* gdb's output pipe must see its end when gdb exits */
		close(out[0]);
		close(out[1]);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	ready[1] = -1;
	if (read(ready[0], &c, 1) != 1) {
		snprintf(e->why, sizeof(e->why), "the probe process did not start");
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		goto close;
	}
	snprintf(attach, sizeof(attach), "attach %d", (int)child);
	n = gdbexe_argv(e, av);
	const char *rest[] = { "--batch", "-nx", "-iex", "set debuginfod enabled off", "-iex", "set auto-load no",
			       "-ex", "python print('gcscope-gdb-version ' + gdb.VERSION)", "-ex", attach,
			       "-ex", "print ((int (*)(void))getpid)()", NULL };
	for (int i = 0; rest[i]; i++)
		av[n++] = rest[i];
	av[n] = NULL;
	gdb = fork();
	if (gdb == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(127);
		child_sets_env(e);
		execv(av[0], (char **)av);
		_exit(127);
	}
	close(out[1]);
	out[1] = -1;
	if (gdb < 0) {
		snprintf(e->why, sizeof(e->why), "fork: %s", strerror(errno));
	} else {
		deadline = now_ms() + PROBE_TIMEOUT_MS;
		for (;;) {
			struct pollfd pf = { .fd = out[0], .events = POLLIN };
			long left = deadline - now_ms();
			ssize_t r;

			if (left <= 0) {
				kill(gdb, SIGKILL);
				break;
			}
			if (poll(&pf, 1, (int)left) < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			if (!pf.revents)
				continue;
			if (len < sizeof(text) - 1)
				r = read(out[0], text + len, sizeof(text) - 1 - len);
			else
				r = read(out[0], attach, sizeof(attach));	/* drop the rest */
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			if (len < sizeof(text) - 1)
				len += (size_t)r;
		}
		text[len] = '\0';
		while (waitpid(gdb, &wst, 0) < 0 && errno == EINTR)
			;
		char *v = strstr(text, "gcscope-gdb-version ");

		if (v) {
			v += 20;
			snprintf(e->version, sizeof(e->version), "%.*s", (int)strcspn(v, "\n "), v);
			tty_clean(e->version, e->version, sizeof(e->version));
		}
		snprintf(expect, sizeof(expect), "$1 = %d\n", (int)child);
		if (strstr(text, expect))
			e->calls = 1;
		else if (len == 0 && WIFEXITED(wst) && WEXITSTATUS(wst) == 127)
			snprintf(e->why, sizeof(e->why), "it does not run");
		else if (now_ms() >= deadline)
			snprintf(e->why, sizeof(e->why), "no answer in %d s", PROBE_TIMEOUT_MS / 1000);
		else if (!v)
			snprintf(e->why, sizeof(e->why), "it has no python");
		else
			probe_why(e->why, text, sizeof(e->why));
	}
	kill(child, SIGKILL);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
close:
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
}

static void cache_dir(char *out, size_t size)
{
	const char *c = getenv("GCSCOPE_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");

	if (c && *c)
		snprintf(out, size, "%s", c);
	else if (x && *x)
		snprintf(out, size, "%s/gcscope", x);
	else
		snprintf(out, size, "%s/.cache/gcscope", h && *h ? h : "/root");
}

void gdbpick_choose(struct gdbpick *p, bool probe_forced)
{
	const char *env = getenv("GCSCOPE_GDB");
	char pattern[PATH_MAX + 32];
	glob_t gl;

	memset(p, 0, sizeof(*p));
	p->chosen = -1;
	if (env && *env) {
		p->forced = true;
		if (!gdbexe_init(&p->cand[0], env))
			return;
		p->n = 1;
		p->chosen = 0;
		if (probe_forced)
			gdbexe_probe(&p->cand[0]);
		return;
	}
	if (gdbexe_init(&p->cand[p->n], "gdb"))
		p->n++;
	cache_dir(pattern, sizeof(pattern) - 32);
	strcat(pattern, "/chroots/*/usr/bin/gdb");
	if (!glob(pattern, 0, NULL, &gl)) {
		for (size_t i = 0; i < gl.gl_pathc && p->n < GDBPICK_MAX; i++) {
			/* a chroot that chroot.sh has not finished is not trusted */
			char stamp[PATH_MAX + 16];
			size_t plen;

			if (!ends_with(gl.gl_pathv[i], "/usr/bin/gdb", &plen) ||
			    (size_t)snprintf(stamp, sizeof(stamp), "%.*s/.complete", (int)plen, gl.gl_pathv[i]) >=
				    sizeof(stamp) || access(stamp, F_OK))
				continue;
			if (gdbexe_init(&p->cand[p->n], gl.gl_pathv[i]))
				p->n++;
		}
		globfree(&gl);
	}
	for (int i = 0; i < p->n; i++) {
		gdbexe_probe(&p->cand[i]);
		if (p->cand[i].calls == 1) {
			p->chosen = i;
			/* the rest are not tried */
			p->n = i + 1;
			return;
		}
	}
	if (p->n)
		p->chosen = 0;
}

void gdbexe_name(const struct gdbexe *e, char *buf, size_t size)
{
	if (e->version[0])
		snprintf(buf, size, "gdb %s (%s)", e->version, e->path);
	else
		snprintf(buf, size, "gdb (%s)", e->path);
}

void gdbpick_note(const struct gdbpick *p, char *buf, size_t size)
{
	char name[PATH_MAX + 64], first[PATH_MAX + 64];

	buf[0] = '\0';
	if (p->chosen < 0 || p->forced)
		return;
	gdbexe_name(&p->cand[p->chosen], name, sizeof(name));
	gdbexe_name(&p->cand[0], first, sizeof(first));
	if (p->cand[p->chosen].calls == 1 && p->chosen > 0)
		snprintf(buf, size, "using %s%s: %s cannot make inferior calls here (%s), which "
			 "py-gc-types --check-traverse needs", name, p->cand[p->chosen].root[0] ?
			 ", run by its own root's loader" : "", first, p->cand[0].why);
	else if (p->cand[p->chosen].calls == 0)
		snprintf(buf, size, "%s cannot make inferior calls here (%s), and no other gdb was found "
			 "that can: py-gc-types --check-traverse will not work; give a gdb 14 or later "
			 "with GCSCOPE_GDB=PATH (docs/gdb.md)", first, p->cand[0].why);
}
