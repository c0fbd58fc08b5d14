/* model.h: the vocabulary of the PubSub service (XEP-0060): affiliations, subscription
 * states, access and publish models, the application error conditions, and the outcome
 * of a request. Plain C types shared by pubsub/, xmpp/, notify/ and store/ callers. */
#ifndef CALPUBSUB_PUBSUB_MODEL_H
#define CALPUBSUB_PUBSUB_MODEL_H

#include "../errors.h"

#include <stdbool.h>
#include <stdint.h>

#define NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define NS_PUBSUB_OWNER "http://jabber.org/protocol/pubsub#owner"
#define NS_PUBSUB_EVENT "http://jabber.org/protocol/pubsub#event"
#define NS_PUBSUB_ERRORS "http://jabber.org/protocol/pubsub#errors"
#define FORM_NODE_CONFIG "http://jabber.org/protocol/pubsub#node_config"
#define FORM_PUBLISH_OPTIONS "http://jabber.org/protocol/pubsub#publish-options"
#define FORM_SUBSCRIBE_OPTIONS "http://jabber.org/protocol/pubsub#subscribe_options"
#define FORM_SUBSCRIBE_AUTHORIZATION "http://jabber.org/protocol/pubsub#subscribe_authorization"
#define FORM_META_DATA "http://jabber.org/protocol/pubsub#meta-data"

/* Ordered by privilege where it matters (see access.c). */
enum affiliation { AFF_NONE = 0, AFF_OUTCAST, AFF_MEMBER, AFF_PUBLISH_ONLY, AFF_PUBLISHER, AFF_OWNER };

enum sub_state { SUB_NONE = 0, SUB_PENDING, SUB_UNCONFIGURED, SUB_SUBSCRIBED };

enum access_model { AM_OPEN = 0, AM_WHITELIST, AM_AUTHORIZE, AM_PRESENCE };
enum publish_model { PM_PUBLISHERS = 0, PM_SUBSCRIBERS, PM_OPEN };

/* http://jabber.org/protocol/pubsub#errors conditions. */
enum ps_app {
	PSE_NONE = 0,
	PSE_CLOSED_NODE,
	PSE_CONFIGURATION_REQUIRED,
	PSE_INVALID_JID,
	PSE_INVALID_OPTIONS,
	PSE_INVALID_PAYLOAD,
	PSE_INVALID_SUBID,
	PSE_ITEM_FORBIDDEN,
	PSE_ITEM_REQUIRED,
	PSE_JID_REQUIRED,
	PSE_MAX_ITEMS_EXCEEDED,
	PSE_NODE_FULL,
	PSE_NODEID_REQUIRED,
	PSE_NOT_SUBSCRIBED,
	PSE_PAYLOAD_TOO_BIG,
	PSE_PAYLOAD_REQUIRED,
	PSE_PENDING_SUBSCRIPTION,
	PSE_PRECONDITION_NOT_MET,
	PSE_PRESENCE_SUBSCRIPTION_REQUIRED,
	PSE_SUBID_REQUIRED,
	PSE_TOO_MANY_SUBSCRIPTIONS,
	PSE_UNSUPPORTED,
	PSE_UNSUPPORTED_ACCESS_MODEL,
};

/* Why a request failed: the RFC 6120 condition with its type, the pubsub#errors
 * condition (with the feature for <unsupported/>), and a text for humans. */
struct ps_error {
	enum stanza_cond cond;
	enum stanza_error_type type;
	enum ps_app app;
	const char *feature;
	char text[256];
};

/* Sets err and returns false, so that checks read `return ps_fail(err, ...)`. */
bool ps_fail(struct ps_error *err, enum stanza_cond cond, enum ps_app app, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with an explicit error type, where XEP-0060 gives one other than RFC 6120's. */
bool ps_fail_typed(struct ps_error *err, enum stanza_cond cond, enum stanza_error_type type, enum ps_app app,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
bool ps_unsupported(struct ps_error *err, const char *feature);
/* The database is down: a wait-type error so that the client retries. */
bool ps_unavailable(struct ps_error *err);
bool ps_internal(struct ps_error *err);

const char *affiliation_name(enum affiliation a);
bool affiliation_parse(const char *s, enum affiliation *out);
const char *sub_state_name(enum sub_state s);
bool sub_state_parse(const char *s, enum sub_state *out);
const char *access_model_name(enum access_model m);
bool access_model_parse(const char *s, enum access_model *out);
const char *publish_model_name(enum publish_model m);
bool publish_model_parse(const char *s, enum publish_model *out);
const char *ps_app_name(enum ps_app a);

#endif
