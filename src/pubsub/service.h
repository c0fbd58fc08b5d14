/* service.h: the PubSub service (XEP-0060): every use case as a function that checks
 * the request, decides with access.c and node_config.c, and applies the change through
 * store/ in one transaction together with its change-log row. It never parses XML and
 * never speaks SQL; xmpp/ turns requests and results into stanzas. */
#ifndef CALPUBSUB_PUBSUB_SERVICE_H
#define CALPUBSUB_PUBSUB_SERVICE_H

#include "../buf.h"
#include "../config.h"
#include "../form.h"
#include "../store/calendar.h"
#include "../store/pubsub.h"
#include "model.h"
#include "node_config.h"
#include "rsm.h"

#include <stdbool.h>
#include <stddef.h>

struct service;

/* Who asks. Built once per request by service_requester(). */
struct requester {
	char *jid;  /* as the server stamped it */
	char *bare; /* normalised bare JID */
	bool is_admin;
};

struct service *service_new(struct store *st, const struct config *cfg);
void service_free(struct service *svc);
const struct node_limits *service_limits(const struct service *svc);

/* Encodes a calendar object's text as an item payload (xCal, or jCal when jcal) and its
 * one-line summary. main.c hands calendar/'s encoder in: an imported calendar item is
 * stored as its text and encoded whenever it is sent or returned. */
typedef bool (*item_encoder_fn)(const char *ics, bool jcal, struct buf *payload, struct buf *body, struct buf *err);
void service_set_item_encoder(struct service *svc, item_encoder_fn encode);
/* Sets *payload (and *body when body is not NULL and *body is NULL) from the text of an
 * imported item of node. On failure, logs why and gives an empty payload (and no body):
 * the item is still named, with nothing in it. */
void service_encode_item(const struct service *svc, const struct node_row *node, const char *item_id,
                         const char *ics, char **payload, char **body);

/* Group commit. Between start and finish, the operations that write share one
 * transaction, so that requests arriving together cost one durable commit instead of
 * one each. The caller holds their answers until finish: true means everything is
 * committed; false means the batch was rolled back (an operation failed after writing,
 * a statement failed, or the commit did) and each request must run again on its own.
 * healthy turns false as soon as that is known, so the caller can stop adding requests. */
void service_batch_start(struct service *svc);
bool service_batch_healthy(const struct service *svc);
bool service_batch_finish(struct service *svc);

/* False (with bad-request) when from is not a valid JID. */
bool service_requester(struct service *svc, const char *from, struct requester *out, struct ps_error *err);
void requester_free(struct requester *r);

/* ---- discovery ---- */

/* Nodes the requester may see (names, titles). */
bool service_list_nodes(struct service *svc, const struct requester *rq, struct node_listing **out, size_t *n,
                        struct ps_error *err);

struct node_info {
	struct node_row node;
	struct affiliation_row *affiliations;
	size_t n_affiliations;
	int64_t subscribers;
};
void node_info_free(struct node_info *ni);
/* A node's description (disco#info, meta-data), if the requester may see it. */
bool service_node_info(struct service *svc, const struct requester *rq, const char *node, struct node_info *out,
                       struct ps_error *err);
/* The XEP-0128 pubsub#meta-data form of a node. */
struct form *service_meta_form(const struct node_info *ni);

/* ---- owner: nodes ---- */

/* Creates a node (node NULL: an instant node with a generated id) with an optional
 * configure form; *created is the node's name. */
bool service_create(struct service *svc, const struct requester *rq, const char *node, const struct form *config,
                    char **created, struct ps_error *err);
bool service_get_config(struct service *svc, const struct requester *rq, const char *node, struct form **out,
                        struct ps_error *err);
bool service_configure(struct service *svc, const struct requester *rq, const char *node, const struct form *f,
                       struct ps_error *err);
struct form *service_default_config(struct service *svc);
bool service_delete(struct service *svc, const struct requester *rq, const char *node, const char *redirect,
                    struct ps_error *err);
bool service_purge(struct service *svc, const struct requester *rq, const char *node, struct ps_error *err);

/* ---- publishers ---- */

