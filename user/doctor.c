// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * gcscope doctor: what can be traced in a target, and why not.  It makes
 * the same choices as `trace` (user/probe.c) without loading anything.
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "allocsite.h"
#include "heapowner.h"
#include "common.h"
#include "gcstats.h"
#include "gdbpick.h"
#include "json.h"
#include "privs.h"
#include "probe.h"
#include "pystack.h"
#include "target.h"
#include "trace.h"

static struct {
	pid_t pid;
	enum probe_kind probe;
	bool no_debuginfo;
	bool layout;
} denv = { .probe = PROBE_AUTO };

/* Before "\v": above the options; after it: below them (argp). */
static const char doctor_doc[] =
	"Explain what gcscope can trace in a CPython process, and what is missing.\n"
	"\n"
	"USAGE: gcscope doctor [-j] [--layout] [--probe KIND] [--no-debuginfo] -p PID\n"
	"\v"
	"EXAMPLES:\n"
	"    gcscope doctor -p 4242           # which probe, which layout source, why\n"
	"    gcscope doctor -j -p 4242        # the same as one JSON object\n"
	"    gcscope doctor --layout -p 4242  # every CPython offset and its source\n"
	"\n"
	"Exits 0 when `gcscope trace` would work, else with the code trace would\n"
	"fail with (docs/exit-codes.md).\n";

