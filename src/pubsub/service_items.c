/* service_items.c: publishers and item retrieval: publish (with publish-options and
 * auto-create), retract, items with RSM, item expiry, and notification bounces. */
#include "service_internal.h"

#include "../buf.h"
#include "../jid.h"
#include "../log.h"

#include <stdlib.h>
#include <string.h>

#define ITEM_ID_MAX 1023
/* The largest retrieval reply we build, whatever the item count: servers refuse bigger
 * stanzas (Prosody's default limit for clients is 256 KiB). */
#define REPLY_BYTES_MAX (240 * 1024)

static bool payload_fits(const struct node_config *c, const struct node_limits *lim, const char *payload,
                         struct ps_error *err)
{
	/* a node configured before the service limit was lowered keeps its value: both apply */
	int64_t max_size = c->max_payload_size < lim->max_payload_size ? c->max_payload_size : lim->max_payload_size;
	if (payload && (int64_t)strlen(payload) > max_size)
		return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_PAYLOAD_TOO_BIG, "the payload exceeds %lld bytes",
		               (long long)max_size);
	return true;
}

/* XEP-0060 4.3 and 7.1.3.6/7.1.3.7: which item shapes a node takes. `published` is the
 * payload as it came, already measured; only one that prepare() replaced is measured
 * again. */
static bool check_item_shape(const struct node_config *c, const struct node_limits *lim,
                             const struct publish_request *pr, const char *published, struct ps_error *err)
{
	bool payload_node = c->deliver_payloads;
	if (!pr->has_item) {
		if (c->persist_items || payload_node)
			return ps_fail(err, SC_BAD_REQUEST, PSE_ITEM_REQUIRED, "publish an <item/> to this node");
		return true;
	}
	if (!c->persist_items && !payload_node)
		return ps_fail(err, SC_BAD_REQUEST, PSE_ITEM_FORBIDDEN, "this node takes notifications without items");
	if (pr->payload_elements > 1)
		return ps_fail(err, SC_BAD_REQUEST, PSE_INVALID_PAYLOAD, "an item carries exactly one payload element");
	if (pr->payload_elements == 0 && payload_node)
		return ps_fail(err, SC_BAD_REQUEST, PSE_PAYLOAD_REQUIRED, "this node needs a payload in each item");
	if (pr->payload && c->payload_type[0] && (!pr->payload_ns || strcmp(pr->payload_ns, c->payload_type) != 0))
		return ps_fail(err, SC_BAD_REQUEST, PSE_INVALID_PAYLOAD, "this node takes payloads of type %.200s",
		               c->payload_type);
	if (pr->payload != published && !payload_fits(c, lim, pr->payload, err))
		return false;
	if (pr->item_id && (!*pr->item_id || strlen(pr->item_id) > ITEM_ID_MAX))
		return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "an item id is 1 to %d bytes long", ITEM_ID_MAX);
	return true;
}

/* Stores the item and trims the node, inside the caller's transaction. */
static bool store_item(struct service *svc, const struct node_row *node, const char *item_id,
                       const struct publish_request *pr, const char *publisher, struct ps_error *err)
{
	const struct node_config *c = &node->cfg;
	enum store_result r;
	if (c->max_items && c->node_full == NF_REJECT) {
		bool exists;
		int64_t count;
		r = store_item_exists(svc->store, node->id, item_id, &exists, NULL);
		if (r == STORE_OK)
			r = store_item_count(svc->store, node->id, &count);
		if (r != STORE_OK)
			return store_failed(r, err);
		if (!exists && count >= c->max_items)
			return ps_fail_typed(err, SC_CONFLICT, SET_CANCEL, PSE_NODE_FULL, "the node holds its maximum of %lld items",
			                     (long long)c->max_items);
	}
	r = store_item_put(svc->store, node->id, item_id, pr->payload ? pr->payload : "", publisher, c->item_expire);
	if (r != STORE_OK)
		return store_failed(r, err);
	if (!c->max_items)
		return true;
	char **removed;
	size_t n;
	r = store_items_trim(svc->store, node->id, c->max_items, &removed, &n);
	if (r != STORE_OK)
		return store_failed(r, err);
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		/* retract-oldest announces what it removes (XEP-0060 7.1.2.5); discard-oldest is silent */
		if (ok && c->node_full == NF_RETRACT_OLDEST && c->notify_retract) {
			struct change_input ch = {.node_id = node->id, .node = node->name, .kind = CH_RETRACT, .item_id = removed[i]};
			ok = log_change(svc, &ch, err);
		}
		free(removed[i]);
	}
	free(removed);
	return ok;
}

