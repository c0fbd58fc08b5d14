/* subs_cache.h: the fan-out's copy of a small node's subscriber list, kept from one
 * change to the next while the node's subscription version (sql/008) stays the same,
 * so that a stream of publishes to one node reads its subscribers once. */
#ifndef CALPUBSUB_NOTIFY_SUBS_CACHE_H
#define CALPUBSUB_NOTIFY_SUBS_CACHE_H

#include "../store/pubsub.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct subs_cache {
	bool valid;
	int64_t node_id;
	unsigned states; /* bit mask of 1 << sub_state */
	int64_t version; /* the node's subs_version read with the list */
	struct sub_row *subs;
	size_t n;
};

/* Whether the kept list answers the first page of a change to node_id in these states,
 * the change having been read with the node at version. Later pages (position set) and
 * lists read at another version are read from the database. */
bool subs_cache_usable(const struct subs_cache *c, int64_t node_id, unsigned states, int64_t version,
                       const char *position);
/* Whether a page just read can be kept: the first page, complete (below the page size),
 * of a node that exists (version >= 0). */
bool subs_cache_keepable(const char *position, size_t n, size_t page_rows, int64_t version);
/* Keeps subs (taking it over) in place of what was kept. */
void subs_cache_keep(struct subs_cache *c, int64_t node_id, unsigned states, int64_t version, struct sub_row *subs,
                     size_t n);
void subs_cache_clear(struct subs_cache *c);

#endif
