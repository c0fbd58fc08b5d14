/* pubsub_wire.c: the XEP-0060 wire format of requests and replies, in the
 * http://jabber.org/protocol/pubsub and ...#owner namespaces. Each handler reads the
 * request, calls the service, and writes the reply; the service decides everything. */
#include "handlers.h"

#include "../log.h"
#include "calendar_wire.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_RSM "http://jabber.org/protocol/rsm"

struct pubsub_wire {
	struct router *router;
	struct service *svc;
};

static struct pubsub_wire the_wire;

/* The request's action element and its optional companion (configure, options,
 * publish-options, RSM set). */
struct action {
	xmpp_stanza_t *el;
	xmpp_stanza_t *companion;
	xmpp_stanza_t *rsm;
};

static bool parse_action(struct iq *iq, const char *ns, struct action *a)
{
	memset(a, 0, sizeof(*a));
	for (xmpp_stanza_t *c = stanza_first_element(iq->payload); c; c = stanza_next_element(c)) {
		const char *cns = xmpp_stanza_get_ns(c);
		if (cns && strcmp(cns, NS_RSM) == 0 && strcmp(xmpp_stanza_get_name(c), "set") == 0 && !a->rsm) {
			a->rsm = c;
		} else if (cns && strcmp(cns, ns) == 0 && !a->el) {
			a->el = c;
		} else if (cns && strcmp(cns, ns) == 0 && !a->companion) {
			a->companion = c;
		} else {
			iq_error(iq, SC_BAD_REQUEST, NULL, "unexpected element in <pubsub/>");
			return false;
		}
	}
	if (!a->el) {
		iq_error(iq, SC_BAD_REQUEST, NULL, "<pubsub/> carries no request");
		return false;
	}
	return true;
}

static bool is(xmpp_stanza_t *el, const char *name)
{
	const char *el_name = el ? xmpp_stanza_get_name(el) : NULL;
	return el_name && strcmp(el_name, name) == 0;
}

static const char *attr(xmpp_stanza_t *el, const char *name)
{
	return el ? xmpp_stanza_get_attribute(el, name) : NULL;
}

static bool begin(struct iq *iq, struct requester *rq)
{
	struct ps_error err;
	if (service_requester(the_wire.svc, iq->from, rq, &err))
		return true;
	wire_iq_ps_error(iq, &err, NULL);
	return false;
}

static void fail(struct iq *iq, const struct ps_error *err)
{
	wire_iq_ps_error(iq, err, NULL);
}

/* A data form inside el, with the FORM_TYPE it must have (NULL: any). */
static struct form *form_in(xmpp_stanza_t *el, struct ps_error *err, bool *present)
{
	xmpp_stanza_t *x = wire_child(el, "x", NS_XDATA);
	*present = x != NULL;
	if (!x)
		return NULL;
	return wire_parse_form(x, err);
}

static void write_subscription(struct buf *b, const char *node, const char *jid, const char *subid,
                               enum sub_state state, bool with_node)
{
	buf_puts(b, "<subscription");
	if (with_node)
		xml_attr(b, "node", node);
	xml_attr(b, "jid", jid);
	xml_attr(b, "subid", subid);
	xml_attr(b, "subscription", sub_state_name(state));
	buf_puts(b, "/>");
}

/* ---- entity use cases ---- */