/* Publish to a node that does not exist, by someone who may create nodes: XEP-0060
 * 7.1.4 auto-create, with the publish-options as its configuration (7.1.5 rule 3). */
static bool auto_create(struct service *svc, const struct requester *rq, const struct publish_request *pr,
                        struct node_ctx *ctx, struct ps_error *err)
{
	if (!check_node_name(pr->node, err))
		return false;
	memset(ctx, 0, sizeof(*ctx));
	service_config_defaults(svc, &ctx->node.cfg);
	if (pr->options) {
		struct form *as_config = form_new(FORM_SUBMIT);
		for (size_t i = 0; i < pr->options->n_fields; i++) {
			const struct form_field *fl = &pr->options->fields[i];
			if (!fl->var || strcmp(fl->var, "FORM_TYPE") == 0)
				continue;
			struct form_field *copy = form_add_field(as_config, fl->var, fl->type, NULL);
			for (size_t v = 0; v < fl->n_values; v++)
				form_field_add_value(copy, fl->values[v]);
		}
		/* every precondition must name a configuration field the node can take */
		struct node_config probe;
		node_config_copy(&probe, &ctx->node.cfg);
		bool known = node_config_check_preconditions(&probe, as_config, &svc->limits, err) ||
		             err->app == PSE_PRECONDITION_NOT_MET;
		node_config_free(&probe);
		bool ok = known && node_config_apply(&ctx->node.cfg, as_config, &svc->limits, err);
		form_free(as_config);
		if (!ok) {
			node_config_free(&ctx->node.cfg);
			return false;
		}
	}
	if (!create_node_in_tx(svc, rq, pr->node, &ctx->node.cfg, &ctx->node.id, err)) {
		node_config_free(&ctx->node.cfg);
		return false;
	}
	ctx->node.name = xstrdup(pr->node);
	ctx->facts.affiliation = AFF_OWNER;
	ctx->facts.access_model = ctx->node.cfg.access_model;
	ctx->facts.publish_model = ctx->node.cfg.publish_model;
	log_info("node '%s' created by %s on publish", pr->node, rq->bare);
	return true;
}

bool service_publish(struct service *svc, const struct requester *rq, struct publish_request *pr, char **item_id,
                     struct ps_error *err)
{
	*item_id = NULL;
	struct node_ctx ctx;
	if (!pr->node || !*pr->node)
		return ps_fail(err, SC_BAD_REQUEST, PSE_NODEID_REQUIRED, "a node attribute is required");
	if (pr->options) {
		const char *ft = form_type_value(pr->options);
		if (pr->options->type != FORM_SUBMIT || !ft || strcmp(ft, FORM_PUBLISH_OPTIONS) != 0)
			return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "publish-options is a submit form of type %s",
			               FORM_PUBLISH_OPTIONS);
	}
	/* Refusals are decided before the transaction begins: inside a group commit a
	 * failure after tx_begin rolls back every request that shares it. Only a node this
	 * publish creates is written before the checks. */
	bool created = false;
	if (!load_node(svc, rq, rq->bare, pr->node, &ctx, err)) {
		if (err->cond != SC_ITEM_NOT_FOUND)
			return false;
		if (!may_create(svc, rq, err))
			return ps_fail(err, SC_ITEM_NOT_FOUND, PSE_NONE, "no such node");
		if (!tx_begin(svc, err))
			return false;
		if (!auto_create(svc, rq, pr, &ctx, err))
			return tx_abort(svc);
		created = true;
	}
	const struct node_config *c = &ctx.node.cfg;
	const char *published = pr->payload;
	bool ok = (created || allowed(&ctx, OP_PUBLISH, NULL, err)) &&
	          (!pr->options || node_config_check_preconditions(c, pr->options, &svc->limits, err)) &&
	          /* the payload as published fits before it is decoded, and as stored after */
	          payload_fits(c, &svc->limits, published, err) &&
	          (!pr->prepare || pr->prepare(pr, c, pr->prepare_arg, err)) &&
	          check_item_shape(c, &svc->limits, pr, published, err);
	char generated[33];
	const char *id = pr->item_id;
	if (ok && pr->has_item && !id) {
		service_random_id(generated);
		id = generated;
	}
	if (ok && c->calendar && !pr->calendar_ics)
		ok = ps_fail(err, SC_BAD_REQUEST, PSE_INVALID_PAYLOAD, "a calendar node takes one calendar object per item");
	if (!created && (!ok || !tx_begin(svc, err))) {
		node_ctx_free(&ctx);
		return false;
	}
	if (ok && c->persist_items)
		ok = store_item(svc, &ctx.node, id, pr, rq->bare, err);
	if (ok && c->calendar) {
		enum store_result r = store_calobj_put(svc->store, ctx.node.name, id, pr->calendar_ics,
		                                       pr->calendar_component, pr->range_start, pr->range_end);
		ok = r == STORE_OK || store_failed(r, err);
	}
	if (ok && c->deliver_notifications) {
		struct change_input ch = {.node_id = ctx.node.id, .node = ctx.node.name, .kind = CH_PUBLISH, .item_id = id,
		                          .payload = pr->payload, .publisher = rq->bare, .body = pr->body};
		ok = log_change(svc, &ch, err);
	}
	ok = ok ? tx_commit(svc, err) : tx_abort(svc);
	if (ok && id)
		*item_id = xstrdup(id);
	node_ctx_free(&ctx);
	return ok;
}

