/*-------------------------------------------------------------------------
 *
 * test_roundtrip.c
 *	  Encode -> decode -> re-encode for every type, NULLs, special floats,
 *	  dates far from 1970, multibyte text, nested records and arrays; the
 *	  encoder's errors; projections between versions; single-field reads.
 *
 * check_roundtrip() also reads every field and decodes every truncated
 * prefix of each message (see helpers.c).
 *
 *-------------------------------------------------------------------------
 */
#include "unit.h"

#define ALLTYPES "{\"name\":\"all\",\"version\":2,\"fields\":[" \
	"{\"name\":\"b\",\"type\":\"bool\",\"nullable\":true}," \
	"{\"name\":\"i8\",\"type\":\"int8\",\"nullable\":true}," \
	"{\"name\":\"i16\",\"type\":\"int16\",\"nullable\":true}," \
	"{\"name\":\"i32\",\"type\":\"int32\",\"nullable\":true}," \
	"{\"name\":\"i64\",\"type\":\"int64\",\"nullable\":true}," \
	"{\"name\":\"f32\",\"type\":\"float32\",\"nullable\":true}," \
	"{\"name\":\"f64\",\"type\":\"float64\",\"nullable\":true}," \
	"{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true}," \
	"{\"name\":\"d\",\"type\":\"date\",\"nullable\":true}," \
	"{\"name\":\"u\",\"type\":\"uuid\",\"nullable\":true}," \
	"{\"name\":\"fx\",\"type\":\"fixed(4)\",\"nullable\":true}," \
	"{\"name\":\"e\",\"type\":{\"enum\":[\"RED\",\"GREEN\"]},\"nullable\":true}," \
	"{\"name\":\"dec\",\"type\":\"decimal(12,2)\",\"nullable\":true}," \
	"{\"name\":\"s\",\"type\":\"string\",\"nullable\":true}," \
	"{\"name\":\"by\",\"type\":\"bytes\",\"nullable\":true}," \
	"{\"name\":\"arr\",\"type\":{\"array\":\"int32\"},\"nullable\":true}," \
	"{\"name\":\"rec\",\"type\":{\"record\":[{\"name\":\"x\",\"type\":\"int8\"}]}," \
	"\"nullable\":true}]}"

static void
test_all_types(void)
{
	codec_schema *s = must_parse(ALLTYPES);
	const char *doc =
		"{\"b\":true,\"i8\":-128,\"i16\":32767,\"i32\":-2147483648,"
		"\"i64\":-9223372036854775808,\"f32\":0.1,\"f64\":1e+300,"
		"\"ts\":\"2026-11-24T06:23:09.123456Z\",\"d\":\"2024-02-29\","
		"\"u\":\"123e4567-e89b-12d3-a456-426614174000\",\"fx\":\"AQIDBA==\","
		"\"e\":\"GREEN\",\"dec\":-1234567890.12,\"s\":\"hello\","
		"\"by\":\"AAEC/w==\",\"arr\":[1,-2,3],\"rec\":{\"x\":5}}";

	if (s == NULL)
		return;
	check_roundtrip(s, doc, doc);
	check_roundtrip(s,
					"{\"b\":false,\"i8\":127,\"i16\":-32768,\"i32\":2147483647,"
					"\"i64\":9223372036854775807,\"f32\":-3.4028235e+38,"
					"\"f64\":5e-324,\"ts\":\"1970-01-01T00:00:00Z\","
					"\"d\":\"1970-01-01\",\"u\":\"00000000-0000-0000-0000-000000000000\","
					"\"fx\":\"AAAAAA==\",\"e\":\"RED\",\"dec\":9999999999.99,"
					"\"s\":\"\",\"by\":\"\",\"arr\":[],\"rec\":{\"x\":0}}",
					"{\"b\":false,\"i8\":127,\"i16\":-32768,\"i32\":2147483647,"
					"\"i64\":9223372036854775807,\"f32\":-3.4028235e+38,"
					"\"f64\":5e-324,\"ts\":\"1970-01-01T00:00:00.000000Z\","
					"\"d\":\"1970-01-01\",\"u\":\"00000000-0000-0000-0000-000000000000\","
					"\"fx\":\"AAAAAA==\",\"e\":\"RED\",\"dec\":9999999999.99,"
					"\"s\":\"\",\"by\":\"\",\"arr\":[],\"rec\":{\"x\":0}}");
	codec_schema_free(s);
}

