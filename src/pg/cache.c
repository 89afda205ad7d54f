/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Per-backend cache of compiled schemas and of each tenant's active
 *	  schema, so that decoding a row runs no SPI and parses no JSON.
 *
 * Invariants:
 *	- Entries are loaded on first use through SPI and kept until the cache
 *	  is invalidated.  The log's apply step sends a relcache invalidation
 *	  for schemaevo.registry_changed (an empty table kept for that) in the
 *	  transaction that changes the registry; our relcache callback (which
 *	  also reacts to schemas and active_schemas) only clears a flag, and the
 *	  next SQL entry point (sevo_cache_check) drops everything.  Every
 *	  backend therefore sees a promotion from its next transaction on.
 *	- An invalidation that arrives once the transaction has a snapshot
 *	  (a lock taken in the middle of a scan, a later statement of a
 *	  REPEATABLE READ transaction) may be older than the snapshot the
 *	  cache is then filled under: the cache is dropped once more at the end
 *	  of that transaction, or it would keep what that snapshot showed.
 *	- Compiled schemas and projections are malloc'd by the codec and freed
 *	  here on reset; everything else lives in sevo_cache_cxt.
 *	- The tenant map is bounded by schemaevo.tenant_cache_size: when full it
 *	  is emptied, never grown.  It is a compact open-addressing table
 *	  keyed by the tenant's bytes, probed once per row of a multi-tenant
 *	  scan.  A miss probes the primary key of active_schemas directly
 *	  (SPI only where that would differ: row security, no privilege); after
 *	  SEVO_BULK_AFTER misses since the map was emptied, the whole active map
 *	  is read in one query when it fits the bound, and the map is then
 *	  complete: a tenant missing from it has no active schema.
 *	- Pointers into the cache must not be kept across sevo_cache_check();
 *	  callers that memoise compare sevo_cache_generation.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "catalog/pg_class.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#define SEVO_TENANT_KEYLEN 128	/* longer tenant ids are not cached */
#define SEVO_BULK_AFTER 64		/* misses before reading the whole map */

/*
 * The tenant map: open addressing with linear probing over 16-byte slots,
 * at most three quarters full, so that a probe of a large map mostly stays
 * within the CPU cache while a scan streams rows through it.  A tenant id
 * of up to 8 bytes lives in the slot, zero padded (one word compare); a
 * longer one in sevo_tenant_cxt.  A slot names its reader by an index into
 * the map's readers (0: the tenant has no active schema).  A slot with hash
 * 0 is empty (hashes are made non-zero).
 */
typedef struct SevoTenantSlot
{
	uint32		hash;
	uint16		len;
	uint16		reader;			/* index in SevoTenantMap.readers */
	union
	{
		uint64		word;		/* len <= 8: the bytes, zero padded */
		const char *ext;		/* len > 8 */
	}			key;
} SevoTenantSlot;

#define SEVO_TENANT_MAX_READERS PG_UINT16_MAX

typedef struct SevoTenantMap
{
	uint64		id;				/* SevoSchema.tenant_map_id of its readers */
	uint32		mask;			/* slots - 1, slots a power of two */
	uint32		members;
	SevoTenantSlot *slots;
	int			nreaders;		/* readers[1 .. nreaders] are in use */
	int			readers_cap;
	SevoSchema **readers;
} SevoTenantMap;

uint64		sevo_cache_generation = 1;

static MemoryContext sevo_cache_cxt = NULL;
static HTAB *sevo_schema_htab = NULL;
static bool sevo_cache_valid = true;
bool		sevo_cache_ready = false;	/* sevo_cache_valid && initialised */

/* The tenant map; its context is a child of sevo_cache_cxt. */
static MemoryContext sevo_tenant_cxt = NULL;
static SevoTenantMap *sevo_tenants = NULL;
static uint64 sevo_tenant_map_ids = 0;	/* SevoTenantMap.id of the last map */
static bool sevo_tenants_complete = false;	/* holds every active tenant */
static int	sevo_tenants_misses = 0;	/* SPI lookups since emptied */
static SPIPlanPtr sevo_tenant_plan = NULL;	/* kept across resets */
static Oid	sevo_schemas_relid = InvalidOid;
static Oid	sevo_active_relid = InvalidOid;
static Oid	sevo_changed_relid = InvalidOid;	/* registry_changed: the signal */

