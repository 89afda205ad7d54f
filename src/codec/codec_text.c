/*-------------------------------------------------------------------------
 *
 * codec_text.c
 *	  Text forms of the JSON mapping (DESIGN.md): timestamps, dates, uuids,
 *	  decimals, floats, base64, plus UTF-8 validation and exact number
 *	  parsing.
 *
 * Invariants:
 *	- Every formatter is total over its input type (the full int64
 *	  microsecond and int32 day range included) and its parser accepts what
 *	  it writes, so text round trips are exact.
 *	- Calendar arithmetic is proleptic Gregorian with floor division, so
 *	  values before 1970 and before year 1 are handled like any other.
 *	- Nothing here allocates except float parsing of over-long texts.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec_internal.h"

#define USECS_PER_DAY	INT64_C(86400000000)
#define USECS_PER_SEC	INT64_C(1000000)

const int64_t codec_pow10[19] = {
	INT64_C(1), INT64_C(10), INT64_C(100), INT64_C(1000), INT64_C(10000),
	INT64_C(100000), INT64_C(1000000), INT64_C(10000000),
	INT64_C(100000000), INT64_C(1000000000), INT64_C(10000000000),
	INT64_C(100000000000), INT64_C(1000000000000),
	INT64_C(10000000000000), INT64_C(100000000000000),
	INT64_C(1000000000000000), INT64_C(10000000000000000),
	INT64_C(100000000000000000), INT64_C(1000000000000000000)
};

/* ---- calendar ---- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Writes YYYY-MM-DD, or the expanded form (+/-, six or more digits). */
static size_t
format_ymd(int64_t y, int m, int d, char *buf)
{
	int			n;

	if (y >= 0 && y <= 9999)
		n = sprintf(buf, "%04d-%02d-%02d", (int) y, m, d);
	else
		n = sprintf(buf, "%c%06lld-%02d-%02d", y < 0 ? '-' : '+',
					(long long) (y < 0 ? -y : y), m, d);
	return (size_t) n;
}

size_t
codec_format_date(int32_t days, char *buf)
{
	int64_t		y;
	int			m;
	int			d;

	civil_from_days(days, &y, &m, &d);
	return format_ymd(y, m, d, buf);
}

size_t
codec_format_timestamp(int64_t usec, char *buf)
{
	int64_t		days = usec / USECS_PER_DAY;
	int64_t		rem = usec % USECS_PER_DAY;
	int64_t		secs;
	int64_t		y;
	int			m;
	int			d;
	size_t		n;

	/* floor division without forming days * USECS_PER_DAY (may overflow) */
	if (rem < 0)
	{
		rem += USECS_PER_DAY;
		days--;
	}
	secs = rem / USECS_PER_SEC;
	civil_from_days(days, &y, &m, &d);
	n = format_ymd(y, m, d, buf);
	n += (size_t) sprintf(buf + n, "T%02d:%02d:%02d.%06dZ",
						  (int) (secs / 3600), (int) (secs / 60 % 60),
						  (int) (secs % 60), (int) (rem % USECS_PER_SEC));
	return n;
}

