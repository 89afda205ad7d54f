/*-------------------------------------------------------------------------
 *
 * test_schema.c
 *	  Schema definitions: parsing errors (code, path, message), layouts and
 *	  offset maps of the DESIGN.md example, canonical definitions and
 *	  fingerprints, compatibility and projections.
 *
 *-------------------------------------------------------------------------
 */
#include "unit.h"

#define ORDERS \
	"{\"name\": \"orders\",\n" \
	" \"fields\": [\n" \
	"   {\"name\": \"id\", \"type\": \"int64\"},\n" \
	"   {\"name\": \"amount\", \"type\": \"decimal(12,2)\"},\n" \
	"   {\"name\": \"currency\", \"type\": {\"enum\": [\"EUR\", \"USD\"]}, \"default\": \"EUR\"},\n" \
	"   {\"name\": \"note\", \"type\": \"string\", \"nullable\": true},\n" \
	"   {\"name\": \"tags\", \"type\": {\"array\": \"string\"}}]}"

static void
test_design_layout(void)
{
	codec_schema *s = must_parse(ORDERS);
	const codec_record *r;

	if (s == NULL)
		return;
	r = &s->root;
	CHECK_STR(s->name, "orders");
	CHECK_INT(s->version, 0);
	CHECK_INT(s->name_hash, codec_fnv1a32("orders", 6));
	CHECK_INT(r->nfields, 5);
	CHECK_INT(r->fixed_length, 18);
	CHECK_INT(r->bitmap_len, 1);
	CHECK_INT(r->nvar, 2);
	CHECK_INT(r->noutput, 5);
	CHECK_INT(r->var_ordinals[0], 3);
	CHECK_INT(r->var_ordinals[1], 4);
	CHECK_INT(r->fields[0].offset, 0);
	CHECK_INT(r->fields[1].offset, 8);
	CHECK_INT(r->fields[2].offset, 16);
	CHECK_INT(r->fields[3].offset, -1);
	CHECK_INT(r->fields[3].var_index, 0);
	CHECK_INT(r->fields[4].var_index, 1);
	CHECK_INT(r->fields[2].has_default, 1);
	CHECK_INT(r->fields[2].default_len, 2);
	CHECK(codec_schema_field(s, "tags", 4) == &r->fields[4]);
	CHECK(codec_schema_field(s, "tag", 3) == NULL);
	codec_schema_free(s);
}

static void
test_fnv(void)
{
	/* published FNV-1a test vectors */
	CHECK_INT(codec_fnv1a32("", 0), 0x811c9dc5u);
	CHECK_INT(codec_fnv1a32("a", 1), 0xe40c292cu);
	CHECK_INT(codec_fnv1a32("foobar", 6), 0xbf9cf968u);
}

static void
test_offset_map_and_layout(void)
{
	codec_schema *s = must_parse(ORDERS);
	char	   *t;

	if (s == NULL)
		return;
	t = codec_schema_offset_map_json(s);
	CHECK_STR(t, "{\"id\":0,\"amount\":8,\"currency\":16}");
	free(t);
	codec_schema_set_version(s, 3);
	t = codec_schema_layout_json(s);
	CHECK_STR(t,
			  "{\"name\":\"orders\",\"version\":3,\"name_hash\":845059820,"
			  "\"field_count\":5,\"fixed_length\":18,\"bitmap_length\":1,"
			  "\"fields\":["
			  "{\"name\":\"id\",\"ordinal\":0,\"type\":\"int64\",\"size\":8,"
			  "\"offset\":0,\"nullable\":false,\"deprecated\":false},"
			  "{\"name\":\"amount\",\"ordinal\":1,\"type\":\"decimal(12,2)\","
			  "\"size\":8,\"offset\":8,\"nullable\":false,\"deprecated\":false},"
			  "{\"name\":\"currency\",\"ordinal\":2,\"type\":{\"enum\":"
			  "[\"EUR\",\"USD\"]},\"size\":2,\"offset\":16,\"nullable\":false,"
			  "\"deprecated\":false},"
			  "{\"name\":\"note\",\"ordinal\":3,\"type\":\"string\","
			  "\"var_index\":0,\"nullable\":true,\"deprecated\":false},"
			  "{\"name\":\"tags\",\"ordinal\":4,\"type\":{\"array\":\"string\"},"
			  "\"var_index\":1,\"nullable\":false,\"deprecated\":false}]}");
	CHECK_INT(s->name_hash, 845059820u);
	free(t);
	codec_schema_free(s);
}

