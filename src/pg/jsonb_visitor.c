/*-------------------------------------------------------------------------
 *
 * jsonb_visitor.c
 *	  A codec_visitor that builds jsonb while the codec decodes, in the JSON
 *	  mapping of DESIGN.md.
 *
 * This runs once per decoded row, so it builds the JsonbValue tree itself
 * (objects with their pairs array sized up front, arrays grown by
 * doubling) and serialises it with one JsonbValueToJsonb, instead of going
 * through pushJsonbValue, which sorts every object's keys when it closes.
 *
 * Invariants:
 *	- Object keys must reach JsonbValueToJsonb in jsonb order (shorter key
 *	  first, then bytewise) and unique.  Schema field names are unique; the
 *	  root object of a plan is placed in its precomputed order
 *	  (SevoPlan.key_order, see sevo_jsonb_key_order), nested objects are
 *	  sorted when they close.
 *	- Strings point into the message buffer until JsonbValueToJsonb copies
 *	  them, so the buffer must outlive the build.  Everything is allocated
 *	  in the caller's (per-row) memory context.
 *	- The numeric of a float is the one numeric_in would make of its
 *	  shortest text (float8out / float4out), built without parsing when the
 *	  text has no exponent; integers and decimals are exact.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

/* As in jsonb_util.c: the most elements / pairs one container may hold. */
#define SEVO_JSONB_MAX_ELEMS (Min(MaxAllocSize / sizeof(JsonbValue), JB_CMASK))
#define SEVO_JSONB_MAX_PAIRS (Min(MaxAllocSize / sizeof(JsonbPair), JB_CMASK))

/* One open container. */
typedef struct SevoJsonbFrame
{
	JsonbValue *jv;				/* jbvObject or jbvArray being filled */
	uint32		n;				/* values placed so far */
	uint32		cap;			/* pairs / elems allocated */
	const uint32 *order;		/* object: position of the i-th key, or NULL */
	char	   *key;			/* object: key of the next value */
	int			keylen;
} SevoJsonbFrame;

typedef struct SevoJsonbBuilder
{
	JsonbValue	root;
	bool		have_root;
	int			depth;			/* open containers */
	const uint32 *root_order;	/* key order of the root object, or NULL */
	uint32		root_nkeys;
	SevoJsonbFrame frames[2 * CODEC_MAX_DEPTH + 4];
} SevoJsonbBuilder;

static void
sevo_jsonb_string(JsonbValue *jv, char *s, int len)
{
	jv->type = jbvString;
	jv->val.string.val = s;
	jv->val.string.len = len;
}

/* jsonb's key order: shorter first, then bytewise. */
static inline int
sevo_key_cmp(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen > blen ? 1 : -1;
	return memcmp(a, b, alen);
}

/*
 * The position, in jsonb key order, of each of `n` keys given in emission
 * order; allocated with sevo_cache_alloc (lives as long as the plan).
 */
uint32 *
sevo_jsonb_key_order(const codec_field *const *fields, uint32 n)
{
	uint32	   *order = sevo_cache_alloc(Max(n, 1) * sizeof(uint32));
	uint32		i;
	uint32		j;

	for (i = 0; i < n; i++)
	{
		uint32		pos = 0;

		for (j = 0; j < n; j++)
			if (sevo_key_cmp(fields[j]->name, fields[j]->name_len,
							 fields[i]->name, fields[i]->name_len) < 0)
				pos++;
		order[i] = pos;
	}
	return order;
}

/*
 * A numeric from the shortest decimal text of a float, as numeric_in would
 * read it: "-123.456" forms directly (at most 17 significant digits, so
 * the unscaled value fits an int64), anything with an exponent through
 * numeric_in.
 */
static Numeric
sevo_numeric_from_shortest(const char *s)
{
	const char *p = s;
	bool		neg = false;
	int64		v = 0;
	int			scale = 0;
	bool		dot = false;

	if (*p == '-')
	{
		neg = true;
		p++;
	}
	for (; *p; p++)
	{
		if (*p >= '0' && *p <= '9')
		{
			v = v * 10 + (*p - '0');
			if (dot)
				scale++;
		}
		else if (*p == '.' && !dot)
			dot = true;
		else
			return DatumGetNumeric(DirectFunctionCall3(numeric_in,
													   CStringGetDatum(s),
													   ObjectIdGetDatum(InvalidOid),
													   Int32GetDatum(-1)));
	}
	return int64_div_fast_to_numeric(neg ? -v : v, scale);
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
		jv->val.numeric = sevo_numeric_from_shortest(buf);
	}
}

static inline char *
sevo_put2(char *p, int v)
{
	p[0] = '0' + v / 10;
	p[1] = '0' + v % 10;
	return p + 2;
}