static bool sevo_cache_drop_at_end = false;	/* see the header comment */

static void
sevo_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == sevo_changed_relid ||
		relid == sevo_schemas_relid || relid == sevo_active_relid)
	{
		sevo_cache_valid = false;
		sevo_cache_ready = false;
		/* not at the end of our own transaction, whose commit we will see */
		if (FirstSnapshotSet && IsTransactionState())
			sevo_cache_drop_at_end = true;
	}
}

static void
sevo_xact_callback(XactEvent event, void *arg)
{
	if (!sevo_cache_drop_at_end)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			sevo_cache_drop_at_end = false;
			sevo_cache_valid = false;
			sevo_cache_ready = false;
			break;
		default:
			break;
	}
}

void
sevo_cache_register_callbacks(void)
{
	CacheRegisterRelcacheCallback(sevo_relcache_callback, (Datum) 0);
	RegisterXactCallback(sevo_xact_callback, NULL);
}

/* Creates the tenant map empty, releasing what it held. */
static void
sevo_tenant_map_create(void)
{
	if (sevo_tenant_cxt == NULL)
		sevo_tenant_cxt = AllocSetContextCreate(sevo_cache_cxt,
												"schemaevo tenants",
												ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(sevo_tenant_cxt);
	sevo_tenants = MemoryContextAlloc(sevo_tenant_cxt, sizeof(SevoTenantMap));
	sevo_tenants->id = ++sevo_tenant_map_ids;
	sevo_tenants->mask = 1024 - 1;
	sevo_tenants->members = 0;
	sevo_tenants->slots = MemoryContextAllocZero(sevo_tenant_cxt,
												 1024 * sizeof(SevoTenantSlot));
	sevo_tenants->nreaders = 0;
	sevo_tenants->readers_cap = 16;
	sevo_tenants->readers = MemoryContextAllocZero(sevo_tenant_cxt,
												   16 * sizeof(SevoSchema *));
	sevo_tenants_complete = false;
	sevo_tenants_misses = 0;
}

/* Frees what the codec allocated, then the whole context. */
static void
sevo_cache_reset(void)
{
	if (sevo_schema_htab)
	{
		HASH_SEQ_STATUS status;
		SevoSchema *s;

		hash_seq_init(&status, sevo_schema_htab);
		while ((s = hash_seq_search(&status)) != NULL)
		{
			SevoPlan   *p;

			for (p = s->plans; p; p = p->next)
				if (p->proj)
					codec_projection_free((codec_projection *) p->proj);
			codec_schema_free(s->codec);
		}
	}
	if (sevo_cache_cxt)
		MemoryContextReset(sevo_cache_cxt);	/* deletes sevo_tenant_cxt */
	sevo_schema_htab = NULL;
	sevo_tenant_cxt = NULL;
	sevo_tenants = NULL;
	sevo_schemas_relid = InvalidOid;
	sevo_active_relid = InvalidOid;
	sevo_changed_relid = InvalidOid;
	sevo_cache_generation++;
}

/* schemaevo.`relname`, which must exist */
static Oid
sevo_registry_relid(const char *relname, Oid nsp)
{
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"schemaevo.%s\" does not exist", relname),
				 errhint("The extension schemaevo may have been dropped or altered; run CREATE EXTENSION schemaevo.")));
	return relid;
}

/*
 * Sets the cache up.  What can fail (the lookups: a session may run while
 * the extension is dropped or its schema renamed) runs first, and the
 * hash table, whose presence says the cache is set up, is published last:
 * an error leaves no half-made cache for the next call to trust.
 */
