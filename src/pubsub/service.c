/* service.c: the service object, requesters, node loading, transactions, and the owner
 * use cases on nodes: create, configure, default configuration, delete, purge, and
 * discovery. */
#include "service_internal.h"

#include "../buf.h"
#include "../jid.h"
#include "../log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define NODE_NAME_MAX 1023

struct service *service_new(struct store *st, const struct config *cfg)
{
	struct service *svc = xcalloc(1, sizeof(*svc));
	svc->store = st;
	svc->cfg = cfg;
	svc->limits.max_payload_size = cfg->max_payload_size;
	svc->limits.presence_access = true;
	return svc;
}

void service_free(struct service *svc)
{
	free(svc);
}

void service_set_item_encoder(struct service *svc, item_encoder_fn encode)
{
	svc->encode_item = encode;
}

void service_encode_item(const struct service *svc, const struct node_row *node, const char *item_id,
                         const char *ics, char **payload, char **body)
{
	struct buf p = BUF_INIT, b = BUF_INIT, why = BUF_INIT;
	bool ok = ics && svc->encode_item && svc->encode_item(ics, node->cfg.calendar_format == CF_JCAL, &p, &b, &why);
	if (!ok) {
		/* the database holds text that calpubsubctl validated: someone changed it since */
		log_error("item '%s' of node '%s': cannot encode its calendar object: %s", item_id, node->name,
		          !ics ? "the object is gone" : !svc->encode_item ? "no encoder" : buf_cstr(&why));
		buf_reset(&p);
		buf_reset(&b);
	}
	free(*payload);
	*payload = buf_steal(&p);
	if (ok && body && !*body)
		*body = buf_steal(&b);
	buf_free(&b);
	buf_free(&why);
}

/* Items read with no payload of their own get their calendar object's, encoded. */
void encode_imported_items(const struct service *svc, const struct node_row *node, struct item_row *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!items[i].payload)
			service_encode_item(svc, node, items[i].id, items[i].ics, &items[i].payload, NULL);
}

const struct node_limits *service_limits(const struct service *svc)
{
	return &svc->limits;
}

void service_random_id(char out[33])
{
	unsigned char raw[16];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		/* getrandom() on Linux does not fail for 16 bytes once the pool is ready; fall back
		 * to random() rather than handing out a predictable constant */
		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)random();
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

bool service_requester(struct service *svc, const char *from, struct requester *out, struct ps_error *err)
{
	memset(out, 0, sizeof(*out));
	out->jid = from ? jid_normalize(from) : NULL;
	out->bare = from ? jid_normalize_bare(from) : NULL;
	if (!out->jid || !out->bare) {
		requester_free(out);
		return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "the sender address is not a valid JID");
	}
	out->is_admin = config_is_admin(svc->cfg, out->bare);
	return true;
}

void requester_free(struct requester *r)
{
	free(r->jid);
	free(r->bare);
	memset(r, 0, sizeof(*r));
}

bool store_failed(enum store_result r, struct ps_error *err)
{
	switch (r) {
	case STORE_UNAVAILABLE: return ps_unavailable(err);
	case STORE_NOT_FOUND: return ps_fail(err, SC_ITEM_NOT_FOUND, PSE_NONE, "no such node");
	case STORE_CONFLICT: return ps_fail(err, SC_CONFLICT, PSE_NONE, "already exists");
	default: return ps_internal(err);
	}
}

static enum sub_state best_state(const struct sub_row *subs, size_t n)
{
	enum sub_state best = SUB_NONE;
	for (size_t i = 0; i < n; i++)
		if (subs[i].state > best)
			best = subs[i].state;
	return best;
}

