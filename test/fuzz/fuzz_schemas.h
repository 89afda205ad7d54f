/*-------------------------------------------------------------------------
 *
 * fuzz_schemas.h
 *	  The fixed schemas the decode and encode fuzzers work with, and the
 *	  seed documents gen_seeds.c turns into corpus files.
 *
 * Decimal precisions stay at or below 15 so that every decimal survives
 * jansson's doubles in the round-trip oracle (decode -> JSON -> encode).
 * Schemas 4 and 5 are versions 1 and 2 of one lineage, so the decode fuzzer
 * also exercises projections and PREFIX mode between them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCHEMAEVO_FUZZ_SCHEMAS_H
#define SCHEMAEVO_FUZZ_SCHEMAS_H

static const char *const fuzz_schema_defs[] = {
	/* 0: the DESIGN.md example */
	"{\"name\":\"orders\",\"version\":1,\"fields\":["
	"{\"name\":\"id\",\"type\":\"int64\"},"
	"{\"name\":\"amount\",\"type\":\"decimal(12,2)\"},"
	"{\"name\":\"currency\",\"type\":{\"enum\":[\"EUR\",\"USD\"]},\"default\":\"EUR\"},"
	"{\"name\":\"note\",\"type\":\"string\",\"nullable\":true},"
	"{\"name\":\"tags\",\"type\":{\"array\":\"string\"}}]}",
	/* 1: every scalar type, all nullable */
	"{\"name\":\"all\",\"version\":3,\"fields\":["
	"{\"name\":\"b\",\"type\":\"bool\",\"nullable\":true},"
	"{\"name\":\"i8\",\"type\":\"int8\",\"nullable\":true},"
	"{\"name\":\"i16\",\"type\":\"int16\",\"nullable\":true},"
	"{\"name\":\"i32\",\"type\":\"int32\",\"nullable\":true},"
	"{\"name\":\"i64\",\"type\":\"int64\",\"nullable\":true},"
	"{\"name\":\"f32\",\"type\":\"float32\",\"nullable\":true},"
	"{\"name\":\"f64\",\"type\":\"float64\",\"nullable\":true},"
	"{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true},"
	"{\"name\":\"d\",\"type\":\"date\",\"nullable\":true},"
	"{\"name\":\"u\",\"type\":\"uuid\",\"nullable\":true},"
	"{\"name\":\"fx\",\"type\":\"fixed(3)\",\"nullable\":true},"
	"{\"name\":\"e\",\"type\":{\"enum\":[\"R\",\"G\",\"B\"]},\"nullable\":true},"
	"{\"name\":\"dec\",\"type\":\"decimal(15,4)\",\"nullable\":true},"
	"{\"name\":\"s\",\"type\":\"string\",\"nullable\":true},"
	"{\"name\":\"by\",\"type\":\"bytes\",\"nullable\":true}]}",
	/* 2: nesting: records in records, arrays of records and arrays */
	"{\"name\":\"nest\",\"version\":1,\"fields\":["
	"{\"name\":\"id\",\"type\":\"int32\"},"
	"{\"name\":\"address\",\"type\":{\"record\":["
	"{\"name\":\"city\",\"type\":\"string\"},"
	"{\"name\":\"geo\",\"type\":{\"record\":[{\"name\":\"lat\",\"type\":\"float64\"},"
	"{\"name\":\"lon\",\"type\":\"float32\"}]},\"nullable\":true},"
	"{\"name\":\"zip\",\"type\":\"int16\",\"default\":0}]}},"
	"{\"name\":\"items\",\"type\":{\"array\":{\"record\":["
	"{\"name\":\"sku\",\"type\":\"string\"},"
	"{\"name\":\"qty\",\"type\":\"int16\"},"
	"{\"name\":\"price\",\"type\":\"decimal(9,2)\",\"nullable\":true}]}}},"
	"{\"name\":\"matrix\",\"type\":{\"array\":{\"array\":\"int8\"}},\"nullable\":true},"
	"{\"name\":\"flags\",\"type\":{\"array\":\"bool\"}},"
	"{\"name\":\"days\",\"type\":{\"array\":\"date\"},\"nullable\":true},"
	"{\"name\":\"blobs\",\"type\":{\"array\":\"bytes\"},\"nullable\":true}]}",
	/* 3: a deprecated field and nine fields (a two-byte bitmap) */
	"{\"name\":\"dep\",\"version\":2,\"fields\":["
	"{\"name\":\"a\",\"type\":\"int8\"},"
	"{\"name\":\"gone\",\"type\":\"string\",\"deprecated\":true},"
	"{\"name\":\"c\",\"type\":\"uuid\",\"nullable\":true},"
	"{\"name\":\"d\",\"type\":\"string\"},"
	"{\"name\":\"e\",\"type\":\"int8\",\"deprecated\":true},"
	"{\"name\":\"f\",\"type\":\"int8\",\"nullable\":true},"
	"{\"name\":\"g\",\"type\":\"int8\",\"nullable\":true},"
	"{\"name\":\"h\",\"type\":\"int8\",\"nullable\":true},"
	"{\"name\":\"i\",\"type\":{\"array\":\"string\"},\"nullable\":true}]}",
	/* 4, 5: two versions of one lineage */
	"{\"name\":\"p\",\"version\":1,\"fields\":["
	"{\"name\":\"id\",\"type\":\"int64\"},"
	"{\"name\":\"name\",\"type\":\"string\"}]}",
	"{\"name\":\"p\",\"version\":2,\"fields\":["
	"{\"name\":\"id\",\"type\":\"int64\"},"
	"{\"name\":\"name\",\"type\":\"string\"},"
	"{\"name\":\"score\",\"type\":\"int32\",\"default\":7},"
	"{\"name\":\"label\",\"type\":\"string\",\"nullable\":true},"
	"{\"name\":\"tags\",\"type\":{\"array\":\"string\"},\"default\":[\"t\"]}]}"
};

