/* The loader's choices, made before anything is loaded: backend, entry. */
#include <errno.h>
#include "check.h"
#include "loader.h"
#include "options.h"
#include "probe.h"

/* The backends tried in turn for @requested, up to 4; returns how many. */
static int tried_in(enum backend requested, bool kprobe_first, enum backend out[4])
{
	int n = 0;

	for (enum backend b = next_backend(requested, BACKEND_AUTO, kprobe_first);
	     b != BACKEND_AUTO && n < 4; b = next_backend(requested, b, kprobe_first))
		out[n++] = b;
	return n;
}

static int tried(enum backend requested, enum backend out[4])
{
	return tried_in(requested, false, out);
}

/* A kernel that preempts kernel code: kprobe first, then fexit, perf. */
static void preemptible_kernel_tries_kprobe_first(void)
{
	enum backend order[4];
	int n = tried_in(BACKEND_AUTO, true, order);

	CHECK(n == 3 && order[0] == BACKEND_KPROBE && order[1] == BACKEND_FEXIT &&
	      order[2] == BACKEND_PERF, "%d backends, first %d", n, order[0]);
	n = tried_in(BACKEND_FEXIT, true, order);
	CHECK(n == 1 && order[0] == BACKEND_FEXIT, "--backend fexit: %d tried", n);
}

static void auto_tries_fexit_kprobe_then_perf(void)
{
	enum backend order[4];
	int n = tried(BACKEND_AUTO, order);

	CHECK(n == 3 && order[0] == BACKEND_FEXIT && order[1] == BACKEND_KPROBE &&
	      order[2] == BACKEND_PERF, "%d backends, first %d", n, order[0]);
}

static void explicit_backend_is_the_only_one_tried(void)
{
	static const enum backend each[] = {
		BACKEND_FEXIT, BACKEND_KPROBE, BACKEND_PERF,
	};

	for (size_t i = 0; i < sizeof(each) / sizeof(each[0]); i++) {
		enum backend order[4];
		int n = tried(each[i], order);

		CHECK(n == 1 && order[0] == each[i], "--backend %s: %d tried, first %s",
		      backend_name(each[i]), n, backend_name(order[0]));
	}
}

static void without_handle_mm_fault_only_perf_can_work(void)
{
	struct kernel_features with = { .handle_mm_fault = true }, without = { 0 };

	CHECK(!backend_unsupported(BACKEND_FEXIT, &with), "fexit refused with the function");
	CHECK(!backend_unsupported(BACKEND_KPROBE, &with), "kprobe refused with the function");
	CHECK(backend_unsupported(BACKEND_FEXIT, &without), "fexit allowed without it");
	CHECK(backend_unsupported(BACKEND_KPROBE, &without), "kprobe allowed without it");
	CHECK(!backend_unsupported(BACKEND_PERF, &without), "perf needs no function");
}

static void failures_are_named_for_their_backend(void)
{
	CHECK(strstr(failure_hint(BACKEND_FEXIT, -EPERM), "fentry/fexit"),
	      "fexit EPERM: %s", failure_hint(BACKEND_FEXIT, -EPERM));
	CHECK(strstr(failure_hint(BACKEND_KPROBE, -ENOENT), "CONFIG_KPROBES"),
	      "kprobe ENOENT: %s", failure_hint(BACKEND_KPROBE, -ENOENT));
	/* The same errno from another backend is the system's own words. */
	CHECK(!strcmp(failure_hint(BACKEND_PERF, -ENOENT), strerror(ENOENT)),
	      "perf ENOENT: %s", failure_hint(BACKEND_PERF, -ENOENT));
}

static void entry_follows_the_kernel_unless_forced(void)
{
	enum entry_hook entry;

	CHECK(!choose_entry(NULL, true, &entry) && entry == ENTRY_TP_BTF, "BTF kernel");
	CHECK(!choose_entry("", false, &entry) && entry == ENTRY_TRACEPOINT, "older kernel");
	CHECK(!choose_entry("tracepoint", true, &entry) && entry == ENTRY_TRACEPOINT,
	      "forced classic");
	CHECK(!choose_entry("tp_btf", true, &entry) && entry == ENTRY_TP_BTF, "forced tp_btf");
	CHECK(choose_entry("tp_btf", false, &entry) == -ENOENT, "tp_btf forced where missing");
	CHECK(choose_entry("kprobe", true, &entry) == -EINVAL, "not an entry hook");
	CHECK(!strcmp(entry_hook_name(ENTRY_TRACEPOINT), "tracepoint") &&
	      !strcmp(entry_hook_name(ENTRY_TP_BTF), "tp_btf"), "names");
}

/* The blind spots of each backend, on a 6.18-like kernel and on older ones. */
static void blind_spots_follow_backend_and_kernel(void)
{
	struct kernel_features recent = {
		.lock_contention_tp = true, .folio_writeback_tp = true,
		.compaction_tp = true, .find_vma = true, .numa_balancing = true,
	}, old = { .page_writeback_tp = true, .numa_nodes = true };
	unsigned classes, causes;

	for (enum backend b = BACKEND_FEXIT; b <= BACKEND_PERF; b++) {
		blind_spots(b, &recent, &classes, &causes);
		CHECK(!classes && !causes, "%s on a recent kernel: classes %#x causes %#x",
		      backend_name(b), classes, causes);
	}
	/* A 5.15-like kernel: no find_vma, no contention events. */
	blind_spots(BACKEND_PERF, &old, &classes, &causes);
	CHECK(classes == (1u << FAULT_UFFD | 1u << FAULT_NUMA_HINT) &&
	      causes == (1u << CAUSE_MMAP_LOCK | 1u << CAUSE_COMPACTION),
	      "perf, old: classes %#x causes %#x", classes, causes);
	blind_spots(BACKEND_FEXIT, &old, &classes, &causes);
	/* fexit reads the batched RSS counters too: swap_cache is told. */
	CHECK(classes == (1u << FAULT_NUMA_HINT), "fexit, old: classes %#x", classes);
	old.page_writeback_tp = false;
	blind_spots(BACKEND_KPROBE, &old, &classes, &causes);
	CHECK(causes & (1u << CAUSE_WRITEBACK), "no writeback tracepoint, still measured");
	/* One node: no hint fault to miss, balancing on or off. */
	old.numa_nodes = false;
	blind_spots(BACKEND_PERF, &old, &classes, &causes);
	CHECK(!(classes & (1u << FAULT_NUMA_HINT)), "numa_hint unseparated on one node");
}

int main(void)
{
	check.binary = "test_loader";
	RUN(auto_tries_fexit_kprobe_then_perf);
	RUN(preemptible_kernel_tries_kprobe_first);
	RUN(explicit_backend_is_the_only_one_tried);
	RUN(without_handle_mm_fault_only_perf_can_work);
	RUN(failures_are_named_for_their_backend);
	RUN(entry_follows_the_kernel_unless_forced);
	RUN(blind_spots_follow_backend_and_kernel);
	return check.failures ? 1 : 0;
}