static void do_subscribe(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	struct form *options = NULL;
	if (a->companion) {
		bool present;
		if (!is(a->companion, "options"))
			return iq_error(iq, SC_BAD_REQUEST, NULL, "only <options/> may follow <subscribe/>");
		if (attr(a->companion, "node") || attr(a->companion, "jid"))
			return iq_error(iq, SC_BAD_REQUEST, NULL, "<options/> in a subscribe request carries no node or jid");
		options = form_in(a->companion, &err, &present);
		if (present && !options)
			return fail(iq, &err);
	}
	/* XEP-0060 16.6 URIs subscribe without a jid: it is then the sender's bare JID */
	const char *jid = attr(a->el, "jid");
	struct sub_result res;
	bool ok = service_subscribe(the_wire.svc, rq, attr(a->el, "node"), jid ? jid : rq->bare, options, &res, &err);
	form_free(options);
	if (!ok)
		return fail(iq, &err);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'><subscription");
	xml_attr(&b, "node", res.node);
	xml_attr(&b, "jid", res.jid);
	xml_attr(&b, "subid", res.subid);
	xml_attr(&b, "subscription", sub_state_name(res.state));
	/* options are supported but not required (6.1.5) */
	buf_puts(&b, "><subscribe-options/></subscription>");
	if (res.options_applied) {
		struct sub_row row = {.deliver = res.deliver, .include_body = res.include_body};
		struct form *f = service_sub_options_form(&row, FORM_RESULT);
		buf_puts(&b, "<options>");
		wire_write_form(&b, f);
		buf_puts(&b, "</options>");
		form_free(f);
	}
	buf_puts(&b, "</pubsub>");
	iq_result(iq, b.data);
	buf_free(&b);
	sub_result_free(&res);
}

static void do_unsubscribe(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	struct sub_result res;
	const char *jid = attr(a->el, "jid");
	if (!service_unsubscribe(the_wire.svc, rq, attr(a->el, "node"), jid ? jid : rq->bare, attr(a->el, "subid"), &res,
	                         &err))
		return fail(iq, &err);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'>");
	write_subscription(&b, res.node, res.jid, res.subid, SUB_NONE, true);
	buf_puts(&b, "</pubsub>");
	iq_result(iq, b.data);
	buf_free(&b);
	sub_result_free(&res);
}

static void do_options(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	const char *node = attr(a->el, "node"), *jid = attr(a->el, "jid"), *subid = attr(a->el, "subid");
	if (!node)
		return fail(iq, (ps_fail(&err, SC_BAD_REQUEST, PSE_NODEID_REQUIRED, "a node attribute is required"), &err));
	if (!iq->is_set) {
		struct form *f;
		if (!service_get_sub_options(the_wire.svc, rq, node, jid, subid, &f, &err))
			return fail(iq, &err);
		struct buf b = BUF_INIT;
		buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'><options");
		xml_attr(&b, "node", node);
		xml_attr(&b, "jid", jid);
		xml_attr(&b, "subid", subid);
		buf_putc(&b, '>');
		wire_write_form(&b, f);
		buf_puts(&b, "</options></pubsub>");
		iq_result(iq, b.data);
		buf_free(&b);
		form_free(f);
		return;
	}
	bool present;
	struct form *f = form_in(a->el, &err, &present);
	if (!present)
		return fail(iq, (ps_fail(&err, SC_BAD_REQUEST, PSE_INVALID_OPTIONS, "submit a form"), &err));
	if (!f)
		return fail(iq, &err);
	bool ok = service_set_sub_options(the_wire.svc, rq, node, jid, subid, f, &err);
	form_free(f);
	if (!ok)
		return fail(iq, &err);
	iq_result(iq, NULL);
}

static void do_default_sub(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	struct form *f;
	const char *node = attr(a->el, "node");
	if (!service_default_sub_options(the_wire.svc, rq, node, &f, &err))
		return fail(iq, &err);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'><default");
	xml_attr(&b, "node", node);
	buf_putc(&b, '>');
	wire_write_form(&b, f);
	buf_puts(&b, "</default></pubsub>");
	iq_result(iq, b.data);
	buf_free(&b);
	form_free(f);
}