static void
test_nulls(void)
{
	codec_schema *s = must_parse(ALLTYPES);
	const char *nulls =
		"{\"b\":null,\"i8\":null,\"i16\":null,\"i32\":null,\"i64\":null,"
		"\"f32\":null,\"f64\":null,\"ts\":null,\"d\":null,\"u\":null,"
		"\"fx\":null,\"e\":null,\"dec\":null,\"s\":null,\"by\":null,"
		"\"arr\":null,\"rec\":null}";

	if (s == NULL)
		return;
	check_roundtrip(s, nulls, nulls);
	/* absent nullable fields without default are null too */
	check_roundtrip(s, "{}", nulls);
	codec_schema_free(s);
}

static void
test_special_floats(void)
{
	codec_schema *s = must_parse(
		"{\"name\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"float64\"},"
		"{\"name\":\"b\",\"type\":\"float32\"}]}");

	if (s == NULL)
		return;
	check_roundtrip(s, "{\"a\":\"NaN\",\"b\":\"NaN\"}",
					"{\"a\":\"NaN\",\"b\":\"NaN\"}");
	check_roundtrip(s, "{\"a\":\"Infinity\",\"b\":\"-Infinity\"}",
					"{\"a\":\"Infinity\",\"b\":\"-Infinity\"}");
	check_roundtrip(s, "{\"a\":-0.0,\"b\":-0.0}", "{\"a\":-0.0,\"b\":-0.0}");
	check_roundtrip(s, "{\"a\":0.30000000000000004,\"b\":16777217}",
					"{\"a\":0.30000000000000004,\"b\":1.6777216e+07}");
	check_roundtrip(s, "{\"a\":1e-310,\"b\":1e-45}",
					"{\"a\":1e-310,\"b\":1e-45}");
	check_encode_error(s, "{\"a\":1,\"b\":1e39}", CODEC_ERR_VALUE, "b",
					   "value is out of range for float32");
	check_encode_error(s, "{\"a\":\"nan\",\"b\":1}", CODEC_ERR_VALUE, "a",
					   "invalid float64 \"nan\" (expected a number, \"NaN\", "
					   "\"Infinity\" or \"-Infinity\")");
	codec_schema_free(s);
}

static void
test_far_dates(void)
{
	codec_schema *s = must_parse(
		"{\"name\":\"t\",\"fields\":[{\"name\":\"ts\",\"type\":\"timestamp\"},"
		"{\"name\":\"d\",\"type\":\"date\"}]}");

	if (s == NULL)
		return;
	check_roundtrip(s, "{\"ts\":\"1969-12-31T23:59:59.999999Z\",\"d\":\"1969-12-31\"}",
					"{\"ts\":\"1969-12-31T23:59:59.999999Z\",\"d\":\"1969-12-31\"}");
	check_roundtrip(s, "{\"ts\":\"0001-01-01T00:00:00Z\",\"d\":\"0001-01-01\"}",
					"{\"ts\":\"0001-01-01T00:00:00.000000Z\",\"d\":\"0001-01-01\"}");
	check_roundtrip(s, "{\"ts\":\"9999-12-31 23:59:59.999999+00:00\",\"d\":\"9999-12-31\"}",
					"{\"ts\":\"9999-12-31T23:59:59.999999Z\",\"d\":\"9999-12-31\"}");
	check_roundtrip(s, "{\"ts\":\"-000044-03-15T12:00:00Z\",\"d\":\"+012345-06-07\"}",
					"{\"ts\":\"-000044-03-15T12:00:00.000000Z\",\"d\":\"+012345-06-07\"}");
	check_roundtrip(s, "{\"ts\":\"2000-01-01T00:00:00-05:30\",\"d\":\"2000-01-01\"}",
					"{\"ts\":\"2000-01-01T05:30:00.000000Z\",\"d\":\"2000-01-01\"}");
	codec_schema_free(s);
}

