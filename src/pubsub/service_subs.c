/* service_subs.c: subscribers: subscribe (with options, approval, multiple
 * subscriptions), unsubscribe, subscription options, one's own subscriptions and
 * affiliations, and the presence sharing behind the presence access model. */
#include "service_internal.h"

#include "../buf.h"
#include "../jid.h"
#include "../log.h"

#include <stdlib.h>
#include <string.h>

/* A JID may hold this many subscriptions to one multi-subscribe node. */
#define MAX_SUBS_PER_JID 16

void sub_result_free(struct sub_result *r)
{
	free(r->node);
	free(r->jid);
	free(r->subid);
	memset(r, 0, sizeof(*r));
}

static void fill_result(struct sub_result *out, const char *node, const char *jid, const char *subid,
                        enum sub_state state, bool deliver, bool include_body)
{
	out->node = xstrdup(node);
	out->jid = xstrdup(jid);
	out->subid = subid ? xstrdup(subid) : NULL;
	out->state = state;
	out->deliver = deliver;
	out->include_body = include_body;
}

struct form *service_sub_options_form(const struct sub_row *s, enum form_type type)
{
	struct form *f = form_new(type);
	form_add_hidden(f, "FORM_TYPE", FORM_SUBSCRIBE_OPTIONS);
	form_add_bool(f, "pubsub#deliver", "Enable delivery?", s ? s->deliver : true);
	form_add_bool(f, "pubsub#include_body", "Receive message body in addition to payload?",
	              s ? s->include_body : false);
	return f;
}

/* Reads a submitted subscription options form into deliver/include_body. */
static bool apply_sub_options(const struct form *f, bool *deliver, bool *include_body, struct ps_error *err)
{
	const char *ft = form_type_value(f);
	if (f->type != FORM_SUBMIT || (ft && strcmp(ft, FORM_SUBSCRIBE_OPTIONS) != 0))
		return ps_fail(err, SC_BAD_REQUEST, PSE_INVALID_OPTIONS, "subscription options are a submit form of type %s",
		               FORM_SUBSCRIBE_OPTIONS);
	bool d = *deliver, b = *include_body;
	for (size_t i = 0; i < f->n_fields; i++) {
		const struct form_field *fl = &f->fields[i];
		bool *dst = NULL;
		if (fl->var && strcmp(fl->var, "pubsub#deliver") == 0)
			dst = &d;
		else if (fl->var && strcmp(fl->var, "pubsub#include_body") == 0)
			dst = &b;
		if (!dst)
			continue; /* unknown fields are ignored (XEP-0004 3.1) */
		if (fl->n_values != 1 || !form_parse_bool(fl->values[0], dst))
			return ps_fail(err, SC_BAD_REQUEST, PSE_INVALID_OPTIONS, "%s takes one boolean value", fl->var);
	}
	*deliver = d;
	*include_body = b;
	return true;
}

/* The JID in a subscription request: valid, and the requester's own unless the
 * requester is an admin (or, where owner says so, a node owner). */
static char *checked_jid(const struct requester *rq, const char *jid, bool owner_may, enum stanza_cond mismatch,
                         enum ps_app app, struct ps_error *err)
{
	if (!jid) {
		ps_fail(err, SC_BAD_REQUEST, PSE_JID_REQUIRED, "a jid attribute is required");
		return NULL;
	}
	char *norm = jid_normalize(jid);
	if (!norm) {
		/* subscribe (XEP-0060 6.1.3.1) answers every JID that cannot be the requester's
		 * with bad-request + invalid-jid; a malformed one cannot be, so it gets the same
		 * answer there, and jid-malformed elsewhere */
		if (app == PSE_INVALID_JID)
			ps_fail(err, SC_BAD_REQUEST, PSE_INVALID_JID, "'%.100s' is not a valid JID", jid);
		else
			ps_fail(err, SC_JID_MALFORMED, PSE_NONE, "'%.100s' is not a valid JID", jid);
		return NULL;
	}
	char *bare = jid_normalize_bare(norm);
	bool own = strcmp(bare, rq->bare) == 0;
	free(bare);
	if (!own && !rq->is_admin && !owner_may) {
		free(norm);
		ps_fail(err, mismatch, app, "you may only act on subscriptions of your own JID");
		return NULL;
	}
	return norm;
}

