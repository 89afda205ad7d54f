/*-------------------------------------------------------------------------
 *
 * decode_sql.c
 *	  SQL entry points that decode: decode_message, try_decode_message,
 *	  decode_with_schema, decode_field, message_version.
 *
 * These run once per row.  Each call reads the 16-byte header, finds the
 * reader (tenant memo in fn_extra, else the backend cache) and a plan
 * (resolve.c), and lets the codec walk the payload; no SPI, no JSON parsing
 * and no allocation beyond the result happen on a warm cache.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "decode_sql.h"

PG_FUNCTION_INFO_V1(sevo_decode_message);
PG_FUNCTION_INFO_V1(sevo_try_decode_message);
PG_FUNCTION_INFO_V1(sevo_decode_with_schema);
PG_FUNCTION_INFO_V1(sevo_decode_field);
PG_FUNCTION_INFO_V1(sevo_message_version);

/*
 * memcmp(a, b, len) == 0 for the short tenant ids and field names compared
 * once per row, without a library call.
 */
static inline bool
sevo_bytes_equal(const char *a, const char *b, int len)
{
	int			i;

	if (len > 32)
		return memcmp(a, b, len) == 0;
	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* The tenant last resolved through the cache, by any call site. */
static uint64 sevo_last_generation = 0;
static char sevo_last_tenant[128];
static int	sevo_last_tenantlen = -1;
static SevoSchema *sevo_last_reader = NULL;

/* The per-call-site memo kept in fn_extra. */
static SevoCallMemo *
sevo_memo(FunctionCallInfo fcinfo)
{
	SevoCallMemo *memo = fcinfo->flinfo->fn_extra;

	if (memo == NULL)
	{
		memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
									  sizeof(SevoCallMemo));
		fcinfo->flinfo->fn_extra = memo;
	}
	if (memo->generation != sevo_cache_generation)
	{
		memo->generation = sevo_cache_generation;
		memo->reader = NULL;
		memo->tenantlen = -1;
		memo->field_reader = NULL;
		memo->nfield_plans = 0;
		memo->nplans = 0;
		memo->next_plan = 0;
		memo->last_plan = NULL;
	}
	return memo;
}

/*
 * The reader schema of the tenant in argument `argno`: the memo when the
 * tenant repeats (the common single-tenant scan), else the cache.
 */
SevoSchema *
sevo_reader_for_tenant(FunctionCallInfo fcinfo, int argno, bool missing_ok)
{
	text	   *tenant = PG_GETARG_TEXT_PP(argno);
	const char *t = VARDATA_ANY(tenant);
	int			len = VARSIZE_ANY_EXHDR(tenant);
	SevoCallMemo *memo;
	SevoSchema *reader;

	sevo_cache_check();
	memo = sevo_memo(fcinfo);
	if (memo->reader && memo->tenantlen == len &&
		sevo_bytes_equal(memo->tenant, t, len))
		return memo->reader;

	/*
	 * The last tenant any call site resolved: several decode_field_* calls
	 * on one row ask for the same tenant one after another.
	 */
	if (sevo_last_generation == sevo_cache_generation &&
		sevo_last_reader != NULL && sevo_last_tenantlen == len &&
		sevo_bytes_equal(sevo_last_tenant, t, len))
		reader = sevo_last_reader;
	else
	{
		reader = sevo_tenant_schema(t, len, missing_ok);
		if (reader && len <= (int) sizeof(sevo_last_tenant))
		{
			memcpy(sevo_last_tenant, t, len);
			sevo_last_tenantlen = len;
			sevo_last_reader = reader;
			sevo_last_generation = sevo_cache_generation;
		}
	}
	if (reader && len <= (int) sizeof(memo->tenant))
	{
		memcpy(memo->tenant, t, len);
		memo->tenantlen = len;
		memo->reader = reader;
	}
	return reader;
}

/*
 * Reads the header of `payload`; raises 22P03 (counted as malformed), or
 * returns false when `noerror`.
 */
bool
sevo_read_header(bytea *payload, codec_header *hdr, bool noerror)
{
	codec_error err;

	if (codec_header_read((const uint8 *) VARDATA_ANY(payload),
						  VARSIZE_ANY_EXHDR(payload), hdr, &err) == CODEC_OK)
		return true;
	sevo_count(SEVO_STAT_MALFORMED);
	if (!noerror)
		sevo_report_codec_error(ERROR, &err, "message");
	return false;
}