static void do_items(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	const char *node = attr(a->el, "node");
	/* be lenient about where the client put its <set/> */
	xmpp_stanza_t *set = a->rsm ? a->rsm : wire_child(a->el, "set", NS_RSM);
	if (a->companion)
		return iq_error(iq, SC_BAD_REQUEST, NULL, "unexpected element beside <items/>");
	if (calendar_items_query(the_wire.svc, iq, a->el, router_config(the_wire.router)->max_reply_items))
		return;
	size_t n_ids = 0;
	for (xmpp_stanza_t *c = stanza_first_element(a->el); c; c = stanza_next_element(c))
		if (is(c, "item"))
			n_ids++;
	const char **ids = xcalloc(n_ids + 1, sizeof(char *));
	n_ids = 0;
	for (xmpp_stanza_t *c = stanza_first_element(a->el); c; c = stanza_next_element(c)) {
		if (!is(c, "item"))
			continue;
		if (!attr(c, "id")) {
			free(ids);
			return iq_error(iq, SC_BAD_REQUEST, NULL, "an <item/> in an items request needs an id");
		}
		ids[n_ids++] = attr(c, "id");
	}
	struct rsm_request rsm = {0};
	char *texts[4] = {NULL, NULL, NULL, NULL};
	if (set) {
		rsm.max = texts[0] = wire_child_text(set, "max", NS_RSM);
		rsm.after = texts[1] = wire_child_text(set, "after", NS_RSM);
		rsm.before = texts[2] = wire_child_text(set, "before", NS_RSM);
		rsm.index = texts[3] = wire_child_text(set, "index", NS_RSM);
	}
	struct items_result res;
	bool ok = service_get_items(the_wire.svc, rq, node, ids, n_ids, attr(a->el, "max_items"), set ? &rsm : NULL,
	                            attr(a->el, "subid"), &res, &err);
	free(ids);
	for (int i = 0; i < 4; i++)
		free(texts[i]);
	if (!ok)
		return fail(iq, &err);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'><items");
	xml_attr(&b, "node", node);
	buf_putc(&b, '>');
	for (size_t i = 0; i < res.n; i++) {
		buf_puts(&b, "<item");
		xml_attr(&b, "id", res.items[i].id);
		if (res.with_publisher)
			xml_attr(&b, "publisher", res.items[i].publisher);
		buf_putc(&b, '>');
		buf_puts(&b, res.items[i].payload); /* stored as we serialised it on publish */
		buf_puts(&b, "</item>");
	}
	buf_puts(&b, "</items>");
	if (res.has_set) {
		buf_puts(&b, "<set xmlns='" NS_RSM "'>");
		if (res.n) {
			buf_printf(&b, "<first index='%lld'>", (long long)res.first_index);
			buf_xml_escape(&b, res.items[0].id);
			buf_puts(&b, "</first><last>");
			buf_xml_escape(&b, res.items[res.n - 1].id);
			buf_puts(&b, "</last>");
		}
		buf_printf(&b, "<count>%lld</count></set>", (long long)res.count);
	}
	buf_puts(&b, "</pubsub>");
	iq_result(iq, b.data);
	buf_free(&b);
	items_result_free(&res);
}

/* The text a subscriber with pubsub#include_body reads: the payload's own title or
 * summary when it has one, otherwise its text. */
static void collect_text(const struct xml_node *n, struct buf *b, size_t limit)
{
	for (size_t i = 0; i < n->n_children && b->len < limit; i++) {
		const struct xml_node *c = n->children[i];
		if (!c->name) {
			buf_append(b, c->text, strlen(c->text));
			continue;
		}
		if (b->len && b->data[b->len - 1] != ' ')
			buf_putc(b, ' ');
		collect_text(c, b, limit);
	}
}

static const struct xml_node *find_named(const struct xml_node *n, const char *a, const char *b_name, int depth)
{
	if (depth > 16)
		return NULL;
	for (size_t i = 0; i < n->n_children; i++) {
		const struct xml_node *c = n->children[i];
		if (!c->name)
			continue;
		if (strcmp(c->name, a) == 0 || strcmp(c->name, b_name) == 0)
			return c;
		const struct xml_node *deeper = find_named(c, a, b_name, depth + 1);
		if (deeper)
			return deeper;
	}
	return NULL;
}

static char *payload_summary(const struct xml_node *payload, const char *node, const char *item_id)
{
	struct buf b = BUF_INIT;
	const struct xml_node *named = find_named(payload, "summary", "title", 0);
	collect_text(named ? named : payload, &b, 500);
	/* collapse whitespace */
	struct buf out = BUF_INIT;
	bool space = true;
	for (size_t i = 0; i < b.len; i++) {
		char ch = b.data[i];
		bool ws = ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t';
		if (ws && space)
			continue;
		buf_putc(&out, ws ? ' ' : ch);
		space = ws;
	}
	while (out.len && out.data[out.len - 1] == ' ')
		out.data[--out.len] = '\0';
	if (!out.len)
		buf_printf(&out, "Item %s was published to %s", item_id ? item_id : "", node ? node : "");
	buf_free(&b);
	return buf_steal(&out);
}

