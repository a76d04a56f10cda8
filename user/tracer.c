// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gcscope.h"
#include "gcscope.skel.h"
#include "allocsite.h"
#include "bpfshare.h"
#include "common.h"
#include "correlate.h"
#include "heapowner.h"
#include "launch.h"
#include "objects.h"
#include "pystack.h"
#include "pythreads.h"
#include "qtaffinity.h"
#include "target.h"
#include "tracer.h"

/* --owners: uprobes on the tp_dealloc and tp_traverse of watched types,
 * by address. */
#define MAX_HOOKS 64

struct code_hook {
	uint64_t addr;
	struct bpf_link *link;
};

/* A uprobe of --types/--owners, with what attaches it again: the agent's
 * windows attach and detach them (tracer_walk()). */
struct ulink {
	struct bpf_program *prog;
	bool retprobe;
	uint64_t off, cookie;
	struct bpf_link *link;		/* NULL while detached */
};

struct tracer {
	struct tracer_opts opts;
	pid_t pid;
	bool launched, started;
	struct pytarget t;
	bool have_target;
	struct probe_plan plan;
	struct gcscope_bpf *obj;	/* its own, or the shared one (sm) */
	struct bpfshare_member *sm;	/* shared: its membership */
	bool loaded;			/* obj is its own and loaded */
	/* the collection probes: start and end (for this pid, in either object) */
	struct bpf_link *coll_links[2];
	/* the walk's sites, each with its recipe by cookie; and for --owners
	 * where creators are recorded (PyObject_GC_Track, each allocator's
	 * points past the type store or its uretprobe).  With
	 * opts.walk_windowed both are attached in windows only (tracer_walk) */
	struct ulink sites[GCSITE_MAX];
	int nsites;
	struct ulink own[1 + ARRAY_SIZE(((struct probe_plan *)0)->alloc) * ALLOCSITE_MAX];
	int nown;
	struct code_hook dealloc_hooks[MAX_HOOKS];
	int ndealloc_hooks;
	struct code_hook traverse_hooks[MAX_HOOKS];
	int ntraverse_hooks;
	int verdict_fd;
	bool qt_found;			/* Qt's layout is in the qt_cfg map */
	uint64_t qt_tried_ns;		/* when it was last looked for */
	int pidfd;
	bool reaped;
	int wait_status;		/* of a reaped child */
	struct objtrack *ot;		/* --types/--owners state */
	struct pystack *ps;		/* stack symbolizer, NULL if unavailable */
	struct pystack *fatal_ps;	/* without ps: decodes the fatal record's frames */
	struct pythreads *pt;		/* Python thread names, NULL if unavailable */
	char stack_why[256];		/* why not */
	struct correlator *corr;
	struct sinks *sinks;
	uint64_t lost_reported;
};

pid_t tracer_pid(const struct tracer *t)
{
	return t->pid;
}

int tracer_libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	if (!g_verbose || (level == LIBBPF_DEBUG && g_verbose < 2))
		return 0;
	return vfprintf(stderr, format, args);
}

/* the tracers' own objects loaded (attach thread and event loop) */
static int own_objects;

int tracer_bpf_objects(void)
{
	return __atomic_load_n(&own_objects, __ATOMIC_RELAXED) + bpfshare_objects();
}

static uint64_t read_counter(struct tracer *t, enum gcscope_counter c);

/* Attach p unless it is: 0 or -errno. */
static int ulink_attach(struct tracer *t, struct ulink *p)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = p->cookie, .retprobe = p->retprobe);

	if (p->link)
		return 0;
	p->link = bpf_program__attach_uprobe_opts(p->prog, t->pid, t->t.py_open, p->off, &opts);
	return p->link ? 0 : -errno;
}

static int ulinks_attach(struct tracer *t, struct ulink *p, int n)
{
	for (int i = 0; i < n; i++) {
		int err = ulink_attach(t, &p[i]);

		if (err)
			return err;
	}
	return 0;
}

static void ulinks_detach(struct ulink *p, int n)
{
	for (int i = 0; i < n; i++) {
		bpf_link__destroy(p[i].link);
		p[i].link = NULL;
	}
}

int tracer_walk(struct tracer *t, bool on)
{
	if (!t->ot || !t->opts.walk_windowed)
		return 0;
	/* stacks are windowed whenever the walk is (load_and_attach()) */
	if (t->ps && t->obj->bss)
		t->obj->bss->stack_window = on;
	if (!on) {
		ulinks_detach(t->own, t->nown);
		ulinks_detach(t->sites, t->nsites);
		return 0;
	}
	/* creators too: the window's own (bpf/objects.bpf.h owners_since) */
	if (t->nown && t->obj->bss) {
		struct timespec ts;
		int err;

		clock_gettime(CLOCK_MONOTONIC, &ts);	/* bpf_ktime_get_ns()'s clock */
		t->obj->bss->owners_since = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		err = ulinks_attach(t, t->own, t->nown);
		if (err) {
			tracer_walk(t, false);
			return p_err(EXIT_FAILURE_INTERNAL, "pid %d: failed to attach an allocation uprobe: %s", t->pid,
				     strerror(-err));
		}
	}
	{
		int err = ulinks_attach(t, t->sites, t->nsites);

		if (err) {
			tracer_walk(t, false);
			return p_err(EXIT_FAILURE_INTERNAL, "pid %d: failed to attach the walk's uprobe: %s", t->pid,
				     strerror(-err));
		}
	}
	return 0;
}

void tracer_walk_cost(struct tracer *t, uint64_t *ns, uint64_t *walks)
{
	*ns = t->obj ? read_counter(t, GCSCOPE_CNT_WALK_NS) : 0;
	*walks = t->obj ? read_counter(t, GCSCOPE_CNT_WALKS) : 0;
}

