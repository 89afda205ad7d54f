/*-------------------------------------------------------------------------
 *
 * codec_json.c
 *	  jansson adapters: a codec_source over json_t nodes (for the encoder)
 *	  and a visitor writing decoded messages as JSON text (the DESIGN.md
 *	  mapping).
 *
 * Invariants:
 *	- The text written for a value is accepted back by the encoder through
 *	  codec_jansson_source and gives the same bytes.  Two details serve
 *	  that: a negative zero float is written "-0.0" (jansson would read
 *	  "-0" as the integer 0), and real numbers are handed to the encoder in
 *	  their shortest round-trip text, so decimals of up to 15 significant
 *	  digits survive jansson's doubles exactly.
 *	- The writer allocates only through its codec_strbuf; a failed
 *	  allocation stops decoding (CODEC_ERR_NOMEM), never aborts.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "codec_internal.h"

/* ---- source over jansson ---- */

static codec_jkind
js_kind(void *ctx, const void *node)
{
	(void) ctx;
	switch (json_typeof((const json_t *) node))
	{
		case JSON_OBJECT:
			return CODEC_J_OBJECT;
		case JSON_ARRAY:
			return CODEC_J_ARRAY;
		case JSON_STRING:
			return CODEC_J_STRING;
		case JSON_INTEGER:
		case JSON_REAL:
			return CODEC_J_NUMBER;
		case JSON_TRUE:
		case JSON_FALSE:
			return CODEC_J_BOOL;
		default:
			return CODEC_J_NULL;
	}
}

static const void *
js_member(void *ctx, const void *object, const char *name)
{
	(void) ctx;
	return json_object_get((const json_t *) object, name);
}

static uint32_t
js_object_size(void *ctx, const void *object)
{
	(void) ctx;
	return (uint32_t) json_object_size((const json_t *) object);
}

static uint32_t
js_array_size(void *ctx, const void *array)
{
	size_t		n = json_array_size((const json_t *) array);

	(void) ctx;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t) n;
}

static const void *
js_element(void *ctx, const void *array, uint32_t index)
{
	(void) ctx;
	return json_array_get((const json_t *) array, index);
}

static bool
js_boolean(void *ctx, const void *node)
{
	(void) ctx;
	return json_is_true((const json_t *) node);
}

static const char *
js_text(void *ctx, const void *node, size_t *len)
{
	codec_jansson_ctx *jc = ctx;
	const json_t *j = node;
	int			n;

	if (json_is_string(j))
	{
		*len = json_string_length(j);
		return json_string_value(j);
	}
	if (json_is_integer(j))
		n = snprintf(jc->numbuf, sizeof(jc->numbuf),
					 "%" JSON_INTEGER_FORMAT, json_integer_value(j));
	else if (json_is_real(j))
		n = (int) codec_format_float64(json_real_value(j), jc->numbuf);
	else
		n = 0;
	jc->numbuf[n] = '\0';
	*len = (size_t) n;
	return jc->numbuf;
}

static const char *
js_key(void *ctx, const void *object, uint32_t index, size_t *len)
{
	void	   *it = json_object_iter((json_t *) object);
	const char *k;

	(void) ctx;
	while (it != NULL && index > 0)
	{
		it = json_object_iter_next((json_t *) object, it);
		index--;
	}
	if (it == NULL)
		return NULL;
	k = json_object_iter_key(it);
	*len = strlen(k);
	return k;
}

void
codec_jansson_source(codec_source *src, codec_jansson_ctx *ctx)
{
	src->ctx = ctx;
	src->kind = js_kind;
	src->member = js_member;
	src->object_size = js_object_size;
	src->array_size = js_array_size;
	src->element = js_element;
	src->boolean = js_boolean;
	src->text = js_text;
	src->key = js_key;
}

/* ---- JSON text writer (a visitor) ---- */

#define JW_MAX_NEST 64

typedef struct jwriter
{
	codec_strbuf *sb;
	int			depth;
	uint32_t	count[JW_MAX_NEST];
	bool		in_array[JW_MAX_NEST];
} jwriter;

/* A comma before the second and later elements of an array. */
static void
jw_sep(jwriter *w)
{
	if (w->depth > 0 && w->in_array[w->depth - 1] &&
		w->count[w->depth - 1]++ > 0)
		codec_sb_append(w->sb, ",", 1);
}

static int
jw_open(jwriter *w, bool array)
{
	jw_sep(w);
	if (w->depth >= JW_MAX_NEST)
		return -1;
	w->in_array[w->depth] = array;
	w->count[w->depth] = 0;
	w->depth++;
	codec_sb_append(w->sb, array ? "[" : "{", 1);
	return w->sb->failed ? -1 : 0;
}

static int
jw_close(jwriter *w, bool array)
{
	w->depth--;
	codec_sb_append(w->sb, array ? "]" : "}", 1);
	return w->sb->failed ? -1 : 0;
}

static int
jw_begin_record(void *ctx, uint32_t n)
{
	(void) n;
	return jw_open(ctx, false);
}

static int
jw_end_record(void *ctx)
{
	return jw_close(ctx, false);
}

static int
jw_begin_array(void *ctx, uint32_t n)
{
	(void) n;
	return jw_open(ctx, true);
}

