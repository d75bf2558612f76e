/* A streaming JSON writer: commas, nesting and escaping done right once. */
#ifndef PFWATCH_JSON_WRITER_H
#define PFWATCH_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
	FILE *out;
	bool pretty;
	int depth;
	bool has_items[JSON_MAX_DEPTH];	/* per level: a comma is due */
	bool in_object[JSON_MAX_DEPTH];
	bool after_key;
	bool started;
	bool failed;			/* misuse: unbalanced, too deep */
};

void json_init(struct json_writer *w, FILE *out, bool pretty);
void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_string(struct json_writer *w, const char *text);
void json_u64(struct json_writer *w, uint64_t value);
void json_i64(struct json_writer *w, int64_t value);
void json_double(struct json_writer *w, double value);	/* NaN, inf: null */
void json_bool(struct json_writer *w, bool value);
void json_null(struct json_writer *w);
/* A key and its value, the common case inside objects. */
void json_field_string(struct json_writer *w, const char *key, const char *text);
void json_field_u64(struct json_writer *w, const char *key, uint64_t value);

/* 0 if one complete, balanced value was written without I/O errors. */
int json_finish(struct json_writer *w);

#endif