#define FUZZ_NSCHEMAS \
	((int) (sizeof(fuzz_schema_defs) / sizeof(fuzz_schema_defs[0])))

/* Seed documents: schema index and JSON text. */
static const struct
{
	int			schema;
	const char *doc;
}			fuzz_seed_docs[] = {
	{0, "{\"id\":42,\"amount\":12.34,\"tags\":[\"new\",\"x\"]}"},
	{0, "{\"id\":-1,\"amount\":-0.05,\"currency\":\"USD\",\"note\":\"h\\u00e9\",\"tags\":[]}"},
	{1, "{\"b\":true,\"i8\":-128,\"i16\":300,\"i32\":-7,\"i64\":9007199254740993,"
	 "\"f32\":0.1,\"f64\":\"NaN\",\"ts\":\"1969-12-31T23:59:59.999999Z\","
	 "\"d\":\"0001-01-01\",\"u\":\"123e4567-e89b-12d3-a456-426614174000\","
	 "\"fx\":\"AQID\",\"e\":\"B\",\"dec\":-12345678901.2345,\"s\":\"\\u20ac\","
	 "\"by\":\"AA==\"}"},
	{1, "{}"},
	{1, "{\"f32\":\"-Infinity\",\"f64\":-0.0,\"ts\":\"+012345-01-01T00:00:00Z\"}"},
	{2, "{\"id\":1,\"address\":{\"city\":\"Oslo\",\"geo\":{\"lat\":59.9,\"lon\":10.75}},"
	 "\"items\":[{\"sku\":\"a\",\"qty\":1,\"price\":9.99},{\"sku\":\"b\",\"qty\":2}],"
	 "\"matrix\":[[1,2],[],[3]],\"flags\":[true,false],\"days\":[\"2024-02-29\"],"
	 "\"blobs\":[\"\",\"/w==\"]}"},
	{2, "{\"id\":2,\"address\":{\"city\":\"\"},\"items\":[],\"flags\":[]}"},
	{3, "{\"a\":1,\"c\":null,\"d\":\"x\",\"f\":2,\"i\":[\"p\",\"q\"]}"},
	{4, "{\"id\":5,\"name\":\"ann\"}"},
	{5, "{\"id\":6,\"name\":\"bob\",\"score\":1,\"label\":\"l\",\"tags\":[]}"},
	{5, "{\"id\":7,\"name\":\"\"}"}
};

#define FUZZ_NSEEDS ((int) (sizeof(fuzz_seed_docs) / sizeof(fuzz_seed_docs[0])))

#endif
