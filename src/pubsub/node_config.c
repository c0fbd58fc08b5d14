/* node_config.c: the node configuration form. One table lists every field the service
 * offers, with how to read and write it; the owner form, the result form of
 * configuration notifications, form submission and publish-options preconditions all
 * walk that table, so a field exists everywhere or nowhere. */
#include "node_config.h"

#include "../buf.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum value_kind { VK_TEXT, VK_BOOL, VK_COUNT_OR_MAX, VK_POSITIVE, VK_CHOICE, VK_COMPONENTS };

struct field_def {
	const char *var;
	enum value_kind kind;
	const char *label;
	/* For VK_CHOICE: the accepted values, NULL-terminated. */
	const char *const *choices;
	size_t offset;
};

#define OFF(f) offsetof(struct node_config, f)

static const char *const access_choices[] = {"open", "whitelist", "authorize", "presence", NULL};
static const char *const publish_choices[] = {"publishers", "subscribers", "open", NULL};
static const char *const notification_choices[] = {"headline", "normal", NULL};
static const char *const send_last_choices[] = {"never", "on_sub", NULL};
static const char *const node_full_choices[] = {"retract-oldest", "discard-oldest", "reject", NULL};
static const char *const itemreply_choices[] = {"owner", "publisher", NULL};
static const char *const node_type_choices[] = {"leaf", NULL};
static const char *const calendar_format_choices[] = {"xcal", "jcal", NULL};
static const char *const component_choices[] = {"VEVENT", "VTODO", "VJOURNAL", NULL};

/* The node type is always leaf: listed so that a form that names it is understood. */
#define NODE_TYPE_VAR "pubsub#node_type"

static const struct field_def fields[] = {
	{"pubsub#title", VK_TEXT, "A friendly name for the node", NULL, OFF(title)},
	{"pubsub#description", VK_TEXT, "A description of the node", NULL, OFF(description)},
	{"pubsub#type", VK_TEXT, "The type of node data, usually the namespace of the payload", NULL, OFF(payload_type)},
	{NODE_TYPE_VAR, VK_CHOICE, "The type of node (leaf only)", node_type_choices, 0},
	{"pubsub#access_model", VK_CHOICE, "Who may subscribe and retrieve items", access_choices, OFF(access_model)},
	{"pubsub#publish_model", VK_CHOICE, "Who may publish items", publish_choices, OFF(publish_model)},
	{"pubsub#max_items", VK_COUNT_OR_MAX, "Maximum number of items to keep (or max)", NULL, OFF(max_items)},
	{"pubsub#item_expire", VK_COUNT_OR_MAX, "Seconds after which items expire (or max for never)", NULL,
	 OFF(item_expire)},
	{"pubsub#max_payload_size", VK_POSITIVE, "Maximum payload size in bytes", NULL, OFF(max_payload_size)},
	{"pubsub#persist_items", VK_BOOL, "Persist items to storage", NULL, OFF(persist_items)},
	{"pubsub#deliver_payloads", VK_BOOL, "Deliver payloads with event notifications", NULL, OFF(deliver_payloads)},
	{"pubsub#deliver_notifications", VK_BOOL, "Deliver event notifications", NULL, OFF(deliver_notifications)},
	{"pubsub#notify_config", VK_BOOL, "Notify subscribers when the node configuration changes", NULL,
	 OFF(notify_config)},
	{"pubsub#notify_delete", VK_BOOL, "Notify subscribers when the node is deleted", NULL, OFF(notify_delete)},
	{"pubsub#notify_retract", VK_BOOL, "Notify subscribers when items are removed from the node", NULL,
	 OFF(notify_retract)},
	{"pubsub#notify_sub", VK_BOOL, "Notify owners about new subscribers and unsubscribes", NULL, OFF(notify_sub)},
	{"pubsub#subscribe", VK_BOOL, "Whether to allow subscriptions", NULL, OFF(subscribe)},
	{"pubsub#notification_type", VK_CHOICE, "Message type of event notifications", notification_choices,
	 OFF(notification_type)},
	{"pubsub#send_last_published_item", VK_CHOICE, "When to send the last published item", send_last_choices,
	 OFF(send_last)},
	{"pubsub#publish_node_full", VK_CHOICE, "What to do when max_items is reached", node_full_choices,
	 OFF(node_full)},
	{"pubsub#itemreply", VK_CHOICE, "Whether notifications name the publisher (publisher) or not (owner)",
	 itemreply_choices, OFF(itemreply)},
	{"x-calpubsub#multi_subscribe", VK_BOOL, "Allow several subscriptions per JID", NULL, OFF(multi_subscribe)},
	{"x-calpubsub#calendar", VK_BOOL, "A calendar: items are iCalendar objects, item id = UID", NULL, OFF(calendar)},
	{"x-calpubsub#calendar_format", VK_CHOICE, "Payload of calendar items: xCal (RFC 6321) or jCal (RFC 7265)",
	 calendar_format_choices, OFF(calendar_format)},
	{"x-calpubsub#calendar_components", VK_COMPONENTS, "Component types a calendar takes", component_choices,
	 OFF(calendar_components)},
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

void node_config_defaults(struct node_config *c)
{
	memset(c, 0, sizeof(*c));
	c->title = xstrdup("");
	c->description = xstrdup("");
	c->payload_type = xstrdup("");
	c->access_model = AM_OPEN;
	c->publish_model = PM_PUBLISHERS;
	c->max_items = 0;
	c->item_expire = 0;
	c->max_payload_size = 65536;
	c->persist_items = true;
	c->deliver_payloads = true;
	c->deliver_notifications = true;
	c->notify_config = false;
	/* XEP-0060 8.4.2 and 8.5.2 want deletions and purges notified; subscribers that cache
	 * items need retractions as well. */
	c->notify_delete = true;
	c->notify_retract = true;
	c->notify_sub = false;
	c->subscribe = true;
	c->multi_subscribe = false;
	c->notification_type = NT_HEADLINE;
	c->send_last = SL_NEVER;
	c->node_full = NF_RETRACT_OLDEST;
	c->itemreply = IR_OWNER;
	c->calendar = false;
	c->calendar_format = CF_XCAL;
	c->calendar_components = xstrdup("VEVENT VTODO VJOURNAL");
}

void node_config_copy(struct node_config *dst, const struct node_config *src)
{
	*dst = *src;
	dst->title = xstrdup(src->title);
	dst->description = xstrdup(src->description);
	dst->payload_type = xstrdup(src->payload_type);
	dst->calendar_components = xstrdup(src->calendar_components);
}

void node_config_free(struct node_config *c)
{
	free(c->title);
	free(c->description);
	free(c->payload_type);
	free(c->calendar_components);
	c->title = c->description = c->payload_type = c->calendar_components = NULL;
}

static const struct field_def *find_def(const char *var)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (strcmp(fields[i].var, var) == 0)
			return &fields[i];
	return NULL;
}

