#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Write the seed corpus of tests/fuzz/corpus/ (committed: run again only to
change it).  Real inputs where the machine has them: ELF objects built here
from seedsrc/, this machine's /proc/self/maps, line tables that the running
interpreter compiled, the _Py_DebugOffsets of the chroots' 3.13 and 3.14
(tests/targets/chroot.sh) when they exist; the rest is built from
user/pylayout.tsv so that the records harness starts from a consistent
target memory.  The input formats are described at the top of each
fuzz_*.c."""
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"


def put(harness, name, data):
    d = CORPUS / harness
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def run(*cmd, cwd=None):
    subprocess.run(cmd, check=True, cwd=cwd)


# ---- ELF: libpyfake.so (symbols, USDT, DT_NEEDED, build-id, debuglink)
#      and gc.so (DWARF of the GC structs and an inlined finalize_garbage)

def elf_seeds(tmp):
    src = HERE / "seedsrc"
    small = ["-fPIC", "-shared", "-nostdlib", "-Wl,-z,noseparate-code", "-Wl,--build-id"]
    run("gcc", "-Os", *small, "-Wl,-soname,libpython3.13.so.1.0", "-o", f"{tmp}/libpython3.13.so",
        "-x", "c", "/dev/null")
    run("gcc", "-Os", *small, "-o", f"{tmp}/libpyfake.so", str(src / "libpyfake.c"),
        f"-L{tmp}", "-Wl,--no-as-needed", "-lpython3.13")
    pathlib.Path(f"{tmp}/libpyfake.so.debug").write_bytes(b"")
    run("objcopy", "--add-gnu-debuglink=libpyfake.so.debug", "libpyfake.so", "libpyfake-dl.so", cwd=tmp)
    run("strip", "-o", f"{tmp}/libpyfake-stripped.so", f"{tmp}/libpyfake-dl.so")
    for f in ("libpyfake.so", "libpyfake-dl.so", "libpyfake-stripped.so"):
        put("elf", f, pathlib.Path(tmp, f).read_bytes())
    # gc.c is compiled as "Python/gc.c", the CU name dwarfinfo.c looks for
    for opt in ("-O2", "-O0"):
        out = f"{tmp}/gc{opt}.so"
        run("gcc", opt, "-g", *small, "-o", out, "Python/gc.c", cwd=src)
        put("dwarf", f"gc{opt}.so", pathlib.Path(out).read_bytes())
        put("elf", f"gc{opt}.so", pathlib.Path(out).read_bytes())
    put("dwarf", "libpyfake-dl.so", pathlib.Path(tmp, "libpyfake-dl.so").read_bytes())


# ---- a core file: ET_CORE with NT_PRSTATUS and NT_PRPSINFO notes

def note(name, ntype, desc):
    n = name + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


def core(psargs):
    prpsinfo = bytearray(136)
    prpsinfo[40:56] = b"python3".ljust(16, b"\0")    # pr_fname
    prpsinfo[56:136] = psargs[:80].ljust(80, b"\0")   # pr_psargs
    notes = note(b"CORE", 1, bytes(336)) + note(b"CORE", 3, bytes(prpsinfo))
    ehdr_size, phdr_size = 64, 56
    off = ehdr_size + phdr_size
    ehdr = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, bytes(7),
                       4, 62, 1, 0, ehdr_size, 0, 0, ehdr_size, phdr_size, 1, 64, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 4, 0, off, 0, 0, len(notes), 0, 4)
    return ehdr + phdr + notes


def core_seeds():
    put("corenotes", "core-python3", core(b"/usr/bin/python3.11 -X dev app.py"))
    put("corenotes", "core-relative", core(b"python3 app.py"))
    put("corenotes", "core-long", core(b"/" + b"p" * 100))


# ---- /proc/PID/maps

def maps_seeds():
    put("procmaps", "self", pathlib.Path("/proc/self/maps").read_bytes())
    out = subprocess.run([sys.executable, "-c", "import sys; sys.stdout.write(open('/proc/self/maps').read())"],
                         check=True, capture_output=True).stdout
    put("procmaps", "python3", out)
    put("procmaps", "chroot",
        b"root=/srv/trixie\n"
        b"55d0c0000000-55d0c0100000 r--p 00000000 08:01 1234 /srv/trixie/usr/bin/python3.13\n"
        b"55d0c0100000-55d0c0400000 r-xp 00100000 08:01 1234 /srv/trixie/usr/bin/python3.13\n"
        b"7f0000000000-7f0000100000 r--p 00000000 08:01 99 /srv/trixie/usr/lib/libpython3.13.so.1.0 (deleted)\n"
        b"7f0000200000-7f0000300000 rw-p 00000000 00:00 0 [heap]\n"
        b"7ffff7ff0000-7ffff7ff2000 r-xp 00000000 00:00 0 [vdso]\n")


# ---- line tables and strings

def pyline_seeds():
    import types

    def sample(a, b):
        x = a + b
        for i in range(3):
            x += i
        y = [
            x,
            a,
        ]
        if x > 2:
            return y
        return (x
                - 1)

    codes = [sample.__code__, os.path.join.__code__, shutil.copyfileobj.__code__]
    for i, co in enumerate(codes):
        tab = co.co_linetable
        fmt = 2 if sys.version_info >= (3, 11) else 1
        hdr = struct.pack("<BiQ", fmt, co.co_firstlineno, 8)
        put("pyline", f"py{sys.version_info[0]}{sys.version_info[1]}-{i}", hdr + tab)
    # 3.9 co_lnotab and 3.10 co_linetable of the sample in tests/unit/test_pystack.c
    put("pyline", "lnotab-3.9", struct.pack("<BiQ", 0, 1, 20) + bytes.fromhex(
        "0001080 10c010a02020102fe047f007f00320801040102010 2ff".replace(" ", "")))
    put("pyline", "linetable-3.10", struct.pack("<BiQ", 1, 1, 20) + bytes.fromhex(
        "08010c010a01020202010 4fe007f007f08320401020102010 4ff".replace(" ", "")))
    del types


def pystr_seeds():
    for kind, enc, text in ((0, "latin-1", "caf\xe9 gc.collect()"),
                            (1, "utf-16-le", "\u0105\u0119 /home/\u00e9l\u00e8ve/app.py"),
                            (2, "utf-32-le", "\U0001f40d python\u200b\x1b[31m")):
        data = text.encode(enc)
        put("pystr", f"kind{kind}", struct.pack("<BHBB", kind, 1025, 79, 64) + data)
    put("pystr", "surrogates", struct.pack("<BHBB", 1, 64, 40, 128) + b"\x00\xd8\x41\x00\xff\xdf")


def text_seeds():
    samples = {
        "ascii": b"MainThread",
        "controls": b"evil\x1b]0;title\x07\x1b[2J\r\n\x7f\xc2\x9b",
        "utf8": "w\u00e4hrend \U0001f40d \u4e2d\u6587".encode(),
        "invalid": b"\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82",
    }
    for name, s in samples.items():
        put("ttyclean", name, struct.pack("<H", 16) + s)
        put("ttyclean", name + "-big", struct.pack("<H", 4095) + s)
        # json: "type": <string>, then an array of it
        prog = bytes([0 | (4 << 3)]) + b"type" + bytes([len(s)]) + s
        prog += bytes([5 | (5 << 3)]) + b"stack" + bytes([5 | 8]) + bytes([0]) + bytes([len(s)]) + s
        prog += bytes([6, 6, 7]) + bytes([len(s)]) + s
        put("json", name, prog)
    put("json", "numbers", bytes([1 | (1 << 3)]) + b"a" + struct.pack("<q", -2**63) +
        bytes([2 | (1 << 3)]) + b"b" + struct.pack("<Q", 2**64 - 1) +
        bytes([3 | (1 << 3)]) + b"c" + struct.pack("<d", 1e-300) +
        bytes([3 | (1 << 3)]) + b"d" + struct.pack("<d", float("nan")) +
        bytes([4 | (1 << 3)]) + b"e" + b"\x01")


def pyversion_seeds():
    # what Py_GetVersion() leaves in memory: sys.version at an 8-byte boundary
    v = sys.version.encode()
    put("pyversion", "getversion-host", bytes(64) + v + bytes(256 - len(v)))
    put("pyversion", "getversion-3.9", bytes(16) + b"3.9.18 (main, May  9 2026, 10:00:00) [GCC 12.2.0]" + bytes(32))
    put("pyversion", "rc", b"3.13.0rc3+\0" + bytes(5) + b"3.10.13 (main)" + bytes(40))


# ---- the layout table, _Py_DebugOffsets and the records

def layout():
    cols, rows = None, {}
    for line in (ROOT / "user/pylayout.tsv").read_text().splitlines():
        if line.startswith("# field\t"):
            cols = line.split("\t")[3:]
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split("\t")
        if f[0] == "rule":
            continue    # "rule NAME VALUE": a constant, not a field
        rows[f[0]] = (f[2], f[3:])
    return cols, rows


def val(rows, cols, name, col):
    v = rows[name][1][cols.index(col)]
    return int(v) if v.lstrip("-").isdigit() else None


def debug_offsets_synth(cols, rows, col, version):
    """_Py_DebugOffsets as the table says the target's would be."""
    buf = bytearray(1024)
    buf[0:8] = b"xdebugpy"
    struct.pack_into("<Q", buf, 8, version)
    for name, (spec, _) in rows.items():
        if spec == "-":
            continue
        where = spec.split("+")[0]
        pos, v = val(rows, cols, where, col), val(rows, cols, name, col)
        if pos is not None and v is not None and pos + 8 <= len(buf):
            add = int(spec.split("+")[1]) if "+" in spec else 0
            struct.pack_into("<Q", buf, pos, v - add)
    return bytes(buf)


