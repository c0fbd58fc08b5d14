/* access.h: who may do what on a node: the affiliation table of XEP-0060 4.1 combined
 * with the node's access and publish models. Pure decisions over plain facts, so that
 * the whole permission matrix is unit tested. */
#ifndef CALPUBSUB_PUBSUB_ACCESS_H
#define CALPUBSUB_PUBSUB_ACCESS_H

#include "model.h"

#include <stdbool.h>

/* What the service knows about the requester and the node when it decides. */
struct access_facts {
	enum affiliation affiliation; /* of the requester's bare JID */
	bool is_admin;                /* service admins act as owners everywhere */
	enum access_model access_model;
	enum publish_model publish_model;
	enum sub_state subscription;  /* the requester's best subscription state on the node */
	bool presence_ok;             /* presence access: the requester shares presence with the service */
};

enum operation {
	OP_SEE_NODE,       /* disco#items listing, disco#info, meta-data */
	OP_SUBSCRIBE,
	OP_RETRIEVE_ITEMS,
	OP_PUBLISH,
	OP_RETRACT_ANY,    /* retract an item someone else published */
	OP_RETRACT_OWN,    /* retract an item the requester published */
	OP_PURGE,
	OP_CONFIGURE,
	OP_DELETE,
	OP_MANAGE,         /* owner use cases: subscriptions, affiliations, pending requests */
};

/* True when allowed; otherwise false with the XEP-0060 error for that operation. For
 * OP_SUBSCRIBE under the authorize model, *pending tells that the request must wait for
 * an owner's approval (it is allowed, not refused). */
bool access_check(enum operation op, const struct access_facts *f, bool *pending, struct ps_error *err);

/* Whether the affiliation counts as on the whitelist (member or better). */
bool affiliation_is_member(enum affiliation a);

#endif