bool service_retract(struct service *svc, const struct requester *rq, const char *node, const char *item_id,
                     bool notify, struct ps_error *err)
{
	if (!item_id || !*item_id)
		return ps_fail(err, SC_BAD_REQUEST, PSE_ITEM_REQUIRED, "name the item to retract");
	struct node_ctx ctx;
	if (!load_node(svc, rq, rq->bare, node, &ctx, err))
		return false;
	bool ok = true;
	if (!ctx.node.cfg.persist_items)
		ok = ps_unsupported(err, "persistent-items");
	/* Whoever may not even retract their own items is refused before the item is looked
	 * up, so that the answer does not tell them which items exist (7.2.3.1). */
	ok = ok && allowed(&ctx, OP_RETRACT_OWN, NULL, err);
	bool exists = false;
	char *publisher = NULL;
	if (ok) {
		enum store_result r = store_item_exists(svc->store, ctx.node.id, item_id, &exists, &publisher);
		ok = r == STORE_OK || store_failed(r, err);
	}
	if (ok && !exists)
		ok = ps_fail(err, SC_ITEM_NOT_FOUND, PSE_NONE, "no such item");
	if (ok) {
		bool own = publisher && strcmp(publisher, rq->bare) == 0;
		ok = allowed(&ctx, own ? OP_RETRACT_OWN : OP_RETRACT_ANY, NULL, err);
	}
	free(publisher);
	if (ok && tx_begin(svc, err)) {
		bool deleted;
		enum store_result r = store_item_delete(svc->store, ctx.node.id, item_id, &deleted);
		ok = r == STORE_OK || store_failed(r, err);
		/* XEP-0060 7.2.2.1 asks for notifications when notify is set; the node's
		 * notify_retract asks for them always */
		if (ok && (notify || ctx.node.cfg.notify_retract)) {
			struct change_input ch = {.node_id = ctx.node.id, .node = ctx.node.name, .kind = CH_RETRACT,
			                          .item_id = item_id};
			ok = log_change(svc, &ch, err);
		}
		ok = ok ? tx_commit(svc, err) : tx_abort(svc);
	} else {
		ok = false;
	}
	node_ctx_free(&ctx);
	return ok;
}

void items_result_free(struct items_result *r)
{
	item_rows_free(r->items, r->n);
	memset(r, 0, sizeof(*r));
}

