/* items.c: items of a node in publication order, and their expiry. "Live" items are
 * those whose expiry time has not passed: an expired item disappears from retrieval at
 * once, even before the sweep deletes it and announces its retraction. */
#include "pubsub.h"

#include "../buf.h"
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVE "(expires_at IS NULL OR expires_at > now())"
#define ITEM_COLUMNS \
	"item_id, payload, publisher, to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), seq, " \
	"calpubsub_item_text(node_id, item_id, payload, ics)"

static void int_param(char *buf, size_t n, int64_t v)
{
	snprintf(buf, n, "%" PRId64, v);
}

void item_row_clear(struct item_row *r)
{
	free(r->id);
	free(r->payload);
	free(r->ics);
	free(r->publisher);
	free(r->published_at);
	memset(r, 0, sizeof(*r));
}

void item_rows_free(struct item_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		item_row_clear(&r[i]);
	free(r);
}

static void read_item(const PGresult *res, int i, struct item_row *it)
{
	it->id = store_strdup(res, i, 0);
	it->payload = store_strdup(res, i, 1);
	it->publisher = store_strdup(res, i, 2);
	it->published_at = store_strdup(res, i, 3);
	it->seq = store_int(res, i, 4);
	it->ics = store_strdup(res, i, 5);
}

static enum store_result read_items(PGresult *res, enum store_result r, bool reverse, struct item_row **out,
                                    size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!res)
		return r;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++)
		read_item(res, i, &(*out)[reverse ? rows - 1 - i : i]);
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}

enum store_result store_item_get(struct store *st, int64_t node_id, const char *item_id, struct item_row *out)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids, item_id};
	enum store_result r;
	PGresult *res = store_query(st, "item_get",
	                            "SELECT " ITEM_COLUMNS " FROM calpubsub_item WHERE node_id = $1 AND item_id = $2 AND " LIVE,
	                            2, p, &r);
	if (!res)
		return r;
	if (!PQntuples(res)) {
		PQclear(res);
		return STORE_NOT_FOUND;
	}
	read_item(res, 0, out);
	PQclear(res);
	return STORE_OK;
}

enum store_result store_items_by_id(struct store *st, int64_t node_id, const char *const *ids, size_t n_ids,
                                    struct item_row **out, size_t *n)
{
	char node[24];
	int_param(node, sizeof(node), node_id);
	char *arr = store_text_array(ids, n_ids);
	const char *p[] = {node, arr};
	enum store_result r;
	PGresult *res = store_query(st, "items_by_id",
	                            "SELECT " ITEM_COLUMNS " FROM calpubsub_item i "
	                            "JOIN unnest($2::text[]) WITH ORDINALITY AS w(id, ord) ON w.id = i.item_id "
	                            "WHERE i.node_id = $1 AND " LIVE " ORDER BY w.ord",
	                            2, p, &r);
	free(arr);
	return read_items(res, r, false, out, n);
}

