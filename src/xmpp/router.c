/* router.c: dispatches stanzas from the server to the handlers registered by the other
 * xmpp/ files, and writes replies. Replies are serialised by hand into one buffer and
 * written with link_send(): cheaper than building libstrophe stanza trees. */
#include "router.h"

#include "../log.h"
#include "../loop.h"

#include <stdlib.h>
#include <string.h>

#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
/* Requests one group commit takes at most: bounds how long their answers are held. */
#define MAX_BATCH 256

struct iq_route {
	char *ns;
	iq_handler_fn get;
	iq_handler_fn set;
	void *arg;
};

struct request {
	char id[48];
	iq_reply_fn fn;
	void *arg;
	uint64_t deadline_ms;
	struct request *next;
};

struct router {
	struct link *link;
	struct request *requests;
	struct loop_timer request_timer;
	const struct config *cfg;
	struct iq_route *routes;
	size_t n_routes;
	char **features;
	size_t n_features;
	stanza_handler_fn on_message;
	void *message_arg;
	stanza_handler_fn on_presence;
	void *presence_arg;
	struct router_batch_ops batch_ops; /* joins NULL: no group commit */
	bool batch_active;
	xmpp_stanza_t *batch[MAX_BATCH]; /* the batch's requests, held for a replay */
	size_t batch_len;
	struct buf held; /* the batch's answers */
};

static void expire_requests(void *arg);

struct router *router_new(struct link *link, const struct config *cfg)
{
	struct router *r = xcalloc(1, sizeof(*r));
	r->link = link;
	r->cfg = cfg;
	loop_timer_init(&r->request_timer, expire_requests, r);
	return r;
}

/* Takes the request with this id out of the list (NULL when there is none). */
static struct request *take_request(struct router *r, const char *id)
{
	for (struct request **p = &r->requests; *p; p = &(*p)->next) {
		if (id && strcmp((*p)->id, id) == 0) {
			struct request *q = *p;
			*p = q->next;
			return q;
		}
	}
	return NULL;
}

static void expire_requests(void *arg)
{
	struct router *r = arg;
	uint64_t now = loop_now_ms(), next = 0;
	for (struct request **p = &r->requests; *p;) {
		struct request *q = *p;
		if (q->deadline_ms <= now) {
			*p = q->next;
			q->fn(NULL, q->arg);
			free(q);
			continue;
		}
		if (!next || q->deadline_ms < next)
			next = q->deadline_ms;
		p = &q->next;
	}
	if (next)
		loop_timer_start(&r->request_timer, next - now);
}

void router_request(struct router *r, const char *type, const char *to, const char *payload, unsigned timeout_ms,
                    iq_reply_fn fn, void *arg)
{
	struct request *q = xcalloc(1, sizeof(*q));
	link_new_id(r->link, q->id, sizeof(q->id), "req");
	q->fn = fn;
	q->arg = arg;
	q->deadline_ms = loop_now_ms() + timeout_ms;
	q->next = r->requests;
	r->requests = q;
	if (!loop_timer_armed(&r->request_timer))
		loop_timer_start(&r->request_timer, timeout_ms);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<iq");
	xml_attr(&b, "type", type);
	xml_attr(&b, "id", q->id);
	xml_attr(&b, "from", r->cfg->jid);
	xml_attr(&b, "to", to);
	buf_putc(&b, '>');
	buf_puts(&b, payload);
	buf_puts(&b, "</iq>");
	link_send(r->link, b.data, b.len);
	buf_free(&b);
}

void router_cancel_requests(struct router *r)
{
	while (r->requests) {
		struct request *q = r->requests;
		r->requests = q->next;
		q->fn(NULL, q->arg);
		free(q);
	}
	loop_timer_stop(&r->request_timer);
}