static uint64_t read_counter(struct tracer *t, enum gcscope_counter c)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(t->obj->maps.counters);
	uint32_t key = t->sm ? bpfshare_counter_key(t->sm, c) : c;
	uint64_t sum = 0, *vals;

	if (ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (bpf_map_lookup_elem(fd, &key, vals) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

/* Qt affinity: Qt's layout in the target into the qt_cfg map (after load;
 * again at the first QObject type if Qt was not loaded yet). */
static void qt_configure(struct tracer *t)
{
	struct gcscope_qt_cfg cfg;
	char why[256] = "";
	uint32_t zero = 0;

	if (!qtaff_layout(t->pid, pyl(&t->t.layout, PYL_OBJECT_OB_TYPE) + 8, &cfg, why, sizeof(why))) {
		p_debug("Qt affinity: %s", why);
		return;
	}
	if (why[0])
		p_warn("Qt affinity: %s", why);
	if (bpf_map_update_elem(bpf_map__fd(t->obj->maps.qt_cfg), &zero, &cfg, BPF_ANY))
		p_debug("cannot set the Qt layout: %s", strerror(errno));
	else
		t->qt_found = true;
}

static void set_verdict(void *ctx, uint64_t type, uint32_t verdict)
{
	struct tracer *t = ctx;
	__u64 key = type;
	__u32 v = verdict;

	/* a QObject type, and Qt was not found yet: look now */
	if (!t->qt_found && (verdict & GCSCOPE_QT_WRAPPER_MASK))
		qt_configure(t);
	if (bpf_map_update_elem(t->verdict_fd, &key, &v, BPF_ANY))
		p_debug("cannot set the verdict of type 0x%llx: %s", (unsigned long long)key, strerror(errno));
}

/* A uprobe of prog at addr, a code address in the target, once: in
 * hooks[] (*n of MAX_HOOKS).  The file mapping with the code gives the
 * path and offset: libpython, the executable, or an extension's .so.
 * not_py: refuse (-EPERM) the interpreter's own functions. */
static int hook_code(struct tracer *t, struct bpf_program *prog, struct code_hook *hooks, int *n, uint64_t addr,
		     bool not_py)
{
	struct procmaps pm;
	char path[PATH_MAX], inside[PATH_MAX];
	uint8_t endbr[4];
	uint64_t skip = 0;
	int r = -ENOENT;

	for (int i = 0; i < *n; i++)
		if (hooks[i].addr == addr)
			return 0;
	if (*n == MAX_HOOKS)
		return -ENOSPC;
	if (procmaps_read(&pm, t->pid))
		return -ESRCH;
	for (int i = 0; i < pm.n; i++) {
		const struct mapping *m = &pm.m[i];
		struct bpf_link *l;

		if (addr < m->start || addr >= m->end || m->perms[2] != 'x')
			continue;
		if (not_py) {
			procmaps_inside_path(&pm, m->path, inside, sizeof(inside));
			if (!strcmp(inside, t->t.py_inside)) {
				r = -EPERM;
				break;
			}
		}
		if (procmaps_open_path(&pm, m, path, sizeof(path)))
			break;
		/* past an endbr64 (see endbr_skip()): single-stepped, not emulated */
		if (!procmem_read(t->pid, addr, endbr, sizeof(endbr)) && endbr[0] == 0xf3 && endbr[1] == 0x0f &&
		    endbr[2] == 0x1e && endbr[3] == 0xfa && addr + 4 < m->end)
			skip = 4;
		l = bpf_program__attach_uprobe(prog, false, t->pid, path, addr + skip - m->start + m->offset);
		if (!l) {
			r = -errno;
			break;
		}
		hooks[*n].link = l;
		hooks[(*n)++].addr = addr;
		r = 0;
		break;
	}
	procmaps_free(&pm);
	return r;
}

/* --owners: the tp_dealloc of a watched type whose instances come from an
 * allocator not hooked (user/objects.c says which), to forget them. */
static int hook_dealloc(uint64_t addr, void *ctx)
{
	struct tracer *t = ctx;

	return hook_code(t, t->obj->progs.uprobe_dealloc, t->dealloc_hooks, &t->ndealloc_hooks, addr, false);
}

/* --owners: the tp_traverse of a watched type, to see a foreign thread's
 * collection enter it (bpf/objects.bpf.h traverse_enter()).  Only an
 * extension's own function: the interpreter's (subtype_traverse of every
 * Python class, the builtin types') run for every object of a collection,
 * and a uprobe on each call would cost the target more than the walk. */
static int hook_traverse(uint64_t addr, void *ctx)
{
	struct tracer *t = ctx;

	return hook_code(t, t->obj->progs.uprobe_traverse, t->traverse_hooks, &t->ntraverse_hooks, addr, true);
}

/* --owners on a free-threaded build: owners read from the heap at death
 * (user/heapowner.c), no allocator hooked.  Else, creators as on GIL builds,
 * and why not said with -v. */
static void heap_owners_configure(struct tracer *tr)
{
	struct heapowner_cfg cfg;
	char why[256];

	if (heapowner_layout(&tr->t, &cfg, why, sizeof(why))) {
		if (tr->t.free_threaded)
			p_warn("--owners: cannot read owners from the heap (%s): allocations are hooked instead, "
			       "at a cost per object made", why);
		return;
	}
	tr->obj->rodata->targ_heap_seg_mask = cfg.seg_mask;
	tr->obj->rodata->targ_heap_seg_thread = cfg.seg_thread;
	tr->obj->rodata->targ_heap_pthread_tid = cfg.pthread_tid;
	tr->obj->rodata->targ_heap_finalizing = cfg.finalizing;
	objtrack_set_heap_owners(tr->ot);
	p_debug("owners: from the mimalloc heap (segment thread id at %u, tid at %u of struct pthread)",
		cfg.seg_thread, cfg.pthread_tid);
}

/* --types/--owners before load: where to walk, what to watch. */
static int setup_objects(struct tracer *tr)
{
	struct gcscope_bpf *obj = tr->obj;
	const struct pytarget *t = &tr->t;
	const struct probe_plan *plan = &tr->plan;
	char why[512];

	if (!plan->nsites)
		return p_err(EXIT_NO_PROBE, "cannot see which objects collections destroy in pid %d: %s", t->pid,
			     plan->sites_why);
	tr->ot = objtrack_new(t, tr->opts.owners, (int)tr->opts.top, why, sizeof(why));
	if (!tr->ot)
		return p_err(EXIT_USAGE, "%s", why);
	if (objtrack_needs_creators(tr->ot))
		heap_owners_configure(tr);
	/* @qt alone reads owners at death: no allocator is hooked */
	if (objtrack_needs_creators(tr->ot) && !plan->nalloc)
		return p_err(EXIT_NO_PROBE, "--owners cannot see objects being created: %s", plan->alloc_why);
	obj->rodata->targ_qt = tr->opts.owners != NULL;
	obj->rodata->targ_types = true;
	obj->rodata->targ_owners = tr->opts.owners != NULL;
	obj->rodata->targ_owners_windowed = tr->opts.owners && tr->opts.walk_windowed;
	obj->rodata->targ_creators = objtrack_needs_creators(tr->ot);
	obj->rodata->targ_walk_cap = (uint32_t)tr->opts.max_objects;
	{
		/* GIL builds: a list of PyGC_Head linked by _gc_next; free-threaded:
		 * a worklist of objects linked by ob_tid (pylayout.tsv) */
		long head = t->free_threaded ? PYL_RULE_FREE_THREADED_GC_HEAD_SIZE : pyl(&t->layout, PYL_GC_HEAD_SIZEOF);
		long next = t->free_threaded ? pyl(&t->layout, PYL_OBJECT_OB_TID) : pyl(&t->layout, PYL_GC_HEAD_NEXT);
		long obt = pyl(&t->layout, PYL_OBJECT_OB_TYPE);

		if (head < 0 || next < 0 || obt < 0 || obt % 8 || next % 8 || next + 8 > head + obt + 8)
			return p_err(EXIT_UNSUPPORTED, "unexpected object header layout in %s", t->py_inside);
		obj->rodata->targ_gc_head_size = (uint64_t)head;
		obj->rodata->targ_off_next = (uint32_t)next;
		obj->rodata->targ_off_ob_type = obt;
		/* the walk reads PyGC_Head and the object header up to ob_type at once */
		obj->rodata->targ_hdr_len = (uint32_t)(head + obt + 8);
		if (obj->rodata->targ_hdr_len > 64)
			return p_err(EXIT_UNSUPPORTED, "unexpected object header layout in %s", t->py_inside);
	}
	obj->rodata->targ_off_tp_name = pyl(&t->layout, PYL_TYPE_TP_NAME);
	obj->rodata->targ_off_tp_flags = pyl(&t->layout, PYL_TYPE_TP_FLAGS);
	/* a new type's bases, read in BPF for a verdict taken after the exit */
	if (pyl_known(&t->layout, PYL_TYPE_TP_MRO) && pyl_known(&t->layout, PYL_TUPLE_OB_ITEM) &&
	    pyl_known(&t->layout, PYL_VAROBJECT_OB_SIZE)) {
		obj->rodata->targ_off_tp_mro = pyl(&t->layout, PYL_TYPE_TP_MRO);
		obj->rodata->targ_off_tuple_item = pyl(&t->layout, PYL_TUPLE_OB_ITEM);
		obj->rodata->targ_off_ob_size = pyl(&t->layout, PYL_VAROBJECT_OB_SIZE);
	}
	return 0;
}

/* Where in PyObject_GC_Track(op) to probe: past its first instruction when
 * that is Debian 3.11's "cmpq $0,-0x10(%rdi)" (is op tracked already?).
 * A uprobe on that instruction costs the target about 70 us a hit on the
 * test machine (kernel 6.18), one on the jne after it under 1 us (make
 * bench, Qt churn: PySide2 --owners Gadget 32x before, see docs/objects.md).
 * The compare changes no register, so op is still in rdi there. */
static uint64_t endbr_skip(const struct elffile *elf, uint64_t vaddr);

static uint64_t gc_track_skip(const struct elffile *elf, uint64_t vaddr)
{
	uint64_t at = endbr_skip(elf, vaddr);
	uint8_t c[5];

	if (elf_read_vaddr((struct elffile *)elf, vaddr + at, c, sizeof(c)))
		return at;
	return at + (c[0] == 0x48 && c[1] == 0x83 && c[2] == 0x7f && c[4] == 0x00 ? 5 : 0);
}

/* 4 if the function at vaddr starts with endbr64 (builds with
 * -fcf-protection: Debian trixie's 3.13, sid's 3.14/3.15), else 0.  The
 * kernel emulates a function's first push, but single-steps endbr64 out of
 * line, which cost trixie's 3.13 28x on PySide6's Qt churn with --owners
 * Gadget (make bench; PyObject_GC_Track).  endbr64 changes no register and
 * not the stack, so past it the arguments and the return address (for a
 * uretprobe) are where they were at the entry. */
static uint64_t endbr_skip(const struct elffile *elf, uint64_t vaddr)
{
	uint8_t c[4];

	if (elf_read_vaddr((struct elffile *)elf, vaddr, c, sizeof(c)))
		return 0;
	return c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa ? 4 : 0;
}

/* --owners from the heap: the functions that make extension types
 * (bpf/gcscope.bpf.c uprobe_type_ready), so that a watched type's
 * tp_traverse is hooked before its first collection, where no allocation
 * shows the type first.  PyType_FromMetaclass is 3.12+; the others 3.9+. */
static int attach_type_hooks(struct tracer *tr)
{
	/* PyType_Ready's return before its entry: a return whose entry was
	 * not seen is ignored, an entry whose return is not seen would not be */
	static const struct {
		const char *fn;
		bool ret;
	} makers[] = { { "PyType_Ready", true }, { "PyType_Ready", false }, { "PyType_FromMetaclass", true },
		       { "PyType_FromModuleAndSpec", true }, { "PyType_FromSpecWithBases", true },
		       { "PyType_FromSpec", true } };
	const struct pytarget *t = &tr->t;

	for (size_t i = 0; i < ARRAY_SIZE(makers); i++) {
		struct bpf_program *prog = i == 0 ? tr->obj->progs.uprobe_type_ready_ret :
					   i == 1 ? tr->obj->progs.uprobe_type_ready : tr->obj->progs.uprobe_type_made;
		struct elfsym s;
		uint64_t off;
		int err;

		if (elf_find_symbol((struct elffile *)&t->elf, makers[i].fn, &s) ||
		    elf_vaddr_to_offset((struct elffile *)&t->elf, s.value + endbr_skip(&t->elf, s.value), &off))
			continue;
		tr->own[tr->nown] = (struct ulink){ .prog = prog, .retprobe = makers[i].ret, .off = off };
		err = ulink_attach(tr, &tr->own[tr->nown]);
		if (err) {
			p_warn("cannot hook %s: %s; traversals of the extension types it makes are not seen until "
			       "one of their objects dies in a collection", makers[i].fn, strerror(-err));
			if (i == 0)
				i++;	/* no entry without its return */
			continue;
		}
		tr->nown++;
	}
	if (tr->opts.walk_windowed)
		ulinks_detach(tr->own, tr->nown);
	return 0;
}

/* After load: the walk's sites (each with its recipe, by cookie) and, for
 * --owners, the allocation and free hooks. */
static int attach_objects(struct tracer *tr)
{
	struct gcscope_bpf *obj = tr->obj;
	const struct pytarget *t = &tr->t;
	const struct probe_plan *plan = &tr->plan;
	int fd = bpf_map__fd(obj->maps.sites);

	tr->verdict_fd = bpf_map__fd(obj->maps.type_verdict);
	tr->nsites = 0;
	for (int i = 0; i < plan->nsites; i++) {
		const struct gcsite *s = &plan->sites[i];
		struct gcscope_site v = {
			.kind = s->kind == GCSITE_REG ? GCSCOPE_SITE_REG :
				s->kind == GCSITE_REG_OFF ? GCSCOPE_SITE_REG_OFF : GCSCOPE_SITE_MEM,
			.regoff = (uint32_t)gcsite_pt_regs_offset(s->dwarf_reg),
			.offset = s->offset,
		};
		uint32_t key = (uint32_t)i;
		uint64_t off;
		int err;

		if (bpf_map_update_elem(fd, &key, &v, BPF_ANY) ||
		    elf_vaddr_to_offset((struct elffile *)&t->elf, s->vaddr, &off))
			return p_err(EXIT_FAILURE_INTERNAL, "cannot prepare the probe at %s", s->how);
		tr->sites[tr->nsites++] = (struct ulink){ .prog = obj->progs.uprobe_collected, .off = off,
							  .cookie = (uint64_t)i };
		if (tr->opts.walk_windowed)
			continue;	/* tracer_walk() attaches it */
		err = ulink_attach(tr, &tr->sites[tr->nsites - 1]);
		if (err)
			return p_err(EXIT_FAILURE_INTERNAL, "failed to attach a uprobe at %s (0x%llx): %s", s->how,
				     (unsigned long long)s->vaddr, strerror(-err));
	}
	if (!tr->opts.owners)
		return 0;
	qt_configure(tr);
	objtrack_set_dealloc_hook(tr->ot, hook_dealloc, tr);
	objtrack_set_traverse_hook(tr->ot, hook_traverse, tr);
	if (objtrack_heap_owners(tr->ot))
		return attach_type_hooks(tr);
	if (!objtrack_needs_creators(tr->ot))
		return 0;
	{
		/* instances no allocator of the plan makes (shiboken's
		 * PyObject_GC_New, extensions' own): their first sight is
		 * PyObject_GC_Track, public API 3.9-3.14 */
		struct elfsym s;
		uint64_t off;

		if (!elf_find_symbol((struct elffile *)&t->elf, "PyObject_GC_Track", &s) &&
		    !elf_vaddr_to_offset((struct elffile *)&t->elf, s.value + gc_track_skip(&t->elf, s.value), &off)) {
			int err;

			tr->own[tr->nown] = (struct ulink){ .prog = obj->progs.uprobe_gc_track, .off = off };
			err = ulink_attach(tr, &tr->own[tr->nown]);
			if (!err)
				tr->nown++;
			else
				p_warn("cannot hook PyObject_GC_Track: %s; objects made by extensions that "
				       "allocate themselves are not tracked", strerror(-err));
		} else {
			p_warn("no PyObject_GC_Track in %s: objects made by extensions that allocate "
			       "themselves are not tracked", t->py_inside);
		}
	}
	for (int i = 0; i < plan->nalloc; i++) {
		const struct probe_sym *a = &plan->alloc[i];
		struct allocpoint pt[ALLOCSITE_MAX];
		char why[256];
		int np = allocsite_find((struct elffile *)&t->elf, a->vaddr, a->size, pyl(&t->layout, PYL_OBJECT_OB_TYPE),
					pt, ALLOCSITE_MAX, why, sizeof(why));
		int err = 0;

		/* past the type store, in each out-of-line copy: all, or none */
		for (int k = 0; k < np && !err; k++) {
			struct ulink *p = &tr->own[tr->nown + k];
			uint64_t off;

			err = -ENOENT;
			if (!elf_vaddr_to_offset((struct elffile *)&t->elf, pt[k].vaddr, &off)) {
				*p = (struct ulink){ .prog = obj->progs.uprobe_alloc_at, .off = off,
						     .cookie = (uint64_t)gcsite_pt_regs_offset(pt[k].dwarf_reg) };
				err = ulink_attach(tr, p);
			}
			if (err) {
				snprintf(why, sizeof(why), "cannot attach a uprobe at 0x%llx: %s",
					 (unsigned long long)pt[k].vaddr, strerror(-err));
				ulinks_detach(&tr->own[tr->nown], k);
			} else {
				p_debug("owners: %s: new instances at 0x%llx (reg %d), past the store of their type",
					a->name, (unsigned long long)pt[k].vaddr, pt[k].dwarf_reg);
			}
		}
		if (np > 0 && !err) {
			tr->nown += np;
			continue;
		}
		p_debug("owners: %s: a uretprobe (costs about twice as much): %s", a->name, why);
		tr->own[tr->nown] = (struct ulink){ .prog = obj->progs.uprobe_alloc_return, .retprobe = true,
						    .off = a->offset + endbr_skip(&t->elf, a->vaddr) };
		err = ulink_attach(tr, &tr->own[tr->nown]);
		if (err)
			return p_err(EXIT_FAILURE_INTERNAL, "failed to attach a uretprobe to %s: %s", a->name,
				     strerror(-err));
		tr->nown++;
	}
	/* the agent's windows attach them (tracer_walk()): attached here
	 * first, so that what cannot be attached is said now */
	if (tr->opts.walk_windowed)
		ulinks_detach(tr->own, tr->nown);
	return 0;
}

/* The collection probes: USDT gc__start/gc__done, or a uprobe/uretprobe
 * pair on the collector. */
static int attach_collector(struct tracer *tr)
{
	struct gcscope_bpf *obj = tr->obj;
	const struct pytarget *t = &tr->t;
	const struct probe_plan *p = &tr->plan;
	struct bpf_link *l;

	/* The end probe first: a collection whose start is seen then always
	 * has its end seen too.  (The other order lost every collection of a
	 * busy thread that entered one between the two attaches; on_start
	 * now also recovers from a missed end, bpf/gcscope.bpf.c.) */
	if (p->kind == PROBE_USDT) {
		l = bpf_program__attach_usdt(obj->progs.usdt_gc_done, t->pid, t->py_open, "python", "gc__done", NULL);
		if (!l)
			return -errno;
		tr->coll_links[1] = l;
		l = bpf_program__attach_usdt(obj->progs.usdt_gc_start, t->pid, t->py_open, "python", "gc__start", NULL);
		if (!l)
			return -errno;
		tr->coll_links[0] = l;
		return 0;
	}
	l = bpf_program__attach_uprobe(obj->progs.uprobe_collect_return, true, t->pid, t->py_open, p->func_offset);
	if (!l)
		return -errno;
	tr->coll_links[1] = l;
	l = bpf_program__attach_uprobe(obj->progs.uprobe_collect_entry, false, t->pid, t->py_open, p->func_offset);
	if (!l)
		return -errno;
	tr->coll_links[0] = l;
	return 0;
}

/* The collection that kills the process (bpf/fatal.bpf.h, docs/fatal.md):
 * always on, as it costs nothing until a fatal signal.  Its Python frames
 * are read with the stack layout, configured here without --stack too
 * (targ_stack stays false: no capture per collection). */
static void setup_fatal(struct tracer *tr)
{
	struct gcscope_bpf *obj = tr->obj;
	char why[256];

	obj->rodata->targ_fatal = true;
	if (pystack_configure_fatal(obj, &tr->t))
		return;
	if (tr->ps)
		return;
	if (!pystack_configure(obj, &tr->t, why, sizeof(why)))
		tr->fatal_ps = pystack_new(&tr->t, why, sizeof(why));
	obj->rodata->targ_stack = false;
	if (!tr->fatal_ps)
		obj->rodata->targ_fatal_names = false;
}

static void attach_fatal(struct tracer *tr)
{
	struct bpf_link *l = bpf_program__attach(tr->obj->progs.signal_generate);

	if (!l) {
		p_warn("cannot watch for fatal signals (tp_btf/signal_generate: %s): a collection "
		       "the target dies in will be reported without its signal", strerror(errno));
	}
	tr->obj->links.signal_generate = l;
	l = bpf_program__attach(tr->obj->progs.sched_process_exit);
	if (!l) {
		p_warn("cannot watch threads exit (tp_btf/sched_process_exit: %s): a collection the target "
		       "dies in will not be reported", strerror(errno));
		return;
	}
	tr->obj->links.sched_process_exit = l;
}

static int on_record(void *ctx, void *data, size_t size);

/* The agent: into the shared object of this target's build and
 * configuration (user/bpfshare.h), which the rodata configured so far
 * identifies once what is per target is out of it: that goes into the
 * object's targets map instead. */
static int join_shared(struct tracer *tr)
{
	struct gcscope_bpf *obj = tr->obj;
	const char *build = tr->t.elf.build_id[0] ? tr->t.elf.build_id : tr->t.py_inside;
	char why[512];
	int r;

	obj->rodata->targ_tgid = 0;
	obj->rodata->targ_runtime = 0;
	obj->rodata->targ_ps_runtime = 0;
	obj->rodata->targ_shared = true;
	r = bpfshare_join(&tr->obj, build, tr->opts.ringbuf_kb, tr->pid, tr->t.runtime_addr, on_record, tr, &tr->sm,
			  why, sizeof(why));
	if (r)
		return p_err(EXIT_FAILURE_INTERNAL, "failed to load BPF programs: %s", why);
	return 0;
}

/* BPF open, rodata, load, attach. */
static int load_and_attach(struct tracer *tr)
{
	struct pytarget *t = &tr->t;
	struct probe_plan *plan = &tr->plan;
	struct gcscope_bpf *obj;
	int code;

	obj = tr->obj = gcscope_bpf__open();
	if (!obj)
		return p_err(EXIT_FAILURE_INTERNAL, "failed to open BPF object: %s", strerror(errno));
	obj->rodata->targ_tgid = tr->pid;
	obj->rodata->targ_have_stats = plan->stats;
	obj->rodata->targ_runtime = t->runtime_addr;
	if (plan->stats) {
		obj->rodata->targ_off_interp_main = pyl(&t->layout, PYL_RUNTIME_INTERPRETERS_MAIN);
		obj->rodata->targ_off_interp_gc = pyl(&t->layout, PYL_INTERP_GC);
		obj->rodata->targ_off_gen_stats = pyl(&t->layout, PYL_GC_GENERATION_STATS);
		obj->rodata->targ_stats_stride = pyl(&t->layout, PYL_GC_STATS_SIZEOF);
		obj->rodata->targ_stats_ring = plan->shape.ring;
		obj->rodata->targ_st_collections = plan->shape.collections;
		obj->rodata->targ_st_collected = plan->shape.collected;
		obj->rodata->targ_st_uncollectable = plan->shape.uncollectable;
		obj->rodata->targ_st_candidates = plan->shape.candidates;
		obj->rodata->targ_st_heap_size = plan->shape.heap_size;
		for (int g = 0; g < 3; g++) {
			obj->rodata->targ_ring_base[g] = plan->shape.base[g];
			obj->rodata->targ_ring_index[g] = plan->shape.index[g];
			obj->rodata->targ_ring_len[g] = plan->shape.len[g];
		}
	}
	/* --owners reports the collecting thread's stack with each finding. */
	if (tr->opts.stack || tr->opts.owners || tr->opts.window_stacks) {
		/* Without a usable layout: say why once, trace without stacks. */
		if (!pystack_configure(obj, t, tr->stack_why, sizeof(tr->stack_why)))
			tr->ps = pystack_new(t, tr->stack_why, sizeof(tr->stack_why));
		if (!tr->ps) {
			obj->rodata->targ_stack = false;
			p_warn("no Python stacks: %s", tr->stack_why);
		} else if (tr->opts.walk_windowed || (!tr->opts.stack && !tr->opts.owners)) {
			/* windows only: captured while the walk is attached.
			 * Also the agent's --owners: its findings come from
			 * walks, which run in windows only, and reading every
			 * collection's stack would cost outside the budget */
			obj->rodata->targ_stack = false;
			obj->rodata->targ_stack_windowed = true;
		}
	}
	setup_fatal(tr);
	if (tr->opts.types || tr->opts.owners) {
		code = setup_objects(tr);
		if (code)
			return code;
	}
	/* The maps of a feature that is off, at one entry: hash maps are
	 * preallocated, and --owners' and --types' would take 39 MiB of
	 * kernel memory per traced process (bpftool's bytes_memlock on kernel
	 * 6.18: owners alone 28 MiB), for an agent watching 100 processes
	 * 3.9 GiB.  The programs that would use them check targ_owners and
	 * targ_types first. */
	if (!tr->opts.owners) {
		bpf_map__set_max_entries(obj->maps.owners, 1);
		bpf_map__set_max_entries(obj->maps.touched, 1);
		bpf_map__set_max_entries(obj->maps.entered, 1);
		bpf_map__set_max_entries(obj->maps.type_ready, 1);
	}
	if (!tr->opts.types && !tr->opts.owners) {
		bpf_map__set_max_entries(obj->maps.type_named, 1);
		bpf_map__set_max_entries(obj->maps.type_verdict, 1);
	}
	obj->rodata->targ_gen_in_parm2 = plan->gen_in_parm2;
	obj->rodata->targ_ret_is_total = plan->ret_is_total;
	obj->rodata->targ_total_tells_own = plan->total_tells_own;
	bpf_map__set_max_entries(obj->maps.events, (uint32_t)tr->opts.ringbuf_kb * 1024);
	/* a quarter of the buffer: early enough never to lose events to a
	 * sleeping reader, late enough to batch (see bpf/gcscope.bpf.c) */
	obj->rodata->targ_wakeup_bytes = (uint64_t)tr->opts.ringbuf_kb * 1024 / 4;
	bpf_program__set_autoload(obj->progs.usdt_gc_start, plan->kind == PROBE_USDT);
	bpf_program__set_autoload(obj->progs.usdt_gc_done, plan->kind == PROBE_USDT);
	bpf_program__set_autoload(obj->progs.uprobe_collect_entry, plan->kind == PROBE_UPROBE);
	bpf_program__set_autoload(obj->progs.uprobe_collect_return, plan->kind == PROBE_UPROBE);
	bpf_program__set_autoload(obj->progs.uprobe_collected, tr->ot != NULL);
	bpf_program__set_autoload(obj->progs.uprobe_alloc_return, tr->opts.owners != NULL);
	bpf_program__set_autoload(obj->progs.uprobe_alloc_at, tr->opts.owners != NULL);
	bpf_program__set_autoload(obj->progs.uprobe_gc_track, tr->opts.owners != NULL);
	bpf_program__set_autoload(obj->progs.uprobe_dealloc, tr->opts.owners != NULL);
	bpf_program__set_autoload(obj->progs.uprobe_traverse, tr->opts.owners != NULL);
	bpf_program__set_autoload(obj->progs.uprobe_type_ready, tr->opts.owners != NULL);
	bpf_program__set_autoload(obj->progs.uprobe_type_ready_ret, tr->opts.owners != NULL);
	bpf_program__set_autoload(obj->progs.uprobe_type_made, tr->opts.owners != NULL);

	if (tr->opts.share && !tr->opts.stack && !tr->ot && !tr->opts.owners) {
		code = join_shared(tr);
		if (code)
			return code;
		obj = tr->obj;
	} else {
		if (gcscope_bpf__load(obj))
			return p_err(EXIT_FAILURE_INTERNAL, "failed to load BPF programs: %s (run with -v for details)",
				     strerror(errno));
		tr->loaded = true;
		__atomic_add_fetch(&own_objects, 1, __ATOMIC_RELAXED);
	}
	code = attach_collector(tr);
	if (code)
		return p_err(EXIT_FAILURE_INTERNAL, "failed to attach %s probes to %s: %s",
			     probe_kind_name(plan->kind), t->py_open, strerror(-code));
	/* a shared object watches fatal signals once for all its targets */
	if (!tr->sm)
		attach_fatal(tr);
	if (tr->ot)
		return attach_objects(tr);
	return 0;
}

/* The agent attaches to many processes of one build: what DWARF gave the
 * first one (the layout, after _Py_DebugOffsets and generation0, and the
 * probe plan: both functions of the file alone) serves the others, which
 * are opened without their DWARF (seconds each for a -dbg build).  Keyed
 * by build-id; only the agent's attach thread uses it (opts.cache_plans). */
#define PLAN_CACHE_MAX 32

static struct plan_cache {
	char build_id[41];
	enum probe_kind probe;
	struct pylayout layout;
	struct probe_plan plan;
	char dwarf_where[PATH_MAX + 256];
} *plan_cache[PLAN_CACHE_MAX];
static int plan_cache_n;

static const struct plan_cache *plan_cache_find(const struct pytarget *t, enum probe_kind probe)
{
	if (!t->elf.build_id[0])
		return NULL;
	for (int i = 0; i < plan_cache_n; i++)
		if (!strcmp(plan_cache[i]->build_id, t->elf.build_id) && plan_cache[i]->probe == probe &&
		    plan_cache[i]->layout.version == t->version)
			return plan_cache[i];
	return NULL;
}

static void plan_cache_add(const struct pytarget *t, enum probe_kind probe, const struct probe_plan *plan)
{
	struct plan_cache *c;

	/* only what DWARF settled is worth keeping */
	if (!t->elf.build_id[0] || !t->dwarf || plan_cache_find(t, probe))
		return;
	if (plan_cache_n == PLAN_CACHE_MAX) {
		/* the oldest goes */
		free(plan_cache[0]);
		memmove(plan_cache, plan_cache + 1, sizeof(plan_cache[0]) * (PLAN_CACHE_MAX - 1));
		plan_cache_n--;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	snprintf(c->build_id, sizeof(c->build_id), "%s", t->elf.build_id);
	c->probe = probe;
	c->layout = t->layout;
	c->plan = *plan;
	snprintf(c->dwarf_where, sizeof(c->dwarf_where), "%s", t->dwarf_where);
	plan_cache[plan_cache_n++] = c;
}

int tracer_open(struct tracer **out, pid_t pid, bool launched, const struct tracer_opts *o, struct sinks *sinks)
{
	struct tracer *tr = calloc(1, sizeof(*tr));
	char err[PATH_MAX + 512];
	int code;

	*out = NULL;
	if (!tr) {
		if (launched) {
			kill(pid, SIGKILL);
			launch_release(pid);
			waitpid(pid, NULL, 0);
		}
		return p_err(EXIT_FAILURE_INTERNAL, "out of memory");
	}
	tr->opts = *o;
	tr->pid = pid;
	tr->launched = launched;
	tr->pidfd = -1;
	tr->sinks = sinks;

	bool cached = false;

	if (o->cache_plans && !o->no_debuginfo && !o->stack && !o->types && !o->owners) {
		/* without DWARF first: a build seen before needs none */
		const struct plan_cache *c;

		code = pytarget_open(&tr->t, pid, true, err, sizeof(err));
		if (code) {
			p_err(code, "%s", err);
			goto fail;
		}
		c = plan_cache_find(&tr->t, o->probe);
		if (c) {
			tr->t.layout = c->layout;
			tr->t.layout_ok = true;
			snprintf(tr->t.dwarf_where, sizeof(tr->t.dwarf_where), "%s (read once for this build)",
				 c->dwarf_where);
			tr->plan = c->plan;
			cached = true;
		} else {
			pytarget_close(&tr->t);
		}
	}
	if (!cached) {
		code = pytarget_open(&tr->t, pid, o->no_debuginfo, err, sizeof(err));
		if (code) {
			p_err(code, "%s", err);
			goto fail;
		}
	}
	tr->have_target = true;
	/* -p TID: pytarget_open() resolved the thread to its process (and
	 * said so): the BPF filter (targ_tgid) and the pidfd use that */
	tr->pid = pid = tr->t.pid;
	code = cached ? 0 : probe_plan(&tr->t, o->probe, &tr->plan);
	if (!code && (o->types || o->owners))
		probe_plan_objects(&tr->t, &tr->plan);
	if (code) {
		p_err(code, "cannot trace pid %d: %s", pid, tr->plan.missing);
		goto fail;
	}
	if (o->cache_plans && !cached && !o->stack && !o->types && !o->owners)
		plan_cache_add(&tr->t, o->probe, &tr->plan);
	p_debug("probe: %s; counts: %s", tr->plan.why, tr->plan.stats_why);
	/* The layout and the probe are resolved: the parsed DWARF (tens of MiB
	 * for a -dbg build) is not needed while tracing. */
	dwarfinfo_close(tr->t.dwarf);
	tr->t.dwarf = NULL;
	/* nor is a separate debug file's .symtab, which only the plan reads
	 * (user/probe.c): mapped, it is 1.3 MiB of resident file pages per
	 * target of Debian's python3.11-dbg, in an agent watching 100 */
	if (tr->t.have_symelf) {
		elf_close(&tr->t.symelf);
		tr->t.have_symelf = false;
	}

	code = load_and_attach(tr);
	if (code)
		goto fail;
	{
		char why[256];

		tr->pt = pythreads_new(&tr->t, why, sizeof(why));
		if (!tr->pt)
			p_debug("no Python thread names: %s", why);
	}
	tr->corr = correlator_new(&(struct correlator_config){
					  .min_ns = (uint64_t)(o->min_ms * 1e6),
					  .min_ms = o->min_ms,
					  .show_stack = o->stack,
					  .ps = tr->ps,
					  .ot = tr->ot,
					  .fatal_ps = tr->ps ? tr->ps : tr->fatal_ps,
					  .fatal_root = tr->t.pm.foreign_root ? tr->t.pm.root : "/",
					  .pt = tr->pt,
					  .set_verdict = set_verdict,
					  .ctx = tr,
					  .no_summary = o->no_summary,
				  },
				  sinks);
	if (!tr->corr) {
		code = p_err(EXIT_FAILURE_INTERNAL, "out of memory");
		goto fail;
	}
	if (!launched)
		tr->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* Attached: what was read of the target's maps and of its runtime's
	 * file is not needed while tracing (a later hook reads the maps
	 * again: hook_code()).  Kept, they were about 500 KiB of the agent's
	 * RSS per target of Debian's python3.11 (the maps' 4 KiB paths, and
	 * the pages of the ELF the plan read), 50 MiB for 100 targets (make
	 * bench, agent).  The root (pm.root) stays: the sinks show it. */
	procmaps_free(&tr->t.pm);
	elf_drop_pages(&tr->t.elf);
	*out = tr;
	return 0;
fail:
	tracer_close(tr, true);
	return code;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	if (correlator_feed(t->corr, data, size))
		p_debug("pid %d: dropped a malformed record of %zu bytes", t->pid, size);
	return 0;
}

int tracer_add_ring(struct tracer *t, struct ring_buffer **rb)
{
	int fd = bpf_map__fd(t->obj->maps.events);

	if (t->sm) {
		/* the object's one ring, dispatched by pid (user/bpfshare.c) */
		int r = bpfshare_add_ring(t->sm, rb);

		if (r)
			return p_err(EXIT_FAILURE_INTERNAL, "failed to add pid %d's shared ring buffer: %s", t->pid,
				     strerror(-r));
		return 0;
	}
	if (!*rb) {
		*rb = ring_buffer__new(fd, on_record, t, NULL);
		if (!*rb)
			return p_err(EXIT_FAILURE_INTERNAL, "failed to create ring buffer: %s", strerror(errno));
		bpfshare_ring_made(*rb);
		return 0;
	}
	if (ring_buffer__add(*rb, fd, on_record, t))
		return p_err(EXIT_FAILURE_INTERNAL, "failed to add pid %d's ring buffer: %s", t->pid, strerror(errno));
	return 0;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void tracer_start(struct tracer *tr)
{
	const struct pytarget *t = &tr->t;
	char v[32];
	struct gc_attach a = {
		.pid = (uint32_t)t->pid,
		.comm = t->comm,
		.python = v,
		.version_source = t->version_source,
		.binary = t->py_inside,
		.root = t->pm.foreign_root ? t->pm.root : "/",
		.probe = probe_kind_name(tr->plan.kind),
		.probe_detail = tr->plan.why,
		.counts = tr->plan.stats,
		.counts_why = tr->plan.stats_why,
		.launched = tr->launched,
		.stack_requested = tr->opts.stack,
		.stacks = tr->ps != NULL,
		.stacks_why = tr->stack_why,
		.mono_to_real = (int64_t)(now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC)),
	};

	py_version_str(t->version, v, sizeof(v));
	sinks_attach(tr->sinks, &a);
	/* shared: its records from now on, those that came before first */
	if (tr->sm)
		bpfshare_start(tr->sm);
	if (tr->launched) {
		launch_release(tr->pid);
		tr->started = true;
	}
}

void tracer_check_lost(struct tracer *t)
{
	/* Qt not loaded at attach (trace -- CMD, a late import): look for it
	 * every 250 ms of the event loop, so that its layout is in before
	 * QObjects die (a walk that meets them first cannot wait for it) */
	if (!t->qt_found && t->opts.owners && t->obj) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		if (now - t->qt_tried_ns >= 250000000ULL) {
			t->qt_tried_ns = now;
			qt_configure(t);
		}
	}

	uint64_t lost = read_counter(t, GCSCOPE_CNT_LOST) + (t->sm ? bpfshare_lost(t->sm) : 0);

	if (lost <= t->lost_reported)
		return;
	sinks_lost(t->sinks, lost - t->lost_reported, lost);
	fprintf(stderr, "gcscope: lost %llu collection events (ring buffer full; total %llu): "
		"try --ringbuf-kb or --min-ms\n", (unsigned long long)(lost - t->lost_reported),
		(unsigned long long)lost);
	t->lost_reported = lost;
}

/* How a process that is not our child ended, while it is a zombie its
 * parent has not reaped: /proc/PID/stat's exit_code (field 52, Linux 3.5+),
 * a wait status.  False once it is reaped (then nobody can tell). */
static bool zombie_status(pid_t pid, int *wstatus)
{
	char path[64], buf[1024], *p;
	int field = 3, len;	/* the state is field 3 */

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	len = read_text_file(path, buf, sizeof(buf));
	/* comm, field 2, may hold spaces and ')': the state follows the last ')' */
	if (len <= 0 || !(p = strrchr(buf, ')')) || p[1] != ' ' || p[2] != 'Z')
		return false;
	for (p += 2; *p && field < 52; p++)
		if (*p == ' ')
			field++;
	if (field != 52)
		return false;
	*wstatus = (int)strtol(p, NULL, 10);
	return true;
}

bool tracer_target_gone(struct tracer *t)
{
	struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };
	bool gone;

	if (t->launched) {
		if (waitpid(t->pid, &t->wait_status, WNOHANG) == t->pid) {
			t->reaped = true;
			return true;
		}
		return false;
	}
	if (t->pidfd >= 0)
		gone = poll(&pfd, 1, 0) > 0;
	else
		gone = kill(t->pid, 0) && errno == ESRCH;
	if (gone)
		t->reaped = zombie_status(t->pid, &t->wait_status);
	return gone;
}