bool load_node(struct service *svc, const struct requester *rq, const char *who, const char *name,
               struct node_ctx *ctx, struct ps_error *err)
{
	memset(ctx, 0, sizeof(*ctx));
	if (!name || !*name)
		return ps_fail(err, SC_BAD_REQUEST, PSE_NODEID_REQUIRED, "a node attribute is required");
	struct node_facts nf;
	enum store_result r = store_node_facts(svc->store, name, who, &nf);
	if (r != STORE_OK)
		return store_failed(r, err);
	ctx->node = nf.node;
	ctx->subs = nf.subs;
	ctx->n_subs = nf.n_subs;
	struct access_facts *f = &ctx->facts;
	f->is_admin = rq->is_admin;
	f->access_model = ctx->node.cfg.access_model;
	f->publish_model = ctx->node.cfg.publish_model;
	f->affiliation = nf.affiliation;
	f->presence_ok = f->access_model == AM_PRESENCE && nf.presence_shared;
	f->subscription = best_state(ctx->subs, ctx->n_subs);
	return true;
}

void node_ctx_free(struct node_ctx *ctx)
{
	node_row_free(&ctx->node);
	sub_rows_free(ctx->subs, ctx->n_subs);
	ctx->subs = NULL;
	ctx->n_subs = 0;
}

bool allowed(const struct node_ctx *ctx, enum operation op, bool *pending, struct ps_error *err)
{
	return access_check(op, &ctx->facts, pending, err);
}

bool tx_begin(struct service *svc, struct ps_error *err)
{
	if (svc->batching) {
		if (svc->batch_spoiled)
			return ps_fail_typed(err, SC_INTERNAL_SERVER_ERROR, SET_WAIT, PSE_NONE, "the request is retried");
		svc->batch_writers++;
		if (svc->batch_open)
			return true;
		svc->batch_open = true;
	}
	enum store_result r = store_begin(svc->store);
	return r == STORE_OK || store_failed(r, err);
}

bool tx_commit(struct service *svc, struct ps_error *err)
{
	if (svc->batching)
		return true;
	enum store_result r = store_commit(svc->store);
	if (r == STORE_OK)
		return true;
	store_rollback(svc->store);
	return store_failed(r, err);
}

bool tx_abort(struct service *svc)
{
	if (svc->batching)
		svc->batch_spoiled = true;
	else
		store_rollback(svc->store);
	return false;
}

void service_batch_start(struct service *svc)
{
	svc->batching = true;
	svc->batch_open = false;
	svc->batch_spoiled = false;
	svc->batch_writers = 0;
}

bool service_batch_healthy(const struct service *svc)
{
	/* a failed statement (even a read) leaves the shared transaction unusable */
	return !svc->batch_spoiled && (!svc->batch_open || store_in_transaction(svc->store));
}

bool service_batch_finish(struct service *svc)
{
	bool ok = service_batch_healthy(svc);
	svc->batching = false;
	if (!svc->batch_open)
		return ok;
	svc->batch_open = false;
	if (ok && store_commit(svc->store) == STORE_OK) {
		log_debug("group commit: %zu request%s in one transaction", svc->batch_writers,
		          svc->batch_writers == 1 ? "" : "s");
		return true;
	}
	store_rollback(svc->store);
	log_debug("group commit: a batch of %zu request%s failed and is rolled back", svc->batch_writers,
	          svc->batch_writers == 1 ? "" : "s");
	return false;
}

bool log_change(struct service *svc, const struct change_input *c, struct ps_error *err)
{
	enum store_result r = store_log_change(svc->store, c);
	return r == STORE_OK || store_failed(r, err);
}

bool announce_subscription(struct service *svc, const struct node_row *node, const char *jid, const char *subid,
                           enum sub_state state, bool tell_subscriber, struct ps_error *err)
{
	struct change_input c = {.node_id = node->id, .node = node->name, .kind = CH_SUBSCRIPTION, .subid = subid,
	                         .state = sub_state_name(state), .subject = jid};
	if (tell_subscriber) {
		c.target = jid;
		if (!log_change(svc, &c, err))
			return false;
	}
	/* pubsub#notify_sub: the owners hear of new subscribers and of unsubscribes */
	if (node->cfg.notify_sub && (state == SUB_SUBSCRIBED || state == SUB_NONE)) {
		c.target = NULL;
		if (!log_change(svc, &c, err))
			return false;
	}
	return true;
}