static void do_publish(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	struct publish_request pr = {.node = attr(a->el, "node")};
	struct form *options = NULL;
	if (a->companion) {
		bool present;
		if (!is(a->companion, "publish-options"))
			return iq_error(iq, SC_BAD_REQUEST, NULL, "only <publish-options/> may follow <publish/>");
		options = form_in(a->companion, &err, &present);
		if (!present || !options) {
			if (!present)
				ps_fail(&err, SC_BAD_REQUEST, PSE_NONE, "<publish-options/> holds a data form");
			return fail(iq, &err);
		}
		pr.options = options;
	}
	xmpp_stanza_t *item = NULL;
	for (xmpp_stanza_t *c = stanza_first_element(a->el); c; c = stanza_next_element(c)) {
		if (!is(c, "item") || item) {
			form_free(options);
			ps_fail(&err, SC_BAD_REQUEST, PSE_INVALID_PAYLOAD, "a publish request carries at most one <item/>");
			return fail(iq, &err);
		}
		item = c;
	}
	char *payload = NULL, *body = NULL;
	struct xml_node *tree = NULL;
	if (item) {
		pr.has_item = true;
		pr.item_id = attr(item, "id");
		pr.payload_elements = (int)stanza_element_count(item);
		xmpp_stanza_t *p = stanza_first_element(item);
		if (p && pr.payload_elements == 1) {
			/* Element namespaces survive exactly. Attribute namespaces do not:
			 * libstrophe's parser discards them ("namespaced attributes aren't used in
			 * xmpp"), so xml:lang or x:attr reach us, and are stored, as lang and attr. */
			tree = wire_to_xml_node(p, 64);
			if (!tree) {
				form_free(options);
				ps_fail(&err, SC_BAD_REQUEST, PSE_INVALID_PAYLOAD, "the payload nests too deep");
				return fail(iq, &err);
			}
			struct buf b = BUF_INIT;
			xml_serialize(&b, tree, NULL);
			payload = buf_steal(&b);
			pr.payload = payload;
			pr.payload_ns = xmpp_stanza_get_ns(p);
			body = payload_summary(tree, pr.node, pr.item_id);
			pr.body = body;
		}
	}
	char *id = NULL;
	struct calendar_publish cal = {.tree = tree};
	pr.prepare = calendar_prepare_publish;
	pr.prepare_arg = &cal;
	bool ok = service_publish(the_wire.svc, rq, &pr, &id, &err);
	calendar_publish_free(&cal);
	xml_free(tree);
	free(payload);
	free(body);
	form_free(options);
	if (!ok)
		return fail(iq, &err);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'><publish");
	xml_attr(&b, "node", pr.node);
	buf_putc(&b, '>');
	if (id) {
		buf_puts(&b, "<item");
		xml_attr(&b, "id", id);
		buf_puts(&b, "/>");
	}
	buf_puts(&b, "</publish></pubsub>");
	iq_result(iq, b.data);
	buf_free(&b);
	free(id);
}

static void do_retract(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	xmpp_stanza_t *item = wire_child(a->el, "item", NS_PUBSUB);
	if (stanza_element_count(a->el) > 1)
		return iq_error(iq, SC_BAD_REQUEST, NULL, "retract one item per request");
	bool notify = false;
	const char *n = attr(a->el, "notify");
	if (n && !form_parse_bool(n, &notify))
		return iq_error(iq, SC_BAD_REQUEST, NULL, "notify is a boolean");
	if (!attr(a->el, "node"))
		return fail(iq, (ps_fail(&err, SC_BAD_REQUEST, PSE_NODEID_REQUIRED, "a node attribute is required"), &err));
	if (!service_retract(the_wire.svc, rq, attr(a->el, "node"), attr(item, "id"), notify, &err))
		return fail(iq, &err);
	iq_result(iq, NULL);
}