static void
test_strings(void)
{
	codec_schema *s = must_parse(
		"{\"name\":\"s\",\"fields\":[{\"name\":\"s\",\"type\":\"string\"},"
		"{\"name\":\"b\",\"type\":\"bytes\"}]}");

	if (s == NULL)
		return;
	check_roundtrip(s,
					"{\"s\":\"h\\u00e9 \\u20ac \\ud83d\\ude00 \\u65e5\\u672c\",\"b\":\"/w==\"}",
					"{\"s\":\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac\","
					"\"b\":\"/w==\"}");
	check_roundtrip(s, "{\"s\":\"quote\\\" back\\\\ nl\\n tab\\t \\u001f\","
					"\"b\":\"\"}",
					"{\"s\":\"quote\\\" back\\\\ nl\\n tab\\t \\u001f\","
					"\"b\":\"\"}");
	/* PostgreSQL text cannot hold NUL: neither side accepts U+0000 */
	check_encode_error(s, "{\"s\":\"a\\u0000b\",\"b\":\"\"}", CODEC_ERR_VALUE, "s",
					   "string contains U+0000");
	check_encode_error(s, "{\"s\":\"x\",\"b\":\"Zg\"}", CODEC_ERR_VALUE, "b",
					   "invalid base64");
	check_encode_error(s, "{\"s\":\"x\",\"b\":\"Zh==\"}", CODEC_ERR_VALUE, "b",
					   "invalid base64");
	codec_schema_free(s);
}

#define NESTED "{\"name\":\"n\",\"version\":1,\"fields\":[" \
	"{\"name\":\"id\",\"type\":\"int32\"}," \
	"{\"name\":\"address\",\"type\":{\"record\":[" \
	"  {\"name\":\"city\",\"type\":\"string\"}," \
	"  {\"name\":\"geo\",\"type\":{\"record\":[{\"name\":\"lat\",\"type\":\"float64\"}," \
	"    {\"name\":\"lon\",\"type\":\"float64\"}]},\"nullable\":true}," \
	"  {\"name\":\"zip\",\"type\":\"int32\",\"default\":0}]}}," \
	"{\"name\":\"tags\",\"type\":{\"array\":\"string\"}}," \
	"{\"name\":\"items\",\"type\":{\"array\":{\"record\":[" \
	"  {\"name\":\"sku\",\"type\":\"string\"}," \
	"  {\"name\":\"qty\",\"type\":\"int16\"}]}}}," \
	"{\"name\":\"matrix\",\"type\":{\"array\":{\"array\":\"float32\"}},\"nullable\":true}," \
	"{\"name\":\"codes\",\"type\":{\"array\":{\"enum\":[\"A\",\"B\"]}},\"default\":[\"B\"]}]}"

static void
test_nested(void)
{
	codec_schema *s = must_parse(NESTED);

	if (s == NULL)
		return;
	check_roundtrip(s,
					"{\"id\":1,\"address\":{\"city\":\"Oslo\",\"geo\":{\"lat\":59.9,"
					"\"lon\":10.75},\"zip\":150},\"tags\":[\"a\",\"\",\"c\\u00e9\"],"
					"\"items\":[{\"sku\":\"X1\",\"qty\":2},{\"sku\":\"Y\",\"qty\":-1}],"
					"\"matrix\":[[1,2.5],[],[-0.5]],\"codes\":[\"A\",\"B\",\"A\"]}",
					"{\"id\":1,\"address\":{\"city\":\"Oslo\",\"geo\":{\"lat\":59.9,"
					"\"lon\":10.75},\"zip\":150},\"tags\":[\"a\",\"\",\"c\xc3\xa9\"],"
					"\"items\":[{\"sku\":\"X1\",\"qty\":2},{\"sku\":\"Y\",\"qty\":-1}],"
					"\"matrix\":[[1,2.5],[],[-0.5]],\"codes\":[\"A\",\"B\",\"A\"]}");
	/* defaults inside records and of arrays */
	check_roundtrip(s,
					"{\"id\":2,\"address\":{\"city\":\"\"},\"tags\":[],\"items\":[]}",
					"{\"id\":2,\"address\":{\"city\":\"\",\"geo\":null,\"zip\":0},"
					"\"tags\":[],\"items\":[],\"matrix\":null,\"codes\":[\"B\"]}");
	codec_schema_free(s);
}

