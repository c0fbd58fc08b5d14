/* nodes.c: node rows and their configuration columns. */
#include "pubsub.h"

#include "../buf.h"
#include "../jid.h"
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void node_row_free(struct node_row *n)
{
	free(n->name);
	free(n->creator);
	free(n->created_at);
	node_config_free(&n->cfg);
	memset(n, 0, sizeof(*n));
}

/* The CHECK constraints guarantee the enum spellings. */
void store_read_node(const PGresult *res, int r, int c0, struct node_row *n)
{
	memset(n, 0, sizeof(*n));
	n->id = store_int(res, r, c0 + 0);
	n->name = store_strdup(res, r, c0 + 1);
	n->creator = store_strdup(res, r, c0 + 2);
	n->created_at = store_strdup(res, r, c0 + 3);
	n->deleted = store_bool(res, r, c0 + 4);
	struct node_config *c = &n->cfg;
	c->title = store_strdup(res, r, c0 + 5);
	c->description = store_strdup(res, r, c0 + 6);
	c->payload_type = store_strdup(res, r, c0 + 7);
	access_model_parse(PQgetvalue(res, r, c0 + 8), &c->access_model);
	publish_model_parse(PQgetvalue(res, r, c0 + 9), &c->publish_model);
	c->max_items = store_int(res, r, c0 + 10);
	c->item_expire = store_int(res, r, c0 + 11);
	c->max_payload_size = store_int(res, r, c0 + 12);
	c->persist_items = store_bool(res, r, c0 + 13);
	c->deliver_payloads = store_bool(res, r, c0 + 14);
	c->deliver_notifications = store_bool(res, r, c0 + 15);
	c->notify_config = store_bool(res, r, c0 + 16);
	c->notify_delete = store_bool(res, r, c0 + 17);
	c->notify_retract = store_bool(res, r, c0 + 18);
	c->notify_sub = store_bool(res, r, c0 + 19);
	c->subscribe = store_bool(res, r, c0 + 20);
	c->multi_subscribe = store_bool(res, r, c0 + 21);
	notification_type_parse(PQgetvalue(res, r, c0 + 22), &c->notification_type);
	send_last_parse(PQgetvalue(res, r, c0 + 23), &c->send_last);
	node_full_parse(PQgetvalue(res, r, c0 + 24), &c->node_full);
	itemreply_parse(PQgetvalue(res, r, c0 + 25), &c->itemreply);
	c->calendar = store_bool(res, r, c0 + 26);
	calendar_format_parse(PQgetvalue(res, r, c0 + 27), &c->calendar_format);
	c->calendar_components = store_strdup(res, r, c0 + 28);
	n->subs_version = store_int(res, r, c0 + 29);
}

static enum store_result one_node(PGresult *res, enum store_result r, struct node_row *out)
{
	if (!res)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return STORE_NOT_FOUND;
	}
	store_read_node(res, 0, 0, out);
	PQclear(res);
	return STORE_OK;
}

enum store_result store_node_get(struct store *st, const char *name, struct node_row *out)
{
	enum store_result r;
	const char *p[] = {name};
	PGresult *res = store_query(st, "node_get",
	                            "SELECT " NODE_COLUMNS " FROM calpubsub_node n WHERE n.name = $1 AND n.deleted_at IS NULL", 1,
	                            p, &r);
	return one_node(res, r, out);
}

enum store_result store_node_get_by_id(struct store *st, int64_t id, struct node_row *out)
{
	enum store_result r;
	char ids[24];
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	const char *p[] = {ids};
	PGresult *res = store_query(st, "node_get_by_id", "SELECT " NODE_COLUMNS " FROM calpubsub_node n WHERE n.id = $1", 1,
	                            p, &r);
	return one_node(res, r, out);
}

