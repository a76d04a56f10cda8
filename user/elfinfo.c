// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elfinfo.h"

/*
 * A section's bytes as they are in the file, or NULL.  elf_getdata() is not
 * enough: for SHT_NOBITS (which any section of a hostile file may claim to
 * be) libelf gives d_buf == NULL with d_size == sh_size, and an empty
 * section has d_buf == NULL too.  Every caller may then index d_buf up to
 * d_size.
 */
static Elf_Data *section_bytes(Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d;

	if (sh->sh_type == SHT_NOBITS || !(d = elf_getdata(scn, NULL)) || !d->d_buf || !d->d_size)
		return NULL;
	return d;
}

/* What elf_open() and elf_open_memory() learn once the Elf is open: the
 * header, and the sections gcscope looks at by name.  0 or -ENOEXEC. */
static int elf_scan(struct elffile *ef)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF || !gelf_getehdr(ef->elf, &ef->ehdr) ||
	    elf_getshdrstrndx(ef->elf, &shstrndx))
		return -ENOEXEC;
	while ((scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(ef->elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			ef->has_symtab = true;
		else if (!strcmp(name, ".debug_info") && sh.sh_type != SHT_NOBITS)
			ef->has_debug_info = true;
		else if (!strcmp(name, ".gnu_debuglink") && (d = section_bytes(scn, &sh)))
			snprintf(ef->debuglink, sizeof(ef->debuglink), "%.*s",
				 (int)strnlen(d->d_buf, d->d_size), (const char *)d->d_buf);
		else if (sh.sh_type == SHT_NOTE && (d = section_bytes(scn, &sh))) {
			GElf_Nhdr nh;
			size_t off = 0, noff, doff;

			while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
				if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
				    !memcmp((char *)d->d_buf + noff, "GNU", 4) && nh.n_descsz <= 20) {
					const unsigned char *id = (unsigned char *)d->d_buf + doff;

					for (size_t i = 0; i < nh.n_descsz; i++)
						sprintf(ef->build_id + 2 * i, "%02x", id[i]);
				}
			}
		}
	}
	return 0;
}

int elf_open(struct elffile *ef, const char *path)
{
	memset(ef, 0, sizeof(*ef));
	ef->fd = -1;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	snprintf(ef->path, sizeof(ef->path), "%s", path);
	ef->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ef->fd < 0)
		return -errno;
	ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	if (elf_scan(ef)) {
		elf_close(ef);
		return -ENOEXEC;
	}
	return 0;
}

int elf_open_memory(struct elffile *ef, void *image, size_t size, const char *name)
{
	memset(ef, 0, sizeof(*ef));
	ef->fd = -1;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	snprintf(ef->path, sizeof(ef->path), "%s", name);
	ef->elf = elf_memory(image, size);
	if (elf_scan(ef)) {
		elf_close(ef);
		return -ENOEXEC;
	}
	return 0;
}

void elf_drop_pages(struct elffile *ef)
{
	size_t size = 0, page = (size_t)sysconf(_SC_PAGESIZE);
	char *raw;
	uintptr_t start;

	/* only a file libelf mapped read-only (ELF_C_READ_MMAP: PROT_READ,
	 * MAP_PRIVATE, elfutils' elf_begin.c): its pages come back from the
	 * page cache when touched again; an image in memory is the caller's */
	if (!ef->elf || ef->fd < 0 || !(raw = elf_rawfile(ef->elf, &size)) || !size)
		return;
	start = (uintptr_t)raw & ~(uintptr_t)(page - 1);
	madvise((void *)start, size + ((uintptr_t)raw - start), MADV_DONTNEED);
}

void elf_close(struct elffile *ef)
{
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	ef->elf = NULL;
	ef->fd = -1;
}