static void
test_design_bytes(void)
{
	codec_schema *s = must_parse(
		"{\"name\": \"orders\", \"version\": 1, \"fields\": ["
		"{\"name\": \"id\", \"type\": \"int64\"},"
		"{\"name\": \"amount\", \"type\": \"decimal(12,2)\"},"
		"{\"name\": \"currency\", \"type\": {\"enum\": [\"EUR\", \"USD\"]}, \"default\": \"EUR\"},"
		"{\"name\": \"note\", \"type\": \"string\", \"nullable\": true},"
		"{\"name\": \"tags\", \"type\": {\"array\": \"string\"}}]}");
	static const uint8_t expect[] = {
		0xE5, 0x00, 0x05, 0x00, 0xEC, 0x96, 0x5E, 0x32,	/* magic .. hash */
		0x01, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00,	/* version, fixed */
		0x08,					/* bitmap: note is null */
		0x2A, 0, 0, 0, 0, 0, 0, 0,	/* id 42 */
		0xD2, 0x04, 0, 0, 0, 0, 0, 0,	/* amount 12.34 */
		0x00, 0x00,				/* currency EUR (default) */
		0x00, 0x00, 0x00, 0x00, /* note: null, length 0 */
		0x0B, 0x00, 0x00, 0x00, /* tags: 11 bytes */
		0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 'n', 'e', 'w'
	};
	size_t		len;
	uint8_t    *buf;

	if (s == NULL)
		return;
	buf = must_encode(s, "{\"id\":42,\"amount\":12.34,\"tags\":[\"new\"]}", &len);
	CHECK_INT(len, sizeof(expect));
	CHECK(buf != NULL && len == sizeof(expect) &&
		  memcmp(buf, expect, len) == 0);
	free(buf);
	codec_schema_free(s);
}

static void
test_encode_errors(void)
{
	codec_schema *s = must_parse(NESTED);
	codec_schema *a = must_parse(ALLTYPES);

	if (s == NULL || a == NULL)
		return;
	check_encode_error(s, "[]", CODEC_ERR_VALUE, "",
					   "message must be a JSON object");
	check_encode_error(s, "{\"id\":1,\"address\":{\"city\":\"x\"},\"tags\":[],"
					   "\"items\":[],\"bogus\":1}", CODEC_ERR_VALUE, "",
					   "unknown field \"bogus\"");
	check_encode_error(s, "{\"id\":1,\"address\":{\"city\":\"x\",\"town\":1},"
					   "\"tags\":[],\"items\":[]}", CODEC_ERR_VALUE, "address",
					   "unknown field \"town\"");
	check_encode_error(s, "{\"address\":{\"city\":\"x\"},\"tags\":[],\"items\":[]}",
					   CODEC_ERR_VALUE, "id",
					   "missing value for non-nullable field");
	check_encode_error(s, "{\"id\":null,\"address\":{\"city\":\"x\"},\"tags\":[],"
					   "\"items\":[]}", CODEC_ERR_VALUE, "id",
					   "null value for non-nullable field");
	check_encode_error(s, "{\"id\":1,\"address\":{\"city\":\"x\"},\"tags\":[],"
					   "\"items\":[{\"sku\":\"a\",\"qty\":1},{\"sku\":5,\"qty\":1}]}",
					   CODEC_ERR_VALUE, "items[1].sku",
					   "expected a string for string, got a number");
	check_encode_error(s, "{\"id\":1,\"address\":{\"city\":\"x\"},\"tags\":[null],"
					   "\"items\":[]}", CODEC_ERR_VALUE, "tags[0]",
					   "array elements cannot be null");
	check_encode_error(s, "{\"id\":3.5,\"address\":{\"city\":\"x\"},\"tags\":[],"
					   "\"items\":[]}", CODEC_ERR_VALUE, "id",
					   "3.5 is not an integer");
	check_encode_error(s, "{\"id\":2147483648,\"address\":{\"city\":\"x\"},"
					   "\"tags\":[],\"items\":[]}", CODEC_ERR_VALUE, "id",
					   "2147483648 is out of range for int32");
	check_encode_error(s, "{\"id\":1,\"address\":{\"city\":\"x\"},\"tags\":[],"
					   "\"items\":[],\"codes\":[\"C\"]}", CODEC_ERR_VALUE,
					   "codes[0]", "unknown enum symbol \"C\"");
	/* integral numbers written as reals are accepted exactly */
	check_roundtrip(s, "{\"id\":3.0,\"address\":{\"city\":\"x\"},\"tags\":[],"
					"\"items\":[{\"sku\":\"s\",\"qty\":1e2}]}", NULL);
	check_encode_error(a, "{\"dec\":1.005}", CODEC_ERR_VALUE, "dec",
					   "1.005 has more than 2 fractional digits");
	check_encode_error(a, "{\"dec\":10000000000}", CODEC_ERR_VALUE, "dec",
					   "10000000000 exceeds decimal(12,2)");
	check_encode_error(a, "{\"i64\":9223372036854775807.5}", CODEC_ERR_VALUE,
					   "i64", "9.223372036854776e+18 is out of range for int64");
	check_encode_error(a, "{\"ts\":\"2020-01-01\"}", CODEC_ERR_VALUE, "ts",
					   "invalid timestamp \"2020-01-01\"");
	check_encode_error(a, "{\"d\":\"2020-02-30\"}", CODEC_ERR_VALUE, "d",
					   "invalid date \"2020-02-30\"");
	check_encode_error(a, "{\"u\":\"nope\"}", CODEC_ERR_VALUE, "u",
					   "invalid uuid \"nope\"");
	check_encode_error(a, "{\"fx\":\"AQID\"}", CODEC_ERR_VALUE, "fx",
					   "expected base64 of 4 bytes for fixed(4)");
	check_encode_error(a, "{\"b\":1}", CODEC_ERR_VALUE, "b",
					   "expected a boolean for bool, got a number");
	check_encode_error(a, "{\"rec\":[]}", CODEC_ERR_VALUE, "rec",
					   "expected an object for record, got an array");
	codec_schema_free(s);
	codec_schema_free(a);
}