bool send_last_item(struct service *svc, const struct node_row *node, const char *jid, struct ps_error *err)
{
	if (node->cfg.send_last != SL_ON_SUB || !node->cfg.persist_items)
		return true;
	struct item_row *items;
	size_t n;
	int64_t preceding;
	enum store_result r = store_items_window(svc->store, node->id, RSM_LAST, NULL, 0, 1, &items, &n, &preceding);
	if (r != STORE_OK)
		return store_failed(r, err);
	encode_imported_items(svc, node, items, n);
	bool ok = true;
	if (n) {
		struct change_input c = {.node_id = node->id, .node = node->name, .kind = CH_LAST_ITEM,
		                         .item_id = items[0].id, .payload = items[0].payload,
		                         .publisher = items[0].publisher, .target = jid, .stamp = items[0].published_at};
		ok = log_change(svc, &c, err);
	}
	item_rows_free(items, n);
	return ok;
}

bool may_create(struct service *svc, const struct requester *rq, struct ps_error *err)
{
	if (config_may_create(svc->cfg, rq->bare))
		return true;
	return ps_fail(err, SC_FORBIDDEN, PSE_NONE, "you may not create nodes on this service");
}

void service_config_defaults(const struct service *svc, struct node_config *c)
{
	node_config_defaults(c);
	/* the service's pubsub.max_payload_size may be below the built-in default */
	if (c->max_payload_size > svc->limits.max_payload_size)
		c->max_payload_size = svc->limits.max_payload_size;
}

bool check_node_name(const char *name, struct ps_error *err)
{
	if (!name || !*name)
		return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NODEID_REQUIRED, "a node id is required");
	/* the column's CHECK (1 to 1023 characters) would fail with an internal error */
	if (strlen(name) > NODE_NAME_MAX)
		return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "a node id is at most %d bytes long", NODE_NAME_MAX);
	return true;
}

bool create_node_in_tx(struct service *svc, const struct requester *rq, const char *name,
                       const struct node_config *cfg, int64_t *id, struct ps_error *err)
{
	if (!check_node_name(name, err))
		return false;
	enum store_result r = store_node_create(svc->store, name, rq->bare, cfg, id);
	if (r == STORE_CONFLICT)
		return ps_fail(err, SC_CONFLICT, PSE_NONE, "a node with this name already exists");
	return r == STORE_OK || store_failed(r, err);
}

/* ---- discovery ---- */

bool service_list_nodes(struct service *svc, const struct requester *rq, struct node_listing **out, size_t *n,
                        struct ps_error *err)
{
	struct node_listing *all;
	size_t count;
	enum store_result r = store_node_list(svc->store, rq->bare, &all, &count);
	if (r != STORE_OK)
		return store_failed(r, err);
	size_t kept = 0;
	for (size_t i = 0; i < count; i++) {
		struct access_facts f = {.affiliation = all[i].affiliation, .is_admin = rq->is_admin,
		                         .access_model = all[i].access_model, .subscription = all[i].subscription};
		struct ps_error ignored;
		if (access_check(OP_SEE_NODE, &f, NULL, &ignored)) {
			all[kept++] = all[i];
		} else {
			free(all[i].name);
			free(all[i].title);
		}
	}
	*out = all;
	*n = kept;
	return true;
}

void node_info_free(struct node_info *ni)
{
	node_row_free(&ni->node);
	affiliation_rows_free(ni->affiliations, ni->n_affiliations);
	memset(ni, 0, sizeof(*ni));
}

