/*-------------------------------------------------------------------------
 *
 * helpers.c
 *	  Test runner and shared helpers: encode a JSON document, decode to
 *	  JSON, check round trips, error codes, offsets, paths and messages.
 *
 * The round-trip helper is the strongest check in the suite: it encodes,
 * decodes, re-encodes the decoded text and requires identical bytes, reads
 * every field through codec_read_field, and decodes every proper prefix of
 * the message, which must fail cleanly.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>

#include <jansson.h>

#include "unit.h"

int			unit_failures;

void
unit_fail(const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	unit_failures++;
}

codec_schema *
must_parse(const char *json)
{
	codec_schema *s = NULL;
	codec_error err;

	if (codec_schema_parse(json, strlen(json), &s, &err) != 0)
	{
		unit_fail(__FILE__, __LINE__, "schema does not parse: %s: %s",
				  err.path, err.message);
		return NULL;
	}
	return s;
}

int
encode_doc(const codec_schema *s, const char *doc, codec_buf *out,
		   codec_error *err)
{
	codec_jansson_ctx jctx;
	codec_source src;
	json_error_t jerr;
	json_t	   *j;
	int			rc;

	codec_buf_init_malloc(out);
	j = json_loads(doc, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	if (j == NULL)
	{
		unit_fail(__FILE__, __LINE__, "bad test JSON: %s (%s)", doc,
				  jerr.text);
		err->code = CODEC_ERR_VALUE;
		return -1;
	}
	codec_jansson_source(&src, &jctx);
	rc = codec_encode(s, &src, j, out, err);
	json_decref(j);
	return rc;
}

uint8_t *
must_encode(const codec_schema *s, const char *doc, size_t *len)
{
	codec_buf	out;
	codec_error err;

	if (encode_doc(s, doc, &out, &err) != 0)
	{
		unit_fail(__FILE__, __LINE__, "encode failed: %s: %s (doc %s)",
				  err.path, err.message, doc);
		free(out.data);
		*len = 0;
		return NULL;
	}
	*len = out.len;
	return out.data;
}

char *
decode_json(const codec_schema *s, const uint8_t *buf, size_t len,
			codec_error *err)
{
	char	   *out = NULL;

	if (codec_decode_to_json(s, buf, len, &out, err) != 0)
		return NULL;
	return out;
}

void
check_prefixes_fail(const codec_schema *s, const uint8_t *buf, size_t len)
{
	size_t		k;
	long		n = 0;
	codec_visitor v;
	codec_error err;

	counting_visitor(&v, &n);
	for (k = 0; k < len; k++)
	{
		/* a copy of exactly k bytes, so ASan sees any over-read */
		uint8_t    *copy = malloc(k ? k : 1);
		int			rc;

		memcpy(copy, buf, k);
		rc = codec_decode(s, NULL, CODEC_DECODE_EXACT, copy, k, &v, NULL,
						  &err);
		if (rc != CODEC_ERR_MALFORMED)
			unit_fail(__FILE__, __LINE__,
					  "prefix of %zu/%zu bytes: rc %d, expected malformed",
					  k, len, rc);
		rc = codec_decode(s, NULL, CODEC_DECODE_PREFIX, copy, k, &v, NULL,
						  &err);
		if (rc == 0 && k < len)
		{
			/* PREFIX mode may legitimately stop early only if the tail is
			 * beyond the schema's fields, which cannot be for our own
			 * messages */
			unit_fail(__FILE__, __LINE__,
					  "prefix of %zu/%zu bytes decoded in PREFIX mode", k, len);
		}
		free(copy);
	}
}