struct publish_request {
	const char *node;
	bool has_item;         /* an <item/> was given */
	const char *item_id;   /* NULL: generate one */
	const char *payload;   /* serialised payload element, NULL when the item is empty */
	const char *payload_ns; /* namespace of the payload element */
	int payload_elements;  /* element children of <item/> */
	const char *body;      /* a human-readable summary for pubsub#include_body, or NULL */
	const struct form *options; /* publish-options, or NULL */
	/* calendar nodes: the object decoded from the payload by xmpp/ with calendar/ */
	const char *calendar_ics;       /* canonical text, NULL when the payload is not one */
	const char *calendar_component; /* VEVENT, VTODO, VJOURNAL */
	int64_t range_start;
	int64_t range_end;
	/* Called once the node is known (loaded, or created by this publish) and the publisher
	 * allowed, with its configuration: fills in the calendar fields above. NULL: none. */
	bool (*prepare)(struct publish_request *pr, const struct node_config *cfg, void *arg, struct ps_error *err);
	void *prepare_arg;
};
/* On success *item_id is the id the item got (NULL on a transient notification-only
 * node, which keeps none). */
bool service_publish(struct service *svc, const struct requester *rq, struct publish_request *pr, char **item_id,
                     struct ps_error *err);
bool service_retract(struct service *svc, const struct requester *rq, const char *node, const char *item_id,
                     bool notify, struct ps_error *err);

/* ---- subscribers ---- */

struct sub_result {
	char *node;
	char *jid;
	char *subid;
	enum sub_state state;
	bool options_applied; /* a subscribe-with-options form was applied */
	bool deliver;
	bool include_body;
};
void sub_result_free(struct sub_result *r);
bool service_subscribe(struct service *svc, const struct requester *rq, const char *node, const char *jid,
                       const struct form *options, struct sub_result *out, struct ps_error *err);
bool service_unsubscribe(struct service *svc, const struct requester *rq, const char *node, const char *jid,
                         const char *subid, struct sub_result *out, struct ps_error *err);
/* Subscription options (XEP-0060 6.3): the form of one subscription, and its update. */
bool service_get_sub_options(struct service *svc, const struct requester *rq, const char *node, const char *jid,
                             const char *subid, struct form **out, struct ps_error *err);
bool service_set_sub_options(struct service *svc, const struct requester *rq, const char *node, const char *jid,
                             const char *subid, const struct form *f, struct ps_error *err);
/* Default subscription options (6.4); node may be NULL for the service default. */
bool service_default_sub_options(struct service *svc, const struct requester *rq, const char *node,
                                 struct form **out, struct ps_error *err);
/* A subscription options form with the values of s (or the defaults when s is NULL). */
struct form *service_sub_options_form(const struct sub_row *s, enum form_type type);

struct items_result {
	struct item_row *items;
	size_t n;
	bool with_publisher; /* pubsub#itemreply=publisher: show who published */
	bool has_set;        /* answer with an RSM <set/> */
	int64_t count;
	int64_t first_index;
};
void items_result_free(struct items_result *r);
/* Items of a node: the ones named (ids), or a window (max_items, rsm). */
bool service_get_items(struct service *svc, const struct requester *rq, const char *node, const char *const *ids,
                       size_t n_ids, const char *max_items, const struct rsm_request *rsm, const char *subid,
                       struct items_result *out, struct ps_error *err);

bool service_own_subscriptions(struct service *svc, const struct requester *rq, const char *node,
                               struct sub_row **out, size_t *n, struct ps_error *err);
bool service_own_affiliations(struct service *svc, const struct requester *rq, const char *node,
                              struct affiliation_row **out, size_t *n, struct ps_error *err);

/* ---- owners: subscriptions and affiliations ---- */

bool service_node_subscriptions(struct service *svc, const struct requester *rq, const char *node,
                                struct sub_row **out, size_t *n, struct ps_error *err);
