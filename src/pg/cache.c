/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Per-backend cache of compiled schemas and of each tenant's active
 *	  schema, so that decoding a row runs no SPI and parses no JSON.
 *
 * Invariants:
 *	- Entries are loaded on first use through SPI and kept until the cache
 *	  is invalidated.  The log's apply step sends a relcache invalidation
 *	  for schemaevo.schemas and schemaevo.active_schemas in the transaction
 *	  that changes them; our relcache callback only clears a flag, and the
 *	  next SQL entry point (sevo_cache_check) drops everything.  Every
 *	  backend therefore sees a promotion from its next transaction on.
 *	- Compiled schemas and projections are malloc'd by the codec and freed
 *	  here on reset; everything else lives in sevo_cache_cxt.
 *	- The tenant map is bounded by schemaevo.tenant_cache_size: when full it
 *	  is emptied, never grown.
 *	- Pointers into the cache must not be kept across sevo_cache_check();
 *	  callers that memoise compare sevo_cache_generation.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#define SEVO_TENANT_KEYLEN 128	/* longer tenant ids are not cached */

typedef struct SevoTenantEntry
{
	char		tenant[SEVO_TENANT_KEYLEN];
	SevoSchema *schema;			/* NULL: tenant has no active schema */
} SevoTenantEntry;

uint64		sevo_cache_generation = 1;

static MemoryContext sevo_cache_cxt = NULL;
static HTAB *sevo_schema_htab = NULL;
static HTAB *sevo_tenant_htab = NULL;
static bool sevo_cache_valid = true;
static Oid	sevo_schemas_relid = InvalidOid;
static Oid	sevo_active_relid = InvalidOid;

static void
sevo_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == sevo_schemas_relid ||
		relid == sevo_active_relid)
		sevo_cache_valid = false;
}

void
sevo_cache_register_callbacks(void)
{
	CacheRegisterRelcacheCallback(sevo_relcache_callback, (Datum) 0);
}

static void
sevo_tenant_htab_create(void)
{
	HASHCTL		ctl;

	ctl.keysize = SEVO_TENANT_KEYLEN;
	ctl.entrysize = sizeof(SevoTenantEntry);
	ctl.hcxt = sevo_cache_cxt;
	sevo_tenant_htab = hash_create("schemaevo tenants", 1024, &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
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
		MemoryContextReset(sevo_cache_cxt);
	sevo_schema_htab = NULL;
	sevo_tenant_htab = NULL;
	sevo_schemas_relid = InvalidOid;
	sevo_active_relid = InvalidOid;
	sevo_cache_generation++;
}

static void
sevo_cache_init(void)
{
	HASHCTL		ctl;
	Oid			nsp;

	if (sevo_cache_cxt == NULL)
		sevo_cache_cxt = AllocSetContextCreate(CacheMemoryContext,
											   "schemaevo cache",
											   ALLOCSET_DEFAULT_SIZES);

	ctl.keysize = sizeof(((SevoSchema *) NULL)->schema_id);
	ctl.entrysize = sizeof(SevoSchema);
	ctl.hcxt = sevo_cache_cxt;
	sevo_schema_htab = hash_create("schemaevo schemas", 64, &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	sevo_tenant_htab_create();

	nsp = get_namespace_oid("schemaevo", false);
	sevo_schemas_relid = get_relname_relid("schemas", nsp);
	sevo_active_relid = get_relname_relid("active_schemas", nsp);
}

/* Drops the cache if an invalidation arrived since the last call. */
void
sevo_cache_check(void)
{
	if (!sevo_cache_valid)
	{
		sevo_cache_reset();
		sevo_cache_valid = true;
	}
	if (sevo_schema_htab == NULL)
		sevo_cache_init();
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
sevo_tenant_lookup(const char *tenant, int len)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	char	   *result = NULL;
	int			rc;
	MemoryContext callercxt = CurrentMemoryContext;

	args[0] = PointerGetDatum(cstring_to_text_with_len(tenant, len));
	SPI_connect();
	rc = SPI_execute_with_args("SELECT schema_id FROM schemaevo.active_schemas "
							   "WHERE tenant_id = $1",
							   1, argtypes, args, NULL, true, 1);
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
 * The active schema of a tenant: NULL when it has none and missing_ok,
 * else an error.
 */
SevoSchema *
sevo_tenant_schema(const char *tenant, int len, bool missing_ok)
{
	SevoTenantEntry *te = NULL;
	SevoSchema *schema = NULL;
	char		key[SEVO_TENANT_KEYLEN];
	bool		cacheable = len < SEVO_TENANT_KEYLEN && memchr(tenant, 0, len) == NULL;

	if (cacheable)
	{
		memcpy(key, tenant, len);
		key[len] = '\0';
		te = hash_search(sevo_tenant_htab, key, HASH_FIND, NULL);
		if (te)
			schema = te->schema;
	}
	if (te == NULL)
	{
		char	   *id = sevo_tenant_lookup(tenant, len);

		if (id)
			schema = sevo_schema_by_id(id, false);
		if (cacheable)
		{
			if (hash_get_num_entries(sevo_tenant_htab) >= sevo_tenant_cache_size)
			{
				hash_destroy(sevo_tenant_htab);
				sevo_tenant_htab_create();
			}
			te = hash_search(sevo_tenant_htab, key, HASH_ENTER, NULL);
			te->schema = schema;
		}
	}
	if (schema == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tenant \"%.*s\" has no active schema", len, tenant),
				 errhint("Promote a schema for it with CALL schemaevo.promote_schema().")));
	return schema;
}