static void
sevo_cache_init(void)
{
	HASHCTL		ctl;
	HTAB	   *htab;
	Oid			nsp;
	Oid			schemas_relid;
	Oid			active_relid;
	Oid			changed_relid;

	nsp = get_namespace_oid("schemaevo", false);
	schemas_relid = sevo_registry_relid("schemas", nsp);
	active_relid = sevo_registry_relid("active_schemas", nsp);
	changed_relid = sevo_registry_relid("registry_changed", nsp);

	if (sevo_cache_cxt == NULL)
		sevo_cache_cxt = AllocSetContextCreate(CacheMemoryContext,
											   "schemaevo cache",
											   ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(((SevoSchema *) NULL)->schema_id);
	ctl.entrysize = sizeof(SevoSchema);
	ctl.hcxt = sevo_cache_cxt;
	htab = hash_create("schemaevo schemas", 64, &ctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	sevo_tenant_map_create();

	sevo_schemas_relid = schemas_relid;
	sevo_active_relid = active_relid;
	sevo_changed_relid = changed_relid;
	sevo_schema_htab = htab;
}

/*
 * Drops the cache if an invalidation arrived since the last call, and
 * (re)initialises it; sevo_cache_check() calls this only when
 * sevo_cache_ready is false.
 */
void
sevo_cache_check_slow(void)
{
	if (!sevo_cache_valid)
	{
		sevo_cache_reset();
		sevo_cache_valid = true;
	}
	if (sevo_schema_htab == NULL)
		sevo_cache_init();
	sevo_cache_ready = sevo_cache_valid;
}

/* Zeroed memory that lives as long as the cache. */
void *
sevo_cache_alloc(Size size)
{
	return MemoryContextAllocZero(sevo_cache_cxt, size);
}

/*
 * Loads and compiles one schema row.  Runs SPI; the caller has called
 * sevo_cache_check().
 */
static SevoSchema *
sevo_schema_load(const char *schema_id)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	SevoSchema *entry = NULL;
	int			rc;

	if (strlen(schema_id) >= sizeof(entry->schema_id))
		return NULL;

	args[0] = CStringGetTextDatum(schema_id);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT version, definition::text "
							   "FROM schemaevo.schemas WHERE schema_id = $1",
							   1, argtypes, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read schemaevo.schemas: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		bool		isnull;
		int32		version;
		char	   *definition;
		codec_schema *compiled = NULL;
		codec_error err;
		bool		found;

		version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1,
											  &isnull));
		definition = SPI_getvalue(SPI_tuptable->vals[0],
								  SPI_tuptable->tupdesc, 2);
		if (codec_schema_parse(definition, strlen(definition), &compiled,
							   &err) != CODEC_OK)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("stored definition of schema \"%s\" does not compile: %s",
							schema_id, err.message)));
		codec_schema_set_version(compiled, (uint32) version);

		entry = hash_search(sevo_schema_htab, schema_id, HASH_ENTER, &found);
		entry->version = (uint32) version;
		entry->codec = compiled;
		entry->plans = NULL;
		entry->nunregistered = 0;
		entry->beyond[0] = entry->beyond[1] = NULL;
		entry->tenant_map_id = 0;
		entry->tenant_map_index = 0;
	}
	SPI_finish();
	return entry;
}

/*
 * The compiled schema `schema_id`, or NULL (missing_ok) / an error when no
 * such schema is registered.
 */
SevoSchema *
sevo_schema_by_id(const char *schema_id, bool missing_ok)
{
	SevoSchema *entry = NULL;

	if (strlen(schema_id) < sizeof(entry->schema_id))
		entry = hash_search(sevo_schema_htab, schema_id, HASH_FIND, NULL);
	if (entry == NULL)
		entry = sevo_schema_load(schema_id);
	if (entry == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("schema \"%s\" does not exist", schema_id),
				 errhint("Registered schemas are listed in schemaevo.schemas.")));
	return entry;
}

/* Version `version` of schema `name`, or NULL when not registered. */
SevoSchema *
sevo_schema_by_version(const char *name, uint32 version)
{
	char		id[NAMEDATALEN + 16];

	snprintf(id, sizeof(id), "%s@%u", name, version);
	return sevo_schema_by_id(id, true);
}