void router_free(struct router *r)
{
	if (!r)
		return;
	/* every turn of input ends its batch (router_input_done); the link and its stanzas
	 * are gone by now, so nothing of one could be answered or released here */
	if (r->batch_active)
		log_error("bug: a group commit of %zu requests still open at exit", r->batch_len);
	buf_free(&r->held);
	loop_timer_stop(&r->request_timer);
	while (r->requests) {
		struct request *q = r->requests;
		r->requests = q->next;
		free(q);
	}
	for (size_t i = 0; i < r->n_routes; i++)
		free(r->routes[i].ns);
	free(r->routes);
	for (size_t i = 0; i < r->n_features; i++)
		free(r->features[i]);
	free(r->features);
	free(r);
}

struct link *router_link(struct router *r)
{
	return r->link;
}

const struct config *router_config(struct router *r)
{
	return r->cfg;
}

void router_register_iq(struct router *r, const char *ns, iq_handler_fn get, iq_handler_fn set, void *arg)
{
	r->routes = xrealloc(r->routes, (r->n_routes + 1) * sizeof(*r->routes));
	r->routes[r->n_routes++] = (struct iq_route){xstrdup(ns), get, set, arg};
}

void router_on_message(struct router *r, stanza_handler_fn fn, void *arg)
{
	r->on_message = fn;
	r->message_arg = arg;
}

void router_on_presence(struct router *r, stanza_handler_fn fn, void *arg)
{
	r->on_presence = fn;
	r->presence_arg = arg;
}

void router_add_feature(struct router *r, const char *var)
{
	for (size_t i = 0; i < r->n_features; i++)
		if (strcmp(r->features[i], var) == 0)
			return;
	r->features = xrealloc(r->features, (r->n_features + 1) * sizeof(*r->features));
	r->features[r->n_features++] = xstrdup(var);
}

size_t router_feature_count(const struct router *r)
{
	return r->n_features;
}

const char *router_feature(const struct router *r, size_t i)
{
	return r->features[i];
}

void xml_attr(struct buf *b, const char *name, const char *value)
{
	if (!value)
		return;
	buf_putc(b, ' ');
	buf_puts(b, name);
	buf_puts(b, "='");
	buf_xml_escape_attr(b, value);
	buf_putc(b, '\'');
}

size_t stanza_element_count(xmpp_stanza_t *st)
{
	size_t n = 0;
	for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c; c = xmpp_stanza_get_next(c))
		if (xmpp_stanza_is_tag(c))
			n++;
	return n;
}

xmpp_stanza_t *stanza_first_element(xmpp_stanza_t *st)
{
	for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c; c = xmpp_stanza_get_next(c))
		if (xmpp_stanza_is_tag(c))
			return c;
	return NULL;
}

xmpp_stanza_t *stanza_next_element(xmpp_stanza_t *st)
{
	for (xmpp_stanza_t *c = xmpp_stanza_get_next(st); c; c = xmpp_stanza_get_next(c))
		if (xmpp_stanza_is_tag(c))
			return c;
	return NULL;
}

char *stanza_text(xmpp_stanza_t *st)
{
	return xmpp_stanza_get_text(st);
}

/* Writes an answer, or holds it while its request is part of an open batch. */
static void send_reply(struct iq *iq, const struct buf *b)
{
	struct router *r = iq->router;
	if (iq->batched)
		buf_append(&r->held, b->data, b->len);
	else
		link_send(r->link, b->data, b->len);
}

static void open_reply(struct buf *b, struct iq *iq, const char *type)
{
	buf_puts(b, "<iq");
	xml_attr(b, "type", type);
	xml_attr(b, "id", iq->id);
	xml_attr(b, "from", iq->to);
	xml_attr(b, "to", iq->from);
}