static void do_create(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	struct form *config = NULL;
	if (a->companion) {
		bool present;
		if (!is(a->companion, "configure") || attr(a->companion, "node"))
			return iq_error(iq, SC_BAD_REQUEST, NULL, "only <configure/> without a node may follow <create/>");
		config = form_in(a->companion, &err, &present);
		if (present && !config)
			return fail(iq, &err);
	}
	char *created = NULL;
	bool ok = service_create(the_wire.svc, rq, attr(a->el, "node"), config, &created, &err);
	form_free(config);
	if (!ok)
		return fail(iq, &err);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'><create");
	xml_attr(&b, "node", created);
	buf_puts(&b, "/></pubsub>");
	iq_result(iq, b.data);
	buf_free(&b);
	free(created);
}

static void do_own_subscriptions(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	struct sub_row *subs;
	size_t n;
	const char *node = attr(a->el, "node");
	if (!service_own_subscriptions(the_wire.svc, rq, node, &subs, &n, &err))
		return fail(iq, &err);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'><subscriptions");
	xml_attr(&b, "node", node);
	buf_putc(&b, '>');
	for (size_t i = 0; i < n; i++)
		write_subscription(&b, subs[i].node, subs[i].jid, subs[i].subid, subs[i].state, true);
	buf_puts(&b, "</subscriptions></pubsub>");
	iq_result(iq, b.data);
	buf_free(&b);
	sub_rows_free(subs, n);
}

static void do_own_affiliations(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	struct affiliation_row *affs;
	size_t n;
	const char *node = attr(a->el, "node");
	if (!service_own_affiliations(the_wire.svc, rq, node, &affs, &n, &err))
		return fail(iq, &err);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'><affiliations");
	xml_attr(&b, "node", node);
	buf_putc(&b, '>');
	for (size_t i = 0; i < n; i++) {
		buf_puts(&b, "<affiliation");
		xml_attr(&b, "node", affs[i].node);
		xml_attr(&b, "affiliation", affiliation_name(affs[i].affiliation));
		buf_puts(&b, "/>");
	}
	buf_puts(&b, "</affiliations></pubsub>");
	iq_result(iq, b.data);
	buf_free(&b);
	affiliation_rows_free(affs, n);
}

static void pubsub_request(struct iq *iq, void *arg)
{
	(void)arg;
	struct action a;
	if (!parse_action(iq, NS_PUBSUB, &a))
		return;
	if (a.rsm && !is(a.el, "items"))
		return iq_error(iq, SC_BAD_REQUEST, NULL, "an RSM <set/> goes with <items/>");
	if (a.companion && !(is(a.el, "create") || is(a.el, "subscribe") || is(a.el, "publish")))
		return iq_error(iq, SC_BAD_REQUEST, NULL, "unexpected second element in <pubsub/>");
	struct requester rq;
	if (!begin(iq, &rq))
		return;
	const char *name = xmpp_stanza_get_name(a.el);
	if (iq->is_set && strcmp(name, "subscribe") == 0)
		do_subscribe(iq, &a, &rq);
	else if (iq->is_set && strcmp(name, "unsubscribe") == 0)
		do_unsubscribe(iq, &a, &rq);
	else if (strcmp(name, "options") == 0)
		do_options(iq, &a, &rq);
	else if (!iq->is_set && strcmp(name, "default") == 0)
		do_default_sub(iq, &a, &rq);
	else if (!iq->is_set && strcmp(name, "items") == 0)
		do_items(iq, &a, &rq);
	else if (iq->is_set && strcmp(name, "publish") == 0)
		do_publish(iq, &a, &rq);
	else if (iq->is_set && strcmp(name, "retract") == 0)
		do_retract(iq, &a, &rq);
	else if (iq->is_set && strcmp(name, "create") == 0)
		do_create(iq, &a, &rq);
	else if (!iq->is_set && strcmp(name, "subscriptions") == 0)
		do_own_subscriptions(iq, &a, &rq);
	else if (!iq->is_set && strcmp(name, "affiliations") == 0)
		do_own_affiliations(iq, &a, &rq);
	else
		iq_error(iq, SC_FEATURE_NOT_IMPLEMENTED, NULL, "this request is not part of the PubSub protocol as implemented");
	requester_free(&rq);
}

