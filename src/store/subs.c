/* subs.c: affiliations, subscriptions and presence sharing. */
#include "pubsub.h"

#include "../buf.h"
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void int_param(char *buf, size_t n, int64_t v)
{
	snprintf(buf, n, "%" PRId64, v);
}

void affiliation_rows_free(struct affiliation_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].node);
		free(r[i].jid);
	}
	free(r);
}

enum store_result store_affiliation_get(struct store *st, int64_t node_id, const char *bare_jid,
                                        enum affiliation *out)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids, bare_jid};
	enum store_result r;
	PGresult *res = store_query(st, "affiliation_get",
	                            "SELECT affiliation FROM calpubsub_affiliation WHERE node_id = $1 AND jid = $2", 2, p,
	                            &r);
	if (!res)
		return r;
	*out = AFF_NONE;
	if (PQntuples(res))
		affiliation_parse(PQgetvalue(res, 0, 0), out);
	PQclear(res);
	return STORE_OK;
}

static enum store_result read_affiliations(PGresult *res, enum store_result r, struct affiliation_row **out,
                                           size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!res)
		return r;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++) {
		(*out)[i].node = store_strdup(res, i, 0);
		(*out)[i].jid = store_strdup(res, i, 1);
		affiliation_parse(PQgetvalue(res, i, 2), &(*out)[i].affiliation);
	}
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}

enum store_result store_affiliations_of_node(struct store *st, int64_t node_id, struct affiliation_row **out,
                                             size_t *n)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids};
	enum store_result r;
	PGresult *res = store_query(st, "affiliations_of_node",
	                            "SELECT n.name, a.jid, a.affiliation FROM calpubsub_affiliation a "
	                            "JOIN calpubsub_node n ON n.id = a.node_id WHERE a.node_id = $1 ORDER BY a.jid",
	                            1, p, &r);
	return read_affiliations(res, r, out, n);
}

enum store_result store_affiliations_of_jid(struct store *st, const char *bare_jid, const char *node_name,
                                            struct affiliation_row **out, size_t *n)
{
	const char *p[] = {bare_jid, node_name};
	enum store_result r;
	PGresult *res = store_query(st, "affiliations_of_jid",
	                            "SELECT n.name, a.jid, a.affiliation FROM calpubsub_affiliation a "
	                            "JOIN calpubsub_node n ON n.id = a.node_id "
	                            "WHERE a.jid = $1 AND n.deleted_at IS NULL AND ($2::text IS NULL OR n.name = $2) "
	                            "ORDER BY n.name",
	                            2, p, &r);
	return read_affiliations(res, r, out, n);
}

enum store_result store_affiliation_set(struct store *st, int64_t node_id, const char *bare_jid, enum affiliation a)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	if (a == AFF_NONE) {
		const char *p[] = {ids, bare_jid};
		return store_command(st, "affiliation_delete",
		                     "DELETE FROM calpubsub_affiliation WHERE node_id = $1 AND jid = $2", 2, p);
	}
	const char *p[] = {ids, bare_jid, affiliation_name(a)};
	return store_command(st, "affiliation_set",
	                     "INSERT INTO calpubsub_affiliation (node_id, jid, affiliation) VALUES ($1, $2, $3) "
	                     "ON CONFLICT (node_id, jid) DO UPDATE SET affiliation = EXCLUDED.affiliation",
	                     3, p);
}

void sub_rows_free(struct sub_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].node);
		free(r[i].jid);
		free(r[i].subid);
	}
	free(r);
}

void store_read_sub(const PGresult *res, int row, int col, struct sub_row *s)
{
	s->id = store_int(res, row, col);
	s->node_id = store_int(res, row, col + 1);
	s->node = store_strdup(res, row, col + 2);
	s->jid = store_strdup(res, row, col + 3);
	s->subid = store_strdup(res, row, col + 4);
	sub_state_parse(PQgetvalue(res, row, col + 5), &s->state);
	s->deliver = store_bool(res, row, col + 6);
	s->include_body = store_bool(res, row, col + 7);
}

static enum store_result read_subs(PGresult *res, enum store_result r, struct sub_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!res)
		return r;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++)
		store_read_sub(res, i, 0, &(*out)[i]);
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}

enum store_result store_subs_on_node(struct store *st, int64_t node_id, const char *jid, bool bare_match,
                                     struct sub_row **out, size_t *n)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids, jid};
	enum store_result r;
	PGresult *res = bare_match
		? store_query(st, "subs_on_node_bare",
	                  "SELECT " SUB_COLUMNS " FROM calpubsub_subscription s JOIN calpubsub_node n ON n.id = s.node_id "
	                  "WHERE s.node_id = $1 AND s.bare_jid = $2 ORDER BY s.id",
	                  2, p, &r)
		: store_query(st, "subs_on_node_exact",
	                  "SELECT " SUB_COLUMNS " FROM calpubsub_subscription s JOIN calpubsub_node n ON n.id = s.node_id "
	                  "WHERE s.node_id = $1 AND s.jid = $2 ORDER BY s.id",
	                  2, p, &r);
	return read_subs(res, r, out, n);
}

