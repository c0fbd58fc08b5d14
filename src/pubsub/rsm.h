/* rsm.h: Result Set Management (XEP-0059) for item retrieval: which window of a node's
 * items a request selects. Items are ordered by publication, oldest first (a re-publish
 * moves an item to the end); max_items=N is the last page of N. Pure, unit tested; the
 * store runs the plan with keyset queries. */
#ifndef CALPUBSUB_PUBSUB_RSM_H
#define CALPUBSUB_PUBSUB_RSM_H

#include "model.h"

#include <stdbool.h>
#include <stdint.h>

/* An RSM <set/> as the client sent it (all strings NULL when absent). */
struct rsm_request {
	const char *max;    /* text of <max/> */
	const char *after;  /* text of <after/> */
	const char *before; /* text of <before/>; "" for the empty <before/> */
	const char *index;  /* text of <index/> */
};

enum rsm_anchor {
	RSM_FROM_START, /* the first items */
	RSM_AFTER,      /* the items following `key` */
	RSM_BEFORE,     /* the items preceding `key` */
	RSM_LAST,       /* the last items (empty <before/>, or max_items) */
	RSM_AT_INDEX,   /* starting at `index` */
};

struct rsm_plan {
	enum rsm_anchor anchor;
	const char *key;    /* item id for RSM_AFTER and RSM_BEFORE */
	int64_t index;      /* for RSM_AT_INDEX */
	int64_t limit;      /* page size, >= 1 unless count_only */
	bool count_only;    /* <max>0</max>: only the count is wanted */
	bool explicit_rsm;  /* the client asked for RSM: answer with a <set/> */
};

/* Plans the window for a request with an optional <set/> (rsm may be NULL) and an
 * optional max_items attribute (NULL when absent). default_limit is used when the client
 * gives no limit, hard_limit caps what it gives. Malformed values are bad-request. */
bool rsm_plan_items(const struct rsm_request *rsm, const char *max_items, int64_t default_limit, int64_t hard_limit,
                    struct rsm_plan *plan, struct ps_error *err);

/* Index of the first item of a returned page of n items, given how many items precede
 * it in the whole set. Separated so that the arithmetic is tested. */
int64_t rsm_first_index(const struct rsm_plan *plan, int64_t preceding);

#endif
