/*-------------------------------------------------------------------------
 *
 * fuzz_common.h
 *	  Helpers shared by the fuzz targets: compiled schemas (parsed once),
 *	  a counting visitor, and the encode step of the round-trip oracle.
 *
 * A broken invariant calls abort(), which libFuzzer and AFL++ report as a
 * crash with the input saved.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCHEMAEVO_FUZZ_COMMON_H
#define SCHEMAEVO_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "fuzz_schemas.h"

static codec_schema *fuzz_schemas[FUZZ_NSCHEMAS];

static void
fuzz_check(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static void
fuzz_init_schemas(void)
{
	int			i;
	codec_error err;

	if (fuzz_schemas[0] != NULL)
		return;
	for (i = 0; i < FUZZ_NSCHEMAS; i++)
	{
		const char *d = fuzz_schema_defs[i];

		fuzz_check(codec_schema_parse(d, strlen(d), &fuzz_schemas[i], &err) == 0,
				   "fixed schema parses");
	}
}

static int
fz_cb(void *ctx)
{
	(*(long *) ctx)++;
	return 0;
}

static int
fz_u32(void *ctx, uint32_t n)
{
	(void) n;
	return fz_cb(ctx);
}

static int
fz_name(void *ctx, const char *name, size_t len)
{
	(void) name;
	(void) len;
	return fz_cb(ctx);
}

static int
fz_scalar(void *ctx, const codec_value *v)
{
	/* touch the payload so ASan checks the pointer and length */
	if (!v->isnull && v->type->kind >= CODEC_UUID && v->type->kind != CODEC_ENUM &&
		v->type->kind != CODEC_DECIMAL && v->u.bytes.len > 0)
	{
		volatile uint8_t sink = v->u.bytes.ptr[0] ^
			v->u.bytes.ptr[v->u.bytes.len - 1];

		(void) sink;
	}
	return fz_cb(ctx);
}

static void
fuzz_counting_visitor(codec_visitor *v, long *counter)
{
	v->ctx = counter;
	v->begin_record = fz_u32;
	v->field_name = fz_name;
	v->scalar = fz_scalar;
	v->begin_array = fz_u32;
	v->end_array = fz_cb;
	v->end_record = fz_cb;
}

/* Encodes JSON text with the schema; 0 on success (out owns the bytes). */
static int
fuzz_encode_text(const codec_schema *s, const char *text, size_t len,
				 codec_buf *out, codec_error *err)
{
	codec_jansson_ctx jctx;
	codec_source src;
	json_error_t jerr;
	json_t	   *doc;
	int			rc;

	codec_buf_init_malloc(out);
	doc = json_loadb(text, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	if (doc == NULL)
		return -1;
	codec_jansson_source(&src, &jctx);
	rc = codec_encode(s, &src, doc, out, err);
	json_decref(doc);
	return rc;
}

/* True when a deprecated top-level field holds a value (not re-encodable). */
static int
fuzz_has_deprecated_value(const codec_schema *s, const uint8_t *buf,
						  size_t len)
{
	uint32_t	i;
	codec_value v;
	codec_error err;

	for (i = 0; i < s->root.nfields; i++)
	{
		if (!s->root.fields[i].deprecated)
			continue;
		if (codec_read_field(s, CODEC_DECODE_EXACT, &s->root.fields[i], buf,
							 len, &v, &err) != 0 || !v.isnull)
			return 1;
	}
	return 0;
}

/*
 * True when byte i of the re-encoded message lies in a canonical NaN
 * (float64 or float32, little-endian) that replaces some other NaN of the
 * original: NaN payloads and signs are not kept, by design.
 */
static int
fuzz_nan_explains(const uint8_t *orig, const uint8_t *again, size_t len,
				  size_t i)
{
	static const uint8_t nan64[8] = {0, 0, 0, 0, 0, 0, 0xF8, 0x7F};
	static const uint8_t nan32[4] = {0, 0, 0xC0, 0x7F};
	size_t		start;

	for (start = i >= 7 ? i - 7 : 0; start <= i && start + 8 <= len; start++)
	{
		uint64_t	u;

		if (memcmp(again + start, nan64, 8) != 0)
			continue;
		memcpy(&u, orig + start, 8);
		if ((u & UINT64_C(0x7FF0000000000000)) == UINT64_C(0x7FF0000000000000) &&
			(u & UINT64_C(0x000FFFFFFFFFFFFF)) != 0)
			return 1;
	}
	for (start = i >= 3 ? i - 3 : 0; start <= i && start + 4 <= len; start++)
	{
		uint32_t	u;

		if (memcmp(again + start, nan32, 4) != 0)
			continue;
		memcpy(&u, orig + start, 4);
		if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu) != 0)
			return 1;
	}
	return 0;
}

/*
 * The oracle: a message that decodes in EXACT mode must give JSON that
 * encodes back to the very same bytes, NaN payloads aside.
 */
static void
fuzz_roundtrip(const codec_schema *s, const uint8_t *buf, size_t len)
{
	char	   *text = NULL;
	codec_error err;
	codec_buf	again;

	fuzz_check(codec_decode_to_json(s, buf, len, &text, &err) == 0,
			   "decode_to_json succeeds when codec_decode did");
	if (!fuzz_has_deprecated_value(s, buf, len))
	{
		int			rc = fuzz_encode_text(s, text, strlen(text), &again, &err);

		if (rc != 0)
			fprintf(stderr, "re-encode of %s failed: %s: %s\n", text,
					err.path, err.message);
		fuzz_check(rc == 0, "decoded JSON re-encodes");
		fuzz_check(again.len == len, "re-encoded length is identical");
		if (memcmp(again.data, buf, len) != 0)
		{
			size_t		i;

			for (i = 0; i < len; i++)
				if (again.data[i] != buf[i])
					fuzz_check(fuzz_nan_explains(buf, again.data, len, i),
							   "re-encoded bytes are identical");
		}
		free(again.data);
	}
	free(text);
}

#endif
