/*-------------------------------------------------------------------------
 *
 * codec_schema.c
 *	  Parsing and validation of schema definitions (JSON, via jansson).
 *
 * A definition is {"name", "version"?, "fields", "doc"?}; each field is
 * {"name", "type", "nullable"?, "default"?, "deprecated"?, "doc"?}.  Types
 * are the strings of DESIGN.md or {"enum": [...]}, {"array": T},
 * {"record": [fields]}.  Unknown keys are errors, so a typo never silently
 * changes a layout.
 *
 * Invariants:
 *	- On success the returned schema is fully compiled (codec_layout.c) and
 *	  immutable; every allocation lives in its arena.
 *	- On failure nothing leaks and err names the offending field path
 *	  ("items.sku"), or "fields[3]" when the field has no usable name.
 *	- Defaults are type-checked by encoding them, so a default is exactly
 *	  what the encoder would write for that value.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "codec_internal.h"

typedef struct parse_ctx
{
	codec_schema_impl *impl;
	codec_error *err;
} parse_ctx;

static int parse_fields(parse_ctx *pc, json_t *fields, codec_record *rec,
						const char *prefix, int depth);

uint32_t
codec_fnv1a32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t	h = UINT32_C(2166136261);
	size_t		i;

	for (i = 0; i < len; i++)
	{
		h ^= p[i];
		h *= UINT32_C(16777619);
	}
	return h;
}

static int
schema_fail(parse_ctx *pc, codec_errcode code, const char *path,
			const char *fmt,...) CODEC_PRINTF(4, 5);

static int
schema_fail(parse_ctx *pc, codec_errcode code, const char *path,
			const char *fmt,...)
{
	codec_path	node;
	va_list		ap;

	node.up = NULL;
	node.name = path;
	node.name_len = strlen(path);
	node.index = 0;
	va_start(ap, fmt);
	codec_vfail(pc->err, code, 0, &node, fmt, ap);
	va_end(ap);
	return code;
}

static int
nomem(parse_ctx *pc, const char *path)
{
	return schema_fail(pc, CODEC_ERR_NOMEM, path, "out of memory");
}

static bool
valid_name(const char *s, size_t len, bool schema_name)
{
	size_t		i;

	if (len == 0 || !((s[0] >= 'A' && s[0] <= 'Z') ||
					  (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (i = 1; i < len; i++)
	{
		char		c = s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '_')
			continue;
		if (schema_name && (c == '.' || c == '-'))
			continue;
		return false;
	}
	return true;
}

/* Parses "<word>(a)" or "<word>(a,b)" with small decimal numbers. */
static bool
parse_type_args(const char *s, const char *word, int nargs, long *args)
{
	size_t		wl = strlen(word);
	const char *p;
	int			i;

	if (strncmp(s, word, wl) != 0 || s[wl] != '(')
		return false;
	p = s + wl + 1;
	for (i = 0; i < nargs; i++)
	{
		long		v = 0;
		int			nd = 0;

		while (*p == ' ')
			p++;
		while (*p >= '0' && *p <= '9' && nd < 7)
		{
			v = v * 10 + (*p - '0');
			p++;
			nd++;
		}
		if (nd == 0 || (*p >= '0' && *p <= '9'))
			return false;
		while (*p == ' ')
			p++;
		args[i] = v;
		if (*p != (i == nargs - 1 ? ')' : ','))
			return false;
		p++;
	}
	return *p == '\0';
}

static const struct
{
	const char *name;
	codec_kind	kind;
	uint32_t	size;
}			simple_types[] =
{
	{"bool", CODEC_BOOL, 1},
	{"int8", CODEC_INT8, 1},
	{"int16", CODEC_INT16, 2},
	{"int32", CODEC_INT32, 4},
	{"int64", CODEC_INT64, 8},
	{"float32", CODEC_FLOAT32, 4},
	{"float64", CODEC_FLOAT64, 8},
	{"timestamp", CODEC_TIMESTAMP, 8},
	{"date", CODEC_DATE, 4},
	{"uuid", CODEC_UUID, 16},
	{"string", CODEC_STRING, 0},
	{"bytes", CODEC_BYTES, 0}
};

