/*-------------------------------------------------------------------------
 *
 * test_text.c
 *	  Text forms of the JSON mapping: timestamps and dates over their full
 *	  ranges, uuids, decimals and exact numbers, shortest floats, base64
 *	  and UTF-8 validation.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "unit.h"

/* the private exact-number parser is tested through the decimal API */

static void
ts_case(int64_t usec, const char *text)
{
	char		buf[CODEC_TIMESTAMP_BUFLEN];
	int64_t		back = 0;

	codec_format_timestamp(usec, buf);
	if (strcmp(buf, text) != 0)
		unit_fail(__FILE__, __LINE__, "timestamp %lld: \"%s\", expected \"%s\"",
				  (long long) usec, buf, text);
	if (codec_parse_timestamp(buf, strlen(buf), &back) != 0 || back != usec)
		unit_fail(__FILE__, __LINE__, "timestamp \"%s\" parses to %lld",
				  buf, (long long) back);
}

static void
test_timestamp_format(void)
{
	ts_case(0, "1970-01-01T00:00:00.000000Z");
	ts_case(-1, "1969-12-31T23:59:59.999999Z");
	ts_case(1795501389123456LL, "2026-11-24T06:23:09.123456Z");
	ts_case(-62135596800000000LL, "0001-01-01T00:00:00.000000Z");
	ts_case(253402300799999999LL, "9999-12-31T23:59:59.999999Z");
	ts_case(253402300800000000LL, "+010000-01-01T00:00:00.000000Z");
	ts_case(-62135596800000001LL, "0000-12-31T23:59:59.999999Z");
	ts_case(-62167219200000001LL, "-000001-12-31T23:59:59.999999Z");
	ts_case(951782400000000LL, "2000-02-29T00:00:00.000000Z");
	ts_case(INT64_MAX, "+294247-01-10T04:00:54.775807Z");
	ts_case(INT64_MIN, "-290308-12-21T19:59:05.224192Z");
}

static void
test_timestamp_sweep(void)
{
	uint64_t	x = 88172645463325252ULL;
	int			i;

	/* xorshift over the whole int64 range, and near the epoch */
	for (i = 0; i < 200000; i++)
	{
		char		buf[CODEC_TIMESTAMP_BUFLEN];
		int64_t		v;
		int64_t		back;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = (int64_t) x;
		if (i & 1)
			v %= INT64_C(10000000000000000);
		codec_format_timestamp(v, buf);
		if (codec_parse_timestamp(buf, strlen(buf), &back) != 0 || back != v)
		{
			unit_fail(__FILE__, __LINE__, "%lld -> %s", (long long) v, buf);
			break;
		}
	}
}

static void
test_timestamp_parse(void)
{
	static const char *const bad[] = {
		"", "2020-01-01", "2020-01-01T00:00:00", "2020-02-30T00:00:00Z",
		"2021-02-29T00:00:00Z", "2020-01-01T24:00:00Z", "2020-01-01T00:60:00Z",
		"2020-01-01T00:00:60Z", "2020-01-01T00:00:00.Z",
		"2020-01-01T00:00:00.1234567Z", "2020-01-01T00:00:00+0100",
		"2020-01-01T00:00:00+24:00", "2020-13-01T00:00:00Z",
		"20-01-01T00:00:00Z", "+02020-01-01T00:00:00Z",
		"2020-01-01T00:00:00Zx", "2020-01-01t00:00:00Z",
		"+999999999-01-01T00:00:00Z", "-290308-12-21T19:59:05.224191Z",
		"+294247-01-10T04:00:54.775808Z", NULL
	};
	int64_t		v;
	int			i;

	CHECK_INT(codec_parse_timestamp("2020-01-01 01:30:00.5+01:30", 27, &v), 0);
	CHECK_INT(v, 1577836800500000LL);
	CHECK_INT(codec_parse_timestamp("1970-01-01T00:00:00-00:01", 25, &v), 0);
	CHECK_INT(v, 60000000);
	CHECK_INT(codec_parse_timestamp("+002020-01-01T00:00:00.000001Z", 30, &v), 0);
	CHECK_INT(v, 1577836800000001LL);
	for (i = 0; bad[i] != NULL; i++)
		if (codec_parse_timestamp(bad[i], strlen(bad[i]), &v) == 0)
			unit_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
}

