/* buf.h: growable byte buffers and the XML escaping every outgoing stanza goes through. */
#ifndef CALPUBSUB_BUF_H
#define CALPUBSUB_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* always NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
/* Inline: escaping and encoding write byte by byte, millions of times per import. */
static inline void buf_putc(struct buf *b, char c)
{
	if (b->len + 2 <= b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return;
	}
	buf_append(b, &c, 1);
}
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Text content: escapes markup and CR, and replaces bytes that XML 1.0 cannot carry at
 * all (invalid UTF-8, control characters) with U+FFFD, because the text may come from a
 * file or the database rather than from an XML parser. */
void buf_xml_escape(struct buf *b, const char *s);
void buf_xml_escape_n(struct buf *b, const char *s, size_t n);
/* An attribute value: the same, and tab and LF as character references too. */
void buf_xml_escape_attr(struct buf *b, const char *s);
/* Hands the contents to the caller (never NULL) and leaves the buffer empty. */
char *buf_steal(struct buf *b);
const char *buf_cstr(const struct buf *b);

/* Allocation helpers that end the process on exhaustion: a daemon that cannot allocate a
 * few bytes cannot answer anyone, and every caller checking NULL would hide real bugs. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* True when s is valid UTF-8 holding only characters XML 1.0 allows. */
bool utf8_is_xml_safe(const char *s, size_t n);

#endif
