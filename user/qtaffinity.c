// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * Qt's private structs are in no header we can include, and change between
 * Qt majors.  What a QObject's thread takes (Qt 5.15, Qt 6.x sources):
 *
 *   class QObject { vtable; QScopedPointer<QObjectData> d_ptr; ... }
 *   class QObjectData { vtable; QObject *q_ptr; ... }
 *   class QObjectPrivate : QObjectData { ...; QAtomicPointer<QThreadData> threadData; }
 *   class QThreadData { ...; QAtomicPointer<QThread> thread;
 *                            QAtomicPointer<void> threadId; ... }
 *
 * d_ptr, threadData and thread are read from the target's own QtCore: the
 * code of QObject::thread(), which is those three loads (see
 * qtaff_decode_thread()).  They move between Qt minors (QThreadData's
 * thread: 0x38 in Qt 5.15.8, 0x60 in 6.4.2 and 6.8.2, 0x50 in 6.11.2), so
 * there are no defaults: if that code is not as expected, that Qt has no
 * affinity and its QObjects are owned by their creating thread.  q_ptr
 * follows QObjectData's vtable, and threadId follows thread (Qt 5.15 to
 * 6.11 sources; in Debian's 6.8.2 and 6.11.2 QThread::isCurrentThread()
 * reads threadId at 0x68 and 0x58, thread + 8).
 *
 * QThreadData::threadId is Qt::HANDLE, pthread_self() of the thread on
 * Unix (qthread_unix.cpp); glibc's struct pthread has the kernel tid, at
 * the offset libc publishes for debuggers (_thread_db_pthread_tid, the
 * descriptor libthread_db reads: bits, count, offset).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "elfinfo.h"
#include "libcthread.h"
#include "procmaps.h"
#include "qtaffinity.h"

static const char *const qt_majors[2] = { "libQt5Core.so", "libQt6Core.so" };	/* basename prefixes */
#define QT_THREAD_ID_AFTER_THREAD 8	/* threadId follows thread, Qt 5.15 and 6.x */
#define QT_QPTR 8			/* q_ptr follows QObjectData's vtable */

static const struct {
	const char *name;
	uint32_t bits;
} bindings[] = {
	{ "PyQt5.QtCore.QObject", GCSCOPE_QT_SIP | (0U << GCSCOPE_QT_MAJOR_SHIFT) },
	{ "PyQt6.QtCore.QObject", GCSCOPE_QT_SIP | (1U << GCSCOPE_QT_MAJOR_SHIFT) },
	{ "PySide2.QtCore.QObject", GCSCOPE_QT_SBK | (0U << GCSCOPE_QT_MAJOR_SHIFT) },
	{ "PySide6.QtCore.QObject", GCSCOPE_QT_SBK | (1U << GCSCOPE_QT_MAJOR_SHIFT) },
};

uint32_t qtaff_binding(const char *qualname)
{
	for (size_t i = 0; i < ARRAY_SIZE(bindings); i++)
		if (!strcmp(qualname, bindings[i].name))
			return bindings[i].bits;
	return 0;
}

/* A binding's QObject known by tp_names alone (what BPF read before the
 * target exited, when __module__ can no longer be read): PySide's and
 * PyQt's QObject differ there.  PySide's tp_name is qualified already
 * ("PySide2.QtCore.QObject"); PyQt's is "QObject", and its next base is
 * sip's wrapper type, named by its sip module: "sip.wrapper" (sip ABI 12,
 * PyQt5 only; bookworm's python3-pyqt5.sip 12.11) or "PyQt5.sip.wrapper",
 * "PyQt6.sip.wrapper" (ABI 13, PyQt6). */
uint32_t qtaff_binding_by_names(const char *tp_name, const char *next_tp_name)
{
	uint32_t bits = qtaff_binding(tp_name);

	if (bits || strcmp(tp_name, "QObject") || !next_tp_name)
		return bits;
	if (!strcmp(next_tp_name, "sip.wrapper") || !strcmp(next_tp_name, "PyQt5.sip.wrapper"))
		return qtaff_binding("PyQt5.QtCore.QObject");
	if (!strcmp(next_tp_name, "PyQt6.sip.wrapper"))
		return qtaff_binding("PyQt6.QtCore.QObject");
	return 0;
}

/* "mov disp(%src),%rax" (REX.W 8B /r, mod 01 or 10, reg rax): its
 * displacement, the source register (0 rax, 7 rdi) and its length. */