enum store_result store_item_count(struct store *st, int64_t node_id, int64_t *n)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids};
	enum store_result r;
	PGresult *res = store_query(st, "item_count", "SELECT count(*) FROM calpubsub_item WHERE node_id = $1 AND " LIVE, 1,
	                            p, &r);
	if (!res)
		return r;
	*n = store_int(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

static enum store_result count_before(struct store *st, const char *node, int64_t seq, int64_t *preceding)
{
	char seqs[24];
	int_param(seqs, sizeof(seqs), seq);
	const char *p[] = {node, seqs};
	enum store_result r;
	PGresult *res = store_query(st, "items_count_before",
	                            "SELECT count(*) FROM calpubsub_item WHERE node_id = $1 AND seq < $2 AND " LIVE, 2, p,
	                            &r);
	if (!res)
		return r;
	*preceding = store_int(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

enum store_result store_items_window(struct store *st, int64_t node_id, int anchor, const char *key, int64_t index,
                                     int64_t limit, struct item_row **out, size_t *n, int64_t *preceding)
{
	char node[24], lim[24], seqs[24], idx[24];
	int_param(node, sizeof(node), node_id);
	int_param(lim, sizeof(lim), limit);
	int_param(idx, sizeof(idx), index);
	enum store_result r;
	*out = NULL;
	*n = 0;
	*preceding = 0;
	int64_t key_seq = 0;
	if (anchor == 1 || anchor == 2) {
		const char *p[] = {node, key};
		PGresult *res = store_query(st, "item_seq",
		                            "SELECT seq FROM calpubsub_item WHERE node_id = $1 AND item_id = $2 AND " LIVE, 2,
		                            p, &r);
		if (!res)
			return r;
		bool found = PQntuples(res) > 0;
		key_seq = found ? store_int(res, 0, 0) : 0;
		PQclear(res);
		if (!found)
			return STORE_NOT_FOUND;
	}
	int_param(seqs, sizeof(seqs), key_seq);
	PGresult *res;
	bool reverse = false;
	switch (anchor) {
	case 1: {
		const char *p[] = {node, seqs, lim};
		res = store_query(st, "items_after",
		                  "SELECT " ITEM_COLUMNS " FROM calpubsub_item WHERE node_id = $1 AND seq > $2 AND " LIVE
		                  " ORDER BY seq LIMIT $3",
		                  3, p, &r);
		break;
	}
	case 2: {
		const char *p[] = {node, seqs, lim};
		res = store_query(st, "items_before",
		                  "SELECT " ITEM_COLUMNS " FROM calpubsub_item WHERE node_id = $1 AND seq < $2 AND " LIVE
		                  " ORDER BY seq DESC LIMIT $3",
		                  3, p, &r);
		reverse = true;
		break;
	}
	case 3: {
		const char *p[] = {node, lim};
		res = store_query(st, "items_last",
		                  "SELECT " ITEM_COLUMNS " FROM calpubsub_item WHERE node_id = $1 AND " LIVE
		                  " ORDER BY seq DESC LIMIT $2",
		                  2, p, &r);
		reverse = true;
		break;
	}
	case 4: {
		const char *p[] = {node, lim, idx};
		res = store_query(st, "items_at_index",
		                  "SELECT " ITEM_COLUMNS " FROM calpubsub_item WHERE node_id = $1 AND " LIVE
		                  " ORDER BY seq LIMIT $2 OFFSET $3",
		                  3, p, &r);
		break;
	}
	default: {
		const char *p[] = {node, lim};
		res = store_query(st, "items_first",
		                  "SELECT " ITEM_COLUMNS " FROM calpubsub_item WHERE node_id = $1 AND " LIVE
		                  " ORDER BY seq LIMIT $2",
		                  2, p, &r);
	}
	}
	r = read_items(res, r, reverse, out, n);
	if (r != STORE_OK || *n == 0)
		return r;
	return count_before(st, node, (*out)[0].seq, preceding);
}

enum store_result store_item_put(struct store *st, int64_t node_id, const char *item_id, const char *payload,
                                 const char *publisher, int64_t expire_after)
{
	char ids[24], exp[24];
	int_param(ids, sizeof(ids), node_id);
	int_param(exp, sizeof(exp), expire_after);
	const char *p[] = {ids, item_id, payload, publisher, expire_after > 0 ? exp : NULL};
	return store_command_later(st, "item_put",
	                     "INSERT INTO calpubsub_item (node_id, item_id, payload, publisher, expires_at) "
	                     "VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::integer)) "
	                     "ON CONFLICT (node_id, item_id) DO UPDATE SET payload = EXCLUDED.payload, "
	                     "publisher = EXCLUDED.publisher, expires_at = EXCLUDED.expires_at, "
	                     "published_at = now(), seq = nextval('calpubsub_item_seq'), change_id = NULL, ics = NULL",
	                     5, p);
}

enum store_result store_item_exists(struct store *st, int64_t node_id, const char *item_id, bool *exists,
                                    char **publisher)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids, item_id};
	enum store_result r;
	PGresult *res = store_query(st, "item_exists",
	                            "SELECT publisher FROM calpubsub_item WHERE node_id = $1 AND item_id = $2 AND " LIVE, 2,
	                            p, &r);
	if (!res)
		return r;
	*exists = PQntuples(res) > 0;
	if (publisher)
		*publisher = *exists ? store_strdup(res, 0, 0) : NULL;
	PQclear(res);
	return STORE_OK;
}

enum store_result store_item_delete(struct store *st, int64_t node_id, const char *item_id, bool *deleted)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids, item_id};
	enum store_result r;
	PGresult *res = store_query(st, "item_delete",
	                            "DELETE FROM calpubsub_item WHERE node_id = $1 AND item_id = $2 RETURNING 1", 2, p, &r);
	if (!res)
		return r;
	*deleted = PQntuples(res) > 0;
	PQclear(res);
	return STORE_OK;
}

