/* service_owner.c: owners managing a node's subscriptions and affiliations (XEP-0060
 * 8.8, 8.9) and subscription requests (8.6 approval forms, 8.7 get-pending). */
#include "service_internal.h"

#include "../buf.h"
#include "../jid.h"
#include "../log.h"

#include <stdlib.h>
#include <string.h>

static bool load_as_owner(struct service *svc, const struct requester *rq, const char *node, struct node_ctx *ctx,
                          struct ps_error *err)
{
	if (!load_node(svc, rq, rq->bare, node, ctx, err))
		return false;
	if (allowed(ctx, OP_MANAGE, NULL, err))
		return true;
	node_ctx_free(ctx);
	return false;
}

bool service_node_subscriptions(struct service *svc, const struct requester *rq, const char *node,
                                struct sub_row **out, size_t *n, struct ps_error *err)
{
	struct node_ctx ctx;
	if (!load_as_owner(svc, rq, node, &ctx, err))
		return false;
	/* XEP-0060 8.8.1: subscribed and unconfigured, not pending */
	enum store_result r = store_subs_of_node(svc->store, ctx.node.id, (1u << SUB_SUBSCRIBED) | (1u << SUB_UNCONFIGURED),
	                                         out, n);
	node_ctx_free(&ctx);
	return r == STORE_OK || store_failed(r, err);
}

/* Approves a pending subscription: it becomes subscribed, and the subscriber is told. */
static bool approve(struct service *svc, const struct node_row *node, const struct sub_row *s, struct ps_error *err)
{
	enum store_result r = store_sub_update(svc->store, s->id, SUB_SUBSCRIBED, s->deliver, s->include_body);
	return (r == STORE_OK || store_failed(r, err)) &&
	       announce_subscription(svc, node, s->jid, s->subid, SUB_SUBSCRIBED, true, err) &&
	       send_last_item(svc, node, s->jid, err);
}

static bool remove_sub(struct service *svc, const struct node_row *node, const struct sub_row *s, struct ps_error *err)
{
	enum store_result r = store_sub_delete(svc->store, s->id);
	return (r == STORE_OK || store_failed(r, err)) &&
	       announce_subscription(svc, node, s->jid, s->subid, SUB_NONE, true, err);
}

/* One entry of an owner's subscription change, inside the transaction. Returns false
 * with err set only for failures of the store; a refused entry is marked failed. */
