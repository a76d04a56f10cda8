# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""CPython layout for the gdb side: user/pylayout.tsv, then _Py_DebugOffsets, then DWARF.

The table is the one source of truth shared with the C side (see its header
comment).  At run time a value is taken, in this order of trust, from:
  1. DWARF (gdb.lookup_type on the row's "dwarf" spec), when the target's
     debug info is loaded;
  2. _Py_DebugOffsets (3.13+), the struct at _PyRuntime+0 whose cookie is
     rule debug_offsets_cookie: the row's "pydebug" column names the row
     giving the position of the value inside that struct (plus N for
     "...+N");
  3. the table's column for the target's version (the column.* rows).
Then gc.generations may be settled by gcstate->generation0.  The rules
(bounds, cookie, free-threaded flag, column coverage) are the table's
"rule" lines and column.* rows too, so that this resolves what
user/pylayout.c and user/target.c resolve: py-gc-layout -j against
`gcscope doctor --layout -j` (tests/gdb/test_gdb_layout.py) checks it.
The version itself always comes from the target, never from a file name.
"""
import os
import re

import gdb

from gcscope_mem import GcScopeError

HERE = os.path.dirname(os.path.abspath(__file__))
# Installed: $(PREFIX)/share/gcscope/{gdb/,pylayout.tsv}; source tree: gdb/ and user/.
TSV_CANDIDATES = (os.path.join(HERE, "..", "pylayout.tsv"),
                  os.path.join(HERE, "..", "user", "pylayout.tsv"))

_table = None


def table_path():
    env = os.environ.get("GCSCOPE_LAYOUT")
    if env:
        return env
    for p in TSV_CANDIDATES:
        if os.path.exists(p):
            return os.path.normpath(p)
    raise GcScopeError("pylayout.tsv not found (looked in %s)" %
                       ", ".join(os.path.normpath(p) for p in TSV_CANDIDATES))


def load_table():
    """{"columns": [...], "rows": {field: (dwarf, pydebug, {column: value|None})},
    "rules": {name: int|str}, "path": ...}; its format is gen-pylayout.awk's."""
    global _table
    if _table is not None:
        return _table
    path = table_path()
    columns = None
    rows = {}
    rules = {}
    absent = set()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# field\t"):
                columns = line[2:].split("\t")[3:]
                continue
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if cols[0] == "rule":
                # "rule NAME VALUE": one setting shared with the C side
                if len(cols) != 3:
                    raise GcScopeError("%s: malformed rule: %s" % (path, line[:60]))
                rules[cols[1]] = int(cols[2]) if cols[2].isdigit() else cols[2]
                continue
            if columns is None or len(cols) != len(columns) + 3:
                raise GcScopeError("%s: malformed row: %s" % (path, line[:60]))
            vals = {}
            for c, v in zip(columns, cols[3:]):
                # "-": no such field in that version; "?": not measured.
                vals[c] = None if v in ("-", "?") else int(v, 0)
                if v == "-":
                    absent.add((cols[0], c))
            rows[cols[0]] = (cols[1], cols[2], vals)
    if columns is None:
        raise GcScopeError("%s: no '# field' header line" % path)
    missing = [r for r in RULES if r not in rules]
    if missing:
        raise GcScopeError("%s: no rule %s" % (path, ", ".join(missing)))
    _table = {"columns": columns, "rows": rows, "rules": rules, "path": path,
              "absent": {k: True for k in absent}}
    return _table


# The rules gcscope_layout.py needs from the table (pylayout.tsv explains each).
RULES = ("max_offset", "debug_offsets_cookie", "debug_offsets_size", "free_threaded",
         "generations_align", "free_threaded_table_rows", "free_threaded_gc_head_size")


def rule(name):
    return load_table()["rules"][name]


def column_for(version):
    """Table column covering (major, minor, micro), or None: the column of that
    major.minor whose column.first_micro..column.last_micro rows hold micro."""
    major, minor, micro = version[:3]
    t = load_table()
    first = t["rows"]["column.first_micro"][2]
    last = t["rows"]["column.last_micro"][2]
    for c in t["columns"]:
        if tuple(int(x) for x in c.split(".")[:2]) != (major, minor):
            continue
        if first[c] is not None and last[c] is not None and first[c] <= micro <= last[c]:
            return c
    return None


# ---------------------------------------------------------------- symbols

def symbol_address(name):
    """Address of a (possibly minimal, i.e. .dynsym-only) symbol, or None."""
    try:
        v = gdb.parse_and_eval("&'%s'" % name)
        return int(v.cast(gdb.lookup_type("unsigned long")))
    except (gdb.error, RuntimeError):
        return None


# ---------------------------------------------------------------- DWARF

def _lookup_type(name):
    for n in (name, "struct " + name):
        try:
            return gdb.lookup_type(n)
        except (gdb.error, RuntimeError):
            continue
    return None


def _find_member(t, name):
    """(byte offset, type) of member name of struct/union t, looking into
    anonymous members at any depth (3.14's PyObject has ob_refcnt in an
    anonymous struct inside an anonymous union), or None."""
    t = t.strip_typedefs()
    if t.code not in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
        return None
    for f in t.fields():
        if f.bitsize or f.bitpos % 8:
            continue
        if f.name == name:
            return f.bitpos // 8, f.type
        if f.name is None:
            sub = _find_member(f.type, name)
            if sub is not None:
                return f.bitpos // 8 + sub[0], sub[1]
    return None


def _member_offset(t, path):
    """Offset of dotted member path in type t, or None."""
    off = 0
    for part in path.split("."):
        found = _find_member(t, part)
        if found is None:
            return None
        off += found[0]
        t = found[1]
    return off


def dwarf_value(spec):
    """Resolve a "TYPE:MEMBER.PATH|ALT" or "TYPE:sizeof" spec; (value, note)."""
    if not spec or spec == "-":
        return None, None
    tname, paths = spec.split(":", 1)
    t = _lookup_type(tname)
    if t is None:
        return None, None
    if paths == "sizeof":
        return t.strip_typedefs().sizeof, None
    for path in paths.split("|"):
        v = _member_offset(t, path)
        if v is not None:
            return v, None
    return None, None


# ---------------------------------------------------------------- Layout

# Where a value came from, named as `gcscope doctor --layout` names them
# (pyl_source_name() in user/pylayout.c).
SRC_TABLE, SRC_DEBUG_OFFSETS, SRC_DWARF, SRC_TARGET = "table", "_Py_DebugOffsets", "DWARF", "target"
# ... and as the one-line summary of py-gc-status has always shown them.
_SUMMARY_NAMES = ((SRC_DWARF, "dwarf"), (SRC_DEBUG_OFFSETS, "debug_offsets"), (SRC_TABLE, "table"),
                  (SRC_TARGET, "target"))


def _pydebug_spec(spec):
    """"debug_offsets.x.y[+N]" -> (row name, N), as pylayout_apply_debug_offsets()."""
    name, plus, add = spec.partition("+")
    return name, int(add, 10) if plus and add.isdigit() else 0


class Layout:
    """Resolved offsets for one target: layout["gc.collecting"] -> int."""

    def __init__(self, mem, runtime, version, column, debug_offsets):
        self.mem = mem
        self.runtime = runtime
        self.version = version
        self.column = column
        self.values = {}
        self.source = {}
        self.notes = []
        t = load_table()
        rows = t["rows"]
        max_off = rule("max_offset")
        do_size = rule("debug_offsets_size")
        self.has_dwarf = _lookup_type("_gc_runtime_state") is not None or \
            _lookup_type("PyInterpreterState") is not None
        # debug_offsets.* rows first: the others may refer to them.
        order = sorted(rows, key=lambda n: not n.startswith("debug_offsets."))
        for name in order:
            dwarf, pydebug, vals = rows[name]
            v = vals.get(column)
            src = SRC_TABLE if v is not None else None
            if pydebug and pydebug != "-" and debug_offsets:
                ref, add = _pydebug_spec(pydebug)
                pos = self.values.get(ref)
                dv = None
                if pos is not None and pos + 8 <= do_size:
                    try:
                        dv = mem.u64(runtime + pos)
                    except GcScopeError:
                        dv = None
                # the target's memory: an offset past the rule's bound is no layout
                if dv is not None and dv < max_off:
                    v, src = dv + add, SRC_DEBUG_OFFSETS
                elif dv is not None:
                    self.notes.append("_Py_DebugOffsets gives %s = %d: ignored (corrupt?)"
                                      % (name, dv))
            if self.has_dwarf:
                dv, note = dwarf_value(dwarf)
                if note:
                    self.notes.append(note)
                if dv is not None and 0 <= dv < max_off:
                    v, src = dv, SRC_DWARF
            self.values[name] = v
            self.source[name] = src

    def forget_table(self):
        """A free-threaded build: the table's columns are for GIL builds.  Every
        value not from DWARF or _Py_DebugOffsets takes its "ft." row's value,
        keeps the table's (rule free_threaded_table_rows) or is unknown: the
        same as pylayout_forget_table() in user/pylayout.c."""
        self.free_threaded = True
        for name in self.values:
            if self.source.get(name) in (SRC_DWARF, SRC_DEBUG_OFFSETS):
                continue
            v = self.table_value(name)
            self.values[name] = v
            self.source[name] = SRC_TABLE if v is not None else None

    def arbitrate_generations(self, gcstate):
        """Settle gc.generations with the target's own gcstate->generation0.

        Patch releases moved it: pyenv's 3.13.0 has generations at 24, trixie's
        3.13.5 at 20 (DW_AT_alignment 4; its gc_get_threshold() reads
        generations[0].threshold at gc+36, and generation0 holds gc+20).
        The same rule as pylayout_apply_generation0() in user/pylayout.c,
        bounded by rule generations_align of pylayout.tsv."""
        g0 = self.values.get("gc.generation0")
        cur = self.values.get("gc.generations")
        head = self.values.get("gc_generation.head")
        size = self.values.get("gc_generation.sizeof")
        debug = self.values.get("gc.debug")
        if None in (g0, head, size, debug) or self.values.get("gc.young") is not None:
            return      # 3.14.0-3.14.4 have young/old[2], no generations[]
        try:
            off = self.mem.ptr(gcstate + g0) - gcstate - head
        except GcScopeError:
            return
        # the pointer is the target's: it must land where generations[3] can be
        if off <= debug or off + 3 * size > g0 or off % rule("generations_align") or off == cur:
            return
        self.values["gc.generations"] = off
        self.source["gc.generations"] = SRC_TARGET
        if cur is not None:
            self.notes.append("gc.generations: using %d, where the target's gcstate->generation0 "
                              "points (not %d)" % (off, cur))

    def __getitem__(self, name):
        v = self.values.get(name)
        if v is None:
            raise GcScopeError("offset %s is unknown for Python %s" %
                               (name, ".".join(map(str, self.version))))
        return v

    def get(self, name, default=None):
        v = self.values.get(name)
        return default if v is None else v

    def summary(self):
        srcs = set(s for s in self.source.values() if s)
        return "+".join(short for src, short in _SUMMARY_NAMES if src in srcs)

    def missing_mark(self, name):
        """"-" if the field does not exist in this version, "?" if it is
        unknown: how doctor --layout's text shows a value it has not."""
        return "-" if load_table()["absent"].get((name, self.column)) else "?"

    def fields(self):
        """{field: {"value", "source", "table"}}: `gcscope doctor --layout -j`'s "fields"."""
        rows = load_table()["rows"]
        return {name: {"value": self.values.get(name),
                       "source": self.source.get(name) or "none",
                       "table": self.table_value(name)}
                for name in rows}

    def table_value(self, name):
        """What the table says of a row for this build (pylayout_table_value())."""
        rows = load_table()["rows"]
        if not getattr(self, "free_threaded", False) or name.startswith("ft."):
            return rows[name][2].get(self.column)
        ft = rows.get("ft." + name)
        if ft is not None:
            return ft[2].get(self.column)
        keep = [p for p in str(rule("free_threaded_table_rows")).split(",") if p]
        return rows[name][2].get(self.column) if any(name.startswith(p) for p in keep) else None


# ---------------------------------------------------------------- version

def _hex_version(h):
    return ((h >> 24) & 0xff, (h >> 16) & 0xff, (h >> 8) & 0xff)


def has_debug_offsets(mem, runtime):
    """_PyRuntime opens with _Py_DebugOffsets (3.13+): the rule's cookie, then
    uint64 version, whose major must be 3 (as py_version_of() in user/target.c)."""
    try:
        return (mem.read(runtime, 8) == rule("debug_offsets_cookie").encode()
                and mem.u64(runtime + 8) >> 24 == 3)
    except GcScopeError:
        return False


def detect_version(mem, runtime):
    """(version tuple, how, has_debug_offsets)."""
    debug_offsets = has_debug_offsets(mem, runtime)
    addr = symbol_address("Py_Version")
    if addr is not None:
        # Py_Version: exported const unsigned long, PY_VERSION_HEX (3.11+).
        try:
            h = mem.u32(addr)
        except GcScopeError:
            raise GcScopeError("cannot read Py_Version at 0x%x: this process or core does not "
                               "match the executable gdb was given (give gdb the python that "
                               "dumped the core), or is not Python" % addr) from None
        ver, how = _hex_version(h), "Py_Version"
    elif debug_offsets:
        ver, how = _hex_version(mem.u64(runtime + 8)), "_Py_DebugOffsets.version"
    else:
        # 3.9/3.10 export neither: tell them apart by API they export, then
        # read the micro version from sys.version (interp->sysdict).
        if symbol_address("Py_Is") is not None:          # new in 3.10
            ver = (3, 10, None)
        elif symbol_address("PyType_GetModule") is not None:  # new in 3.9
            ver = (3, 9, None)
        else:
            raise GcScopeError("cannot tell the Python version (no Py_Version, no "
                               "_Py_DebugOffsets, no 3.9/3.10 API symbols): Python < 3.9?",
                               exit_code=7)
        how = "exported API"
    return ver, how, debug_offsets


def free_threaded(mem, runtime, layout, debug_offsets):
    """_Py_DebugOffsets.free_threaded (row debug_offsets.free_threaded) equals
    the rule free_threaded: the same test as resolve_layout() in user/target.c."""
    pos = layout.get("debug_offsets.free_threaded")
    if not debug_offsets or pos is None or pos + 8 > rule("debug_offsets_size"):
        return False
    try:
        return mem.u64(runtime + pos) == rule("free_threaded")
    except GcScopeError:
        return False


def sys_version_micro(mem, layout, interp):
    """Micro version from sys.version of 3.9/3.10 (the dict rows of pylayout.tsv)."""
    sysdict = mem.ptr(interp + layout["interp.sysdict"])
    keys = mem.ptr(sysdict + layout["dict.ma_keys"])
    size = mem.i64(keys + layout["dictkeys.dk_size"])
    nentries = mem.i64(keys + layout["dictkeys.dk_nentries"])
    if not 0 < size <= 1 << 20 or not 0 <= nentries <= size:
        return None
    # DK_IXSIZE() of 3.9/3.10 Objects/dictobject.c: index width by dk_size
    ix = 1 if size <= 0xff else 2 if size <= 0xffff else 4 if size <= 0xffffffff else 8
    ent = keys + layout["dictkeys.dk_indices"] + size * ix
    esize = layout["dictentry.sizeof"]
    me_key, me_value = layout["dictentry.me_key"], layout["dictentry.me_value"]
    from gcscope_objects import ascii_str  # noqa: late import (cycle)
    for i in range(nentries):
        k = mem.ptr(ent + esize * i + me_key)
        if not k:
            continue
        if ascii_str(mem, layout, k, 16) == "version":
            s = ascii_str(mem, layout, mem.ptr(ent + esize * i + me_value), 40) or ""
            m = re.match(r"3\.\d+\.(\d+)", s)
            return int(m.group(1)) if m else None
    return None