/* Counts a message read with `plan` by its case, as sevo_resolve does. */
static inline void
sevo_count_case(const SevoPlan *plan)
{
	switch (plan->dcase)
	{
		case SEVO_CASE_EXACT:
			sevo_count(SEVO_STAT_EXACT);
			break;
		case SEVO_CASE_UPWARD:
			sevo_count(SEVO_STAT_UPWARD);
			break;
		case SEVO_CASE_DOWNWARD:
			sevo_count(SEVO_STAT_DOWNWARD);
			break;
	}
}

/*
 * Whether a plan may be taken again without sevo_resolve: not one that
 * warns (an upward read missing fields), so that its warning keeps its
 * rate limit.
 */
static inline bool
sevo_plan_memoisable(const SevoPlan *plan)
{
	return !(plan->dcase == SEVO_CASE_UPWARD && plan->nmissing > 0);
}

/* Whether two messages start with the same CODEC_HEADER_SIZE bytes. */
static inline bool
sevo_header_equal(const uint8 *a, const uint8 *b)
{
	uint64		a0,
				a1,
				b0,
				b1;

	StaticAssertStmt(CODEC_HEADER_SIZE == 16, "header is two words");
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/*
 * The header of `payload` and the plan to read it for `reader`
 * (sevo_resolve): from the call site's memo when the payload's header bytes
 * equal those of a message already resolved there for the same reader and
 * policy, which is what a scan sees row after row; otherwise read, resolved
 * and remembered.  Errors, warnings and counters are those of
 * sevo_read_header and sevo_resolve; a plan that warns is not remembered,
 * so that its warning keeps its rate limit.  NULL when refused and
 * `noerror`.
 */
const SevoPlan *
sevo_plan_for(FunctionCallInfo fcinfo, SevoSchema *reader, bytea *payload,
			  codec_header *hdr, const char *tenant, int tenantlen,
			  bool noerror)
{
	SevoCallMemo *memo = fcinfo->flinfo->fn_extra;
	const uint8 *buf = (const uint8 *) VARDATA_ANY(payload);
	size_t		len = VARSIZE_ANY_EXHDR(payload);
	const SevoPlan *plan;
	SevoPlanMemo *pm;
	int			i;

	if (unlikely(memo == NULL || memo->generation != sevo_cache_generation))
		memo = sevo_memo(fcinfo);

	if (len >= CODEC_HEADER_SIZE && len <= CODEC_MAX_MESSAGE_SIZE)
	{
		for (i = 0; i < memo->nplans; i++)
		{
			pm = &memo->plans[i];
			if (pm->reader == reader &&
				pm->policy == sevo_version_mismatch &&
				len >= pm->hdr.var_offset &&
				sevo_header_equal(pm->bytes, buf))
			{
				*hdr = pm->hdr;
				sevo_count_case(pm->plan);
				return pm->plan;
			}
		}
	}

	if (!sevo_read_header(payload, hdr, noerror))
		return NULL;
	plan = sevo_resolve(reader, hdr, tenant, tenantlen, noerror);
	if (plan == NULL || !sevo_plan_memoisable(plan))
		return plan;

	/* sevo_resolve runs SPI, but only sevo_cache_check() resets the cache */
	pm = &memo->plans[memo->next_plan];
	memo->next_plan = (memo->next_plan + 1) % SEVO_MEMO_PLANS;
	if (memo->nplans < SEVO_MEMO_PLANS)
		memo->nplans++;
	memcpy(pm->bytes, buf, CODEC_HEADER_SIZE);
	pm->hdr = *hdr;
	pm->reader = reader;
	pm->policy = sevo_version_mismatch;
	pm->plan = plan;
	return plan;
}

/* Decodes `payload` for `reader`; NULL on refusal when `noerror`. */
static Jsonb *
sevo_decode_payload(FunctionCallInfo fcinfo, SevoSchema *reader,
					bytea *payload, const char *tenant, int tenantlen,
					bool noerror)
{
	codec_header hdr;
	const SevoPlan *plan;
	codec_decode_info info = {0};
	const uint8 *buf = (const uint8 *) VARDATA_ANY(payload);
	size_t		len = VARSIZE_ANY_EXHDR(payload);
	Jsonb	   *result;

	plan = sevo_plan_for(fcinfo, reader, payload, &hdr, tenant, tenantlen,
						 noerror);
	if (plan == NULL)
		return NULL;

	result = sevo_decode_to_jsonb(plan, buf, len, &hdr, &info, noerror);
	if (result == NULL)
		return NULL;
	sevo_count(SEVO_STAT_DECODED);
	if (info.dynamic_offsets)
		sevo_count(SEVO_STAT_DYNAMIC);
	return result;
}

/* SQL: decode_message(payload bytea, tenant text) → jsonb */
Datum
sevo_decode_message(PG_FUNCTION_ARGS)
{
	text	   *tenant = PG_GETARG_TEXT_PP(1);
	SevoSchema *reader = sevo_reader_for_tenant(fcinfo, 1, false);

	PG_RETURN_JSONB_P(sevo_decode_payload(fcinfo, reader,
										  PG_GETARG_BYTEA_PP(0),
										  VARDATA_ANY(tenant),
										  VARSIZE_ANY_EXHDR(tenant), false));
}

/*
 * SQL: try_decode_message(payload bytea, tenant text) → jsonb
 * NULL, not an error, for a payload that cannot be decoded for the tenant
 * (malformed, another lineage, refused version).  A tenant without an
 * active schema is still an error: that is the caller's mistake.
 */
Datum
sevo_try_decode_message(PG_FUNCTION_ARGS)
{
	text	   *tenant = PG_GETARG_TEXT_PP(1);
	SevoSchema *reader = sevo_reader_for_tenant(fcinfo, 1, false);
	Jsonb	   *result;

	result = sevo_decode_payload(fcinfo, reader, PG_GETARG_BYTEA_PP(0),
								 VARDATA_ANY(tenant),
								 VARSIZE_ANY_EXHDR(tenant), true);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(result);
}

/* SQL: decode_with_schema(payload bytea, schema_id text) → jsonb */
Datum
sevo_decode_with_schema(PG_FUNCTION_ARGS)
{
	char	   *schema_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	SevoSchema *reader;

	sevo_cache_check();
	reader = sevo_schema_by_id(schema_id, false);
	PG_RETURN_JSONB_P(sevo_decode_payload(fcinfo, reader,
										  PG_GETARG_BYTEA_PP(0),
										  NULL, 0, false));
}

/*
 * An argument as PG_GETARG_*_PP() returns it, without a function call for
 * the plain (not compressed, not external) values that scan rows are.
 */
static inline struct varlena *
sevo_arg_packed(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));

	if (unlikely(VARATT_IS_COMPRESSED(v) || VARATT_IS_EXTERNAL(v)))
		return pg_detoast_datum_packed(v);
	return v;
}