static int choice_index(const struct field_def *d, const char *v)
{
	for (int i = 0; d->choices[i]; i++)
		if (strcmp(d->choices[i], v) == 0)
			return i;
	return -1;
}

/* Digits only: strtoll() alone would also take leading white space and a sign, which
 * are no xs:integer spelling a form should carry. */
static bool parse_int(const char *s, int64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return false;
	*out = v;
	return true;
}

/* Writes the field's value in c as the form shows it. */
static void format_value(const struct field_def *d, const struct node_config *c, char *out, size_t n)
{
	const char *base = (const char *)c;
	switch (d->kind) {
	case VK_TEXT: snprintf(out, n, "%s", *(char *const *)(base + d->offset)); break;
	case VK_BOOL: snprintf(out, n, "%s", *(const bool *)(base + d->offset) ? "true" : "false"); break;
	case VK_COUNT_OR_MAX: {
		int64_t v = *(const int64_t *)(base + d->offset);
		if (v == 0)
			snprintf(out, n, "max");
		else
			snprintf(out, n, "%" PRId64, v);
		break;
	}
	case VK_POSITIVE: snprintf(out, n, "%" PRId64, *(const int64_t *)(base + d->offset)); break;
	case VK_COMPONENTS: snprintf(out, n, "%s", *(char *const *)(base + d->offset)); break;
	case VK_CHOICE:
		if (strcmp(d->var, NODE_TYPE_VAR) == 0)
			snprintf(out, n, "leaf");
		else
			snprintf(out, n, "%s", d->choices[*(const int *)(base + d->offset)]);
		break;
	}
}