/* The states of a mask as a SQL array literal. */
static void states_param(unsigned states, char *buf, size_t n)
{
	struct buf b = BUF_INIT;
	buf_putc(&b, '{');
	for (int s = SUB_PENDING; s <= SUB_SUBSCRIBED; s++) {
		if (states & (1u << s)) {
			if (b.len > 1)
				buf_putc(&b, ',');
			buf_puts(&b, sub_state_name((enum sub_state)s));
		}
	}
	buf_putc(&b, '}');
	snprintf(buf, n, "%s", b.data);
	buf_free(&b);
}

enum store_result store_subs_of_node(struct store *st, int64_t node_id, unsigned states, struct sub_row **out,
                                     size_t *n)
{
	char ids[24], st_list[64];
	int_param(ids, sizeof(ids), node_id);
	states_param(states, st_list, sizeof(st_list));
	const char *p[] = {ids, st_list};
	enum store_result r;
	PGresult *res = store_query(st, "subs_of_node",
	                            "SELECT " SUB_COLUMNS " FROM calpubsub_subscription s JOIN calpubsub_node n "
	                            "ON n.id = s.node_id WHERE s.node_id = $1 AND s.state = ANY ($2::text[]) "
	                            "ORDER BY s.jid, s.id",
	                            2, p, &r);
	return read_subs(res, r, out, n);
}

enum store_result store_subs_of_bare(struct store *st, const char *bare_jid, const char *node_name,
                                     struct sub_row **out, size_t *n)
{
	const char *p[] = {bare_jid, node_name};
	enum store_result r;
	PGresult *res = store_query(st, "subs_of_bare",
	                            "SELECT " SUB_COLUMNS " FROM calpubsub_subscription s JOIN calpubsub_node n "
	                            "ON n.id = s.node_id WHERE s.bare_jid = $1 AND n.deleted_at IS NULL "
	                            "AND ($2::text IS NULL OR n.name = $2) ORDER BY n.name, s.id",
	                            2, p, &r);
	return read_subs(res, r, out, n);
}

enum store_result store_sub_insert(struct store *st, int64_t node_id, const char *jid, const char *bare_jid,
                                   const char *subid, enum sub_state state, bool deliver, bool include_body,
                                   int64_t *id)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids, jid, bare_jid, subid, sub_state_name(state), deliver ? "t" : "f", include_body ? "t" : "f"};
	enum store_result r;
	PGresult *res = store_query(st, "sub_insert",
	                            "INSERT INTO calpubsub_subscription (node_id, jid, bare_jid, subid, state, deliver, "
	                            "include_body, since_change) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	                            "calpubsub_change_position()) RETURNING id",
	                            7, p, &r);
	if (!res)
		return r;
	*id = store_int(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

enum store_result store_sub_update(struct store *st, int64_t id, enum sub_state state, bool deliver,
                                   bool include_body)
{
	char ids[24];
	int_param(ids, sizeof(ids), id);
	const char *p[] = {ids, sub_state_name(state), deliver ? "t" : "f", include_body ? "t" : "f"};
	return store_command(st, "sub_update",
	                     "UPDATE calpubsub_subscription SET state = $2, deliver = $3, include_body = $4 WHERE id = $1",
	                     4, p);
}

enum store_result store_sub_delete(struct store *st, int64_t id)
{
	char ids[24];
	int_param(ids, sizeof(ids), id);
	const char *p[] = {ids};
	return store_command(st, "sub_delete", "DELETE FROM calpubsub_subscription WHERE id = $1", 1, p);
}

enum store_result store_subs_delete_bare(struct store *st, int64_t node_id, const char *bare_jid,
                                         struct sub_row **removed, size_t *n)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids, bare_jid};
	enum store_result r;
	PGresult *res = store_query(st, "subs_delete_bare",
	                            "DELETE FROM calpubsub_subscription s USING calpubsub_node n "
	                            "WHERE n.id = s.node_id AND s.node_id = $1 AND s.bare_jid = $2 RETURNING " SUB_COLUMNS,
	                            2, p, &r);
	return read_subs(res, r, removed, n);
}

