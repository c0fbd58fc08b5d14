/* rsm.c: XEP-0059 request validation and window planning. */
#include "rsm.h"

#include <errno.h>
#include <stdlib.h>

static bool xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A non-negative xs:integer. The schema types (xs:int for RSM, xs:positiveInteger for
 * max_items) collapse white space, so surrounding XML white space is allowed; inside
 * there are digits only (no sign, no other base). */
static bool parse_count(const char *s, int64_t *out)
{
	if (!s)
		return false;
	while (xml_space(*s))
		s++;
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	while (xml_space(*end))
		end++;
	if (errno || *end || v < 0)
		return false;
	*out = v;
	return true;
}

bool rsm_plan_items(const struct rsm_request *rsm, const char *max_items, int64_t default_limit, int64_t hard_limit,
                    struct rsm_plan *plan, struct ps_error *err)
{
	plan->anchor = RSM_FROM_START;
	plan->key = NULL;
	plan->index = 0;
	plan->limit = default_limit;
	plan->count_only = false;
	plan->explicit_rsm = rsm != NULL;
	int64_t n;
	if (max_items) {
		/* xs:positiveInteger (XEP-0060 6.5.7) */
		if (!parse_count(max_items, &n) || n == 0)
			return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "max_items must be a positive integer");
	}
	if (!rsm) {
		if (max_items) {
			plan->anchor = RSM_LAST;
			plan->limit = n < hard_limit ? n : hard_limit;
		}
		return true;
	}
	/* With an RSM <set/>, RSM governs the window and max_items is ignored. */
	if (rsm->max) {
		if (!parse_count(rsm->max, &n))
			return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "RSM <max/> must be a non-negative integer");
		if (n == 0)
			plan->count_only = true;
		plan->limit = n < hard_limit ? n : hard_limit;
	}
	int anchors = (rsm->after != NULL) + (rsm->before != NULL) + (rsm->index != NULL);
	if (anchors > 1)
		return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "RSM <after/>, <before/> and <index/> exclude each other");
	if (rsm->after) {
		if (!*rsm->after)
			return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "RSM <after/> needs an item id");
		plan->anchor = RSM_AFTER;
		plan->key = rsm->after;
	} else if (rsm->before) {
		plan->anchor = *rsm->before ? RSM_BEFORE : RSM_LAST;
		plan->key = *rsm->before ? rsm->before : NULL;
	} else if (rsm->index) {
		if (!parse_count(rsm->index, &n))
			return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "RSM <index/> must be a non-negative integer");
		plan->anchor = RSM_AT_INDEX;
		plan->index = n;
	}
	return true;
}

int64_t rsm_first_index(const struct rsm_plan *plan, int64_t preceding)
{
	if (plan->anchor == RSM_AT_INDEX)
		return plan->index;
	return preceding;
}
