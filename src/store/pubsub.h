/* pubsub.h: storage of the PubSub service: nodes, affiliations, subscriptions, items,
 * presence, and the change log with the fan-out cursor. Every function is one statement
 * or a short fixed sequence; transactions are composed by the caller with
 * store_begin/store_commit. */
#ifndef CALPUBSUB_STORE_PUBSUB_H
#define CALPUBSUB_STORE_PUBSUB_H

#include "../pubsub/model.h"
#include "../pubsub/node_config.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- nodes ---- */

struct node_row {
	int64_t id;
	char *name;
	char *creator;
	char *created_at; /* XEP-0082 DateTime, UTC */
	bool deleted;
	struct node_config cfg;
	/* counts the writes to the node's subscriptions (sql/008) */
	int64_t subs_version;
};

void node_row_free(struct node_row *n);
/* A live node by name (STORE_NOT_FOUND when none). */
enum store_result store_node_get(struct store *st, const char *name, struct node_row *out);
/* A live node with what one bare JID is to it: its affiliation, its subscriptions (all
 * resources, oldest first) and whether it shares presence with the service. */
struct node_facts {
	struct node_row node;
	enum affiliation affiliation;
	bool presence_shared;
	struct sub_row *subs;
	size_t n_subs;
};
enum store_result store_node_facts(struct store *st, const char *name, const char *bare_jid, struct node_facts *out);
/* Any node by id, including one whose deletion is still being announced. */
enum store_result store_node_get_by_id(struct store *st, int64_t id, struct node_row *out);
/* Creates the node and makes creator its owner (STORE_CONFLICT when the name is taken). */
enum store_result store_node_create(struct store *st, const char *name, const char *creator,
                                    const struct node_config *cfg, int64_t *id);
enum store_result store_node_configure(struct store *st, int64_t id, const struct node_config *cfg);
/* Marks the node deleted and removes its items; subscriptions stay until the deletion
 * has been announced, then store_node_remove() drops the row and everything under it. */
enum store_result store_node_mark_deleted(struct store *st, int64_t id);
enum store_result store_node_remove(struct store *st, int64_t id);
/* Removes deleted nodes that have no change left at or after delivered_below. */
enum store_result store_nodes_reap(struct store *st, int64_t delivered_below);

/* One node as a requester sees it in a listing. */
struct node_listing {
	char *name;
	char *title;
	enum access_model access_model;
	enum affiliation affiliation; /* the requester's */
	enum sub_state subscription;  /* the requester's best */
};
enum store_result store_node_list(struct store *st, const char *bare_jid, struct node_listing **out, size_t *n);
void node_listing_free(struct node_listing *l, size_t n);

/* ---- affiliations ---- */

struct affiliation_row {
	char *node;
	char *jid;
	enum affiliation affiliation;
};
void affiliation_rows_free(struct affiliation_row *r, size_t n);
enum store_result store_affiliation_get(struct store *st, int64_t node_id, const char *bare_jid,
                                        enum affiliation *out);
enum store_result store_affiliations_of_node(struct store *st, int64_t node_id, struct affiliation_row **out,
                                             size_t *n);
/* The requester's affiliations on every live node, or on one (node_name not NULL). */
enum store_result store_affiliations_of_jid(struct store *st, const char *bare_jid, const char *node_name,
                                            struct affiliation_row **out, size_t *n);
/* AFF_NONE removes the row. */
enum store_result store_affiliation_set(struct store *st, int64_t node_id, const char *bare_jid, enum affiliation a);

/* ---- subscriptions ---- */

struct sub_row {
	int64_t id;
	int64_t node_id;
	char *node;
	char *jid;
	char *subid;
	enum sub_state state;
	bool deliver;
	bool include_body;
	int64_t since_change; /* store_subs_page() only */
};
void sub_rows_free(struct sub_row *r, size_t n);
/* Subscriptions on a node whose JID is exactly jid (bare_match: whose bare JID is jid). */
enum store_result store_subs_on_node(struct store *st, int64_t node_id, const char *jid, bool bare_match,
                                     struct sub_row **out, size_t *n);