enum store_result store_subs_delete_pairs(struct store *st, const int64_t *nodes, const char *const *jids, size_t n,
                                          size_t *deleted)
{
	struct buf node_list = BUF_INIT, jid_list = BUF_INIT;
	buf_putc(&node_list, '{');
	buf_putc(&jid_list, '{');
	for (size_t i = 0; i < n; i++) {
		buf_printf(&node_list, "%s%" PRId64, i ? "," : "", nodes[i]);
		buf_puts(&jid_list, i ? ",\"" : "\"");
		for (const char *c = jids[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_putc(&jid_list, '\\');
			buf_putc(&jid_list, *c);
		}
		buf_putc(&jid_list, '"');
	}
	buf_putc(&node_list, '}');
	buf_putc(&jid_list, '}');
	const char *p[] = {node_list.data, jid_list.data};
	enum store_result r;
	PGresult *res = store_query(st, "subs_delete_pairs",
	                            "DELETE FROM calpubsub_subscription s USING unnest($1::bigint[], $2::text[]) AS b(node, jid) "
	                            "WHERE s.node_id = b.node AND s.jid = b.jid",
	                            2, p, &r);
	buf_free(&node_list);
	buf_free(&jid_list);
	if (!res)
		return r;
	*deleted = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

enum store_result store_sub_count(struct store *st, int64_t node_id, int64_t *n)
{
	char ids[24];
	int_param(ids, sizeof(ids), node_id);
	const char *p[] = {ids};
	enum store_result r;
	PGresult *res = store_query(st, "sub_count",
	                            "SELECT count(*) FROM calpubsub_subscription WHERE node_id = $1 AND state = 'subscribed'",
	                            1, p, &r);
	if (!res)
		return r;
	*n = store_int(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

enum store_result store_subs_page(struct store *st, int64_t node_id, unsigned states, const char *after_jid,
                                  int limit, struct sub_row **out, size_t *n, int64_t *subs_version)
{
	char ids[24], lim[16], st_list[64];
	int_param(ids, sizeof(ids), node_id);
	snprintf(lim, sizeof(lim), "%d", limit);
	states_param(states, st_list, sizeof(st_list));
	const char *p[] = {ids, after_jid ? after_jid : "", lim, st_list};
	enum store_result r;
	/* The node's row, deleted or not, with its subscription version from the same
	 * snapshot as the page; one row of NULLs when the page is empty. */
	PGresult *res = store_query(st, "subs_page",
	                            "SELECT s.id, s.node_id, NULL, s.jid, s.subid, s.state, s.deliver, s.include_body, "
	                            "s.since_change, n.subs_version FROM calpubsub_node n LEFT JOIN LATERAL ("
	                            "SELECT * FROM calpubsub_subscription s WHERE s.node_id = n.id AND s.jid > $2 "
	                            "AND s.state = ANY ($4::text[]) ORDER BY s.jid, s.id LIMIT $3) s ON true WHERE n.id = $1",
	                            4, p, &r);
	*out = NULL;
	*n = 0;
	*subs_version = -1;
	if (!res)
		return r;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++) {
		*subs_version = store_int(res, i, 9);
		if (PQgetisnull(res, i, 0))
			continue;
		struct sub_row *s = &(*out)[(*n)++];
		store_read_sub(res, i, 0, s);
		s->since_change = store_int(res, i, 8);
	}
	PQclear(res);
	return STORE_OK;
}

enum store_result store_presence_set(struct store *st, const char *bare_jid, bool shared)
{
	const char *p[] = {bare_jid};
	if (shared)
		return store_command(st, "presence_set",
		                     "INSERT INTO calpubsub_presence (jid) VALUES ($1) ON CONFLICT (jid) DO NOTHING", 1, p);
	return store_command(st, "presence_unset", "DELETE FROM calpubsub_presence WHERE jid = $1", 1, p);
}

enum store_result store_presence_get(struct store *st, const char *bare_jid, bool *shared)
{
	const char *p[] = {bare_jid};
	enum store_result r;
	PGresult *res = store_query(st, "presence_get", "SELECT 1 FROM calpubsub_presence WHERE jid = $1", 1, p, &r);
	if (!res)
		return r;
	*shared = PQntuples(res) > 0;
	PQclear(res);
	return STORE_OK;
}

enum store_result store_subs_drop_presence(struct store *st, const char *bare_jid, struct sub_row **removed,
                                           size_t *n)
{
	const char *p[] = {bare_jid};
	enum store_result r;
	PGresult *res = store_query(st, "subs_drop_presence",
	                            "DELETE FROM calpubsub_subscription s USING calpubsub_node n "
	                            "WHERE n.id = s.node_id AND s.bare_jid = $1 AND n.access_model = 'presence' "
	                            "AND n.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM calpubsub_affiliation a "
	                            "WHERE a.node_id = n.id AND a.jid = $1 AND a.affiliation IN "
	                            "('owner', 'publisher', 'member')) RETURNING " SUB_COLUMNS,
	                            1, p, &r);
	return read_subs(res, r, removed, n);
}

enum store_result store_nodes_with_pending(struct store *st, const char *owner_bare, char ***names, size_t *n)
{
	const char *p[] = {owner_bare};
	enum store_result r;
	*names = NULL;
	*n = 0;
	PGresult *res = store_query(st, "nodes_with_pending",
	                            "SELECT n.name FROM calpubsub_node n WHERE n.deleted_at IS NULL "
	                            "AND EXISTS (SELECT 1 FROM calpubsub_subscription s WHERE s.node_id = n.id "
	                            "AND s.state = 'pending') AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM "
	                            "calpubsub_affiliation a WHERE a.node_id = n.id AND a.jid = $1 AND "
	                            "a.affiliation = 'owner')) ORDER BY n.name",
	                            1, p, &r);
	if (!res)
		return r;
	int rows = PQntuples(res);
	*names = xcalloc((size_t)rows + 1, sizeof(char *));
	for (int i = 0; i < rows; i++)
		(*names)[i] = store_strdup(res, i, 0);
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}