/* ---- owner use cases ---- */

static void do_configure(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	const char *node = attr(a->el, "node");
	if (!node)
		return fail(iq, (ps_fail(&err, SC_BAD_REQUEST, PSE_NODEID_REQUIRED, "a node attribute is required"), &err));
	if (!iq->is_set) {
		struct form *f;
		if (!service_get_config(the_wire.svc, rq, node, &f, &err))
			return fail(iq, &err);
		struct buf b = BUF_INIT;
		buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB_OWNER "'><configure");
		xml_attr(&b, "node", node);
		buf_putc(&b, '>');
		wire_write_form(&b, f);
		buf_puts(&b, "</configure></pubsub>");
		iq_result(iq, b.data);
		buf_free(&b);
		form_free(f);
		return;
	}
	bool present;
	struct form *f = form_in(a->el, &err, &present);
	if (!present)
		return iq_error(iq, SC_BAD_REQUEST, NULL, "a configure request holds a data form");
	if (!f)
		return fail(iq, &err);
	bool ok = service_configure(the_wire.svc, rq, node, f, &err);
	form_free(f);
	if (!ok)
		return fail(iq, &err);
	iq_result(iq, NULL);
}

static void do_default_config(struct iq *iq)
{
	struct form *f = service_default_config(the_wire.svc);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB_OWNER "'><default>");
	wire_write_form(&b, f);
	buf_puts(&b, "</default></pubsub>");
	iq_result(iq, b.data);
	buf_free(&b);
	form_free(f);
}

static void do_delete(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	xmpp_stanza_t *redirect = wire_child(a->el, "redirect", NS_PUBSUB_OWNER);
	if (redirect && !attr(redirect, "uri"))
		return iq_error(iq, SC_BAD_REQUEST, NULL, "<redirect/> needs a uri");
	if (!service_delete(the_wire.svc, rq, attr(a->el, "node"), attr(redirect, "uri"), &err))
		return fail(iq, &err);
	iq_result(iq, NULL);
}

static void do_purge(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	if (!service_purge(the_wire.svc, rq, attr(a->el, "node"), &err))
		return fail(iq, &err);
	iq_result(iq, NULL);
}

/* <pubsub xmlns=owner><ELEMENT node=NODE> of an owner's list of subscriptions or affiliations */
static void open_owner_list(struct buf *b, const char *element, const char *node)
{
	buf_printf(b, "<pubsub xmlns='" NS_PUBSUB_OWNER "'><%s", element);
	xml_attr(b, "node", node);
	buf_putc(b, '>');
}

static void do_owner_subscriptions(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	const char *node = attr(a->el, "node");
	if (!node)
		return fail(iq, (ps_fail(&err, SC_BAD_REQUEST, PSE_NODEID_REQUIRED, "a node attribute is required"), &err));
	if (!iq->is_set) {
		struct sub_row *subs;
		size_t n;
		if (!service_node_subscriptions(the_wire.svc, rq, node, &subs, &n, &err))
			return fail(iq, &err);
		struct buf b = BUF_INIT;
		open_owner_list(&b, "subscriptions", node);
		for (size_t i = 0; i < n; i++)
			write_subscription(&b, NULL, subs[i].jid, subs[i].subid, subs[i].state, false);
		buf_puts(&b, "</subscriptions></pubsub>");
		iq_result(iq, b.data);
		buf_free(&b);
		sub_rows_free(subs, n);
		return;
	}
	size_t n = stanza_element_count(a->el);
	struct sub_change *ch = xcalloc(n + 1, sizeof(*ch));
	size_t k = 0;
	for (xmpp_stanza_t *c = stanza_first_element(a->el); c; c = stanza_next_element(c)) {
		if (!is(c, "subscription")) {
			free(ch);
			return iq_error(iq, SC_BAD_REQUEST, NULL, "<subscriptions/> holds <subscription/> elements");
		}
		ch[k].jid = attr(c, "jid");
		ch[k].subid = attr(c, "subid");
		ch[k].state = attr(c, "subscription");
		k++;
	}
	bool ok = service_modify_subscriptions(the_wire.svc, rq, node, ch, k, &err);
	if (ok) {
		iq_result(iq, NULL);
	} else if (err.cond == SC_NOT_ACCEPTABLE) {
		struct buf b = BUF_INIT;
		open_owner_list(&b, "subscriptions", node);
		for (size_t i = 0; i < k; i++)
			if (ch[i].failed)
				write_subscription(&b, NULL, ch[i].jid, ch[i].subid, ch[i].current, false);
		buf_puts(&b, "</subscriptions></pubsub>");
		wire_iq_ps_error(iq, &err, b.data);
		buf_free(&b);
	} else {
		fail(iq, &err);
	}
	free(ch);
}

