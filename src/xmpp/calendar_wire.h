/* calendar_wire.h: calendar nodes on the wire: decoding and checking published calendar
 * objects, and CalDAV queries (time-range, expand, free/busy) in items requests. */
#ifndef CALPUBSUB_XMPP_CALENDAR_WIRE_H
#define CALPUBSUB_XMPP_CALENDAR_WIRE_H

#include "../buf.h"
#include "../calendar/calendar.h"
#include "../pubsub/service.h"
#include "../xmltree.h"
#include "router.h"

#include <stdbool.h>

#define NS_CALENDAR_FEATURE "urn:xmpp:tmp:calendar:0"

/* What a publish to a calendar node carries once decoded; it owns the texts the
 * publish_request points at until calendar_publish_free(). */
struct calendar_publish {
	const struct xml_node *tree; /* the published payload element, or NULL */
	struct cal_payload decoded;
	struct buf payload;
	struct buf body;
};

/* The publish_request's prepare hook (arg: a struct calendar_publish with its tree set),
 * called with the configuration of the node published to (or the one publish-options
 * create): for a calendar, decodes xCal or jCal, checks component type and UID, and points
 * pr at the canonical object. Does nothing for other nodes. False with err on a bad payload. */
bool calendar_prepare_publish(struct publish_request *pr, const struct node_config *cfg, void *arg,
                              struct ps_error *err);
void calendar_publish_free(struct calendar_publish *cp);

/* Answers an items request carrying a CalDAV calendar-query or free-busy-query; false
 * (nothing sent) when it carries neither. */
bool calendar_items_query(struct service *svc, struct iq *iq, xmpp_stanza_t *items, int max_objects);

#endif