static void
test_date(void)
{
	char		buf[CODEC_DATE_BUFLEN];
	int32_t		d;
	int32_t		cases[] = {0, -1, 1, 19000, -719162, 2932896, 2932897,
		-719528, -719529, INT32_MAX, INT32_MIN};
	size_t		i;

	codec_format_date(-1, buf);
	CHECK_STR(buf, "1969-12-31");
	codec_format_date(-719162, buf);
	CHECK_STR(buf, "0001-01-01");
	codec_format_date(2932896, buf);
	CHECK_STR(buf, "9999-12-31");
	codec_format_date(2932897, buf);
	CHECK_STR(buf, "+010000-01-01");
	codec_format_date(-719529, buf);
	CHECK_STR(buf, "-000001-12-31");
	codec_format_date(INT32_MAX, buf);
	CHECK_STR(buf, "+5881580-07-11");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		codec_format_date(cases[i], buf);
		if (codec_parse_date(buf, strlen(buf), &d) != 0 || d != cases[i])
			unit_fail(__FILE__, __LINE__, "date %d -> %s", cases[i], buf);
	}
	CHECK_INT(codec_parse_date("2024-02-29", 10, &d), 0);
	CHECK_INT(codec_parse_date("2023-02-29", 10, &d), -1);
	CHECK_INT(codec_parse_date("2023-1-01", 9, &d), -1);
	CHECK_INT(codec_parse_date("+5881580-07-12", 14, &d), -1);
	CHECK_INT(codec_parse_date("2023-01-01T", 11, &d), -1);
}

static void
test_uuid(void)
{
	uint8_t		u[16];
	char		buf[CODEC_UUID_BUFLEN];
	const char *s = "123E4567-e89b-12d3-A456-426614174000";

	CHECK_INT(codec_parse_uuid(s, 36, u), 0);
	CHECK_INT(u[0], 0x12);
	CHECK_INT(u[15], 0x00);
	CHECK_INT(codec_format_uuid(u, buf), 36);
	CHECK_STR(buf, "123e4567-e89b-12d3-a456-426614174000");
	CHECK_INT(codec_parse_uuid("123e4567e89b12d3a456426614174000", 32, u), -1);
	CHECK_INT(codec_parse_uuid("123e4567-e89b-12d3-a456-42661417400g", 36, u),
			  -1);
	CHECK_INT(codec_parse_uuid("123e4567-e89b-12d3-a456_426614174000", 36, u),
			  -1);
}

static void
dec_case(const char *text, int p, int s, int rc, int64_t want)
{
	int64_t		v = 0;

	if (codec_parse_decimal(text, strlen(text), p, s, &v) != rc ||
		(rc == 0 && v != want))
		unit_fail(__FILE__, __LINE__, "decimal(%d,%d) \"%s\": %lld", p, s,
				  text, (long long) v);
}

static void
test_decimal(void)
{
	char		buf[CODEC_DECIMAL_BUFLEN];

	codec_format_decimal(-5, 2, buf);
	CHECK_STR(buf, "-0.05");
	codec_format_decimal(1230, 2, buf);
	CHECK_STR(buf, "12.30");
	codec_format_decimal(0, 3, buf);
	CHECK_STR(buf, "0.000");
	codec_format_decimal(42, 0, buf);
	CHECK_STR(buf, "42");
	codec_format_decimal(-999999999999999999LL, 18, buf);
	CHECK_STR(buf, "-0.999999999999999999");
	codec_format_decimal(INT64_MIN, 0, buf);
	CHECK_STR(buf, "-9223372036854775808");

	dec_case("12.3", 12, 2, 0, 1230);
	dec_case("-0.05", 12, 2, 0, -5);
	dec_case("1.5e1", 4, 1, 0, 150);
	dec_case("150E-2", 4, 2, 0, 150);
	dec_case("0.000", 4, 2, 0, 0);
	dec_case("-0", 4, 2, 0, 0);
	dec_case("12.345", 12, 2, -1, 0);
	dec_case("1.2301", 12, 2, -1, 0);
	dec_case("12.3400", 12, 2, 0, 1234);
	dec_case("100", 4, 2, -1, 0);
	dec_case("99.99", 4, 2, 0, 9999);
	dec_case("999999999999999999", 18, 0, 0, 999999999999999999LL);
	dec_case("1e18", 18, 0, -1, 0);
	dec_case("1e999999999999", 18, 0, -1, 0);
	dec_case("1e-999999999999", 18, 0, -1, 0);
	dec_case("0e999999999999", 18, 0, 0, 0);
	dec_case("01", 4, 0, -1, 0);
	dec_case("1.", 4, 0, -1, 0);
	dec_case(".5", 4, 1, -1, 0);
	dec_case("+1", 4, 0, -1, 0);
	dec_case("1e", 4, 0, -1, 0);
	dec_case("", 4, 0, -1, 0);
	dec_case("0x10", 4, 0, -1, 0);
	dec_case("1", 19, 0, -1, 0);
}

