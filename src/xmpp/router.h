/* router.h: stanza routing for the component. Every IQ get or set is answered exactly
 * once: by its handler, or with the RFC 6120 error that fits (service-unavailable for an
 * unknown namespace, feature-not-implemented for a known one asked for something it does
 * not do, bad-request for a malformed request). Results and errors are never answered. */
#ifndef CALPUBSUB_XMPP_ROUTER_H
#define CALPUBSUB_XMPP_ROUTER_H

#include "../buf.h"
#include "../errors.h"
#include "link.h"

#include <stdbool.h>
#include <strophe.h>

struct router;

struct iq {
	struct router *router;
	xmpp_stanza_t *stanza;
	xmpp_stanza_t *payload; /* the single child element */
	const char *id;         /* may be NULL on a malformed request */
	const char *from;
	const char *to;
	const char *ns;   /* namespace of the payload */
	const char *name; /* element name of the payload */
	bool is_set;
	bool answered;
	bool batched; /* part of a group commit: the answer is held until it commits */
};

typedef void (*iq_handler_fn)(struct iq *iq, void *arg);
typedef void (*stanza_handler_fn)(xmpp_stanza_t *stanza, void *arg);

struct router *router_new(struct link *link, const struct config *cfg);
void router_free(struct router *r);
struct link *router_link(struct router *r);
const struct config *router_config(struct router *r);

/* get or set may be NULL: that request type then gets feature-not-implemented. */
void router_register_iq(struct router *r, const char *ns, iq_handler_fn get, iq_handler_fn set, void *arg);
void router_on_message(struct router *r, stanza_handler_fn fn, void *arg);
void router_on_presence(struct router *r, stanza_handler_fn fn, void *arg);
/* Features advertised in disco#info on the service, in registration order. A feature is
 * registered by the code that implements it, so the list is exactly what works. */
void router_add_feature(struct router *r, const char *var);
size_t router_feature_count(const struct router *r);
const char *router_feature(const struct router *r, size_t i);

/* Sends an IQ request (type get or set) from the service and calls fn with the reply
 * (result or error), or with NULL when the link goes down or no reply comes within
 * timeout_ms. */
typedef void (*iq_reply_fn)(xmpp_stanza_t *reply, void *arg);
void router_request(struct router *r, const char *type, const char *to, const char *payload, unsigned timeout_ms,
                    iq_reply_fn fn, void *arg);
/* Fails every request still waiting (the link went down). */
void router_cancel_requests(struct router *r);

/* Entry point for stanzas from the link. */
void router_dispatch(xmpp_stanza_t *stanza, void *arg);

/* Group commit. Requests that `joins` accepts and that arrive one after another in the
 * same turn of input run between start and finish (one transaction), and their answers
 * are held until finish. When finish (or healthy, checked after each request) says the
 * batch failed, its answers are dropped and each of its requests is dispatched again on
 * its own. Any other stanza ends the batch first, so answers keep their order. */
struct router_batch_ops {
	bool (*joins)(xmpp_stanza_t *stanza, void *arg);
	void (*start)(void *arg);
	bool (*healthy)(void *arg);
	bool (*finish)(void *arg);
	void *arg;
};
void router_set_batch_ops(struct router *r, const struct router_batch_ops *ops);
/* The link's input-done callback (link_set_input_done): keeps a healthy batch open while
 * more input waits, and finishes it otherwise. */
bool router_input_done(bool more_ready, void *arg);

/* Replies. payload is serialised XML appended inside the result IQ (NULL for none). */
void iq_result(struct iq *iq, const char *payload);
/* app_condition: serialised application-specific condition element (or NULL); text: a
 * human-readable explanation (or NULL). */
void iq_error(struct iq *iq, enum stanza_cond cond, const char *app_condition, const char *text);
void iq_error_typed(struct iq *iq, enum stanza_error_type type, enum stanza_cond cond, const char *app_condition,
                    const char *text);
/* An error that also carries payload (serialised XML) before its <error/> element. */
void iq_error_with_payload(struct iq *iq, enum stanza_error_type type, enum stanza_cond cond,
                           const char *app_condition, const char *text, const char *payload);

/* Serialisation helpers shared by the xmpp/ files. */
void xml_attr(struct buf *b, const char *name, const char *value);
void xml_error_element(struct buf *b, enum stanza_error_type type, enum stanza_cond cond, const char *app_condition,
                       const char *text);
/* Element children of a stanza, ignoring text nodes. */
size_t stanza_element_count(xmpp_stanza_t *st);
xmpp_stanza_t *stanza_first_element(xmpp_stanza_t *st);
xmpp_stanza_t *stanza_next_element(xmpp_stanza_t *st);
/* Text content of an element, or NULL; the caller frees it with xmpp_free(ctx, ...). */
char *stanza_text(xmpp_stanza_t *st);

#endif