#define PV1 "{\"name\":\"p\",\"version\":1,\"fields\":[" \
	"{\"name\":\"id\",\"type\":\"int64\"}," \
	"{\"name\":\"name\",\"type\":\"string\"}]}"
#define PV2 "{\"name\":\"p\",\"version\":2,\"fields\":[" \
	"{\"name\":\"id\",\"type\":\"int64\"}," \
	"{\"name\":\"name\",\"type\":\"string\"}," \
	"{\"name\":\"score\",\"type\":\"int32\",\"default\":7}," \
	"{\"name\":\"label\",\"type\":\"string\",\"nullable\":true}," \
	"{\"name\":\"flags\",\"type\":{\"array\":\"bool\"},\"default\":[true]}]}"

/* decode through a projection into JSON text, with the JSON visitor */
static int
decode_projected(const codec_schema *reader, const codec_schema *writer,
				 int mode, const uint8_t *buf, size_t len, char **out,
				 codec_decode_info *info, codec_error *err)
{
	codec_projection *proj = codec_projection_build(reader, writer);
	long		n = 0;
	codec_visitor v;
	int			rc;

	counting_visitor(&v, &n);
	rc = codec_decode(writer, proj, mode, buf, len, &v, info, err);
	codec_projection_free(proj);
	*out = NULL;
	return rc;
}

static void
test_projection_upward(void)
{
	codec_schema *v1 = must_parse(PV1);
	codec_schema *v2 = must_parse(PV2);
	size_t		len;
	uint8_t    *buf;
	codec_decode_info info;
	codec_error err;
	char	   *out;
	codec_projection *proj;
	long		n = 0;
	codec_visitor v;

	if (v1 == NULL || v2 == NULL)
		return;
	/* a v1 message read by a v2 reader: defaults for the new fields */
	buf = must_encode(v1, "{\"id\":5,\"name\":\"ann\"}", &len);
	CHECK_INT(decode_projected(v2, v1, CODEC_DECODE_EXACT, buf, len, &out,
							   &info, &err), 0);
	CHECK_INT(info.defaults_used, 3);
	proj = codec_projection_build(v2, v1);
	counting_visitor(&v, &n);
	CHECK_INT(codec_decode(v1, proj, CODEC_DECODE_EXACT, buf, len, &v, &info,
						   &err), 0);
	/* begin + 5 * (name + value) + flags array (begin, 1, end) - 1 + end */
	CHECK_INT(n, 1 + 5 * 2 + 2 + 1);
	codec_projection_free(proj);
	free(buf);
	codec_schema_free(v1);
	codec_schema_free(v2);
}

