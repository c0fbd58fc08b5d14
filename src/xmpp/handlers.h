/* handlers.h: the protocol modules of xmpp/, each registering its IQ namespaces and
 * disco features with the router. */
#ifndef CALPUBSUB_XMPP_HANDLERS_H
#define CALPUBSUB_XMPP_HANDLERS_H

#include "../pubsub/service.h"
#include "router.h"

void basic_register(struct router *r);
void disco_register(struct router *r, struct service *svc);
void pubsub_register(struct router *r, struct service *svc);
/* A message error sent back to the service (the bounce of a notification). */
typedef void (*inbound_bounce_fn)(const char *from, const char *id, bool permanent, const char *condition,
                                  void *arg);
void inbound_register(struct router *r, struct service *svc, inbound_bounce_fn bounce, void *bounce_arg);
void adhoc_register(struct router *r, struct service *svc);
/* disco on the command nodes; false when the request is not about them. */
bool adhoc_disco_items(struct iq *iq, struct buf *b);
bool adhoc_disco_info(struct iq *iq, struct buf *b);

#endif
