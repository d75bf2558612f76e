/*
 * The collector's record parsing, without BPF: hand-built ring-buffer
 * records go to collector_handle_event(), and the test looks at what
 * reached the aggregate (invalid faults), the sink (streamed faults), the
 * exit queue and the count of records received.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "collect.h"
#include "where.h"

#define MAX_SEEN 64

/* What the sink was handed, copied: the strings live only for the call. */
static struct {
	size_t count;
	struct fault_record records[MAX_SEEN];
	char comm[COMM_LEN];
	char mapping[PATH_MAX + 24];
	char function[128];
	bool waited[MAX_SEEN];
	__u32 wait_ns[MAX_SEEN][NR_WAIT_CAUSES];
} seen;

static void remember_fault(const struct streamed_fault *fault, void *context)
{
	(void)context;
	if (seen.count < MAX_SEEN) {
		seen.records[seen.count] = *fault->record;
		seen.waited[seen.count] = fault->wait_ns != NULL;
		if (fault->wait_ns)
			memcpy(seen.wait_ns[seen.count], fault->wait_ns,
			       sizeof(seen.wait_ns[0]));
	}
	seen.count++;
	snprintf(seen.comm, sizeof(seen.comm), "%s", fault->comm);
	snprintf(seen.mapping, sizeof(seen.mapping), "%s", fault->mapping);
	snprintf(seen.function, sizeof(seen.function), "%s", fault->function);
}

/* Large: off the stack. */
static struct aggregate agg;
static struct collector collector;

/* A parsing-only collector; @sink: whether --min-latency is on. */
static void start(bool sink, __u64 min_latency_ns)
{
	memset(&seen, 0, sizeof(seen));
	aggregate_init(&agg);
	CHECK(collector_init(&collector, NULL, &agg) == 0, "collector_init");
	if (sink)
		collector.sink = (struct fault_sink){
			.on_fault = remember_fault, .min_latency_ns = min_latency_ns,
		};
}

static void stop(void)
{
	collector_free(&collector);
	aggregate_free(&agg);
}

static int feed(void *record, size_t size)
{
	return collector_handle_event(&collector, record, size);
}

/* This process's own comm, as the kernel names it. */
static void own_comm(char comm[COMM_LEN])
{
	FILE *in = fopen("/proc/self/comm", "re");

	comm[0] = '\0';
	if (in) {
		if (fgets(comm, COMM_LEN, in))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(in);
	}
}

static struct fault_record fault_at(__u64 address, __u32 latency_ns)
{
	return (struct fault_record){
		.header.type = EVENT_FAULT, .fault_class = FAULT_ANON_ZERO,
		.tgid = (__u32)getpid(), .tid = (__u32)gettid(),
		.latency_ns = latency_ns, .address = address,
	};
}

static void exit_event_queues_its_slot_once(void)
{
	struct proc_exit_event exit_event = {
		.header.type = EVENT_PROC_EXIT, .tgid = 4321, .slot = 7,
	};

	start(true, 0);
	CHECK(feed(&exit_event, sizeof(exit_event)) == 0, "not 0");
	CHECK(feed(&exit_event, sizeof(exit_event)) == 0, "not 0");
	CHECK(collector.nr_exited == 1 && collector.exited[0].slot == 7 &&
	      collector.exited[0].tgid == 4321, "%zu exits queued, first slot %u tgid %u",
	      collector.nr_exited, collector.exited[0].slot, collector.exited[0].tgid);
	/* The overflow slot is shared, and a slot past the map is nonsense. */
	exit_event.slot = OVERFLOW_SLOT;
	feed(&exit_event, sizeof(exit_event));
	exit_event.slot = MAX_PROC_SLOTS;
	feed(&exit_event, sizeof(exit_event));
	exit_event.slot = 8;
	feed(&exit_event, sizeof(exit_event) - 1);	/* short: ignored */
	CHECK(collector.nr_exited == 1, "%zu exits queued, want 1", collector.nr_exited);
	CHECK(seen.count == 0 && collector.streamed == 0 && agg.invalid_events == 0,
	      "an exit reached the sink (%zu) or the counts (%llu, %llu)", seen.count,
	      (unsigned long long)collector.streamed,
	      (unsigned long long)agg.invalid_events);
	stop();
}

