/* basic.c: what every well-behaved component answers: XEP-0199 ping and XEP-0092
 * software version. */
#include "handlers.h"

#include "autoconf.h"

static void ping_get(struct iq *iq, void *arg)
{
	(void)arg;
	if (stanza_element_count(iq->payload) != 0)
		return iq_error(iq, SC_BAD_REQUEST, NULL, "a ping carries no content");
	iq_result(iq, NULL);
}

static void version_get(struct iq *iq, void *arg)
{
	(void)arg;
	if (stanza_element_count(iq->payload) != 0)
		return iq_error(iq, SC_BAD_REQUEST, NULL, "a version query carries no content");
	iq_result(iq, "<query xmlns='jabber:iq:version'><name>" PACKAGE_NAME "</name><version>" PACKAGE_VERSION
	              "</version></query>");
}

void basic_register(struct router *r)
{
	router_register_iq(r, "urn:xmpp:ping", ping_get, NULL, NULL);
	router_add_feature(r, "urn:xmpp:ping");
	router_register_iq(r, "jabber:iq:version", version_get, NULL, NULL);
	router_add_feature(r, "jabber:iq:version");
}
