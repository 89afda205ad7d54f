/*-------------------------------------------------------------------------
 *
 * jsonb_visitor.c
 *	  A codec_visitor that builds jsonb directly while the codec decodes,
 *	  with no intermediate tree or text, in the JSON mapping of DESIGN.md.
 *
 * Strings point into the message buffer until JsonbValueToJsonb copies
 * them, so the buffer must outlive the build.  Everything is allocated in
 * the caller's (per-row) memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

typedef struct SevoJsonbBuilder
{
	JsonbParseState *state;
	JsonbValue *result;
	int			depth;
	bool		in_array[2 * CODEC_MAX_DEPTH + 4];
} SevoJsonbBuilder;

static void
sevo_jsonb_string(JsonbValue *jv, char *s, int len)
{
	jv->type = jbvString;
	jv->val.string.val = s;
	jv->val.string.len = len;
}

static Numeric
sevo_numeric_from_cstring(const char *s)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in,
											   CStringGetDatum(s),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

/* A float in the text float8out/float4out would write, or its name. */
static void
sevo_jsonb_float(JsonbValue *jv, double f, bool single)
{
	char		buf[64];

	if (isnan(f))
		sevo_jsonb_string(jv, "NaN", 3);
	else if (isinf(f))
	{
		if (f > 0)
			sevo_jsonb_string(jv, "Infinity", 8);
		else
			sevo_jsonb_string(jv, "-Infinity", 9);
	}
	else
	{
		if (single)
			float_to_shortest_decimal_buf((float) f, buf);
		else
			double_to_shortest_decimal_buf(f, buf);
		jv->type = jbvNumeric;
		jv->val.numeric = sevo_numeric_from_cstring(buf);
	}
}

/* Fills `jv` with the JSON form of a decoded scalar. */
static void
sevo_scalar_to_jsonbvalue(const codec_value *v, JsonbValue *jv)
{
	const codec_type *t = v->type;
	char	   *buf;
	size_t		n;

	if (v->isnull)
	{
		jv->type = jbvNull;
		return;
	}
	switch (t->kind)
	{
		case CODEC_BOOL:
			jv->type = jbvBool;
			jv->val.boolean = v->u.b;
			break;
		case CODEC_INT8:
		case CODEC_INT16:
		case CODEC_INT32:
		case CODEC_INT64:
			jv->type = jbvNumeric;
			jv->val.numeric = int64_to_numeric(v->u.i);
			break;
		case CODEC_DECIMAL:
			jv->type = jbvNumeric;
			jv->val.numeric = int64_div_fast_to_numeric(v->u.i, t->scale);
			break;
		case CODEC_FLOAT32:
		case CODEC_FLOAT64:
			sevo_jsonb_float(jv, v->u.f, t->kind == CODEC_FLOAT32);
			break;
		case CODEC_TIMESTAMP:
			buf = palloc(CODEC_TIMESTAMP_BUFLEN);
			n = codec_format_timestamp(v->u.i, buf);
			sevo_jsonb_string(jv, buf, (int) n);
			break;
		case CODEC_DATE:
			buf = palloc(CODEC_DATE_BUFLEN);
			n = codec_format_date((int32) v->u.i, buf);
			sevo_jsonb_string(jv, buf, (int) n);
			break;
		case CODEC_UUID:
			buf = palloc(CODEC_UUID_BUFLEN);
			n = codec_format_uuid(v->u.bytes.ptr, buf);
			sevo_jsonb_string(jv, buf, (int) n);
			break;
		case CODEC_FIXED:
		case CODEC_BYTES:
			buf = palloc(codec_base64_encoded_len(v->u.bytes.len) + 1);
			n = codec_base64_encode(v->u.bytes.ptr, v->u.bytes.len, buf);
			sevo_jsonb_string(jv, buf, (int) n);
			break;
		case CODEC_ENUM:
			buf = t->symbols[v->u.i];
			sevo_jsonb_string(jv, buf, (int) strlen(buf));
			break;
		case CODEC_STRING:
			sevo_jsonb_string(jv, (char *) v->u.bytes.ptr, (int) v->u.bytes.len);
			break;
		case CODEC_ARRAY:
		case CODEC_RECORD:
			elog(ERROR, "composite value passed as a scalar");
	}
}