static int mov_load(const uint8_t *c, size_t len, uint32_t *disp, int *src)
{
	uint8_t modrm;

	if (len < 4 || c[0] != 0x48 || c[1] != 0x8b)
		return -1;
	modrm = c[2];
	if (((modrm >> 3) & 7) != 0 || (modrm & 7) == 4)	/* dest rax; no SIB */
		return -1;
	*src = modrm & 7;
	if ((modrm >> 6) == 1) {
		*disp = c[3];
		return 4;
	}
	if ((modrm >> 6) == 2 && len >= 7) {
		memcpy(disp, c + 3, 4);
		return *disp < (1U << 20) ? 7 : -1;
	}
	return -1;
}

int qtaff_decode_thread(const uint8_t *code, size_t len, uint32_t off[3])
{
	size_t at = 0;

	/* endbr64 first where Qt is built with -fcf-protection (Debian's
	 * Qt 6.8.2 in trixie, 6.11.2 in sid): changes no register */
	if (len >= 4 && code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa)
		at = 4;

	for (int i = 0; i < 3; i++) {
		int src, n = mov_load(code + at, len - at, &off[i], &src);

		if (n < 0 || src != (i ? 0 : 7))
			return -1;
		at += (size_t)n;
	}
	return at < len && code[at] == 0xc3 ? 0 : -1;
}

int qtaff_layout(pid_t pid, uint64_t ob_size, struct gcscope_qt_cfg *cfg, char *why, size_t size)
{
	struct procmaps pm;
	int found = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (procmaps_read(&pm, pid)) {
		snprintf(why, size, "cannot read /proc/%d/maps", pid);
		return 0;
	}
	/* sipSimpleWrapper { PyObject_HEAD; void *data; sipAccessFunc access_func; ... }
	 * SbkObject { PyObject_HEAD; PyObject *ob_dict, *weakreflist; SbkObjectPrivate *d; }
	 * (sip 4.19-13.x, shiboken 5.12-6.x) */
	cfg->sip_data = (uint32_t)ob_size;
	cfg->sbk_d = (uint32_t)ob_size + 16;
	for (int m = 0; m < 2; m++) {
		struct elffile ef;

		if (!mapped_elf_open(&pm, qt_majors[m], &ef)) {
			elf_close(&ef);
			break;
		}
		if (m == 1) {	/* no Qt: cheap, as this is asked again until Qt comes */
			snprintf(why, size, "no libQt5Core or libQt6Core mapped in pid %d", pid);
			procmaps_free(&pm);
			return 0;
		}
	}
	cfg->pthread_tid = libc_pthread_tid_offset(&pm);
	for (int m = 0; m < 2; m++) {
		struct elffile ef;
		struct elfsym s;
		uint8_t code[32];
		uint32_t off[3];

		if (mapped_elf_open(&pm, qt_majors[m], &ef))
			continue;
		if (elf_find_symbol(&ef, "_ZNK7QObject6threadEv", &s) ||
		    elf_read_vaddr(&ef, s.value, code, sizeof(code)) ||
		    qtaff_decode_thread(code, sizeof(code), off)) {
			snprintf(why, size, "QObject::thread() in the target's %s is not the code gcscope reads "
				 "Qt's layout from: Qt %d QObjects are owned by their creating thread instead",
				 qt_majors[m], m + 5);
			elf_close(&ef);
			found++;	/* Qt is there: no use asking again */
			continue;
		}
		cfg->qt[m].valid = 1;
		cfg->qt[m].d_ptr = off[0];
		cfg->qt[m].thread_data = off[1];
		cfg->qt[m].thread_id = off[2] + QT_THREAD_ID_AFTER_THREAD;
		cfg->qt[m].q_ptr = QT_QPTR;
		p_debug("Qt %d: d_ptr %u, threadData %u, threadId %u; pthread tid at %u", m + 5, cfg->qt[m].d_ptr,
			cfg->qt[m].thread_data, cfg->qt[m].thread_id, cfg->pthread_tid);
		elf_close(&ef);
		found++;
	}
	if (!found)
		snprintf(why, size, "no libQt5Core or libQt6Core mapped in pid %d", pid);
	else if (!why[0] && !cfg->pthread_tid)
		snprintf(why, size, "no _thread_db_pthread_tid in the target's libc (not glibc?): QObjects are "
			 "owned by their creating thread instead");
	procmaps_free(&pm);
	return found;
}