void iq_result(struct iq *iq, const char *payload)
{
	if (iq->answered) {
		log_error("bug: IQ %s answered twice", iq->id ? iq->id : "(no id)");
		return;
	}
	iq->answered = true;
	struct buf b = BUF_INIT;
	open_reply(&b, iq, "result");
	if (payload && *payload) {
		buf_putc(&b, '>');
		buf_puts(&b, payload);
		buf_puts(&b, "</iq>");
	} else {
		buf_puts(&b, "/>");
	}
	send_reply(iq, &b);
	buf_free(&b);
}

void xml_error_element(struct buf *b, enum stanza_error_type type, enum stanza_cond cond, const char *app_condition,
                       const char *text)
{
	buf_printf(b, "<error type='%s'><%s xmlns='" NS_STANZAS "'/>", stanza_error_type_name(type),
	           stanza_cond_name(cond));
	if (text) {
		buf_puts(b, "<text xmlns='" NS_STANZAS "'>");
		buf_xml_escape(b, text);
		buf_puts(b, "</text>");
	}
	if (app_condition)
		buf_puts(b, app_condition);
	buf_puts(b, "</error>");
}

void iq_error_with_payload(struct iq *iq, enum stanza_error_type type, enum stanza_cond cond,
                           const char *app_condition, const char *text, const char *payload)
{
	if (iq->answered) {
		log_error("bug: IQ %s answered twice", iq->id ? iq->id : "(no id)");
		return;
	}
	iq->answered = true;
	struct buf b = BUF_INIT;
	open_reply(&b, iq, "error");
	buf_putc(&b, '>');
	if (payload)
		buf_puts(&b, payload);
	xml_error_element(&b, type, cond, app_condition, text);
	buf_puts(&b, "</iq>");
	send_reply(iq, &b);
	buf_free(&b);
	log_debug("IQ %s from %s: %s%s%s", iq->id ? iq->id : "(no id)", iq->from, stanza_cond_name(cond),
	          text ? ": " : "", text ? text : "");
}

void iq_error_typed(struct iq *iq, enum stanza_error_type type, enum stanza_cond cond, const char *app_condition,
                    const char *text)
{
	iq_error_with_payload(iq, type, cond, app_condition, text, NULL);
}

void iq_error(struct iq *iq, enum stanza_cond cond, const char *app_condition, const char *text)
{
	iq_error_typed(iq, stanza_cond_default_type(cond), cond, app_condition, text);
}

static const struct iq_route *find_route(struct router *r, const char *ns)
{
	for (size_t i = 0; i < r->n_routes; i++)
		if (strcmp(r->routes[i].ns, ns) == 0)
			return &r->routes[i];
	return NULL;
}

/* True when `to` names the service itself: the bare component domain. */
static bool addressed_to_service(struct router *r, const char *to)
{
	return to && strcasecmp(to, r->cfg->jid) == 0;
}

static void dispatch_request(struct router *r, struct iq *iq, bool is_set)
{
	iq->is_set = is_set;
	if (!iq->id)
		return iq_error(iq, SC_BAD_REQUEST, NULL, "an IQ request needs an id");
	if (stanza_element_count(iq->stanza) != 1)
		return iq_error(iq, SC_BAD_REQUEST, NULL, "an IQ request carries exactly one child element");
	iq->payload = stanza_first_element(iq->stanza);
	iq->ns = xmpp_stanza_get_ns(iq->payload);
	iq->name = xmpp_stanza_get_name(iq->payload);
	if (!addressed_to_service(r, iq->to))
		return iq_error(iq, SC_SERVICE_UNAVAILABLE, NULL, NULL);
	const struct iq_route *route = iq->ns ? find_route(r, iq->ns) : NULL;
	if (!route)
		return iq_error(iq, SC_SERVICE_UNAVAILABLE, NULL, NULL);
	iq_handler_fn fn = is_set ? route->set : route->get;
	if (!fn)
		return iq_error(iq, SC_FEATURE_NOT_IMPLEMENTED, NULL, NULL);
	fn(iq, route->arg);
	if (!iq->answered) {
		log_error("bug: handler for %s left IQ %s unanswered", iq->ns, iq->id);
		iq_error(iq, SC_INTERNAL_SERVER_ERROR, NULL, NULL);
	}
}