static void
test_canonical_definition(void)
{
	codec_schema *a = must_parse(ORDERS);
	codec_schema *b;
	codec_schema *c;
	char	   *t;

	if (a == NULL)
		return;
	t = codec_schema_definition_json(a);
	CHECK_STR(t,
			  "{\"name\":\"orders\",\"fields\":["
			  "{\"name\":\"id\",\"type\":\"int64\"},"
			  "{\"name\":\"amount\",\"type\":\"decimal(12,2)\"},"
			  "{\"name\":\"currency\",\"type\":{\"enum\":[\"EUR\",\"USD\"]},"
			  "\"default\":\"EUR\"},"
			  "{\"name\":\"note\",\"type\":\"string\",\"nullable\":true},"
			  "{\"name\":\"tags\",\"type\":{\"array\":\"string\"}}]}");
	b = must_parse(t);
	free(t);
	if (b == NULL)
		return;
	CHECK_STR(b->fingerprint, a->fingerprint);
	CHECK_INT(strlen(a->fingerprint), 16);
	/* key order, whitespace, docs, explicit false flags and the version do
	 * not change the fingerprint */
	c = must_parse("{\"fields\":[{\"type\":\"int64\",\"name\":\"id\","
				   "\"nullable\":false,\"doc\":\"key\"},"
				   "{\"name\":\"amount\",\"type\":\"decimal( 12 , 2 )\"},"
				   "{\"name\":\"currency\",\"type\":{\"enum\":[\"EUR\",\"USD\"]},"
				   "\"default\":\"EUR\",\"deprecated\":false},"
				   "{\"name\":\"note\",\"type\":\"string\",\"nullable\":true},"
				   "{\"name\":\"tags\",\"type\":{\"array\":\"string\"}}],"
				   "\"version\":7,\"name\":\"orders\",\"doc\":\"x\"}");
	if (c != NULL)
	{
		CHECK_STR(c->fingerprint, a->fingerprint);
		CHECK_INT(c->version, 7);
		t = codec_schema_definition_json(c);
		CHECK(t != NULL && strncmp(t, "{\"name\":\"orders\",\"version\":7,", 29) == 0);
		free(t);
		codec_schema_free(c);
	}
	codec_schema_free(b);
	codec_schema_free(a);
}

static void
test_canonical_defaults(void)
{
	/* defaults are re-rendered from their bytes: one text per value */
	codec_schema *a = must_parse(
		"{\"name\":\"d\",\"fields\":["
		"{\"name\":\"t\",\"type\":\"timestamp\",\"default\":\"2020-01-01 01:00:00+01:00\"},"
		"{\"name\":\"x\",\"type\":\"decimal(5,2)\",\"default\":1.5},"
		"{\"name\":\"f\",\"type\":\"float64\",\"default\":1E2},"
		"{\"name\":\"r\",\"type\":{\"record\":[{\"name\":\"a\",\"type\":\"int8\","
		"\"default\":3}]},\"default\":{}},"
		"{\"name\":\"l\",\"type\":{\"array\":\"int16\"},\"default\":[1,2]},"
		"{\"name\":\"n\",\"type\":\"string\",\"nullable\":true,\"default\":null}]}");
	char	   *t;

	if (a == NULL)
		return;
	t = codec_schema_definition_json(a);
	CHECK_STR(t,
			  "{\"name\":\"d\",\"fields\":["
			  "{\"name\":\"t\",\"type\":\"timestamp\",\"default\":"
			  "\"2020-01-01T00:00:00.000000Z\"},"
			  "{\"name\":\"x\",\"type\":\"decimal(5,2)\",\"default\":1.50},"
			  "{\"name\":\"f\",\"type\":\"float64\",\"default\":100},"
			  "{\"name\":\"r\",\"type\":{\"record\":[{\"name\":\"a\",\"type\":"
			  "\"int8\",\"default\":3}]},\"default\":{\"a\":3}},"
			  "{\"name\":\"l\",\"type\":{\"array\":\"int16\"},\"default\":[1,2]},"
			  "{\"name\":\"n\",\"type\":\"string\",\"nullable\":true}]}");
	free(t);
	codec_schema_free(a);
}