enum store_result store_node_facts(struct store *st, const char *name, const char *bare_jid, struct node_facts *out)
{
	memset(out, 0, sizeof(*out));
	enum store_result r;
	const char *p[] = {name, bare_jid};
	/* one round trip instead of four: every request to a node starts here */
	PGresult *res = store_query(
		st, "node_facts",
		"SELECT " NODE_COLUMNS ", (SELECT a.affiliation FROM calpubsub_affiliation a WHERE a.node_id = n.id AND "
		"a.jid = $2), EXISTS (SELECT 1 FROM calpubsub_presence pr WHERE pr.jid = $2), " SUB_COLUMNS
		" FROM calpubsub_node n LEFT JOIN calpubsub_subscription s ON s.node_id = n.id AND s.bare_jid = $2 "
		"WHERE n.name = $1 AND n.deleted_at IS NULL ORDER BY s.id",
		2, p, &r);
	if (!res)
		return r;
	int rows = PQntuples(res);
	if (rows == 0) {
		PQclear(res);
		return STORE_NOT_FOUND;
	}
	store_read_node(res, 0, 0, &out->node);
	out->affiliation = AFF_NONE;
	if (!PQgetisnull(res, 0, N_NODE_COLUMNS))
		affiliation_parse(PQgetvalue(res, 0, N_NODE_COLUMNS), &out->affiliation);
	out->presence_shared = store_bool(res, 0, N_NODE_COLUMNS + 1);
	int sub_col = N_NODE_COLUMNS + 2;
	out->subs = xcalloc((size_t)rows + 1, sizeof(*out->subs));
	for (int i = 0; i < rows; i++)
		if (!PQgetisnull(res, i, sub_col)) /* the LEFT JOIN's row for a JID without subscriptions */
			store_read_sub(res, i, sub_col, &out->subs[out->n_subs++]);
	PQclear(res);
	return STORE_OK;
}

/* The configuration as statement parameters $2..$25, in column order. */
#define N_CONFIG_PARAMS 24
struct config_params {
	char max_items[24], item_expire[24], max_payload[24];
	const char *v[N_CONFIG_PARAMS];
};

static const char *pg_bool(bool b)
{
	return b ? "t" : "f";
}

static void config_params(const struct node_config *c, struct config_params *p)
{
	snprintf(p->max_items, sizeof(p->max_items), "%" PRId64, c->max_items);
	snprintf(p->item_expire, sizeof(p->item_expire), "%" PRId64, c->item_expire);
	snprintf(p->max_payload, sizeof(p->max_payload), "%" PRId64, c->max_payload_size);
	const char *v[] = {
		c->title,
		c->description,
		c->payload_type,
		access_model_name(c->access_model),
		publish_model_name(c->publish_model),
		c->max_items ? p->max_items : NULL,
		c->item_expire ? p->item_expire : NULL,
		p->max_payload,
		pg_bool(c->persist_items),
		pg_bool(c->deliver_payloads),
		pg_bool(c->deliver_notifications),
		pg_bool(c->notify_config),
		pg_bool(c->notify_delete),
		pg_bool(c->notify_retract),
		pg_bool(c->notify_sub),
		pg_bool(c->subscribe),
		pg_bool(c->multi_subscribe),
		notification_type_name(c->notification_type),
		send_last_name(c->send_last),
		node_full_name(c->node_full),
		itemreply_name(c->itemreply),
		pg_bool(c->calendar),
		calendar_format_name(c->calendar_format),
		c->calendar_components,
	};
	memcpy(p->v, v, sizeof(v));
}

#define CONFIG_SET \
	"title = $2, description = $3, payload_type = $4, access_model = $5, publish_model = $6, " \
	"max_items = $7, item_expire = $8, max_payload_size = $9, persist_items = $10, deliver_payloads = $11, " \
	"deliver_notifications = $12, notify_config = $13, notify_delete = $14, notify_retract = $15, " \
	"notify_sub = $16, subscribe = $17, multi_subscribe = $18, notification_type = $19, send_last = $20, " \
	"node_full = $21, itemreply = $22, calendar = $23, calendar_format = $24, calendar_components = $25"

enum store_result store_node_create(struct store *st, const char *name, const char *creator,
                                    const struct node_config *cfg, int64_t *id)
{
	struct config_params cp = {0};
	config_params(cfg, &cp);
	const char *p[N_CONFIG_PARAMS + 2];
	p[0] = name;
	memcpy(p + 1, cp.v, sizeof(cp.v));
	p[N_CONFIG_PARAMS + 1] = creator;
	enum store_result r;
	PGresult *res = store_query(st, "node_create",
	                            "INSERT INTO calpubsub_node (name, title, description, payload_type, access_model, "
	                            "publish_model, max_items, item_expire, max_payload_size, persist_items, "
	                            "deliver_payloads, deliver_notifications, notify_config, notify_delete, "
	                            "notify_retract, notify_sub, subscribe, multi_subscribe, notification_type, "
	                            "send_last, node_full, itemreply, calendar, calendar_format, calendar_components, "
	                            "creator) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
	                            "$16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26) RETURNING id",
	                            N_CONFIG_PARAMS + 2, p, &r);
	if (!res)
		return r;
	*id = store_int(res, 0, 0);
	PQclear(res);
	if (creator)
		return store_affiliation_set(st, *id, creator, AFF_OWNER);
	return STORE_OK;
}

