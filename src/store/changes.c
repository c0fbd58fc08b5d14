/* changes.c: the change log and the fan-out cursor. */
#include "pubsub.h"

#include "../buf.h"
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"publish",      "retract",  "purge",       "delete",   "config",
                                         "subscription", "approval", "affiliation", "last-item", "ingest"};

const char *change_kind_name(enum change_kind k)
{
	return kind_names[k];
}

static enum change_kind kind_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(kind_names[i], s) == 0)
			return (enum change_kind)i;
	return CH_PUBLISH;
}

void change_rows_free(struct change_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].node);
		free(r[i].item_id);
		free(r[i].payload);
		free(r[i].ics);
		free(r[i].publisher);
		free(r[i].target);
		free(r[i].subject);
		free(r[i].subid);
		free(r[i].state);
		free(r[i].uri);
		free(r[i].stamp);
		free(r[i].body);
		free(r[i].created_at);
		if (r[i].has_node)
			node_row_free(&r[i].node_row);
	}
	free(r);
}

enum store_result store_log_change(struct store *st, const struct change_input *c)
{
	char ids[24];
	snprintf(ids, sizeof(ids), "%" PRId64, c->node_id);
	const char *p[] = {ids,        c->node,  kind_names[c->kind], c->item_id, c->payload, c->publisher, c->target,
	                   c->subject, c->subid, c->state,           c->uri,     c->stamp,   c->body};
	store_want_ride(st);
	return store_command_later(st, "log_change",
	                           "SELECT calpubsub_log_change($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)", 13,
	                           p);
}

/* The changes after $1, at most $2, each with its node (and an import's item text). */
#define CHANGES_AFTER_SQL \
	"SELECT c.id, c.node_id, c.node_name, c.kind, c.item_id, coalesce(c.payload, i.payload), c.publisher, " \
	"c.target_jid, c.subject, c.subid, c.state, c.uri, c.stamp, c.body, " \
	"to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), " \
	"CASE WHEN c.payload IS NULL THEN coalesce(c.ics, CASE WHEN i.node_id IS NOT NULL THEN " \
	"calpubsub_item_text(i.node_id, i.item_id, i.payload, i.ics) END) END, " NODE_COLUMNS \
	" FROM calpubsub_change c LEFT JOIN calpubsub_node n ON n.id = c.node_id " \
	/* an import's change refers to its item, whose payload may be its calendar object's \
	 * text (006 and 007 in sql/) */ \
	"LEFT JOIN calpubsub_item i ON c.payload IS NULL AND c.ics IS NULL AND i.node_id = c.node_id " \
	"AND i.item_id = c.item_id AND i.change_id = c.id " \
	"WHERE c.id > $1 ORDER BY c.id LIMIT $2"

static void read_changes(PGresult *res, struct change_row **out, size_t *n)
{
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++) {
		struct change_row *c = &(*out)[i];
		c->id = store_int(res, i, 0);
		c->node_id = store_int(res, i, 1);
		c->node = store_strdup(res, i, 2);
		c->kind = kind_parse(PQgetvalue(res, i, 3));
		c->item_id = store_strdup(res, i, 4);
		c->payload = store_strdup(res, i, 5);
		c->publisher = store_strdup(res, i, 6);
		c->target = store_strdup(res, i, 7);
		c->subject = store_strdup(res, i, 8);
		c->subid = store_strdup(res, i, 9);
		c->state = store_strdup(res, i, 10);
		c->uri = store_strdup(res, i, 11);
		c->stamp = store_strdup(res, i, 12);
		c->body = store_strdup(res, i, 13);
		c->created_at = store_strdup(res, i, 14);
		c->ics = store_strdup(res, i, 15);
		c->has_node = !PQgetisnull(res, i, 16);
		if (c->has_node)
			store_read_node(res, i, 16, &c->node_row);
	}
	*n = (size_t)rows;
	PQclear(res);
}

/* The parameters of CHANGES_AFTER_SQL, as text. */
struct changes_after_params {
	char after[24], limit[16];
	const char *v[2];
};

static void changes_after_params(struct changes_after_params *p, int64_t after, int limit)
{
	snprintf(p->after, sizeof(p->after), "%" PRId64, after);
	snprintf(p->limit, sizeof(p->limit), "%d", limit);
	p->v[0] = p->after;
	p->v[1] = p->limit;
}

enum store_result store_changes_after(struct store *st, int64_t after, int limit, struct change_row **out,
                                      size_t *n)
{
	struct changes_after_params p = {.v = {NULL, NULL}};
	changes_after_params(&p, after, limit);
	enum store_result r;
	*out = NULL;
	*n = 0;
	PGresult *res = store_query(st, "changes_after", CHANGES_AFTER_SQL, 2, p.v, &r);
	if (!res)
		return r;
	read_changes(res, out, n);
	return STORE_OK;
}

void store_read_changes_with_commit(struct store *st, int64_t after, int limit)
{
	struct changes_after_params p = {.v = {NULL, NULL}};
	changes_after_params(&p, after, limit);
	store_ride_next_commit(st, after, "changes_after", CHANGES_AFTER_SQL, 2, p.v);
}

bool store_changes_read_with_commit(struct store *st, int64_t after, struct change_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	PGresult *res = store_take_ride(st, after);
	if (!res)
		return false;
	read_changes(res, out, n);
	return true;
}

enum store_result store_fanout_cursor(struct store *st, int64_t *change_id, char **position)
{
	enum store_result r;
	PGresult *res = store_query(st, "fanout_cursor", "SELECT change_id, position FROM calpubsub_fanout", 0, NULL, &r);
	if (!res)
		return r;
	*change_id = store_int(res, 0, 0);
	*position = store_strdup(res, 0, 1);
	PQclear(res);
	return STORE_OK;
}

enum store_result store_fanout_save(struct store *st, int64_t change_id, const char *position)
{
	char c[24];
	snprintf(c, sizeof(c), "%" PRId64, change_id);
	const char *p[] = {c, position};
	return store_command(st, "fanout_save", "UPDATE calpubsub_fanout SET change_id = $1, position = $2, updated_at = now()",
	                     2, p);
}

enum store_result store_changes_prune(struct store *st, int64_t below_id, int keep_seconds)
{
	char b[24], k[16];
	snprintf(b, sizeof(b), "%" PRId64, below_id);
	snprintf(k, sizeof(k), "%d", keep_seconds);
	const char *p[] = {b, k};
	return store_command(st, "changes_prune",
	                     "DELETE FROM calpubsub_change WHERE id < $1 AND created_at < now() - make_interval(secs => $2)",
	                     2, p);
}
