/*-------------------------------------------------------------------------
 *
 * decode_sql.h
 *	  Helpers shared by the decoding SQL functions (decode_sql.c and
 *	  decode_typed.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEVO_DECODE_SQL_H
#define SEVO_DECODE_SQL_H

#include "fmgr.h"

/*
 * A message header already read and resolved for a reader: a payload whose
 * first CODEC_HEADER_SIZE bytes are these, for the same reader under the
 * same policy, takes the same plan (see sevo_plan_for).
 */
typedef struct SevoPlanMemo
{
	uint8		bytes[CODEC_HEADER_SIZE];
	codec_header hdr;
	const SevoSchema *reader;
	int			policy;			/* schemaevo.version_mismatch then */
	const SevoPlan *plan;
} SevoPlanMemo;

#define SEVO_MEMO_PLANS 4		/* e.g. three versions in one scan */

/*
 * Kept in fn_extra of a call site, valid while `generation` equals
 * sevo_cache_generation: the last tenant's reader, the last headers
 * resolved, and the last field name resolved against a plan.
 */
typedef struct SevoCallMemo
{
	uint64		generation;
	int			nplans;
	int			next_plan;		/* replaced next when full */
	SevoPlanMemo plans[SEVO_MEMO_PLANS];
	char		tenant[128];
	int			tenantlen;
	SevoSchema *reader;
	char		field[CODEC_MAX_NAME_LEN + 1];
	int			fieldlen;
	const SevoSchema *field_reader;	/* reader `field` was looked up in */
	const codec_field *reader_field;
	int			nfield_plans;
	struct
	{
		const SevoPlan *plan;
		const codec_field *writer_field;	/* NULL: the message lacks it */
	}			field_plans[SEVO_MEMO_PLANS];

	/*
	 * The last row of a decode_field_* call site, taken again without a
	 * lookup by a row with the same reader, header bytes and field name
	 * (sevo_locate_field): what a scan sees row after row.
	 */
	const SevoPlan *last_plan;	/* NULL: none */
	const SevoSchema *last_reader;
	int			last_policy;
	uint8		last_bytes[CODEC_HEADER_SIZE];
	codec_header last_hdr;
	const codec_field *last_writer_field;
} SevoCallMemo;

extern SevoSchema *sevo_reader_for_tenant(FunctionCallInfo fcinfo, int argno,
										  bool missing_ok);
extern bool sevo_read_header(bytea *payload, codec_header *hdr, bool noerror);
extern const SevoPlan *sevo_plan_for(FunctionCallInfo fcinfo,
									 SevoSchema *reader, bytea *payload,
									 codec_header *hdr, const char *tenant,
									 int tenantlen, bool noerror);
extern bool sevo_locate_field(FunctionCallInfo fcinfo, codec_value *value,
							  const codec_field **reader_field);

#endif							/* SEVO_DECODE_SQL_H */