bool service_subscribe(struct service *svc, const struct requester *rq, const char *node, const char *jid,
                       const struct form *options, struct sub_result *out, struct ps_error *err)
{
	memset(out, 0, sizeof(*out));
	char *who = checked_jid(rq, jid, false, SC_BAD_REQUEST, PSE_INVALID_JID, err);
	if (!who)
		return false;
	char *who_bare = jid_normalize_bare(who);
	struct node_ctx ctx;
	bool ok = load_node(svc, rq, who_bare, node, &ctx, err);
	if (!ok) {
		free(who);
		free(who_bare);
		return false;
	}
	const struct node_config *c = &ctx.node.cfg;
	bool pending = false;
	if (!c->subscribe)
		ok = ps_unsupported(err, "subscribe");
	ok = ok && allowed(&ctx, OP_SUBSCRIBE, &pending, err);
	/* the subscriptions of exactly this JID, among those of its bare JID loaded with the node */
	const struct sub_row *first_mine = NULL;
	size_t n_mine = 0;
	for (size_t i = 0; ok && i < ctx.n_subs; i++) {
		if (strcmp(ctx.subs[i].jid, who) != 0)
			continue;
		if (!first_mine)
			first_mine = &ctx.subs[i];
		n_mine++;
		if (ctx.subs[i].state == SUB_PENDING)
			ok = ps_fail(err, SC_NOT_AUTHORIZED, PSE_PENDING_SUBSCRIPTION, "a subscription request is already pending");
	}
	if (ok && c->multi_subscribe && n_mine >= MAX_SUBS_PER_JID)
		ok = ps_fail_typed(err, SC_POLICY_VIOLATION, SET_WAIT, PSE_TOO_MANY_SUBSCRIPTIONS,
		                   "at most %d subscriptions per JID", MAX_SUBS_PER_JID); /* 6.1.3.9: type wait */
	bool deliver = true, include_body = false;
	const struct sub_row *existing = ok && n_mine && !c->multi_subscribe ? first_mine : NULL;
	if (existing) {
		deliver = existing->deliver;
		include_body = existing->include_body;
	}
	if (ok && options)
		ok = apply_sub_options(options, &deliver, &include_body, err);
	ok = ok && tx_begin(svc, err);
	if (ok) {
		enum store_result r;
		if (existing) {
			/* XEP-0060 6.1.6: subscribing again answers with the subscription as if it had
			 * just been approved */
			r = store_sub_update(svc->store, existing->id, existing->state, deliver, include_body);
			ok = r == STORE_OK || store_failed(r, err);
			if (ok)
				fill_result(out, ctx.node.name, who, existing->subid, existing->state, deliver, include_body);
		} else {
			char subid[33];
			int64_t id;
			service_random_id(subid);
			enum sub_state state = pending ? SUB_PENDING : SUB_SUBSCRIBED;
			r = store_sub_insert(svc->store, ctx.node.id, who, who_bare, subid, state, deliver, include_body, &id);
			ok = r == STORE_OK || store_failed(r, err);
			if (ok && pending) {
				struct change_input ch = {.node_id = ctx.node.id, .node = ctx.node.name, .kind = CH_APPROVAL,
				                          .subject = who, .subid = subid};
				ok = log_change(svc, &ch, err);
			} else if (ok) {
				ok = announce_subscription(svc, &ctx.node, who, subid, SUB_SUBSCRIBED, false, err);
			}
			if (ok)
				fill_result(out, ctx.node.name, who, subid, state, deliver, include_body);
		}
		if (ok && out->state == SUB_SUBSCRIBED)
			ok = send_last_item(svc, &ctx.node, who, err);
		out->options_applied = options != NULL;
		ok = ok ? tx_commit(svc, err) : tx_abort(svc);
		if (!ok)
			sub_result_free(out);
	}
	if (ok)
		log_debug("%s subscribed to '%s' (%s)", who, ctx.node.name, sub_state_name(out->state));
	node_ctx_free(&ctx);
	free(who);
	free(who_bare);
	return ok;
}

