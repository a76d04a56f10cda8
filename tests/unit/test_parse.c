// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* Parsing: numbers from the command line, versions and symbols from targets. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common.h"
#include "elfinfo.h"
#include "probe.h"
#include "procmaps.h"

static void test_numbers(void)
{
	long l;
	double d;

	CHECK(parse_long("4242", 1, 100000, &l) && l == 4242);
	CHECK(!parse_long("", 1, 10, &l));
	CHECK(!parse_long("12x", 1, 100, &l));
	CHECK(!parse_long("-5", 1, 100, &l));
	CHECK(!parse_long("99999999999999999999", 1, 100, &l));
	CHECK(!parse_long(NULL, 1, 100, &l));
	CHECK(parse_double("2.5", 0, 10, &d) && d == 2.5);
	CHECK(!parse_double("nan", 0, 10, &d));
	CHECK(!parse_double("inf", 0, 1e9, &d));
	CHECK(!parse_double("1e10", 0, 1e9, &d));
	CHECK(!parse_double("0", 0.001, 1, &d));
}

static void test_versions(void)
{
	CHECK_EQ_INT(parse_py_version("3.11.2", 6), 0x030b0200);
	CHECK_EQ_INT(parse_py_version("3.9.18", 6), 0x03091200);
	CHECK_EQ_INT(parse_py_version("3.13.0rc3+", 10), 0x030d0000);
	CHECK_EQ_INT(parse_py_version("3.14.0a1", 8), 0x030e0000);
	CHECK_EQ_INT(parse_py_version("3.11", 4), 0);
	CHECK_EQ_INT(parse_py_version("2.7.18", 6), 0);
	CHECK_EQ_INT(parse_any_py_version("2.7.18", 6), 0x02071200);
	CHECK_EQ_INT(parse_any_py_version("3.6.15", 6), 0x03060f00);
	CHECK_EQ_INT(parse_any_py_version("1.5.2", 5), 0);
	CHECK_EQ_INT(parse_any_py_version("4.0.0", 5), 0);
	CHECK_EQ_INT(parse_py_version("3.11.2 (main", 12), 0);
	CHECK_EQ_INT(parse_py_version("3.1111.2", 8), 0);
	CHECK_EQ_INT(parse_py_version("3..2", 4), 0);
}

static void test_collector(void)
{
	CHECK_EQ_STR(collector_name(0x03091200), "collect");
	CHECK_EQ_STR(collector_name(0x030b0200), "gc_collect_main");
	CHECK_EQ_STR(collector_name(0x030e0000), "_PyGC_Collect");
	CHECK_EQ_STR(collector_name(0x030e0400), "_PyGC_Collect");
	CHECK_EQ_STR(collector_name(0x030e0500), "gc_collect_main");
	CHECK_EQ_INT(collector_match("gc_collect_main", "gc_collect_main"), 3);
	CHECK_EQ_INT(collector_match("gc_collect_main.lto_priv.0", "gc_collect_main"), 2);
	CHECK_EQ_INT(collector_match("gc_collect_main.isra.0", "gc_collect_main"), 1);
	CHECK_EQ_INT(collector_match("gc_collect_main.constprop.0", "gc_collect_main"), 1);
	CHECK_EQ_INT(collector_match("gc_collect_main.cold", "gc_collect_main"), 0);
	CHECK_EQ_INT(collector_match("gc_collect_main.lto_priv.0.cold", "gc_collect_main"), 0);
	CHECK_EQ_INT(collector_match("gc_collect_main.part.0", "gc_collect_main"), 0);
	CHECK_EQ_INT(collector_match("gc_collect_mainx", "gc_collect_main"), 0);
	CHECK_EQ_INT(collector_match("collect_generations", "collect"), 0);
	CHECK_EQ_INT(collector_match("collect", "collect"), 3);
}

/* The ELF reader on a real file: ourselves. */
static void test_elf_self(void)
{
	struct elffile ef;
	struct elfsym s;
	uint64_t off;

	CHECK_EQ_INT(elf_open(&ef, "/proc/self/exe"), 0);
	CHECK(ef.build_id[0] != '\0');
	CHECK_EQ_INT(elf_find_symbol(&ef, "main", &s), 0);
	CHECK(s.value != 0);
	CHECK_EQ_INT(elf_vaddr_to_offset(&ef, s.value, &off), 0);
	CHECK_EQ_INT(elf_find_symbol(&ef, "no_such_symbol_here", &s), -ENOENT);
	CHECK_EQ_INT(elf_find_usdt(&ef, "python", "gc__start", NULL), -ENOENT);
	CHECK_EQ_INT(elf_vaddr_to_offset(&ef, 0xffffffffffff0000ULL, &off), -ENOENT);
	elf_close(&ef);
	CHECK_EQ_INT(elf_open(&ef, "/proc/self/status"), -ENOEXEC);
	CHECK_EQ_INT(elf_open(&ef, "/nonexistent"), -ENOENT);
}