bool service_node_info(struct service *svc, const struct requester *rq, const char *node, struct node_info *out,
                       struct ps_error *err)
{
	memset(out, 0, sizeof(*out));
	struct node_ctx ctx;
	if (!load_node(svc, rq, rq->bare, node, &ctx, err))
		return false;
	if (!allowed(&ctx, OP_SEE_NODE, NULL, err)) {
		node_ctx_free(&ctx);
		return false;
	}
	enum store_result r = store_affiliations_of_node(svc->store, ctx.node.id, &out->affiliations, &out->n_affiliations);
	if (r == STORE_OK)
		r = store_sub_count(svc->store, ctx.node.id, &out->subscribers);
	out->node = ctx.node;
	memset(&ctx.node, 0, sizeof(ctx.node));
	node_ctx_free(&ctx);
	if (r != STORE_OK) {
		node_info_free(out);
		return store_failed(r, err);
	}
	return true;
}

static void add_jids(struct form *f, const char *var, const char *label, const struct node_info *ni,
                     enum affiliation a)
{
	struct form_field *fl = form_add_field(f, var, FT_JID_MULTI, label);
	for (size_t i = 0; i < ni->n_affiliations; i++)
		if (ni->affiliations[i].affiliation == a)
			form_field_add_value(fl, ni->affiliations[i].jid);
}

struct form *service_meta_form(const struct node_info *ni)
{
	const struct node_config *c = &ni->node.cfg;
	struct form *f = form_new(FORM_RESULT);
	char num[32];
	form_add_hidden(f, "FORM_TYPE", FORM_META_DATA);
	form_add_text(f, "pubsub#title", FT_TEXT_SINGLE, "A short name for the node", c->title);
	form_add_text(f, "pubsub#description", FT_TEXT_SINGLE, "A description of the node", c->description);
	form_add_text(f, "pubsub#type", FT_TEXT_SINGLE, "Payload type", c->payload_type);
	form_add_text(f, "pubsub#creation_date", FT_TEXT_SINGLE, "Creation date", ni->node.created_at);
	if (ni->node.creator)
		form_add_text(f, "pubsub#creator", FT_JID_SINGLE, "Creator", ni->node.creator);
	add_jids(f, "pubsub#owner", "Owners", ni, AFF_OWNER);
	add_jids(f, "pubsub#publisher", "Publishers", ni, AFF_PUBLISHER);
	form_add_text(f, "pubsub#access_model", FT_LIST_SINGLE, "Access model", access_model_name(c->access_model));
	form_add_text(f, "pubsub#publish_model", FT_LIST_SINGLE, "Publish model", publish_model_name(c->publish_model));
	snprintf(num, sizeof(num), "%lld", (long long)ni->subscribers);
	form_add_text(f, "pubsub#num_subscribers", FT_TEXT_SINGLE, "Number of subscribers", num);
	if (c->max_items)
		snprintf(num, sizeof(num), "%lld", (long long)c->max_items);
	else
		snprintf(num, sizeof(num), "max");
	form_add_text(f, "pubsub#max_items", FT_TEXT_SINGLE, "Maximum number of items", num);
	return f;
}

/* ---- owner: nodes ---- */

static bool check_config_form(const struct form *f, struct ps_error *err)
{
	if (f->type != FORM_SUBMIT)
		return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "a configuration form must be of type submit");
	const char *ft = form_type_value(f);
	if (ft && strcmp(ft, FORM_NODE_CONFIG) != 0)
		return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "FORM_TYPE %.100s is not %s", ft, FORM_NODE_CONFIG);
	return true;
}

bool service_create(struct service *svc, const struct requester *rq, const char *node, const struct form *config,
                    char **created, struct ps_error *err)
{
	*created = NULL;
	if (!may_create(svc, rq, err))
		return false;
	char generated[33];
	if (!node) {
		service_random_id(generated);
		node = generated;
	}
	if (!check_node_name(node, err))
		return false;
	struct node_config cfg;
	service_config_defaults(svc, &cfg);
	if (config && (!check_config_form(config, err) || !node_config_apply(&cfg, config, &svc->limits, err))) {
		node_config_free(&cfg);
		return false;
	}
	int64_t id;
	bool ok = tx_begin(svc, err) && (create_node_in_tx(svc, rq, node, &cfg, &id, err) || tx_abort(svc)) &&
	          tx_commit(svc, err);
	node_config_free(&cfg);
	if (ok) {
		*created = xstrdup(node);
		log_info("node '%s' created by %s", node, rq->bare);
	}
	return ok;
}

