/* fanout.h: turns the change log into notification messages. Each change is rendered
 * once, its recipients are paged from the database, the output stays under a high-water
 * mark, and the durable cursor in calpubsub_fanout advances only once the XMPP server
 * has confirmed it handled everything before it, so a crash or a lost link resends
 * instead of losing (at-least-once; message ids are stable across resends). */
#ifndef CALPUBSUB_NOTIFY_FANOUT_H
#define CALPUBSUB_NOTIFY_FANOUT_H

#include "../config.h"
#include "../pubsub/service.h"
#include "../store/store.h"
#include "../xmpp/link.h"
#include "../xmpp/multicast.h"

#include <stdbool.h>
#include <stdint.h>

struct fanout;

struct fanout *fanout_new(struct store *st, struct link *link, struct service *svc, const struct config *cfg);
void fanout_free(struct fanout *f);
/* Wiring: the database and the link going up or down, and new changes committed. */
void fanout_store_state(struct fanout *f, bool up);
void fanout_link_state(struct fanout *f, bool up);
/* A NOTIFY on the change channel, with its payload (the change id, or another word). */
void fanout_wake(struct fanout *f, const char *payload);
/* Changes of kind ingest (rows written by applications) are handed to fn in log order,
 * with the text that was written (NULL for a deletion); fn returns false when the
 * database failed and the change must be tried again. */
typedef bool (*fanout_ingest_fn)(const char *node, const char *uid, const char *ics, void *arg);
void fanout_set_ingest(struct fanout *f, fanout_ingest_fn fn, void *arg);
/* Batches recipients through the server's XEP-0033 service when it has one. */
void fanout_set_multicast(struct fanout *f, struct multicast *mc);
/* A notification came back as an error (XEP-0060 12.4): from a subscriber, a permanent
 * error ends its subscriptions on the node; from the multicast service, what was sent
 * since the last confirmed position is sent again, one stanza per subscriber. */
void fanout_bounced(struct fanout *f, const char *from, const char *id, bool permanent, const char *condition);
/* Notification ids carry the node. Returns false when id is not one of ours. */
bool fanout_parse_id(const char *id, int64_t *node_id);
/* Saves at once the position the server confirmed last, if it waits for its turn (at
 * shutdown). */
void fanout_save_now(struct fanout *f);
/* For tests and logs: notifications handed to the link so far. */
uint64_t fanout_sent(const struct fanout *f);

#endif