static void
float_case(double f, const char *text)
{
	char		buf[CODEC_FLOAT_BUFLEN];

	codec_format_float64(f, buf);
	if (strcmp(buf, text) != 0)
		unit_fail(__FILE__, __LINE__, "float64 \"%s\", expected \"%s\"", buf,
				  text);
}

static void
test_float(void)
{
	char		buf[CODEC_FLOAT_BUFLEN];

	float_case(0.1, "0.1");
	float_case(1e20, "1e+20");
	float_case(-2.5, "-2.5");
	float_case(100, "100");
	float_case(5e-324, "5e-324");
	float_case(1.7976931348623157e308, "1.7976931348623157e+308");
	float_case(0.30000000000000004, "0.30000000000000004");
	float_case(NAN, "NaN");
	float_case(-INFINITY, "-Infinity");
	codec_format_float32(0.1f, buf);
	CHECK_STR(buf, "0.1");
	codec_format_float32(3.4028235e38f, buf);
	CHECK_STR(buf, "3.4028235e+38");
	codec_format_float32(1.0f / 3.0f, buf);
	CHECK_STR(buf, "0.33333334");
	codec_format_float32(INFINITY, buf);
	CHECK_STR(buf, "Infinity");
}

static void
b64_case(const char *raw, size_t rawlen, const char *text)
{
	char		enc[64];
	uint8_t		dec[64];
	size_t		n;

	CHECK_INT(codec_base64_encoded_len(rawlen), strlen(text));
	n = codec_base64_encode((const uint8_t *) raw, rawlen, enc);
	enc[n] = '\0';
	CHECK_STR(enc, text);
	CHECK_INT(codec_base64_decode(text, strlen(text), dec, &n), 0);
	CHECK(n == rawlen && memcmp(dec, raw, rawlen) == 0);
}

static void
test_base64(void)
{
	static const char *const bad[] = {
		"Zg", "Zg=", "Zg=a", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n",
		"Zm=v", "Zg==Zg==", "Zm9-", NULL
	};
	uint8_t		dec[64];
	size_t		n;
	int			i;

	/* RFC 4648 section 10 test vectors */
	b64_case("", 0, "");
	b64_case("f", 1, "Zg==");
	b64_case("fo", 2, "Zm8=");
	b64_case("foo", 3, "Zm9v");
	b64_case("foob", 4, "Zm9vYg==");
	b64_case("fooba", 5, "Zm9vYmE=");
	b64_case("foobar", 6, "Zm9vYmFy");
	b64_case("\xff\xfe\x00", 3, "//4A");
	for (i = 0; bad[i] != NULL; i++)
		if (codec_base64_decode(bad[i], strlen(bad[i]), dec, &n) == 0)
			unit_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
}

static void
test_utf8(void)
{
	static const struct
	{
		const char *s;
		bool		ok;
	}			cases[] = {
		{"", true}, {"plain ascii, long enough for the fast path", true},
		{"h\xc3\xa9", true}, {"\xe2\x82\xac", true},
		{"\xf0\x9f\x98\x80", true}, {"\xf4\x8f\xbf\xbf", true},
		{"\xef\xbf\xbf", true}, {"\xed\x9f\xbf", true},
		{"\xc0\x80", false}, {"\xc1\xbf", false}, {"\xe0\x80\x80", false},
		{"\xe0\x9f\xbf", false}, {"\xed\xa0\x80", false},
		{"\xed\xbf\xbf", false}, {"\xf0\x80\x80\x80", false},
		{"\xf0\x8f\xbf\xbf", false}, {"\xf4\x90\x80\x80", false},
		{"\xf5\x80\x80\x80", false}, {"\xff", false}, {"\x80", false},
		{"\xc3", false}, {"\xe2\x82", false}, {"\xf0\x9f\x98", false},
		{"abcdefgh\xc3(", false}, {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3", false},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (codec_utf8_valid((const uint8_t *) cases[i].s,
							 strlen(cases[i].s)) != cases[i].ok)
			unit_fail(__FILE__, __LINE__, "utf8 case %zu", i);
	CHECK(codec_utf8_valid((const uint8_t *) "a\0b", 3));
}

const unit_test text_tests[] = {
	{"text_timestamp_format", test_timestamp_format},
	{"text_timestamp_sweep", test_timestamp_sweep},
	{"text_timestamp_parse", test_timestamp_parse},
	{"text_date", test_date},
	{"text_uuid", test_uuid},
	{"text_decimal", test_decimal},
	{"text_float", test_float},
	{"text_base64", test_base64},
	{"text_utf8", test_utf8},
	{NULL, NULL}
};
