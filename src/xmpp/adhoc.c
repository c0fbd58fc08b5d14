/* adhoc.c: XEP-0050 ad-hoc commands; the one command is XEP-0060 8.7 get-pending: pick a
 * node, and the service sends an approval form for each pending subscription to it. */
#include "handlers.h"

#include "../log.h"
#include "../loop.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_COMMANDS "http://jabber.org/protocol/commands"
#define SESSION_LIFETIME_MS (10 * 60 * 1000)
#define MAX_SESSIONS 256

struct session {
	char id[48];
	char *requester; /* full JID: a session belongs to one requester */
	uint64_t expires_ms;
};

static struct {
	struct router *router;
	struct service *svc;
	struct session sessions[MAX_SESSIONS];
	unsigned long counter;
} adhoc;

static void cmd_error(struct iq *iq, enum stanza_cond cond, const char *specific, const char *text)
{
	char app[96];
	if (specific)
		snprintf(app, sizeof(app), "<%s xmlns='" NS_COMMANDS "'/>", specific);
	iq_error(iq, cond, specific ? app : NULL, text);
}

static struct session *find_session(const char *id, const char *requester)
{
	uint64_t now = loop_now_ms();
	for (int i = 0; i < MAX_SESSIONS; i++) {
		struct session *s = &adhoc.sessions[i];
		if (!s->requester)
			continue;
		if (s->expires_ms < now) {
			free(s->requester);
			s->requester = NULL;
			continue;
		}
		if (strcmp(s->id, id) == 0 && strcmp(s->requester, requester) == 0)
			return s;
	}
	return NULL;
}

/* A fresh session id (XEP-0050: never empty, never reused). */
static void session_id(char *out, size_t n)
{
	snprintf(out, n, "pubsub-get-pending:%lu-%lu", (unsigned long)(loop_now_ms() / 1000), ++adhoc.counter);
}

static struct session *new_session(const char *requester)
{
	uint64_t now = loop_now_ms();
	struct session *slot = NULL;
	for (int i = 0; i < MAX_SESSIONS && !slot; i++)
		if (!adhoc.sessions[i].requester || adhoc.sessions[i].expires_ms < now)
			slot = &adhoc.sessions[i];
	if (!slot) { /* all busy: the one closest to expiring (the oldest) gives way */
		slot = &adhoc.sessions[0];
		for (int i = 1; i < MAX_SESSIONS; i++)
			if (adhoc.sessions[i].expires_ms < slot->expires_ms)
				slot = &adhoc.sessions[i];
	}
	free(slot->requester);
	session_id(slot->id, sizeof(slot->id));
	slot->requester = xstrdup(requester);
	slot->expires_ms = now + SESSION_LIFETIME_MS;
	return slot;
}

static void end_session(struct session *s)
{
	free(s->requester);
	s->requester = NULL;
}

static void reply_status(struct iq *iq, const char *sessionid, const char *status, const char *inner)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "<command xmlns='" NS_COMMANDS "' node='" NS_PUBSUB "#get-pending'");
	xml_attr(&b, "sessionid", sessionid);
	xml_attr(&b, "status", status);
	if (inner) {
		buf_putc(&b, '>');
		buf_puts(&b, inner);
		buf_puts(&b, "</command>");
	} else {
		buf_puts(&b, "/>");
	}
	iq_result(iq, b.data);
	buf_free(&b);
}

static void stage_one(struct iq *iq, const struct requester *rq)
{
	struct ps_error err;
	char **nodes;
	size_t n;
	if (!service_pending_nodes(adhoc.svc, rq, &nodes, &n, &err))
		return wire_iq_ps_error(iq, &err, NULL);
	struct buf b = BUF_INIT;
	if (n == 0) {
		/* completed at once: the id is the command's, but no session stays open */
		char sid[48];
		session_id(sid, sizeof(sid));
		reply_status(iq, sid, "completed",
		             "<note type='info'>There are no pending subscription requests on nodes you own.</note>");
	} else {
		struct form *f = form_new(FORM_FORM);
		f->title = xstrdup("Pending subscription requests");
		f->instructions = xstrdup("Choose a node: the service sends you an approval form for each request.");
		form_add_hidden(f, "FORM_TYPE", FORM_SUBSCRIBE_AUTHORIZATION);
		struct form_field *fl = form_add_field(f, "pubsub#node", FT_LIST_SINGLE, "Node ID");
		fl->required = true;
		for (size_t i = 0; i < n; i++)
			form_field_add_option(fl, nodes[i]);
		buf_puts(&b, "<actions execute='complete'><complete/></actions>");
		wire_write_form(&b, f);
		form_free(f);
		reply_status(iq, new_session(rq->jid)->id, "executing", b.data);
	}
	buf_free(&b);
	for (size_t i = 0; i < n; i++)
		free(nodes[i]);
	free(nodes);
}