static void invalid_fault_reaches_the_aggregate(void)
{
	struct fault_event event = {
		.header.type = EVENT_INVALID_FAULT, .tgid = 0x3fffffff, .tid = 0x3fffffff,
		.fault_class = FAULT_SEGV_MAPERR, .address = 0x10, .signal_code = 1,
	};

	start(true, 0);
	feed(&event, sizeof(event));
	/* The kernel saw the mapping: it is described from its vma. */
	event.fault_class = FAULT_SEGV_ACCERR;
	event.address = 0x5000;
	event.vma = (struct fault_vma){ .start = 0x4000, .end = 0x8000,
					.kind = VMA_HEAP, .flags = 1 | 2 };
	feed(&event, sizeof(event));
	feed(&event, sizeof(event) - 1);	/* short: ignored */
	CHECK(agg.invalid_events == 2 && agg.nr_invalid == 2, "%llu invalid events, %zu kept",
	      (unsigned long long)agg.invalid_events, agg.nr_invalid);
	CHECK(agg.invalid[0].event.address == 0x10 && !agg.invalid[0].mapped,
	      "first: address 0x%llx, mapped %d",
	      (unsigned long long)agg.invalid[0].event.address, agg.invalid[0].mapped);
	CHECK(agg.invalid[1].event.fault_class == FAULT_SEGV_ACCERR &&
	      agg.invalid[1].mapped && !strcmp(agg.invalid[1].mapping_kind, "heap") &&
	      !strcmp(agg.invalid[1].perms, "rw-p"), "second: class %u, %s %s",
	      agg.invalid[1].event.fault_class, agg.invalid[1].mapping_kind,
	      agg.invalid[1].perms);
	CHECK(seen.count == 0 && collector.streamed == 0,
	      "an invalid fault was streamed (%zu)", seen.count);
	stop();
}

/* A global of ours: its mapping is this binary's file. */
static int placed_here = 1;

static void single_fault_reaches_the_sink_placed(void)
{
	struct fault_record record = fault_at((uintptr_t)&placed_here, 5000);
	char comm[COMM_LEN], exe[PATH_MAX] = "";
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (len > 0)
		exe[len] = '\0';
	own_comm(comm);
	record.ip = (uintptr_t)single_fault_reaches_the_sink_placed;
	start(true, 0);
	CHECK(feed(&record, sizeof(record)) == 0, "not 0");
	CHECK(seen.count == 1 && collector.streamed == 1, "%zu seen, %llu received",
	      seen.count, (unsigned long long)collector.streamed);
	CHECK(!memcmp(&seen.records[0], &record, sizeof(record)), "record changed");
	CHECK(comm[0] && !strcmp(seen.comm, comm), "comm '%s', want '%s'", seen.comm, comm);
	CHECK(len > 0 && !strncmp(seen.mapping, exe, strlen(exe)) &&
	      !strncmp(seen.mapping + strlen(exe), "+0x", 3),
	      "mapping '%s', want %s+0x...", seen.mapping, exe);
	CHECK(!strcmp(seen.function, __func__), "function '%s', want %s", seen.function,
	      __func__);
	feed(&record, sizeof(record) - 1);	/* short: ignored */
	feed(&record, 2);
	CHECK(seen.count == 1 && collector.streamed == 1, "a short record counted");
	stop();
}

static void sink_gets_only_faults_slow_enough(void)
{
	struct fault_record fast = fault_at(0x1000, 999), slow = fault_at(0x2000, 1000);

	start(true, 1000);
	feed(&fast, sizeof(fast));
	feed(&slow, sizeof(slow));
	CHECK(seen.count == 1 && seen.records[0].address == 0x2000,
	      "%zu seen, first at 0x%llx", seen.count,
	      (unsigned long long)seen.records[0].address);
	CHECK(collector.streamed == 2, "%llu received, want 2",
	      (unsigned long long)collector.streamed);
	stop();
}

/* A batch of @count records at 0x1000, 0x2000, ... */
static void fill_batch(struct fault_batch *batch, __u32 count)
{
	memset(batch, 0, sizeof(*batch));
	batch->header.type = EVENT_FAULT_BATCH;
	batch->count = count;
	for (__u32 i = 0; i < FAULT_BATCH_RECORDS; i++)
		batch->records[i] = fault_at(0x1000ULL * (i + 1), 100 + i);
}

static bool seen_in_order(size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (seen.records[i].address != 0x1000ULL * (i + 1) ||
		    seen.records[i].latency_ns != 100 + i)
			return false;
	return true;
}

static void batch_hands_over_each_record_in_order(void)
{
	static struct fault_batch batch;
	size_t header = offsetof(struct fault_batch, records);

	start(true, 0);
	fill_batch(&batch, 5);
	/* Only the records in use are sent. */
	feed(&batch, header + 5 * sizeof(batch.records[0]));
	CHECK(seen.count == 5 && seen_in_order(5), "%zu of 5 seen, or out of order",
	      seen.count);
	fill_batch(&batch, FAULT_BATCH_RECORDS);
	feed(&batch, sizeof(batch));
	CHECK(seen.count == 5 + FAULT_BATCH_RECORDS && collector.streamed == seen.count,
	      "%zu seen, %llu received, want %d", seen.count,
	      (unsigned long long)collector.streamed, 5 + FAULT_BATCH_RECORDS);
	stop();
}