/*
 * Locates field `field` (argument 2) of the payload for its tenant: fills
 * `value` and returns true, or returns false with *reader_field set when
 * the message's version lacks the field (the reader's default applies).
 *
 * A row with the tenant, the header bytes and the field name of the last
 * row at this call site takes that row's plan and writer field as they
 * are; only the field itself is read (and checked) again.
 */
bool
sevo_locate_field(FunctionCallInfo fcinfo, codec_value *value,
				  const codec_field **reader_field)
{
	bytea	   *payload = (bytea *) sevo_arg_packed(fcinfo, 0);
	text	   *tenant = (text *) sevo_arg_packed(fcinfo, 1);
	text	   *field = (text *) sevo_arg_packed(fcinfo, 2);
	const uint8 *buf = (const uint8 *) VARDATA_ANY(payload);
	size_t		len = VARSIZE_ANY_EXHDR(payload);
	const char *tname = VARDATA_ANY(tenant);
	int			tlen = VARSIZE_ANY_EXHDR(tenant);
	const char *fname = VARDATA_ANY(field);
	int			flen = VARSIZE_ANY_EXHDR(field);
	SevoCallMemo *memo;
	codec_header hdr;
	const SevoPlan *plan;
	const codec_field *writer_field;
	codec_error err;
	bool		same_tenant;

	sevo_cache_check();
	memo = fcinfo->flinfo->fn_extra;
	same_tenant = memo != NULL && memo->generation == sevo_cache_generation &&
		memo->tenantlen == tlen && sevo_bytes_equal(memo->tenant, tname, tlen);
	if (likely(same_tenant && memo->last_plan != NULL &&
			   memo->reader == memo->last_reader &&
			   memo->fieldlen == flen && sevo_bytes_equal(memo->field, fname, flen) &&
			   memo->last_policy == sevo_version_mismatch &&
			   len >= memo->last_hdr.var_offset && len <= CODEC_MAX_MESSAGE_SIZE &&
			   sevo_header_equal(memo->last_bytes, buf)))
	{
		plan = memo->last_plan;
		hdr = memo->last_hdr;
		writer_field = memo->last_writer_field;
		sevo_count_case(plan);
	}
	else
	{
		SevoSchema *reader = sevo_reader_for_tenant(fcinfo, 1, false);
		int			i;

		plan = sevo_plan_for(fcinfo, reader, payload, &hdr, tname, tlen, false);
		memo = fcinfo->flinfo->fn_extra;
		memo->last_plan = NULL;

		/* the field in the reader: looked up again when the name or reader changes */
		if (memo->field_reader != reader || memo->fieldlen != flen ||
			!sevo_bytes_equal(memo->field, fname, flen))
		{
			const codec_field *rf = codec_schema_field(reader->codec, fname, flen);

			if (rf == NULL || rf->deprecated)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("field \"%.*s\" does not exist in schema \"%s\"",
								flen, fname, reader->schema_id)));
			if (flen > (int) sizeof(memo->field))
				elog(ERROR, "field name too long");
			memcpy(memo->field, fname, flen);
			memo->fieldlen = flen;
			memo->reader_field = rf;
			memo->field_reader = reader;
			memo->nfield_plans = 0;
		}

		/* and in the plan's writer, for each plan of the scan */
		for (i = 0; i < memo->nfield_plans; i++)
			if (memo->field_plans[i].plan == plan)
				break;
		if (i == memo->nfield_plans)
		{
			const codec_field *wf = plan->proj == NULL
				? &plan->writer->root.fields[memo->reader_field->ordinal]
				: codec_schema_field(plan->writer, fname, flen);

			/* a field the writer deprecated is missing: the reader's default */
			if (wf && wf->deprecated)
				wf = NULL;
			if (i == SEVO_MEMO_PLANS)
				i = 0;
			else
				memo->nfield_plans++;
			memo->field_plans[i].plan = plan;
			memo->field_plans[i].writer_field = wf;
		}
		writer_field = memo->field_plans[i].writer_field;

		/*
		 * For the next row, when its tenant is this one: not while the
		 * tenant changes from row to row (a scan of many tenants would only
		 * pay for the copy).
		 */
		if (same_tenant && sevo_plan_memoisable(plan) &&
			memo->reader == reader && len >= CODEC_HEADER_SIZE)
		{
			memo->last_plan = plan;
			memo->last_reader = reader;
			memo->last_policy = sevo_version_mismatch;
			memcpy(memo->last_bytes, buf, CODEC_HEADER_SIZE);
			memo->last_hdr = hdr;
			memo->last_writer_field = writer_field;
		}
	}

	*reader_field = memo->reader_field;
	if (writer_field == NULL)
		return false;
	if (codec_read_field_hdr(plan->writer, plan->mode, writer_field,
							 buf, len, &hdr, value, &err) != CODEC_OK)
	{
		sevo_count(SEVO_STAT_MALFORMED);
		sevo_report_codec_error(ERROR, &err, "message");
	}
	sevo_count(SEVO_STAT_DECODED);
	/* the first variable field starts the area: only later ones are walked to */
	if (writer_field->var_index > 0)
		sevo_count(SEVO_STAT_DYNAMIC);
	return true;
}

/* SQL: decode_field(payload bytea, tenant text, field text) → jsonb */
Datum
sevo_decode_field(PG_FUNCTION_ARGS)
{
	codec_value value;
	const codec_field *rf;

	if (!sevo_locate_field(fcinfo, &value, &rf))
		PG_RETURN_JSONB_P(sevo_default_to_jsonb(rf));
	PG_RETURN_JSONB_P(sevo_value_to_jsonb(&value));
}

/* SQL: message_version(payload bytea) → int */
Datum
sevo_message_version(PG_FUNCTION_ARGS)
{
	codec_header hdr;

	sevo_read_header(PG_GETARG_BYTEA_PP(0), &hdr, false);
	if (hdr.version > (uint32) PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("message version %u is out of range for type integer",
						hdr.version)));
	PG_RETURN_INT32((int32) hdr.version);
}
