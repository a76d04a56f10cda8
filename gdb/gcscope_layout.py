# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""CPython layout for the gdb side: user/pylayout.tsv, then _Py_DebugOffsets, then DWARF.

The table is the one source of truth shared with the C side (see its header
comment).  At run time a value is taken, in this order of trust, from:
  1. DWARF (gdb.lookup_type on the row's "dwarf" spec), when the target's
     debug info is loaded;
  2. _Py_DebugOffsets (3.13+), the struct at _PyRuntime+0 whose cookie is
     "xdebugpy": the row's "pydebug" column names the row giving the position
     of the value inside that struct;
  3. the table's column for the target's version.
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
    """{"columns": [...], "rows": {field: (dwarf, pydebug, {column: value|None})}}"""
    global _table
    if _table is not None:
        return _table
    path = table_path()
    columns = None
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# field\t"):
                columns = line[2:].split("\t")[3:]
                continue
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if columns is None or len(cols) != len(columns) + 3:
                raise GcScopeError("%s: malformed row: %s" % (path, line[:60]))
            vals = {}
            for c, v in zip(columns, cols[3:]):
                # "-": no such field in that version; "?": not measured.
                vals[c] = None if v in ("-", "?") else int(v, 0)
            rows[cols[0]] = (cols[1], cols[2], vals)
    if columns is None:
        raise GcScopeError("%s: no '# field' header line" % path)
    _table = {"columns": columns, "rows": rows, "path": path}
    return _table


def column_for(version):
    """Table column covering (major, minor, micro), or None if unknown."""
    major, minor, micro = version[:3]
    if (major, minor) == (3, 14):
        return "3.14.0" if micro < 5 else "3.14.5"
    col = "%d.%d" % (major, minor)
    return col if col in load_table()["columns"] else None


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


def _member_offset(t, path):
    """Offset of dotted member path in type t, or None."""
    off = 0
    for part in path.split("."):
        t = t.strip_typedefs()
        if t.code not in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            return None
        found = None
        for f in t.fields():
            if f.name == part:
                found = f
                break
            # anonymous struct/union members
            if f.name is None and not f.bitsize:
                sub = _member_offset(f.type, part)
                if sub is not None:
                    found = (f, sub)
                    break
        if found is None:
            return None
        if isinstance(found, tuple):
            f, sub = found
            off += f.bitpos // 8 + sub
            t = None
            for g in f.type.strip_typedefs().fields():
                if g.name == part:
                    t = g.type
            if t is None:
                return None
            continue
        if found.bitsize or found.bitpos % 8:
            return None
        off += found.bitpos // 8
        t = found.type
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
        self.has_dwarf = _lookup_type("_gc_runtime_state") is not None or \
            _lookup_type("PyInterpreterState") is not None
        # debug_offsets.* rows first: the others may refer to them.
        order = sorted(rows, key=lambda n: not n.startswith("debug_offsets."))
        for name in order:
            dwarf, pydebug, vals = rows[name]
            v = vals.get(column)
            src = "table" if v is not None else None
            if pydebug and pydebug != "-" and debug_offsets:
                pos = self.values.get(pydebug)
                if pos is not None:
                    try:
                        dv = mem.u64(runtime + pos)
                    except GcScopeError:
                        dv = None
                    # the target's memory: an offset past 4 MiB is no layout
                    # (PYL_MAX_OFFSET in user/pylayout.c)
                    if dv is not None and dv < MAX_OFF:
                        v, src = dv, "debug_offsets"
                    elif dv is not None:
                        self.notes.append("_Py_DebugOffsets gives %s = %d: ignored (corrupt?)"
                                          % (name, dv))
            if self.has_dwarf:
                dv, note = dwarf_value(dwarf)
                if note:
                    self.notes.append(note)
                if dv is not None:
                    v, src = dv, "dwarf"
            self.values[name] = v
            self.source[name] = src

    def arbitrate_generations(self, gcstate):
        """Settle gc.generations with the target's own gcstate->generation0.

        Patch releases moved it: pyenv's 3.13.0 has generations at 24, trixie's
        3.13.5 at 20 (DW_AT_alignment 4; its gc_get_threshold() reads
        generations[0].threshold at gc+36, and generation0 holds gc+20).
        Without DWARF the table cannot know which, so the target decides."""
        g0 = self.values.get("gc.generation0")
        cur = self.values.get("gc.generations")
        if g0 is None or self.values.get("gc.young") is not None:
            return      # 3.14.0-3.14.4 have young/old[2], no generations[]
        cands = {cur}
        try:
            off = self.mem.ptr(gcstate + g0) - gcstate - self.get("gc_generation.head", 0)
        except GcScopeError:
            return
        # without DWARF only the table's value is a candidate: accept the
        # target's pointer anyway if it lands where generations[3] can be.
        size = self.get("gc_generation.sizeof", 24)
        plausible = 16 <= off <= g0 - 3 * size and off % 4 == 0
        if (off in cands or plausible) and off != cur:
            self.values["gc.generations"] = off
            self.source["gc.generations"] = "target"
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
        return "+".join(s for s in ("dwarf", "debug_offsets", "table", "target") if s in srcs)


# ---------------------------------------------------------------- version

DEBUG_COOKIE = b"xdebugpy"
MAX_OFF = 4 << 20


def _hex_version(h):
    return ((h >> 24) & 0xff, (h >> 16) & 0xff, (h >> 8) & 0xff)


def detect_version(mem, runtime):
    """(version tuple, how, has_debug_offsets, free_threaded)."""
    debug_offsets = False
    free_threaded = False
    try:
        debug_offsets = mem.read(runtime, 8) == DEBUG_COOKIE
    except GcScopeError:
        pass
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
                               "_Py_DebugOffsets, no 3.9/3.10 API symbols): Python < 3.9?")
        how = "exported API"
    if debug_offsets:
        try:
            # debug_offsets.free_threaded is at 16 in 3.13 and 3.14
            free_threaded = mem.u64(runtime + 16) != 0
        except GcScopeError:
            pass
    return ver, how, debug_offsets, free_threaded


def sys_version_micro(mem, layout, interp):
    """Micro version from sys.version of 3.9/3.10 (dict layout of those versions)."""
    sysdict = mem.ptr(interp + layout["interp.sysdict"])
    keys = mem.ptr(sysdict + 32)            # PyDictObject.ma_keys (3.9/3.10)
    size = mem.i64(keys + 8)                # dk_size
    nentries = mem.i64(keys + 32)           # dk_nentries
    if not 0 < size <= 1 << 20 or not 0 <= nentries <= size:
        return None
    ix = 1 if size <= 0xff else 2 if size <= 0xffff else 4 if size <= 0xffffffff else 8
    ent = keys + 40 + size * ix
    from gcscope_objects import ascii_str  # noqa: late import (cycle)
    for i in range(nentries):
        k = mem.ptr(ent + 24 * i + 8)
        if not k:
            continue
        if ascii_str(mem, layout, k, 16) == "version":
            s = ascii_str(mem, layout, mem.ptr(ent + 24 * i + 16), 40) or ""
            m = re.match(r"3\.\d+\.(\d+)", s)
            return int(m.group(1)) if m else None
    return None