static void
sevo_builder_push(SevoJsonbBuilder *b, JsonbIteratorToken tok, JsonbValue *v)
{
	b->result = pushJsonbValue(&b->state, tok, v);
}

static int
sevo_visit_begin_record(void *ctx, uint32_t nfields)
{
	SevoJsonbBuilder *b = ctx;

	sevo_builder_push(b, WJB_BEGIN_OBJECT, NULL);
	b->in_array[++b->depth] = false;
	return 0;
}

static int
sevo_visit_field_name(void *ctx, const char *name, size_t len)
{
	SevoJsonbBuilder *b = ctx;
	JsonbValue	k;

	sevo_jsonb_string(&k, (char *) name, (int) len);
	sevo_builder_push(b, WJB_KEY, &k);
	return 0;
}

static int
sevo_visit_scalar(void *ctx, const codec_value *value)
{
	SevoJsonbBuilder *b = ctx;
	JsonbValue	jv;

	sevo_scalar_to_jsonbvalue(value, &jv);
	if (b->depth == 0)
	{
		/* a scalar document, from decode_field */
		b->result = palloc(sizeof(JsonbValue));
		*b->result = jv;
	}
	else
		sevo_builder_push(b, b->in_array[b->depth] ? WJB_ELEM : WJB_VALUE, &jv);
	return 0;
}

static int
sevo_visit_begin_array(void *ctx, uint32_t count)
{
	SevoJsonbBuilder *b = ctx;

	sevo_builder_push(b, WJB_BEGIN_ARRAY, NULL);
	b->in_array[++b->depth] = true;
	return 0;
}

static int
sevo_visit_end_array(void *ctx)
{
	SevoJsonbBuilder *b = ctx;

	b->depth--;
	sevo_builder_push(b, WJB_END_ARRAY, NULL);
	return 0;
}

static int
sevo_visit_end_record(void *ctx)
{
	SevoJsonbBuilder *b = ctx;

	b->depth--;
	sevo_builder_push(b, WJB_END_OBJECT, NULL);
	return 0;
}

static void
sevo_builder_init(SevoJsonbBuilder *b, codec_visitor *v)
{
	memset(b, 0, sizeof(*b));
	v->ctx = b;
	v->begin_record = sevo_visit_begin_record;
	v->field_name = sevo_visit_field_name;
	v->scalar = sevo_visit_scalar;
	v->begin_array = sevo_visit_begin_array;
	v->end_array = sevo_visit_end_array;
	v->end_record = sevo_visit_end_record;
}

/*
 * Decodes a whole message along `plan` into jsonb.  Malformed input is
 * counted and raises 22P03, or returns NULL when `noerror` (the half-built
 * value is left to the per-row memory context); `info` receives what the
 * decoder noticed.
 */
Jsonb *
sevo_decode_to_jsonb(const SevoPlan *plan, const uint8 *buf, size_t len,
					 codec_decode_info *info, bool noerror)
{
	SevoJsonbBuilder b;
	codec_visitor v;
	codec_error err;

	sevo_builder_init(&b, &v);
	if (codec_decode(plan->writer, plan->proj, plan->mode, buf, len, &v,
					 info, &err) != CODEC_OK)
	{
		sevo_count(SEVO_STAT_MALFORMED);
		if (noerror)
			return NULL;
		sevo_report_codec_error(ERROR, &err, "message");
	}
	return JsonbValueToJsonb(b.result);
}

/* One decoded value (scalar, array or record) as a jsonb document. */
Jsonb *
sevo_value_to_jsonb(const codec_value *value)
{
	SevoJsonbBuilder b;
	codec_visitor v;
	codec_error err;

	sevo_builder_init(&b, &v);
	if (codec_visit_value(value, &v, &err) != CODEC_OK)
	{
		sevo_count(SEVO_STAT_MALFORMED);
		sevo_report_codec_error(ERROR, &err, "message");
	}
	return JsonbValueToJsonb(b.result);
}

/* A field's default (or null) as a jsonb document. */
Jsonb *
sevo_default_to_jsonb(const codec_field *field)
{
	SevoJsonbBuilder b;
	codec_visitor v;
	codec_error err;

	sevo_builder_init(&b, &v);
	if (codec_visit_default(field, &v, &err) != CODEC_OK)
		sevo_report_codec_error(ERROR, &err, "default");
	return JsonbValueToJsonb(b.result);
}