/* All subscriptions of a node in the given states (bit mask of 1 << sub_state). */
enum store_result store_subs_of_node(struct store *st, int64_t node_id, unsigned states, struct sub_row **out,
                                     size_t *n);
/* The subscriptions of a bare JID on every live node, or on one. */
enum store_result store_subs_of_bare(struct store *st, const char *bare_jid, const char *node_name,
                                     struct sub_row **out, size_t *n);
enum store_result store_sub_insert(struct store *st, int64_t node_id, const char *jid, const char *bare_jid,
                                   const char *subid, enum sub_state state, bool deliver, bool include_body,
                                   int64_t *id);
enum store_result store_sub_update(struct store *st, int64_t id, enum sub_state state, bool deliver,
                                   bool include_body);
enum store_result store_sub_delete(struct store *st, int64_t id);
/* Removes every subscription of a bare JID on a node (an outcast is shown the door). */
enum store_result store_subs_delete_bare(struct store *st, int64_t node_id, const char *bare_jid,
                                         struct sub_row **removed, size_t *n);
enum store_result store_sub_count(struct store *st, int64_t node_id, int64_t *n);
/* Removes the subscriptions of exactly jids[i] on nodes[i], for all i, in one statement. */
enum store_result store_subs_delete_pairs(struct store *st, const int64_t *nodes, const char *const *jids, size_t n,
                                          size_t *deleted);
/* The fan-out's page: subscriptions in the given states with JID > after_jid (NULL: from
 * the start), ordered by (jid, id), at most limit rows, each with its since_change (a
 * change is for the subscriptions whose since_change is below its id). *subs_version:
 * the node's subscription version read with the page, -1 when the node is gone. */
enum store_result store_subs_page(struct store *st, int64_t node_id, unsigned states, const char *after_jid,
                                  int limit, struct sub_row **out, size_t *n, int64_t *subs_version);

/* ---- items ---- */

struct item_row {
	char *id;
	char *payload; /* NULL: an imported calendar item, to be encoded from ics */
	char *ics;     /* its calendar object's text (sql/007_calendar_item_text.sql) */
	char *publisher;
	char *published_at;
	int64_t seq;
};
void item_row_clear(struct item_row *r); /* frees what the row holds, not the row */
void item_rows_free(struct item_row *r, size_t n);
enum store_result store_item_get(struct store *st, int64_t node_id, const char *item_id, struct item_row *out);
/* The items with the given ids that exist, in the order asked. */
enum store_result store_items_by_id(struct store *st, int64_t node_id, const char *const *ids, size_t n_ids,
                                    struct item_row **out, size_t *n);
/* A window of live items in publication order. anchor: 0 from start, 1 after key, 2
 * before key, 3 last page, 4 at index (see pubsub/rsm.h). STORE_NOT_FOUND when the key
 * item does not exist. *preceding is the number of live items before the first one. */
enum store_result store_items_window(struct store *st, int64_t node_id, int anchor, const char *key, int64_t index,
                                     int64_t limit, struct item_row **out, size_t *n, int64_t *preceding);
enum store_result store_item_count(struct store *st, int64_t node_id, int64_t *n);
/* Inserts or replaces an item, making it the newest; expire_after 0 means never. */
enum store_result store_item_put(struct store *st, int64_t node_id, const char *item_id, const char *payload,
                                 const char *publisher, int64_t expire_after);
/* Whether the item exists (and is live); *publisher is set to its publisher (may be NULL). */
enum store_result store_item_exists(struct store *st, int64_t node_id, const char *item_id, bool *exists,
                                    char **publisher);