def elf_runtime_head(path, n=1024):
    """The initialised bytes of _PyRuntime in an ELF file, or None."""
    try:
        b = pathlib.Path(path).read_bytes()
    except OSError:
        return None
    if b[:4] != b"\x7fELF":
        return None
    shoff, = struct.unpack_from("<Q", b, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", b, 0x3a)
    phoff, = struct.unpack_from("<Q", b, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
    secs = [struct.unpack_from("<IIQQQQIIQQ", b, shoff + i * shentsize) for i in range(shnum)]
    for s in secs:
        if s[1] not in (2, 11):     # SHT_SYMTAB, SHT_DYNSYM
            continue
        strtab = secs[s[6]]
        for off in range(s[4], s[4] + s[5], 24):
            st_name, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", b, off)
            nm = b[strtab[4] + st_name:b.index(b"\0", strtab[4] + st_name)]
            if nm != b"_PyRuntime":
                continue
            for i in range(phnum):
                p = struct.unpack_from("<IIQQQQQQ", b, phoff + i * phentsize)
                if p[0] == 1 and p[3] <= value < p[3] + p[6]:
                    fo = value - p[3] + p[2]
                    return b[fo:fo + n]
    return None


def pylayout_seeds(cols, rows):
    for col, version in (("3.13", 0x030D00F0), ("3.14.0", 0x030E00F0)):
        put("pylayout", f"synth-{col}", debug_offsets_synth(cols, rows, col, version))
    chroots = pathlib.Path.home() / ".cache/gcscope/chroots"
    for name, lib in (("trixie", "usr/lib/x86_64-linux-gnu/libpython3.13.so.1.0"),
                      ("trixie", "usr/bin/python3.13"),
                      ("sid", "usr/lib/x86_64-linux-gnu/libpython3.14.so.1.0"),
                      ("sid", "usr/bin/python3.14")):
        head = elf_runtime_head(chroots / name / lib)
        if head and head[:8] == b"xdebugpy":
            put("pylayout", f"{name}-{os.path.basename(lib)}", head)


BASE = 0x10000


def records_seed(cols, rows, col, ci, dbg=None, json=False, threads=False):
    """A target memory with a code object, its strs and line table, and type
    objects with an MRO; then the records of one collection that saw them.
    dbg: a _Py_DebugOffsets for the start of the image (the objects then
    start 4 KiB in)."""
    v = lambda n: val(rows, cols, n, col)
    mem = bytearray(0x1000)
    B = BASE + (0x1000 if dbg else 0)
    minor = int(col.split(".")[1])

    def pystr(at, s):
        struct.pack_into("<Q", mem, at + v("str.length"), len(s))
        state = (1 << 2) | (1 << 5) | (1 << 6) | (1 << 7)   # kind 1, compact, ascii, ready
        struct.pack_into("<I", mem, at + v("str.state"), state)
        mem[at + v("str.ascii_sizeof"):at + v("str.ascii_sizeof") + len(s)] = s

    def pybytes(at, b):
        struct.pack_into("<Q", mem, at + v("pybytes.ob_size"), len(b))
        mem[at + v("pybytes.ob_sval"):at + v("pybytes.ob_sval") + len(b)] = b

    code = 0x100
    struct.pack_into("<Q", mem, code + v("code.co_filename"), B + 0x400)
    name_field = "code.co_qualname" if minor >= 11 else "code.co_name"
    struct.pack_into("<Q", mem, code + v(name_field), B + 0x480)
    lines = "code.co_lnotab" if minor == 9 else "code.co_linetable"
    struct.pack_into("<Q", mem, code + v(lines), B + 0x500)
    struct.pack_into("<I", mem, code + v("code.co_firstlineno"), 10)
    pystr(0x400, b"/srv/app/main.py")
    pystr(0x480, b"Worker.run")
    pybytes(0x500, bytes.fromhex("80 00 d8 08 09 88 41 89 05".replace(" ", "")) if minor >= 11
            else b"\x08\x01\x0c\x01\x0a\x01")
    # a heap type "QWidget" whose MRO has "myapp.Base"
    for at, nm in ((0x800, b"QWidget"), (0xa00, b"myapp.Base")):
        struct.pack_into("<Q", mem, at + v("type.tp_name"), B + at + 0x180)
        struct.pack_into("<Q", mem, at + v("type.tp_flags"), 1 << 9)
        mem[at + 0x180:at + 0x180 + len(nm) + 1] = nm + b"\0"
    struct.pack_into("<Q", mem, 0x800 + v("type.tp_mro"), B + 0x700)
    struct.pack_into("<Q", mem, 0x700 + v("varobject.ob_size"), 2)
    item = v("tuple.ob_item") or 24
    struct.pack_into("<QQ", mem, 0x700 + item, B + 0x800, B + 0xa00)

    instr = B + code + (v("code.co_code_adaptive") or 0) + 6 if minor >= 11 else 3
    tid, ts = 4243, 1000
    recs = [
        struct.pack("<IIIIQQ", 2, 0, tid, 2, ts, B + 0xf00) +
        struct.pack("<QQ", B + code, instr) + struct.pack("<QQ", B + code, instr),
        struct.pack("<IIQ", 5, 0, B + 0x800),
        struct.pack("<IIQQ", 6, 0, B + 0x800, 1 << 9) + b"QWidget".ljust(96, b"\0"),
        struct.pack("<IIIIQQ", 3, 1, tid, 2, ts, 7) +
        struct.pack("<QQQQ", B + 0x800, 5, B + 0xa00, 2) + bytes(16 * 30),
        struct.pack("<IIQQ", 4, tid, ts, B + 0xc00) +
        struct.pack("<IIQQ", 4242, 0, B + 0x800, 900) + b"MainThread".ljust(16, b"\0"),
        struct.pack("<IIIIQQiiqqqQ", 1, 1, 4242, tid, ts, ts + 5000, 2, 2, 0, 7, 0, B + 0xe00) +
        b"worker\x1b[2J".ljust(16, b"\0"),
    ]
    if threads:
        threads_image(mem)
    opt = 1 | (3 << 2) | (0x40 if json else 0) | (0x80 if dbg else 0)
    image = (dbg.ljust(0x1000, b"\0") if dbg else b"") + bytes(mem)
    out = struct.pack("<BBBH", ci, opt, 0, len(image)) + image
    for r in recs:
        out += struct.pack("<H", len(r)) + r
    return out


def threads_image(mem):
    """threading._active of a 3.10 target, as user/pythreads.c walks it from
    _PyRuntime (at the image start): interpreters.main -> modules ->
    'threading' -> md_dict -> '_active' -> {ident: Thread}, and the Thread's
    _name and _native_id from its __dict__ (tp_dictoffset).  Offsets: the
    3.10 column of user/pylayout.tsv, 0x1000 on in the image."""
    mem.extend(bytes(0x2000 - len(mem)))
    q = lambda at, v: struct.pack_into("<Q", mem, at, v)

    def pystr(at, b):   # compact ASCII: kind 1, compact, ascii, ready
        q(at + 16, len(b))
        struct.pack_into("<I", mem, at + 32, (1 << 2) | (1 << 5) | (1 << 6) | (1 << 7))
        mem[at + 48:at + 48 + len(b) + 1] = b + b"\0"

    def pydict(at, items):  # PyDictObject, its keys right after: 8 slots
        keys = at + 0x40
        q(at + 32, BASE + keys)
        q(keys + 8, 8)
        q(keys + 32, len(items))
        for i, (k, v) in enumerate(items):
            mem[keys + 40 + i] = i
            e = keys + 48 + 24 * i
            q(e, 0x1234 + i)
            q(e + 8, BASE + k)
            q(e + 16, BASE + v)

    q(40, BASE + 0x1000)                    # runtime.interpreters_main
    q(0x1000 + 856, BASE + 0x1400)          # interp.modules
    pydict(0x1400, [(0x1500, 0x1580)])
    pystr(0x1500, b"threading")
    q(0x1580 + 16, BASE + 0x1600)           # module.md_dict
    pydict(0x1600, [(0x16c0, 0x1700)])
    pystr(0x16c0, b"_active")
    pydict(0x1700, [(0x1d80, 0x1800)])      # {ident: Thread}
    q(0x1800 + 8, BASE + 0x1900)            # Thread's ob_type
    q(0x1800 + 16, BASE + 0x1b00)           # its __dict__ at tp_dictoffset
    q(0x1900 + 288, 16)                     # type.tp_dictoffset
    pydict(0x1b00, [(0x1c00, 0x1c80), (0x1d00, 0x1d80)])
    pystr(0x1c00, b"_name")
    pystr(0x1c80, b"Worker-\x1b[1")
    pystr(0x1d00, b"_native_id")
    q(0x1d80 + 16, 1)                       # int: one digit
    struct.pack_into("<I", mem, 0x1d80 + 24, 4243)


def records_seeds(cols, rows):
    for ci, col in enumerate(cols):
        if col in ("3.14.0",):
            continue    # '?' cells: 3.14.5 stands for 3.14
        put("records", f"collection-{col}", records_seed(cols, rows, col, ci))
        put("records", f"collection-{col}-json", records_seed(cols, rows, col, ci, json=True))
    ci = cols.index("3.10")
    put("records", "collection-3.10-threads", records_seed(cols, rows, "3.10", ci, threads=True))
    put("records", "collection-3.10-threads-json", records_seed(cols, rows, "3.10", ci, json=True, threads=True))
    ci = cols.index("3.13")
    dbg = debug_offsets_synth(cols, rows, "3.13", 0x030D00F0)
    put("records", "collection-3.13-debug-offsets", records_seed(cols, rows, "3.13", ci, dbg))


def gcring_seed(cols, rows, counts, cursor=None):
    """fuzz_gcring: flags, the cursor's last record, a struct gc_stats image
    (3.15) after counts[g] collections of each generation, written as
    CPython does (the previous record copied forward, totals added)."""
    import struct
    v = lambda n: val(rows, cols, n, "3.15")
    rec, size = v("gc_stats.sizeof"), v("gc_ring.sizeof")
    img = bytearray(size)
    rings = [(0, v("gc_ring.young_index"))] + [
        (v("gc_ring.old") + j * v("gc_ring.old_sizeof"), v("gc_ring.old") + j * v("gc_ring.old_sizeof") +
         v("gc_ring.old_index")) for j in range(2)]
    for g, n in enumerate(counts):
        base, index = rings[g]
        slots, idx, tot = (index - base) // rec, 0, [0, 0, 0, 0, 0.0]
        for c in range(1, n + 1):
            idx = (idx + 1) % slots
            tot = [c, tot[1] + 3 * c, tot[2] + (c % 2), tot[3] + 10 * c, tot[4] + 1e-5 * c]
            r = base + idx * rec
            struct.pack_into("<qq", img, r + v("gc_stats.ts_start"), 1000 * c, 1000 * c + 400)
            struct.pack_into("<qqqq", img, r + v("gc_stats.collections"), *tot[:4])
            struct.pack_into("<d", img, r + v("gc_stats.duration"), tot[4])
            struct.pack_into("<q", img, r + v("gc_stats.heap_size"), 5000 + c)
        img[index] = idx
    struct.pack_into("<I", img, v("gc_ring.update_seq"), 2 * sum(counts))
    last = bytearray(rec)
    if cursor:
        struct.pack_into("<q", last, v("gc_stats.collections"), cursor)
    return bytes([1 if cursor else 0]) + bytes(last) + bytes(img)


def gcring_seeds(cols, rows):
    put("gcring", "empty", gcring_seed(cols, rows, [0, 0, 0]))
    put("gcring", "few", gcring_seed(cols, rows, [4, 1, 1]))
    put("gcring", "wrapped", gcring_seed(cols, rows, [40, 7, 2]))
    put("gcring", "cursor", gcring_seed(cols, rows, [40, 7, 2], cursor=33))


def main():
    cols, rows = layout()
    with tempfile.TemporaryDirectory() as tmp:
        elf_seeds(tmp)
    core_seeds()
    maps_seeds()
    pyline_seeds()
    pystr_seeds()
    pyversion_seeds()
    text_seeds()
    pylayout_seeds(cols, rows)
    records_seeds(cols, rows)
    gcring_seeds(cols, rows)


if __name__ == "__main__":
    main()