/* One entry of an owner's modification; failed is set on entries that were refused. */
struct sub_change {
	const char *jid;
	const char *subid;
	const char *state; /* NULL: unchanged */
	bool failed;
	enum sub_state current; /* for failed entries: the state they keep */
};
/* Applies the valid entries and marks the others failed; false (not-acceptable) when any
 * failed, with the valid ones applied, as XEP-0060 8.8.2.4 asks. */
bool service_modify_subscriptions(struct service *svc, const struct requester *rq, const char *node,
                                  struct sub_change *changes, size_t n, struct ps_error *err);
bool service_node_affiliations(struct service *svc, const struct requester *rq, const char *node,
                               struct affiliation_row **out, size_t *n, struct ps_error *err);
struct aff_change {
	const char *jid;
	const char *affiliation; /* NULL: unchanged */
	bool failed;
	enum affiliation current;
};
bool service_modify_affiliations(struct service *svc, const struct requester *rq, const char *node,
                                 struct aff_change *changes, size_t n, struct ps_error *err);

/* ---- pending subscriptions (XEP-0060 8.6, 8.7) ---- */

/* Nodes on which the requester may approve subscriptions and that have pending ones. */
bool service_pending_nodes(struct service *svc, const struct requester *rq, char ***nodes, size_t *n,
                           struct ps_error *err);
/* Sends the requester an approval form for every pending subscription of the node. */
bool service_resend_pending(struct service *svc, const struct requester *rq, const char *node,
                            struct ps_error *err);
/* An owner's answer to an approval form. */
bool service_answer_approval(struct service *svc, const struct requester *rq, const char *node,
                             const char *subscriber, const char *subid, bool allow, struct ps_error *err);

/* ---- presence (the presence access model) ---- */

/* The requester shares (or stops sharing) presence with the service. */
bool service_presence_shared(struct service *svc, const struct requester *rq, bool shared, struct ps_error *err);

/* ---- calendars ---- */

/* The configuration of a live node, for xmpp/ to decide how to read a payload before
 * publishing; *exists is false (and true returned) when there is no such node. */
bool service_node_config(struct service *svc, const char *node, struct node_config *out, bool *exists,
                         struct ps_error *err);
/* The published objects of a calendar node whose occurrences may overlap [from, to),
 * when the requester may retrieve its items; *format says how the node publishes them. */
bool service_calendar_window(struct service *svc, const struct requester *rq, const char *node, int64_t from,
                             int64_t to, struct calobj_row **out, size_t *n, enum calendar_format *format,
                             struct ps_error *err);

/* PostgreSQL as a live source: what an application's row of calpubsub_calendar_object
 * becomes. The object was decoded and checked by the caller (live/ with calendar/). */
struct ingest_object {
	const char *node;
	const char *uid;
	const char *ics; /* canonical */
	const char *component;
	int64_t range_start;
	int64_t range_end;
	const char *payload; /* rendered in the node's format */
	const char *body;
};
/* Publishes the object (creating the calendar with calendar.default_owner when there is
 * none) and returns the node's payload format to use; false with err when the row
 * cannot be taken (the reason is recorded on the row by service_ingest_refuse). */
bool service_ingest_node(struct service *svc, const char *node, struct node_config *cfg, struct ps_error *err);
bool service_ingest_publish(struct service *svc, const struct ingest_object *o, struct ps_error *err);
/* The row is gone: retract its item. */
bool service_ingest_removed(struct service *svc, const char *node, const char *uid, struct ps_error *err);
/* Marks the row refused with a reason. */
bool service_ingest_refuse(struct service *svc, const char *node, const char *uid, const char *problem,
                           struct ps_error *err);

/* ---- housekeeping ---- */

/* Bounces of our notifications (XEP-0060 12.4) with a permanent error: the subscriptions
 * of exactly from[i] on nodes[i] end. One statement for many, since a vanished domain
 * bounces a whole fan-out. */
void service_notifications_bounced(struct service *svc, const int64_t *nodes, const char *const *from, size_t n);
/* Deletes expired items (announcing their retraction); returns the seconds until the
 * next expiry, or -1 when no item expires. */
double service_expire_items(struct service *svc);

/* A fresh random identifier (item ids, subids, instant node names). */
void service_random_id(char out[33]);

#endif
