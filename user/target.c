// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "target.h"

/* How much of _Py_DebugOffsets is read: rule debug_offsets_size of
 * pylayout.tsv, as in gdb/gcscope_layout.py. */
#define DEBUG_OFFSETS_MAX PYL_RULE_DEBUG_OFFSETS_SIZE

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static bool pythonish(const char *path)
{
	return strstr(base_name(path), "python") != NULL;
}

/* Calls fn for each distinct file mapped at offset 0, python-looking names
 * first: the runtime is in the executable or in libpython3.X.so. */
static int each_image(struct procmaps *pm, int (*fn)(struct procmaps *, const struct mapping *, void *),
		      void *ctx)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < pm->n; i++) {
			const struct mapping *m = &pm->m[i];
			bool seen = false;
			int r;

			if (m->offset != 0 || pythonish(m->path) != (pass == 0))
				continue;
			for (int j = 0; j < i && !seen; j++)
				seen = pm->m[j].offset == 0 && !strcmp(pm->m[j].path, m->path);
			if (seen)
				continue;
			r = fn(pm, m, ctx);
			if (r)
				return r;
		}
	}
	return 0;
}

struct find_rt {
	struct pytarget *t;
	char *path;
	size_t size;
};

static int find_rt_cb(struct procmaps *pm, const struct mapping *m, void *p)
{
	struct find_rt *c = p;
	char open_path[PATH_MAX];
	struct elffile ef;
	struct elfsym sym;

	if (procmaps_open_path(pm, m, open_path, sizeof(open_path)))
		return 0;
	if (elf_open(&ef, open_path))
		return 0;
	if (elf_find_symbol(&ef, "_PyRuntime", &sym)) {
		elf_close(&ef);
		return 0;
	}
	if (c->t) {
		struct pytarget *t = c->t;

		snprintf(t->py_path, sizeof(t->py_path), "%s", m->path);
		snprintf(t->py_open, sizeof(t->py_open), "%s", open_path);
		procmaps_inside_path(pm, m->path, t->py_inside, sizeof(t->py_inside));
		t->elf = ef;
		t->bias = elf_load_bias(&ef, m->start);
		t->runtime_addr = t->bias + sym.value;
	} else {
		snprintf(c->path, c->size, "%s", open_path);
		elf_close(&ef);
	}
	return 1;
}

static uint32_t scan_version_memory(pid_t pid, struct elffile *ef, uint64_t bias,
				    uint32_t (*parse)(const char *, size_t));

/* A CPython too old to have _PyRuntime (before 3.7): a file that exports
 * the embedding API but no runtime.  Only for the message. */
struct find_old {
	char path[PATH_MAX];
	struct elffile elf;
	uint64_t bias;
	uint32_t version;
};

static int find_old_cb(struct procmaps *pm, const struct mapping *m, void *p)
{
	struct find_old *c = p;
	char open_path[PATH_MAX];
	struct elfsym sym;

	if (procmaps_open_path(pm, m, open_path, sizeof(open_path)) || elf_open(&c->elf, open_path))
		return 0;
	if (elf_find_symbol(&c->elf, "Py_Initialize", &sym) || elf_find_symbol(&c->elf, "Py_GetVersion", &sym) ||
	    elf_find_symbol(&c->elf, "PyEval_EvalCode", &sym) || !elf_find_symbol(&c->elf, "_PyRuntime", &sym)) {
		elf_close(&c->elf);
		return 0;
	}
	snprintf(c->path, sizeof(c->path), "%s", m->path);
	c->bias = elf_load_bias(&c->elf, m->start);
	return 1;
}

static bool old_cpython(struct procmaps *pm, pid_t pid, char *what, size_t size)
{
	struct find_old old = { .version = 0 };
	char v[32];

	if (each_image(pm, find_old_cb, &old) != 1)
		return false;
	old.version = scan_version_memory(pid, &old.elf, old.bias, parse_any_py_version);
	elf_close(&old.elf);
	if (old.version)
		py_version_str(old.version, v, sizeof(v));
	snprintf(what, size, "CPython %s (%s)", old.version ? v : "older than 3.7", old.path);
	return true;
}

