/* buf.c: growable byte buffers, allocation helpers and XML escaping. */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
	fprintf(stderr, "calpubsub: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_reserve(struct buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		out_of_memory(SIZE_MAX);
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	/* formatted once when it fits in what is left, which is nearly always */
	buf_reserve(b, 64);
	size_t room = b->cap - b->len;
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(b->data + b->len, room, fmt, copy);
	va_end(copy);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *buf_steal(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *buf_cstr(const struct buf *b)
{
	return b->data ? b->data : "";
}

/* Length of the UTF-8 sequence at s that encodes a character XML 1.0 allows, or 0. */
static size_t xml_char_len(const unsigned char *s, size_t avail)
{
	unsigned c = s[0];
	if (c < 0x80) {
		if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
			return 1;
		return 0;
	}
	size_t len;
	uint32_t cp;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0; /* overlong or out of range */
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
		return 0;
	return len;
}

bool utf8_is_xml_safe(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		/* printable ASCII, nearly all of most input, needs no decoding: eight bytes at a
		 * time when none has its high bit set or is below 0x20 (the subtraction borrows
		 * into the high bit of exactly those bytes) */
		if (n - i >= 8) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
			if (((w | ((w - 0x20 * ones) & ~w)) & highs) == 0) {
				i += 8;
				continue;
			}
		}
		if (p[i] >= 0x20 && p[i] < 0x80) {
			i++;
			continue;
		}
		size_t l = xml_char_len(p + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

/* A parser reads a raw CR as LF (XML 1.0 2.11) and, in an attribute value, a raw tab,
 * LF or CR as a space (3.3.3): written as character references they come back as sent. */
static void xml_escape(struct buf *b, const char *s, size_t n, bool attribute)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0; /* start of the pending run of bytes that need no escaping */
	size_t i = 0;
	buf_reserve(b, n);
	while (i < n) {
		unsigned char c = p[i];
		/* most text is printable ASCII without markup: it stays in the run as it is */
		if (c >= 0x20 && c < 0x80 && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'') {
			i++;
			continue;
		}
		const char *rep = NULL;
		size_t l = 1;
		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		case '\r': rep = "&#13;"; break;
		case '\t': rep = attribute ? "&#9;" : NULL; break;
		case '\n': rep = attribute ? "&#10;" : NULL; break;
		default:
			l = xml_char_len(p + i, n - i);
			if (!l) {
				rep = "\xEF\xBF\xBD";
				l = 1;
			}
		}
		if (rep) {
			buf_append(b, s + run, i - run);
			buf_puts(b, rep);
			run = i + l;
		}
		i += l;
	}
	buf_append(b, s + run, n - run);
}

void buf_xml_escape_n(struct buf *b, const char *s, size_t n)
{
	xml_escape(b, s, n, false);
}

void buf_xml_escape_attr(struct buf *b, const char *s)
{
	xml_escape(b, s, strlen(s), true);
}

void buf_xml_escape(struct buf *b, const char *s)
{
	buf_xml_escape_n(b, s, strlen(s));
}