/* Parses one submitted value into c. The error names the field and value. */
static bool parse_value(const struct field_def *d, const struct form_field *fl, struct node_config *c,
                        const struct node_limits *lim, struct ps_error *err)
{
	char *base = (char *)c;
	if (d->kind == VK_COMPONENTS) {
		struct buf set = BUF_INIT;
		for (int k = 0; d->choices[k]; k++) {
			for (size_t v = 0; v < fl->n_values; v++) {
				if (strcmp(fl->values[v], d->choices[k]) == 0) {
					if (set.len)
						buf_putc(&set, ' ');
					buf_puts(&set, d->choices[k]);
					break;
				}
			}
		}
		for (size_t v = 0; v < fl->n_values; v++) {
			if (choice_index(d, fl->values[v]) < 0) {
				buf_free(&set);
				return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "%s: '%.40s' is not VEVENT, VTODO or VJOURNAL",
				               d->var, fl->values[v]);
			}
		}
		if (!set.len) {
			buf_free(&set);
			return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "%s needs at least one component type", d->var);
		}
		free(*(char **)(base + d->offset));
		*(char **)(base + d->offset) = buf_steal(&set);
		return true;
	}
	if (fl->n_values > 1 || (d->kind != VK_TEXT && fl->n_values == 0))
		return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "%s takes exactly one value", d->var);
	const char *v = fl->n_values ? fl->values[0] : "";
	bool b;
	int64_t num;
	int idx;
	switch (d->kind) {
	case VK_TEXT:
		if (strlen(v) > 1024)
			return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "%s is longer than 1024 bytes", d->var);
		free(*(char **)(base + d->offset));
		*(char **)(base + d->offset) = xstrdup(v);
		return true;
	case VK_BOOL:
		if (!form_parse_bool(v, &b))
			return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "%s: '%.40s' is not a boolean", d->var, v);
		*(bool *)(base + d->offset) = b;
		return true;
	case VK_COUNT_OR_MAX:
		if (strcmp(v, "max") == 0) {
			num = 0;
		} else if (!parse_int(v, &num) || num == 0 || num > INT32_MAX) {
			return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "%s: '%.40s' is not a positive integer or max", d->var,
			               v);
		}
		*(int64_t *)(base + d->offset) = num;
		return true;
	case VK_POSITIVE:
		if (!parse_int(v, &num) || num == 0)
			return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "%s: '%.40s' is not a positive integer", d->var, v);
		if (lim && num > lim->max_payload_size)
			return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "%s: %" PRId64 " exceeds the service limit of %" PRId64,
			               d->var, num, lim->max_payload_size);
		*(int64_t *)(base + d->offset) = num;
		return true;
	case VK_COMPONENTS: return false; /* handled above */
	case VK_CHOICE:
		idx = choice_index(d, v);
		if (d->choices == access_choices && (idx < 0 || (idx == AM_PRESENCE && !(lim && lim->presence_access))))
			return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_UNSUPPORTED_ACCESS_MODEL,
			               "access model '%.40s' is not supported", v);
		if (idx < 0)
			return ps_fail(err, SC_NOT_ACCEPTABLE, PSE_NONE, "%s: '%.40s' is not one of the offered values", d->var, v);
		if (strcmp(d->var, NODE_TYPE_VAR) != 0)
			*(int *)(base + d->offset) = idx;
		return true;
	}
	return false;
}

static bool is_form_type(const struct form_field *fl)
{
	return fl->var && strcmp(fl->var, "FORM_TYPE") == 0;
}

bool node_config_apply(struct node_config *c, const struct form *f, const struct node_limits *lim,
                       struct ps_error *err)
{
	struct node_config next;
	node_config_copy(&next, c);
	for (size_t i = 0; i < f->n_fields; i++) {
		const struct form_field *fl = &f->fields[i];
		if (!fl->var || is_form_type(fl))
			continue;
		const struct field_def *d = find_def(fl->var);
		if (!d)
			continue; /* XEP-0004 3.1: fields the processor does not understand are ignored */
		if (!parse_value(d, fl, &next, lim, err)) {
			node_config_free(&next);
			return false;
		}
	}
	node_config_free(c);
	*c = next;
	return true;
}