static void dispatch_iq(struct router *r, xmpp_stanza_t *stanza, bool batched)
{
	struct iq iq = {0};
	iq.router = r;
	iq.batched = batched;
	iq.stanza = stanza;
	iq.id = xmpp_stanza_get_id(stanza);
	iq.from = xmpp_stanza_get_from(stanza);
	iq.to = xmpp_stanza_get_to(stanza);
	const char *type = xmpp_stanza_get_type(stanza);
	if (type && (strcmp(type, "result") == 0 || strcmp(type, "error") == 0)) {
		if (link_take_reply(r->link, iq.id, type[0] == 'e'))
			return;
		struct request *q = take_request(r, iq.id);
		if (q) {
			q->fn(stanza, q->arg);
			free(q);
			return;
		}
		log_debug("ignoring unexpected IQ %s %s from %s", type, iq.id ? iq.id : "(no id)",
		          iq.from ? iq.from : "(nobody)");
		return;
	}
	if (!iq.from) {
		log_debug("dropping an IQ without a sender");
		return;
	}
	if (!iq.to)
		iq.to = r->cfg->jid;
	if (type && strcmp(type, "get") == 0)
		dispatch_request(r, &iq, false);
	else if (type && strcmp(type, "set") == 0)
		dispatch_request(r, &iq, true);
	else
		iq_error(&iq, SC_BAD_REQUEST, NULL, "an IQ type must be get, set, result or error");
}

static void dispatch_stanza(struct router *r, xmpp_stanza_t *stanza, bool batched)
{
	const char *name = xmpp_stanza_get_name(stanza);
	if (!name)
		return;
	if (strcmp(name, "iq") == 0)
		dispatch_iq(r, stanza, batched);
	else if (strcmp(name, "message") == 0 && r->on_message)
		r->on_message(stanza, r->message_arg);
	else if (strcmp(name, "presence") == 0 && r->on_presence)
		r->on_presence(stanza, r->presence_arg);
}

/* Sends the batch's answers once it is committed; otherwise drops them and runs each of
 * its requests again on its own. */
static void finish_batch(struct router *r)
{
	if (!r->batch_active)
		return;
	r->batch_active = false;
	bool committed = r->batch_ops.finish(r->batch_ops.arg);
	if (committed && r->held.len)
		link_send(r->link, r->held.data, r->held.len);
	buf_reset(&r->held);
	size_t n = r->batch_len;
	r->batch_len = 0;
	if (!committed)
		log_info("a group commit of %zu request%s failed; running each on its own", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		if (!committed)
			dispatch_stanza(r, r->batch[i], false);
		xmpp_stanza_release(r->batch[i]);
	}
}

void router_dispatch(xmpp_stanza_t *stanza, void *arg)
{
	struct router *r = arg;
	bool joins = r->batch_ops.joins && r->batch_ops.joins(stanza, r->batch_ops.arg);
	if (r->batch_active && (!joins || r->batch_len == MAX_BATCH))
		finish_batch(r);
	if (!joins)
		return dispatch_stanza(r, stanza, false);
	if (!r->batch_active) {
		r->batch_ops.start(r->batch_ops.arg);
		r->batch_active = true;
	}
	r->batch[r->batch_len++] = xmpp_stanza_clone(stanza);
	dispatch_stanza(r, stanza, true);
	if (!r->batch_ops.healthy(r->batch_ops.arg))
		finish_batch(r);
}

bool router_input_done(bool more_ready, void *arg)
{
	struct router *r = arg;
	if (r->batch_active && more_ready && r->batch_len < MAX_BATCH)
		return true;
	finish_batch(r);
	return false;
}

void router_set_batch_ops(struct router *r, const struct router_batch_ops *ops)
{
	r->batch_ops = *ops;
}
