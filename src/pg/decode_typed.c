/*-------------------------------------------------------------------------
 *
 * decode_typed.c
 *	  decode_field_int8 / _float8 / _text / _bool / _timestamptz: one field
 *	  straight to a SQL datum, no jsonb built.
 *
 * Each accepts the message types that convert without loss of meaning
 * (int8 from any integer, float8 from any number, ...) and raises 42804
 * for the others.  A NULL field, or a field the message's version lacks
 * and whose reader declares no default, is SQL NULL.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "common/int.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "decode_sql.h"

PG_FUNCTION_INFO_V1(sevo_decode_field_int8);
PG_FUNCTION_INFO_V1(sevo_decode_field_float8);
PG_FUNCTION_INFO_V1(sevo_decode_field_text);
PG_FUNCTION_INFO_V1(sevo_decode_field_bool);
PG_FUNCTION_INFO_V1(sevo_decode_field_timestamptz);

/* Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
#define SEVO_EPOCH_SHIFT_USEC \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* Captures the one scalar a default emits. */
static int
sevo_capture_scalar(void *ctx, const codec_value *value)
{
	*(codec_value *) ctx = *value;
	return 0;
}

static void
sevo_type_mismatch(FunctionCallInfo fcinfo, codec_kind kind, const char *want)
{
	text	   *field = PG_GETARG_TEXT_PP(2);

	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("field \"%.*s\" of type %s cannot be read as %s",
					(int) VARSIZE_ANY_EXHDR(field), VARDATA_ANY(field),
					codec_kind_name(kind), want),
			 errhint("Use decode_field() for a jsonb of any type.")));
}

/*
 * The field's value, or its default when the message's version lacks it;
 * false when SQL NULL.  `want` names the SQL type for the error message;
 * `accept` says which kinds convert.
 */
static bool
sevo_typed_field(FunctionCallInfo fcinfo, codec_value *value,
				 const char *want, bool (*accept) (codec_kind))
{
	const codec_field *rf;

	if (!sevo_locate_field(fcinfo, value, &rf))
	{
		codec_visitor v = {0};
		codec_error err;

		if (!accept(rf->type.kind))
			sevo_type_mismatch(fcinfo, rf->type.kind, want);
		if (!rf->has_default)
			return false;
		v.ctx = value;
		v.scalar = sevo_capture_scalar;
		if (codec_visit_default(rf, &v, &err) != CODEC_OK)
			sevo_report_codec_error(ERROR, &err, "default");
	}
	if (!accept(value->type->kind))
		sevo_type_mismatch(fcinfo, value->type->kind, want);
	return !value->isnull;
}

static bool
sevo_accept_int(codec_kind k)
{
	return k == CODEC_INT8 || k == CODEC_INT16 || k == CODEC_INT32 ||
		k == CODEC_INT64;
}

static bool
sevo_accept_number(codec_kind k)
{
	return sevo_accept_int(k) || k == CODEC_FLOAT32 || k == CODEC_FLOAT64 ||
		k == CODEC_DECIMAL;
}

static bool
sevo_accept_bool(codec_kind k)
{
	return k == CODEC_BOOL;
}

static bool
sevo_accept_time(codec_kind k)
{
	return k == CODEC_TIMESTAMP || k == CODEC_DATE;
}

Datum
sevo_decode_field_int8(PG_FUNCTION_ARGS)
{
	codec_value v;

	if (!sevo_typed_field(fcinfo, &v, "bigint", sevo_accept_int))
		PG_RETURN_NULL();
	PG_RETURN_INT64(v.u.i);
}

Datum
sevo_decode_field_float8(PG_FUNCTION_ARGS)
{
	codec_value v;
	double		d;

	if (!sevo_typed_field(fcinfo, &v, "double precision", sevo_accept_number))
		PG_RETURN_NULL();
	switch (v.type->kind)
	{
		case CODEC_FLOAT32:
		case CODEC_FLOAT64:
			d = v.u.f;
			break;
		case CODEC_DECIMAL:
			{
				char		buf[CODEC_DECIMAL_BUFLEN];

				/* through text, so 0.1 reads as the double nearest 0.1 */
				codec_format_decimal(v.u.i, v.type->scale, buf);
				d = strtod(buf, NULL);
				break;
			}
		default:
			d = (double) v.u.i;
			break;
	}
	PG_RETURN_FLOAT8(d);
}

Datum
sevo_decode_field_bool(PG_FUNCTION_ARGS)
{
	codec_value v;

	if (!sevo_typed_field(fcinfo, &v, "boolean", sevo_accept_bool))
		PG_RETURN_NULL();
	PG_RETURN_BOOL(v.u.b);
}

Datum
sevo_decode_field_timestamptz(PG_FUNCTION_ARGS)
{
	codec_value v;
	int64		usec;

	if (!sevo_typed_field(fcinfo, &v, "timestamp with time zone",
						  sevo_accept_time))
		PG_RETURN_NULL();
	if (v.type->kind == CODEC_DATE)
	{
		if (pg_mul_s64_overflow(v.u.i, USECS_PER_DAY, &usec))
			usec = PG_INT64_MAX;
	}
	else
		usec = v.u.i;
	if (pg_sub_s64_overflow(usec, SEVO_EPOCH_SHIFT_USEC, &usec) ||
		!IS_VALID_TIMESTAMP(usec))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	PG_RETURN_TIMESTAMPTZ((TimestampTz) usec);
}

/*
 * Text: a string or enum as itself; any other value in its JSON mapping
 * (numbers, ISO timestamps, base64, ...), composites as JSON text.
 */
Datum
sevo_decode_field_text(PG_FUNCTION_ARGS)
{
	codec_value v;
	const codec_field *rf;
	Jsonb	   *jb;
	JsonbValue	scalar;

	if (!sevo_locate_field(fcinfo, &v, &rf))
		jb = sevo_default_to_jsonb(rf);
	else
	{
		if (v.isnull)
			PG_RETURN_NULL();
		if (v.type->kind == CODEC_STRING)
			PG_RETURN_TEXT_P(cstring_to_text_with_len((const char *) v.u.bytes.ptr,
													  v.u.bytes.len));
		jb = sevo_value_to_jsonb(&v);
	}
	if (JB_ROOT_IS_SCALAR(jb) && JsonbExtractScalar(&jb->root, &scalar))
	{
		if (scalar.type == jbvNull)
			PG_RETURN_NULL();
		if (scalar.type == jbvString)
			PG_RETURN_TEXT_P(cstring_to_text_with_len(scalar.val.string.val,
													  scalar.val.string.len));
	}
	PG_RETURN_TEXT_P(cstring_to_text(JsonbToCString(NULL, &jb->root,
													VARSIZE(jb))));
}
