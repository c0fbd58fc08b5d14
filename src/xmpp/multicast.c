/* multicast.c: discovery of the server's XEP-0033 service: disco#info on the server's
 * domain, else disco#items there and disco#info on each item; the first entity with the
 * feature http://jabber.org/protocol/address is used, with the recipient limit from its
 * XEP-0128 form when it publishes one. */
#include "multicast.h"

#include "../buf.h"
#include "../log.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define DISCO_TIMEOUT_MS 10000
/* XEP-0033 8: limits "SHOULD be more than 20"; ejabberd allows a component (a remote
 * sender to it) 20 unless configured otherwise and then says so in its form. */
#define DEFAULT_LIMIT 20
#define MAX_LIMIT 1000

struct multicast {
	struct router *router;
	const struct config *cfg;
	unsigned generation; /* bumped on every link change: late replies are ignored */
	char *service;
	unsigned limit;
	int waiting;         /* disco#info replies still expected from items */
	bool refused;
};

struct probe {
	struct multicast *m;
	unsigned generation;
	char *jid;
};

static struct probe *probe_new(struct multicast *m, const char *jid)
{
	struct probe *p = xcalloc(1, sizeof(*p));
	p->m = m;
	p->generation = m->generation;
	p->jid = xstrdup(jid);
	return p;
}

static void probe_free(struct probe *p)
{
	free(p->jid);
	free(p);
}

struct multicast *multicast_new(struct router *r, const struct config *cfg)
{
	struct multicast *m = xcalloc(1, sizeof(*m));
	m->router = r;
	m->cfg = cfg;
	return m;
}

void multicast_free(struct multicast *m)
{
	if (!m)
		return;
	free(m->service);
	free(m);
}

static bool is_result(xmpp_stanza_t *reply)
{
	const char *type = reply ? xmpp_stanza_get_type(reply) : NULL;
	return type && strcmp(type, "result") == 0;
}

/* The 'message' limit of an XEP-0128 form of type http://jabber.org/protocol/address. */
static unsigned read_limit(xmpp_stanza_t *query)
{
	for (xmpp_stanza_t *x = stanza_first_element(query); x; x = stanza_next_element(x)) {
		if (strcmp(xmpp_stanza_get_name(x), "x") != 0)
			continue;
		struct ps_error err;
		struct form *f = wire_parse_form(x, &err);
		if (!f)
			continue;
		const char *ft = form_type_value(f);
		const char *limit = form_value(f, "message");
		unsigned n = 0;
		if (ft && strcmp(ft, NS_ADDRESS) == 0 && limit)
			n = (unsigned)strtoul(limit, NULL, 10);
		form_free(f);
		if (n)
			return n > MAX_LIMIT ? MAX_LIMIT : n;
	}
	return DEFAULT_LIMIT;
}

static bool has_address_feature(xmpp_stanza_t *query)
{
	for (xmpp_stanza_t *c = stanza_first_element(query); c; c = stanza_next_element(c)) {
		const char *var = xmpp_stanza_get_attribute(c, "var");
		if (strcmp(xmpp_stanza_get_name(c), "feature") == 0 && var && strcmp(var, NS_ADDRESS) == 0)
			return true;
	}
	return false;
}

static void found(struct multicast *m, const char *jid, xmpp_stanza_t *query)
{
	free(m->service);
	m->service = xstrdup(jid);
	m->limit = read_limit(query);
	log_info("notifications go through %s (XEP-0033), at most %u recipients per stanza", jid, m->limit);
}

static void none_found(struct multicast *m)
{
	(void)m;
	log_info("the XMPP server offers no XEP-0033 multicast service: one notification stanza per subscriber");
}

static void on_item_info(xmpp_stanza_t *reply, void *arg)
{
	struct probe *p = arg;
	struct multicast *m = p->m;
	if (p->generation == m->generation && !m->service) {
		xmpp_stanza_t *query = is_result(reply) ? wire_child(reply, "query", NS_DISCO_INFO) : NULL;
		if (query && has_address_feature(query))
			found(m, p->jid, query);
		else if (--m->waiting == 0)
			none_found(m);
	}
	probe_free(p);
}

static void ask_info(struct multicast *m, const char *jid, iq_reply_fn fn)
{
	router_request(m->router, "get", jid, "<query xmlns='" NS_DISCO_INFO "'/>", DISCO_TIMEOUT_MS, fn, probe_new(m, jid));
}

static void on_domain_items(xmpp_stanza_t *reply, void *arg)
{
	struct probe *p = arg;
	struct multicast *m = p->m;
	if (p->generation == m->generation) {
		xmpp_stanza_t *query = is_result(reply) ? wire_child(reply, "query", NS_DISCO_ITEMS) : NULL;
		for (xmpp_stanza_t *c = query ? stanza_first_element(query) : NULL; c; c = stanza_next_element(c)) {
			const char *jid = xmpp_stanza_get_attribute(c, "jid");
			/* items with a node are not services; ourselves neither */
			if (!jid || xmpp_stanza_get_attribute(c, "node") || strcmp(jid, m->cfg->jid) == 0)
				continue;
			m->waiting++;
			ask_info(m, jid, on_item_info);
		}
		if (m->waiting == 0)
			none_found(m);
	}
	probe_free(p);
}

static void on_domain_info(xmpp_stanza_t *reply, void *arg)
{
	struct probe *p = arg;
	struct multicast *m = p->m;
	if (p->generation == m->generation) {
		xmpp_stanza_t *query = is_result(reply) ? wire_child(reply, "query", NS_DISCO_INFO) : NULL;
		if (query && has_address_feature(query))
			found(m, p->jid, query);
		else
			router_request(m->router, "get", p->jid, "<query xmlns='" NS_DISCO_ITEMS "'/>", DISCO_TIMEOUT_MS,
			               on_domain_items, probe_new(m, p->jid));
	}
	probe_free(p);
}

void multicast_link_state(struct multicast *m, bool up)
{
	m->generation++;
	free(m->service);
	m->service = NULL;
	m->waiting = 0;
	m->refused = false;
	if (!up)
		return;
	if (!m->cfg->multicast) {
		log_debug("multicast is off (server.multicast)");
		return;
	}
	ask_info(m, m->cfg->server_domain, on_domain_info);
}

const char *multicast_service(const struct multicast *m)
{
	return m->refused ? NULL : m->service;
}

unsigned multicast_limit(const struct multicast *m)
{
	return m->limit;
}

void multicast_refused(struct multicast *m, const char *why)
{
	if (m->refused || !m->service)
		return;
	m->refused = true;
	log_error("the multicast service %s refused a notification (%s): one stanza per subscriber until the next "
	          "connection",
	          m->service, why);
}