static bool apply_sub_change(struct service *svc, const struct node_row *node, struct sub_change *ch,
                             struct ps_error *err)
{
	enum sub_state wanted = SUB_NONE;
	ch->current = SUB_NONE;
	char *jid = ch->jid ? jid_normalize(ch->jid) : NULL;
	if (!jid) {
		ch->failed = true;
		return true;
	}
	struct sub_row *subs;
	size_t n;
	enum store_result r = store_subs_on_node(svc->store, node->id, jid, false, &subs, &n);
	if (r != STORE_OK) {
		free(jid);
		return store_failed(r, err);
	}
	/* A refused entry comes back with the state it keeps (8.8.2.4): look it up first. An
	 * owner may not make a request pending, nor invent states. */
	if (ch->state && (!sub_state_parse(ch->state, &wanted) || wanted == SUB_PENDING)) {
		ch->failed = true;
		for (size_t i = 0; i < n; i++)
			if (!ch->subid || strcmp(subs[i].subid, ch->subid) == 0)
				ch->current = subs[i].state > ch->current ? subs[i].state : ch->current;
		sub_rows_free(subs, n);
		free(jid);
		return true;
	}
	bool ok = true;
	size_t matched = 0;
	for (size_t i = 0; ok && i < n; i++) {
		if (ch->subid && strcmp(subs[i].subid, ch->subid) != 0)
			continue;
		matched++;
		ch->current = subs[i].state;
		if (!ch->state || subs[i].state == wanted)
			continue;
		if (wanted == SUB_NONE)
			ok = remove_sub(svc, node, &subs[i], err);
		else if (subs[i].state == SUB_PENDING && wanted == SUB_SUBSCRIBED)
			ok = approve(svc, node, &subs[i], err);
		else {
			r = store_sub_update(svc->store, subs[i].id, wanted, subs[i].deliver, subs[i].include_body);
			ok = (r == STORE_OK || store_failed(r, err)) &&
			     announce_subscription(svc, node, subs[i].jid, subs[i].subid, wanted, true, err);
		}
	}
	if (ok && !matched) {
		if (ch->subid || !ch->state || wanted == SUB_NONE) {
			/* nothing to change: an unknown subid, or removing what is not there */
			ch->failed = ch->subid != NULL;
			ch->current = SUB_NONE;
		} else {
			/* the owner subscribes an entity (XEP-0060 8.8.2), unless the node's rules
			 * forbid that entity any subscription (an outcast, a publish-only entity) */
			char subid[33];
			int64_t id;
			char *bare = jid_normalize_bare(jid);
			struct access_facts f = {.access_model = AM_OPEN, .is_admin = config_is_admin(svc->cfg, bare)};
			struct ps_error why;
			r = store_affiliation_get(svc->store, node->id, bare, &f.affiliation);
			if (r != STORE_OK || !access_check(OP_SUBSCRIBE, &f, NULL, &why)) {
				ch->failed = r == STORE_OK;
				ok = r == STORE_OK || store_failed(r, err);
				free(bare);
				sub_rows_free(subs, n);
				free(jid);
				return ok;
			}
			service_random_id(subid);
			r = store_sub_insert(svc->store, node->id, jid, bare, subid, wanted, true, false, &id);
			free(bare);
			ok = (r == STORE_OK || store_failed(r, err)) &&
			     announce_subscription(svc, node, jid, subid, wanted, true, err) &&
			     (wanted != SUB_SUBSCRIBED || send_last_item(svc, node, jid, err));
		}
	}
	sub_rows_free(subs, n);
	free(jid);
	return ok;
}

bool service_modify_subscriptions(struct service *svc, const struct requester *rq, const char *node,
                                  struct sub_change *changes, size_t n, struct ps_error *err)
{
	struct node_ctx ctx;
	if (!load_as_owner(svc, rq, node, &ctx, err))
		return false;
	bool ok = tx_begin(svc, err);
	for (size_t i = 0; ok && i < n; i++)
		ok = apply_sub_change(svc, &ctx.node, &changes[i], err);
	ok = ok ? tx_commit(svc, err) : tx_abort(svc);
	node_ctx_free(&ctx);
	if (!ok)
		return false;
	for (size_t i = 0; i < n; i++)
		if (changes[i].failed)
			return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "some entries could not be applied");
	return true;
}

bool service_node_affiliations(struct service *svc, const struct requester *rq, const char *node,
                               struct affiliation_row **out, size_t *n, struct ps_error *err)
{
	struct node_ctx ctx;
	if (!load_as_owner(svc, rq, node, &ctx, err))
		return false;
	enum store_result r = store_affiliations_of_node(svc->store, ctx.node.id, out, n);
	node_ctx_free(&ctx);
	return r == STORE_OK || store_failed(r, err);
}

/* What an affiliation change does to the entity's subscriptions: a member or better has
 * its pending requests approved (XEP-0060 8.7.4 note); whoever the node's access rules no
 * longer let subscribe (an outcast, a publish-only entity, a member taken off a
 * whitelist) loses them and is told. */
static bool affiliation_side_effects(struct service *svc, const struct node_row *node, const char *bare,
                                     enum affiliation a, struct ps_error *err)
{
	if (affiliation_is_member(a)) {
		struct sub_row *subs;
		size_t n;
		enum store_result r = store_subs_on_node(svc->store, node->id, bare, true, &subs, &n);
		if (r != STORE_OK)
			return store_failed(r, err);
		bool ok = true;
		for (size_t i = 0; ok && i < n; i++)
			if (subs[i].state == SUB_PENDING)
				ok = approve(svc, node, &subs[i], err);
		sub_rows_free(subs, n);
		return ok;
	}
	return end_lost_subscriptions(svc, node, bare, err);
}