int pytarget_old_cpython(pid_t pid, char *what, size_t size)
{
	struct procmaps pm;
	bool found;

	if (procmaps_read(&pm, pid))
		return 0;
	found = old_cpython(&pm, pid, what, size);
	procmaps_free(&pm);
	return found;
}

int pytarget_runtime_ready(pid_t pid, bool *version_known)
{
	static struct pytarget t;	/* large: keep it off the stack */
	struct find_rt c = { &t, NULL, 0 };
	const char *src;
	bool dbg;
	int r;

	memset(&t, 0, sizeof(t));
	t.elf.fd = -1;
	if (procmaps_read(&t.pm, pid))
		return -ESRCH;
	r = each_image(&t.pm, find_rt_cb, &c);
	if (r == 1) {
		*version_known = py_version_of(pid, &t.elf, t.bias, t.runtime_addr - t.bias, &src, &dbg) != 0;
		elf_close(&t.elf);
	}
	procmaps_free(&t.pm);
	return r == 1 ? 0 : -ENOENT;
}

int pytarget_read(const struct pytarget *t, uint64_t addr, void *buf, size_t len)
{
	return procmem_read(t->pid, addr, buf, len);
}

/* Py_GetVersion() writes "3.9.18 (main, May  9 2026, ...) [GCC ...]" into a
 * static buffer when the interpreter starts (sys.version).  3.9 and 3.10 keep
 * PY_VERSION nowhere else as a string (GCC folds the literal into code), so
 * look for that buffer in the runtime's writable segment (.data + .bss). */
static uint32_t scan_version_memory(pid_t pid, struct elffile *ef, uint64_t bias,
				    uint32_t (*parse)(const char *, size_t))
{
	static char buf[1 << 16];
	size_t n;

	if (elf_getphdrnum(ef->elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_W))
			continue;
		/* 16 MiB bounds the scan whatever the ELF claims. */
		for (uint64_t off = 0; off < ph.p_memsz && off < (16u << 20); off += sizeof(buf) - 64) {
			uint64_t len = ph.p_memsz - off < sizeof(buf) ? ph.p_memsz - off : sizeof(buf);
			uint32_t v;

			if (procmem_read(pid, bias + ph.p_vaddr + off, buf, len))
				continue;
			v = scan_py_getversion(buf, len, parse);
			if (v)
				return v;
		}
	}
	return 0;
}

uint32_t py_version_of(pid_t pid, struct elffile *ef, uint64_t bias, uint64_t runtime_vaddr,
		       const char **source, bool *debug_offsets)
{
	struct elfsym sym;
	char hdr[16];
	uint32_t v;

	*debug_offsets = false;
	/* _Py_DebugOffsets (3.13+) opens _PyRuntime: cookie, then version.  It
	 * is initialised data, so the file has it before the process runs. */
	if (!procmem_read(pid, bias + runtime_vaddr, hdr, sizeof(hdr)) ||
	    !elf_read_vaddr(ef, runtime_vaddr, hdr, sizeof(hdr))) {
		uint64_t dv;

		memcpy(&dv, hdr + 8, 8);
		*debug_offsets = !memcmp(hdr, PYL_RULE_DEBUG_OFFSETS_COOKIE, 8) && (dv >> 24) == 3;
	}
	/* Py_Version: const unsigned long = PY_VERSION_HEX, exported since 3.11. */
	if (!elf_find_symbol(ef, "Py_Version", &sym) && !elf_read_vaddr(ef, sym.value, &v, 4) && (v >> 24) == 3) {
		*source = "Py_Version";
		return v & 0xffffff00;
	}
	if (*debug_offsets) {
		uint64_t dv;

		memcpy(&dv, hdr + 8, 8);
		*source = "_Py_DebugOffsets";
		return (uint32_t)dv & 0xffffff00;
	}
	v = elf_scan_py_version(ef);
	if (v) {
		*source = ".rodata version string";
		return v;
	}
	v = scan_version_memory(pid, ef, bias, parse_py_version);
	if (v)
		*source = "Py_GetVersion() buffer";
	return v;
}