static int each_in(struct elffile *ef, Elf64_Word type, int (*fn)(const struct elfsym *, void *),
		   void *ctx)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n_bytes;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		d = section_bytes(scn, &sh);
		n_bytes = gelf_fsize(ef->elf, ELF_T_SYM, 1, EV_CURRENT);
		if (!d || !n_bytes)
			continue;
		/* d_size, not the header's sh_size/sh_entsize (an entsize of 1
		 * would make a loop of sh_size turns); gelf_getsym() checks each
		 * index against d_size */
		for (size_t i = 0; i < d->d_size / n_bytes && i < INT_MAX; i++) {
			struct elfsym s;
			const char *name;
			GElf_Sym sym;
			int r;

			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			if (GELF_ST_TYPE(sym.st_info) != STT_FUNC && GELF_ST_TYPE(sym.st_info) != STT_OBJECT)
				continue;
			name = elf_strptr(ef->elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			snprintf(s.name, sizeof(s.name), "%s", name);
			s.value = sym.st_value;
			s.size = sym.st_size;
			s.from_symtab = type == SHT_SYMTAB;
			r = fn(&s, ctx);
			if (r)
				return r;
		}
	}
	return 0;
}

int elf_for_each_symbol(struct elffile *ef, int (*fn)(const struct elfsym *, void *), void *ctx)
{
	int r = each_in(ef, SHT_SYMTAB, fn, ctx);

	return r ? r : each_in(ef, SHT_DYNSYM, fn, ctx);
}

struct find_ctx {
	const char *name;
	struct elfsym *out;
};

static int find_cb(const struct elfsym *s, void *p)
{
	struct find_ctx *c = p;

	if (strcmp(s->name, c->name))
		return 0;
	*c->out = *s;
	return 1;
}

int elf_find_symbol(struct elffile *ef, const char *name, struct elfsym *out)
{
	struct find_ctx c = { name, out };

	return elf_for_each_symbol(ef, find_cb, &c) == 1 ? 0 : -ENOENT;
}