bool service_modify_affiliations(struct service *svc, const struct requester *rq, const char *node,
                                 struct aff_change *changes, size_t n, struct ps_error *err)
{
	struct node_ctx ctx;
	if (!load_as_owner(svc, rq, node, &ctx, err))
		return false;
	struct affiliation_row *current;
	size_t n_current;
	enum store_result r = store_affiliations_of_node(svc->store, ctx.node.id, &current, &n_current);
	if (r != STORE_OK) {
		node_ctx_free(&ctx);
		return store_failed(r, err);
	}
	/* Validate every entry first: bare JIDs, known affiliations, no JID twice. */
	char **bares = xcalloc(n + 1, sizeof(char *));
	enum affiliation *wanted = xcalloc(n + 1, sizeof(*wanted));
	bool ok = true;
	int owners = 0;
	for (size_t k = 0; k < n_current; k++)
		owners += current[k].affiliation == AFF_OWNER;
	for (size_t i = 0; i < n; i++) {
		struct aff_change *ch = &changes[i];
		bares[i] = ch->jid ? jid_normalize_bare(ch->jid) : NULL;
		ch->current = AFF_NONE;
		for (size_t k = 0; bares[i] && k < n_current; k++)
			if (strcmp(current[k].jid, bares[i]) == 0)
				ch->current = current[k].affiliation;
		wanted[i] = ch->current;
		if (!bares[i] || (ch->affiliation && !affiliation_parse(ch->affiliation, &wanted[i])))
			ch->failed = true;
		for (size_t j = 0; ok && bares[i] && j < i; j++)
			if (bares[j] && strcmp(bares[i], bares[j]) == 0)
				ok = ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "%.100s appears twice", bares[i]);
	}
	/* The last owner can never be removed: refuse the demotions that would. */
	for (size_t i = 0; ok && i < n; i++) {
		if (changes[i].failed || changes[i].current != AFF_OWNER || wanted[i] == AFF_OWNER)
			continue;
		int remaining = owners;
		for (size_t j = 0; j < n; j++) {
			if (changes[j].failed)
				continue;
			if (changes[j].current == AFF_OWNER && wanted[j] != AFF_OWNER)
				remaining--;
			else if (changes[j].current != AFF_OWNER && wanted[j] == AFF_OWNER)
				remaining++;
		}
		if (remaining < 1)
			changes[i].failed = true;
	}
	bool in_tx = ok && tx_begin(svc, err);
	ok = ok && in_tx;
	for (size_t i = 0; ok && i < n; i++) {
		struct aff_change *ch = &changes[i];
		if (ch->failed || wanted[i] == ch->current)
			continue;
		r = store_affiliation_set(svc->store, ctx.node.id, bares[i], wanted[i]);
		ok = (r == STORE_OK || store_failed(r, err)) &&
		     affiliation_side_effects(svc, &ctx.node, bares[i], wanted[i], err);
		if (ok) {
			struct change_input c = {.node_id = ctx.node.id, .node = ctx.node.name, .kind = CH_AFFILIATION,
			                         .target = bares[i], .subject = bares[i], .state = affiliation_name(wanted[i])};
			ok = log_change(svc, &c, err);
		}
	}
	if (in_tx)
		ok = ok ? tx_commit(svc, err) : tx_abort(svc);
	for (size_t i = 0; i < n; i++)
		free(bares[i]);
	free(bares);
	free(wanted);
	affiliation_rows_free(current, n_current);
	node_ctx_free(&ctx);
	if (!ok)
		return false;
	for (size_t i = 0; i < n; i++)
		if (changes[i].failed)
			return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE,
			               "some entries could not be applied (invalid, or they would leave no owner)");
	return true;
}