static void
test_empty_bytes_default(void)
{
	/*
	 * Found by fuzz_schema (UBSan): an empty bytes default was decoded into
	 * an output buffer not allocated yet, at NULL + 0.
	 */
	codec_schema *a = must_parse(
		"{\"name\":\"p\",\"fields\":[{\"name\":\"b\",\"type\":\"bytes\",\"default\":\"\"}]}");
	char	   *t;

	if (a == NULL)
		return;
	t = codec_schema_definition_json(a);
	CHECK_STR(t, "{\"name\":\"p\",\"fields\":[{\"name\":\"b\",\"type\":\"bytes\",\"default\":\"\"}]}");
	free(t);
	codec_schema_free(a);
}

typedef struct err_case
{
	const char *json;
	int			code;
	const char *path;
	const char *message;
} err_case;

#define F(body) "{\"name\":\"s\",\"fields\":[" body "]}"

static const err_case schema_errors[] = {
	{"{", CODEC_ERR_SCHEMA, "", NULL},	/* jansson's text varies */
	{"[]", CODEC_ERR_SCHEMA, "", "definition must be a JSON object"},
	{"{\"name\":\"s\",\"fields\":[{\"name\":\"a\",\"type\":\"int8\"}],\"foo\":1}",
	CODEC_ERR_SCHEMA, "", "unknown key \"foo\""},
	{"{\"fields\":[]}", CODEC_ERR_SCHEMA, "",
	"definition needs a string \"name\""},
	{"{\"name\":\"1abc\",\"fields\":[]}", CODEC_ERR_SCHEMA, "",
	"invalid schema name \"1abc\""},
	{"{\"name\":\"a234567890123456789012345678901234567890123456789012345678901234\",\"fields\":[]}",
	CODEC_ERR_LIMIT, "", "schema name exceeds 63 bytes"},
	{"{\"name\":\"s\",\"version\":0,\"fields\":[]}", CODEC_ERR_SCHEMA, "",
	"\"version\" must be an integer between 1 and 2147483647"},
	{"{\"name\":\"s\"}", CODEC_ERR_SCHEMA, "", "definition needs \"fields\""},
	{"{\"name\":\"s\",\"fields\":{}}", CODEC_ERR_SCHEMA, "",
	"fields must be an array"},
	{F(""), CODEC_ERR_SCHEMA, "", "a record needs at least one field"},
	{F("1"), CODEC_ERR_SCHEMA, "fields[0]", "field must be an object"},
	{F("{\"name\":\"a\",\"type\":\"int8\"},{\"type\":\"int8\"}"),
	CODEC_ERR_SCHEMA, "fields[1]", "field needs a string \"name\""},
	{F("{\"name\":\"a-b\",\"type\":\"int8\"}"), CODEC_ERR_SCHEMA, "fields[0]",
	"invalid field name \"a-b\""},
	{F("{\"name\":\"a\",\"type\":\"int8\"},{\"name\":\"a\",\"type\":\"int16\"}"),
	CODEC_ERR_SCHEMA, "a", "duplicate field name \"a\""},
	{F("{\"name\":\"x\",\"type\":\"int128\"}"), CODEC_ERR_SCHEMA, "x",
	"unknown type \"int128\""},
	{F("{\"name\":\"x\"}"), CODEC_ERR_SCHEMA, "x", "field has no \"type\""},
	{F("{\"name\":\"x\",\"type\":\"int8\",\"color\":1}"), CODEC_ERR_SCHEMA, "x",
	"unknown key \"color\""},
	{F("{\"name\":\"x\",\"type\":\"int8\",\"nullable\":1}"), CODEC_ERR_SCHEMA,
	"x", "\"nullable\" must be a boolean"},
	{F("{\"name\":\"x\",\"type\":\"decimal(19,2)\"}"), CODEC_ERR_SCHEMA, "x",
	"decimal precision 19 is not between 1 and 18"},
	{F("{\"name\":\"x\",\"type\":\"decimal(5,6)\"}"), CODEC_ERR_SCHEMA, "x",
	"decimal scale 6 is greater than precision 5"},
	{F("{\"name\":\"x\",\"type\":\"decimal(5)\"}"), CODEC_ERR_SCHEMA, "x",
	"unknown type \"decimal(5)\""},
	{F("{\"name\":\"x\",\"type\":\"fixed(0)\"}"), CODEC_ERR_SCHEMA, "x",
	"fixed size 0 is not between 1 and 65536"},
	{F("{\"name\":\"x\",\"type\":\"fixed(65537)\"}"), CODEC_ERR_LIMIT, "x",
	"fixed size 65537 is not between 1 and 65536"},
	{F("{\"name\":\"x\",\"type\":{\"enum\":[]}}"), CODEC_ERR_SCHEMA, "x",
	"\"enum\" must be a non-empty array of strings"},
	{F("{\"name\":\"x\",\"type\":{\"enum\":[\"A\",\"\"]}}"), CODEC_ERR_SCHEMA,
	"x", "enum symbol 1 is not a non-empty string"},
	{F("{\"name\":\"x\",\"type\":{\"enum\":[\"A\",\"B\",\"A\"]}}"),
	CODEC_ERR_SCHEMA, "x", "enum symbol \"A\" is repeated"},
	{F("{\"name\":\"x\",\"type\":{\"map\":\"int8\"}}"), CODEC_ERR_SCHEMA, "x",
	"unknown type \"map\""},
	{F("{\"name\":\"x\",\"type\":{\"array\":\"int8\",\"enum\":[\"A\"]}}"),
	CODEC_ERR_SCHEMA, "x",
	"type must be a string or an object with one key \"enum\", \"array\" or \"record\""},
	{F("{\"name\":\"x\",\"type\":\"int8\",\"default\":300}"), CODEC_ERR_SCHEMA,
	"x", "invalid default: 300 is out of range for int8"},
	{F("{\"name\":\"x\",\"type\":\"int8\",\"default\":\"3\"}"),
	CODEC_ERR_SCHEMA, "x",
	"invalid default: expected a number for int8, got a string"},
	{F("{\"name\":\"x\",\"type\":\"int8\",\"default\":null}"),
	CODEC_ERR_SCHEMA, "x", "invalid default: null for a non-nullable field"},
	{F("{\"name\":\"x\",\"type\":{\"enum\":[\"A\"]},\"default\":\"B\"}"),
	CODEC_ERR_SCHEMA, "x", "invalid default: unknown enum symbol \"B\""},
	{F("{\"name\":\"x\",\"type\":{\"array\":\"int8\"},\"default\":[1,1000]}"),
	CODEC_ERR_SCHEMA, "x[1]",
	"invalid default: 1000 is out of range for int8"},
	{F("{\"name\":\"address\",\"type\":{\"record\":[{\"name\":\"city\","
	   "\"type\":\"text\"}]}}"), CODEC_ERR_SCHEMA, "address.city",
	"unknown type \"text\""},
	{F("{\"name\":\"items\",\"type\":{\"array\":{\"record\":[{\"name\":\"sku\","
	   "\"type\":\"string\"},{\"name\":\"sku\",\"type\":\"int8\"}]}}}"),
	CODEC_ERR_SCHEMA, "items.sku", "duplicate field name \"sku\""},
	{F("{\"name\":\"r\",\"type\":{\"record\":[{\"type\":\"int8\"}]}}"),
	CODEC_ERR_SCHEMA, "r.fields[0]", "field needs a string \"name\""},
	{F("{\"name\":\"x\",\"type\":"
	   "{\"array\":{\"array\":{\"array\":{\"array\":{\"array\":{\"array\":"
	   "{\"array\":{\"array\":{\"array\":{\"array\":{\"array\":{\"array\":"
	   "{\"array\":{\"array\":{\"array\":{\"array\":{\"array\":\"int8\""
	   "}}}}}}}}}}}}}}}}}}"),
	CODEC_ERR_LIMIT, "x", "types nest deeper than 16 levels"},
	{NULL, 0, NULL, NULL}
};