static void
test_projection_prefix(void)
{
	codec_schema *v1 = must_parse(PV1);
	codec_schema *v2 = must_parse(PV2);
	size_t		len;
	uint8_t    *buf;
	codec_error err;
	long		n = 0;
	codec_visitor v;
	codec_value val;
	codec_decode_info info;

	if (v1 == NULL || v2 == NULL)
		return;
	/* a v2 message read with the v1 layout: the newer fields are ignored */
	buf = must_encode(v2, "{\"id\":5,\"name\":\"bob\",\"score\":1,"
					  "\"label\":\"x\",\"flags\":[]}", &len);
	check_decode_error(v1, buf, len, CODEC_ERR_MALFORMED, 8, "",
					   "schema_version 2 does not match the schema's 1");
	counting_visitor(&v, &n);
	CHECK_INT(codec_decode(v1, NULL, CODEC_DECODE_PREFIX, buf, len, &v,
						   &info, &err), 0);
	CHECK_INT(n, 1 + 2 * 2 + 1);
	CHECK_INT(codec_read_field(v1, CODEC_DECODE_PREFIX, &v1->root.fields[1],
							   buf, len, &val, &err), 0);
	CHECK(val.u.bytes.len == 3 && memcmp(val.u.bytes.ptr, "bob", 3) == 0);
	CHECK_INT(codec_read_field(v1, CODEC_DECODE_EXACT, &v1->root.fields[1],
							   buf, len, &val, &err), CODEC_ERR_MALFORMED);
	/* a v1 message is not a valid v2 message in either mode */
	free(buf);
	buf = must_encode(v1, "{\"id\":5,\"name\":\"bob\"}", &len);
	CHECK_INT(codec_decode(v2, NULL, CODEC_DECODE_PREFIX, buf, len, &v,
						   &info, &err), CODEC_ERR_MALFORMED);
	CHECK_STR(err.message, "field_count 2 is less than the schema's 5");
	free(buf);
	codec_schema_free(v1);
	codec_schema_free(v2);
}

static void
test_projection_by_name(void)
{
	codec_schema *w = must_parse(
		"{\"name\":\"p\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"},"
		"{\"name\":\"b\",\"type\":\"int8\"},{\"name\":\"c\",\"type\":\"string\"},"
		"{\"name\":\"old\",\"type\":\"int8\",\"deprecated\":true}]}");
	codec_schema *r = must_parse(
		"{\"name\":\"p\",\"fields\":[{\"name\":\"c\",\"type\":\"string\"},"
		"{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"b\",\"type\":\"int64\"},"
		"{\"name\":\"z\",\"type\":\"string\",\"default\":\"zz\"}]}");
	codec_projection *proj;
	size_t		len;
	uint8_t    *buf;
	codec_decode_info info;
	codec_error err;
	long		n = 0;
	codec_visitor v;
	char	   *text;

	if (w == NULL || r == NULL)
		return;
	buf = must_encode(w, "{\"a\":\"A\",\"b\":2,\"c\":\"C\",\"old\":9}", &len);
	/* the deprecated field's value is validated but not emitted */
	text = decode_json(w, buf, len, &err);
	CHECK_STR(text, "{\"a\":\"A\",\"b\":2,\"c\":\"C\"}");
	free(text);
	proj = codec_projection_build(r, w);
	counting_visitor(&v, &n);
	CHECK_INT(codec_decode(w, proj, CODEC_DECODE_EXACT, buf, len, &v, &info,
						   &err), 0);
	CHECK_INT(n, 1 + 4 * 2 + 1);
	CHECK_INT(info.defaults_used, 1);
	CHECK(info.dynamic_offsets);
	/* the projection must belong to the writer passed */
	CHECK_INT(codec_decode(r, proj, CODEC_DECODE_EXACT, buf, len, &v, &info,
						   &err), CODEC_ERR_VALUE);
	codec_projection_free(proj);
	free(buf);
	codec_schema_free(w);
	codec_schema_free(r);
}