bool service_get_config(struct service *svc, const struct requester *rq, const char *node, struct form **out,
                        struct ps_error *err)
{
	struct node_ctx ctx;
	if (!load_node(svc, rq, rq->bare, node, &ctx, err))
		return false;
	bool ok = allowed(&ctx, OP_CONFIGURE, NULL, err);
	if (ok)
		*out = node_config_form(&ctx.node.cfg, FORM_FORM, &svc->limits);
	node_ctx_free(&ctx);
	return ok;
}

struct form *service_default_config(struct service *svc)
{
	struct node_config cfg;
	service_config_defaults(svc, &cfg);
	struct form *f = node_config_form(&cfg, FORM_FORM, &svc->limits);
	node_config_free(&cfg);
	return f;
}

bool end_lost_subscriptions(struct service *svc, const struct node_row *node, const char *only_bare,
                            struct ps_error *err)
{
	enum access_model m = node->cfg.access_model;
	struct sub_row *subs;
	size_t n;
	enum store_result r;
	if (only_bare) {
		r = store_subs_on_node(svc->store, node->id, only_bare, true, &subs, &n);
	} else {
		/* open and authorize nodes take no subscription away from anyone but outcasts and
		 * publish-only entities, who hold none */
		if (m != AM_WHITELIST && m != AM_PRESENCE)
			return true;
		r = store_subs_of_node(svc->store, node->id,
		                       (1u << SUB_SUBSCRIBED) | (1u << SUB_UNCONFIGURED) | (1u << SUB_PENDING), &subs, &n);
	}
	if (r != STORE_OK)
		return store_failed(r, err);
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		char *bare = jid_normalize_bare(subs[i].jid);
		/* service admins act as owners everywhere: they keep theirs */
		struct access_facts f = {.access_model = m, .subscription = subs[i].state,
		                         .is_admin = config_is_admin(svc->cfg, bare)};
		r = store_affiliation_get(svc->store, node->id, bare, &f.affiliation);
		if (r == STORE_OK && m == AM_PRESENCE)
			r = store_presence_get(svc->store, bare, &f.presence_ok);
		free(bare);
		if (r != STORE_OK) {
			ok = store_failed(r, err);
			break;
		}
		struct ps_error why;
		if (access_check(OP_SUBSCRIBE, &f, NULL, &why))
			continue;
		r = store_sub_delete(svc->store, subs[i].id);
		ok = r == STORE_OK ? announce_subscription(svc, node, subs[i].jid, subs[i].subid, SUB_NONE, true, err)
		                   : store_failed(r, err);
	}
	sub_rows_free(subs, n);
	return ok;
}

/* Applies what a new configuration means for stored items: none kept on a transient
 * node, no more than max_items. */
static bool enforce_item_limits(struct service *svc, const struct node_row *node, struct ps_error *err)
{
	if (!node->cfg.persist_items) {
		enum store_result r = store_items_purge(svc->store, node->id);
		return r == STORE_OK || store_failed(r, err);
	}
	if (!node->cfg.max_items)
		return true;
	char **removed;
	size_t n;
	enum store_result r = store_items_trim(svc->store, node->id, node->cfg.max_items, &removed, &n);
	if (r != STORE_OK)
		return store_failed(r, err);
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		if (ok && node->cfg.notify_retract) {
			struct change_input c = {.node_id = node->id, .node = node->name, .kind = CH_RETRACT,
			                         .item_id = removed[i]};
			ok = log_change(svc, &c, err);
		}
		free(removed[i]);
	}
	free(removed);
	return ok;
}