/* Finds the one subscription of exactly `who` a request is about (XEP-0060 6.2.3, 6.3.4),
 * among those load_node() read for who's bare JID. */
static bool pick_subscription(const struct node_ctx *ctx, const char *who, const char *subid,
                              enum stanza_error_type not_sub_type, const struct sub_row **out, struct ps_error *err)
{
	size_t n = 0;
	const struct sub_row *named = NULL, *last = NULL;
	for (size_t i = 0; i < ctx->n_subs; i++) {
		if (strcmp(ctx->subs[i].jid, who) != 0)
			continue;
		n++;
		last = &ctx->subs[i];
		if (subid && !named && strcmp(last->subid, subid) == 0)
			named = last;
	}
	if (n == 0)
		return ps_fail_typed(err, SC_UNEXPECTED_REQUEST, not_sub_type, PSE_NOT_SUBSCRIBED, "not subscribed");
	if (subid && !named)
		return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_INVALID_SUBID, "no subscription with this subid");
	if (!subid && n > 1)
		return ps_fail(err, SC_BAD_REQUEST, PSE_SUBID_REQUIRED, "you hold several subscriptions: name one by subid");
	*out = subid ? named : last;
	return true;
}

/* The node and the subscription of `jid` (the requester's own, or anyone's for an admin)
 * that an unsubscribe or options request is about. Returns who, normalised, or NULL. */
static char *load_target(struct service *svc, const struct requester *rq, const char *node, const char *jid,
                         const char *subid, enum stanza_error_type not_sub_type, struct node_ctx *ctx,
                         const struct sub_row **sub, struct ps_error *err)
{
	memset(ctx, 0, sizeof(*ctx));
	char *who = checked_jid(rq, jid, false, SC_FORBIDDEN, PSE_NONE, err);
	if (!who)
		return NULL;
	char *who_bare = jid_normalize_bare(who);
	bool ok = load_node(svc, rq, who_bare, node, ctx, err) && pick_subscription(ctx, who, subid, not_sub_type, sub, err);
	free(who_bare);
	if (!ok) {
		free(who);
		return NULL;
	}
	return who;
}

bool service_unsubscribe(struct service *svc, const struct requester *rq, const char *node, const char *jid,
                         const char *subid, struct sub_result *out, struct ps_error *err)
{
	memset(out, 0, sizeof(*out));
	struct node_ctx ctx;
	const struct sub_row *sub;
	char *who = load_target(svc, rq, node, jid, subid, SET_CANCEL, &ctx, &sub, err);
	bool ok = who && tx_begin(svc, err);
	if (ok) {
		enum store_result r = store_sub_delete(svc->store, sub->id);
		ok = (r == STORE_OK || store_failed(r, err)) &&
		     announce_subscription(svc, &ctx.node, who, sub->subid, SUB_NONE, false, err);
		ok = ok ? tx_commit(svc, err) : tx_abort(svc);
		if (ok)
			fill_result(out, ctx.node.name, who, sub->subid, SUB_NONE, false, false);
	}
	node_ctx_free(&ctx);
	free(who);
	return ok;
}

