/* disco.c: XEP-0030 service discovery on the service: its identity, the features that
 * work (as registered with the router), and its nodes. */
#include "handlers.h"

#include "../log.h"
#include "calendar_wire.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

struct disco {
	struct router *router;
	struct service *svc;
};

static struct disco the_disco;

static bool check_query(struct iq *iq)
{
	if (strcmp(iq->name, "query") != 0) {
		iq_error(iq, SC_BAD_REQUEST, NULL, "the payload of a disco request is <query/>");
		return false;
	}
	if (stanza_element_count(iq->payload) != 0) {
		iq_error(iq, SC_BAD_REQUEST, NULL, "a disco request carries no content");
		return false;
	}
	return true;
}

static bool begin(struct iq *iq, struct requester *rq)
{
	struct ps_error err;
	if (service_requester(the_disco.svc, iq->from, rq, &err))
		return true;
	wire_iq_ps_error(iq, &err, NULL);
	return false;
}

static void node_info(struct iq *iq, const char *node)
{
	struct requester rq;
	if (!begin(iq, &rq))
		return;
	struct ps_error err;
	struct node_info ni;
	bool ok = service_node_info(the_disco.svc, &rq, node, &ni, &err);
	requester_free(&rq);
	if (!ok)
		return wire_iq_ps_error(iq, &err, NULL);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<query xmlns='" NS_DISCO_INFO "'");
	xml_attr(&b, "node", node);
	buf_puts(&b, "><identity category='pubsub' type='leaf'");
	if (ni.node.cfg.title[0])
		xml_attr(&b, "name", ni.node.cfg.title);
	buf_puts(&b, "/><feature var='" NS_PUBSUB "'/>");
	if (ni.node.cfg.calendar)
		buf_puts(&b, "<feature var='" NS_CALENDAR_FEATURE "'/>");
	struct form *meta = service_meta_form(&ni);
	wire_write_form(&b, meta);
	form_free(meta);
	buf_puts(&b, "</query>");
	iq_result(iq, b.data);
	buf_free(&b);
	node_info_free(&ni);
}

static void info_get(struct iq *iq, void *arg)
{
	struct disco *d = arg;
	if (!check_query(iq))
		return;
	const char *node = xmpp_stanza_get_attribute(iq->payload, "node");
	struct buf b = BUF_INIT;
	if (node && adhoc_disco_info(iq, &b)) {
		iq_result(iq, b.data);
		buf_free(&b);
		return;
	}
	if (node)
		return node_info(iq, node);
	const struct config *cfg = router_config(d->router);
	buf_puts(&b, "<query xmlns='" NS_DISCO_INFO "'><identity category='pubsub' type='service'");
	xml_attr(&b, "name", cfg->name);
	buf_puts(&b, "/>");
	for (size_t i = 0; i < router_feature_count(d->router); i++) {
		buf_puts(&b, "<feature");
		xml_attr(&b, "var", router_feature(d->router, i));
		buf_puts(&b, "/>");
	}
	buf_puts(&b, "</query>");
	iq_result(iq, b.data);
	buf_free(&b);
}

/* disco#items on a node: its item ids, as far as the requester may retrieve them */
static void node_items(struct iq *iq, const char *node)
{
	struct requester rq;
	if (!begin(iq, &rq))
		return;
	struct ps_error err;
	struct items_result res;
	bool ok = service_get_items(the_disco.svc, &rq, node, NULL, 0, NULL, NULL, NULL, &res, &err);
	requester_free(&rq);
	if (!ok)
		return wire_iq_ps_error(iq, &err, NULL);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<query xmlns='" NS_DISCO_ITEMS "'");
	xml_attr(&b, "node", node);
	buf_putc(&b, '>');
	for (size_t i = 0; i < res.n; i++) {
		buf_puts(&b, "<item");
		xml_attr(&b, "jid", router_config(the_disco.router)->jid);
		xml_attr(&b, "name", res.items[i].id);
		buf_puts(&b, "/>");
	}
	buf_puts(&b, "</query>");
	iq_result(iq, b.data);
	buf_free(&b);
	items_result_free(&res);
}

static void items_get(struct iq *iq, void *arg)
{
	struct disco *d = arg;
	if (!check_query(iq))
		return;
	const char *node = xmpp_stanza_get_attribute(iq->payload, "node");
	struct buf b = BUF_INIT;
	if (node && adhoc_disco_items(iq, &b)) {
		iq_result(iq, b.data);
		buf_free(&b);
		return;
	}
	if (node)
		return node_items(iq, node);
	struct requester rq;
	if (!begin(iq, &rq))
		return;
	struct ps_error err;
	struct node_listing *nodes;
	size_t n;
	bool ok = service_list_nodes(d->svc, &rq, &nodes, &n, &err);
	requester_free(&rq);
	if (!ok)
		return wire_iq_ps_error(iq, &err, NULL);
	buf_puts(&b, "<query xmlns='" NS_DISCO_ITEMS "'>");
	for (size_t i = 0; i < n; i++) {
		buf_puts(&b, "<item");
		xml_attr(&b, "jid", router_config(d->router)->jid);
		xml_attr(&b, "node", nodes[i].name);
		if (nodes[i].title && nodes[i].title[0])
			xml_attr(&b, "name", nodes[i].title);
		buf_puts(&b, "/>");
	}
	buf_puts(&b, "</query>");
	node_listing_free(nodes, n);
	iq_result(iq, b.data);
	buf_free(&b);
}

void disco_register(struct router *r, struct service *svc)
{
	the_disco.router = r;
	the_disco.svc = svc;
	router_register_iq(r, NS_DISCO_INFO, info_get, NULL, &the_disco);
	router_add_feature(r, NS_DISCO_INFO);
	router_register_iq(r, NS_DISCO_ITEMS, items_get, NULL, &the_disco);
	router_add_feature(r, NS_DISCO_ITEMS);
}
