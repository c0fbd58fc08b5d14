/* test_subs_cache.c: when the fan-out may reuse the subscriber list it kept for a node
 * (subs_cache_usable, subs_cache_keepable) and that keeping one list frees the last. */
#include "src/buf.h"
#include "src/notify/subs_cache.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#define SUBSCRIBED (1u << SUB_SUBSCRIBED)
#define DELETE_STATES ((1u << SUB_SUBSCRIBED) | (1u << SUB_PENDING) | (1u << SUB_UNCONFIGURED))

static struct sub_row *rows(size_t n)
{
	struct sub_row *r = xcalloc(n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		r[i].jid = xstrdup("someone@example.org");
		r[i].subid = xstrdup("sub");
	}
	return r;
}

int main(void)
{
	struct subs_cache c;
	memset(&c, 0, sizeof(c));
	ok(!subs_cache_usable(&c, 0, 0, 0, NULL), "nothing kept: nothing to reuse, even for node 0 at version 0");

	subs_cache_keep(&c, 7, SUBSCRIBED, 3, rows(2), 2);
	ok(subs_cache_usable(&c, 7, SUBSCRIBED, 3, NULL), "same node, states and version, first page: reused");
	ok(!subs_cache_usable(&c, 7, SUBSCRIBED, 4, NULL), "the node's subscriptions were written since: read again");
	ok(!subs_cache_usable(&c, 7, SUBSCRIBED, 2, NULL), "a change read before the list (older version): read again");
	ok(!subs_cache_usable(&c, 8, SUBSCRIBED, 3, NULL), "another node at the same version number: read again");
	ok(!subs_cache_usable(&c, 7, DELETE_STATES, 3, NULL), "a deletion, which also goes to pending subscribers");
	ok(!subs_cache_usable(&c, 7, SUBSCRIBED, 3, "a@example.org"), "a later page of a change is always read");
	ok(!subs_cache_usable(&c, 7, SUBSCRIBED, -1, NULL), "a change whose node is gone");

	subs_cache_keep(&c, 9, SUBSCRIBED, 0, rows(0), 0);
	ok(subs_cache_usable(&c, 9, SUBSCRIBED, 0, NULL), "an empty list is kept too (a node without subscribers)");
	ok(!subs_cache_usable(&c, 7, SUBSCRIBED, 3, NULL), "keeping a list replaces the one before");

	ok(subs_cache_keepable(NULL, 499, 500, 0), "a first page below the page size is the whole list");
	ok(!subs_cache_keepable(NULL, 500, 500, 0), "a full page may go on: not kept");
	ok(!subs_cache_keepable("a@example.org", 3, 500, 0), "the end of a list read in pages: not kept");
	ok(!subs_cache_keepable(NULL, 0, 500, -1), "the page of a node that is gone: not kept");

	subs_cache_clear(&c);
	ok(!c.valid && !c.subs && !c.n, "cleared");
	ok(!subs_cache_usable(&c, 9, SUBSCRIBED, 0, NULL), "nothing to reuse after a clear");
	subs_cache_clear(&c);
	ok(!c.valid, "clearing twice is harmless");
	return done_testing();
}