static const struct argp_option doctor_opts[] = {
	{ "pid", 'p', "PID", 0, "The process to examine", 0 },
	{ "json", 'j', NULL, 0, "Print one JSON object", 0 },
	{ "probe", 1000, "KIND", 0, "As trace: auto, usdt or uprobe", 0 },
	{ "no-debuginfo", 1001, NULL, 0, "As trace: do not look for DWARF", 0 },
	{ "layout", 1002, NULL, 0, "Also list every layout value, its source and the table's value", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose debug output", 0 },
	/* -h as well as argp's own -?, --help and --usage */
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Give this help list", 0 },
	{},
};

static error_t parse_doctor_arg(int key, char *arg, struct argp_state *state)
{
	long v;

	switch (key) {
	case 'p':
		if (!parse_long(arg, 1, INT32_MAX, &v))
			argp_error(state, "invalid pid '%s': give a process id, e.g. -p 4242", arg);
		denv.pid = (pid_t)v;
		break;
	case 'j':
		g_json = true;
		break;
	case 'v':
		g_verbose++;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case 1000:
		if (!strcmp(arg, "auto"))
			denv.probe = PROBE_AUTO;
		else if (!strcmp(arg, "usdt"))
			denv.probe = PROBE_USDT;
		else if (!strcmp(arg, "uprobe"))
			denv.probe = PROBE_UPROBE;
		else
			argp_error(state, "invalid --probe '%s': use auto, usdt or uprobe", arg);
		break;
	case 1001:
		denv.no_debuginfo = true;
		break;
	case 1002:
		denv.layout = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!denv.pid)
			argp_error(state, "no target: give -p PID");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void layout_summary(const struct pytarget *t, char *buf, size_t size)
{
	const struct pylayout *l = &t->layout;

	snprintf(buf, size, "table column %s%s; %d values from DWARF, %d from _Py_DebugOffsets",
			     l->column >= 0 ? pyl_column_names[l->column] : "none (version not in table)",
		 l->free_threaded ? " (free-threaded: only its ft. rows and constants, the rest is for GIL builds)"
				  : "",
		 l->n_dwarf, l->n_debug_offsets);
}

static long table_value(const struct pylayout *l, int i)
{
	return pylayout_table_value(l, i);
}

static void print_layout_text(const struct pylayout *l)
{
	printf("\n  %-46s %8s  %-16s %s\n", "FIELD", "VALUE", "SOURCE", "TABLE");
	for (int i = 0; i < PYL__COUNT; i++) {
		long tv = table_value(l, i);
		char val[24], tab[24];

		if (l->off[i] >= 0)
			snprintf(val, sizeof(val), "%ld", l->off[i]);
		else
			snprintf(val, sizeof(val), "%s", l->off[i] == PYL_NONE ? "-" : "?");
		if (tv >= 0)
			snprintf(tab, sizeof(tab), "%ld", tv);
		else
			snprintf(tab, sizeof(tab), "%s", tv == PYL_NONE ? "-" : "?");
		printf("  %-46s %8s  %-16s %s%s\n", pyl_rows[i].name, val, pyl_source_name(l->src[i]), tab,
		       l->off[i] >= 0 && tv >= 0 && tv != l->off[i] ? "  (differs)" : "");
	}
}

static void print_layout_json(struct jw *w, const struct pylayout *l)
{
	jw_key_obj(w, "fields");
	for (int i = 0; i < PYL__COUNT; i++) {
		long tv = table_value(l, i);

		jw_key_obj(w, pyl_rows[i].name);
		if (l->off[i] >= 0)
			jw_int(w, "value", l->off[i]);
		else
			jw_null(w, "value");
		jw_str(w, "source", pyl_source_name(l->src[i]));
		if (tv >= 0)
			jw_int(w, "table", tv);
		else
			jw_null(w, "table");
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

/* The gdb `gcscope gdb` runs and whether it can make inferior calls here
 * (py-gc-types --check-traverse; gdbpick.c): a line of text, and whether
 * calls work (-1: no gdb). */
static int gdb_summary(char *buf, size_t size)
{
	static struct gdbpick pick;
	char name[PATH_MAX + 64];
	size_t len;

	gdbpick_choose(&pick, true);
	if (pick.chosen < 0) {
		snprintf(buf, size, "%s", pick.forced ? "GCSCOPE_GDB names no executable" : "not installed (install gdb)");
		return -1;
	}
	const struct gdbexe *e = &pick.cand[pick.chosen];

	gdbexe_name(e, name, sizeof(name));
	len = (size_t)snprintf(buf, size, "%s%s: %s%s%s", name, e->root[0] ? ", run by its own root's loader" : "",
			       e->calls == 1 ? "inferior calls work (py-gc-types --check-traverse)"
					     : "cannot make inferior calls here (", e->calls == 1 ? "" : e->why,
			       e->calls == 1 ? "" : "): py-gc-types --check-traverse will not work");
	for (int i = 0; i < pick.n && len < size; i++) {
		if (i == pick.chosen)
			continue;
		gdbexe_name(&pick.cand[i], name, sizeof(name));
		len += (size_t)snprintf(buf + len, size - len, "; %s cannot make inferior calls here (%s)", name,
					pick.cand[i].why);
	}
	return e->calls == 1;
}

static struct argp doctor_argp = {
	.options = doctor_opts,
	.parser = parse_doctor_arg,
	.doc = doctor_doc,
};

/* --owners: how each allocator of the plan is probed (user/allocsite.c):
 * the number of uprobes past the store of the type, 0 for an entry uprobe
 * and a uretprobe (why says why). */
static int alloc_points(struct pytarget *t, const struct probe_sym *a, char *why, size_t whylen)
{
	struct allocpoint pt[ALLOCSITE_MAX];

	return allocsite_find(&t->elf, a->vaddr, a->size, pyl(&t->layout, PYL_OBJECT_OB_TYPE), pt, ALLOCSITE_MAX,
			      why, whylen);
}

int cmd_doctor(int argc, char **argv)
{
	char err[PATH_MAX + 512], why[256], v[32], layout[1024], usdt[256], mem[512], tier_why[768];
	char gdb[4096];
	char stack_why[512] = "";
	bool stacks;
	struct probe_plan plan;
	struct pytarget t;
	struct elfsym sym;
	bool can_trace, debug_build, memory, ring, heap_ok;
	struct heapowner_cfg heap_cfg;
	char heap_why[256] = "";
	const char *tier;
	int code, n_usdt, gdb_calls;

	if (argp_parse(&doctor_argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	code = pytarget_open(&t, denv.pid, denv.no_debuginfo, err, sizeof(err));
	if (code)
		return p_err(code, "%s", err);
	can_trace = privs_can_trace(why, sizeof(why));
	code = probe_plan(&t, denv.probe, &plan);
	probe_plan_objects(&t, &plan);
	if (!code && !can_trace)
		code = EXIT_PERMISSION;
	py_version_str(t.version, v, sizeof(v));
	layout_summary(&t, layout, sizeof(layout));
	/* --stack: whether the layout has what the stack reader needs, and why
	 * not (e.g. free-threaded 3.14t+) */
	{
		struct pystack *ps = pystack_new(&t, stack_why, sizeof(stack_why));

		stacks = ps != NULL;
		if (ps)
			snprintf(stack_why, sizeof(stack_why), "Python frames of each collecting thread (--stack)");
		pystack_free(ps);
	}
	heap_ok = !heapowner_layout(&t, &heap_cfg, heap_why, sizeof(heap_why));
	/* Py_REF_DEBUG (implied by Py_DEBUG) defines _Py_NegativeRefcount. */
	debug_build = !elf_find_symbol(&t.elf, "_Py_NegativeRefcount", &sym);
	n_usdt = elf_count_usdt(&t.elf);
	/* The tier a watcher (gcscope agent) can have: BPF when trace would
	 * work, else the target's own counters read from its memory. */
	memory = gcstats_available(&t, mem, sizeof(mem));
	ring = memory && gcstats_has_ring(&t);
	if (!memory && !t.layout_ok)
		snprintf(mem, sizeof(mem), "the layout of CPython %s is not known (not in the table, no "
			 "_Py_DebugOffsets, no debug info)", v);
	tier = code == 0 ? "bpf" : memory ? "memory" : "none";
	if (code == 0)
		snprintf(tier_why, sizeof(tier_why), "BPF: every collection, its pause and thread%s",
			 memory ? "; without BPF the counters would still be readable" : "");
	else if (memory)
		snprintf(tier_why, sizeof(tier_why), "counters from the target's memory only (%s), because BPF "
			 "cannot be used: %s", ring ? "and its per-collection records" : "no per-collection records "
			 "before 3.15", plan.kind ? why : plan.missing);
	else
		snprintf(tier_why, sizeof(tier_why), "none: BPF cannot be used (%s) and the counters cannot be "
			 "read (%s)", plan.kind ? why : plan.missing, mem);
	gdb_calls = gdb_summary(gdb, sizeof(gdb));
	if (plan.usdt_present)
		snprintf(usdt, sizeof(usdt), "python:gc__start, python:gc__done (%d notes; semaphores %s)",
			 n_usdt, plan.usdt_start.semaphore ? "yes" : "no");
	else
		snprintf(usdt, sizeof(usdt), "%s", n_usdt ? "notes, but no python:gc__start/gc__done"
							  : "none (not built --with-dtrace)");

	if (g_json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_str(&w, "type", "doctor");
		jw_uint(&w, "pid", t.pid);
		jw_str(&w, "comm", t.comm);
		jw_str(&w, "root", t.pm.foreign_root ? t.pm.root : "/");
		jw_str(&w, "binary", t.py_inside);
		jw_str(&w, "opened_as", t.py_open);
		jw_str(&w, "python", v);
		jw_str(&w, "version_source", t.version_source);
		jw_bool(&w, "debug_build", debug_build);
		jw_bool(&w, "free_threaded", t.free_threaded);
		jw_bool(&w, "usdt", plan.usdt_present);
		jw_bool(&w, "symtab", t.elf.has_symtab);
		jw_str(&w, "collector_symbol", plan.func_found ? plan.func : NULL);
		jw_str(&w, "debuginfo", t.dwarf ? dwarfinfo_file(t.dwarf) : NULL);
		jw_str(&w, "debuginfo_detail", t.dwarf_where);
		jw_str(&w, "layout", layout);
		jw_str(&w, "probe", probe_kind_name(plan.kind));
		jw_str(&w, "probe_detail", plan.kind ? plan.why : plan.missing);
		jw_bool(&w, "counts", plan.stats);
		jw_str(&w, "counts_detail", plan.stats_why);
		jw_bool(&w, "objects", plan.nsites > 0);
		jw_str(&w, "objects_detail", plan.nsites ? plan.sites[0].how : plan.sites_why);
		if (gdb_calls < 0)
			jw_null(&w, "gdb_calls");
		else
			jw_bool(&w, "gdb_calls", gdb_calls == 1);
		jw_str(&w, "gdb_detail", gdb);
		jw_bool(&w, "stacks", stacks);
		jw_str(&w, "stacks_detail", stack_why);
		jw_bool(&w, "privileges_ok", can_trace);
		jw_bool(&w, "memory_tier", memory);
		jw_str(&w, "memory_tier_detail", mem);
		jw_bool(&w, "records", ring);
		jw_str(&w, "tier", tier);
		jw_str(&w, "tier_detail", tier_why);
		/* --owners: from the heap (free-threaded builds) or the allocators */
		jw_str(&w, "owners_from", heap_ok ? "heap" : "allocators");
		jw_str(&w, "owners_from_detail", heap_ok ? NULL : heap_why);
		jw_key_arr(&w, "allocators");
		for (int i = 0; i < plan.nalloc; i++) {
			char why[256];
			int np = alloc_points(&t, &plan.alloc[i], why, sizeof(why));

			jw_obj_begin(&w);
			jw_str(&w, "name", plan.alloc[i].name);
			jw_str(&w, "probe", np ? "type_store" : "uretprobe");
			jw_int(&w, "uprobes", np);
			jw_str(&w, "detail", np ? NULL : why);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_bool(&w, "can_trace", code == 0);
		jw_int(&w, "exit_code", code);
		if (denv.layout) {
			jw_str(&w, "layout_column", t.layout.column >= 0 ? pyl_column_names[t.layout.column] : NULL);
			print_layout_json(&w, &t.layout);
		}
		jw_obj_end(&w);
		jw_line(&w);
	} else {
		p_line("gcscope doctor: pid %d (%s)", t.pid, t.comm);
		if (t.pm.foreign_root)
			p_line("  root          %s (own root: container or chroot; files opened through /proc/%d/root)",
			       t.pm.root, t.pid);
		p_line("  runtime       _PyRuntime in %s", t.py_inside);
		p_line("  version       CPython %s (from %s)%s%s", v, t.version_source,
		       debug_build ? ", debug build" : "", t.free_threaded ? ", free-threaded" : "");
		p_line("  usdt          %s", usdt);
		p_line("  symbols       %s; collector %s", t.elf.has_symtab ? ".symtab present" : "no .symtab (stripped)",
		       plan.func_found ? plan.func : "not found");
		p_line("  debug info    %s", t.dwarf ? dwarfinfo_file(t.dwarf) : t.dwarf_where);
		p_line("  layout        %s", layout);
		p_line("  privileges    %s", can_trace ? "ok" : why);
		p_line("  collections   %s", plan.kind ? plan.why : plan.missing);
		p_line("  counts        %s", plan.stats ? plan.stats_why : plan.stats_why[0] ? plan.stats_why : "no");
		p_line("  no BPF        %s%s", memory ? "counters readable from memory: " : "counters not readable: ",
		       mem);
		p_line("  tier          %s", tier_why);
		if (!plan.nsites)
			p_line("  objects       not available: %s", plan.sites_why);
		if (heap_ok)
			p_line("  owners        read from the mimalloc heap that holds each object when it dies "
			       "(free-threaded build): no allocation hooked");
		else if (t.free_threaded)
			p_line("  owners        not from the heap: %s", heap_why);
		if (heap_ok) {
			/* the allocators are not hooked */
		} else if (plan.nalloc) {
			char list[512] = "";
			size_t len = 0;

			for (int i = 0; i < plan.nalloc && len < sizeof(list); i++)
				len += snprintf(list + len, sizeof(list) - len, "%s %s", i ? "," : "",
						plan.alloc[i].name);
			p_line("  owners        new instances from%s", list);
			/* how each is probed (user/allocsite.c) */
			for (int i = 0; i < plan.nalloc; i++) {
				char why[256];
				int np = alloc_points(&t, &plan.alloc[i], why, sizeof(why));

				if (np)
					p_line("  owners        %s: %d uprobe%s past the store of the type", plan.alloc[i].name,
					       np, np > 1 ? "s" : "");
				else
					p_line("  owners        %s: entry uprobe and uretprobe (twice the cost): %s",
					       plan.alloc[i].name, why);
			}
		} else {
			p_line("  owners        not available: %s", plan.alloc_why);
		}
		p_line("  stacks        %s%s", stacks ? "" : "not available: ", stack_why);
		for (int i = 0; i < plan.nsites; i++)
			p_line("  objects       %s, at 0x%llx (%s %d%+lld)", plan.sites[i].how,
			       (unsigned long long)plan.sites[i].vaddr,
			       plan.sites[i].kind == GCSITE_MEM ? "*reg" : "reg", plan.sites[i].dwarf_reg,
			       (long long)plan.sites[i].offset);
		p_line("  gdb           %s", gdb);
		if (denv.layout)
			print_layout_text(&t.layout);
		printf("\n");
		if (code == 0)
			p_line("`gcscope trace -p %d` will trace every collection via %s.", t.pid,
			       probe_kind_name(plan.kind));
		else
			p_line("`gcscope trace -p %d` would fail (exit code %d): %s", t.pid, code,
			       plan.kind ? why : plan.missing);
	}
	pytarget_close(&t);
	return code;
}