void tracer_end(struct tracer *t, const char *reason, uint64_t wall_ns)
{
	struct gc_end e = { .reason = reason, .wall_ns = wall_ns };

	if (t->reaped && WIFEXITED(t->wait_status)) {
		e.exit_kind = GC_EXIT_STATUS;
		e.exit_value = WEXITSTATUS(t->wait_status);
	} else if (t->reaped && WIFSIGNALED(t->wait_status)) {
		e.exit_kind = GC_EXIT_SIGNAL;
		e.exit_value = WTERMSIG(t->wait_status);
	}
	e.lost = read_counter(t, GCSCOPE_CNT_LOST) + (t->sm ? bpfshare_lost(t->sm) : 0);
	e.unpaired = read_counter(t, GCSCOPE_CNT_NO_START) + read_counter(t, GCSCOPE_CNT_NO_DONE);
	correlator_end(t->corr, &e);
	if (t->ot && objtrack_untracked_line(t->ot))
		p_warn("%s", objtrack_untracked_line(t->ot));
	if (read_counter(t, GCSCOPE_CNT_STATS_FAULT))
		p_warn("generation_stats could not be read %llu times: counts may be missing",
		       (unsigned long long)read_counter(t, GCSCOPE_CNT_STATS_FAULT));
}

void tracer_close(struct tracer *t, bool failed)
{
	if (!t)
		return;
	ulinks_detach(t->sites, t->nsites);
	ulinks_detach(t->own, t->nown);
	for (int i = 0; i < t->ndealloc_hooks; i++)
		bpf_link__destroy(t->dealloc_hooks[i].link);
	for (int i = 0; i < t->ntraverse_hooks; i++)
		bpf_link__destroy(t->traverse_hooks[i].link);
	for (size_t i = 0; i < ARRAY_SIZE(t->coll_links); i++)
		bpf_link__destroy(t->coll_links[i]);
	if (t->sm) {
		/* the object is the registry's: the last to leave destroys it */
		bpfshare_leave(t->sm);
	} else {
		gcscope_bpf__destroy(t->obj);
		if (t->loaded)
			__atomic_sub_fetch(&own_objects, 1, __ATOMIC_RELAXED);
	}
	correlator_free(t->corr);
	objtrack_free(t->ot);
	pystack_free(t->ps);
	pystack_free(t->fatal_ps);
	pythreads_free(t->pt);
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->launched) {
		/* Still stopped if we failed before letting it go: it is ours, end it. */
		if (failed && !t->started) {
			kill(t->pid, SIGKILL);
			launch_release(t->pid);
		}
		/* Reap it if it is done; one that ignores our SIGINT is left
		 * running, as it would be without us. */
		if (!t->reaped)
			waitpid(t->pid, NULL, failed && !t->started ? 0 : WNOHANG);
	}
	if (t->have_target)
		pytarget_close(&t->t);
	free(t);
}
