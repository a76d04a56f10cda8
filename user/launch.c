// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "elfinfo.h"
#include "launch.h"
#include "target.h"

/* The DT_NEEDED libpython and libc of the current executable, "" if none
 * (a static interpreter has _PyRuntime in the executable itself).  libc is
 * waited for too: --owners reads its thread layout before the probes load
 * (user/libcthread.c), and a statically linked interpreter's runtime is
 * there at the exec, before the dynamic loader maps libc. */
static void needed_libs(pid_t pid, char *py, size_t pysize, char *libc, size_t libcsize)
{
	char exe[64];
	struct elffile ef;

	py[0] = libc[0] = '\0';
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (elf_open(&ef, exe))
		return;
	elf_find_needed(&ef, "libpython", py, pysize);
	elf_find_needed(&ef, "libc.so", libc, libcsize);
	elf_close(&ef);
}

static bool maps_mention(pid_t pid, const char *name)
{
	char path[64], line[PATH_MAX + 128];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

int launch_until_python(char *const argv[], pid_t *pidp, char *err, size_t errsz)
{
	char needed[256] = "", libc[256] = "", what[PATH_MAX + 64];
	bool have_runtime = false, old_checked = false;
	int pipefd[2], status, child_errno = 0, sig = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC)) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		return EXIT_FAILURE_INTERNAL;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errsz, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return EXIT_FAILURE_INTERNAL;
	}
	if (pid == 0) {
		int e;

		close(pipefd[0]);
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execvp(argv[0], argv);
		e = errno;
		if (write(pipefd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pipefd[1]);
	if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status)) {
		if (read(pipefd[0], &child_errno, sizeof(child_errno)) != sizeof(child_errno))
			child_errno = 0;
		close(pipefd[0]);
		snprintf(err, errsz, "cannot run %s: %s", argv[0],
			 child_errno ? strerror(child_errno) : "it exited at once");
		return EXIT_NO_PROCESS;
	}
	close(pipefd[0]);
	/* Stopped by SIGTRAP after the first execve().  Kill the child if we die
	 * before letting it go, rather than leaving it stopped forever. */
	ptrace(PTRACE_SETOPTIONS, pid, NULL,
	       (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
	needed_libs(pid, needed, sizeof(needed), libc, sizeof(libc));

	for (;;) {
		bool exec_event;

		bool version_known = false;

		/* With a libpython dependency, look at each syscall stop of the
		 * dynamic loader until the library is mapped; otherwise only exec
		 * events matter (a shell script, a shim).  3.9/3.10 state their
		 * version only once Py_GetVersion() ran: step on until then. */
		if (have_runtime || !needed[0] || maps_mention(pid, needed)) {
			if (pytarget_runtime_ready(pid, &version_known) == 0) {
				have_runtime = true;
				/* the mapping may be named libc-2.31.so (glibc < 2.34:
				 * libc.so.6 is a link) */
				if (version_known && (!libc[0] || maps_mention(pid, "/libc.so") ||
						      maps_mention(pid, "/libc-"))) {
					*pidp = pid;
					return EXIT_OK;
				}
			} else if (!old_checked) {
				/* python2.7, 3.6: the interpreter is there, and will
				 * never have a _PyRuntime */
				old_checked = true;
				if (pytarget_old_cpython(pid, what, sizeof(what))) {
					snprintf(err, errsz, "%s runs %s, which is not supported: gcscope needs "
						 "3.9 or later", argv[0], what);
					kill(pid, SIGKILL);
					waitpid(pid, NULL, 0);
					return EXIT_UNSUPPORTED;
				}
			}
		}
		if (ptrace(needed[0] || have_runtime ? PTRACE_SYSCALL : PTRACE_CONT, pid, NULL,
			   (void *)(long)sig) < 0) {
			snprintf(err, errsz, "ptrace: %s", strerror(errno));
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return EXIT_FAILURE_INTERNAL;
		}
		sig = 0;
		if (waitpid(pid, &status, 0) < 0) {
			snprintf(err, errsz, "waitpid: %s", strerror(errno));
			return EXIT_FAILURE_INTERNAL;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			snprintf(err, errsz, "%s ended (%s %d) without running CPython", argv[0],
				 WIFEXITED(status) ? "exit status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			return EXIT_NOT_PYTHON;
		}
		exec_event = (status >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8));
		if (exec_event) {
			have_runtime = false;
			old_checked = false;
			needed_libs(pid, needed, sizeof(needed), libc, sizeof(libc));
			continue;
		}
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			continue;	/* a syscall stop */
		sig = WSTOPSIG(status);	/* a real signal: deliver it */
	}
}

void launch_release(pid_t pid)
{
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
}