bool service_configure(struct service *svc, const struct requester *rq, const char *node, const struct form *f,
                       struct ps_error *err)
{
	struct node_ctx ctx;
	if (!load_node(svc, rq, rq->bare, node, &ctx, err))
		return false;
	bool ok = allowed(&ctx, OP_CONFIGURE, NULL, err);
	if (ok && f->type == FORM_CANCEL) {
		node_ctx_free(&ctx);
		return true; /* XEP-0060 8.2.4: the existing configuration stays */
	}
	ok = ok && check_config_form(f, err) && node_config_apply(&ctx.node.cfg, f, &svc->limits, err);
	if (ok) {
		enum store_result r;
		ok = tx_begin(svc, err);
		if (ok && (r = store_node_configure(svc->store, ctx.node.id, &ctx.node.cfg)) != STORE_OK)
			ok = store_failed(r, err) || tx_abort(svc);
		ok = ok && (end_lost_subscriptions(svc, &ctx.node, NULL, err) || tx_abort(svc));
		ok = ok && (enforce_item_limits(svc, &ctx.node, err) || tx_abort(svc));
		if (ok && ctx.node.cfg.notify_config) {
			struct change_input c = {.node_id = ctx.node.id, .node = ctx.node.name, .kind = CH_CONFIG};
			ok = log_change(svc, &c, err) || tx_abort(svc);
		}
		ok = ok && tx_commit(svc, err);
	}
	node_ctx_free(&ctx);
	return ok;
}

static bool looks_like_uri(const char *s)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || strlen(s) > 2048)
		return false;
	for (const char *p = s; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (p > s && ((*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.'))))
			return false;
	return true;
}

bool service_delete(struct service *svc, const struct requester *rq, const char *node, const char *redirect,
                    struct ps_error *err)
{
	if (redirect && !looks_like_uri(redirect))
		return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "the redirect is not a URI");
	struct node_ctx ctx;
	if (!load_node(svc, rq, rq->bare, node, &ctx, err))
		return false;
	bool ok = allowed(&ctx, OP_DELETE, NULL, err) && tx_begin(svc, err);
	if (ok) {
		enum store_result r = store_node_mark_deleted(svc->store, ctx.node.id);
		ok = r == STORE_OK || store_failed(r, err) || tx_abort(svc);
		/* Logged even when notify_delete is off: the fan-out removes the node once every
		 * earlier change of it has been delivered. */
		struct change_input c = {.node_id = ctx.node.id, .node = ctx.node.name, .kind = CH_DELETE, .uri = redirect};
		ok = ok && (log_change(svc, &c, err) || tx_abort(svc)) && tx_commit(svc, err);
	}
	if (ok)
		log_info("node '%s' deleted by %s", ctx.node.name, rq->bare);
	node_ctx_free(&ctx);
	return ok;
}

bool service_purge(struct service *svc, const struct requester *rq, const char *node, struct ps_error *err)
{
	struct node_ctx ctx;
	if (!load_node(svc, rq, rq->bare, node, &ctx, err))
		return false;
	bool ok = allowed(&ctx, OP_PURGE, NULL, err);
	if (ok && !ctx.node.cfg.persist_items)
		ok = ps_unsupported(err, "persistent-items");
	ok = ok && tx_begin(svc, err);
	if (ok) {
		enum store_result r = store_items_purge(svc->store, ctx.node.id);
		ok = r == STORE_OK || store_failed(r, err) || tx_abort(svc);
		if (ok && ctx.node.cfg.notify_retract) {
			struct change_input c = {.node_id = ctx.node.id, .node = ctx.node.name, .kind = CH_PURGE};
			ok = log_change(svc, &c, err) || tx_abort(svc);
		}
		ok = ok && tx_commit(svc, err);
	}
	node_ctx_free(&ctx);
	return ok;
}
