/* service_calendar.c: the service side of calendars: which objects a time-range query
 * looks at, and what becomes of rows that applications write into
 * calpubsub_calendar_object (published, retracted, or refused with a reason). */
#include "service_internal.h"

#include "../buf.h"
#include "../log.h"

#include <stdlib.h>
#include <string.h>

bool service_node_config(struct service *svc, const char *node, struct node_config *out, bool *exists,
                         struct ps_error *err)
{
	struct node_row row;
	enum store_result r = store_node_get(svc->store, node, &row);
	*exists = r == STORE_OK;
	if (r == STORE_NOT_FOUND)
		return true;
	if (r != STORE_OK)
		return store_failed(r, err);
	*out = row.cfg;
	memset(&row.cfg, 0, sizeof(row.cfg));
	node_row_free(&row);
	return true;
}

bool service_calendar_window(struct service *svc, const struct requester *rq, const char *node, int64_t from,
                             int64_t to, struct calobj_row **out, size_t *n, enum calendar_format *format,
                             struct ps_error *err)
{
	struct node_ctx ctx;
	if (!load_node(svc, rq, rq->bare, node, &ctx, err))
		return false;
	bool ok = allowed(&ctx, OP_RETRIEVE_ITEMS, NULL, err);
	if (ok && !ctx.node.cfg.calendar)
		ok = ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "calendar queries are for calendar nodes");
	if (ok) {
		enum store_result r = store_calobj_window(svc->store, ctx.node.name, from, to, out, n);
		ok = r == STORE_OK || store_failed(r, err);
	}
	*format = ctx.node.cfg.calendar_format;
	node_ctx_free(&ctx);
	return ok;
}

bool service_ingest_node(struct service *svc, const char *node, struct node_config *cfg, struct ps_error *err)
{
	bool exists;
	if (!service_node_config(svc, node, cfg, &exists, err))
		return false;
	if (exists) {
		if (cfg->calendar)
			return true;
		node_config_free(cfg);
		return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "node '%.100s' is not a calendar", node);
	}
	if (!svc->cfg->calendar_owner)
		return ps_fail(err, SC_ITEM_NOT_FOUND, PSE_NONE,
		               "there is no calendar node '%.100s' (set calendar.default_owner to have it created)", node);
	node_config_defaults(cfg);
	cfg->calendar = true;
	free(cfg->payload_type);
	cfg->payload_type = xstrdup("urn:ietf:params:xml:ns:icalendar-2.0");
	free(cfg->title);
	cfg->title = xstrdup(node);
	cfg->max_payload_size = svc->cfg->max_payload_size;
	struct requester owner = {.jid = svc->cfg->calendar_owner, .bare = svc->cfg->calendar_owner};
	int64_t id;
	bool ok = tx_begin(svc, err) && (create_node_in_tx(svc, &owner, node, cfg, &id, err) || tx_abort(svc)) &&
	          tx_commit(svc, err);
	if (ok)
		log_info("calendar '%s' created for rows written by an application (owner %s)", node, owner.bare);
	else
		node_config_free(cfg);
	return ok;
}

bool service_ingest_publish(struct service *svc, const struct ingest_object *o, struct ps_error *err)
{
	struct node_row node;
	enum store_result r = store_node_get(svc->store, o->node, &node);
	if (r != STORE_OK)
		return store_failed(r, err);
	const struct node_config *c = &node.cfg;
	bool ok = true;
	if (!node_config_takes_component(c, o->component))
		ok = ps_fail(err, SC_BAD_REQUEST, PSE_ITEM_FORBIDDEN, "calendar '%.100s' does not take %s components", o->node,
		             o->component);
	if (ok && (int64_t)strlen(o->payload) > c->max_payload_size)
		ok = ps_fail(err, SC_NOT_ACCEPTABLE, PSE_PAYLOAD_TOO_BIG, "the object exceeds %lld bytes",
		             (long long)c->max_payload_size);
	if (ok && tx_begin(svc, err)) {
		r = store_calobj_put(svc->store, o->node, o->uid, o->ics, o->component, o->range_start, o->range_end);
		ok = r == STORE_OK || store_failed(r, err);
		if (ok && c->persist_items) {
			r = store_item_put(svc->store, node.id, o->uid, o->payload, NULL, c->item_expire);
			ok = r == STORE_OK || store_failed(r, err);
		}
		if (ok && c->deliver_notifications) {
			struct change_input ch = {.node_id = node.id, .node = node.name, .kind = CH_PUBLISH, .item_id = o->uid,
			                          .payload = o->payload, .body = o->body};
			ok = log_change(svc, &ch, err);
		}
		ok = ok ? tx_commit(svc, err) : tx_abort(svc);
	} else {
		ok = false;
	}
	node_row_free(&node);
	return ok;
}

bool service_ingest_removed(struct service *svc, const char *node, const char *uid, struct ps_error *err)
{
	struct node_row row;
	enum store_result r = store_node_get(svc->store, node, &row);
	if (r == STORE_NOT_FOUND)
		return true; /* the calendar went away with its items */
	if (r != STORE_OK)
		return store_failed(r, err);
	bool ok = tx_begin(svc, err);
	if (ok) {
		bool deleted = false;
		r = store_item_delete(svc->store, row.id, uid, &deleted);
		ok = r == STORE_OK || store_failed(r, err);
		/* a node without stored items keeps no item to take the object with it */
		if (ok && (r = store_calobj_delete(svc->store, node, uid)) != STORE_OK)
			ok = store_failed(r, err);
		if (ok && deleted && row.cfg.notify_retract) {
			struct change_input ch = {.node_id = row.id, .node = row.name, .kind = CH_RETRACT, .item_id = uid};
			ok = log_change(svc, &ch, err);
		}
		ok = ok ? tx_commit(svc, err) : tx_abort(svc);
	}
	node_row_free(&row);
	return ok;
}

bool service_ingest_refuse(struct service *svc, const char *node, const char *uid, const char *problem,
                           struct ps_error *err)
{
	enum store_result r = store_calobj_refuse(svc->store, node, uid, problem);
	return r == STORE_OK || store_failed(r, err);
}