static void
test_schema_errors(void)
{
	const err_case *c;

	for (c = schema_errors; c->path != NULL; c++)
	{
		codec_schema *s = NULL;
		codec_error err;
		int			rc = codec_schema_parse(c->json, strlen(c->json), &s,
											&err);

		if (rc != c->code)
		{
			unit_fail(__FILE__, __LINE__, "%s: rc %d, expected %d (%s)",
					  c->json, rc, c->code, rc ? err.message : "");
			codec_schema_free(s);
			continue;
		}
		CHECK(s == NULL);
		if (strcmp(err.path, c->path) != 0)
			unit_fail(__FILE__, __LINE__, "%s: path \"%s\", expected \"%s\"",
					  c->json, err.path, c->path);
		if (c->message != NULL && strcmp(err.message, c->message) != 0)
			unit_fail(__FILE__, __LINE__, "%s: message \"%s\", expected \"%s\"",
					  c->json, err.message, c->message);
	}
}

static void
test_schema_limits(void)
{
	size_t		n = 1025;
	size_t		cap = 64 + n * 40;
	char	   *buf = malloc(CODEC_MAX_DEFINITION_SIZE + 2);
	size_t		len = 0;
	size_t		i;
	codec_schema *s = NULL;
	codec_error err;

	(void) cap;
	len += sprintf(buf + len, "{\"name\":\"big\",\"fields\":[");
	for (i = 0; i < n; i++)
		len += sprintf(buf + len, "%s{\"name\":\"f%zu\",\"type\":\"int8\"}",
					   i ? "," : "", i);
	len += sprintf(buf + len, "]}");
	CHECK_INT(codec_schema_parse(buf, len, &s, &err), CODEC_ERR_LIMIT);
	CHECK_STR(err.message, "record has 1025 fields (max 1024)");

	/* 1024 fields is fine, with a 128-byte bitmap */
	len = (size_t) (strstr(buf, ",{\"name\":\"f1024\"") - buf);
	len += sprintf(buf + len, "]}");
	CHECK_INT(codec_schema_parse(buf, len, &s, &err), 0);
	if (s != NULL)
	{
		CHECK_INT(s->root.bitmap_len, 128);
		CHECK_INT(s->root.fixed_length, 1024);
		codec_schema_free(s);
	}

	memset(buf, ' ', CODEC_MAX_DEFINITION_SIZE + 1);
	CHECK_INT(codec_schema_parse(buf, CODEC_MAX_DEFINITION_SIZE + 1, &s, &err),
			  CODEC_ERR_LIMIT);
	CHECK_STR(err.message, "definition of 1048577 bytes exceeds 1048576 bytes");
	free(buf);
}