static void truncated_batch_hands_over_only_whole_records(void)
{
	static struct fault_batch batch;
	size_t header = offsetof(struct fault_batch, records);

	start(true, 0);
	fill_batch(&batch, FAULT_BATCH_RECORDS);
	/* Three whole records and part of a fourth. */
	feed(&batch, header + 3 * sizeof(batch.records[0]) + 5);
	CHECK(seen.count == 3 && seen_in_order(3), "%zu seen, want 3", seen.count);
	/* A count past the batch's room: only the room is read. */
	batch.count = 1000;
	memset(&seen, 0, sizeof(seen));
	feed(&batch, sizeof(batch));
	CHECK(seen.count == FAULT_BATCH_RECORDS && seen_in_order(FAULT_BATCH_RECORDS),
	      "%zu seen, want %d", seen.count, FAULT_BATCH_RECORDS);
	/* Not even the header. */
	memset(&seen, 0, sizeof(seen));
	feed(&batch, header - 1);
	CHECK(seen.count == 0, "%zu seen from a headless batch", seen.count);
	CHECK(collector.streamed == 3 + FAULT_BATCH_RECORDS, "%llu received, want %d",
	      (unsigned long long)collector.streamed, 3 + FAULT_BATCH_RECORDS);
	stop();
}

/* Without --stacks' table, a stack record's fault still streams. */
static void stack_record_streams_its_fault(void)
{
	static struct fault_stack_record record;

	record.fault = fault_at(0x7000, 42);
	record.fault.header.type = EVENT_FAULT_STACK;
	record.nr_frames = 1;
	start(false, 0);
	feed(&record, sizeof(record));
	CHECK(collector.streamed == 0, "counted with no sink and no --where");
	stop();
	start(true, 0);
	feed(&record, sizeof(record));
	feed(&record, sizeof(record) - 1);	/* short: ignored */
	CHECK(seen.count == 1 && seen.records[0].address == 0x7000 &&
	      collector.streamed == 1, "%zu seen, %llu received", seen.count,
	      (unsigned long long)collector.streamed);
	stop();
}

/* A fault that waited reaches the sink with its waits; others without. */
static void waits_record_streams_its_fault_with_its_waits(void)
{
	struct fault_waits_record record = { .fault = fault_at(0x9000, 31500000) };
	struct fault_record plain = fault_at(0xa000, 100);

	record.fault.header.type = EVENT_FAULT_WAITS;
	record.wait_ns[CAUSE_MEMCG_RECLAIM] = 29800000;
	record.wait_ns[CAUSE_RUNQUEUE] = 12345;
	start(true, 0);
	feed(&record, sizeof(record));
	feed(&record, sizeof(record) - 1);	/* short: ignored */
	feed(&plain, sizeof(plain));
	CHECK(seen.count == 2 && collector.streamed == 2, "%zu seen, %llu received",
	      seen.count, (unsigned long long)collector.streamed);
	CHECK(seen.records[0].address == 0x9000 && seen.waited[0] &&
	      seen.wait_ns[0][CAUSE_MEMCG_RECLAIM] == 29800000 &&
	      seen.wait_ns[0][CAUSE_RUNQUEUE] == 12345 && seen.wait_ns[0][CAUSE_IO] == 0,
	      "waits lost: waited %d, memcg %u", seen.waited[0],
	      seen.wait_ns[0][CAUSE_MEMCG_RECLAIM]);
	CHECK(!seen.waited[1], "a fault without waits came with some");
	stop();
}

/* --where counts a fault that waited like any other. */
static void waits_record_counts_in_where(void)
{
	struct fault_waits_record record = {
		.fault = fault_at((uintptr_t)&placed_here, 5000),
	};
	static struct where_table where;

	record.fault.header.type = EVENT_FAULT_WAITS;
	record.wait_ns[CAUSE_IO] = 4000;
	start(false, 0);
	CHECK(!where_init(&where), "where_init");
	collector.where = &where;
	feed(&record, sizeof(record));
	CHECK(where.placed + where.unplaced == 1 && collector.streamed == 1,
	      "placed %llu, unplaced %llu, received %llu",
	      (unsigned long long)where.placed, (unsigned long long)where.unplaced,
	      (unsigned long long)collector.streamed);
	where_free(&where);
	stop();
}

static void unknown_type_is_ignored(void)
{
	struct fault_record record = fault_at(0x1000, 1);

	record.header.type = 99;
	start(true, 0);
	feed(&record, sizeof(record));
	CHECK(seen.count == 0 && collector.streamed == 0 && agg.invalid_events == 0 &&
	      collector.nr_exited == 0, "type 99 was taken for something");
	stop();
}

int main(void)
{
	check.binary = "test_collect";
	RUN(exit_event_queues_its_slot_once);
	RUN(invalid_fault_reaches_the_aggregate);
	RUN(single_fault_reaches_the_sink_placed);
	RUN(sink_gets_only_faults_slow_enough);
	RUN(batch_hands_over_each_record_in_order);
	RUN(truncated_batch_hands_over_only_whole_records);
	RUN(stack_record_streams_its_fault);
	RUN(waits_record_streams_its_fault_with_its_waits);
	RUN(waits_record_counts_in_where);
	RUN(unknown_type_is_ignored);
	return check.failures ? 1 : 0;
}
