/* test_rsm.c: XEP-0059 window planning for item retrieval (rsm_plan_items) and the index
 * of a page's first item (rsm_first_index): every anchor, max, max=0, max_items, their
 * combinations, conflicting anchors and bogus values. Items are ordered oldest first;
 * max_items=N and an empty <before/> both select the last page. */
#include "src/pubsub/rsm.h"
#include "tap.h"

#include <stddef.h>
#include <string.h>

#define DEFAULT_LIMIT 50
#define HARD_LIMIT 100

static bool plan(const struct rsm_request *rsm, const char *max_items, struct rsm_plan *p, struct ps_error *err)
{
	memset(p, 0x5a, sizeof(*p)); /* every field must be set by rsm_plan_items */
	memset(err, 0, sizeof(*err));
	return rsm_plan_items(rsm, max_items, DEFAULT_LIMIT, HARD_LIMIT, p, err);
}

static void want_plan(const char *what, const struct rsm_request *rsm, const char *max_items, enum rsm_anchor anchor,
                      const char *key, int64_t index, int64_t limit, bool count_only, bool explicit_rsm)
{
	struct rsm_plan p;
	struct ps_error err;
	if (!ok(plan(rsm, max_items, &p, &err), "%s: accepted", what)) {
		printf("#   refused: %s\n", err.text);
		return;
	}
	is_int(p.anchor, anchor, "%s: anchor", what);
	is_str(p.key, key, "%s: key", what);
	if (anchor == RSM_AT_INDEX)
		is_int(p.index, index, "%s: index", what);
	is_int(p.limit, limit, "%s: limit", what);
	is_int(p.count_only, count_only, "%s: count only", what);
	is_int(p.explicit_rsm, explicit_rsm, "%s: answered with a <set/>", what);
}

static void want_refused(const char *what, const struct rsm_request *rsm, const char *max_items)
{
	struct rsm_plan p;
	struct ps_error err;
	bool got = plan(rsm, max_items, &p, &err);
	ok(!got && err.cond == SC_BAD_REQUEST && err.type == SET_MODIFY && err.app == PSE_NONE && err.text[0],
	   "%s: bad-request (%s)", what, err.text);
}

