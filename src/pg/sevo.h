/*-------------------------------------------------------------------------
 *
 * sevo.h
 *	  Declarations shared by the PostgreSQL glue of schemaevo (src/pg).
 *
 * src/pg turns SQL calls into codec calls (src/codec) and registry changes
 * into log commands (src/paxos).  Nothing here writes a registry table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEVO_H
#define SEVO_H

#include "postgres.h"

#include "codec.h"
#include "utils/jsonb.h"

/* ---- GUCs (guc.c) ---- */

typedef enum SevoMismatchPolicy
{
	SEVO_MISMATCH_AUTO,
	SEVO_MISMATCH_UPWARD,
	SEVO_MISMATCH_DOWNWARD,
	SEVO_MISMATCH_REJECT
} SevoMismatchPolicy;

extern int	sevo_version_mismatch;
extern int	sevo_tenant_cache_size;
extern char *sevo_node_name;

extern void sevo_define_gucs(void);

/* ---- per-backend registry cache (cache.c) ---- */

/*
 * A registered schema version, compiled.  Owned by the cache; valid until
 * the next sevo_cache_check() that finds the cache invalidated.
 */
typedef struct SevoSchema SevoSchema;

/* How to read a message of one version for one reader (see resolve.c). */
typedef enum SevoDecodeCase
{
	SEVO_CASE_EXACT,			/* message version == reader version */
	SEVO_CASE_UPWARD,			/* newer message, read through reader's map */
	SEVO_CASE_DOWNWARD			/* older message, its own (fallback) map */
} SevoDecodeCase;

typedef struct SevoPlan
{
	uint32		version;		/* message version this plan is for */
	SevoDecodeCase dcase;
	const codec_schema *writer; /* layout to read the message with */
	int			mode;			/* CODEC_DECODE_EXACT or _PREFIX */
	const codec_projection *proj;	/* NULL when identity */
	uint32		nmissing;		/* reader fields the message lacks */
	bool		unregistered;	/* an older version not registered here:
								 * refused (remembered so that a scan asks
								 * the registry once, not per row) */
	/* jsonb position of each decoded root field (jsonb_visitor.c) */
	const uint32 *key_order;
	uint32		nkeys;
	struct SevoPlan *next;
} SevoPlan;

struct SevoSchema
{
	char		schema_id[NAMEDATALEN + 16];
	uint32		version;
	codec_schema *codec;
	SevoPlan   *plans;			/* per message version, built on demand */
	uint32		nunregistered;	/* of them, for versions not registered */
	SevoPlan   *beyond[2];		/* shared by further unregistered versions:
								 * [0] newer, [1] older (resolve.c) */
	uint64		tenant_map_id;	/* tenant map tenant_map_index is valid in */
	uint16		tenant_map_index;	/* this reader's index there (cache.c) */
};

/* Call at the top of every SQL entry point: drops a stale cache. */
extern bool sevo_cache_ready;	/* valid and initialised */
extern void sevo_cache_check_slow(void);
extern uint64 sevo_cache_generation;

static inline void
sevo_cache_check(void)
{
	if (unlikely(!sevo_cache_ready))
		sevo_cache_check_slow();
}

extern SevoSchema *sevo_schema_by_id(const char *schema_id, bool missing_ok);
extern SevoSchema *sevo_schema_by_version(const char *name, uint32 version);
extern SevoSchema *sevo_tenant_schema(const char *tenant, int len,
									  bool missing_ok);
extern void sevo_cache_register_callbacks(void);
extern void *sevo_cache_alloc(Size size);

/* ---- resolving a message against a reader (resolve.c) ---- */

extern const SevoPlan *sevo_resolve(SevoSchema *reader,
									const codec_header *hdr,
									const char *tenant, int tenantlen,
									bool noerror);

/* ---- codec errors as ereport (errors.c) ---- */

extern void sevo_report_codec_error(int elevel, const codec_error *err,
									const char *what);

/* ---- jsonb building and reading (jsonb_visitor.c, jsonb_source.c) ---- */

extern Jsonb *sevo_decode_to_jsonb(const SevoPlan *plan, const uint8 *buf,
								   size_t len, const codec_header *hdr,
								   codec_decode_info *info, bool noerror);
extern Jsonb *sevo_value_to_jsonb(const codec_value *value);
extern Jsonb *sevo_default_to_jsonb(const codec_field *field);
extern uint32 *sevo_jsonb_key_order(const codec_field *const *fields,
									uint32 n);
extern void sevo_jsonb_source(codec_source *src);

/* ---- decode counters (stats.c) ---- */

typedef enum SevoStat
{
	SEVO_STAT_DECODED,
	SEVO_STAT_EXACT,
	SEVO_STAT_UPWARD,
	SEVO_STAT_DOWNWARD,
	SEVO_STAT_DYNAMIC,
	SEVO_STAT_REJECTED,
	SEVO_STAT_MALFORMED,
	SEVO_NUM_STATS
} SevoStat;

extern uint64 sevo_local_stats[SEVO_NUM_STATS];
extern bool sevo_local_stats_dirty;

static inline void
sevo_count(SevoStat stat)
{
	sevo_local_stats[stat]++;
	sevo_local_stats_dirty = true;
}

extern void sevo_stats_shmem_request(void);
extern void sevo_stats_shmem_startup(void);
extern void sevo_stats_register_callbacks(void);

#endif							/* SEVO_H */
