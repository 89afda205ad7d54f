/*-------------------------------------------------------------------------
 *
 * resolve.c
 *	  Decides how a message is read for a reader schema (a tenant's active
 *	  schema, or the schema named in decode_with_schema): the version
 *	  mismatch policy of DESIGN.md.
 *
 *	  exact     message version = reader version: the reader's map.
 *	  downward  older message: its own version's (fallback) map, projected
 *	            by field name onto the reader; missing fields take their
 *	            default or null.
 *	  upward    newer message: the reader's (active) map, reading the fields
 *	            the reader knows, when the newer version only appended
 *	            fields or is not registered here; otherwise its own map,
 *	            projected.  A WARNING says when reader fields are missing.
 *
 * Plans are built once per (reader, message version) and cached on the
 * reader; the policy GUC is checked on every call, so changing it takes
 * effect at once.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "access/xact.h"

#define SEVO_MAX_WARNED 64

/* Rate limit: one WARNING per statement per (tenant, reader, version). */
typedef struct SevoWarned
{
	uint32		tenant_hash;
	const SevoSchema *reader;
	uint32		version;
} SevoWarned;

static SevoWarned sevo_warned[SEVO_MAX_WARNED];
static int	sevo_nwarned = 0;
static TimestampTz sevo_warned_stmt = 0;
static uint64 sevo_warned_generation = 0;

static bool
sevo_policy_allows(SevoDecodeCase dcase)
{
	switch (dcase)
	{
		case SEVO_CASE_EXACT:
			return true;
		case SEVO_CASE_UPWARD:
			return sevo_version_mismatch == SEVO_MISMATCH_AUTO ||
				sevo_version_mismatch == SEVO_MISMATCH_UPWARD;
		case SEVO_CASE_DOWNWARD:
			return sevo_version_mismatch == SEVO_MISMATCH_AUTO ||
				sevo_version_mismatch == SEVO_MISMATCH_DOWNWARD;
	}
	return false;
}

static const char *
sevo_policy_name(void)
{
	switch (sevo_version_mismatch)
	{
		case SEVO_MISMATCH_AUTO:
			return "auto";
		case SEVO_MISMATCH_UPWARD:
			return "upward";
		case SEVO_MISMATCH_DOWNWARD:
			return "downward";
		default:
			return "reject";
	}
}

/* Whether `newer` deprecated a field that `reader` still reads. */
static bool
sevo_deprecates_reader_field(const codec_schema *reader, const codec_schema *newer)
{
	uint32		i;

	for (i = 0; i < reader->root.nfields && i < newer->root.nfields; i++)
		if (!reader->root.fields[i].deprecated && newer->root.fields[i].deprecated)
			return true;
	return false;
}

/*
 * The jsonb key order of the root fields decode_message emits along a plan:
 * the projection's reader fields, or the writer's non-deprecated ones.
 */
static void
sevo_plan_key_order(SevoPlan *plan, const codec_schema *writer,
					const codec_projection *proj)
{
	const codec_field **fields;
	uint32		n = 0;
	uint32		i;

	if (proj != NULL)
	{
		fields = palloc(Max(proj->nout, 1) * sizeof(codec_field *));
		for (i = 0; i < proj->nout; i++)
			fields[n++] = proj->out_fields[i];
	}
	else
	{
		fields = palloc(Max(writer->root.nfields, 1) * sizeof(codec_field *));
		for (i = 0; i < writer->root.nfields; i++)
			if (!writer->root.fields[i].deprecated)
				fields[n++] = &writer->root.fields[i];
	}
	plan->key_order = sevo_jsonb_key_order(fields, n);
	plan->nkeys = n;
	pfree(fields);
}

static void
sevo_report_unregistered(const SevoSchema *reader, uint32 version)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("message version %u of schema \"%s\" is not registered",
					version, reader->codec->name),
			 errdetail("The message is older than version %u and no offset map exists for its version.",
					   reader->version)));
}

/*
 * How `plan` reads its messages for `reader`, given `own`, the registered
 * schema of the message's version (NULL when it is not registered).
 */