int main(void)
{
	/* without RSM */
	want_plan("no set, no max_items", NULL, NULL, RSM_FROM_START, NULL, 0, DEFAULT_LIMIT, false, false);
	want_plan("max_items=5", NULL, "5", RSM_LAST, NULL, 0, 5, false, false);
	want_plan("max_items=1", NULL, "1", RSM_LAST, NULL, 0, 1, false, false);
	want_plan("max_items above the hard limit", NULL, "100000", RSM_LAST, NULL, 0, HARD_LIMIT, false, false);
	want_plan("max_items with leading zeros", NULL, "007", RSM_LAST, NULL, 0, 7, false, false);
	/* xs:positiveInteger collapses white space */
	want_plan("max_items with white space around", NULL, " 5\t", RSM_LAST, NULL, 0, 5, false, false);
	const char *bad_max_items[] = {"0", "-1", "+1", "abc", "", " ", "1.5", "5 5", "0x10", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad_max_items) / sizeof(bad_max_items[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "max_items='%s'", bad_max_items[i]);
		want_refused(what, NULL, bad_max_items[i]);
	}

	/* <max/> alone */
	struct rsm_request r = {.max = "10"};
	want_plan("<max>10</max>", &r, NULL, RSM_FROM_START, NULL, 0, 10, false, true);
	r = (struct rsm_request){.max = "1000"};
	want_plan("<max> above the hard limit", &r, NULL, RSM_FROM_START, NULL, 0, HARD_LIMIT, false, true);
	r = (struct rsm_request){.max = "0"};
	want_plan("<max>0</max>: count only", &r, NULL, RSM_FROM_START, NULL, 0, 0, true, true);
	r = (struct rsm_request){.max = "\n  10\n"};
	want_plan("<max/> with white space around the number (xs:int)", &r, NULL, RSM_FROM_START, NULL, 0, 10, false,
	          true);
	r = (struct rsm_request){0};
	want_plan("an empty <set/>", &r, NULL, RSM_FROM_START, NULL, 0, DEFAULT_LIMIT, false, true);

	/* anchors */
	r = (struct rsm_request){.max = "3", .after = "item-7"};
	want_plan("<after/>", &r, NULL, RSM_AFTER, "item-7", 0, 3, false, true);
	r = (struct rsm_request){.after = "item-7"};
	want_plan("<after/> without <max/>", &r, NULL, RSM_AFTER, "item-7", 0, DEFAULT_LIMIT, false, true);
	r = (struct rsm_request){.max = "3", .before = "item-7"};
	want_plan("<before>id</before>", &r, NULL, RSM_BEFORE, "item-7", 0, 3, false, true);
	r = (struct rsm_request){.max = "3", .before = ""};
	want_plan("empty <before/>: the last page", &r, NULL, RSM_LAST, NULL, 0, 3, false, true);
	r = (struct rsm_request){.before = ""};
	want_plan("empty <before/> without <max/>", &r, NULL, RSM_LAST, NULL, 0, DEFAULT_LIMIT, false, true);
	r = (struct rsm_request){.max = "4", .index = "12"};
	want_plan("<index>12</index>", &r, NULL, RSM_AT_INDEX, NULL, 12, 4, false, true);
	r = (struct rsm_request){.max = "4", .index = "0"};
	want_plan("<index>0</index>", &r, NULL, RSM_AT_INDEX, NULL, 0, 4, false, true);
	r = (struct rsm_request){.max = "4", .index = "9223372036854775807"};
	want_plan("a huge <index/>", &r, NULL, RSM_AT_INDEX, NULL, INT64_MAX, 4, false, true);
	r = (struct rsm_request){.max = "0", .after = "x"};
	want_plan("<max>0</max> with <after/>", &r, NULL, RSM_AFTER, "x", 0, 0, true, true);
	/* an id that looks like anything is still just an id */
	r = (struct rsm_request){.max = "2", .after = "'; DROP TABLE calpubsub_item; --"};
	want_plan("<after/> with SQL in the id", &r, NULL, RSM_AFTER, "'; DROP TABLE calpubsub_item; --", 0, 2, false,
	          true);

	/* with RSM, RSM governs and max_items is ignored (but still has to be well-formed) */
	r = (struct rsm_request){.max = "2"};
	want_plan("<set/> and max_items", &r, "5", RSM_FROM_START, NULL, 0, 2, false, true);
	r = (struct rsm_request){.max = "2", .after = "a"};
	want_plan("<after/> and max_items", &r, "5", RSM_AFTER, "a", 0, 2, false, true);
	want_refused("<set/> and max_items=0", &r, "0");

	/* conflicting anchors */
	r = (struct rsm_request){.after = "a", .before = "b"};
	want_refused("<after/> and <before/>", &r, NULL);
	r = (struct rsm_request){.after = "a", .before = ""};
	want_refused("<after/> and an empty <before/>", &r, NULL);
	r = (struct rsm_request){.after = "a", .index = "1"};
	want_refused("<after/> and <index/>", &r, NULL);
	r = (struct rsm_request){.before = "", .index = "1"};
	want_refused("an empty <before/> and <index/>", &r, NULL);
	r = (struct rsm_request){.after = "a", .before = "b", .index = "1"};
	want_refused("all three anchors", &r, NULL);
	r = (struct rsm_request){.after = ""};
	want_refused("an empty <after/>", &r, NULL);

	/* bogus numbers */
	const char *bogus[] = {"-1", "+1", "abc", "", " ", "1.0", "1 2", " -1", "1e3", "99999999999999999999", "-0"};
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		char what[64];
		r = (struct rsm_request){.max = bogus[i]};
		snprintf(what, sizeof(what), "<max>%s</max>", bogus[i]);
		want_refused(what, &r, NULL);
		r = (struct rsm_request){.max = "5", .index = bogus[i]};
		snprintf(what, sizeof(what), "<index>%s</index>", bogus[i]);
		want_refused(what, &r, NULL);
	}

	/* rsm_first_index: the index of a page is what precedes it, or the index asked for */
	struct rsm_plan p = {.anchor = RSM_FROM_START};
	is_int(rsm_first_index(&p, 0), 0, "first page starts at 0");
	p.anchor = RSM_AFTER;
	is_int(rsm_first_index(&p, 10), 10, "after: the number of items before the page");
	p.anchor = RSM_BEFORE;
	is_int(rsm_first_index(&p, 3), 3, "before: the number of items before the page");
	p.anchor = RSM_LAST;
	is_int(rsm_first_index(&p, 20), 20, "last page: count minus the page");
	p.anchor = RSM_AT_INDEX;
	p.index = 12;
	is_int(rsm_first_index(&p, 12), 12, "index: the index asked for");
	is_int(rsm_first_index(&p, 0), 12, "index: the index asked for, whatever was counted");
	return done_testing();
}
