/*-------------------------------------------------------------------------
 *
 * registry_sql.c
 *	  register_schema() and CALL promote_schema(): validate in the caller's
 *	  backend, then hand a command to the replicated log (src/paxos) and
 *	  report its outcome.  Nothing here writes a registry table.
 *
 * Definition errors are found here, where the codec can name the field
 * path; registry conflicts (version taken, unknown schema) are found by the
 * apply step, which alone sees the registry as of the command's slot.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include "../paxos/paxos.h"

PG_FUNCTION_INFO_V1(sevo_register_schema_text);
PG_FUNCTION_INFO_V1(sevo_register_schema_jsonb);
PG_FUNCTION_INFO_V1(sevo_promote_schema);
PG_FUNCTION_INFO_V1(sevo_promote_schema_many);

static Jsonb *
sevo_jsonb_parse(const char *s)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s)));
}

/* The outcome's "schema_id", after re-raising a failed outcome. */
static text *
sevo_outcome_schema_id(Jsonb *outcome)
{
	JsonbValue *id;

	paxos_raise_outcome(outcome);
	id = getKeyJsonValueFromContainer(&outcome->root, "schema_id", 9, NULL);
	if (id == NULL || id->type != jbvString)
		elog(ERROR, "schemaevo: log outcome lacks a schema_id");
	return cstring_to_text_with_len(id->val.string.val, id->val.string.len);
}

/* Compiles `definition` and submits a register command; returns the id. */
static text *
sevo_register(const char *definition, size_t len)
{
	codec_schema *schema = NULL;
	codec_error err;
	char	   *def_json = NULL;
	char	   *map_json = NULL;
	char	   *layout_json = NULL;
	StringInfoData cmd;

	if (codec_schema_parse(definition, len, &schema, &err) != CODEC_OK)
		sevo_report_codec_error(ERROR, &err, "schema definition");

	/* codec results are malloc'd: copy them out before anything can throw */
	def_json = codec_schema_definition_json(schema);
	map_json = codec_schema_offset_map_json(schema);
	layout_json = codec_schema_layout_json(schema);

	initStringInfo(&cmd);
	if (def_json && map_json && layout_json)
	{
		appendStringInfoString(&cmd, "{\"op\": \"register\", \"name\": ");
		escape_json(&cmd, schema->name);
		if (schema->version > 0)
			appendStringInfo(&cmd, ", \"version\": %u", schema->version);
		else
			appendStringInfoString(&cmd, ", \"version\": null");
		appendStringInfo(&cmd,
						 ", \"fingerprint\": \"%s\", \"name_hash\": %u"
						 ", \"definition\": %s, \"offset_map\": %s"
						 ", \"layout\": %s}",
						 schema->fingerprint, schema->name_hash,
						 def_json, map_json, layout_json);
	}
	free(def_json);
	free(map_json);
	free(layout_json);
	codec_schema_free(schema);
	if (cmd.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));

	/* the codec's JSON is checked here, not in the worker's batch */
	(void) sevo_jsonb_parse(cmd.data);
	return sevo_outcome_schema_id(paxos_submit(cmd.data));
}

/* SQL: register_schema(definition text) → text */
Datum
sevo_register_schema_text(PG_FUNCTION_ARGS)
{
	text	   *def = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(sevo_register(VARDATA_ANY(def), VARSIZE_ANY_EXHDR(def)));
}

/* SQL: register_schema(definition jsonb) → text */
Datum
sevo_register_schema_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *def = PG_GETARG_JSONB_P(0);
	char	   *s = JsonbToCString(NULL, &def->root, VARSIZE(def));

	PG_RETURN_TEXT_P(sevo_register(s, strlen(s)));
}

/* Submits a promote command for `tenants` (a JSON array text). */
static void
sevo_promote(const char *tenants_json, text *schema_id)
{
	StringInfoData cmd;

	initStringInfo(&cmd);
	appendStringInfo(&cmd, "{\"op\": \"promote\", \"tenants\": %s, \"schema_id\": ",
					 tenants_json);
	escape_json(&cmd, text_to_cstring(schema_id));
	appendStringInfoChar(&cmd, '}');
	(void) sevo_outcome_schema_id(paxos_submit(cmd.data));
}

static void
sevo_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/*
 * The apply step refuses a longer tenant id too (so that no chosen entry
 * can fail to be written); checking here spares the command a log slot.
 */
static void
sevo_check_tenant(const char *tenant)
{
	size_t		len = strlen(tenant);

	if (len > PAXOS_MAX_TENANT_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tenant id of %zu bytes exceeds the limit of %d bytes",
						len, PAXOS_MAX_TENANT_LEN)));
}

/*
 * Through the log worker a promotion commits on its own, whatever the
 * caller's transaction does next: refuse to pretend otherwise.
 */
static void
sevo_promote_check_context(FunctionCallInfo fcinfo)
{
	if (paxos_is_inline())
		return;
	/* not CallContext.atomic: that is always set for SECURITY DEFINER */
	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("CALL schemaevo.promote_schema() cannot run inside a transaction block"),
				 errdetail("The promotion is chosen by the replicated log and commits on its own; a ROLLBACK could not undo it."),
				 errhint("Run the CALL on its own, outside BEGIN ... COMMIT.")));
}

/* SQL: CALL promote_schema(tenant text, schema_id text) */
Datum
sevo_promote_schema(PG_FUNCTION_ARGS)
{
	StringInfoData tenants;
	char	   *tenant;

	sevo_promote_check_context(fcinfo);
	sevo_require_arg(fcinfo, 0, "tenant");
	sevo_require_arg(fcinfo, 1, "schema_id");
	tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	sevo_check_tenant(tenant);
	initStringInfo(&tenants);
	appendStringInfoChar(&tenants, '[');
	escape_json(&tenants, tenant);
	appendStringInfoChar(&tenants, ']');
	sevo_promote(tenants.data, PG_GETARG_TEXT_PP(1));
	PG_RETURN_VOID();
}

/*
 * SQL: CALL promote_schema(tenants text[], schema_id text)
 * One log entry for the whole set: every tenant moves, or none does.
 */
Datum
sevo_promote_schema_many(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	StringInfoData tenants;

	sevo_promote_check_context(fcinfo);
	sevo_require_arg(fcinfo, 0, "tenants");
	sevo_require_arg(fcinfo, 1, "schema_id");
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("tenants must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tenants must not be empty")));

	initStringInfo(&tenants);
	appendStringInfoChar(&tenants, '[');
	for (i = 0; i < n; i++)
	{
		char	   *tenant;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("tenants must not contain null")));
		tenant = TextDatumGetCString(elems[i]);
		sevo_check_tenant(tenant);
		if (i > 0)
			appendStringInfoString(&tenants, ", ");
		escape_json(&tenants, tenant);
	}
	appendStringInfoChar(&tenants, ']');
	sevo_promote(tenants.data, PG_GETARG_TEXT_PP(1));
	PG_RETURN_VOID();
}