static void read_version(struct pytarget *t)
{
	t->version = py_version_of(t->pid, &t->elf, t->bias, t->runtime_addr - t->bias, &t->version_source,
				   &t->has_debug_offsets);
}

/* gc.generations from the main interpreter's gcstate->generation0, as the
 * gdb side does (pylayout_apply_generation0()).  Every pointer here is the
 * target's; a failed read leaves the value as it was. */
static void apply_generation0(struct pytarget *t)
{
	const struct pylayout *l = &t->layout;
	uint64_t interp, g0;

	if (!pyl_known(l, PYL_RUNTIME_INTERPRETERS_MAIN) || !pyl_known(l, PYL_INTERP_GC) ||
	    !pyl_known(l, PYL_GC_GENERATION0))
		return;
	if (pytarget_read(t, t->runtime_addr + (uint64_t)pyl(l, PYL_RUNTIME_INTERPRETERS_MAIN), &interp,
			  sizeof(interp)) || !interp)
		return;
	if (pytarget_read(t, interp + (uint64_t)pyl(l, PYL_INTERP_GC) + (uint64_t)pyl(l, PYL_GC_GENERATION0),
			  &g0, sizeof(g0)))
		return;
	pylayout_apply_generation0(&t->layout, interp + (uint64_t)pyl(l, PYL_INTERP_GC), g0);
}

static void resolve_layout(struct pytarget *t)
{
	if (pylayout_init(&t->layout, t->version) == 0)
		t->layout_ok = true;
	if (!t->no_dwarf) {
		t->dwarf = dwarfinfo_open(t->py_open, t->root_path, t->dwarf_where, sizeof(t->dwarf_where));
		if (t->dwarf) {
			pylayout_apply_dwarf(&t->layout, dwarfinfo_member_offset, t->dwarf);
			if (strcmp(dwarfinfo_file(t->dwarf), t->py_open) &&
			    !elf_open(&t->symelf, dwarfinfo_file(t->dwarf)))
				t->have_symelf = true;
		}
	} else {
		snprintf(t->dwarf_where, sizeof(t->dwarf_where), "not looked for (--no-debuginfo)");
	}
	if (t->has_debug_offsets) {
		static char buf[DEBUG_OFFSETS_MAX];
		size_t len = sizeof(buf);

		/* Read what is mapped; the struct is far smaller than the runtime. */
		while (len >= 512 && pytarget_read(t, t->runtime_addr, buf, len))
			len /= 2;
		if (len >= 512) {
			pylayout_apply_debug_offsets(&t->layout, buf, len);
			t->free_threaded = pylayout_free_threaded(&t->layout, buf, len);
			if (t->free_threaded)
				pylayout_forget_table(&t->layout);
		}
	}
	apply_generation0(t);
	if (t->layout.n_dwarf || t->layout.n_debug_offsets)
		t->layout_ok = true;
}