const char *
codec_kind_name(codec_kind kind)
{
	static const char *const names[] = {
		"bool", "int8", "int16", "int32", "int64", "float32", "float64",
		"timestamp", "date", "uuid", "fixed", "enum", "decimal", "string",
		"bytes", "array", "record"
	};

	if ((unsigned) kind >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[kind];
}

static int
parse_type_string(parse_ctx *pc, const char *s, size_t len,
				  codec_type *t, const char *path)
{
	size_t		i;
	long		args[2];

	if (strlen(s) == len)
	{
		for (i = 0; i < sizeof(simple_types) / sizeof(simple_types[0]); i++)
		{
			if (strcmp(s, simple_types[i].name) == 0)
			{
				t->kind = simple_types[i].kind;
				t->size = simple_types[i].size;
				return 0;
			}
		}
		if (parse_type_args(s, "decimal", 2, args))
		{
			if (args[0] < 1 || args[0] > 18)
				return schema_fail(pc, CODEC_ERR_SCHEMA, path,
								   "decimal precision %ld is not between 1 and 18",
								   args[0]);
			if (args[1] > args[0])
				return schema_fail(pc, CODEC_ERR_SCHEMA, path,
								   "decimal scale %ld is greater than "
								   "precision %ld", args[1], args[0]);
			t->kind = CODEC_DECIMAL;
			t->size = 8;
			t->precision = (uint8_t) args[0];
			t->scale = (uint8_t) args[1];
			return 0;
		}
		if (parse_type_args(s, "fixed", 1, args))
		{
			if (args[0] < 1 || args[0] > CODEC_MAX_FIXED_SIZE)
				return schema_fail(pc, args[0] < 1 ? CODEC_ERR_SCHEMA : CODEC_ERR_LIMIT, path,
								   "fixed size %ld is not between 1 and %d",
								   args[0], CODEC_MAX_FIXED_SIZE);
			t->kind = CODEC_FIXED;
			t->size = (uint32_t) args[0];
			return 0;
		}
	}
	return schema_fail(pc, CODEC_ERR_SCHEMA, path, "unknown type \"%.64s\"", s);
}

static int
parse_enum(parse_ctx *pc, json_t *syms, codec_type *t, const char *path)
{
	size_t		n;
	size_t		i;
	size_t		j;

	if (!json_is_array(syms) || json_array_size(syms) == 0)
		return schema_fail(pc, CODEC_ERR_SCHEMA, path,
						   "\"enum\" must be a non-empty array of strings");
	n = json_array_size(syms);
	if (n > CODEC_MAX_ENUM_SYMBOLS)
		return schema_fail(pc, CODEC_ERR_LIMIT, path,
						   "enum has %zu symbols (max %d)", n,
						   CODEC_MAX_ENUM_SYMBOLS);
	t->kind = CODEC_ENUM;
	t->size = 2;
	t->nsymbols = (uint32_t) n;
	t->symbols = codec_arena_alloc(pc->impl, n * sizeof(char *));
	if (t->symbols == NULL)
		return nomem(pc, path);
	for (i = 0; i < n; i++)
	{
		json_t	   *s = json_array_get(syms, i);

		if (!json_is_string(s) || json_string_length(s) == 0)
			return schema_fail(pc, CODEC_ERR_SCHEMA, path,
							   "enum symbol %zu is not a non-empty string", i);
		t->symbols[i] = codec_arena_strndup(pc->impl, json_string_value(s),
											json_string_length(s));
		if (t->symbols[i] == NULL)
			return nomem(pc, path);
	}
	/* quadratic only in the error-free case of small enums is fine; sort
	 * would need a copy, and definitions are parsed once */
	if (n <= 4096)
	{
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (strcmp(t->symbols[i], t->symbols[j]) == 0)
					return schema_fail(pc, CODEC_ERR_SCHEMA, path,
									   "enum symbol \"%.64s\" is repeated",
									   t->symbols[i]);
	}
	else
	{
		/* big enums: check through a jansson object used as a set */
		json_t	   *set = json_object();

		if (set == NULL)
			return nomem(pc, path);
		for (i = 0; i < n; i++)
		{
			if (json_object_get(set, t->symbols[i]) != NULL)
			{
				json_decref(set);
				return schema_fail(pc, CODEC_ERR_SCHEMA, path,
								   "enum symbol \"%.64s\" is repeated",
								   t->symbols[i]);
			}
			json_object_set_new(set, t->symbols[i], json_true());
		}
		json_decref(set);
	}
	return 0;
}

static int
parse_type(parse_ctx *pc, json_t *j, codec_type *t, const char *path,
		   int depth)
{
	const char *key;
	json_t	   *val;

	if (json_is_string(j))
		return parse_type_string(pc, json_string_value(j),
								 json_string_length(j), t, path);
	if (!json_is_object(j) || json_object_size(j) != 1)
		return schema_fail(pc, CODEC_ERR_SCHEMA, path,
						   "type must be a string or an object with one key "
						   "\"enum\", \"array\" or \"record\"");
	key = json_object_iter_key(json_object_iter(j));
	val = json_object_get(j, key);
	if (strcmp(key, "enum") == 0)
		return parse_enum(pc, val, t, path);
	if (strcmp(key, "array") != 0 && strcmp(key, "record") != 0)
		return schema_fail(pc, CODEC_ERR_SCHEMA, path, "unknown type \"%.64s\"",
						   key);
	if (depth + 1 > CODEC_MAX_DEPTH)
		return schema_fail(pc, CODEC_ERR_LIMIT, path,
						   "types nest deeper than %d levels", CODEC_MAX_DEPTH);
	if (key[0] == 'a')
	{
		t->kind = CODEC_ARRAY;
		t->element = codec_arena_alloc(pc->impl, sizeof(codec_type));
		if (t->element == NULL)
			return nomem(pc, path);
		return parse_type(pc, val, t->element, path, depth + 1);
	}
	t->kind = CODEC_RECORD;
	t->record = codec_arena_alloc(pc->impl, sizeof(codec_record));
	if (t->record == NULL)
		return nomem(pc, path);
	return parse_fields(pc, val, t->record, path, depth + 1);
}

static bool
get_bool(json_t *obj, const char *key, bool *out)
{
	json_t	   *v = json_object_get(obj, key);

	if (v == NULL)
		return true;
	if (!json_is_boolean(v))
		return false;
	*out = json_is_true(v);
	return true;
}

/* Type-checks a default by encoding it, and keeps its wire bytes. */
static int
parse_default(parse_ctx *pc, json_t *dflt, codec_field *f)
{
	codec_source src;
	codec_jansson_ctx jctx;
	codec_buf	buf;
	int			rc;

	if (json_is_null(dflt))
	{
		if (!CODEC_FIELD_NULLABLE(f))
			return schema_fail(pc, CODEC_ERR_SCHEMA, f->path,
							   "invalid default: null for a non-nullable field");
		return 0;
	}
	codec_jansson_source(&src, &jctx);
	codec_buf_init_malloc(&buf);
	rc = codec_encode_value(&f->type, &src, dflt, &buf, f->path, pc->err);
	if (rc != 0)
	{
		free(buf.data);
		if (rc == CODEC_ERR_VALUE)
		{
			char		msg[sizeof(pc->err->message)];

			memcpy(msg, pc->err->message, sizeof(msg));
			snprintf(pc->err->message, sizeof(pc->err->message),
					 "invalid default: %.200s", msg);
			pc->err->code = CODEC_ERR_SCHEMA;
		}
		return pc->err->code;
	}
	if (buf.len > UINT32_MAX)
	{
		free(buf.data);
		return schema_fail(pc, CODEC_ERR_LIMIT, f->path, "default too large");
	}
	f->has_default = true;
	f->default_len = (uint32_t) buf.len;
	f->default_bytes = codec_arena_alloc(pc->impl, buf.len ? buf.len : 1);
	if (f->default_bytes == NULL)
	{
		free(buf.data);
		return nomem(pc, f->path);
	}
	if (buf.len)
		memcpy(f->default_bytes, buf.data, buf.len);
	free(buf.data);
	return 0;
}

static int
parse_field(parse_ctx *pc, json_t *j, codec_field *f, const char *prefix,
			size_t index, int depth)
{
	char		where[300];
	const char *key;
	json_t	   *val;
	json_t	   *name;
	size_t		nlen;

	if (prefix[0])
		snprintf(where, sizeof(where), "%s.fields[%zu]", prefix, index);
	else
		snprintf(where, sizeof(where), "fields[%zu]", index);
	if (!json_is_object(j))
		return schema_fail(pc, CODEC_ERR_SCHEMA, where,
						   "field must be an object");
	name = json_object_get(j, "name");
	if (!json_is_string(name))
		return schema_fail(pc, CODEC_ERR_SCHEMA, where,
						   "field needs a string \"name\"");
	nlen = json_string_length(name);
	if (nlen > CODEC_MAX_NAME_LEN)
		return schema_fail(pc, CODEC_ERR_LIMIT, where,
						   "field name exceeds %d bytes", CODEC_MAX_NAME_LEN);
	if (!valid_name(json_string_value(name), nlen, false))
		return schema_fail(pc, CODEC_ERR_SCHEMA, where,
						   "invalid field name \"%.64s\"",
						   json_string_value(name));
	f->name = codec_arena_strndup(pc->impl, json_string_value(name), nlen);
	f->name_len = (uint32_t) nlen;
	if (prefix[0])
	{
		size_t		pl = strlen(prefix);

		f->path = codec_arena_alloc(pc->impl, pl + nlen + 2);
		if (f->path != NULL)
		{
			memcpy(f->path, prefix, pl);
			f->path[pl] = '.';
			memcpy(f->path + pl + 1, f->name, nlen + 1);
		}
	}
	else
		f->path = f->name;
	if (f->name == NULL || f->path == NULL)
		return nomem(pc, where);

	json_object_foreach(j, key, val)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "type") != 0 &&
			strcmp(key, "nullable") != 0 && strcmp(key, "default") != 0 &&
			strcmp(key, "deprecated") != 0 && strcmp(key, "doc") != 0)
			return schema_fail(pc, CODEC_ERR_SCHEMA, f->path,
							   "unknown key \"%.64s\"", key);
	}
	val = json_object_get(j, "doc");
	if (val != NULL && !json_is_string(val))
		return schema_fail(pc, CODEC_ERR_SCHEMA, f->path,
						   "\"doc\" must be a string");
	if (!get_bool(j, "nullable", &f->nullable))
		return schema_fail(pc, CODEC_ERR_SCHEMA, f->path,
						   "\"nullable\" must be a boolean");
	if (!get_bool(j, "deprecated", &f->deprecated))
		return schema_fail(pc, CODEC_ERR_SCHEMA, f->path,
						   "\"deprecated\" must be a boolean");
	val = json_object_get(j, "type");
	if (val == NULL)
		return schema_fail(pc, CODEC_ERR_SCHEMA, f->path,
						   "field has no \"type\"");
	if (parse_type(pc, val, &f->type, f->path, depth) != 0)
		return pc->err->code;
	val = json_object_get(j, "default");
	if (val != NULL)
		return parse_default(pc, val, f);
	return 0;
}

