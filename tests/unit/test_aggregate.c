/* Aggregate: exited processes fold into per-command records, nothing lost. */
#include <stdlib.h>
#include "aggregate.h"
#include "check.h"

static struct proc_stats slot_stats;	/* large: off the stack */

/* Process @i lives in a slot, takes @i % 7 + 1 zero-fill faults, exits. */
static int live_and_exit(struct aggregate *agg, __u32 i, const char *comm)
{
	__u32 slot = i % (MAX_PROC_SLOTS - 1) + 1;

	memset(&slot_stats, 0, sizeof(slot_stats));
	slot_stats.tgid = 1000 + i;
	slot_stats.start_ns = i;
	snprintf(slot_stats.comm, COMM_LEN, "%s", comm);
	slot_stats.untimed[FAULT_ANON_ZERO] = i % 7 + 1;
	if (aggregate_update_slot(agg, slot, &slot_stats))
		return -1;
	return aggregate_release_slot(agg, slot, true);
}

static __u64 expected_faults(__u32 n)
{
	__u64 sum = 0;

	for (__u32 i = 0; i < n; i++)
		sum += i % 7 + 1;
	return sum;
}

static void exited_processes_fold_by_comm(void)
{
	static struct aggregate agg;
	struct fault_stats total;
	const __u32 n = 3000;
	__u64 folded = 0;
	size_t kept = 0;

	aggregate_init(&agg);
	for (__u32 i = 0; i < n; i++)
		CHECK(!live_and_exit(&agg, i, i % 2 ? "odd" : "even"), "process %u", i);
	for (size_t r = 0; r < agg.nr_records; r++) {
		folded += agg.records[r]->folded;
		kept += !agg.records[r]->folded;
	}
	CHECK(kept == MAX_EXITED_KEPT, "%zu exited kept, want %d", kept, MAX_EXITED_KEPT);
	CHECK(agg.nr_records == MAX_EXITED_KEPT + 2, "%zu records", agg.nr_records);
	CHECK(folded == n - MAX_EXITED_KEPT, "%llu folded", (unsigned long long)folded);
	/* The kept ones are the last to exit. */
	for (size_t r = 0; r < agg.nr_records; r++)
		if (!agg.records[r]->folded)
			CHECK(agg.records[r]->tgid >= 1000 + n - MAX_EXITED_KEPT,
			      "pid %u kept", agg.records[r]->tgid);
	aggregate_totals(&agg, &total);
	CHECK(total.count[FAULT_ANON_ZERO] == expected_faults(n), "%llu faults, want %llu",
	      (unsigned long long)total.count[FAULT_ANON_ZERO],
	      (unsigned long long)expected_faults(n));
	aggregate_free(&agg);
}

static void folded_names_are_capped(void)
{
	static struct aggregate agg;
	const __u32 n = MAX_EXITED_KEPT + MAX_FOLDED_COMMS + 100;
	size_t folded_records = 0;
	bool rest = false;

	aggregate_init(&agg);
	for (__u32 i = 0; i < n; i++) {
		char comm[COMM_LEN];

		snprintf(comm, sizeof(comm), "cmd%u", i);
		CHECK(!live_and_exit(&agg, i, comm), "process %u", i);
	}
	for (size_t r = 0; r < agg.nr_records; r++) {
		folded_records += agg.records[r]->folded > 0;
		rest |= !strcmp(agg.records[r]->comm, FOLDED_REST_COMM);
	}
	CHECK(folded_records == MAX_FOLDED_COMMS + 1, "%zu folded records",
	      folded_records);
	CHECK(rest, "no %s record", FOLDED_REST_COMM);
	aggregate_free(&agg);
}

static void live_processes_are_never_folded(void)
{
	static struct aggregate agg;
	struct process_record *first;

	aggregate_init(&agg);
	memset(&slot_stats, 0, sizeof(slot_stats));
	slot_stats.tgid = 1;
	snprintf(slot_stats.comm, COMM_LEN, "launcher");
	CHECK(!aggregate_update_slot(&agg, MAX_PROC_SLOTS - 1, &slot_stats), "update");
	first = agg.records[0];
	for (__u32 i = 0; i < 2 * MAX_EXITED_KEPT; i++)
		CHECK(!live_and_exit(&agg, i % (MAX_PROC_SLOTS - 2), "child"), "child %u", i);
	CHECK(agg.records[0] == first && !first->folded && !first->exited,
	      "the live launcher was folded");
	aggregate_free(&agg);
}

