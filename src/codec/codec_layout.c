/*-------------------------------------------------------------------------
 *
 * codec_layout.c
 *	  Compiled layouts: offsets of fixed fields, variable field indexes, the
 *	  JSON descriptions of a schema (canonical definition, offset map,
 *	  layout), layout compatibility and reader/writer projections.
 *
 * Invariants:
 *	- Fixed fields are packed in declaration order; offsets are relative to
 *	  the fixed area, so they do not depend on the bitmap's size.
 *	- The canonical definition is a pure function of the compiled schema
 *	  (keys in a fixed order, defaults re-rendered from their wire bytes),
 *	  so equal definitions give byte-equal texts and equal fingerprints.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "codec_internal.h"

/* Assigns offsets and variable indexes; called once per record. */
int
codec_compile_record(codec_schema_impl *impl, codec_record *rec,
					 const char *path, codec_error *err)
{
	uint64_t	off = 0;
	uint32_t	i;
	codec_path	node;

	node.up = NULL;
	node.name = path;
	node.name_len = strlen(path);
	node.index = 0;
	rec->bitmap_len = (rec->nfields + 7) / 8;
	rec->nvar = 0;
	rec->noutput = 0;
	for (i = 0; i < rec->nfields; i++)
	{
		codec_field *f = &rec->fields[i];

		if (!f->deprecated)
			rec->noutput++;
		if (CODEC_KIND_IS_FIXED(f->type.kind))
		{
			f->offset = (int32_t) off;
			f->var_index = -1;
			off += f->type.size;
			if (off > INT32_MAX)
				return codec_fail(err, CODEC_ERR_LIMIT, 0, &node,
								  "fixed area exceeds %d bytes", INT32_MAX);
		}
		else
		{
			f->offset = -1;
			f->var_index = (int32_t) rec->nvar++;
		}
	}
	rec->fixed_length = (uint32_t) off;
	rec->var_ordinals = codec_arena_alloc(impl, (rec->nvar + 1) *
										  sizeof(uint32_t));
	if (rec->var_ordinals == NULL)
		return codec_fail(err, CODEC_ERR_NOMEM, 0, &node, "out of memory");
	for (i = 0; i < rec->nfields; i++)
		if (rec->fields[i].var_index >= 0)
			rec->var_ordinals[rec->fields[i].var_index] = i;
	return 0;
}

static bool record_equal(const codec_record *a, const codec_record *b);

/* Deep equality of types: same wire layout and the same value domain. */
bool
codec_type_equal(const codec_type *a, const codec_type *b)
{
	uint32_t	i;

	if (a->kind != b->kind || a->size != b->size)
		return false;
	switch (a->kind)
	{
		case CODEC_DECIMAL:
			return a->precision == b->precision && a->scale == b->scale;
		case CODEC_ENUM:
			if (a->nsymbols != b->nsymbols)
				return false;
			for (i = 0; i < a->nsymbols; i++)
				if (strcmp(a->symbols[i], b->symbols[i]) != 0)
					return false;
			return true;
		case CODEC_ARRAY:
			return codec_type_equal(a->element, b->element);
		case CODEC_RECORD:
			return record_equal(a->record, b->record);
		default:
			return true;
	}
}

/* Nested records must match exactly: the wire format checks field_count. */
static bool
record_equal(const codec_record *a, const codec_record *b)
{
	uint32_t	i;

	if (a->nfields != b->nfields)
		return false;
	for (i = 0; i < a->nfields; i++)
	{
		const codec_field *fa = &a->fields[i];
		const codec_field *fb = &b->fields[i];

		if (strcmp(fa->name, fb->name) != 0 ||
			CODEC_FIELD_NULLABLE(fa) != CODEC_FIELD_NULLABLE(fb) ||
			fa->deprecated != fb->deprecated ||
			!codec_type_equal(&fa->type, &fb->type))
			return false;
	}
	return true;
}

/* ---- JSON descriptions ---- */

static void write_fields_json(codec_strbuf *sb, const codec_record *rec);