/* Parses a field list into rec and compiles its layout. */
static int
parse_fields(parse_ctx *pc, json_t *fields, codec_record *rec,
			 const char *prefix, int depth)
{
	size_t		n;
	size_t		i;
	size_t		j;

	if (!json_is_array(fields))
		return schema_fail(pc, CODEC_ERR_SCHEMA, prefix,
						   "fields must be an array");
	n = json_array_size(fields);
	if (n == 0)
		return schema_fail(pc, CODEC_ERR_SCHEMA, prefix,
						   "a record needs at least one field");
	if (n > CODEC_MAX_FIELDS)
		return schema_fail(pc, CODEC_ERR_LIMIT, prefix,
						   "record has %zu fields (max %d)", n,
						   CODEC_MAX_FIELDS);
	rec->nfields = (uint32_t) n;
	rec->fields = codec_arena_alloc(pc->impl, n * sizeof(codec_field));
	if (rec->fields == NULL)
		return nomem(pc, prefix);
	for (i = 0; i < n; i++)
	{
		codec_field *f = &rec->fields[i];

		f->ordinal = (uint32_t) i;
		/* the type must be known before a default can be checked ... */
		if (parse_field(pc, json_array_get(fields, i), f, prefix, i,
						depth) != 0)
			return pc->err->code;
		for (j = 0; j < i; j++)
			if (strcmp(rec->fields[j].name, f->name) == 0)
				return schema_fail(pc, CODEC_ERR_SCHEMA, f->path,
								   "duplicate field name \"%s\"", f->name);
	}
	return codec_compile_record(pc->impl, rec, prefix, pc->err);
}