void
check_roundtrip(const codec_schema *s, const char *doc, const char *expect)
{
	size_t		len;
	uint8_t    *buf = must_encode(s, doc, &len);
	char	   *text;
	codec_error err;
	codec_buf	again;
	uint32_t	i;

	if (buf == NULL)
		return;
	text = decode_json(s, buf, len, &err);
	if (text == NULL)
	{
		unit_fail(__FILE__, __LINE__, "decode failed at %zu %s: %s",
				  err.offset, err.path, err.message);
		free(buf);
		return;
	}
	if (expect != NULL && strcmp(text, expect) != 0)
		unit_fail(__FILE__, __LINE__, "decoded\n    %s\n  expected\n    %s",
				  text, expect);
	if (encode_doc(s, text, &again, &err) != 0)
		unit_fail(__FILE__, __LINE__, "re-encode failed: %s: %s",
				  err.path, err.message);
	else if (again.len != len || memcmp(again.data, buf, len) != 0)
		unit_fail(__FILE__, __LINE__, "re-encoded bytes differ for %s", text);
	free(again.data);
	for (i = 0; i < s->root.nfields; i++)
	{
		codec_value val;

		if (codec_read_field(s, CODEC_DECODE_EXACT, &s->root.fields[i], buf,
							 len, &val, &err) != 0)
			unit_fail(__FILE__, __LINE__, "read_field %s: %s",
					  s->root.fields[i].name, err.message);
	}
	check_prefixes_fail(s, buf, len);
	free(text);
	free(buf);
}

void
check_decode_error(const codec_schema *s, const uint8_t *buf, size_t len,
				   int code, size_t offset, const char *path,
				   const char *message)
{
	codec_error err;
	char	   *text = NULL;
	int			rc = codec_decode_to_json(s, buf, len, &text, &err);

	if (rc != code)
	{
		unit_fail(__FILE__, __LINE__, "decode rc %d, expected %d (%s: %s)",
				  rc, code, rc ? err.path : "", rc ? err.message : text);
		free(text);
		return;
	}
	if (err.offset != offset)
		unit_fail(__FILE__, __LINE__, "offset %zu, expected %zu (%s)",
				  err.offset, offset, message);
	if (strcmp(err.path, path) != 0)
		unit_fail(__FILE__, __LINE__, "path \"%s\", expected \"%s\"",
				  err.path, path);
	if (strcmp(err.message, message) != 0)
		unit_fail(__FILE__, __LINE__, "message \"%s\", expected \"%s\"",
				  err.message, message);
}

void
check_encode_error(const codec_schema *s, const char *doc, int code,
				   const char *path, const char *message)
{
	codec_buf	out;
	codec_error err;
	int			rc = encode_doc(s, doc, &out, &err);

	free(out.data);
	if (rc != code)
	{
		unit_fail(__FILE__, __LINE__, "encode %s: rc %d, expected %d (%s)",
				  doc, rc, code, rc ? err.message : "");
		return;
	}
	if (strcmp(err.path, path) != 0)
		unit_fail(__FILE__, __LINE__, "path \"%s\", expected \"%s\"",
				  err.path, path);
	if (strcmp(err.message, message) != 0)
		unit_fail(__FILE__, __LINE__, "message \"%s\", expected \"%s\"",
				  err.message, message);
}

static int
count_cb(void *ctx)
{
	(*(long *) ctx)++;
	return 0;
}

static int
count_u32(void *ctx, uint32_t n)
{
	(void) n;
	return count_cb(ctx);
}

static int
count_name(void *ctx, const char *name, size_t len)
{
	(void) name;
	(void) len;
	return count_cb(ctx);
}

static int
count_scalar(void *ctx, const codec_value *v)
{
	(void) v;
	return count_cb(ctx);
}

void
counting_visitor(codec_visitor *v, long *counter)
{
	v->ctx = counter;
	v->begin_record = count_u32;
	v->field_name = count_name;
	v->scalar = count_scalar;
	v->begin_array = count_u32;
	v->end_array = count_cb;
	v->end_record = count_cb;
}

static const unit_test *const all_tables[] = {
	schema_tests, text_tests, roundtrip_tests, malformed_tests, NULL
};

int
main(int argc, char **argv)
{
	int			passed = 0;
	int			failed = 0;
	int			t;

	for (t = 0; all_tables[t] != NULL; t++)
	{
		const unit_test *u;

		for (u = all_tables[t]; u->name != NULL; u++)
		{
			int			before = unit_failures;

			if (argc > 1 && strstr(u->name, argv[1]) == NULL)
				continue;
			u->fn();
			if (unit_failures == before)
				passed++;
			else
			{
				failed++;
				fprintf(stderr, "FAIL %s\n", u->name);
			}
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
