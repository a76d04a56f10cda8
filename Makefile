# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
#
#   make            build .output/gcscope
#   make demo       build, then trace the bundled demo program
#   make test       every test: C unit tests, the fuzz corpus replayed, and
#                   integration tests, all with ASan+UBSan
#                   (GCSCOPE=.output/gcscope: the release build)
#   make fuzz       run each libFuzzer harness for FUZZ_SECONDS (tests/fuzz/)
#   make bench      overhead benchmarks, as ratios against a baseline
#   make install    PREFIX=/usr/local
#
# demo and test install the Debian packages they need (tests/deps.sh).

OUTPUT ?= .output
PREFIX ?= /usr/local
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
PYTHON ?= /usr/bin/python3
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

CFLAGS ?= -g -O2
WARN := -Wall -Wextra -Werror
# snprintf() truncating a message is deliberate (bounded output); paths we
# open are length-checked where built.
override CFLAGS += $(WARN) -Wno-format-truncation -std=gnu11 -I$(OUTPUT) -Ibpf -Iuser
LDLIBS := -lbpf -lelf -ldw -lz -lm -lmicrohttpd -lcurl -lcapstone
# BPF_USDT/BPF_KPROBE wrappers declare ctx whether it is used or not.
BPF_CFLAGS := -g -O2 $(WARN) -Wno-unused-parameter -target bpf -D__TARGET_ARCH_$(ARCH) -I/usr/include/$(MULTIARCH) -Ibpf

BUILD_PKGS := gcc make clang llvm libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev gawk libmicrohttpd-dev \
	libcurl4-openssl-dev libcapstone-dev
TEST_PKGS := $(BUILD_PKGS) gdb python3 python3-pytest python3-pytest-xdist python3.11-dbg python3-pyqt5 python3-pyqt6 \
	python3-pyside2.qtcore debootstrap binutils debuginfod \
	elfutils bpftrace chromium python3-websocket fonts-noto-color-emoji groff prometheus

USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/%.o,$(USER_SRCS))
# Everything but main and the BPF-facing commands: what the unit tests link.
LOGIC_SRCS := user/common.c user/patterns.c user/corefile.c user/json.c user/stats.c user/pylayout.c \
	user/elfinfo.c user/probe.c user/gcsite.c user/dwarfinfo.c user/sink.c user/sink_text.c \
	user/sink_json.c user/correlate.c user/objects.c user/target.c user/pyobj.c user/pythreads.c \
	user/sink_timeline.c user/qtaffinity.c user/libcthread.c user/heapowner.c user/gcstats.c user/metrics.c user/prom.c user/agentconf.c \
	user/discover.c user/sink_metrics.c user/met_types.c user/typewin.c user/otlp_json.c
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%,$(UNIT_SRCS))
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test-deps demo test unit integration bench install uninstall clean fuzz fuzz-build fuzz-replay

all: $(OUTPUT)/gcscope

$(OUTPUT) $(OUTPUT)/unit:
	$(Q)mkdir -p $@

$(OUTPUT)/pylayout_gen.h: user/pylayout.tsv user/gen-pylayout.awk | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)awk -f user/gen-pylayout.awk $< > $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@

# trace --stack (docs/stacks.md): capture in a header of gcscope.bpf.c; the
# symbolizer's decoders are unit tested, and it fills the skeleton's rodata.
$(OUTPUT)/gcscope.bpf.o: bpf/pystack.bpf.h
LOGIC_SRCS += user/pystack.c user/procmaps.c user/fatal.c user/demangle.c
$(UNIT_BINS): $(OUTPUT)/gcscope.skel.h

