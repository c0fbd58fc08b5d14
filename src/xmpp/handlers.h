/* handlers.h: the protocol modules of xmpp/, each registering its IQ namespaces and
 * disco features with the router. */
#ifndef CALPUBSUB_XMPP_HANDLERS_H
#define CALPUBSUB_XMPP_HANDLERS_H

#include "../pubsub/service.h"
#include "router.h"

void basic_register(struct router *r);
void disco_register(struct router *r, struct service *svc);

#endif
