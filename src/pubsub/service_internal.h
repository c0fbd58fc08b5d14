/* service_internal.h: what the service_*.c files share: the service state, loading a node
 * together with the facts access decisions need, transactions and change logging. */
#ifndef CALPUBSUB_PUBSUB_SERVICE_INTERNAL_H
#define CALPUBSUB_PUBSUB_SERVICE_INTERNAL_H

#include "access.h"
#include "service.h"

struct service {
	struct store *store;
	const struct config *cfg;
	struct node_limits limits;
	/* group commit (service_batch_start): operations share one transaction */
	bool batching;      /* tx_begin/tx_commit join the batch's transaction */
	bool batch_open;    /* its BEGIN has been sent */
	bool batch_spoiled; /* an operation failed after writing: the batch is rolled back */
	size_t batch_writers;
	item_encoder_fn encode_item;
};

/* A node with what the requester is to it. */
struct node_ctx {
	struct node_row node;
	struct access_facts facts;
	struct sub_row *subs; /* the requester's (bare JID) subscriptions on the node */
	size_t n_subs;
};

/* Maps a store failure to the client's error; NOT_FOUND means the node. */
bool store_failed(enum store_result r, struct ps_error *err);
/* Loads a live node and the facts about `who` (a bare JID) on it. A missing name is
 * bad-request + nodeid-required; an unknown node is item-not-found. */
bool load_node(struct service *svc, const struct requester *rq, const char *who, const char *name,
               struct node_ctx *ctx, struct ps_error *err);
void node_ctx_free(struct node_ctx *ctx);
/* Checks op for the requester on a loaded node. */
bool allowed(const struct node_ctx *ctx, enum operation op, bool *pending, struct ps_error *err);

/* Inside a batch (service_batch_start) these join the batch's one transaction: the first
 * tx_begin sends BEGIN, tx_commit leaves the writes to service_batch_finish, and
 * tx_abort spoils the batch, which is then rolled back and its requests run again one by one. */
bool tx_begin(struct service *svc, struct ps_error *err);
bool tx_commit(struct service *svc, struct ps_error *err);
/* Rolls back and returns false, for `return tx_abort(svc)` after a failure. */
bool tx_abort(struct service *svc);
bool log_change(struct service *svc, const struct change_input *c, struct ps_error *err);

/* Records that `jid` now has `state` on the node (target set: tell that JID; the owners
 * when notify_sub asks for it). */
bool announce_subscription(struct service *svc, const struct node_row *node, const char *jid, const char *subid,
                           enum sub_state state, bool tell_subscriber, struct ps_error *err);
/* Ends the subscriptions to the node that its access rules no longer allow (all of
 * them, or those of one bare JID), and tells their holders (XEP-0060 12.14: loss of
 * access through a stricter access model or a lower affiliation). */
bool end_lost_subscriptions(struct service *svc, const struct node_row *node, const char *only_bare,
                            struct ps_error *err);
/* Gives items read without a payload of their own (imported calendar items) their
 * calendar object's text encoded in the node's format. */
void encode_imported_items(const struct service *svc, const struct node_row *node, struct item_row *items, size_t n);
/* Queues the last published item for a new subscriber when the node sends it on
 * subscription (pubsub#send_last_published_item = on_sub). */
bool send_last_item(struct service *svc, const struct node_row *node, const char *jid, struct ps_error *err);
/* The default configuration of new nodes, within the service's limits. */
void service_config_defaults(const struct service *svc, struct node_config *c);
/* A node id the service can create: 1 to 1023 bytes (not-acceptable otherwise, with
 * nodeid-required when it is empty, XEP-0060 8.1.1). */
bool check_node_name(const char *name, struct ps_error *err);
/* Creates a node inside the caller's transaction. */
bool create_node_in_tx(struct service *svc, const struct requester *rq, const char *name,
                       const struct node_config *cfg, int64_t *id, struct ps_error *err);
/* Whether the requester may create nodes at all. */
bool may_create(struct service *svc, const struct requester *rq, struct ps_error *err);

#endif