bool node_config_check_preconditions(const struct node_config *c, const struct form *f,
                                     const struct node_limits *lim, struct ps_error *err)
{
	for (size_t i = 0; i < f->n_fields; i++) {
		const struct form_field *fl = &f->fields[i];
		if (!fl->var || is_form_type(fl))
			continue;
		const struct field_def *d = find_def(fl->var);
		if (!d)
			return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "unknown precondition: %.100s", fl->var);
		struct node_config wanted;
		node_config_copy(&wanted, c);
		bool ok = parse_value(d, fl, &wanted, lim, err);
		char have[64], want[64];
		format_value(d, c, have, sizeof(have));
		format_value(d, &wanted, want, sizeof(want));
		bool same = ok && (d->kind == VK_TEXT ? strcmp(*(char **)((char *)c + d->offset),
		                                               *(char **)((char *)&wanted + d->offset)) == 0
		                                      : strcmp(have, want) == 0);
		node_config_free(&wanted);
		if (!ok) {
			/* A value the node could never have: not a failed precondition (which clients
			 * answer by reconfiguring) but a malformed request. An access model the
			 * service does not offer keeps the condition XEP-0060 8.1.2 pairs with
			 * <unsupported-access-model/>: not-acceptable (checklist P18). */
			if (err->app == PSE_UNSUPPORTED_ACCESS_MODEL)
				return false;
			err->cond = SC_BAD_REQUEST;
			err->type = SET_MODIFY;
			err->app = PSE_NONE;
			return false;
		}
		if (!same)
			return ps_fail_typed(err, SC_CONFLICT, SET_CANCEL, PSE_PRECONDITION_NOT_MET,
			                     "precondition %s=%.40s not met: the node has %.40s", d->var, want, have);
	}
	return true;
}

struct form *node_config_form(const struct node_config *c, enum form_type type, const struct node_limits *lim)
{
	struct form *f = form_new(type);
	form_add_hidden(f, "FORM_TYPE", FORM_NODE_CONFIG);
	for (size_t i = 0; i < N_FIELDS; i++) {
		const struct field_def *d = &fields[i];
		char value[64];
		enum field_type ft = d->kind == VK_BOOL         ? FT_BOOLEAN
		                     : d->kind == VK_CHOICE     ? FT_LIST_SINGLE
		                     : d->kind == VK_COMPONENTS ? FT_LIST_MULTI
		                                                : FT_TEXT_SINGLE;
		struct form_field *fl = form_add_field(f, d->var, ft, d->label);
		if (d->kind == VK_COMPONENTS) {
			char *copy = xstrdup(*(char *const *)((const char *)c + d->offset));
			char *save = NULL;
			for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
				form_field_add_value(fl, tok);
			free(copy);
			if (type == FORM_FORM)
				for (int k = 0; d->choices[k]; k++)
					form_field_add_option(fl, d->choices[k]);
			continue;
		}
		if (d->kind == VK_TEXT) {
			form_field_add_value(fl, *(char *const *)((const char *)c + d->offset));
			continue;
		}
		format_value(d, c, value, sizeof(value));
		form_field_add_value(fl, value);
		if (d->kind == VK_CHOICE && type == FORM_FORM) {
			for (int k = 0; d->choices[k]; k++) {
				if (d->choices == access_choices && k == AM_PRESENCE && !(lim && lim->presence_access))
					continue;
				form_field_add_option(fl, d->choices[k]);
			}
		}
	}
	return f;
}

#define NAMES(fn_name, fn_parse, type, table) \
	const char *fn_name(type v) \
	{ \
		return table[v]; \
	} \
	bool fn_parse(const char *s, type *out) \
	{ \
		for (int i = 0; s && table[i]; i++) { \
			if (strcmp(table[i], s) == 0) { \
				*out = (type)i; \
				return true; \
			} \
		} \
		return false; \
	}

NAMES(notification_type_name, notification_type_parse, enum notification_type, notification_choices)
NAMES(send_last_name, send_last_parse, enum send_last, send_last_choices)
NAMES(node_full_name, node_full_parse, enum node_full, node_full_choices)
NAMES(itemreply_name, itemreply_parse, enum itemreply, itemreply_choices)
NAMES(calendar_format_name, calendar_format_parse, enum calendar_format, calendar_format_choices)

bool node_config_takes_component(const struct node_config *c, const char *component)
{
	size_t n = strlen(component);
	for (const char *p = c->calendar_components; (p = strstr(p, component)) != NULL; p += n)
		if ((p == c->calendar_components || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}