static void
test_read_field(void)
{
	codec_schema *s = must_parse(NESTED);
	codec_schema *other = must_parse(PV1);
	size_t		len;
	uint8_t    *buf;
	codec_value val;
	codec_error err;
	long		n = 0;
	codec_visitor v;

	if (s == NULL || other == NULL)
		return;
	buf = must_encode(s, "{\"id\":77,\"address\":{\"city\":\"Rome\"},"
					  "\"tags\":[\"t1\",\"t2\"],\"items\":[],\"matrix\":null}", &len);
	CHECK_INT(codec_read_field(s, CODEC_DECODE_EXACT, codec_schema_field(s, "id", 2),
							   buf, len, &val, &err), 0);
	CHECK(!val.isnull && val.u.i == 77);
	CHECK_INT(codec_read_field(s, CODEC_DECODE_EXACT,
							   codec_schema_field(s, "matrix", 6), buf, len,
							   &val, &err), 0);
	CHECK(val.isnull);
	CHECK_INT(codec_read_field(s, CODEC_DECODE_EXACT,
							   codec_schema_field(s, "tags", 4), buf, len, &val,
							   &err), 0);
	CHECK(!val.isnull && val.type->kind == CODEC_ARRAY);
	counting_visitor(&v, &n);
	CHECK_INT(codec_visit_value(&val, &v, &err), 0);
	CHECK_INT(n, 4);
	/* a field of another schema, and a message of another schema */
	CHECK_INT(codec_read_field(s, CODEC_DECODE_EXACT, &other->root.fields[0],
							   buf, len, &val, &err), CODEC_ERR_VALUE);
	CHECK_INT(codec_read_field(other, CODEC_DECODE_EXACT,
							   &other->root.fields[0], buf, len, &val, &err),
			  CODEC_ERR_LINEAGE);
	n = 0;
	CHECK_INT(codec_visit_default(codec_schema_field(s, "codes", 5), &v, &err), 0);
	CHECK_INT(n, 3);
	n = 0;
	CHECK_INT(codec_visit_default(codec_schema_field(s, "id", 2), &v, &err), 0);
	CHECK_INT(n, 1);
	free(buf);
	codec_schema_free(s);
	codec_schema_free(other);
}

static int
stop_at_scalar(void *ctx, const codec_value *v)
{
	(void) ctx;
	(void) v;
	return 1;
}

static void
test_visitor_stop(void)
{
	codec_schema *s = must_parse(PV1);
	size_t		len;
	uint8_t    *buf;
	codec_error err;
	long		n = 0;
	codec_visitor v;

	if (s == NULL)
		return;
	buf = must_encode(s, "{\"id\":1,\"name\":\"x\"}", &len);
	counting_visitor(&v, &n);
	v.scalar = stop_at_scalar;
	CHECK_INT(codec_decode(s, NULL, CODEC_DECODE_EXACT, buf, len, &v, NULL,
						   &err), CODEC_ERR_VISITOR);
	free(buf);
	codec_schema_free(s);
}

/*
 * Found by fuzz_decode: NaN payloads and signs are not kept; every NaN
 * decodes to "NaN" and encodes back as the canonical quiet NaN.
 */
static void
test_nan_payloads(void)
{
	codec_schema *s = must_parse(
		"{\"name\":\"f\",\"fields\":[{\"name\":\"a\",\"type\":\"float64\"},"
		"{\"name\":\"b\",\"type\":\"float32\"}]}");
	size_t		len;
	uint8_t    *buf;
	char	   *text;
	codec_error err;
	static const uint8_t neg_nan64[8] = {1, 0, 0, 0, 0, 0, 0xF8, 0xFF};
	static const uint8_t neg_nan32[4] = {1, 0, 0xC0, 0xFF};
	static const uint8_t nan64[8] = {0, 0, 0, 0, 0, 0, 0xF8, 0x7F};
	static const uint8_t nan32[4] = {0, 0, 0xC0, 0x7F};
	codec_buf	again;

	if (s == NULL)
		return;
	buf = must_encode(s, "{\"a\":\"NaN\",\"b\":\"NaN\"}", &len);
	CHECK_INT(len, 29);
	CHECK(memcmp(buf + 17, nan64, 8) == 0 && memcmp(buf + 25, nan32, 4) == 0);
	memcpy(buf + 17, neg_nan64, 8);
	memcpy(buf + 25, neg_nan32, 4);
	text = decode_json(s, buf, len, &err);
	CHECK_STR(text, "{\"a\":\"NaN\",\"b\":\"NaN\"}");
	CHECK_INT(encode_doc(s, text, &again, &err), 0);
	CHECK(again.len == 29 && memcmp(again.data + 17, nan64, 8) == 0 &&
		  memcmp(again.data + 25, nan32, 4) == 0);
	free(again.data);
	free(text);
	free(buf);
	codec_schema_free(s);
}