#define V1 "{\"name\":\"p\",\"version\":1,\"fields\":[" \
	"{\"name\":\"id\",\"type\":\"int64\"}," \
	"{\"name\":\"name\",\"type\":\"string\"}]}"
#define V2 "{\"name\":\"p\",\"version\":2,\"fields\":[" \
	"{\"name\":\"id\",\"type\":\"int64\"}," \
	"{\"name\":\"name\",\"type\":\"string\",\"deprecated\":true}," \
	"{\"name\":\"score\",\"type\":\"int32\",\"default\":7}," \
	"{\"name\":\"label\",\"type\":\"string\",\"nullable\":true}]}"

static void
test_append_compatible(void)
{
	codec_schema *v1 = must_parse(V1);
	codec_schema *v2 = must_parse(V2);
	codec_schema *moved = must_parse(
		"{\"name\":\"p\",\"fields\":[{\"name\":\"name\",\"type\":\"string\"},"
		"{\"name\":\"id\",\"type\":\"int64\"}]}");
	codec_schema *retyped = must_parse(
		"{\"name\":\"p\",\"fields\":[{\"name\":\"id\",\"type\":\"int32\"},"
		"{\"name\":\"name\",\"type\":\"string\"}]}");
	codec_schema *other = must_parse(
		"{\"name\":\"q\",\"fields\":[{\"name\":\"id\",\"type\":\"int64\"},"
		"{\"name\":\"name\",\"type\":\"string\"}]}");

	if (!v1 || !v2 || !moved || !retyped || !other)
		return;
	CHECK(codec_schema_append_compatible(v1, v1));
	CHECK(codec_schema_append_compatible(v1, v2));
	CHECK(!codec_schema_append_compatible(v2, v1));
	CHECK(!codec_schema_append_compatible(v1, moved));
	CHECK(!codec_schema_append_compatible(v1, retyped));
	CHECK(!codec_schema_append_compatible(v1, other));
	codec_schema_free(v1);
	codec_schema_free(v2);
	codec_schema_free(moved);
	codec_schema_free(retyped);
	codec_schema_free(other);
}