static int usdt_iter(struct elffile *ef, const char *provider, const char *name,
		     struct usdt_note *out, int *count)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(ef->elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;
		const char *sname;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		sname = elf_strptr(ef->elf, shstrndx, sh.sh_name);
		if (!sname || strcmp(sname, ".note.stapsdt") || !(d = section_bytes(scn, &sh)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			const char *desc = (const char *)d->d_buf + doff, *p, *end;
			struct usdt_note n = {0};

			/* NT_STAPSDT = 3, owner "stapsdt": pc, base, semaphore, then
			 * provider\0name\0args\0 (systemtap's sdt.h). */
			if (nh.n_type != 3 || nh.n_namesz != 8 || memcmp((char *)d->d_buf + noff, "stapsdt", 8) ||
			    nh.n_descsz < 3 * 8 + 3)
				continue;
			if (count)
				(*count)++;
			if (!provider)
				continue;
			memcpy(&n.pc, desc, 8);
			memcpy(&n.base, desc + 8, 8);
			memcpy(&n.semaphore, desc + 16, 8);
			p = desc + 24;
			end = desc + nh.n_descsz;
			snprintf(n.provider, sizeof(n.provider), "%.*s", (int)strnlen(p, end - p), p);
			p += strnlen(p, end - p) + 1;
			if (p >= end)
				continue;
			snprintf(n.name, sizeof(n.name), "%.*s", (int)strnlen(p, end - p), p);
			p += strnlen(p, end - p) + 1;
			if (p < end)
				snprintf(n.args, sizeof(n.args), "%.*s", (int)strnlen(p, end - p), p);
			if (!strcmp(n.provider, provider) && !strcmp(n.name, name)) {
				if (out)
					*out = n;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int elf_find_usdt(struct elffile *ef, const char *provider, const char *name, struct usdt_note *out)
{
	return usdt_iter(ef, provider, name, out, NULL);
}

int elf_count_usdt(struct elffile *ef)
{
	int n = 0;

	usdt_iter(ef, NULL, NULL, NULL, &n);
	return n;
}

static int load_for_vaddr(struct elffile *ef, uint64_t vaddr, GElf_Phdr *out)
{
	size_t n;

	if (elf_getphdrnum(ef->elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_memsz) {
			*out = ph;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_vaddr_to_offset(struct elffile *ef, uint64_t vaddr, uint64_t *off)
{
	GElf_Phdr ph;
	int r = load_for_vaddr(ef, vaddr, &ph);

	if (r)
		return r;
	*off = vaddr - ph.p_vaddr + ph.p_offset;
	return 0;
}

uint64_t elf_load_bias(struct elffile *ef, uint64_t map_start)
{
	size_t n;

	if (elf_getphdrnum(ef->elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* The first PT_LOAD maps file offset 0 (page-aligned). */
		return map_start - (ph.p_vaddr - ph.p_offset);
	}
	return 0;
}

int elf_read_vaddr(struct elffile *ef, uint64_t vaddr, void *buf, size_t len)
{
	GElf_Phdr ph;
	size_t fsize;
	const char *img;
	uint64_t off;

	if (load_for_vaddr(ef, vaddr, &ph))
		return -EFAULT;
	/* every value here is the file's, which the target chose: no sum
	 * may wrap (a p_offset near 2^64 once read before the mapping) */
	if (len > ph.p_filesz || vaddr - ph.p_vaddr > ph.p_filesz - len)
		return -EFAULT;	/* not initialised from the file (.bss) */
	off = vaddr - ph.p_vaddr;
	img = elf_rawfile(ef->elf, &fsize);
	if (!img || ph.p_offset > fsize || off > fsize - ph.p_offset || len > fsize - ph.p_offset - off)
		return -EFAULT;
	off += ph.p_offset;
	memcpy(buf, img + off, len);
	return 0;
}

int elf_find_needed(struct elffile *ef, const char *prefix, char *out, size_t size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n_bytes;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		d = section_bytes(scn, &sh);
		n_bytes = gelf_fsize(ef->elf, ELF_T_DYN, 1, EV_CURRENT);
		if (!d || !n_bytes)
			continue;
		for (size_t i = 0; i < d->d_size / n_bytes && i < INT_MAX; i++) {
			GElf_Dyn dyn;
			const char *name;

			if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag != DT_NEEDED)
				continue;
			name = elf_strptr(ef->elf, sh.sh_link, dyn.d_un.d_val);
			if (name && !strncmp(name, prefix, strlen(prefix))) {
				snprintf(out, size, "%s", name);
				return 0;
			}
		}
	}
	return -ENOENT;
}

static uint32_t parse_version(const char *s, size_t len, unsigned long min_major);

uint32_t parse_py_version(const char *s, size_t len)
{
	return parse_version(s, len, 3);
}

uint32_t parse_any_py_version(const char *s, size_t len)
{
	return parse_version(s, len, 2);
}

static uint32_t parse_version(const char *s, size_t len, unsigned long min_major)
{
	unsigned long part[3] = {0};
	size_t i = 0;
	int p = 0;

	while (p < 3) {
		size_t start = i;

		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			part[p] = part[p] * 10 + (unsigned long)(s[i++] - '0');
		if (i == start)
			return 0;
		p++;
		if (p < 3) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
	}
	/* What may follow PY_VERSION's digits: a0, b1, rc2, "+". */
	for (; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || c == 'a' || c == 'b' || c == 'r' || c == 'c' || c == '+'))
			return 0;
	}
	if (part[0] < min_major || part[0] > 3 || part[1] > 99 || part[2] > 99)
		return 0;
	return (uint32_t)(part[0] << 24 | part[1] << 16 | part[2] << 8);
}

uint32_t scan_py_getversion(const char *buf, size_t len, uint32_t (*parse)(const char *, size_t))
{
	/* the buffer is a static char[250]: aligned, NUL before it */
	for (size_t j = 8; j + 16 < len; j += 8) {
		const char *sp;
		uint32_t v;

		if (buf[j - 1] != '\0' || (buf[j] != '3' && buf[j] != '2') || buf[j + 1] != '.')
			continue;
		sp = memchr(buf + j, ' ', len - j < 16 ? len - j : 16);
		if (!sp || sp[1] != '(')
			continue;
		v = parse(buf + j, (size_t)(sp - (buf + j)));
		if (v)
			return v;
	}
	return 0;
}

uint32_t elf_scan_py_version(struct elffile *ef)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(ef->elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh;
		const char *name, *p;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(ef->elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".rodata") || !(d = section_bytes(scn, &sh)))
			continue;
		p = d->d_buf;
		/* Each candidate is a whole C string: preceded by NUL, "3." first. */
		for (size_t i = 1; i + 6 < d->d_size; i++) {
			size_t n;
			uint32_t v;

			if (p[i - 1] != '\0' || p[i] != '3' || p[i + 1] != '.')
				continue;
			n = strnlen(p + i, d->d_size - i);
			if (n < 5 || n > 12 || i + n >= d->d_size)
				continue;
			v = parse_py_version(p + i, n);
			if (v)
				return v;
		}
	}
	return 0;
}