enum store_result store_item_delete(struct store *st, int64_t node_id, const char *item_id, bool *deleted);
/* Deletes the oldest items beyond keep and returns their ids. */
enum store_result store_items_trim(struct store *st, int64_t node_id, int64_t keep, char ***removed, size_t *n);
enum store_result store_items_purge(struct store *st, int64_t node_id);
/* Deletes up to limit expired items of any node; returns (node id, item id) pairs. */
struct expired_item {
	int64_t node_id;
	char *node;
	char *item_id;
	bool notify_retract;
};
enum store_result store_items_expire(struct store *st, int limit, struct expired_item **out, size_t *n);
void expired_items_free(struct expired_item *e, size_t n);
/* Seconds until the next item expires (-1 when none does). */
enum store_result store_items_next_expiry(struct store *st, double *seconds);

/* ---- presence ---- */

enum store_result store_presence_set(struct store *st, const char *bare_jid, bool shared);
enum store_result store_presence_get(struct store *st, const char *bare_jid, bool *shared);
/* Removes the subscriptions a bare JID holds on presence-model nodes through presence
 * alone (not through an affiliation), and returns them. */
enum store_result store_subs_drop_presence(struct store *st, const char *bare_jid, struct sub_row **removed,
                                           size_t *n);
/* Names of live nodes with pending subscriptions that owner_bare owns (NULL: any node). */
enum store_result store_nodes_with_pending(struct store *st, const char *owner_bare, char ***names, size_t *n);

/* ---- change log ---- */

enum change_kind {
	CH_PUBLISH,
	CH_RETRACT,
	CH_PURGE,
	CH_DELETE,
	CH_CONFIG,
	CH_SUBSCRIPTION, /* a subscription's state changed: tell the subscriber (target) */
	CH_APPROVAL,     /* a subscription waits for approval: ask the owners */
	CH_AFFILIATION,  /* an affiliation changed: tell the entity (target) */
	CH_LAST_ITEM,    /* the last published item, to one new subscriber (target) */
	CH_INGEST,       /* an application wrote calendar object item_id of node: publish it */
};
const char *change_kind_name(enum change_kind k);

struct change_row {
	int64_t id;
	int64_t node_id;
	char *node;
	enum change_kind kind;
	char *item_id;
	char *payload;
	char *ics; /* payload NULL: the text of an imported calendar item, to be encoded */
	char *publisher;
	char *target;
	char *subject;
	char *subid;
	char *state;
	char *uri;
	char *stamp;
	char *body;
	char *created_at;
	/* the node as it was when the change was read (has_node false once it is gone) */
	bool has_node;
	struct node_row node_row;
};
void change_rows_free(struct change_row *r, size_t n);
/* What to log: the fields that apply to the kind, the others NULL. */
struct change_input {
	int64_t node_id;
	const char *node;
	enum change_kind kind;
	const char *item_id;
	const char *payload;
	const char *publisher;
	const char *target;
	const char *subject;
	const char *subid;
	const char *state;
	const char *uri;
	const char *stamp;
	const char *body;
};
/* Logs the change; held until the transaction's next statement or its COMMIT. */
enum store_result store_log_change(struct store *st, const struct change_input *c);
enum store_result store_changes_after(struct store *st, int64_t after, int limit, struct change_row **out,
                                      size_t *n);
/* The same read, made just before the next commit that logs a change (in its round
 * trip, so the change is there), for a fan-out that has seen everything up to `after`. */
void store_read_changes_with_commit(struct store *st, int64_t after, int limit);
/* What that read returned, when a commit made it for this `after` since it was asked
 * for (into *out, change_rows_free()); false otherwise. Either way it is not made again
 * until asked for again. */
bool store_changes_read_with_commit(struct store *st, int64_t after, struct change_row **out, size_t *n);
enum store_result store_fanout_cursor(struct store *st, int64_t *change_id, char **position);
enum store_result store_fanout_save(struct store *st, int64_t change_id, const char *position);
/* Drops delivered changes older than keep_seconds. */
enum store_result store_changes_prune(struct store *st, int64_t below_id, int keep_seconds);

#endif