/*
 * codec_format_timestamp's text (YYYY-MM-DDTHH:MM:SS.ffffffZ) without
 * printf, for years 1970 .. 9999; other instants go to the codec.
 */
static size_t
sevo_format_timestamp(int64 usec, char *buf)
{
	/* 10000-01-01T00:00:00Z in microseconds since 1970 */
	const int64 limit = INT64CONST(253402300800000000);
	int64		days;
	int64		rem;
	int			secs;
	int			frac;
	int64		z;
	int64		era;
	int64		doe;
	int64		yoe;
	int64		doy;
	int64		mp;
	int			y;
	int			m;
	int			d;
	char	   *p = buf;
	int			i;

	if (usec < 0 || usec >= limit)
		return codec_format_timestamp(usec, buf);
	days = usec / USECS_PER_DAY;
	rem = usec % USECS_PER_DAY;
	secs = (int) (rem / USECS_PER_SEC);
	frac = (int) (rem % USECS_PER_SEC);

	/* civil_from_days of codec_text.c (H. Hinnant), days >= 0 */
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int) (doy - (153 * mp + 2) / 5 + 1);
	m = (int) (mp < 10 ? mp + 3 : mp - 9);
	y = (int) (yoe + era * 400 + (m <= 2));

	p = sevo_put2(p, y / 100);
	p = sevo_put2(p, y % 100);
	*p++ = '-';
	p = sevo_put2(p, m);
	*p++ = '-';
	p = sevo_put2(p, d);
	*p++ = 'T';
	p = sevo_put2(p, secs / 3600);
	*p++ = ':';
	p = sevo_put2(p, secs / 60 % 60);
	*p++ = ':';
	p = sevo_put2(p, secs % 60);
	*p++ = '.';
	for (i = 5; i >= 0; i--)
	{
		p[i] = '0' + frac % 10;
		frac /= 10;
	}
	p += 6;
	*p++ = 'Z';
	*p = '\0';
	return p - buf;
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
			n = sevo_format_timestamp(v->u.i, buf);
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

/* Where the next value goes: the root, a pair's value or an element. */
static JsonbValue *
sevo_builder_slot(SevoJsonbBuilder *b)
{
	SevoJsonbFrame *f;

	if (b->depth == 0)
	{
		if (b->have_root)
			elog(ERROR, "second root value in a jsonb build");
		b->have_root = true;
		return &b->root;
	}
	f = &b->frames[b->depth - 1];
	if (f->jv->type == jbvObject)
	{
		JsonbPair  *pair;

		if (f->key == NULL)
			elog(ERROR, "jsonb object value without a key");
		if (f->n >= f->cap)
		{
			if (f->order != NULL || f->cap >= SEVO_JSONB_MAX_PAIRS)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("number of jsonb object pairs exceeds the maximum allowed (%zu)",
								SEVO_JSONB_MAX_PAIRS)));
			f->cap = Min(f->cap * 2, SEVO_JSONB_MAX_PAIRS);
			f->jv->val.object.pairs = repalloc(f->jv->val.object.pairs,
											   f->cap * sizeof(JsonbPair));
		}
		pair = &f->jv->val.object.pairs[f->order ? f->order[f->n] : f->n];
		sevo_jsonb_string(&pair->key, f->key, f->keylen);
		pair->order = f->n;
		f->n++;
		f->key = NULL;
		return &pair->value;
	}
	if (f->n >= f->cap)
	{
		if (f->cap >= SEVO_JSONB_MAX_ELEMS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("number of jsonb array elements exceeds the maximum allowed (%zu)",
							SEVO_JSONB_MAX_ELEMS)));
		f->cap = Min(f->cap * 2, SEVO_JSONB_MAX_ELEMS);
		f->jv->val.array.elems = repalloc(f->jv->val.array.elems,
										  f->cap * sizeof(JsonbValue));
	}
	return &f->jv->val.array.elems[f->n++];
}

static SevoJsonbFrame *
sevo_builder_open(SevoJsonbBuilder *b, JsonbValue *jv)
{
	SevoJsonbFrame *f;

	if (b->depth >= lengthof(b->frames))
		elog(ERROR, "jsonb build nested too deeply");
	f = &b->frames[b->depth++];
	f->jv = jv;
	f->n = 0;
	f->order = NULL;
	f->key = NULL;
	f->keylen = 0;
	return f;
}

static int
sevo_visit_begin_record(void *ctx, uint32_t nfields)
{
	SevoJsonbBuilder *b = ctx;
	bool		is_root = b->depth == 0;
	JsonbValue *jv = sevo_builder_slot(b);
	SevoJsonbFrame *f = sevo_builder_open(b, jv);

	f->cap = Min(Max(nfields, 1), CODEC_MAX_FIELDS);
	/* a record of no live fields has no order to fill (cap is 1, not 0) */
	if (is_root && b->root_order != NULL && b->root_nkeys == nfields &&
		nfields > 0)
		f->order = b->root_order;
	jv->type = jbvObject;
	jv->val.object.nPairs = 0;
	jv->val.object.pairs = palloc(f->cap * sizeof(JsonbPair));
	return 0;
}