static void
test_projection_build(void)
{
	codec_schema *v1 = must_parse(V1);
	codec_schema *v2 = must_parse(V2);
	codec_schema *v1b = must_parse(V1);
	codec_projection *p;

	if (!v1 || !v2 || !v1b)
		return;
	p = codec_projection_build(v2, v1);
	CHECK_INT(p->nout, 3);
	CHECK_STR(p->out_fields[0]->name, "id");
	CHECK_STR(p->out_fields[1]->name, "score");
	CHECK_STR(p->out_fields[2]->name, "label");
	CHECK_INT(p->writer_ordinals[0], 0);
	CHECK_INT(p->writer_ordinals[1], -1);
	CHECK_INT(p->writer_ordinals[2], -1);
	CHECK_INT(p->nmissing, 2);
	CHECK(!p->identity);
	codec_projection_free(p);

	/* the writer deprecated "name": the v1 reader gets its default/null */
	p = codec_projection_build(v1, v2);
	CHECK_INT(p->nout, 2);
	CHECK_INT(p->writer_ordinals[0], 0);
	CHECK_INT(p->writer_ordinals[1], -1);
	CHECK_INT(p->nmissing, 1);
	codec_projection_free(p);

	p = codec_projection_build(v1, v1b);
	CHECK(p->identity);
	CHECK_INT(p->nmissing, 0);
	codec_projection_free(p);
	codec_schema_free(v1);
	codec_schema_free(v2);
	codec_schema_free(v1b);
}

/*
 * A text quoted in a message is cut at a byte count (64 for a schema's);
 * the cut must fall between characters, as messages reach SQL clients as
 * text.  Here byte 64 of each quoted text falls inside a character.
 */
static void
test_error_text_is_utf8(void)
{
	static const char *const shapes[] = {
		"{\"name\":\"s\",\"fields\":[{\"name\":\"x\",\"type\":\"a%s\"}]}",
		"{\"name\":\"s\",\"a%s\":1,\"fields\":[{\"name\":\"x\",\"type\":\"int8\"}]}",
	};
	static const char *const expected[] = {"unknown type \"a", "unknown key \"a"};
	char		text[81] = "";
	char		json[256];
	int			i;

	for (i = 0; i < 40; i++)
		strcat(text, "\xc3\xa9");	/* U+00E9, two bytes */
	for (i = 0; i < 2; i++)
	{
		codec_schema *s = NULL;
		codec_error err;
		size_t		prefix = strlen(expected[i]);

		snprintf(json, sizeof(json), shapes[i], text);
		CHECK_INT(codec_schema_parse(json, strlen(json), &s, &err), CODEC_ERR_SCHEMA);
		CHECK(codec_utf8_valid((const uint8_t *) err.message, strlen(err.message)));
		/* "a" and 31 whole characters (63 bytes) are kept, then the quote */
		CHECK(strncmp(err.message, expected[i], prefix) == 0);
		CHECK_INT(strlen(err.message), prefix + 62 + 1);
		CHECK(strncmp(err.message + prefix, text, 62) == 0);
	}
}

const unit_test schema_tests[] = {
	{"schema_design_layout", test_design_layout},
	{"schema_fnv", test_fnv},
	{"schema_offset_map_and_layout", test_offset_map_and_layout},
	{"schema_canonical_definition", test_canonical_definition},
	{"schema_canonical_defaults", test_canonical_defaults},
	{"schema_empty_bytes_default", test_empty_bytes_default},
	{"schema_errors", test_schema_errors},
	{"schema_error_text_is_utf8", test_error_text_is_utf8},
	{"schema_limits", test_schema_limits},
	{"schema_append_compatible", test_append_compatible},
	{"schema_projection_build", test_projection_build},
	{NULL, NULL}
};
