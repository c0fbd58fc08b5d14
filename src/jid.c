/* jid.c: JID syntax (RFC 7622). Full PRECIS profiles need a Unicode database; servers
 * already hand us normalised addresses in 'from', so for addresses inside payloads we
 * apply the part of the normalisation that matters in practice (ASCII case) and reject
 * what is structurally invalid. */
#include "jid.h"

#include "buf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* RFC 7622 3.3.1 forbids these in a localpart. */
static bool local_ok(const char *s, size_t n)
{
	if (n == 0 || n > JID_PART_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7F || strchr("\"&'/:<>@", c))
			return false;
	}
	return utf8_is_xml_safe(s, n);
}

static bool ipv6_literal_ok(const char *s, size_t n)
{
	char inner[INET6_ADDRSTRLEN];
	struct in6_addr addr;
	if (n < 4 || s[n - 1] != ']' || n - 2 >= sizeof(inner))
		return false;
	memcpy(inner, s + 1, n - 2);
	inner[n - 2] = '\0';
	return inet_pton(AF_INET6, inner, &addr) == 1;
}

static bool domain_ok(const char *s, size_t n)
{
	if (n == 0 || n > JID_PART_MAX)
		return false;
	if (s[n - 1] == '.') /* a trailing dot is stripped by servers; we refuse it */
		return false;
	if (s[0] == '[') /* an IP-literal (RFC 7622 3.2): an IPv6 address, nothing else */
		return ipv6_literal_ok(s, n);
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || label > 63)
				return false;
			label = 0;
			continue;
		}
		if (c <= 0x20 || c == 0x7F || strchr("\"&'/:<>@,;\\[]()", c))
			return false;
		label++;
	}
	if (label == 0 || label > 63)
		return false;
	return utf8_is_xml_safe(s, n);
}

static bool resource_ok(const char *s, size_t n)
{
	if (n == 0 || n > JID_PART_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F)
			return false;
	}
	return utf8_is_xml_safe(s, n);
}

bool jid_parse(const char *s, struct jid *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return false;
	const char *slash = strchr(s, '/');
	size_t bare_len = slash ? (size_t)(slash - s) : strlen(s);
	const char *at = memchr(s, '@', bare_len);
	const char *dom = at ? at + 1 : s;
	size_t dom_len = bare_len - (size_t)(dom - s);
	if (at && !local_ok(s, (size_t)(at - s)))
		return false;
	if (!domain_ok(dom, dom_len))
		return false;
	if (slash && !resource_ok(slash + 1, strlen(slash + 1)))
		return false;
	if (at) {
		out->local = xstrndup(s, (size_t)(at - s));
		ascii_lower(out->local);
	}
	out->domain = xstrndup(dom, dom_len);
	ascii_lower(out->domain);
	if (slash)
		out->resource = xstrdup(slash + 1);
	return true;
}

void jid_free(struct jid *j)
{
	free(j->local);
	free(j->domain);
	free(j->resource);
	memset(j, 0, sizeof(*j));
}

char *jid_bare_string(const struct jid *j)
{
	struct buf b = BUF_INIT;
	if (j->local) {
		buf_puts(&b, j->local);
		buf_putc(&b, '@');
	}
	buf_puts(&b, j->domain);
	return buf_steal(&b);
}

char *jid_full_string(const struct jid *j)
{
	struct buf b = BUF_INIT;
	char *bare = jid_bare_string(j);
	buf_puts(&b, bare);
	free(bare);
	if (j->resource) {
		buf_putc(&b, '/');
		buf_puts(&b, j->resource);
	}
	return buf_steal(&b);
}

char *jid_normalize_bare(const char *s)
{
	struct jid j;
	if (!jid_parse(s, &j))
		return NULL;
	char *r = jid_bare_string(&j);
	jid_free(&j);
	return r;
}

char *jid_normalize(const char *s)
{
	struct jid j;
	if (!jid_parse(s, &j))
		return NULL;
	char *r = jid_full_string(&j);
	jid_free(&j);
	return r;
}

char *jid_domain_of(const char *s)
{
	struct jid j;
	if (!jid_parse(s, &j))
		return NULL;
	char *r = j.domain;
	j.domain = NULL;
	jid_free(&j);
	return r;
}

bool jid_is_domain(const char *s)
{
	struct jid j;
	if (!jid_parse(s, &j))
		return false;
	bool ok = !j.local && !j.resource;
	jid_free(&j);
	return ok;
}
