/* JSON writer: exact output, escaping, misuse and I/O errors. */
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include "json_writer.h"

struct memory_out {
	FILE *file;
	char *text;
	size_t size;
};

static struct json_writer *open_writer(struct memory_out *m, bool pretty)
{
	static struct json_writer w;

	m->text = NULL;
	m->file = open_memstream(&m->text, &m->size);
	json_init(&w, m->file, pretty);
	return &w;
}

/* Finishes the document; returns json_finish's verdict, text in m->text. */
static int close_writer(struct memory_out *m, struct json_writer *w)
{
	int verdict = json_finish(w);

	fclose(m->file);
	return verdict;
}

static void nested_document_compact(void)
{
	struct memory_out m;
	struct json_writer *w = open_writer(&m, false);

	json_begin_object(w);
	json_key(w, "a");
	json_u64(w, 1);
	json_key(w, "list");
	json_begin_array(w);
	json_bool(w, true);
	json_null(w);
	json_begin_object(w);
	json_end_object(w);
	json_begin_array(w);
	json_end_array(w);
	json_end_array(w);
	json_key(w, "neg");
	json_i64(w, INT64_MIN);
	json_key(w, "max");
	json_u64(w, UINT64_MAX);
	json_end_object(w);
	CHECK(close_writer(&m, w) == 0, "complete document refused");
	CHECK(!strcmp(m.text, "{\"a\":1,\"list\":[true,null,{},[]],"
		      "\"neg\":-9223372036854775808,\"max\":18446744073709551615}"),
	      "got %s", m.text);
	free(m.text);
}

static void escaping(void)
{
	struct memory_out m;
	struct json_writer *w = open_writer(&m, false);

	json_begin_array(w);
	json_string(w, "q\"b\\n\nt\tc\x01" "d\x7f");
	json_string(w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	json_string(w, "bad\xff\xc3(\xed\xa0\x80");
	json_end_array(w);
	CHECK(close_writer(&m, w) == 0, "document refused");
	CHECK(!strcmp(m.text, "[\"q\\\"b\\\\n\\nt\\tc\\u0001d\\u007f\","
		      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
		      "\"bad\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\"]"),
	      "got %s", m.text);
	free(m.text);
}

static void doubles(void)
{
	struct memory_out m;
	struct json_writer *w = open_writer(&m, false);

	json_begin_array(w);
	json_double(w, 0.25);
	json_double(w, 1.0 / 0.0);
	json_double(w, 0.0 / 0.0);
	json_end_array(w);
	CHECK(close_writer(&m, w) == 0, "document refused");
	CHECK(!strcmp(m.text, "[0.25,null,null]"), "got %s", m.text);
	free(m.text);
}

static void misuse_is_refused(void)
{
	struct memory_out m;
	struct json_writer *w = open_writer(&m, false);

	json_begin_object(w);
	json_key(w, "open");
	CHECK(close_writer(&m, w) == -1, "unbalanced document accepted");
	free(m.text);

	w = open_writer(&m, false);
	json_begin_object(w);
	json_u64(w, 1);		/* value without a key */
	json_end_object(w);
	CHECK(close_writer(&m, w) == -1, "value without key accepted");
	free(m.text);

	w = open_writer(&m, false);
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		json_begin_array(w);
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		json_end_array(w);
	CHECK(close_writer(&m, w) == -1, "depth overflow accepted");
	free(m.text);
}

static void write_error_is_reported(void)
{
	FILE *full = fopen("/dev/full", "w");
	struct json_writer w;

	if (!full)
		SKIP_TEST("/dev/full is missing");
	json_init(&w, full, false);
	json_begin_array(&w);
	for (int i = 0; i < 10000; i++)
		json_u64(&w, (uint64_t)i);
	json_end_array(&w);
	CHECK(json_finish(&w) == -1, "a failed write went unnoticed");
	fclose(full);
}

static void pretty_output_parses(void)
{
	struct memory_out m;
	struct json_writer *w = open_writer(&m, true);
	FILE *python;

	json_begin_object(w);
	json_key(w, "processes");
	json_begin_array(w);
	json_begin_object(w);
	json_key(w, "comm");
	json_string(w, "x\xff");
	json_key(w, "hist");
	json_begin_array(w);
	json_u64(w, 3);
	json_end_array(w);
	json_end_object(w);
	json_end_array(w);
	json_end_object(w);
	CHECK(close_writer(&m, w) == 0, "document refused");
	if (system("command -v python3 >/dev/null 2>&1")) {
		free(m.text);
		SKIP_TEST("python3 is not installed to parse the output");
	}
	python = popen("python3 -c 'import json,sys; d=json.load(sys.stdin); "
		       "sys.exit(d[\"processes\"][0][\"hist\"] != [3])'", "w");
	CHECK(python != NULL, "cannot start python3");
	if (python) {
		fputs(m.text, python);
		CHECK(pclose(python) == 0, "python3 rejected: %s", m.text);
	}
	free(m.text);
}

int main(void)
{
	check.binary = "test_json_writer";
	RUN(nested_document_compact);
	RUN(escaping);
	RUN(doubles);
	RUN(misuse_is_refused);
	RUN(write_error_is_reported);
	RUN(pretty_output_parses);
	return check.failures ? 1 : 0;
}