void
codec_write_type_json(codec_strbuf *sb, const codec_type *t)
{
	uint32_t	i;

	switch (t->kind)
	{
		case CODEC_DECIMAL:
			codec_sb_printf(sb, "\"decimal(%d,%d)\"", t->precision, t->scale);
			break;
		case CODEC_FIXED:
			codec_sb_printf(sb, "\"fixed(%u)\"", t->size);
			break;
		case CODEC_ENUM:
			codec_sb_puts(sb, "{\"enum\":[");
			for (i = 0; i < t->nsymbols; i++)
			{
				if (i > 0)
					codec_sb_puts(sb, ",");
				codec_sb_json_string(sb, t->symbols[i], strlen(t->symbols[i]));
			}
			codec_sb_puts(sb, "]}");
			break;
		case CODEC_ARRAY:
			codec_sb_puts(sb, "{\"array\":");
			codec_write_type_json(sb, t->element);
			codec_sb_puts(sb, "}");
			break;
		case CODEC_RECORD:
			codec_sb_puts(sb, "{\"record\":");
			write_fields_json(sb, t->record);
			codec_sb_puts(sb, "}");
			break;
		default:
			codec_sb_puts(sb, "\"");
			codec_sb_puts(sb, codec_kind_name(t->kind));
			codec_sb_puts(sb, "\"");
			break;
	}
}

/* Canonical field list: name, type, then only non-default attributes. */
static void
write_fields_json(codec_strbuf *sb, const codec_record *rec)
{
	uint32_t	i;
	codec_error err;

	codec_sb_puts(sb, "[");
	for (i = 0; i < rec->nfields; i++)
	{
		const codec_field *f = &rec->fields[i];

		if (i > 0)
			codec_sb_puts(sb, ",");
		codec_sb_puts(sb, "{\"name\":");
		codec_sb_json_string(sb, f->name, f->name_len);
		codec_sb_puts(sb, ",\"type\":");
		codec_write_type_json(sb, &f->type);
		if (f->nullable)
			codec_sb_puts(sb, ",\"nullable\":true");
		if (f->has_default)
		{
			codec_sb_puts(sb, ",\"default\":");
			if (codec_json_write_default(sb, f, &err) != 0)
				sb->failed = true;
		}
		if (f->deprecated)
			codec_sb_puts(sb, ",\"deprecated\":true");
		codec_sb_puts(sb, "}");
	}
	codec_sb_puts(sb, "]");
}

char *
codec_schema_definition_json(const codec_schema *schema)
{
	codec_strbuf sb;

	codec_sb_init(&sb);
	codec_sb_puts(&sb, "{\"name\":");
	codec_sb_json_string(&sb, schema->name, strlen(schema->name));
	if (schema->version != 0)
		codec_sb_printf(&sb, ",\"version\":%u", schema->version);
	codec_sb_puts(&sb, ",\"fields\":");
	write_fields_json(&sb, &schema->root);
	codec_sb_puts(&sb, "}");
	return codec_sb_finish(&sb);
}

char *
codec_schema_offset_map_json(const codec_schema *schema)
{
	codec_strbuf sb;
	uint32_t	i;
	bool		first = true;

	codec_sb_init(&sb);
	codec_sb_puts(&sb, "{");
	for (i = 0; i < schema->root.nfields; i++)
	{
		const codec_field *f = &schema->root.fields[i];

		if (f->offset < 0)
			continue;
		if (!first)
			codec_sb_puts(&sb, ",");
		first = false;
		codec_sb_json_string(&sb, f->name, f->name_len);
		codec_sb_printf(&sb, ":%d", f->offset);
	}
	codec_sb_puts(&sb, "}");
	return codec_sb_finish(&sb);
}