/* Reads a tenant's active schema id through SPI; NULL when none. */
static char *
sevo_tenant_lookup_spi(const char *tenant, int len)
{
	Datum		args[1];
	char	   *result = NULL;
	int			rc;
	MemoryContext callercxt = CurrentMemoryContext;

	args[0] = PointerGetDatum(cstring_to_text_with_len(tenant, len));
	SPI_connect();
	if (sevo_tenant_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT schema_id FROM schemaevo.active_schemas "
						   "WHERE tenant_id = $1", 1, argtypes);
		if (plan == NULL)
			elog(ERROR, "could not prepare a schemaevo.active_schemas lookup: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep a schemaevo.active_schemas lookup");
		sevo_tenant_plan = plan;
	}
	rc = SPI_execute_plan(sevo_tenant_plan, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read schemaevo.active_schemas: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 1);

		result = MemoryContextStrdup(callercxt, id);
	}
	SPI_finish();
	return result;
}

/*
 * Reads a tenant's active schema id; NULL when none.  A probe of the
 * primary key of schemaevo.active_schemas under the active snapshot, which
 * is what the SPI query would do at a fraction of its cost (no parse, plan
 * or executor start per miss); SPI when the table has row-level security,
 * no primary key, or the caller may not read it (so that the error is
 * SPI's).  The locks are kept to the end of the transaction, as a query's
 * would be: a DROP or ALTER of the table waits for the scan, not the other
 * way round.
 */