$(OUTPUT)/%.o: user/%.c $(wildcard user/*.h) bpf/gcscope.h $(OUTPUT)/pylayout_gen.h $(OUTPUT)/gcscope.skel.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/gcscope: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# The same program under ASan, UBSan and LeakSanitizer: what the integration
# tests run, so that a memory error in gcscope fails a test instead of
# printing a wrong name once in a while (user/pystack.c, 2026-11).  The
# release build is run by test_install.py.
SAN_OBJS := $(patsubst user/%.c,$(OUTPUT)/san/%.o,$(USER_SRCS))

$(OUTPUT)/san:
	$(Q)mkdir -p $@

$(OUTPUT)/san/%.o: user/%.c $(wildcard user/*.h) bpf/gcscope.h $(OUTPUT)/pylayout_gen.h $(OUTPUT)/gcscope.skel.h | $(OUTPUT)/san
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(OUTPUT)/san/gcscope: $(SAN_OBJS)
	$(call msg,LINK-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ $(LDLIBS) -o $@

# C unit tests: the logic with no kernel in it, under ASan and UBSan.
$(OUTPUT)/unit/%: tests/unit/%.c $(LOGIC_SRCS) $(wildcard user/*.h) tests/unit/check.h $(OUTPUT)/pylayout_gen.h | $(OUTPUT)/unit
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests/unit $< $(LOGIC_SRCS) -lelf -ldw -lm -o $@

# Fuzzing (tests/fuzz/README.md): one libFuzzer binary per parser of
# untrusted input, built by clang with ASan and UBSan; each links the user/
# files its parser needs.  records replaces procmem_read() with reads of
# a memory image from the input, so it does not link procmaps.c.
FUZZ_SECONDS ?= 60
FUZZ_NAMES := elf corenotes dwarf procmaps pyline pystr pylayout pyversion json ttyclean records gcring
FUZZ_BINS := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_NAMES))
# (clang has no -Wformat-truncation: nothing to turn off)
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	$(WARN) -std=gnu11 -I$(OUTPUT) -Ibpf -Iuser -Itests/fuzz
FUZZ_SRCS_elf := user/elfinfo.c user/probe.c user/dwarfinfo.c user/gcsite.c user/pylayout.c user/common.c user/json.c
FUZZ_SRCS_pyversion := user/elfinfo.c
FUZZ_SRCS_corenotes := user/gdbcmd.c user/gdbpick.c user/corefile.c user/elfinfo.c user/common.c user/json.c
FUZZ_SRCS_dwarf := user/dwarfinfo.c user/elfinfo.c user/gcsite.c user/pylayout.c
FUZZ_SRCS_procmaps := user/procmaps.c
FUZZ_SRCS_pyline := user/pystack.c user/procmaps.c user/elfinfo.c user/pylayout.c user/common.c user/json.c
FUZZ_SRCS_pystr := $(FUZZ_SRCS_pyline)
FUZZ_SRCS_pylayout := user/pylayout.c
FUZZ_SRCS_gcring := user/gcstats.c user/target.c user/procmaps.c user/elfinfo.c user/dwarfinfo.c user/gcsite.c \
	user/pylayout.c user/common.c user/json.c
FUZZ_SRCS_json := user/json.c user/common.c
FUZZ_SRCS_ttyclean := user/common.c user/json.c
FUZZ_SRCS_records := user/correlate.c user/sink.c user/sink_text.c user/sink_json.c user/stats.c \
	user/pystack.c user/objects.c user/pythreads.c user/pyobj.c user/elfinfo.c user/pylayout.c \
	user/common.c user/json.c user/fatal.c user/demangle.c user/qtaffinity.c user/dwarfinfo.c \
	user/libcthread.c

$(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

.SECONDEXPANSION:
$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h tests/fuzz/jsoncheck.h $$(FUZZ_SRCS_$$*) $(wildcard user/*.h) \
		$(OUTPUT)/pylayout_gen.h $(OUTPUT)/gcscope.skel.h | $(OUTPUT)/fuzz
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS_$*) -lbpf -lelf -ldw -lz -lm -o $@

fuzz-build: $(FUZZ_BINS)

# Every input of the corpus and every crash ever found, once through its
# harness: seconds, and a fixed bug that comes back fails `make test`.
fuzz-replay: $(FUZZ_BINS)
	$(Q)tests/fuzz/replay.sh $(OUTPUT)/fuzz $(FUZZ_NAMES)

fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh $(OUTPUT)/fuzz $(FUZZ_SECONDS) $(or $(FUZZ_ONLY),$(FUZZ_NAMES))

deps:
	$(Q)tests/deps.sh $(BUILD_PKGS)

# libFuzzer (tests/fuzz/) comes with clang's runtime libraries, which
# Debian's clang only recommends; their package is named for clang's major
# version, known once clang is installed.
test-deps:
	$(Q)tests/deps.sh $(TEST_PKGS)
	$(Q)tests/deps.sh libclang-rt-$$($(CLANG) -dumpversion | cut -d. -f1)-dev

unit: $(UNIT_BINS)
	$(Q)fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail

# GCSCOPE=path runs the tests on another build (the release one, an installed one).
GCSCOPE ?= $(abspath $(OUTPUT)/san/gcscope)
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Tests run TEST_JOBS at a time (pytest-xdist): most of a test's time is
# spent waiting on its target (test_trace.py alone keeps a third of two cores
# busy: 27.6 s wall for 17.5 s of CPU), and the whole suite one at a time
# took 40 of the 60 minutes a fresh machine may spend.  Every test makes its
# own scratch files, ports and targets; the builders under tests/targets and
# tests/pyo3 are serialised by locks.  TEST_JOBS=0: one at a time.
TEST_JOBS ?= 3
integration: all $(OUTPUT)/san/gcscope
	$(Q)$(SUDO) env GCSCOPE=$(GCSCOPE) $(SAN_ENV) $(PYTHON) -m pytest -ra -n $(TEST_JOBS) tests/ $(PYTEST_ARGS)

test: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory fuzz-replay
	$(Q)$(MAKE) --no-print-directory integration

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(SUDO) $(OUTPUT)/gcscope trace --duration 6 -- $(PYTHON) tests/programs/demo.py

# The same benchmarks on an earlier revision, built in $(OUTPUT)/bench-base,
# in the same runs (BENCH_BASE=: none).  b3dbc0d: before the pipeline.
BENCH_BASE ?= b3dbc0d
BENCH_ARGS ?=

$(OUTPUT)/bench-base/.output/gcscope:
	$(Q)rm -rf $(OUTPUT)/bench-base && mkdir -p $(OUTPUT)/bench-base
	$(Q)git archive $(BENCH_BASE) | tar -x -C $(OUTPUT)/bench-base
	$(Q)$(MAKE) --no-print-directory -C $(OUTPUT)/bench-base all

bench: test-deps all $(if $(BENCH_BASE),$(OUTPUT)/bench-base/.output/gcscope)
	$(Q)$(SUDO) $(PYTHON) tests/bench/bench.py --gcscope $(abspath $(OUTPUT)/gcscope) \
		$(if $(BENCH_BASE),--base-gcscope $(abspath $(OUTPUT)/bench-base/.output/gcscope) --base-label $(BENCH_BASE)) \
		$(BENCH_ARGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/gcscope/gdb $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(OUTPUT)/gcscope $(DESTDIR)$(PREFIX)/bin/gcscope
	install -m 0644 user/pylayout.tsv $(DESTDIR)$(PREFIX)/share/gcscope/pylayout.tsv
	install -m 0644 docs/gcscope.1 $(DESTDIR)$(PREFIX)/share/man/man1/gcscope.1
	install -m 0644 docs/gcscope-agent.service docs/agent.conf $(DESTDIR)$(PREFIX)/share/gcscope/
	if ls gdb/*.py >/dev/null 2>&1; then install -m 0644 gdb/*.py $(DESTDIR)$(PREFIX)/share/gcscope/gdb/; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/gcscope $(DESTDIR)$(PREFIX)/share/man/man1/gcscope.1
	rm -rf $(DESTDIR)$(PREFIX)/share/gcscope

clean:
	rm -rf $(OUTPUT)