enum store_result store_node_configure(struct store *st, int64_t id, const struct node_config *cfg)
{
	struct config_params cp = {0};
	config_params(cfg, &cp);
	char ids[24];
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	const char *p[N_CONFIG_PARAMS + 1];
	p[0] = ids;
	memcpy(p + 1, cp.v, sizeof(cp.v));
	return store_command(st, "node_configure", "UPDATE calpubsub_node SET " CONFIG_SET " WHERE id = $1",
	                     N_CONFIG_PARAMS + 1, p);
}

static enum store_result by_id(struct store *st, const char *label, const char *sql, int64_t id)
{
	char ids[24];
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	const char *p[] = {ids};
	return store_command(st, label, sql, 1, p);
}

enum store_result store_node_mark_deleted(struct store *st, int64_t id)
{
	enum store_result r = by_id(st, "node_mark_deleted", "UPDATE calpubsub_node SET deleted_at = now() WHERE id = $1", id);
	if (r != STORE_OK)
		return r;
	r = by_id(st, "node_delete_items", "DELETE FROM calpubsub_item WHERE node_id = $1", id);
	if (r != STORE_OK)
		return r;
	/* calendar objects that never became items (pending or refused rows) go too */
	r = by_id(st, "node_delete_calendar_objects",
	          "DELETE FROM calpubsub_calendar_object WHERE node_name = (SELECT name FROM calpubsub_node WHERE id = $1)",
	          id);
	if (r != STORE_OK)
		return r;
	return by_id(st, "node_delete_affiliations", "DELETE FROM calpubsub_affiliation WHERE node_id = $1", id);
}

enum store_result store_node_remove(struct store *st, int64_t id)
{
	return by_id(st, "node_remove", "DELETE FROM calpubsub_node WHERE id = $1 AND deleted_at IS NOT NULL", id);
}

enum store_result store_nodes_reap(struct store *st, int64_t delivered_below)
{
	return by_id(st, "nodes_reap",
	             "DELETE FROM calpubsub_node n WHERE n.deleted_at IS NOT NULL AND NOT EXISTS "
	             "(SELECT 1 FROM calpubsub_change c WHERE c.node_id = n.id AND c.id >= $1)",
	             delivered_below);
}

void node_listing_free(struct node_listing *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].name);
		free(l[i].title);
	}
	free(l);
}

enum store_result store_node_list(struct store *st, const char *bare_jid, struct node_listing **out, size_t *n)
{
	enum store_result r;
	const char *p[] = {bare_jid};
	*out = NULL;
	*n = 0;
	PGresult *res = store_query(
		st, "node_list",
		"SELECT n.name, n.title, n.access_model, coalesce(a.affiliation, 'none'), "
		"coalesce((SELECT s.state FROM calpubsub_subscription s WHERE s.node_id = n.id AND s.bare_jid = $1 "
		"ORDER BY CASE s.state WHEN 'subscribed' THEN 0 WHEN 'unconfigured' THEN 1 ELSE 2 END LIMIT 1), 'none') "
		"FROM calpubsub_node n LEFT JOIN calpubsub_affiliation a ON a.node_id = n.id AND a.jid = $1 "
		"WHERE n.deleted_at IS NULL ORDER BY n.name",
		1, p, &r);
	if (!res)
		return r;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++) {
		struct node_listing *l = &(*out)[i];
		l->name = store_strdup(res, i, 0);
		l->title = store_strdup(res, i, 1);
		access_model_parse(PQgetvalue(res, i, 2), &l->access_model);
		affiliation_parse(PQgetvalue(res, i, 3), &l->affiliation);
		sub_state_parse(PQgetvalue(res, i, 4), &l->subscription);
	}
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}
