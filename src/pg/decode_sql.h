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
 * Kept in fn_extra of a call site, valid while `generation` equals
 * sevo_cache_generation: the last tenant's reader, and the last field name
 * resolved against a plan.
 */
typedef struct SevoCallMemo
{
	uint64		generation;
	char		tenant[128];
	int			tenantlen;
	SevoSchema *reader;
	char		field[CODEC_MAX_NAME_LEN + 1];
	int			fieldlen;
	const SevoPlan *field_plan;
	const codec_field *reader_field;
	const codec_field *writer_field;
} SevoCallMemo;

extern SevoSchema *sevo_reader_for_tenant(FunctionCallInfo fcinfo, int argno,
										  bool missing_ok);
extern bool sevo_read_header(bytea *payload, codec_header *hdr, bool noerror);
extern bool sevo_locate_field(FunctionCallInfo fcinfo, codec_value *value,
							  const codec_field **reader_field);

#endif							/* SEVO_DECODE_SQL_H */