static void do_owner_affiliations(struct iq *iq, struct action *a, const struct requester *rq)
{
	struct ps_error err;
	const char *node = attr(a->el, "node");
	if (!node)
		return fail(iq, (ps_fail(&err, SC_BAD_REQUEST, PSE_NODEID_REQUIRED, "a node attribute is required"), &err));
	if (!iq->is_set) {
		struct affiliation_row *affs;
		size_t n;
		if (!service_node_affiliations(the_wire.svc, rq, node, &affs, &n, &err))
			return fail(iq, &err);
		struct buf b = BUF_INIT;
		open_owner_list(&b, "affiliations", node);
		for (size_t i = 0; i < n; i++) {
			buf_puts(&b, "<affiliation");
			xml_attr(&b, "jid", affs[i].jid);
			xml_attr(&b, "affiliation", affiliation_name(affs[i].affiliation));
			buf_puts(&b, "/>");
		}
		buf_puts(&b, "</affiliations></pubsub>");
		iq_result(iq, b.data);
		buf_free(&b);
		affiliation_rows_free(affs, n);
		return;
	}
	size_t n = stanza_element_count(a->el);
	struct aff_change *ch = xcalloc(n + 1, sizeof(*ch));
	size_t k = 0;
	for (xmpp_stanza_t *c = stanza_first_element(a->el); c; c = stanza_next_element(c)) {
		if (!is(c, "affiliation")) {
			free(ch);
			return iq_error(iq, SC_BAD_REQUEST, NULL, "<affiliations/> holds <affiliation/> elements");
		}
		ch[k].jid = attr(c, "jid");
		ch[k].affiliation = attr(c, "affiliation");
		k++;
	}
	bool ok = service_modify_affiliations(the_wire.svc, rq, node, ch, k, &err);
	if (ok) {
		iq_result(iq, NULL);
	} else if (err.cond == SC_NOT_ACCEPTABLE) {
		struct buf b = BUF_INIT;
		open_owner_list(&b, "affiliations", node);
		for (size_t i = 0; i < k; i++) {
			if (!ch[i].failed)
				continue;
			buf_puts(&b, "<affiliation");
			xml_attr(&b, "jid", ch[i].jid);
			xml_attr(&b, "affiliation", affiliation_name(ch[i].current));
			buf_puts(&b, "/>");
		}
		buf_puts(&b, "</affiliations></pubsub>");
		wire_iq_ps_error(iq, &err, b.data);
		buf_free(&b);
	} else {
		fail(iq, &err);
	}
	free(ch);
}

