# pfwatch: page-fault observability on eBPF.
# Pipeline: vmlinux.h -> clang -target bpf -> bpftool gen skeleton -> cc.

ARCH ?= x86
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
PREFIX ?= /usr/local
VERSION := $(shell cat VERSION)

BUILD := build
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror
BASE_CFLAGS := -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -DPFWATCH_VERSION='"$(VERSION)"' \
	-I$(BUILD) -Ibpf -Isrc
CURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
LIBS := -lbpf -lelf -lz -lm -ljansson -lmicrohttpd $(CURSES_LIBS)
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BPF_CFLAGS := -target bpf -mcpu=v3 -g -O2 -Wall -Werror -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf

# Userspace rooms; main.c is the only one the unit tests leave out.
LIB_SRCS := options.c preflight.c probe.c loader.c collect.c session.c monitor.c serve_loop.c command_loop.c proc_cmdline.c aggregate.c hist.c proc_maps.c proc_status.c view.c text_layout.c render_tui.c \
	json_writer.c render_text.c export.c export_json.c export_csv.c export_prom.c export_folded.c \
	import_json.c report.c serve.c symbols.c where.c stacks.c render_where.c run_command.c privileges.c
LIB_OBJS := $(addprefix $(BUILD)/,$(LIB_SRCS:.c=.o))
ASAN_OBJS := $(addprefix $(BUILD)/asan/,$(LIB_SRCS:.c=.o))
HEADERS := $(wildcard src/*.h) bpf/pfwatch.h

UNIT_TESTS := test_hist test_json_writer test_proc_maps test_proc_status test_aggregate test_view test_text_layout test_where test_export_csv test_stacks test_export_folded test_symbols test_collect test_options test_preflight test_export_prom test_loader test_classify
UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))
UNIT_ASAN_BINS := $(addprefix $(BUILD)/asan/tests/,$(UNIT_TESTS))

.PHONY: all clean deps test vmtest soak bench fuzz install uninstall vmlinux

all: $(BUILD)/pfwatch $(BUILD)/faultgen $(BUILD)/faultstorm $(BUILD)/floor

$(BUILD)/pfwatch.bpf.o: bpf/pfwatch.bpf.c $(wildcard bpf/*.h) vmlinux/$(ARCH)/vmlinux.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/pfwatch.skel.h: $(BUILD)/pfwatch.bpf.o
	$(BPFTOOL) gen skeleton $< name pfwatch_bpf > $@.tmp
	mv $@.tmp $@

$(BUILD)/%.o: src/%.c $(HEADERS) $(BUILD)/pfwatch.skel.h | $(BUILD)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: src/%.c $(HEADERS) $(BUILD)/pfwatch.skel.h | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SANITIZE) -c $< -o $@

$(BUILD)/pfwatch: $(BUILD)/main.o $(LIB_OBJS)
	$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/asan/pfwatch: $(BUILD)/asan/main.o $(ASAN_OBJS)
	$(CC) $(CFLAGS) $(SANITIZE) $^ $(LIBS) -o $@

# Frame pointers: --stacks tests unwind faultgen's stacks through them.
$(BUILD)/faultgen: tests/faultgen.c | $(BUILD)
	$(CC) -std=gnu11 $(WARNINGS) $(CFLAGS) -fno-omit-frame-pointer $< -pthread -o $@

$(BUILD)/faultstorm: bench/faultstorm.c | $(BUILD)
	$(CC) -std=gnu11 $(WARNINGS) $(CFLAGS) $< -o $@

# The benchmark's floor: empty programs on pfwatch's hooks.
$(BUILD)/floor.bpf.o: bench/floor.bpf.c vmlinux/$(ARCH)/vmlinux.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/floor.skel.h: $(BUILD)/floor.bpf.o
	$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp
	mv $@.tmp $@

$(BUILD)/floor: bench/floor.c $(BUILD)/floor.skel.h
	$(CC) -std=gnu11 $(WARNINGS) -I$(BUILD) $(CFLAGS) $< $(LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c tests/unit/check.h $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Itests/unit $(CFLAGS) $< $(LIB_OBJS) $(LIBS) -o $@

$(BUILD)/tests/test_classify $(BUILD)/asan/tests/test_classify: bpf/classify.h

$(BUILD)/asan/tests/%: tests/unit/%.c tests/unit/check.h $(ASAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Itests/unit $(CFLAGS) $(SANITIZE) $< $(ASAN_OBJS) $(LIBS) -o $@

# test_symbols reads a program of known functions, and a stripped copy,
# from beside its own binary.
$(BUILD)/%/fixtures/symbols_fixture: tests/unit/fixtures/symbols_fixture.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARNINGS) -O0 -g -fno-inline -rdynamic $< -o $@
$(BUILD)/%/fixtures/symbols_fixture.stripped: $(BUILD)/%/fixtures/symbols_fixture
	strip --strip-all -o $@ $<
$(BUILD)/tests/test_symbols: $(addprefix $(BUILD)/tests/fixtures/,symbols_fixture symbols_fixture.stripped)
$(BUILD)/asan/tests/test_symbols: $(addprefix $(BUILD)/asan/tests/fixtures/,symbols_fixture symbols_fixture.stripped)

# Fuzz targets (libFuzzer, clang's, with ASan and UBSan): the JSON reader,
# the /proc/PID/maps parser and the command line.
FUZZ_TARGETS := fuzz_import fuzz_maps fuzz_options
FUZZ_LIB := $(addprefix src/,import_json.c report.c aggregate.c hist.c render_text.c view.c \
	text_layout.c export.c export_json.c export_csv.c export_prom.c export_folded.c \
	json_writer.c options.c where.c symbols.c proc_maps.c render_where.c stacks.c)
FUZZ_BINS := $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(FUZZ_LIB) -ljansson -lelf -lz -lm -o $@

# A longer hunt than make test's; new crashes land in build/fuzz/.
fuzz: $(FUZZ_BINS)
	@tests/fuzz/run.sh $(BUILD) $${FUZZ_SECONDS:-600}

$(BUILD):
	mkdir -p $@

# Every build and test dependency, from Debian/Ubuntu packages.
deps:
	@scripts/install-deps.sh

# The whole suite: unit tests (plain and ASan/UBSan), then the real binary
# against tests/faultgen with the kernel's own counters as the oracle, on
# this host and, under QEMU, on a Debian kernel once per backend.
test: all $(BUILD)/asan/pfwatch $(UNIT_BINS) $(UNIT_ASAN_BINS) $(FUZZ_BINS)
	@tests/run.sh $(BUILD)

# Ten minutes of thrashing and a fork storm under pfwatch (SOAK_SECONDS).
soak: all
	@python3 tests/soak.py $(BUILD) $${SOAK_SECONDS:-600}

# Only the QEMU part: the integration tests on a Debian kernel, per backend.
vmtest: all $(BUILD)/asan/pfwatch
	@scripts/vmtest.sh $(BUILD)

# Overhead on the cheapest fault; figures in docs/PERFORMANCE.md.
bench: all
	@bench/run.sh $(BUILD)

install: $(BUILD)/pfwatch
	install -D -m 0755 $(BUILD)/pfwatch $(DESTDIR)$(PREFIX)/sbin/pfwatch
	install -D -m 0644 docs/pfwatch.8 $(DESTDIR)$(PREFIX)/share/man/man8/pfwatch.8

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/pfwatch $(DESTDIR)$(PREFIX)/share/man/man8/pfwatch.8

# Regenerate the checked-in vmlinux.h from the running kernel's BTF.
vmlinux:
	vmlinux/update.sh $(ARCH)

clean:
	rm -rf $(BUILD)
