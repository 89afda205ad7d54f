/*-------------------------------------------------------------------------
 *
 * unit.h
 *	  A tiny assertion framework and shared helpers for the codec tests.
 *
 * Each test is a void function; CHECK records a failure and goes on, so a
 * test reports every broken expectation.  A test passes when it recorded no
 * failure.  Test files export a NULL-terminated table of unit_test.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCHEMAEVO_UNIT_H
#define SCHEMAEVO_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

typedef struct unit_test
{
	const char *name;
	void		(*fn) (void);
} unit_test;

extern int	unit_failures;

extern void unit_fail(const char *file, int line, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_INT(a, b) \
	do { \
		long long _a = (long long) (a); \
		long long _b = (long long) (b); \
		if (_a != _b) \
			unit_fail(__FILE__, __LINE__, "%s == %lld, expected %lld", \
					  #a, _a, _b); \
	} while (0)

#define CHECK_STR(a, b) \
	do { \
		const char *_a = (a); \
		const char *_b = (b); \
		if (_a == NULL || strcmp(_a, _b) != 0) \
			unit_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", \
					  #a, _a ? _a : "(null)", _b); \
	} while (0)

/* helpers.c */
extern codec_schema *must_parse(const char *json);
extern int	encode_doc(const codec_schema *s, const char *doc,
					   codec_buf *out, codec_error *err);
extern uint8_t *must_encode(const codec_schema *s, const char *doc,
							size_t *len);
extern char *decode_json(const codec_schema *s, const uint8_t *buf,
						 size_t len, codec_error *err);
extern void check_roundtrip(const codec_schema *s, const char *doc,
							const char *expect);
extern void check_decode_error(const codec_schema *s, const uint8_t *buf,
							   size_t len, int code, size_t offset,
							   const char *path, const char *message);
extern void check_encode_error(const codec_schema *s, const char *doc,
							   int code, const char *path,
							   const char *message);
extern void check_prefixes_fail(const codec_schema *s, const uint8_t *buf,
								size_t len);
extern void counting_visitor(codec_visitor *v, long *counter);

/* the test tables */
extern const unit_test schema_tests[];
extern const unit_test text_tests[];
extern const unit_test roundtrip_tests[];
extern const unit_test malformed_tests[];

#endif