static void
sevo_plan_layout(SevoPlan *plan, SevoSchema *reader, SevoSchema *own)
{
	codec_projection *proj = NULL;
	const codec_schema *writer = reader->codec;
	int			mode = CODEC_DECODE_EXACT;
	uint32		nmissing = 0;

	/*
	 * A newer version that only appended fields is read through the reader's
	 * own map (PREFIX mode), unless it deprecated a field the reader still
	 * has: that one must come out as the reader's default, which only a
	 * projection gives.
	 */
	if (plan->dcase == SEVO_CASE_UPWARD &&
		(own == NULL ||
		 (codec_schema_append_compatible(reader->codec, own->codec) &&
		  !sevo_deprecates_reader_field(reader->codec, own->codec))))
		mode = CODEC_DECODE_PREFIX;
	else if (own != NULL)
	{
		writer = own->codec;
		proj = codec_projection_build(reader->codec, writer);
		if (proj == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		nmissing = proj->nmissing;
		if (proj->identity)
		{
			codec_projection_free(proj);
			proj = NULL;
		}
	}

	sevo_plan_key_order(plan, writer, proj);
	plan->writer = writer;
	plan->mode = mode;
	plan->proj = proj;
	plan->nmissing = nmissing;
}

/*
 * Plans kept per reader for message versions that are not registered.  The
 * version is the message's own header field, so corrupt or hostile data can
 * show a new one on every row: beyond this many, such versions share one
 * plan per direction (all of them read alike: a newer one through the
 * reader's map, an older one refused), and the cache stays bounded.
 */
#define SEVO_MAX_UNREGISTERED_PLANS 16

/*
 * The plan for reading `version` messages for `reader`, built and kept
 * with the reader; for an older version that is not registered, a plan
 * that says so.
 */
static SevoPlan *
sevo_plan_build(SevoSchema *reader, uint32 version, SevoDecodeCase dcase)
{
	SevoSchema *own = NULL;
	SevoPlan   *plan;
	SevoPlan  **beyond = NULL;

	if (dcase != SEVO_CASE_EXACT)
		own = sevo_schema_by_version(reader->codec->name, version);
	if (own == NULL && dcase != SEVO_CASE_EXACT &&
		reader->nunregistered >= SEVO_MAX_UNREGISTERED_PLANS)
	{
		beyond = &reader->beyond[dcase == SEVO_CASE_UPWARD ? 0 : 1];
		if (*beyond != NULL)
			return *beyond;
	}

	plan = sevo_cache_alloc(sizeof(SevoPlan));
	plan->version = version;
	plan->dcase = dcase;
	if (dcase == SEVO_CASE_DOWNWARD && own == NULL)
		plan->unregistered = true;
	else
		sevo_plan_layout(plan, reader, own);
	if (beyond != NULL)
	{
		/* not in reader->plans: found again only through `beyond` */
		plan->version = 0;
		*beyond = plan;
		return plan;
	}
	if (own == NULL && dcase != SEVO_CASE_EXACT)
		reader->nunregistered++;
	plan->next = reader->plans;
	reader->plans = plan;
	return plan;
}

static void
sevo_warn_missing(SevoSchema *reader, const SevoPlan *plan,
				  const char *tenant, int tenantlen)
{
	TimestampTz stmt = GetCurrentStatementStartTimestamp();
	uint32		h = tenant ? codec_fnv1a32(tenant, tenantlen) : 0;
	int			i;

	if (stmt != sevo_warned_stmt || sevo_warned_generation != sevo_cache_generation)
	{
		sevo_nwarned = 0;
		sevo_warned_stmt = stmt;
		sevo_warned_generation = sevo_cache_generation;
	}
	for (i = 0; i < Min(sevo_nwarned, SEVO_MAX_WARNED); i++)
		if (sevo_warned[i].tenant_hash == h && sevo_warned[i].reader == reader &&
			sevo_warned[i].version == plan->version)
			return;
	if (sevo_nwarned >= SEVO_MAX_WARNED)
	{
		/* say once that the list is full, so that silence is not misread */
		if (sevo_nwarned++ == SEVO_MAX_WARNED)
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("further messages lacking fields of their reader schema are not reported in this statement"),
					 errdetail("Only the first %d combinations of tenant, reader schema and message version are reported per statement.",
							   SEVO_MAX_WARNED)));
		return;
	}
	sevo_warned[sevo_nwarned].tenant_hash = h;
	sevo_warned[sevo_nwarned].reader = reader;
	sevo_warned[sevo_nwarned].version = plan->version;
	sevo_nwarned++;

	ereport(WARNING,
			(errcode(ERRCODE_WARNING),
			 errmsg("message version %u lacks %u field(s) of schema \"%s\"",
					plan->version, plan->nmissing, reader->schema_id),
			 tenant ? errdetail("Tenant \"%.*s\"; missing fields are decoded as their default or null.",
								tenantlen, tenant) : 0));
}

/*
 * The plan for decoding a message with header `hdr` for `reader`.  When the
 * message is refused (another lineage, the policy, an unknown older
 * version) raises an error, or returns NULL if `noerror`; counts the case.
 */
const SevoPlan *
sevo_resolve(SevoSchema *reader, const codec_header *hdr,
			 const char *tenant, int tenantlen, bool noerror)
{
	SevoDecodeCase dcase;
	SevoPlan   *plan;

	if (hdr->name_hash != reader->codec->name_hash)
	{
		sevo_count(SEVO_STAT_REJECTED);
		if (noerror)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("message is not of schema \"%s\"", reader->codec->name),
				 errdetail("Its name hash %08X differs from %08X: it belongs to another schema lineage.",
						   hdr->name_hash, reader->codec->name_hash)));
	}

	if (hdr->version == reader->version)
		dcase = SEVO_CASE_EXACT;
	else if (hdr->version > reader->version)
		dcase = SEVO_CASE_UPWARD;
	else
		dcase = SEVO_CASE_DOWNWARD;

	if (!sevo_policy_allows(dcase))
	{
		sevo_count(SEVO_STAT_REJECTED);
		if (noerror)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("message version %u does not match version %u of schema \"%s\"",
						hdr->version, reader->version, reader->codec->name),
				 errdetail("schemaevo.version_mismatch is \"%s\".", sevo_policy_name()),
				 errhint("Set schemaevo.version_mismatch to \"auto\" to decode %s messages.",
						 dcase == SEVO_CASE_UPWARD ? "newer" : "older")));
	}

	for (plan = reader->plans; plan; plan = plan->next)
		if (plan->version == hdr->version)
			break;
	if (plan == NULL)
		plan = sevo_plan_build(reader, hdr->version, dcase);
	if (plan->unregistered)
	{
		sevo_count(SEVO_STAT_REJECTED);
		if (noerror)
			return NULL;
		sevo_report_unregistered(reader, hdr->version);
	}

	switch (dcase)
	{
		case SEVO_CASE_EXACT:
			sevo_count(SEVO_STAT_EXACT);
			break;
		case SEVO_CASE_UPWARD:
			sevo_count(SEVO_STAT_UPWARD);
			if (plan->nmissing > 0)
				sevo_warn_missing(reader, plan, tenant, tenantlen);
			break;
		case SEVO_CASE_DOWNWARD:
			sevo_count(SEVO_STAT_DOWNWARD);
			break;
	}
	return plan;
}