/* An ELF file of one PT_LOAD, at vaddr 0x1000 for 0x100 bytes from file
 * offset p_offset, written to path and opened. */
static int open_one_load(struct elffile *ef, const char *path, uint64_t p_offset)
{
	struct { Elf64_Ehdr eh; Elf64_Phdr ph; } f;
	int fd = open(path, O_WRONLY | O_TRUNC);

	memset(&f, 0, sizeof(f));
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f.eh.e_ident[EI_VERSION] = EV_CURRENT;
	f.eh.e_type = ET_DYN;
	f.eh.e_machine = EM_X86_64;
	f.eh.e_version = EV_CURRENT;
	f.eh.e_phoff = sizeof(Elf64_Ehdr);
	f.eh.e_ehsize = sizeof(Elf64_Ehdr);
	f.eh.e_phentsize = sizeof(Elf64_Phdr);
	f.eh.e_phnum = 1;
	f.ph.p_type = PT_LOAD;
	f.ph.p_vaddr = 0x1000;
	f.ph.p_memsz = f.ph.p_filesz = 0x100;
	f.ph.p_offset = p_offset;
	CHECK(fd >= 0 && write(fd, &f, sizeof(f)) == (ssize_t)sizeof(f));
	if (fd >= 0)
		close(fd);
	return elf_open(ef, path);
}

/* ELF files whose program header puts their data before or past the file
 * (p_offset near 2^64 once wrapped a bounds check): reads are refused. */
static void test_elf_hostile(void)
{
	char path[] = "/tmp/gcscope-test-elf-XXXXXX";
	struct elffile ef;
	unsigned char buf[16];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	CHECK_EQ_INT(open_one_load(&ef, path, (uint64_t)-8), 0);
	CHECK_EQ_INT(elf_read_vaddr(&ef, 0x1000, buf, sizeof(buf)), -EFAULT);
	CHECK_EQ_INT(elf_read_vaddr(&ef, 0x10f8, buf, sizeof(buf)), -EFAULT);	/* past p_filesz */
	elf_close(&ef);
	CHECK_EQ_INT(open_one_load(&ef, path, 0x10000), 0);
	CHECK_EQ_INT(elf_read_vaddr(&ef, 0x1000, buf, sizeof(buf)), -EFAULT);
	elf_close(&ef);
	/* and in the file: read */
	CHECK_EQ_INT(open_one_load(&ef, path, 0), 0);
	CHECK_EQ_INT(elf_read_vaddr(&ef, 0x1000, buf, 4), 0);
	CHECK(!memcmp(buf, ELFMAG, SELFMAG));
	elf_close(&ef);
	unlink(path);
}

/* Set the sh_type of section `name` (every section but the names' if NULL)
 * of the ELF file at path. */
static void set_section_type(const char *path, const char *name, Elf64_Word type)
{
	int fd = open(path, O_RDWR);
	Elf64_Ehdr eh;
	Elf64_Shdr strs, sh;
	char sname[64];

	CHECK(fd >= 0 && pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh));
	CHECK(pread(fd, &strs, sizeof(strs), eh.e_shoff + eh.e_shstrndx * sizeof(sh)) == (ssize_t)sizeof(strs));
	for (int i = 1; i < eh.e_shnum; i++) {
		off_t at = eh.e_shoff + i * sizeof(sh);

		CHECK(pread(fd, &sh, sizeof(sh), at) == (ssize_t)sizeof(sh));
		memset(sname, 0, sizeof(sname));
		CHECK(pread(fd, sname, sizeof(sname) - 1, strs.sh_offset + sh.sh_name) > 0);
		if (i == eh.e_shstrndx || (name && strcmp(sname, name)))
			continue;
		sh.sh_type = type;
		CHECK(pwrite(fd, &sh, sizeof(sh), at) == (ssize_t)sizeof(sh));
	}
	close(fd);
}

/* Sections that claim SHT_NOBITS: libelf gives d_buf == NULL with d_size ==
 * sh_size, and a .gnu_debuglink of that kind crashed elf_open() (issue 11).
 * The file is ourselves, with a debuglink added by objcopy. */
