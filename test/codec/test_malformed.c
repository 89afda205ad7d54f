/*-------------------------------------------------------------------------
 *
 * test_malformed.c
 *	  Every malformed-input case of DESIGN.md, each with its error code,
 *	  byte offset, field path and message; truncation and mutation sweeps.
 *
 * The reference message M below is laid out as follows (offsets in bytes):
 *	 0 header, 16 bitmap (7 fields, bit 7 is padding), 17 b, 18 e, 20 d,
 *	 28 n (null), 32 s: len 3 "h\xc3\xa9" at 36, 39 tags: len 15, body at
 *	 43 (count 2; "x" prefix 47 byte 51; "yz" prefix 52 bytes 56..57),
 *	 58 address: len 19, body at 62 (field_count 62, fixed_length 64,
 *	 bitmap 68, zip 69, city prefix 73, "Oslo" 77..80), 81 end.
 *
 *-------------------------------------------------------------------------
 */
#include "unit.h"

#define MSCHEMA "{\"name\":\"m\",\"version\":1,\"fields\":[" \
	"{\"name\":\"b\",\"type\":\"bool\"}," \
	"{\"name\":\"e\",\"type\":{\"enum\":[\"A\",\"B\"]}}," \
	"{\"name\":\"d\",\"type\":\"decimal(4,2)\"}," \
	"{\"name\":\"n\",\"type\":\"int32\",\"nullable\":true}," \
	"{\"name\":\"s\",\"type\":\"string\"}," \
	"{\"name\":\"tags\",\"type\":{\"array\":\"string\"}}," \
	"{\"name\":\"address\",\"type\":{\"record\":[" \
	"{\"name\":\"city\",\"type\":\"string\"},{\"name\":\"zip\",\"type\":\"int32\"}]}}]}"

#define MDOC "{\"b\":true,\"e\":\"B\",\"d\":12.34,\"n\":null,\"s\":\"h\\u00e9\"," \
	"\"tags\":[\"x\",\"yz\"],\"address\":{\"city\":\"Oslo\",\"zip\":150}}"

static codec_schema *mschema;
static uint8_t *mbuf;
static size_t mlen;
static uint8_t work[256];

/* A fresh copy of the reference message in `work`. */
static uint8_t *
fresh(void)
{
	if (mschema == NULL)
	{
		mschema = must_parse(MSCHEMA);
		mbuf = must_encode(mschema, MDOC, &mlen);
	}
	memcpy(work, mbuf, mlen);
	return work;
}

#define BAD(len, off, path, msg) \
	check_decode_error(mschema, work, (len), CODEC_ERR_MALFORMED, (off), \
					   (path), (msg))

static void
test_reference_message(void)
{
	codec_error err;
	char	   *text;

	fresh();
	CHECK_INT(mlen, 81);
	text = decode_json(mschema, work, mlen, &err);
	CHECK_STR(text, "{\"b\":true,\"e\":\"B\",\"d\":12.34,\"n\":null,"
			  "\"s\":\"h\xc3\xa9\",\"tags\":[\"x\",\"yz\"],"
			  "\"address\":{\"city\":\"Oslo\",\"zip\":150}}");
	free(text);
	check_roundtrip(mschema, MDOC, NULL);
}

static void
test_header_errors(void)
{
	fresh();
	BAD(0, 0, "", "message of 0 bytes is shorter than the 16-byte header");
	BAD(15, 0, "", "message of 15 bytes is shorter than the 16-byte header");
	work[0] = 0xE6;
	BAD(mlen, 0, "", "bad magic byte 0xe6 (expected 0xe5)");
	fresh()[1] = 0x01;
	BAD(mlen, 1, "", "unknown flags 0x01");
	fresh()[4] ^= 1;
	check_decode_error(mschema, work, mlen, CODEC_ERR_LINEAGE, 4, "",
					   "message belongs to another schema (name hash e80c2f79, "
					   "\"m\" has e80c2f78)");
	fresh()[2] = 8;
	BAD(mlen, 2, "", "field_count 8 does not match the schema's 7");
	fresh()[2] = 0xff;
	work[3] = 0xff;
	BAD(mlen, 16, "", "null bitmap of 8192 bytes exceeds the 65 bytes remaining");
	fresh()[12] = 16;
	BAD(mlen, 12, "", "fixed_length 16 does not match the schema's 15");
	fresh()[14] = 1;
	BAD(mlen, 12, "", "fixed area of 65551 bytes exceeds the 64 bytes remaining");
	fresh()[16] |= 0x80;
	BAD(mlen, 16, "", "unused bits of the null bitmap are set");
}

