/* JSON writing with strict escaping: comm names may hold any bytes. */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include "json_writer.h"

void json_init(struct json_writer *w, FILE *out, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->pretty = pretty;
}

static void newline(struct json_writer *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->out);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->out);
}

/* Separator and indentation before a value or a key. */
static void before_item(struct json_writer *w, bool is_key)
{
	if (w->after_key) {
		w->after_key = false;
		if (is_key)
			w->failed = true;	/* key after key */
		return;
	}
	if (w->depth == 0) {
		if (w->started || is_key)
			w->failed = true;	/* one top-level value only */
		w->started = true;
		return;
	}
	if (w->in_object[w->depth - 1] != is_key)
		w->failed = true;	/* value without key, or key in array */
	if (w->has_items[w->depth - 1])
		fputc(',', w->out);
	w->has_items[w->depth - 1] = true;
	newline(w);
}

static void begin(struct json_writer *w, char open, bool object)
{
	before_item(w, false);
	if (w->depth == JSON_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	fputc(open, w->out);
	w->in_object[w->depth] = object;
	w->has_items[w->depth] = false;
	w->depth++;
}

static void end(struct json_writer *w, char close, bool object)
{
	if (w->depth == 0 || w->in_object[w->depth - 1] != object || w->after_key) {
		w->failed = true;
		return;
	}
	w->depth--;
	if (w->has_items[w->depth])
		newline(w);
	fputc(close, w->out);
}

void json_begin_object(struct json_writer *w) { begin(w, '{', true); }
void json_end_object(struct json_writer *w) { end(w, '}', true); }
void json_begin_array(struct json_writer *w) { begin(w, '[', false); }
void json_end_array(struct json_writer *w) { end(w, ']', false); }

/* Length of the valid UTF-8 sequence at @s, or 0 if it is not valid. */
static size_t utf8_sequence(const unsigned char *s)
{
	size_t len;
	uint32_t code;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) { len = 2; code = s[0] & 0x1f; }
	else if (s[0] >= 0xe0 && s[0] <= 0xef) { len = 3; code = s[0] & 0x0f; }
	else if (s[0] >= 0xf0 && s[0] <= 0xf4) { len = 4; code = s[0] & 0x07; }
	else return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		code = code << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond Unicode */
	if ((len == 3 && code < 0x800) || (len == 4 && code < 0x10000) ||
	    (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
		return 0;
	return len;
}

static void write_escaped(FILE *out, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	fputc('"', out);
	while (*s) {
		size_t len = utf8_sequence(s);

		if (*s == '"' || *s == '\\') {
			fprintf(out, "\\%c", *s);
		} else if (*s == '\n') {
			fputs("\\n", out);
		} else if (*s == '\t') {
			fputs("\\t", out);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(out, "\\u%04x", *s);
		} else if (len == 0) {
			fputs("\\ufffd", out);	/* not UTF-8: say so, byte by byte */
			len = 1;
		} else {
			fwrite(s, 1, len, out);
		}
		s += len ? len : 1;
	}
	fputc('"', out);
}

void json_key(struct json_writer *w, const char *key)
{
	before_item(w, true);
	write_escaped(w->out, key);
	fputs(w->pretty ? ": " : ":", w->out);
	w->after_key = true;
}

void json_string(struct json_writer *w, const char *text)
{
	before_item(w, false);
	write_escaped(w->out, text);
}

void json_u64(struct json_writer *w, uint64_t value)
{
	before_item(w, false);
	fprintf(w->out, "%" PRIu64, value);
}

void json_i64(struct json_writer *w, int64_t value)
{
	before_item(w, false);
	fprintf(w->out, "%" PRId64, value);
}

void json_double(struct json_writer *w, double value)
{
	before_item(w, false);
	if (isfinite(value))
		fprintf(w->out, "%.9g", value);
	else
		fputs("null", w->out);
}

void json_bool(struct json_writer *w, bool value)
{
	before_item(w, false);
	fputs(value ? "true" : "false", w->out);
}

void json_null(struct json_writer *w)
{
	before_item(w, false);
	fputs("null", w->out);
}

void json_field_string(struct json_writer *w, const char *key, const char *text)
{
	json_key(w, key);
	json_string(w, text);
}

void json_field_u64(struct json_writer *w, const char *key, uint64_t value)
{
	json_key(w, key);
	json_u64(w, value);
}

int json_finish(struct json_writer *w)
{
	if (w->failed || w->depth || !w->started || w->after_key)
		return -1;
	return fflush(w->out) || ferror(w->out) ? -1 : 0;
}
