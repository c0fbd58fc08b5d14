/* inbound.c: messages and presence sent to the service: owners' answers to subscription
 * approval forms (XEP-0060 8.6), bounces of our notifications (12.4), and the presence
 * subscriptions behind the presence access model. */
#include "handlers.h"

#include "../log.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

struct inbound {
	struct router *router;
	struct service *svc;
	inbound_bounce_fn bounce;
	void *bounce_arg;
};

static struct inbound the_inbound;

static void send_message_error(const char *to, const char *id, const struct ps_error *err)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "<message type='error'");
	xml_attr(&b, "from", router_config(the_inbound.router)->jid);
	xml_attr(&b, "to", to);
	xml_attr(&b, "id", id);
	buf_putc(&b, '>');
	xml_error_element(&b, err->type, err->cond, NULL, err->text[0] ? err->text : NULL);
	buf_puts(&b, "</message>");
	link_send(router_link(the_inbound.router), b.data, b.len);
	buf_free(&b);
}

static void approval_answer(xmpp_stanza_t *msg, xmpp_stanza_t *x)
{
	const char *from = xmpp_stanza_get_from(msg);
	const char *id = xmpp_stanza_get_id(msg);
	struct ps_error err;
	struct form *f = wire_parse_form(x, &err);
	if (!f) {
		send_message_error(from, id, &err);
		return;
	}
	if (f->type == FORM_CANCEL) {
		/* XEP-0060 8.6: the request stays pending */
		form_free(f);
		return;
	}
	struct requester rq;
	bool allow;
	const char *allow_text = form_value(f, "pubsub#allow");
	if (f->type != FORM_SUBMIT || !allow_text || !form_parse_bool(allow_text, &allow)) {
		ps_fail(&err, SC_BAD_REQUEST, PSE_NONE, "submit the form with a boolean pubsub#allow");
		send_message_error(from, id, &err);
	} else if (service_requester(the_inbound.svc, from, &rq, &err)) {
		if (!service_answer_approval(the_inbound.svc, &rq, form_value(f, "pubsub#node"),
		                             form_value(f, "pubsub#subscriber_jid"), form_value(f, "pubsub#subid"), allow, &err))
			send_message_error(from, id, &err);
		requester_free(&rq);
	}
	form_free(f);
}

static void on_message(xmpp_stanza_t *msg, void *arg)
{
	(void)arg;
	const char *type = xmpp_stanza_get_type(msg);
	const char *from = xmpp_stanza_get_from(msg);
	const char *to = xmpp_stanza_get_to(msg);
	if (!from || !to || strcmp(to, router_config(the_inbound.router)->jid) != 0)
		return;
	if (type && strcmp(type, "error") == 0) {
		xmpp_stanza_t *e = wire_child(msg, "error", NULL);
		const char *etype = e ? xmpp_stanza_get_type(e) : NULL;
		xmpp_stanza_t *cond = e ? stanza_first_element(e) : NULL;
		bool gone = e && wire_child(e, "gone", NULL);
		if (the_inbound.bounce)
			the_inbound.bounce(from, xmpp_stanza_get_id(msg), (etype && strcmp(etype, "cancel") == 0) || gone,
			                   cond ? xmpp_stanza_get_name(cond) : NULL, the_inbound.bounce_arg);
		return;
	}
	if (type && strcmp(type, "normal") != 0 && strcmp(type, "chat") != 0)
		return;
	xmpp_stanza_t *x = wire_child(msg, "x", NS_XDATA);
	if (!x)
		return;
	for (xmpp_stanza_t *fl = stanza_first_element(x); fl; fl = stanza_next_element(fl)) {
		const char *var = xmpp_stanza_get_attribute(fl, "var");
		if (var && strcmp(var, "FORM_TYPE") == 0) {
			char *value = wire_child_text(fl, "value", NULL);
			bool ours = value && strcmp(value, FORM_SUBSCRIBE_AUTHORIZATION) == 0;
			free(value);
			if (ours)
				approval_answer(msg, x);
			return;
		}
	}
}

static void send_presence(const char *to, const char *type)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "<presence");
	xml_attr(&b, "from", router_config(the_inbound.router)->jid);
	xml_attr(&b, "to", to);
	xml_attr(&b, "type", type);
	buf_puts(&b, "/>");
	link_send(router_link(the_inbound.router), b.data, b.len);
	buf_free(&b);
}

/* Presence subscriptions, in roster terms: a user who subscribes to the service is
 * accepted and asked in return to share presence; the service counts a JID as sharing
 * presence once it has approved that request ("subscribed"), until it revokes it. */
static void on_presence(xmpp_stanza_t *p, void *arg)
{
	(void)arg;
	const char *type = xmpp_stanza_get_type(p);
	const char *from = xmpp_stanza_get_from(p);
	const char *to = xmpp_stanza_get_to(p);
	if (!from || !to || strcmp(to, router_config(the_inbound.router)->jid) != 0 || !type)
		return;
	struct requester rq;
	struct ps_error err;
	if (!service_requester(the_inbound.svc, from, &rq, &err))
		return;
	if (strcmp(type, "subscribe") == 0) {
		send_presence(rq.bare, "subscribed");
		send_presence(rq.bare, NULL);
		send_presence(rq.bare, "subscribe");
	} else if (strcmp(type, "subscribed") == 0) {
		if (!service_presence_shared(the_inbound.svc, &rq, true, &err))
			log_warn("cannot record the presence subscription of %s: %s", rq.bare, err.text);
	} else if (strcmp(type, "unsubscribed") == 0 || strcmp(type, "unsubscribe") == 0) {
		if (!service_presence_shared(the_inbound.svc, &rq, false, &err))
			log_warn("cannot record the end of the presence subscription of %s: %s", rq.bare, err.text);
		if (strcmp(type, "unsubscribe") == 0)
			send_presence(rq.bare, "unsubscribed");
	} else if (strcmp(type, "probe") == 0) {
		send_presence(from, NULL); /* the service is always available */
	}
	requester_free(&rq);
}

void inbound_register(struct router *r, struct service *svc, inbound_bounce_fn bounce, void *bounce_arg)
{
	the_inbound.router = r;
	the_inbound.svc = svc;
	the_inbound.bounce = bounce;
	the_inbound.bounce_arg = bounce_arg;
	router_on_message(r, on_message, &the_inbound);
	router_on_presence(r, on_presence, &the_inbound);
}