static int
sevo_visit_field_name(void *ctx, const char *name, size_t len)
{
	SevoJsonbBuilder *b = ctx;
	SevoJsonbFrame *f = &b->frames[b->depth - 1];

	f->key = (char *) name;
	f->keylen = (int) len;
	return 0;
}

static int
sevo_visit_scalar(void *ctx, const codec_value *value)
{
	sevo_scalar_to_jsonbvalue(value, sevo_builder_slot(ctx));
	return 0;
}

static int
sevo_visit_begin_array(void *ctx, uint32_t count)
{
	SevoJsonbBuilder *b = ctx;
	JsonbValue *jv = sevo_builder_slot(b);
	SevoJsonbFrame *f = sevo_builder_open(b, jv);

	/* the codec checked the bytes for `count`; grow past 1024 on demand */
	f->cap = Min(Max(count, 1), 1024);
	jv->type = jbvArray;
	jv->val.array.rawScalar = false;
	jv->val.array.nElems = 0;
	jv->val.array.elems = palloc(f->cap * sizeof(JsonbValue));
	return 0;
}

static int
sevo_visit_end_array(void *ctx)
{
	SevoJsonbBuilder *b = ctx;
	SevoJsonbFrame *f = &b->frames[--b->depth];

	f->jv->val.array.nElems = (int) f->n;
	return 0;
}

static int
sevo_visit_end_record(void *ctx)
{
	SevoJsonbBuilder *b = ctx;
	SevoJsonbFrame *f = &b->frames[--b->depth];
	JsonbPair  *pairs = f->jv->val.object.pairs;

	if (f->order != NULL)
	{
		/* every slot of the precomputed order must have been filled */
		if (f->n != f->cap)
			elog(ERROR, "decoded record has %u fields, its plan %u",
				 f->n, f->cap);
	}
	else
	{
		uint32		i;

		/* insertion sort: records are small, names unique */
		for (i = 1; i < f->n; i++)
		{
			JsonbPair	tmp = pairs[i];
			uint32		j = i;

			while (j > 0 &&
				   sevo_key_cmp(pairs[j - 1].key.val.string.val,
								pairs[j - 1].key.val.string.len,
								tmp.key.val.string.val,
								tmp.key.val.string.len) > 0)
			{
				pairs[j] = pairs[j - 1];
				j--;
			}
			pairs[j] = tmp;
		}
	}
	f->jv->val.object.nPairs = (int) f->n;
	return 0;
}

static void
sevo_builder_init(SevoJsonbBuilder *b, codec_visitor *v)
{
	b->have_root = false;
	b->depth = 0;
	b->root_order = NULL;
	b->root_nkeys = 0;
	v->ctx = b;
	v->begin_record = sevo_visit_begin_record;
	v->field_name = sevo_visit_field_name;
	v->scalar = sevo_visit_scalar;
	v->begin_array = sevo_visit_begin_array;
	v->end_array = sevo_visit_end_array;
	v->end_record = sevo_visit_end_record;
}

static Jsonb *
sevo_builder_finish(SevoJsonbBuilder *b)
{
	if (!b->have_root || b->depth != 0)
		elog(ERROR, "incomplete jsonb build");
	return JsonbValueToJsonb(&b->root);
}

/*
 * Decodes a whole message along `plan` into jsonb; `hdr` is its header, as
 * codec_decode_hdr() takes it.  Malformed input is
 * counted and raises 22P03, or returns NULL when `noerror` (the half-built
 * value is left to the per-row memory context); `info` receives what the
 * decoder noticed.
 */
Jsonb *
sevo_decode_to_jsonb(const SevoPlan *plan, const uint8 *buf, size_t len,
					 const codec_header *hdr, codec_decode_info *info,
					 bool noerror)
{
	SevoJsonbBuilder b;
	codec_visitor v;
	codec_error err;

	sevo_builder_init(&b, &v);
	b.root_order = plan->key_order;
	b.root_nkeys = plan->nkeys;
	if (codec_decode_hdr(plan->writer, plan->proj, plan->mode, buf, len, hdr,
						 &v, info, &err) != CODEC_OK)
	{
		sevo_count(SEVO_STAT_MALFORMED);
		if (noerror)
			return NULL;
		sevo_report_codec_error(ERROR, &err, "message");
	}
	return sevo_builder_finish(&b);
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
	return sevo_builder_finish(&b);
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
	return sevo_builder_finish(&b);
}