/* Keeps the reply under REPLY_BYTES_MAX; the client pages for the rest. */
static bool trim_to_reply_size(struct items_result *out)
{
	size_t total = 0;
	for (size_t i = 0; i < out->n; i++) {
		total += strlen(out->items[i].payload) + strlen(out->items[i].id) + 64;
		if (total > REPLY_BYTES_MAX && i > 0) {
			for (size_t k = i; k < out->n; k++)
				item_row_clear(&out->items[k]);
			out->n = i;
			return true;
		}
	}
	return false;
}

bool service_get_items(struct service *svc, const struct requester *rq, const char *node, const char *const *ids,
                       size_t n_ids, const char *max_items, const struct rsm_request *rsm, const char *subid,
                       struct items_result *out, struct ps_error *err)
{
	(void)subid; /* XEP-0060 6.5.9.1: without multi-subscribe filtering, a SubID changes nothing */
	memset(out, 0, sizeof(*out));
	struct node_ctx ctx;
	if (!load_node(svc, rq, rq->bare, node, &ctx, err))
		return false;
	bool ok = allowed(&ctx, OP_RETRIEVE_ITEMS, NULL, err);
	if (ok && !ctx.node.cfg.persist_items)
		ok = ps_unsupported(err, "persistent-items");
	out->with_publisher = ctx.node.cfg.itemreply == IR_PUBLISHER;
	struct rsm_plan plan;
	enum store_result r = STORE_OK;
	if (ok && n_ids) {
		/* named items: RSM does not apply */
		r = store_items_by_id(svc->store, ctx.node.id, ids, n_ids, &out->items, &out->n);
		encode_imported_items(svc, &ctx.node, out->items, out->n);
	} else if (ok && rsm_plan_items(rsm, max_items, svc->cfg->max_reply_items, svc->cfg->max_reply_items, &plan, err)) {
		int64_t preceding = 0;
		r = store_item_count(svc->store, ctx.node.id, &out->count);
		if (r == STORE_OK && !plan.count_only)
			r = store_items_window(svc->store, ctx.node.id, plan.anchor, plan.key, plan.index, plan.limit,
			                       &out->items, &out->n, &preceding);
		if (r == STORE_NOT_FOUND)
			ok = ps_fail(err, SC_ITEM_NOT_FOUND, PSE_NONE, "the RSM anchor item does not exist");
		encode_imported_items(svc, &ctx.node, out->items, out->n);
		bool truncated = trim_to_reply_size(out);
		out->first_index = rsm_first_index(&plan, preceding);
		/* an answer that leaves items out says so (XEP-0060 6.5.4), unless the client
		 * asked for the last N with max_items */
		out->has_set = plan.explicit_rsm || truncated ||
		               (!max_items && (int64_t)out->n < out->count);
	} else {
		ok = false;
	}
	if (ok && r != STORE_OK)
		ok = store_failed(r, err);
	if (!ok)
		items_result_free(out);
	node_ctx_free(&ctx);
	return ok;
}

double service_expire_items(struct service *svc)
{
	struct ps_error err;
	for (;;) {
		struct expired_item *gone;
		size_t n;
		if (!tx_begin(svc, &err))
			return 1;
		enum store_result r = store_items_expire(svc->store, 500, &gone, &n);
		bool ok = r == STORE_OK;
		for (size_t i = 0; ok && i < n; i++) {
			if (!gone[i].notify_retract)
				continue;
			struct change_input ch = {.node_id = gone[i].node_id, .node = gone[i].node, .kind = CH_RETRACT,
			                          .item_id = gone[i].item_id};
			ok = log_change(svc, &ch, &err);
		}
		ok = ok ? tx_commit(svc, &err) : tx_abort(svc);
		if (ok && n)
			log_debug("expired %zu items", n);
		expired_items_free(gone, n);
		if (!ok)
			return 1; /* try again in a second */
		if (n < 500)
			break;
	}
	double next;
	if (store_items_next_expiry(svc->store, &next) != STORE_OK)
		return 1;
	return next;
}

void service_notifications_bounced(struct service *svc, const int64_t *nodes, const char *const *from, size_t n)
{
	size_t deleted = 0;
	if (store_subs_delete_pairs(svc->store, nodes, from, n, &deleted) == STORE_OK && deleted)
		log_info("%zu subscription%s ended: notifications to %s bounce%s", deleted, deleted == 1 ? "" : "s",
		         n == 1 ? from[0] : "them", n == 1 ? "s" : "");
}