#define DV1 "{\"name\":\"dv\",\"version\":1,\"fields\":[" \
	"{\"name\":\"a\",\"type\":\"int32\"}," \
	"{\"name\":\"old\",\"type\":\"string\"}]}"
#define DV2 "{\"name\":\"dv\",\"version\":2,\"fields\":[" \
	"{\"name\":\"a\",\"type\":\"int32\"}," \
	"{\"name\":\"old\",\"type\":\"string\",\"deprecated\":true}," \
	"{\"name\":\"new\",\"type\":\"string\",\"default\":\"n\"}]}"

/*
 * A v2 message leaves the deprecated field null; the v1 layout read in
 * PREFIX mode accepts that null although v1 declared the field
 * non-nullable, while EXACT mode with v2 validates the deprecated value.
 */
static void
test_deprecated(void)
{
	codec_schema *v1 = must_parse(DV1);
	codec_schema *v2 = must_parse(DV2);
	size_t		len;
	uint8_t    *buf;
	codec_error err;
	long		n = 0;
	codec_visitor v;
	codec_value val;
	codec_decode_info info;
	char	   *text;

	if (v1 == NULL || v2 == NULL)
		return;
	CHECK(codec_schema_append_compatible(v1, v2));
	buf = must_encode(v2, "{\"a\":1}", &len);
	text = decode_json(v2, buf, len, &err);
	CHECK_STR(text, "{\"a\":1,\"new\":\"n\"}");
	free(text);
	counting_visitor(&v, &n);
	CHECK_INT(codec_decode(v1, NULL, CODEC_DECODE_PREFIX, buf, len, &v, &info,
						   &err), 0);
	CHECK_INT(codec_read_field(v1, CODEC_DECODE_PREFIX, &v1->root.fields[1],
							   buf, len, &val, &err), 0);
	CHECK(val.isnull);
	free(buf);

	/* a value in a deprecated field is still validated */
	buf = must_encode(v2, "{\"a\":1,\"old\":\"ok\"}", &len);
	text = decode_json(v2, buf, len, &err);
	CHECK_STR(text, "{\"a\":1,\"new\":\"n\"}");
	free(text);
	buf[len - 7] = 0xff;		/* "ok" sits before len 1 + "n" */
	check_decode_error(v2, buf, len, CODEC_ERR_MALFORMED, len - 7, "old",
					   "string is not valid UTF-8");
	free(buf);
	codec_schema_free(v1);
	codec_schema_free(v2);
}

static void
test_dynamic_offsets(void)
{
	codec_schema *s = must_parse(PV2);
	size_t		len;
	uint8_t    *buf;
	codec_error err;
	long		n = 0;
	codec_visitor v;
	codec_decode_info info;

	if (s == NULL)
		return;
	buf = must_encode(s, "{\"id\":1,\"name\":\"x\"}", &len);
	counting_visitor(&v, &n);
	CHECK_INT(codec_decode(s, NULL, CODEC_DECODE_EXACT, buf, len, &v, &info,
						   &err), 0);
	CHECK(info.dynamic_offsets);
	CHECK_INT(info.defaults_used, 0);
	free(buf);
	codec_schema_free(s);
}

const unit_test roundtrip_tests[] = {
	{"roundtrip_all_types", test_all_types},
	{"roundtrip_nulls", test_nulls},
	{"roundtrip_special_floats", test_special_floats},
	{"roundtrip_far_dates", test_far_dates},
	{"roundtrip_strings", test_strings},
	{"roundtrip_nested", test_nested},
	{"roundtrip_design_bytes", test_design_bytes},
	{"encode_errors", test_encode_errors},
	{"projection_upward", test_projection_upward},
	{"projection_prefix", test_projection_prefix},
	{"projection_by_name", test_projection_by_name},
	{"read_field", test_read_field},
	{"visitor_stop", test_visitor_stop},
	{"roundtrip_nan_payloads", test_nan_payloads},
	{"deprecated_fields", test_deprecated},
	{"dynamic_offsets", test_dynamic_offsets},
	{NULL, NULL}
};