/* Reads exactly n digits at s[*pos]. */
static bool
read_digits(const char *s, size_t len, size_t *pos, int n, int64_t *out)
{
	int64_t		v = 0;
	int			i;

	if (len - *pos < (size_t) n)
		return false;
	for (i = 0; i < n; i++)
	{
		char		c = s[*pos + i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*pos += (size_t) n;
	*out = v;
	return true;
}

static bool
expect_char(const char *s, size_t len, size_t *pos, char c)
{
	if (*pos >= len || s[*pos] != c)
		return false;
	(*pos)++;
	return true;
}

/* Parses YYYY-MM-DD or [+-]YYYYYY[Y..]-MM-DD into days since the epoch. */
static bool
parse_ymd(const char *s, size_t len, size_t *pos, int64_t *days)
{
	int64_t		y;
	int64_t		m;
	int64_t		d;

	if (*pos < len && (s[*pos] == '+' || s[*pos] == '-'))
	{
		bool		neg = s[*pos] == '-';
		size_t		start;
		int			ndig;

		(*pos)++;
		start = *pos;
		while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9')
			(*pos)++;
		ndig = (int) (*pos - start);
		if (ndig < 6 || ndig > 9)
			return false;
		*pos = start;
		if (!read_digits(s, len, pos, ndig, &y))
			return false;
		if (neg)
			y = -y;
	}
	else if (!read_digits(s, len, pos, 4, &y))
		return false;
	if (!expect_char(s, len, pos, '-') ||
		!read_digits(s, len, pos, 2, &m) ||
		!expect_char(s, len, pos, '-') ||
		!read_digits(s, len, pos, 2, &d))
		return false;
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int) m))
		return false;
	*days = days_from_civil(y, (int) m, (int) d);
	return true;
}

int
codec_parse_date(const char *s, size_t len, int32_t *days)
{
	size_t		pos = 0;
	int64_t		v;

	if (!parse_ymd(s, len, &pos, &v) || pos != len ||
		v < INT32_MIN || v > INT32_MAX)
		return -1;
	*days = (int32_t) v;
	return 0;
}

int
codec_parse_timestamp(const char *s, size_t len, int64_t *usec)
{
	size_t		pos = 0;
	int64_t		days;
	int64_t		hh;
	int64_t		mi;
	int64_t		ss;
	int64_t		frac = 0;
	int64_t		offset = 0;
	int64_t		secs;
	int64_t		v;
	int			nfrac = 0;

	if (!parse_ymd(s, len, &pos, &days))
		return -1;
	if (pos >= len || (s[pos] != 'T' && s[pos] != ' '))
		return -1;
	pos++;
	if (!read_digits(s, len, &pos, 2, &hh) ||
		!expect_char(s, len, &pos, ':') ||
		!read_digits(s, len, &pos, 2, &mi) ||
		!expect_char(s, len, &pos, ':') ||
		!read_digits(s, len, &pos, 2, &ss))
		return -1;
	if (hh > 23 || mi > 59 || ss > 59)
		return -1;
	if (pos < len && s[pos] == '.')
	{
		pos++;
		while (pos < len && s[pos] >= '0' && s[pos] <= '9' && nfrac < 7)
		{
			frac = frac * 10 + (s[pos] - '0');
			pos++;
			nfrac++;
		}
		if (nfrac < 1 || nfrac > 6)
			return -1;
		frac *= codec_pow10[6 - nfrac];
	}
	if (pos < len && s[pos] == 'Z')
		pos++;
	else if (pos < len && (s[pos] == '+' || s[pos] == '-'))
	{
		int			sign = s[pos] == '-' ? -1 : 1;
		int64_t		oh;
		int64_t		om;

		pos++;
		if (!read_digits(s, len, &pos, 2, &oh) ||
			!expect_char(s, len, &pos, ':') ||
			!read_digits(s, len, &pos, 2, &om) || oh > 23 || om > 59)
			return -1;
		offset = sign * (oh * 3600 + om * 60);
	}
	else
		return -1;
	if (pos != len)
		return -1;

	/* |days| < 2^40 here (at most nine year digits), so this cannot wrap */
	secs = days * 86400 + hh * 3600 + mi * 60 + ss - offset;
	/* borrow a second so that the product stays in range at INT64_MIN */
	if (secs < 0 && frac > 0)
	{
		secs++;
		frac -= USECS_PER_SEC;
	}
	if (__builtin_mul_overflow(secs, USECS_PER_SEC, &v) ||
		__builtin_add_overflow(v, frac, &v))
		return -1;
	*usec = v;
	return 0;
}

/* ---- uuid ---- */

