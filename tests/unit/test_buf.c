/* test_buf.c: buffers and the XML escaping every outgoing byte goes through. */
#include "src/buf.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static char *escaped(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	buf_xml_escape_n(&b, s, n);
	return buf_steal(&b);
}

int main(void)
{
	struct buf b = BUF_INIT;
	is_str(buf_cstr(&b), "", "an empty buffer reads as an empty string");
	buf_puts(&b, "abc");
	buf_printf(&b, "%d-%s", 42, "x");
	is_str(b.data, "abc42-x", "append and printf");
	is_int(b.len, 7, "length tracks content");
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, 'z');
	is_int(b.len, 10007, "grows past many reallocations");
	buf_reset(&b);
	is_str(b.data, "", "reset empties");
	buf_free(&b);

	/* printf formats into the room left, and again when that is too small */
	char long_text[3001];
	memset(long_text, 'q', 3000);
	long_text[3000] = '\0';
	for (int i = 0; i < 3; i++) {
		buf_printf(&b, "<%s>", long_text + 1000 * i);
		buf_printf(&b, "%03d", i);
	}
	is_int(b.len, 3000 + 2000 + 1000 + 6 + 9, "printf longer than the room left grows the buffer");
	ok(b.data[0] == '<' && b.data[3001] == '>' && memcmp(b.data + 3002, "000<", 4) == 0 &&
	       memcmp(b.data + b.len - 4, ">002", 4) == 0 && b.data[b.len] == '\0',
	   "and writes the whole text, terminated");
	buf_free(&b);

	char *e = escaped("<a href=\"x\">&'</a>", 18);
	is_str(e, "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;", "markup characters are escaped");
	free(e);
	e = escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x85", 14);
	is_str(e, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x85", "valid UTF-8 passes through");
	free(e);
	e = escaped("a\x01" "b", 3);
	is_str(e, "a\xef\xbf\xbd" "b", "a control character becomes U+FFFD");
	free(e);
	e = escaped("a\xff" "b", 3);
	is_str(e, "a\xef\xbf\xbd" "b", "an invalid byte becomes U+FFFD");
	free(e);
	e = escaped("\xc0\xaf", 2);
	is_str(e, "\xef\xbf\xbd\xef\xbf\xbd", "an overlong encoding is refused");
	free(e);
	e = escaped("\xed\xa0\x80", 3);
	is_str(e, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "a UTF-16 surrogate is refused");
	free(e);
	e = escaped("\xe2\x82", 2);
	is_str(e, "\xef\xbf\xbd\xef\xbf\xbd", "a truncated sequence is refused");
	free(e);
	e = escaped("tab\there\nnl\r", 12);
	is_str(e, "tab\there\nnl&#13;", "text keeps tab and newline, and writes CR as a reference (a parser reads CR as LF)");
	free(e);
	struct buf attr = BUF_INIT;
	buf_xml_escape_attr(&attr, "a\tb\nc\rd'<&");
	is_str(buf_cstr(&attr), "a&#9;b&#10;c&#13;d&apos;&lt;&amp;",
	       "an attribute value writes tab, LF and CR as references (a parser reads them as spaces)");
	buf_free(&attr);
	ok(utf8_is_xml_safe("plain", 5), "plain ASCII is XML-safe");
	ok(!utf8_is_xml_safe("\x00", 1), "NUL is not XML-safe");
	ok(!utf8_is_xml_safe("\xef\xbf\xbe", 3), "U+FFFE is not XML-safe");
	ok(utf8_is_xml_safe("a\tb \xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\x7f~", 15),
	   "tab, DEL and 2-, 3- and 4-byte characters between ASCII are XML-safe");
	ok(!utf8_is_xml_safe("ab\x01", 3), "a control character after ASCII is not XML-safe");
	ok(!utf8_is_xml_safe("ab\xc3", 3), "a truncated sequence at the end is not XML-safe");
	ok(!utf8_is_xml_safe("ab\xc0\xaf", 4), "an overlong sequence is not XML-safe");
	bool found_all = true, passed_all = true;
	for (size_t at = 0; at < 20; at++) { /* each position of a byte in and across 8-byte words */
		static const char bad[] = {'\x00', '\x01', '\x1f', '\x80', '\xff'};
		static const char good[] = {' ', '\t', '\n', '\r', '\x7f', '~'};
		char s[20];
		for (size_t k = 0; k < sizeof(bad); k++) {
			memset(s, 'a', sizeof(s));
			s[at] = bad[k];
			found_all &= !utf8_is_xml_safe(s, sizeof(s));
		}
		for (size_t k = 0; k < sizeof(good); k++) {
			memset(s, 'a', sizeof(s));
			s[at] = good[k];
			passed_all &= utf8_is_xml_safe(s, sizeof(s));
		}
	}
	ok(found_all, "NUL, control characters and stray high bytes are found at every position");
	ok(passed_all, "space, tab, CR, LF, DEL and '~' pass at every position");
	char *s = xstrndup("hello world", 5);
	is_str(s, "hello", "xstrndup cuts");
	free(s);
	return done_testing();
}
