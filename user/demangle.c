// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * Rust legacy mangling, as rustc's symbol_names/legacy.rs writes it: the
 * Itanium _ZN <len><ident>... E nesting, each identifier with '$'-escapes
 * ($LT$ '<', $GT$ '>', $RF$ '&', $BP$ '*', $SP$ '@', $C$ ',', $LP$ '(',
 * $RP$ ')', $uXX$ a character in hex) and ".." for "::", the last
 * component "h" and 16 hex digits (the hash), which marks it as Rust.
 */
#include <ctype.h>
#include <string.h>

#include "demangle.h"

struct out {
	char *p;
	size_t size, n;
};

static void put(struct out *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len && o->n + 1 < o->size; i++)
		o->p[o->n++] = s[i];
	o->p[o->n] = '\0';
}

static bool is_hash(const char *s, size_t len)
{
	if (len != 17 || s[0] != 'h')
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

/* One identifier, its escapes decoded; an unknown escape is kept as is. */
static void put_ident(struct out *o, const char *s, size_t len)
{
	static const struct {
		const char *esc, *text;
	} escs[] = {
		{ "$LT$", "<" }, { "$GT$", ">" }, { "$RF$", "&" }, { "$BP$", "*" },
		{ "$SP$", "@" }, { "$C$", "," }, { "$LP$", "(" }, { "$RP$", ")" },
	};
	size_t i = 0;

	if (len >= 2 && s[0] == '_' && s[1] == '$')
		i = 1;		/* an identifier starting with '$' is written "_$" */
	while (i < len) {
		size_t k;

		if (s[i] == '.' && i + 1 < len && s[i + 1] == '.') {
			put(o, "::", 2);
			i += 2;
			continue;
		}
		if (s[i] != '$') {
			put(o, s + i, 1);
			i++;
			continue;
		}
		for (k = 0; k < sizeof(escs) / sizeof(escs[0]); k++) {
			size_t el = strlen(escs[k].esc);

			if (len - i >= el && !memcmp(s + i, escs[k].esc, el)) {
				put(o, escs[k].text, 1);
				i += el;
				break;
			}
		}
		if (k < sizeof(escs) / sizeof(escs[0]))
			continue;
		/* $uXX$: a printable ASCII character */
		if (len - i >= 5 && s[i + 1] == 'u' && isxdigit((unsigned char)s[i + 2]) &&
		    isxdigit((unsigned char)s[i + 3]) && s[i + 4] == '$') {
			char c = (char)(hexval(s[i + 2]) << 4 | hexval(s[i + 3]));

			if (c >= 0x20 && c < 0x7f) {
				put(o, &c, 1);
				i += 5;
				continue;
			}
		}
		put(o, s + i, 1);
		i++;
	}
}

bool demangle_rust_legacy(const char *sym, char *buf, size_t size)
{
	const char *p, *comp[64];
	size_t lens[64], n = 0;
	struct out o = { .p = buf, .size = size };

	if (!sym || !size || strncmp(sym, "_ZN", 3))
		return false;
	for (p = sym + 3; *p != 'E';) {
		size_t len = 0;

		if (!isdigit((unsigned char)*p) || *p == '0')
			return false;
		while (isdigit((unsigned char)*p)) {
			len = len * 10 + (size_t)(*p++ - '0');
			if (len > 4096)
				return false;
		}
		if (strnlen(p, len) < len || n == sizeof(comp) / sizeof(comp[0]))
			return false;
		comp[n] = p;
		lens[n++] = len;
		p += len;
	}
	/* "E" ends it (a ".llvm.NNN" or similar suffix may follow); the hash
	 * component says it is Rust's */
	if (n < 2 || !is_hash(comp[n - 1], lens[n - 1]))
		return false;
	buf[0] = '\0';
	for (size_t i = 0; i + 1 < n; i++) {
		if (i)
			put(&o, "::", 2);
		put_ident(&o, comp[i], lens[i]);
	}
	return true;
}