static int
parse_root(parse_ctx *pc, json_t *root)
{
	codec_schema *s = &pc->impl->schema;
	const char *key;
	json_t	   *val;
	size_t		nlen;

	if (!json_is_object(root))
		return schema_fail(pc, CODEC_ERR_SCHEMA, "",
						   "definition must be a JSON object");
	json_object_foreach(root, key, val)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "version") != 0 &&
			strcmp(key, "fields") != 0 && strcmp(key, "doc") != 0)
			return schema_fail(pc, CODEC_ERR_SCHEMA, "",
							   "unknown key \"%.64s\"", key);
	}
	val = json_object_get(root, "name");
	if (!json_is_string(val))
		return schema_fail(pc, CODEC_ERR_SCHEMA, "",
						   "definition needs a string \"name\"");
	nlen = json_string_length(val);
	if (nlen > CODEC_MAX_NAME_LEN)
		return schema_fail(pc, CODEC_ERR_LIMIT, "",
						   "schema name exceeds %d bytes", CODEC_MAX_NAME_LEN);
	if (!valid_name(json_string_value(val), nlen, true))
		return schema_fail(pc, CODEC_ERR_SCHEMA, "",
						   "invalid schema name \"%.64s\"",
						   json_string_value(val));
	s->name = codec_arena_strndup(pc->impl, json_string_value(val), nlen);
	if (s->name == NULL)
		return nomem(pc, "");
	s->name_hash = codec_fnv1a32(s->name, nlen);

	val = json_object_get(root, "version");
	if (val != NULL)
	{
		if (!json_is_integer(val) || json_integer_value(val) < 1 ||
			json_integer_value(val) > INT32_MAX)
			return schema_fail(pc, CODEC_ERR_SCHEMA, "",
							   "\"version\" must be an integer between 1 and %d",
							   INT32_MAX);
		s->version = (uint32_t) json_integer_value(val);
	}
	val = json_object_get(root, "doc");
	if (val != NULL && !json_is_string(val))
		return schema_fail(pc, CODEC_ERR_SCHEMA, "",
						   "\"doc\" must be a string");
	val = json_object_get(root, "fields");
	if (val == NULL)
		return schema_fail(pc, CODEC_ERR_SCHEMA, "",
						   "definition needs \"fields\"");
	return parse_fields(pc, val, &s->root, "", 0);
}