/* Errors show as invalid faults; the shown kinds' sums make the total. */
/*
 * A process that moves keeps a closed record per cgroup it left, and one
 * live record; the closed ones fold like exited ones, apart by cgroup.
 */
static void moves_close_records_that_fold_by_cgroup(void)
{
	static struct aggregate agg;
	struct fault_stats total;
	const __u32 moves = MAX_EXITED_KEPT + 100;
	__u64 in_cgroup[2] = { 0, 0 }, folded = 0;

	aggregate_init(&agg);
	for (__u32 i = 0; i <= moves && !check.failed; i++) {
		__u32 slot = i % 2 + 1;

		memset(&slot_stats, 0, sizeof(slot_stats));
		slot_stats.tgid = 42;
		slot_stats.start_ns = 7;
		slot_stats.cgroup_id = 100 + i % 2;
		snprintf(slot_stats.comm, COMM_LEN, "mover");
		slot_stats.untimed[FAULT_ANON_ZERO] = i + 1;
		CHECK(!aggregate_update_slot(&agg, slot, &slot_stats), "update %u", i);
		if (i < moves)
			CHECK(!aggregate_release_moved(&agg, slot), "move %u", i);
	}
	for (size_t i = 0; i < agg.nr_records; i++) {
		const struct process_record *r = agg.records[i];

		CHECK(r->cgroup_id == 100 || r->cgroup_id == 101, "cgroup %llu",
		      (unsigned long long)r->cgroup_id);
		CHECK(!r->exited || r->folded, "record %zu exited", i);
		if (r->cgroup_id == 100 || r->cgroup_id == 101)
			in_cgroup[r->cgroup_id - 100] += r->stats.count[FAULT_ANON_ZERO];
		folded += r->folded;
		CHECK(r->folded || r->moved == (r != aggregate_find(&agg, 42)),
		      "record %zu: moved %d", i, r->moved);
	}
	CHECK(agg.nr_records <= MAX_EXITED_KEPT + 3, "%zu records", agg.nr_records);
	CHECK(folded == moves - MAX_EXITED_KEPT, "%llu folded", (unsigned long long)folded);
	/* Rounds 0, 2, ... in cgroup 100, 1, 3, ... in 101: i + 1 faults each. */
	CHECK(in_cgroup[0] == (__u64)(moves / 2 + 1) * (moves / 2 + 1) &&
	      in_cgroup[1] == (__u64)(moves / 2) * (moves / 2 + 1),
	      "cgroups 100: %llu, 101: %llu", (unsigned long long)in_cgroup[0],
	      (unsigned long long)in_cgroup[1]);
	aggregate_totals(&agg, &total);
	CHECK(total.count[FAULT_ANON_ZERO] == (__u64)(moves + 1) * (moves + 2) / 2, "%llu",
	      (unsigned long long)total.count[FAULT_ANON_ZERO]);
	aggregate_free(&agg);
}

static void errors_show_as_invalid(void)
{
	__u64 count[NR_FAULT_CLASSES], by_kind = 0;

	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		count[c] = 1ULL << c;
	CHECK(class_shown_kind(FAULT_OTHER_ERROR) == KIND_INVALID &&
	      fault_class_kind(FAULT_OTHER_ERROR) == KIND_ERROR &&
	      class_shown_kind(FAULT_SIGBUS) == KIND_INVALID &&
	      class_shown_kind(FAULT_SWAP_IN) == KIND_MAJOR &&
	      class_shown_kind(FAULT_COW) == KIND_MINOR, "a class shows as the wrong kind");
	CHECK(class_counts_of_kind(count, KIND_INVALID) ==
	      (1ULL << FAULT_SEGV_MAPERR | 1ULL << FAULT_SEGV_ACCERR |
	       1ULL << FAULT_SIGBUS | 1ULL << FAULT_OTHER_ERROR),
	      "invalid sum %#llx", (unsigned long long)class_counts_of_kind(count, KIND_INVALID));
	for (int kind = 0; kind < NR_SHOWN_KINDS; kind++)
		by_kind += class_counts_of_kind(count, kind);
	CHECK(by_kind == class_counts_total(count) &&
	      by_kind == (1ULL << NR_FAULT_CLASSES) - 1, "kinds sum to %#llx",
	      (unsigned long long)by_kind);
}

int main(void)
{
	check.binary = "test_aggregate";
	RUN(exited_processes_fold_by_comm);
	RUN(folded_names_are_capped);
	RUN(live_processes_are_never_folded);
	RUN(moves_close_records_that_fold_by_cgroup);
	RUN(errors_show_as_invalid);
	return check.failures ? 1 : 0;
}