static void test_elf_nobits(void)
{
	char path[] = "/tmp/gcscope-test-nobits-XXXXXX", cmd[3 * PATH_MAX], self[PATH_MAX];
	struct elffile ef;
	struct elfsym s;
	char needed[64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int fd = mkstemp(path);

	CHECK(fd >= 0 && n > 0);
	if (fd < 0 || n <= 0)
		return;
	close(fd);
	self[n] = '\0';	/* the shell's /proc/self/exe would be objcopy */
	snprintf(cmd, sizeof(cmd), "objcopy --add-gnu-debuglink='%s' '%s' %s", self, self, path);
	if (system(cmd)) {
		fprintf(stderr, "test_elf_nobits: objcopy failed (binutils missing?)\n");
		check_failed++;
		unlink(path);
		return;
	}
	CHECK_EQ_INT(elf_open(&ef, path), 0);
	CHECK_EQ_STR(ef.debuglink, "test_parse");
	elf_close(&ef);
	set_section_type(path, ".gnu_debuglink", SHT_NOBITS);
	CHECK_EQ_INT(elf_open(&ef, path), 0);
	CHECK_EQ_STR(ef.debuglink, "");
	CHECK(ef.build_id[0] != '\0');
	CHECK_EQ_INT(elf_find_symbol(&ef, "main", &s), 0);
	elf_close(&ef);
	/* every section NOBITS: nothing is found, nothing is read */
	set_section_type(path, NULL, SHT_NOBITS);
	CHECK_EQ_INT(elf_open(&ef, path), 0);
	CHECK_EQ_STR(ef.build_id, "");
	CHECK(!ef.has_symtab && !ef.has_debug_info);
	CHECK_EQ_INT(elf_find_symbol(&ef, "main", &s), -ENOENT);
	CHECK_EQ_INT(elf_count_usdt(&ef), 0);
	CHECK_EQ_INT(elf_find_needed(&ef, "libc", needed, sizeof(needed)), -ENOENT);
	CHECK_EQ_INT(elf_scan_py_version(&ef), 0);
	elf_close(&ef);
	/* notes, symbols and .dynamic as PROGBITS holding nothing of the kind */
	set_section_type(path, NULL, SHT_NOTE);
	CHECK_EQ_INT(elf_open(&ef, path), 0);
	CHECK_EQ_INT(elf_count_usdt(&ef), 0);
	elf_close(&ef);
	unlink(path);
}

/* /proc/PID/status of a thread, of a zombie, and texts that are not one */
static void test_proc_status(void)
{
	struct proc_status st;
	char why[512];

	CHECK_EQ_INT(proc_status_parse("Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\n"
				       "Tgid:\t1234\nNgid:\t0\nPid:\t1235\nPPid:\t99\nThreads:\t3\n", &st), 0);
	CHECK_EQ_INT(st.tgid, 1234);
	CHECK_EQ_INT(st.ppid, 99);
	CHECK_EQ_INT(st.threads, 3);
	CHECK_EQ_INT(st.state, 'S');
	CHECK_EQ_INT(proc_status_parse("Name:\tx\nState:\tZ (zombie)\nTgid:\t7\nPPid:\t1\n", &st), 0);
	CHECK_EQ_INT(st.state, 'Z');
	CHECK_EQ_INT(st.threads, 0);
	/* a name that looks like a field is not one: fields start a line */
	CHECK_EQ_INT(proc_status_parse("Name:\tTgid: 5\nState:\n", &st), -EINVAL);
	CHECK_EQ_INT(st.state, '?');
	CHECK_EQ_INT(proc_status_parse("Tgid:\t12x\n", &st), -EINVAL);
	CHECK_EQ_INT(proc_status_parse("Tgid:\t99999999999\n", &st), -EINVAL);
	CHECK_EQ_INT(proc_status_parse("", &st), -EINVAL);
	CHECK_EQ_INT(proc_status_read(getpid(), &st), 0);
	CHECK_EQ_INT(st.tgid, getpid());
	CHECK_EQ_INT(st.state, 'R');
	CHECK_EQ_INT(proc_status_read(-1, &st), -ENOENT);

	maps_denied_reason(1000, "0 0 4294967295", why, sizeof(why));
	CHECK(strstr(why, "runs as uid 1000; run it as root") != NULL);
	maps_denied_reason(0, "         0       1000          1", why, sizeof(why));
	CHECK(strstr(why, "root of a user namespace, not of the host (uid_map: 0 1000 1)") != NULL);
	maps_denied_reason(0, "         0          0 4294967295", why, sizeof(why));
	CHECK(strstr(why, "security module") != NULL && !strstr(why, "namespace"));
	maps_denied_reason(0, NULL, why, sizeof(why));
	CHECK(strstr(why, "security module") != NULL);
}

static void test_grow(void)
{
	uint64_t *v = NULL;
	size_t cap = 0;

	for (size_t n = 0; n < 100; n++) {
		CHECK_EQ_INT(grow_array(&v, &cap, n, sizeof(*v), 4), 0);
		v[n] = n;
	}
	CHECK_EQ_INT(cap, 128);			/* 4, 8, ... 128 */
	CHECK_EQ_INT(v[99], 99);
	CHECK_EQ_INT(grow_array(&v, &cap, 5, sizeof(*v), 4), 0);	/* room already */
	CHECK_EQ_INT(cap, 128);
	CHECK_EQ_INT(grow_array(&v, &cap, 128, SIZE_MAX / 100, 4), -ENOMEM);	/* overflow */
	CHECK_EQ_INT(cap, 128);
	free(v);
}

int main(void)
{
	test_grow();
	test_numbers();
	test_versions();
	test_collector();
	test_elf_self();
	test_elf_hostile();
	test_elf_nobits();
	test_proc_status();
	CHECK_DONE("test_parse");
}
