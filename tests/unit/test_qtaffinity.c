// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* Qt affinity's offline parts: QObject::thread()'s code as Debian
 * bookworm's Qt 5.15.8 and 6.4.2, trixie's 6.8.2 and sid's 6.11.2 have it
 * (objdump -d), and what is not it. */
#include <string.h>

#include "check.h"
#include "qtaffinity.h"

static void test_decode(void)
{
	/* mov 0x8(%rdi),%rax; mov 0x38(%rax),%rax; mov 0x38(%rax),%rax; ret */
	static const uint8_t qt5[] = { 0x48, 0x8b, 0x47, 0x08, 0x48, 0x8b, 0x40, 0x38, 0x48, 0x8b, 0x40, 0x38, 0xc3 };
	static const uint8_t qt6[] = { 0x48, 0x8b, 0x47, 0x08, 0x48, 0x8b, 0x40, 0x58, 0x48, 0x8b, 0x40, 0x60, 0xc3 };
	/* endbr64 first (-fcf-protection): trixie's Qt 6.8.2, sid's 6.11.2 */
	static const uint8_t qt68[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8b, 0x47, 0x08, 0x48, 0x8b, 0x40, 0x58,
					0x48, 0x8b, 0x40, 0x60, 0xc3 };
	static const uint8_t qt611[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8b, 0x47, 0x08, 0x48, 0x8b, 0x40, 0x58,
					 0x48, 0x8b, 0x40, 0x50, 0xc3 };
	/* disp32: mov 0x128(%rax),%rax */
	static const uint8_t wide[] = { 0x48, 0x8b, 0x47, 0x08, 0x48, 0x8b, 0x80, 0x28, 0x01, 0x00, 0x00,
					0x48, 0x8b, 0x40, 0x60, 0xc3 };
	/* a prologue: not the accessor expected */
	static const uint8_t other[] = { 0x41, 0x55, 0x41, 0x54, 0x55, 0x53, 0x48, 0x89, 0xfb, 0xc3, 0, 0, 0 };
	/* loads from the wrong register */
	static const uint8_t wrongreg[] = { 0x48, 0x8b, 0x46, 0x08, 0x48, 0x8b, 0x40, 0x38, 0x48, 0x8b, 0x40, 0x38, 0xc3 };
	uint32_t off[3];

	CHECK_EQ_INT(qtaff_decode_thread(qt5, sizeof(qt5), off), 0);
	CHECK_EQ_INT(off[0], 8);
	CHECK_EQ_INT(off[1], 0x38);
	CHECK_EQ_INT(off[2], 0x38);
	CHECK_EQ_INT(qtaff_decode_thread(qt6, sizeof(qt6), off), 0);
	CHECK_EQ_INT(off[1], 0x58);
	CHECK_EQ_INT(off[2], 0x60);
	CHECK_EQ_INT(qtaff_decode_thread(qt68, sizeof(qt68), off), 0);
	CHECK_EQ_INT(off[0], 8);
	CHECK_EQ_INT(off[1], 0x58);
	CHECK_EQ_INT(off[2], 0x60);
	CHECK_EQ_INT(qtaff_decode_thread(qt611, sizeof(qt611), off), 0);
	CHECK_EQ_INT(off[1], 0x58);
	CHECK_EQ_INT(off[2], 0x50);
	/* endbr64 and nothing after it */
	CHECK_EQ_INT(qtaff_decode_thread(qt611, 4, off), -1);
	CHECK_EQ_INT(qtaff_decode_thread(qt611, 16, off), -1);
	CHECK_EQ_INT(qtaff_decode_thread(wide, sizeof(wide), off), 0);
	CHECK_EQ_INT(off[1], 0x128);
	CHECK_EQ_INT(qtaff_decode_thread(other, sizeof(other), off), -1);
	CHECK_EQ_INT(qtaff_decode_thread(wrongreg, sizeof(wrongreg), off), -1);
	/* truncated: never reads past len */
	CHECK_EQ_INT(qtaff_decode_thread(qt5, 6, off), -1);
	CHECK_EQ_INT(qtaff_decode_thread(qt5, 12, off), -1);
}

static void test_binding(void)
{
	CHECK_EQ_INT(qtaff_binding("PyQt5.QtCore.QObject"), GCSCOPE_QT_SIP);
	CHECK_EQ_INT(qtaff_binding("PyQt6.QtCore.QObject"), GCSCOPE_QT_SIP | (1U << GCSCOPE_QT_MAJOR_SHIFT));
	CHECK_EQ_INT(qtaff_binding("PySide2.QtCore.QObject"), GCSCOPE_QT_SBK);
	CHECK_EQ_INT(qtaff_binding("PySide6.QtCore.QObject"), GCSCOPE_QT_SBK | (1U << GCSCOPE_QT_MAJOR_SHIFT));
	/* a class that only shares the name */
	CHECK_EQ_INT(qtaff_binding("myapp.QObject"), 0);
	CHECK_EQ_INT(qtaff_binding("QObject"), 0);
	CHECK_EQ_INT(qtaff_binding("PyQt5.QtCore.QObjectX"), 0);
}

int main(void)
{
	test_decode();
	test_binding();
	CHECK_DONE("test_qtaffinity");
}