static int open_target(struct pytarget *t, pid_t pid, bool no_dwarf, char *err, size_t errsz)
{
	struct proc_status st;
	struct find_rt c;
	char path[64];
	int r;

	memset(t, 0, sizeof(*t));
	t->elf.fd = -1;
	t->symelf.fd = -1;
	t->asked_pid = pid;
	t->no_dwarf = no_dwarf;
	r = proc_status_read(pid, &st);
	if (r == -ENOENT || r == -ESRCH) {
		snprintf(err, errsz, "no process with pid %d", pid);
		return EXIT_NO_PROCESS;
	}
	/* -p TID: /proc/TID is there for any thread; its maps are its
	 * process's, but probes are attached to, and events filtered by, the
	 * process (tgid). */
	if (!r && st.tgid != pid) {
		pid_t tid = pid;

		pid = st.tgid;
		if (proc_status_read(pid, &st)) {
			snprintf(err, errsz, "no process with pid %d (thread %d has exited)", pid, tid);
			return EXIT_NO_PROCESS;
		}
		snprintf(t->note, sizeof(t->note), "pid %d is a thread of process %d: using process %d",
			 tid, pid, pid);
	}
	t->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_text_file(path, t->comm, sizeof(t->comm)) < 0)
		snprintf(t->comm, sizeof(t->comm), "?");
	tty_clean(t->comm, t->comm, sizeof(t->comm));	/* prctl(PR_SET_NAME) takes any bytes */
	/* A leader that called pthread_exit() is a zombie too, while its
	 * other threads run. */
	if (!r && (st.state == 'Z' || st.state == 'X') && st.threads <= 1) {
		snprintf(err, errsz, "process %d (%s) is a zombie: it has exited and waits for its parent "
			 "(pid %d) to reap it; there is nothing left to trace", pid, t->comm, st.ppid);
		return EXIT_NO_PROCESS;
	}
	r = procmaps_read(&t->pm, pid);
	if (r == -ENOENT || r == -ESRCH) {
		snprintf(err, errsz, "no process with pid %d", pid);
		return EXIT_NO_PROCESS;
	}
	if (r == -EACCES || r == -EPERM) {
		char why[256], map[256];

		if (read_text_file("/proc/self/uid_map", map, sizeof(map)) < 0)
			map[0] = '\0';
		maps_denied_reason(geteuid(), map[0] ? map : NULL, why, sizeof(why));
		snprintf(err, errsz, "cannot read /proc/%d/maps: %s: %s", pid, strerror(-r), why);
		return EXIT_PERMISSION;
	}
	if (r) {
		snprintf(err, errsz, "cannot read /proc/%d/maps: %s", pid, strerror(-r));
		return EXIT_NO_PROCESS;
	}
	if (t->pm.foreign_root)
		snprintf(t->root_path, sizeof(t->root_path), "/proc/%d/root", pid);
	else
		snprintf(t->root_path, sizeof(t->root_path), "/");

	c.t = t;
	if (each_image(&t->pm, find_rt_cb, &c) != 1) {
		char what[PATH_MAX + 64];

		if (old_cpython(&t->pm, pid, what, sizeof(what))) {
			snprintf(err, errsz, "process %d (%s) runs %s, which is not supported: gcscope needs "
				 "3.9 or later", pid, t->comm, what);
			return EXIT_UNSUPPORTED;
		}
		snprintf(err, errsz, "process %d (%s) is not running CPython: no mapped file defines _PyRuntime",
			 pid, t->comm);
		return EXIT_NOT_PYTHON;
	}
	read_version(t);
	if (!t->version) {
		snprintf(err, errsz, "cannot tell the CPython version of %s (no Py_Version, _Py_DebugOffsets "
			 "or version string; has the interpreter finished starting?)", t->py_path);
		return EXIT_UNSUPPORTED;
	}
	if (t->version < 0x03090000) {
		char v[32];

		snprintf(err, errsz, "CPython %s is not supported: gcscope needs 3.9 or later",
			 py_version_str(t->version, v, sizeof(v)));
		return EXIT_UNSUPPORTED;
	}
	resolve_layout(t);
	return EXIT_OK;
}

/* On failure nothing is left open: the caller only reports err. */
int pytarget_open(struct pytarget *t, pid_t pid, bool no_dwarf, char *err, size_t errsz)
{
	int code = open_target(t, pid, no_dwarf, err, errsz);

	if (code)
		pytarget_close(t);
	else if (t->note[0])
		p_info("%s", t->note);
	return code;
}

void pytarget_close(struct pytarget *t)
{
	dwarfinfo_close(t->dwarf);
	t->dwarf = NULL;
	if (t->have_symelf)
		elf_close(&t->symelf);
	t->have_symelf = false;
	elf_close(&t->elf);
	procmaps_free(&t->pm);
}