static int
jw_end_array(void *ctx)
{
	return jw_close(ctx, true);
}

static int
jw_field_name(void *ctx, const char *name, size_t len)
{
	jwriter    *w = ctx;

	if (w->count[w->depth - 1]++ > 0)
		codec_sb_append(w->sb, ",", 1);
	codec_sb_json_string(w->sb, name, len);
	codec_sb_append(w->sb, ":", 1);
	return w->sb->failed ? -1 : 0;
}

static void
jw_float(codec_strbuf *sb, double f, bool is32)
{
	char		buf[CODEC_FLOAT_BUFLEN];
	size_t		n;

	if (!isfinite(f))
	{
		codec_sb_puts(sb, isnan(f) ? "\"NaN\"" :
					  f > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		return;
	}
	if (f == 0 && signbit(f))
	{
		codec_sb_puts(sb, "-0.0");
		return;
	}
	n = is32 ? codec_format_float32((float) f, buf) :
		codec_format_float64(f, buf);
	codec_sb_append(sb, buf, n);
}

static int
jw_scalar(void *ctx, const codec_value *v)
{
	jwriter    *w = ctx;
	codec_strbuf *sb = w->sb;
	char		buf[CODEC_TIMESTAMP_BUFLEN];
	size_t		n;
	const codec_type *t = v->type;

	jw_sep(w);
	if (v->isnull)
	{
		codec_sb_append(sb, "null", 4);
		return sb->failed ? -1 : 0;
	}
	switch (t->kind)
	{
		case CODEC_BOOL:
			codec_sb_puts(sb, v->u.b ? "true" : "false");
			break;
		case CODEC_INT8:
		case CODEC_INT16:
		case CODEC_INT32:
		case CODEC_INT64:
			codec_sb_printf(sb, "%lld", (long long) v->u.i);
			break;
		case CODEC_FLOAT32:
		case CODEC_FLOAT64:
			jw_float(sb, v->u.f, t->kind == CODEC_FLOAT32);
			break;
		case CODEC_TIMESTAMP:
		case CODEC_DATE:
		case CODEC_UUID:
			if (t->kind == CODEC_TIMESTAMP)
				n = codec_format_timestamp(v->u.i, buf);
			else if (t->kind == CODEC_DATE)
				n = codec_format_date((int32_t) v->u.i, buf);
			else
				n = codec_format_uuid(v->u.bytes.ptr, buf);
			codec_sb_append(sb, "\"", 1);
			codec_sb_append(sb, buf, n);
			codec_sb_append(sb, "\"", 1);
			break;
		case CODEC_DECIMAL:
			n = codec_format_decimal(v->u.i, t->scale, buf);
			codec_sb_append(sb, buf, n);
			break;
		case CODEC_ENUM:
			codec_sb_json_string(sb, t->symbols[v->u.i],
								 strlen(t->symbols[v->u.i]));
			break;
		case CODEC_STRING:
			codec_sb_json_string(sb, (const char *) v->u.bytes.ptr,
								 v->u.bytes.len);
			break;
		case CODEC_FIXED:
		case CODEC_BYTES:
			n = codec_base64_encoded_len(v->u.bytes.len);
			if (!codec_sb_reserve(sb, n + 2))
				return -1;
			sb->data[sb->len++] = '"';
			sb->len += codec_base64_encode(v->u.bytes.ptr, v->u.bytes.len,
										   sb->data + sb->len);
			sb->data[sb->len++] = '"';
			sb->data[sb->len] = '\0';
			break;
		default:
			return -1;
	}
	return sb->failed ? -1 : 0;
}

static void
jw_init(jwriter *w, codec_strbuf *sb, codec_visitor *v)
{
	w->sb = sb;
	w->depth = 0;
	v->ctx = w;
	v->begin_record = jw_begin_record;
	v->field_name = jw_field_name;
	v->scalar = jw_scalar;
	v->begin_array = jw_begin_array;
	v->end_array = jw_end_array;
	v->end_record = jw_end_record;
}

int
codec_decode_to_json(const codec_schema *writer, const uint8_t *buf,
					 size_t len, char **out, codec_error *err)
{
	codec_strbuf sb;
	jwriter		w;
	codec_visitor v;
	int			rc;

	*out = NULL;
	codec_sb_init(&sb);
	jw_init(&w, &sb, &v);
	rc = codec_decode(writer, NULL, CODEC_DECODE_EXACT, buf, len, &v, NULL,
					  err);
	if (rc == CODEC_ERR_VISITOR)
		rc = codec_fail(err, CODEC_ERR_NOMEM, 0, NULL, "out of memory");
	if (rc != 0)
	{
		free(sb.data);
		return rc;
	}
	*out = codec_sb_finish(&sb);
	if (*out == NULL)
		return codec_fail(err, CODEC_ERR_NOMEM, 0, NULL, "out of memory");
	return 0;
}

int
codec_json_write_default(codec_strbuf *sb, const codec_field *field,
						 codec_error *err)
{
	jwriter		w;
	codec_visitor v;

	jw_init(&w, sb, &v);
	return codec_visit_default(field, &v, err);
}
