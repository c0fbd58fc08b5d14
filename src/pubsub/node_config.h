/* node_config.h: a node's configuration (XEP-0060 16.4.4 pubsub#node_config): defaults,
 * validation of submitted forms, publish-options preconditions, and the forms the
 * service shows. Pure functions, unit tested. */
#ifndef CALPUBSUB_PUBSUB_NODE_CONFIG_H
#define CALPUBSUB_PUBSUB_NODE_CONFIG_H

#include "../form.h"
#include "model.h"

#include <stdbool.h>
#include <stdint.h>

enum notification_type { NT_HEADLINE = 0, NT_NORMAL };
enum send_last { SL_NEVER = 0, SL_ON_SUB };
enum node_full { NF_RETRACT_OLDEST = 0, NF_DISCARD_OLDEST, NF_REJECT };
enum itemreply { IR_OWNER = 0, IR_PUBLISHER };
enum calendar_format { CF_XCAL = 0, CF_JCAL };

struct node_config {
	char *title;
	char *description;
	char *payload_type; /* pubsub#type */
	enum access_model access_model;
	enum publish_model publish_model;
	int64_t max_items;   /* 0: max, no limit */
	int64_t item_expire; /* seconds; 0: items never expire */
	int64_t max_payload_size;
	bool persist_items;
	bool deliver_payloads;
	bool deliver_notifications;
	bool notify_config;
	bool notify_delete;
	bool notify_retract;
	bool notify_sub;
	bool subscribe;
	bool multi_subscribe; /* x-calpubsub#multi_subscribe: several subscriptions per JID */
	enum notification_type notification_type;
	enum send_last send_last;
	enum node_full node_full;
	enum itemreply itemreply;
	/* calendars (x-calpubsub#...): items are calendar objects, item id = UID */
	bool calendar;
	enum calendar_format calendar_format;
	char *calendar_components; /* space-separated: VEVENT VTODO VJOURNAL */
};

/* Service-wide bounds that node configurations must respect. */
struct node_limits {
	int64_t max_payload_size; /* upper bound of pubsub#max_payload_size */
	bool presence_access;     /* whether the presence access model is offered */
};

void node_config_defaults(struct node_config *c);
void node_config_copy(struct node_config *dst, const struct node_config *src);
void node_config_free(struct node_config *c);

/* Applies a submitted node_config form on top of c (fields left out keep their value,
 * XEP-0004 incomplete submission). Unknown fields are ignored, as XEP-0004 asks. On a bad
 * value returns false with not-acceptable (unsupported-access-model for an access model
 * the service does not offer) and leaves c unchanged. */
bool node_config_apply(struct node_config *c, const struct form *f, const struct node_limits *lim,
                       struct ps_error *err);
/* XEP-0060 7.1.5: every field of a publish-options form is a precondition on the node's
 * configuration. An unknown field or an unparsable value is bad-request; a mismatch is
 * conflict + precondition-not-met. */
bool node_config_check_preconditions(const struct node_config *c, const struct form *f,
                                     const struct node_limits *lim, struct ps_error *err);
/* The configuration as a form (type form for owners, result for notifications). */
struct form *node_config_form(const struct node_config *c, enum form_type type, const struct node_limits *lim);

/* Value spellings, for the store and the meta-data form. */
const char *notification_type_name(enum notification_type t);
bool notification_type_parse(const char *s, enum notification_type *out);
const char *send_last_name(enum send_last s);
bool send_last_parse(const char *s, enum send_last *out);
const char *node_full_name(enum node_full f);
bool node_full_parse(const char *s, enum node_full *out);
const char *itemreply_name(enum itemreply r);
bool itemreply_parse(const char *s, enum itemreply *out);
const char *calendar_format_name(enum calendar_format f);
bool calendar_format_parse(const char *s, enum calendar_format *out);
/* Whether a calendar node takes objects of this component type. */
bool node_config_takes_component(const struct node_config *c, const char *component);

#endif
