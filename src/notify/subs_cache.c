/* subs_cache.c: the fan-out's copy of a small node's subscriber list (see subs_cache.h). */
#include "subs_cache.h"

bool subs_cache_usable(const struct subs_cache *c, int64_t node_id, unsigned states, int64_t version,
                       const char *position)
{
	return c->valid && !position && c->node_id == node_id && c->states == states && version >= 0 &&
	       c->version == version;
}

bool subs_cache_keepable(const char *position, size_t n, size_t page_rows, int64_t version)
{
	return !position && n < page_rows && version >= 0;
}

void subs_cache_keep(struct subs_cache *c, int64_t node_id, unsigned states, int64_t version, struct sub_row *subs,
                     size_t n)
{
	subs_cache_clear(c);
	c->valid = true;
	c->node_id = node_id;
	c->states = states;
	c->version = version;
	c->subs = subs;
	c->n = n;
}

void subs_cache_clear(struct subs_cache *c)
{
	if (c->valid)
		sub_rows_free(c->subs, c->n);
	c->valid = false;
	c->subs = NULL;
	c->n = 0;
}