enum store_result store_items_trim(struct store *st, int64_t node_id, int64_t keep, char ***removed, size_t *n)
{
	char ids[24], k[24];
	int_param(ids, sizeof(ids), node_id);
	int_param(k, sizeof(k), keep);
	const char *p[] = {ids, k};
	enum store_result r;
	*removed = NULL;
	*n = 0;
	PGresult *res = store_query(st, "items_trim",
	                            "DELETE FROM calpubsub_item WHERE node_id = $1 AND seq IN (SELECT seq FROM calpubsub_item "
	                            "WHERE node_id = $1 ORDER BY seq DESC OFFSET $2) RETURNING item_id",
	                            2, p, &r);
	if (!res)
		return r;
	int rows = PQntuples(res);
	*removed = xcalloc((size_t)rows + 1, sizeof(char *));
	for (int i = 0; i < rows; i++)
		(*removed)[i] = store_strdup(res, i, 0);
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}

enum store_result store_items_purge(struct store *st, int64_t node_id)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids};
	return store_command(st, "items_purge", "DELETE FROM calpubsub_item WHERE node_id = $1", 1, p);
}

void expired_items_free(struct expired_item *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].node);
		free(e[i].item_id);
	}
	free(e);
}

enum store_result store_items_expire(struct store *st, int limit, struct expired_item **out, size_t *n)
{
	char lim[16];
	snprintf(lim, sizeof(lim), "%d", limit);
	const char *p[] = {lim};
	enum store_result r;
	*out = NULL;
	*n = 0;
	PGresult *res = store_query(st, "items_expire",
	                            "WITH gone AS (DELETE FROM calpubsub_item WHERE (node_id, item_id) IN ("
	                            "SELECT node_id, item_id FROM calpubsub_item WHERE expires_at <= now() "
	                            "ORDER BY expires_at LIMIT $1) RETURNING node_id, item_id) "
	                            "SELECT g.node_id, n.name, g.item_id, n.notify_retract FROM gone g "
	                            "JOIN calpubsub_node n ON n.id = g.node_id ORDER BY g.node_id",
	                            1, p, &r);
	if (!res)
		return r;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++) {
		(*out)[i].node_id = store_int(res, i, 0);
		(*out)[i].node = store_strdup(res, i, 1);
		(*out)[i].item_id = store_strdup(res, i, 2);
		(*out)[i].notify_retract = store_bool(res, i, 3);
	}
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}

enum store_result store_items_next_expiry(struct store *st, double *seconds)
{
	enum store_result r;
	PGresult *res = store_query(st, "items_next_expiry",
	                            "SELECT extract(epoch FROM min(expires_at) - now()) FROM calpubsub_item "
	                            "WHERE expires_at IS NOT NULL",
	                            0, NULL, &r);
	if (!res)
		return r;
	*seconds = PQgetisnull(res, 0, 0) ? -1 : strtod(PQgetvalue(res, 0, 0), NULL);
	if (*seconds < 0 && !PQgetisnull(res, 0, 0))
		*seconds = 0;
	PQclear(res);
	return STORE_OK;
}