size_t
codec_format_uuid(const uint8_t *uuid, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t		n = 0;
	int			i;

	for (i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[n++] = '-';
		buf[n++] = hex[uuid[i] >> 4];
		buf[n++] = hex[uuid[i] & 15];
	}
	buf[n] = '\0';
	return n;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
codec_parse_uuid(const char *s, size_t len, uint8_t *uuid)
{
	size_t		pos = 0;
	int			i;

	if (len != 36)
		return -1;
	for (i = 0; i < 16; i++)
	{
		int			hi;
		int			lo;

		if (i == 4 || i == 6 || i == 8 || i == 10)
		{
			if (s[pos] != '-')
				return -1;
			pos++;
		}
		hi = hexval(s[pos]);
		lo = hexval(s[pos + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		uuid[i] = (uint8_t) (hi << 4 | lo);
		pos += 2;
	}
	return 0;
}

/* ---- decimals and exact numbers ---- */

size_t
codec_format_decimal(int64_t unscaled, int scale, char *buf)
{
	char		digits[24];
	uint64_t	mag;
	int			nd = 0;
	size_t		n = 0;
	int			i;

	mag = unscaled < 0 ? (uint64_t) 0 - (uint64_t) unscaled : (uint64_t) unscaled;
	do
	{
		digits[nd++] = (char) ('0' + mag % 10);
		mag /= 10;
	} while (mag != 0);
	while (nd <= scale)
		digits[nd++] = '0';
	if (unscaled < 0)
		buf[n++] = '-';
	for (i = nd - 1; i >= 0; i--)
	{
		buf[n++] = digits[i];
		if (i == scale && i > 0)
			buf[n++] = '.';
	}
	buf[n] = '\0';
	return n;
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
bool
codec_json_number_valid(const char *s, size_t len)
{
	size_t		i = 0;
	size_t		start;

	if (i < len && s[i] == '-')
		i++;
	if (i >= len)
		return false;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return false;
	if (i < len && s[i] == '.')
	{
		start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return false;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return false;
	}
	return i == len;
}

codec_numstatus
codec_parse_scaled(const char *s, size_t len, int scale, int64_t *out)
{
	bool		neg = false;
	size_t		i = 0;
	size_t		first = 0;		/* first significant digit, or none */
	size_t		last = 0;		/* one past the last nonzero digit */
	bool		any = false;
	int64_t		exp10 = 0;		/* value = digits * 10^exp10 */
	int64_t		e = 0;
	bool		eneg = false;
	int64_t		k;
	uint64_t	mag = 0;
	size_t		j;
	size_t		intend;

	if (!codec_json_number_valid(s, len))
		return CODEC_NUM_SYNTAX;
	if (s[0] == '-')
	{
		neg = true;
		i++;
	}
	/* the digits run from i to the end of the mantissa, skipping '.' */
	intend = i;
	while (intend < len && s[intend] >= '0' && s[intend] <= '9')
		intend++;
	for (j = i; j < len && s[j] != 'e' && s[j] != 'E'; j++)
	{
		if (s[j] == '.')
			continue;
		if (s[j] != '0')
		{
			if (!any)
				first = j;
			any = true;
			last = j + 1;
		}
	}
	if (j < len)
	{
		j++;
		if (s[j] == '+' || s[j] == '-')
			eneg = s[j++] == '-';
		for (; j < len; j++)
		{
			if (e < INT64_C(1000000000))
				e = e * 10 + (s[j] - '0');
		}
		if (eneg)
			e = -e;
	}
	if (!any)
	{
		*out = 0;
		return CODEC_NUM_OK;
	}

	/*
	 * The significant digits are s[first, last) minus any '.'; the last one
	 * sits at decimal position (intend - last) (adjusted for the point).
	 */
	if (last <= intend)
		exp10 = (int64_t) (intend - last);
	else
		exp10 = -(int64_t) (last - intend - 1);
	exp10 += e;
	k = exp10 + scale;
	if (k < 0)
		return CODEC_NUM_FRACTION;
	for (j = first; j < last; j++)
	{
		if (s[j] == '.')
			continue;
		if (mag > (UINT64_MAX - 9) / 10)
			return CODEC_NUM_RANGE;
		mag = mag * 10 + (uint64_t) (s[j] - '0');
	}
	for (; k > 0; k--)
	{
		if (mag > UINT64_MAX / 10)
			return CODEC_NUM_RANGE;
		mag *= 10;
	}
	if (neg)
	{
		if (mag > (uint64_t) INT64_MAX + 1)
			return CODEC_NUM_RANGE;
		*out = (int64_t) (0 - mag);
	}
	else
	{
		if (mag > (uint64_t) INT64_MAX)
			return CODEC_NUM_RANGE;
		*out = (int64_t) mag;
	}
	return CODEC_NUM_OK;
}

int
codec_parse_decimal(const char *s, size_t len, int precision, int scale,
					int64_t *unscaled)
{
	int64_t		v;

	if (precision < 1 || precision > 18 || scale < 0 || scale > precision)
		return -1;
	if (codec_parse_scaled(s, len, scale, &v) != CODEC_NUM_OK)
		return -1;
	if (v >= codec_pow10[precision] || v <= -codec_pow10[precision])
		return -1;
	*unscaled = v;
	return 0;
}

/* ---- floats ---- */

static size_t
format_special(double f, char *buf)
{
	const char *s = isnan(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity";

	strcpy(buf, s);
	return strlen(s);
}

/*
 * Shortest text that reads back to the same value (digits found by
 * increasing the precision of %e until strtod/strtof round-trips), laid out
 * like PostgreSQL's float8out/float4out: plain notation for decimal
 * exponents -4 .. maxexp-1, else d.ddde+XX.
 */
static size_t
format_shortest(double f, bool is32, char *buf)
{
	char		tmp[40];
	char		digits[24];
	int			nd = 0;
	int			exp10;
	int			p;
	int			maxexp = is32 ? 6 : 15;
	size_t		n = 0;
	const char *q;
	int			i;

	if (!isfinite(f))
		return format_special(f, buf);
	for (p = 1; p <= (is32 ? 9 : 17); p++)
	{
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, f);
		if (is32 ? strtof(tmp, NULL) == (float) f : strtod(tmp, NULL) == f)
			break;
	}
	/* tmp is [-]d[.ddd]e[+-]XX */
	q = tmp;
	if (*q == '-')
		buf[n++] = *q++;
	for (; *q != 'e'; q++)
		if (*q != '.')
			digits[nd++] = *q;
	exp10 = atoi(q + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (exp10 < -4 || exp10 >= maxexp)
	{
		buf[n++] = digits[0];
		if (nd > 1)
		{
			buf[n++] = '.';
			memcpy(buf + n, digits + 1, nd - 1);
			n += nd - 1;
		}
		n += (size_t) sprintf(buf + n, "e%c%02d", exp10 < 0 ? '-' : '+',
							  exp10 < 0 ? -exp10 : exp10);
	}
	else if (exp10 < 0)
	{
		buf[n++] = '0';
		buf[n++] = '.';
		for (i = -1; i > exp10; i--)
			buf[n++] = '0';
		memcpy(buf + n, digits, nd);
		n += nd;
	}
	else
	{
		for (i = 0; i < nd || i <= exp10; i++)
		{
			if (i == exp10 + 1)
				buf[n++] = '.';
			buf[n++] = i < nd ? digits[i] : '0';
		}
	}
	buf[n] = '\0';
	return n;
}

size_t
codec_format_float64(double f, char *buf)
{
	return format_shortest(f, false, buf);
}

size_t
codec_format_float32(float f, char *buf)
{
	return format_shortest(f, true, buf);
}

/* ---- base64 (RFC 4648 section 4, padded) ---- */

static const char b64chars[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
codec_base64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

size_t
codec_base64_encode(const uint8_t *src, size_t len, char *dst)
{
	size_t		i = 0;
	size_t		n = 0;

	for (; len - i >= 3; i += 3)
	{
		uint32_t	v = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8 |
			src[i + 2];

		dst[n++] = b64chars[v >> 18];
		dst[n++] = b64chars[(v >> 12) & 63];
		dst[n++] = b64chars[(v >> 6) & 63];
		dst[n++] = b64chars[v & 63];
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) src[i] << 16;

		dst[n++] = b64chars[v >> 18];
		dst[n++] = b64chars[(v >> 12) & 63];
		dst[n++] = '=';
		dst[n++] = '=';
	}
	else if (len - i == 2)
	{
		uint32_t	v = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8;

		dst[n++] = b64chars[v >> 18];
		dst[n++] = b64chars[(v >> 12) & 63];
		dst[n++] = b64chars[(v >> 6) & 63];
		dst[n++] = '=';
	}
	return n;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict decoder: length a multiple of 4, '=' only as final padding, no
 * whitespace, unused bits of the last quantum zero (so the text form of
 * every byte string is unique).  dst needs len / 4 * 3 bytes.
 */
int
codec_base64_decode(const char *s, size_t len, uint8_t *dst, size_t *dstlen)
{
	size_t		i;
	size_t		n = 0;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4)
	{
		int			a = b64val((unsigned char) s[i]);
		int			b = b64val((unsigned char) s[i + 1]);
		int			c = b64val((unsigned char) s[i + 2]);
		int			d = b64val((unsigned char) s[i + 3]);
		bool		lastq = i + 4 == len;

		if (a < 0 || b < 0)
			return -1;
		if (c < 0 || d < 0)
		{
			if (!lastq || s[i + 3] != '=')
				return -1;
			if (c < 0)
			{
				/* "xx==": one byte, low 4 bits of b unused */
				if (s[i + 2] != '=' || (b & 15) != 0)
					return -1;
				dst[n++] = (uint8_t) (a << 2 | b >> 4);
			}
			else
			{
				/* "xxx=": two bytes, low 2 bits of c unused */
				if ((c & 3) != 0)
					return -1;
				dst[n++] = (uint8_t) (a << 2 | b >> 4);
				dst[n++] = (uint8_t) ((b & 15) << 4 | c >> 2);
			}
			break;
		}
		dst[n++] = (uint8_t) (a << 2 | b >> 4);
		dst[n++] = (uint8_t) ((b & 15) << 4 | c >> 2);
		dst[n++] = (uint8_t) ((c & 3) << 6 | d);
	}
	*dstlen = n;
	return 0;
}

/* ---- UTF-8 ---- */

/*
 * Well-formed UTF-8 per Unicode table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF.  ASCII runs are skipped eight bytes
 * at a time.
 */
bool
codec_utf8_valid(const uint8_t *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		uint8_t		c;

		if (len - i >= 8)
		{
			uint64_t	w;

			memcpy(&w, s + i, 8);
			if ((w & UINT64_C(0x8080808080808080)) == 0)
			{
				i += 8;
				continue;
			}
		}
		c = s[i];
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
		{
			if (len - i < 2 || (s[i + 1] & 0xC0) != 0x80)
				return false;
			i += 2;
		}
		else if (c >= 0xE0 && c <= 0xEF)
		{
			uint8_t		lo = 0x80;
			uint8_t		hi = 0xBF;

			if (c == 0xE0)
				lo = 0xA0;		/* overlong */
			else if (c == 0xED)
				hi = 0x9F;		/* surrogates */
			if (len - i < 3 || s[i + 1] < lo || s[i + 1] > hi ||
				(s[i + 2] & 0xC0) != 0x80)
				return false;
			i += 3;
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			uint8_t		lo = 0x80;
			uint8_t		hi = 0xBF;

			if (c == 0xF0)
				lo = 0x90;		/* overlong */
			else if (c == 0xF4)
				hi = 0x8F;		/* above U+10FFFF */
			if (len - i < 4 || s[i + 1] < lo || s[i + 1] > hi ||
				(s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80)
				return false;
			i += 4;
		}
		else
			return false;
	}
	return true;
}