/* Whether the requester owns a live node: who owns none has no approval rights at all. */
static bool owns_a_node(struct service *svc, const struct requester *rq, bool *owns, struct ps_error *err)
{
	struct affiliation_row *affs;
	size_t n;
	enum store_result r = store_affiliations_of_jid(svc->store, rq->bare, NULL, &affs, &n);
	if (r != STORE_OK)
		return store_failed(r, err);
	*owns = false;
	for (size_t i = 0; i < n; i++)
		*owns |= affs[i].affiliation == AFF_OWNER;
	affiliation_rows_free(affs, n);
	return true;
}

bool service_pending_nodes(struct service *svc, const struct requester *rq, char ***nodes, size_t *n,
                           struct ps_error *err)
{
	*nodes = NULL;
	*n = 0;
	bool owns = rq->is_admin;
	if (!owns && !owns_a_node(svc, rq, &owns, err))
		return false;
	if (!owns) /* XEP-0060 8.7.3.3; the example's type is cancel, as XEP-0050 4.4 has it */
		return ps_fail_typed(err, SC_FORBIDDEN, SET_CANCEL, PSE_NONE, "you own no node on this service");
	enum store_result r = store_nodes_with_pending(svc->store, rq->is_admin ? NULL : rq->bare, nodes, n);
	return r == STORE_OK || store_failed(r, err);
}

bool service_resend_pending(struct service *svc, const struct requester *rq, const char *node,
                            struct ps_error *err)
{
	struct node_ctx ctx;
	if (!load_as_owner(svc, rq, node, &ctx, err))
		return false;
	struct sub_row *subs;
	size_t n;
	enum store_result r = store_subs_of_node(svc->store, ctx.node.id, 1u << SUB_PENDING, &subs, &n);
	bool ok = (r == STORE_OK || store_failed(r, err)) && tx_begin(svc, err);
	for (size_t i = 0; ok && i < n; i++) {
		struct change_input c = {.node_id = ctx.node.id, .node = ctx.node.name, .kind = CH_APPROVAL,
		                         .target = rq->jid, .subject = subs[i].jid, .subid = subs[i].subid};
		ok = log_change(svc, &c, err);
	}
	if (r == STORE_OK) {
		ok = ok ? tx_commit(svc, err) : tx_abort(svc);
		sub_rows_free(subs, n);
	}
	node_ctx_free(&ctx);
	return ok;
}

bool service_answer_approval(struct service *svc, const struct requester *rq, const char *node,
                             const char *subscriber, const char *subid, bool allow, struct ps_error *err)
{
	struct node_ctx ctx;
	if (!load_as_owner(svc, rq, node, &ctx, err))
		return false;
	char *jid = subscriber ? jid_normalize(subscriber) : NULL;
	struct sub_row *subs = NULL, *pending = NULL;
	size_t n = 0;
	bool ok = jid != NULL || ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "pubsub#subscriber_jid is not a JID");
	if (ok) {
		enum store_result r = store_subs_on_node(svc->store, ctx.node.id, jid, false, &subs, &n);
		ok = r == STORE_OK || store_failed(r, err);
	}
	for (size_t i = 0; ok && i < n && !pending; i++)
		if (subs[i].state == SUB_PENDING && (!subid || strcmp(subs[i].subid, subid) == 0))
			pending = &subs[i];
	if (ok && !pending) /* nothing to answer: cancel, retrying will not help (checklist 8.6) */
		ok = ps_fail_typed(err, SC_UNEXPECTED_REQUEST, SET_CANCEL, PSE_NONE,
		                   "no pending subscription of %.100s on this node", jid);
	if (ok && tx_begin(svc, err)) {
		ok = allow ? approve(svc, &ctx.node, pending, err) : remove_sub(svc, &ctx.node, pending, err);
		ok = ok ? tx_commit(svc, err) : tx_abort(svc);
		if (ok)
			log_info("%s %s the subscription of %s to '%s'", rq->bare, allow ? "approved" : "denied", jid,
			         ctx.node.name);
	} else {
		ok = false;
	}
	sub_rows_free(subs, n);
	free(jid);
	node_ctx_free(&ctx);
	return ok;
}
