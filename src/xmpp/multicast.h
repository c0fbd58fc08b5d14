/* multicast.h: the server's Extended Stanza Addressing service (XEP-0033), where it
 * offers one (ejabberd's mod_multicast; Prosody has none). Discovered at every
 * (re)connection; the fan-out then sends one stanza for many subscribers. */
#ifndef CALPUBSUB_XMPP_MULTICAST_H
#define CALPUBSUB_XMPP_MULTICAST_H

#include "router.h"

#include <stdbool.h>

#define NS_ADDRESS "http://jabber.org/protocol/address"

struct multicast;

struct multicast *multicast_new(struct router *r, const struct config *cfg);
void multicast_free(struct multicast *m);
/* Starts discovery when the link comes up; forgets the service when it goes down. */
void multicast_link_state(struct multicast *m, bool up);
/* The service's JID, or NULL: none found (yet), or turned off. */
const char *multicast_service(const struct multicast *m);
/* The most recipients one stanza may carry. */
unsigned multicast_limit(const struct multicast *m);
/* The service refused a stanza: stop using it until the next connection. */
void multicast_refused(struct multicast *m, const char *why);

#endif
