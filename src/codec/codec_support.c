/*-------------------------------------------------------------------------
 *
 * codec_support.c
 *	  Error reporting, field paths, a growable string and the schema arena.
 *
 * Invariants:
 *	- codec_fail() never allocates and always NUL-terminates path and
 *	  message, truncating long texts at a character boundary (both are
 *	  valid UTF-8), so it is safe on the decoder's allocation-free paths.
 *	- A codec_strbuf that failed to grow stays failed; later appends are
 *	  no-ops and codec_sb_finish() returns NULL, so callers check once.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "codec_internal.h"

#define CODEC_PATH_MAX_NODES 128

/*
 * Renders a path chain as "a.b[2].c" into out (always NUL-terminated,
 * truncated if too long).
 */
void
codec_path_render(const codec_path *p, char *out, size_t outlen)
{
	const codec_path *nodes[CODEC_PATH_MAX_NODES];
	int			n = 0;
	size_t		pos = 0;
	int			i;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (; p != NULL && n < CODEC_PATH_MAX_NODES; p = p->up)
		nodes[n++] = p;
	for (i = n - 1; i >= 0 && pos + 1 < outlen; i--)
	{
		const codec_path *node = nodes[i];
		int			w;

		if (node->name != NULL)
		{
			size_t		nl = node->name_len;

			if (pos > 0 && node->name_len > 0)
				out[pos++] = '.';
			if (nl > outlen - 1 - pos)
				nl = outlen - 1 - pos;
			memcpy(out + pos, node->name, nl);
			pos += nl;
			out[pos] = '\0';
		}
		else
		{
			w = snprintf(out + pos, outlen - pos, "[%u]", node->index);
			if (w < 0 || (size_t) w >= outlen - pos)
			{
				out[pos] = '\0';
				break;
			}
			pos += (size_t) w;
		}
	}
}

/* The length of the UTF-8 sequence lead byte `c` starts; 0 if none. */
static size_t
utf8_sequence_length(uint8_t c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;				/* a continuation byte, or overlong */
	if (c < 0xE0)
		return 2;
	if (c < 0xF0)
		return 3;
	if (c < 0xF5)
		return 4;
	return 0;
}

/*
 * Drops from `s` every byte that is not part of a well-formed UTF-8
 * character.  Texts are quoted in messages at a byte count (a "%.40s", the
 * size of path and message), which can cut a character short, and a
 * message reaches clients as text that must be valid.
 */
static void
utf8_repair(char *s)
{
	size_t		len = strlen(s);
	size_t		i = 0;
	size_t		j = 0;

	while (i < len)
	{
		size_t		n = utf8_sequence_length((uint8_t) s[i]);

		if (n > 0 && n <= len - i &&
			codec_utf8_valid((const uint8_t *) s + i, n))
		{
			memmove(s + j, s + i, n);
			j += n;
			i += n;
		}
		else
			i++;
	}
	s[j] = '\0';
}

int
codec_vfail(codec_error *err, codec_errcode code, size_t offset,
			const codec_path *path, const char *fmt, va_list ap)
{
	if (err == NULL)
		return code;
	err->code = code;
	err->offset = offset;
	codec_path_render(path, err->path, sizeof(err->path));
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	utf8_repair(err->path);
	utf8_repair(err->message);
	return code;
}

int
codec_fail(codec_error *err, codec_errcode code, size_t offset,
		   const codec_path *path, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	codec_vfail(err, code, offset, path, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- codec_strbuf ---- */

void
codec_sb_init(codec_strbuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->failed = false;
}

/* Makes room for `more` bytes plus a terminating NUL. */
bool
codec_sb_reserve(codec_strbuf *sb, size_t more)
{
	size_t		need;
	size_t		cap;
	char	   *p;

	if (sb->failed)
		return false;
	if (more > SIZE_MAX / 2 - sb->len)
	{
		sb->failed = true;
		return false;
	}
	need = sb->len + more + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap < 128 ? 128 : sb->cap;
	while (cap < need)
		cap *= 2;
	p = realloc(sb->data, cap);
	if (p == NULL)
	{
		sb->failed = true;
		return false;
	}
	sb->data = p;
	sb->cap = cap;
	return true;
}

void
codec_sb_append(codec_strbuf *sb, const char *s, size_t len)
{
	if (!codec_sb_reserve(sb, len))
		return;
	memcpy(sb->data + sb->len, s, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void
codec_sb_puts(codec_strbuf *sb, const char *s)
{
	codec_sb_append(sb, s, strlen(s));
}

void
codec_sb_printf(codec_strbuf *sb, const char *fmt,...)
{
	char		tmp[128];
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* only used for short numeric texts */
	if (n < 0 || (size_t) n >= sizeof(tmp))
	{
		sb->failed = true;
		return;
	}
	codec_sb_append(sb, tmp, (size_t) n);
}

/* Appends s as a quoted JSON string; s is valid UTF-8. */
void
codec_sb_json_string(codec_strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t		i;
	size_t		run = 0;

	codec_sb_append(sb, "\"", 1);
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[6];
		size_t		elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		codec_sb_append(sb, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c)
		{
			case '"':
				esc[1] = '"';
				break;
			case '\\':
				esc[1] = '\\';
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			default:
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				elen = 6;
				break;
		}
		codec_sb_append(sb, esc, elen);
	}
	codec_sb_append(sb, s + run, len - run);
	codec_sb_append(sb, "\"", 1);
}

char *
codec_sb_finish(codec_strbuf *sb)
{
	if (sb->failed || !codec_sb_reserve(sb, 0))
	{
		free(sb->data);
		sb->data = NULL;
		return NULL;
	}
	sb->data[sb->len] = '\0';
	return sb->data;
}

/* ---- schema arena ---- */

struct codec_arena_chunk
{
	codec_arena_chunk *next;
	size_t		used;
	size_t		cap;
};

#define CODEC_ARENA_ALIGN	16
#define CODEC_ARENA_HDR \
	((sizeof(codec_arena_chunk) + CODEC_ARENA_ALIGN - 1) & \
	 ~(size_t) (CODEC_ARENA_ALIGN - 1))
#define CODEC_ARENA_CHUNK	8192

/* Zeroed, 16-byte aligned memory owned by the schema; NULL when out of memory. */
void *
codec_arena_alloc(codec_schema_impl *impl, size_t size)
{
	codec_arena_chunk *c = impl->arena;
	uint8_t    *p;

	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + CODEC_ARENA_ALIGN - 1) & ~(size_t) (CODEC_ARENA_ALIGN - 1);
	if (c == NULL || c->cap - c->used < size)
	{
		size_t		cap = size > CODEC_ARENA_CHUNK ? size : CODEC_ARENA_CHUNK;

		c = malloc(CODEC_ARENA_HDR + cap);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->cap = cap;
		/* keep the partly used chunk first if the new one is a big one-off */
		if (impl->arena != NULL && size > CODEC_ARENA_CHUNK)
		{
			c->next = impl->arena->next;
			impl->arena->next = c;
		}
		else
		{
			c->next = impl->arena;
			impl->arena = c;
		}
	}
	p = (uint8_t *) c + CODEC_ARENA_HDR + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *
codec_arena_strndup(codec_schema_impl *impl, const char *s, size_t len)
{
	char	   *p = codec_arena_alloc(impl, len + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
codec_arena_free(codec_schema_impl *impl)
{
	codec_arena_chunk *c = impl->arena;

	while (c != NULL)
	{
		codec_arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	impl->arena = NULL;
}
