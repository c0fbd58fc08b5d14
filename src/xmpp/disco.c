/* disco.c: XEP-0030 service discovery on the service: its identity, the features that
 * work (as registered with the router), and its nodes. */
#include "handlers.h"

#include "../log.h"

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

static void reply_service_unavailable_db(struct iq *iq)
{
	iq_error(iq, SC_RESOURCE_CONSTRAINT, NULL, "the database is unavailable; retry later");
}

static void info_get(struct iq *iq, void *arg)
{
	struct disco *d = arg;
	if (!check_query(iq))
		return;
	const char *node = xmpp_stanza_get_attribute(iq->payload, "node");
	if (node)
		return iq_error(iq, SC_ITEM_NOT_FOUND, NULL, "no such node");
	const struct config *cfg = router_config(d->router);
	struct buf b = BUF_INIT;
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

static void items_get(struct iq *iq, void *arg)
{
	struct disco *d = arg;
	if (!check_query(iq))
		return;
	const char *node = xmpp_stanza_get_attribute(iq->payload, "node");
	if (node)
		return iq_error(iq, SC_ITEM_NOT_FOUND, NULL, "no such node");
	char **names = NULL;
	size_t n = 0;
	enum ps_status st = service_list_nodes(d->svc, iq->from, &names, &n);
	if (st == PS_UNAVAILABLE)
		return reply_service_unavailable_db(iq);
	if (st != PS_OK)
		return iq_error(iq, SC_INTERNAL_SERVER_ERROR, NULL, NULL);
	struct buf b = BUF_INIT;
	buf_puts(&b, "<query xmlns='" NS_DISCO_ITEMS "'>");
	for (size_t i = 0; i < n; i++) {
		buf_puts(&b, "<item");
		xml_attr(&b, "jid", router_config(d->router)->jid);
		xml_attr(&b, "node", names[i]);
		buf_puts(&b, "/>");
		free(names[i]);
	}
	free(names);
	buf_puts(&b, "</query>");
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