bool service_get_sub_options(struct service *svc, const struct requester *rq, const char *node, const char *jid,
                             const char *subid, struct form **out, struct ps_error *err)
{
	struct node_ctx ctx;
	const struct sub_row *sub;
	char *who = load_target(svc, rq, node, jid, subid, SET_MODIFY, &ctx, &sub, err);
	if (who)
		*out = service_sub_options_form(sub, FORM_FORM);
	node_ctx_free(&ctx);
	bool ok = who != NULL;
	free(who);
	return ok;
}

bool service_set_sub_options(struct service *svc, const struct requester *rq, const char *node, const char *jid,
                             const char *subid, const struct form *f, struct ps_error *err)
{
	struct node_ctx ctx;
	const struct sub_row *sub;
	char *who = load_target(svc, rq, node, jid, subid, SET_MODIFY, &ctx, &sub, err);
	bool ok = who != NULL;
	if (ok) {
		bool deliver = sub->deliver, include_body = sub->include_body;
		ok = apply_sub_options(f, &deliver, &include_body, err);
		if (ok) {
			enum store_result r = store_sub_update(svc->store, sub->id, sub->state, deliver, include_body);
			ok = r == STORE_OK || store_failed(r, err);
		}
	}
	node_ctx_free(&ctx);
	free(who);
	return ok;
}

bool service_default_sub_options(struct service *svc, const struct requester *rq, const char *node,
                                 struct form **out, struct ps_error *err)
{
	if (node) {
		struct node_ctx ctx;
		if (!load_node(svc, rq, rq->bare, node, &ctx, err))
			return false;
		node_ctx_free(&ctx);
	}
	*out = service_sub_options_form(NULL, FORM_RESULT);
	return true;
}

/* A node filter must name a live node. */
static bool check_node_exists(struct service *svc, const char *node, struct ps_error *err)
{
	if (!node)
		return true;
	struct node_row row;
	enum store_result r = store_node_get(svc->store, node, &row);
	if (r != STORE_OK)
		return store_failed(r, err);
	node_row_free(&row);
	return true;
}

bool service_own_subscriptions(struct service *svc, const struct requester *rq, const char *node,
                               struct sub_row **out, size_t *n, struct ps_error *err)
{
	if (!check_node_exists(svc, node, err))
		return false;
	enum store_result r = store_subs_of_bare(svc->store, rq->bare, node, out, n);
	return r == STORE_OK || store_failed(r, err);
}

bool service_own_affiliations(struct service *svc, const struct requester *rq, const char *node,
                              struct affiliation_row **out, size_t *n, struct ps_error *err)
{
	if (!check_node_exists(svc, node, err))
		return false;
	enum store_result r = store_affiliations_of_jid(svc->store, rq->bare, node, out, n);
	return r == STORE_OK || store_failed(r, err);
}

bool service_presence_shared(struct service *svc, const struct requester *rq, bool shared, struct ps_error *err)
{
	if (!tx_begin(svc, err))
		return false;
	enum store_result r = store_presence_set(svc->store, rq->bare, shared);
	bool ok = r == STORE_OK || store_failed(r, err);
	if (ok && !shared) {
		/* no longer sharing presence ends what the presence model granted (XEP-0060 12.14) */
		struct sub_row *gone = NULL;
		size_t n = 0;
		r = store_subs_drop_presence(svc->store, rq->bare, &gone, &n);
		ok = r == STORE_OK || store_failed(r, err);
		for (size_t i = 0; ok && i < n; i++) {
			struct node_row node;
			r = store_node_get_by_id(svc->store, gone[i].node_id, &node);
			ok = (r == STORE_OK || store_failed(r, err)) &&
			     announce_subscription(svc, &node, gone[i].jid, gone[i].subid, SUB_NONE, true, err);
			if (r == STORE_OK)
				node_row_free(&node);
		}
		sub_rows_free(gone, n);
	}
	ok = ok ? tx_commit(svc, err) : tx_abort(svc);
	if (ok)
		log_debug("%s %s presence with the service", rq->bare, shared ? "shares" : "no longer shares");
	return ok;
}