static void
test_value_errors(void)
{
	fresh()[17] = 2;
	BAD(mlen, 17, "b", "bool byte is 2, not 0 or 1");
	fresh()[18] = 2;
	BAD(mlen, 18, "e", "enum index 2 is out of range (2 symbols)");
	fresh()[20] = 0x10;
	work[21] = 0x27;			/* 10000 */
	BAD(mlen, 20, "d", "decimal exceeds precision 4");
	fresh()[16] |= 0x01;
	BAD(mlen, 16, "b", "null bit set for non-nullable field");
	fresh()[28] = 1;
	BAD(mlen, 28, "n", "null field has non-zero bytes");
	fresh()[38] = 0x41;
	BAD(mlen, 36, "s", "string is not valid UTF-8");
	fresh()[56] = 0xff;
	BAD(mlen, 56, "tags[1]", "string is not valid UTF-8");
	fresh()[77] = 0xC0;
	BAD(mlen, 77, "address.city", "string is not valid UTF-8");
	fresh()[56] = 0x00;
	BAD(mlen, 56, "tags[1]", "string contains U+0000");
}

static void
test_length_errors(void)
{
	fresh()[32] = 0xE8;
	work[33] = 0x03;			/* 1000 */
	BAD(mlen, 32, "s", "length 1000 exceeds the 45 bytes remaining");
	fresh()[39] = 0xff;
	work[40] = 0xff;
	work[41] = 0xff;
	work[42] = 0xff;
	BAD(mlen, 39, "tags", "length 4294967295 exceeds the 38 bytes remaining");
	/* array count checked against the bytes before anything else */
	fresh()[43] = 0xff;
	work[44] = 0xff;
	work[45] = 0x00;
	BAD(mlen, 43, "tags", "array of 65535 elements needs 262140 bytes, 11 remain");
	fresh()[46] = 0x10;
	BAD(mlen, 43, "tags", "array count 268435458 exceeds the limit of 67108864");
	fresh()[52] = 3;
	BAD(mlen, 52, "tags[1]", "length 3 exceeds the 2 bytes remaining");
	fresh()[43] = 1;
	BAD(mlen, 52, "tags", "6 trailing bytes after array elements");
	fresh()[62] = 3;
	BAD(mlen, 62, "address", "record field_count 3 does not match the schema's 2");
	fresh()[64] = 5;
	BAD(mlen, 64, "address", "record fixed_length 5 does not match the schema's 4");
	fresh()[68] = 0x04;
	BAD(mlen, 68, "address", "unused bits of the null bitmap are set");
	fresh()[68] = 0x01;
	BAD(mlen, 68, "address.city", "null bit set for non-nullable field");
	fresh()[73] = 3;
	BAD(mlen, 80, "address", "1 trailing bytes after the variable area");
	fresh()[mlen] = 0;
	BAD(mlen + 1, 81, "", "1 trailing bytes after the variable area");
	/* a null variable field must be empty */
	{
		codec_schema *s = must_parse(
			"{\"name\":\"v\",\"fields\":[{\"name\":\"s\",\"type\":\"string\","
			"\"nullable\":true}]}");
		uint8_t		m[] = {0xE5, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0x01, 1, 0, 0, 0, 'x'};
		uint32_t	h = s ? s->name_hash : 0;

		memcpy(m + 4, &h, 4);
		check_decode_error(s, m, sizeof(m), CODEC_ERR_MALFORMED, 17, "s",
						   "null field has length 1");
		codec_schema_free(s);
	}
}

/* Every single-byte change either fails cleanly or re-encodes exactly. */
static void
test_mutation_sweep(void)
{
	size_t		i;
	int			v;
	long		accepted = 0;

	fresh();
	for (i = 0; i < mlen; i++)
	{
		for (v = 0; v < 256; v += 1)
		{
			uint8_t    *copy;
			char	   *text;
			codec_error err;
			codec_buf	again;

			if (v == mbuf[i])
				continue;
			copy = malloc(mlen);
			memcpy(copy, mbuf, mlen);
			copy[i] = (uint8_t) v;
			text = decode_json(mschema, copy, mlen, &err);
			if (text != NULL)
			{
				accepted++;
				if (encode_doc(mschema, text, &again, &err) != 0 ||
					again.len != mlen || memcmp(again.data, copy, mlen) != 0)
					unit_fail(__FILE__, __LINE__,
							  "byte %zu = %d decodes to %s but does not "
							  "re-encode", i, v, text);
				free(again.data);
				free(text);
			}
			else if (err.code != CODEC_ERR_MALFORMED &&
					 err.code != CODEC_ERR_LINEAGE)
				unit_fail(__FILE__, __LINE__, "byte %zu = %d: code %d", i, v,
						  err.code);
			free(copy);
		}
	}
	CHECK(accepted > 0);
}

static void
test_cleanup(void)
{
	free(mbuf);
	codec_schema_free(mschema);
	mbuf = NULL;
	mschema = NULL;
}

const unit_test malformed_tests[] = {
	{"malformed_reference_message", test_reference_message},
	{"malformed_header", test_header_errors},
	{"malformed_values", test_value_errors},
	{"malformed_lengths", test_length_errors},
	{"malformed_mutation_sweep", test_mutation_sweep},
	{"malformed_cleanup", test_cleanup},
	{NULL, NULL}
};