static void owner_request(struct iq *iq, void *arg)
{
	(void)arg;
	struct action a;
	if (!parse_action(iq, NS_PUBSUB_OWNER, &a))
		return;
	if (a.companion || a.rsm)
		return iq_error(iq, SC_BAD_REQUEST, NULL, "unexpected second element in <pubsub/>");
	struct requester rq;
	if (!begin(iq, &rq))
		return;
	const char *name = xmpp_stanza_get_name(a.el);
	if (strcmp(name, "configure") == 0)
		do_configure(iq, &a, &rq);
	else if (!iq->is_set && strcmp(name, "default") == 0)
		do_default_config(iq);
	else if (iq->is_set && strcmp(name, "delete") == 0)
		do_delete(iq, &a, &rq);
	else if (iq->is_set && strcmp(name, "purge") == 0)
		do_purge(iq, &a, &rq);
	else if (strcmp(name, "subscriptions") == 0)
		do_owner_subscriptions(iq, &a, &rq);
	else if (strcmp(name, "affiliations") == 0)
		do_owner_affiliations(iq, &a, &rq);
	else
		iq_error(iq, SC_FEATURE_NOT_IMPLEMENTED, NULL, "this request is not part of the PubSub protocol as implemented");
	requester_free(&rq);
}

/* Every feature here works; the list is what disco#info advertises. The access-* features
 * name the default access model (XEP-0060 16.3: "the default access model is ..."), so
 * only access-open is listed; the other models show in the configuration form. Not
 * listed: last-published (it would make on_sub_and_presence the default, and a component
 * does not track subscribers' presence), presence-notifications, collections. */
static const char *const pubsub_features[] = {
	"access-open",
	"auto-create",            "config-node",           "config-node-max",          "create-and-configure",
	"create-nodes",           "delete-items",          "delete-nodes",             "get-pending",
	"instant-nodes",          "item-ids",              "manage-subscriptions",     "member-affiliation",
	"meta-data",              "modify-affiliations",   "multi-items",              "multi-subscribe",
	"outcast-affiliation",    "persistent-items",      "publish",                  "publish-node-full",
	"publish-only-affiliation", "publish-options",     "publisher-affiliation",    "purge-nodes",
	"retract-items",          "retrieve-affiliations", "retrieve-default",         "retrieve-default-sub",
	"retrieve-items",         "retrieve-subscriptions", "rsm",                     "subscribe",
	"subscription-notifications", "subscription-options",
};

/* Subscribing and unsubscribing share transactions when they arrive together (group
 * commit): thousands of clients subscribing at once then cost a durable commit per batch,
 * not per request. */
static bool batch_joins(xmpp_stanza_t *stanza, void *arg)
{
	(void)arg;
	const char *type = xmpp_stanza_get_type(stanza);
	if (!is(stanza, "iq") || !type || strcmp(type, "set") != 0)
		return false;
	xmpp_stanza_t *ps = stanza_first_element(stanza);
	if (!ps || stanza_next_element(ps) || !is(ps, "pubsub"))
		return false;
	const char *ns = xmpp_stanza_get_ns(ps);
	xmpp_stanza_t *action = stanza_first_element(ps);
	return ns && strcmp(ns, NS_PUBSUB) == 0 &&
	       (is(action, "subscribe") || is(action, "unsubscribe") || is(action, "publish") || is(action, "retract"));
}

static void batch_start(void *arg)
{
	service_batch_start(((struct pubsub_wire *)arg)->svc);
}

static bool batch_healthy(void *arg)
{
	return service_batch_healthy(((struct pubsub_wire *)arg)->svc);
}

static bool batch_finish(void *arg)
{
	return service_batch_finish(((struct pubsub_wire *)arg)->svc);
}

void pubsub_register(struct router *r, struct service *svc)
{
	the_wire.router = r;
	the_wire.svc = svc;
	router_register_iq(r, NS_PUBSUB, pubsub_request, pubsub_request, &the_wire);
	const struct router_batch_ops batch = {batch_joins, batch_start, batch_healthy, batch_finish, &the_wire};
	router_set_batch_ops(r, &batch);
	router_register_iq(r, NS_PUBSUB_OWNER, owner_request, owner_request, &the_wire);
	router_add_feature(r, NS_PUBSUB);
	for (size_t i = 0; i < sizeof(pubsub_features) / sizeof(pubsub_features[0]); i++) {
		char var[128];
		snprintf(var, sizeof(var), NS_PUBSUB "#%s", pubsub_features[i]);
		router_add_feature(r, var);
	}
}