char *
codec_schema_layout_json(const codec_schema *schema)
{
	const codec_record *rec = &schema->root;
	codec_strbuf sb;
	uint32_t	i;

	codec_sb_init(&sb);
	codec_sb_puts(&sb, "{\"name\":");
	codec_sb_json_string(&sb, schema->name, strlen(schema->name));
	codec_sb_printf(&sb, ",\"version\":%u", schema->version);
	codec_sb_printf(&sb, ",\"name_hash\":%u", schema->name_hash);
	codec_sb_printf(&sb, ",\"field_count\":%u", rec->nfields);
	codec_sb_printf(&sb, ",\"fixed_length\":%u", rec->fixed_length);
	codec_sb_printf(&sb, ",\"bitmap_length\":%u", rec->bitmap_len);
	codec_sb_puts(&sb, ",\"fields\":[");
	for (i = 0; i < rec->nfields; i++)
	{
		const codec_field *f = &rec->fields[i];

		if (i > 0)
			codec_sb_puts(&sb, ",");
		codec_sb_puts(&sb, "{\"name\":");
		codec_sb_json_string(&sb, f->name, f->name_len);
		codec_sb_printf(&sb, ",\"ordinal\":%u,\"type\":", f->ordinal);
		codec_write_type_json(&sb, &f->type);
		if (f->offset >= 0)
			codec_sb_printf(&sb, ",\"size\":%u,\"offset\":%d", f->type.size,
							f->offset);
		else
			codec_sb_printf(&sb, ",\"var_index\":%d", f->var_index);
		codec_sb_printf(&sb, ",\"nullable\":%s,\"deprecated\":%s}",
						CODEC_FIELD_NULLABLE(f) ? "true" : "false",
						f->deprecated ? "true" : "false");
	}
	codec_sb_puts(&sb, "]}");
	return codec_sb_finish(&sb);
}

const codec_field *
codec_schema_field(const codec_schema *schema, const char *name,
				   size_t namelen)
{
	uint32_t	i;

	for (i = 0; i < schema->root.nfields; i++)
	{
		const codec_field *f = &schema->root.fields[i];

		if (f->name_len == namelen && memcmp(f->name, name, namelen) == 0)
			return f;
	}
	return NULL;
}

bool
codec_schema_append_compatible(const codec_schema *older,
							   const codec_schema *newer)
{
	uint32_t	i;

	if (strcmp(older->name, newer->name) != 0 ||
		newer->root.nfields < older->root.nfields)
		return false;
	for (i = 0; i < older->root.nfields; i++)
	{
		const codec_field *a = &older->root.fields[i];
		const codec_field *b = &newer->root.fields[i];

		if (strcmp(a->name, b->name) != 0 ||
			!codec_type_equal(&a->type, &b->type))
			return false;
	}
	return true;
}

/* ---- projections ---- */

static bool
same_layout(const codec_schema *a, const codec_schema *b)
{
	uint32_t	i;

	if (a == b)
		return true;
	if (a->root.nfields != b->root.nfields)
		return false;
	for (i = 0; i < a->root.nfields; i++)
	{
		const codec_field *fa = &a->root.fields[i];
		const codec_field *fb = &b->root.fields[i];

		if (strcmp(fa->name, fb->name) != 0 || fa->deprecated != fb->deprecated ||
			!codec_type_equal(&fa->type, &fb->type))
			return false;
	}
	return true;
}

/*
 * Maps reader fields to writer ordinals by name.  A writer field that is
 * deprecated counts as missing, so the reader's default applies instead of
 * the null the writer was obliged to write.
 */
codec_projection *
codec_projection_build(const codec_schema *reader, const codec_schema *writer)
{
	codec_projection *proj;
	uint32_t	n = reader->root.noutput;
	uint32_t	i;
	uint32_t	k = 0;

	proj = calloc(1, sizeof(codec_projection) +
				  (n + 1) * (sizeof(const codec_field *) + sizeof(int32_t)));
	if (proj == NULL)
		return NULL;
	proj->reader = reader;
	proj->writer = writer;
	proj->nout = n;
	proj->out_fields = (const codec_field **) (proj + 1);
	proj->writer_ordinals = (int32_t *) (proj->out_fields + n + 1);
	for (i = 0; i < reader->root.nfields; i++)
	{
		const codec_field *rf = &reader->root.fields[i];
		const codec_field *wf;

		if (rf->deprecated)
			continue;
		wf = codec_schema_field(writer, rf->name, rf->name_len);
		proj->out_fields[k] = rf;
		if (wf != NULL && !wf->deprecated)
			proj->writer_ordinals[k] = (int32_t) wf->ordinal;
		else
		{
			proj->writer_ordinals[k] = -1;
			proj->nmissing++;
		}
		k++;
	}
	proj->identity = same_layout(reader, writer);
	return proj;
}

void
codec_projection_free(codec_projection *proj)
{
	free(proj);
}