static void stage_two(struct iq *iq, const struct requester *rq, struct session *s, xmpp_stanza_t *x)
{
	struct ps_error err;
	struct form *f = x ? wire_parse_form(x, &err) : NULL;
	const char *node = f ? form_value(f, "pubsub#node") : NULL;
	if (!node) {
		form_free(f);
		return cmd_error(iq, SC_BAD_REQUEST, "bad-payload", "submit the form with a pubsub#node");
	}
	if (!service_resend_pending(adhoc.svc, rq, node, &err)) {
		form_free(f);
		return wire_iq_ps_error(iq, &err, NULL);
	}
	char sid[48];
	snprintf(sid, sizeof(sid), "%s", s->id);
	end_session(s);
	form_free(f);
	reply_status(iq, sid, "completed", "<note type='info'>Approval forms for the pending requests are on their way.</note>");
}

static void command_set(struct iq *iq, void *arg)
{
	(void)arg;
	const char *node = xmpp_stanza_get_attribute(iq->payload, "node");
	const char *action = xmpp_stanza_get_attribute(iq->payload, "action");
	const char *sessionid = xmpp_stanza_get_attribute(iq->payload, "sessionid");
	if (strcmp(iq->name, "command") != 0)
		return iq_error(iq, SC_BAD_REQUEST, NULL, "the payload is <command/>");
	if (!node || strcmp(node, NS_PUBSUB "#get-pending") != 0)
		return iq_error(iq, SC_ITEM_NOT_FOUND, NULL, "no such command");
	if (action && strcmp(action, "execute") != 0 && strcmp(action, "complete") != 0 && strcmp(action, "cancel") != 0 &&
	    strcmp(action, "next") != 0 && strcmp(action, "prev") != 0)
		return cmd_error(iq, SC_BAD_REQUEST, "malformed-action", "unknown action");
	struct requester rq;
	struct ps_error err;
	if (!service_requester(adhoc.svc, iq->from, &rq, &err))
		return wire_iq_ps_error(iq, &err, NULL);
	if (!sessionid) {
		if (action && strcmp(action, "execute") != 0)
			cmd_error(iq, SC_BAD_REQUEST, "bad-action", "start the command with execute");
		else
			stage_one(iq, &rq);
	} else {
		struct session *s = find_session(sessionid, rq.jid);
		if (!s)
			cmd_error(iq, SC_BAD_REQUEST, "bad-sessionid", "unknown or expired session");
		else if (action && strcmp(action, "cancel") == 0) {
			end_session(s);
			reply_status(iq, sessionid, "canceled", NULL);
		} else if (action && (strcmp(action, "prev") == 0 || strcmp(action, "next") == 0))
			cmd_error(iq, SC_BAD_REQUEST, "bad-action", "this command has a single stage");
		else
			stage_two(iq, &rq, s, wire_child(iq->payload, "x", NS_XDATA));
	}
	requester_free(&rq);
}

void adhoc_register(struct router *r, struct service *svc)
{
	adhoc.router = r;
	adhoc.svc = svc;
	router_register_iq(r, NS_COMMANDS, NULL, command_set, NULL);
	router_add_feature(r, NS_COMMANDS);
}

bool adhoc_disco_items(struct iq *iq, struct buf *b)
{
	const char *node = xmpp_stanza_get_attribute(iq->payload, "node");
	if (!node || strcmp(node, NS_COMMANDS) != 0)
		return false;
	buf_puts(b, "<query xmlns='http://jabber.org/protocol/disco#items' node='" NS_COMMANDS "'><item");
	xml_attr(b, "jid", router_config(adhoc.router)->jid);
	buf_puts(b, " node='" NS_PUBSUB "#get-pending' name='Get pending subscription requests'/></query>");
	return true;
}

bool adhoc_disco_info(struct iq *iq, struct buf *b)
{
	const char *node = xmpp_stanza_get_attribute(iq->payload, "node");
	if (!node)
		return false;
	if (strcmp(node, NS_COMMANDS) == 0) {
		buf_puts(b, "<query xmlns='http://jabber.org/protocol/disco#info' node='" NS_COMMANDS "'>"
		            "<identity category='automation' type='command-list' name='Commands'/></query>");
		return true;
	}
	if (strcmp(node, NS_PUBSUB "#get-pending") == 0) {
		buf_puts(b, "<query xmlns='http://jabber.org/protocol/disco#info' node='" NS_PUBSUB "#get-pending'>"
		            "<identity category='automation' type='command-node' name='Get pending subscription requests'/>"
		            "<feature var='" NS_COMMANDS "'/><feature var='jabber:x:data'/></query>");
		return true;
	}
	return false;
}