/* FNV-1a 64 of the canonical definition with the version left out. */
static int
compute_fingerprint(parse_ctx *pc)
{
	codec_schema *s = &pc->impl->schema;
	uint32_t	version = s->version;
	char	   *text;
	uint64_t	h = UINT64_C(14695981039346656037);
	const unsigned char *p;

	s->version = 0;
	text = codec_schema_definition_json(s);
	s->version = version;
	if (text == NULL)
		return nomem(pc, "");
	for (p = (const unsigned char *) text; *p; p++)
	{
		h ^= *p;
		h *= UINT64_C(1099511628211);
	}
	free(text);
	snprintf(s->fingerprint, sizeof(s->fingerprint), "%016llx",
			 (unsigned long long) h);
	return 0;
}

int
codec_schema_parse(const char *json, size_t len, codec_schema **out,
				   codec_error *err)
{
	codec_error dummy;
	parse_ctx	pc;
	json_error_t jerr;
	json_t	   *root;
	int			rc;

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	*out = NULL;
	pc.err = err;
	pc.impl = NULL;
	if (len > CODEC_MAX_DEFINITION_SIZE)
		return codec_fail(err, CODEC_ERR_LIMIT, 0, NULL,
						  "definition of %zu bytes exceeds %d bytes", len,
						  CODEC_MAX_DEFINITION_SIZE);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return codec_fail(err, CODEC_ERR_SCHEMA, 0, NULL,
						  "invalid JSON: %.160s at line %d column %d",
						  jerr.text, jerr.line, jerr.column);
	pc.impl = calloc(1, sizeof(codec_schema_impl));
	if (pc.impl == NULL)
	{
		json_decref(root);
		return codec_fail(err, CODEC_ERR_NOMEM, 0, NULL, "out of memory");
	}
	rc = parse_root(&pc, root);
	json_decref(root);
	if (rc == 0)
		rc = compute_fingerprint(&pc);
	if (rc != 0)
	{
		codec_arena_free(pc.impl);
		free(pc.impl);
		return rc;
	}
	*out = &pc.impl->schema;
	return 0;
}

void
codec_schema_free(codec_schema *schema)
{
	codec_schema_impl *impl = (codec_schema_impl *) schema;

	if (schema == NULL)
		return;
	codec_arena_free(impl);
	free(impl);
}

void
codec_schema_set_version(codec_schema *schema, uint32_t version)
{
	schema->version = version;
}
