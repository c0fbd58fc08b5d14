/* wire.h: conversions between libstrophe's stanza trees and calpubsub's neutral models:
 * payload trees (xml_node), data forms (XEP-0004), and the stanza error of a PubSub
 * request with its pubsub#errors condition. */
#ifndef CALPUBSUB_XMPP_WIRE_H
#define CALPUBSUB_XMPP_WIRE_H

#include "../buf.h"
#include "../form.h"
#include "../pubsub/model.h"
#include "../xmltree.h"
#include "router.h"

#include <stdbool.h>
#include <strophe.h>

#define NS_XDATA "jabber:x:data"

/* The element as a neutral tree; NULL when it nests deeper than max_depth. */
struct xml_node *wire_to_xml_node(xmpp_stanza_t *st, int max_depth);
/* Serialises an element of a received stanza, declaring its namespace. NULL when too
 * deep. */
char *wire_serialize(xmpp_stanza_t *st);

/* Parses <x xmlns='jabber:x:data'/>. NULL with err set (bad-request) on a malformed
 * form. */
struct form *wire_parse_form(xmpp_stanza_t *x, struct ps_error *err);
void wire_write_form(struct buf *b, const struct form *f);

/* Child element by name and namespace (ns NULL: any). */
xmpp_stanza_t *wire_child(xmpp_stanza_t *st, const char *name, const char *ns);
/* Text of a child element (malloc'd, "" when empty), NULL when there is no such child. */
char *wire_child_text(xmpp_stanza_t *st, const char *name, const char *ns);

/* Answers the IQ with err: RFC 6120 condition, type, text and the pubsub#errors element.
 * extra_payload (may be NULL) is echoed before <error/>, as XEP-0060 8.8.2.4 asks. */
void wire_iq_ps_error(struct iq *iq, const struct ps_error *err, const char *extra_payload);

#endif