static char *
sevo_tenant_lookup(const char *tenant, int len)
{
	Relation	rel;
	Oid			pkey;
	Oid			collation;
	Relation	idx;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *result = NULL;
	AttrNumber	tenant_att;
	AttrNumber	schema_att;
	text	   *arg;

	if (pg_class_aclcheck(sevo_active_relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return sevo_tenant_lookup_spi(tenant, len);
	rel = table_open(sevo_active_relid, AccessShareLock);
	tenant_att = attnameAttNum(rel, "tenant_id", false);
	schema_att = attnameAttNum(rel, "schema_id", false);
	pkey = RelationGetPrimaryKeyIndex(rel);
	if (rel->rd_rel->relrowsecurity || !OidIsValid(pkey) ||
		tenant_att == InvalidAttrNumber || schema_att == InvalidAttrNumber)
	{
		table_close(rel, NoLock);
		return sevo_tenant_lookup_spi(tenant, len);
	}
	idx = index_open(pkey, AccessShareLock);
	collation = idx->rd_indcollation[0];
	if (idx->rd_index->indnkeyatts != 1 ||
		idx->rd_index->indkey.values[0] != tenant_att)
	{
		index_close(idx, NoLock);
		table_close(rel, NoLock);
		return sevo_tenant_lookup_spi(tenant, len);
	}
	index_close(idx, NoLock);

	arg = cstring_to_text_with_len(tenant, len);
	ScanKeyEntryInitialize(&key, 0, tenant_att, BTEqualStrategyNumber,
						   InvalidOid, collation, F_TEXTEQ,
						   PointerGetDatum(arg));
	scan = systable_beginscan(rel, pkey, true,
							  ActiveSnapshotSet() ? GetActiveSnapshot()
							  : GetTransactionSnapshot(),
							  1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, schema_att, RelationGetDescr(rel),
									 &isnull);

		if (!isnull)
			result = TextDatumGetCString(d);
	}
	systable_endscan(scan);
	table_close(rel, NoLock);
	pfree(arg);
	return result;
}

/* A tenant id of up to 8 bytes as a zero-padded word. */
static inline uint64
sevo_tenant_word(const char *tenant, uint32 len)
{
	uint64		w = 0;
	uint32		i;

	/* byte by byte: a variable-length memcpy stalls the load that follows */
	for (i = 0; i < len; i++)
		w |= (uint64) (uint8) tenant[i] << (8 * i);
	return w;
}

/* A 64-bit mix (the splitmix64 finaliser). */
static inline uint64
sevo_mix64(uint64 x)
{
	x ^= x >> 30;
	x *= UINT64CONST(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64CONST(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* The slot hash of a tenant id: never 0. */
static inline uint32
sevo_tenant_hash(const char *tenant, uint32 len, uint64 word)
{
	uint32		h;

	if (len <= 8)
		h = (uint32) (sevo_mix64(word ^ ((uint64) len << 59)) >> 32);
	else
		h = hash_bytes((const unsigned char *) tenant, (int) len);
	return h == 0 ? 1 : h;
}

/* The slot of a tenant in the map, or NULL. */
static inline SevoTenantSlot *
sevo_tenant_map_find(const char *tenant, uint32 len)
{
	uint64		word = len <= 8 ? sevo_tenant_word(tenant, len) : 0;
	uint32		h = sevo_tenant_hash(tenant, len, word);
	uint32		i = h & sevo_tenants->mask;

	for (;;)
	{
		SevoTenantSlot *slot = &sevo_tenants->slots[i];

		if (slot->hash == 0)
			return NULL;
		if (slot->hash == h && slot->len == len &&
			(len <= 8 ? slot->key.word == word
			 : memcmp(slot->key.ext, tenant, len) == 0))
			return slot;
		i = (i + 1) & sevo_tenants->mask;
	}
}

/* Places a slot's contents in a table it is not in (growing, adding). */
static void
sevo_tenant_slot_place(SevoTenantSlot *slots, uint32 mask,
					   const SevoTenantSlot *src)
{
	uint32		i = src->hash & mask;

	while (slots[i].hash != 0)
		i = (i + 1) & mask;
	slots[i] = *src;
}

/* Adds a tenant to the map, emptying the map first when it is full. */
static void
sevo_tenant_map_add(const char *tenant, uint32 len, SevoSchema *schema)
{
	SevoTenantSlot slot;
	SevoTenantSlot *found;
	uint16		reader = 0;

	if (sevo_tenants->members >= (uint32) sevo_tenant_cache_size ||
		(schema != NULL && schema->tenant_map_id != sevo_tenants->id &&
		 sevo_tenants->nreaders >= SEVO_TENANT_MAX_READERS))
		sevo_tenant_map_create();

	/* the reader's index in this map */
	if (schema != NULL)
	{
		if (schema->tenant_map_id != sevo_tenants->id)
		{
			if (sevo_tenants->nreaders + 1 >= sevo_tenants->readers_cap)
			{
				sevo_tenants->readers_cap *= 2;
				sevo_tenants->readers = repalloc(sevo_tenants->readers,
												 sevo_tenants->readers_cap * sizeof(SevoSchema *));
			}
			schema->tenant_map_id = sevo_tenants->id;
			schema->tenant_map_index = (uint16) ++sevo_tenants->nreaders;
			sevo_tenants->readers[schema->tenant_map_index] = schema;
		}
		reader = schema->tenant_map_index;
	}

	found = sevo_tenant_map_find(tenant, len);
	if (found != NULL)
	{
		found->reader = reader;
		return;
	}

	/* keep the table at most three quarters full */
	if ((uint64) (sevo_tenants->members + 1) * 4 > ((uint64) sevo_tenants->mask + 1) * 3)
	{
		uint32		newmask = sevo_tenants->mask * 2 + 1;
		SevoTenantSlot *newslots;
		uint32		i;

		newslots = MemoryContextAllocExtended(sevo_tenant_cxt,
											  ((Size) newmask + 1) * sizeof(SevoTenantSlot),
											  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		for (i = 0; i <= sevo_tenants->mask; i++)
			if (sevo_tenants->slots[i].hash != 0)
				sevo_tenant_slot_place(newslots, newmask, &sevo_tenants->slots[i]);
		pfree(sevo_tenants->slots);
		sevo_tenants->slots = newslots;
		sevo_tenants->mask = newmask;
	}

	slot.len = (uint16) len;
	if (len <= 8)
		slot.key.word = sevo_tenant_word(tenant, len);
	else
	{
		char	   *copy = MemoryContextAlloc(sevo_tenant_cxt, len);

		memcpy(copy, tenant, len);
		slot.key.ext = copy;
	}
	slot.hash = sevo_tenant_hash(tenant, len, len <= 8 ? slot.key.word : 0);
	slot.reader = reader;
	sevo_tenant_slot_place(sevo_tenants->slots, sevo_tenants->mask, &slot);
	sevo_tenants->members++;
}

/*
 * An estimate of the rows of schemaevo.active_schemas (its reltuples, or
 * -1 when never counted), to decide whether the whole map may be read.
 */
static double
sevo_active_rows_estimate(void)
{
	HeapTuple	tup;
	double		rows = -1;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(sevo_active_relid));
	if (HeapTupleIsValid(tup))
	{
		rows = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
		ReleaseSysCache(tup);
	}
	return rows;
}

/*
 * Reads the whole active map into the (empty) tenant map when it has at
 * most schemaevo.tenant_cache_size cacheable tenants; the map is then
 * complete.  Otherwise leaves the map as it is.
 */
static void
sevo_tenant_map_load_all(void)
{
	Datum		args[1];
	Oid			argtypes[1] = {INT8OID};
	double		estimate = sevo_active_rows_estimate();
	uint64		i;
	int			rc;
	char	   *last_id = NULL;
	SevoSchema *last_schema = NULL;

	if (estimate > (double) sevo_tenant_cache_size)
		return;
	args[0] = Int64GetDatum((int64) sevo_tenant_cache_size + 1);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT tenant_id, schema_id "
							   "FROM schemaevo.active_schemas "
							   "WHERE octet_length(tenant_id) < " CppAsString2(SEVO_TENANT_KEYLEN)
							   " LIMIT $1",
							   1, argtypes, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read schemaevo.active_schemas: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed <= (uint64) sevo_tenant_cache_size)
	{
		SPITupleTable *tuptable = SPI_tuptable;
		uint64		n = SPI_processed;

		sevo_tenant_map_create();
		for (i = 0; i < n; i++)
		{
			bool		isnull;
			text	   *tenant = DatumGetTextPP(SPI_getbinval(tuptable->vals[i],
															  tuptable->tupdesc,
															  1, &isnull));
			char	   *id = SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 2);

			if (last_id == NULL || strcmp(id, last_id) != 0)
			{
				last_schema = sevo_schema_by_id(id, false);
				last_id = id;
			}
			sevo_tenant_map_add(VARDATA_ANY(tenant), VARSIZE_ANY_EXHDR(tenant),
								last_schema);
		}
		sevo_tenants_complete = true;
	}
	SPI_finish();
}

/*
 * The active schema of a tenant: NULL when it has none and missing_ok,
 * else an error.
 */
SevoSchema *
sevo_tenant_schema(const char *tenant, int len, bool missing_ok)
{
	SevoSchema *schema = NULL;

	if (len < SEVO_TENANT_KEYLEN)
	{
		SevoTenantSlot *te;

		te = sevo_tenant_map_find(tenant, (uint32) len);
		if (te == NULL && !sevo_tenants_complete &&
			++sevo_tenants_misses == SEVO_BULK_AFTER)
		{
			sevo_tenant_map_load_all();
			te = sevo_tenant_map_find(tenant, (uint32) len);
		}
		if (te != NULL)
			schema = sevo_tenants->readers[te->reader];
		else if (!sevo_tenants_complete)
		{
			char	   *id = sevo_tenant_lookup(tenant, len);

			if (id)
				schema = sevo_schema_by_id(id, false);
			sevo_tenant_map_add(tenant, (uint32) len, schema);
		}
	}
	else
	{
		char	   *id = sevo_tenant_lookup(tenant, len);

		if (id)
			schema = sevo_schema_by_id(id, false);
	}
	if (schema == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tenant \"%.*s\" has no active schema", len, tenant),
				 errhint("Promote a schema for it with CALL schemaevo.promote_schema().")));
	return schema;
}
