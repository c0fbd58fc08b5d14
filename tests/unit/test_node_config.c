/* test_node_config.c: node configuration (XEP-0060 16.4.4): the defaults, every field
 * parsed and rejected, incomplete submissions, unknown fields, publish-options
 * preconditions (7.1.5) with their normalisation and errors, and the forms the service
 * shows (owner form, result form), including a round trip through a submission. */
#include "src/pubsub/node_config.h"
#include "tap.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct node_limits LIM = {.max_payload_size = 100000, .presence_access = true};
static const struct node_limits LIM_NO_PRESENCE = {.max_payload_size = 100000, .presence_access = false};

/* A submit form with FORM_TYPE and one field of one value (value NULL: no <value/>). */
static struct form *submit1(const char *form_type, const char *var, const char *value)
{
	struct form *f = form_new(FORM_SUBMIT);
	form_add_hidden(f, "FORM_TYPE", form_type);
	struct form_field *fl = form_add_field(f, var, FT_UNSPECIFIED, NULL);
	if (value)
		form_field_add_value(fl, value);
	return f;
}

static bool same_config(const struct node_config *a, const struct node_config *b)
{
	return strcmp(a->title, b->title) == 0 && strcmp(a->description, b->description) == 0 &&
	       strcmp(a->payload_type, b->payload_type) == 0 && a->access_model == b->access_model &&
	       a->publish_model == b->publish_model && a->max_items == b->max_items && a->item_expire == b->item_expire &&
	       a->max_payload_size == b->max_payload_size && a->persist_items == b->persist_items &&
	       a->deliver_payloads == b->deliver_payloads && a->deliver_notifications == b->deliver_notifications &&
	       a->notify_config == b->notify_config && a->notify_delete == b->notify_delete &&
	       a->notify_retract == b->notify_retract && a->notify_sub == b->notify_sub && a->subscribe == b->subscribe &&
	       a->multi_subscribe == b->multi_subscribe && a->notification_type == b->notification_type &&
	       a->send_last == b->send_last && a->node_full == b->node_full && a->itemreply == b->itemreply;
}

/* Applies var=value to the defaults; returns whether it was accepted, the error in err. */
static bool apply1(const char *var, const char *value, const struct node_limits *lim, struct node_config *out,
                   struct ps_error *err)
{
	node_config_defaults(out);
	struct form *f = submit1("http://jabber.org/protocol/pubsub#node_config", var, value);
	memset(err, 0, sizeof(*err));
	bool r = node_config_apply(out, f, lim, err);
	form_free(f);
	return r;
}

static void accepts(const char *var, const char *value, struct node_config *out)
{
	struct ps_error err;
	bool got = apply1(var, value, &LIM, out, &err);
	ok(got, "%s='%s' is accepted%s%s", var, value ? value : "(no value)", err.text[0] ? ": " : "", err.text);
}

/* A refused value: not-acceptable (with app), and the configuration is left as it was. */
static void refuses_app(const char *var, const char *value, const struct node_limits *lim, enum ps_app app)
{
	struct node_config c, defaults;
	struct ps_error err;
	node_config_defaults(&defaults);
	bool got = apply1(var, value, lim, &c, &err);
	ok(!got && err.cond == SC_NOT_ACCEPTABLE && err.type == SET_MODIFY && err.app == app && err.text[0],
	   "%s='%s' is refused with not-acceptable%s%s (%s)", var, value ? value : "(no value)", app ? " + " : "",
	   app ? ps_app_name(app) : "", err.text);
	ok(same_config(&c, &defaults), "%s='%s': nothing changed", var, value ? value : "(no value)");
	node_config_free(&c);
	node_config_free(&defaults);
}

static void refuses(const char *var, const char *value)
{
	refuses_app(var, value, &LIM, PSE_NONE);
}

static void test_defaults(void)
{
	struct node_config c;
	node_config_defaults(&c);
	is_str(c.title, "", "default title is empty");
	is_str(c.description, "", "default description is empty");
	is_str(c.payload_type, "", "default type is empty (any payload)");
	is_int(c.access_model, AM_OPEN, "default access model: open (4.5)");
	is_int(c.publish_model, PM_PUBLISHERS, "default publish model: publishers");
	is_int(c.max_items, 0, "default max_items: max");
	is_int(c.item_expire, 0, "default item_expire: never");
	is_int(c.max_payload_size, 65536, "default max_payload_size: 64 KiB");
	ok(c.persist_items, "items persist by default");
	ok(c.deliver_payloads, "payloads are delivered by default");
	ok(c.deliver_notifications, "notifications are delivered by default (16.4.4 registry)");
	ok(!c.notify_config, "notify_config off by default");
	ok(c.notify_delete, "notify_delete on by default (8.4.2 MUST notify)");
	ok(c.notify_retract, "notify_retract on by default (subscribers drop cached items)");
	ok(!c.notify_sub, "notify_sub off by default");
	ok(c.subscribe, "subscriptions allowed by default (16.4.4 registry)");
	ok(!c.multi_subscribe, "one subscription per JID by default");
	is_int(c.notification_type, NT_HEADLINE, "headline notifications by default");
	is_int(c.send_last, SL_NEVER, "send_last_published_item never by default");
	is_int(c.node_full, NF_RETRACT_OLDEST, "publish_node_full retract-oldest by default (7.1.2.5)");
	is_int(c.itemreply, IR_OWNER, "itemreply owner by default (no publisher attribute)");
	struct node_config copy;
	node_config_copy(&copy, &c);
	ok(same_config(&copy, &c) && copy.title != c.title, "a copy is equal and owns its strings");
	node_config_free(&copy);
	node_config_free(&c);
	ok(c.title == NULL, "free clears the strings");
}

static void fields(void)
{
	struct node_config c;
	struct ps_error err;

	/* text fields */
	const char *texts[] = {"pubsub#title", "pubsub#description", "pubsub#type"};
	for (int i = 0; i < 3; i++) {
		accepts(texts[i], "Caf\xc3\xa9 <&> \"quoted\" 'x'", &c);
		const char *got = i == 0 ? c.title : i == 1 ? c.description : c.payload_type;
		is_str(got, "Caf\xc3\xa9 <&> \"quoted\" 'x'", "%s is stored as given", texts[i]);
		node_config_free(&c);
		accepts(texts[i], NULL, &c);
		got = i == 0 ? c.title : i == 1 ? c.description : c.payload_type;
		is_str(got, "", "%s without a value is empty", texts[i]);
		node_config_free(&c);
		char *big = malloc(1026);
		memset(big, 'a', 1025);
		big[1025] = '\0';
		refuses(texts[i], big);
		big[1024] = '\0';
		accepts(texts[i], big, &c);
		node_config_free(&c);
		free(big);
	}

	/* booleans: both lexical forms (XEP-0004 3.3) */
	struct {
		const char *var;
		size_t off;
	} bools[] = {
		{"pubsub#persist_items", offsetof(struct node_config, persist_items)},
		{"pubsub#deliver_payloads", offsetof(struct node_config, deliver_payloads)},
		{"pubsub#deliver_notifications", offsetof(struct node_config, deliver_notifications)},
		{"pubsub#notify_config", offsetof(struct node_config, notify_config)},
		{"pubsub#notify_delete", offsetof(struct node_config, notify_delete)},
		{"pubsub#notify_retract", offsetof(struct node_config, notify_retract)},
		{"pubsub#notify_sub", offsetof(struct node_config, notify_sub)},
		{"pubsub#subscribe", offsetof(struct node_config, subscribe)},
		{"x-calpubsub#multi_subscribe", offsetof(struct node_config, multi_subscribe)},
	};
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		const char *forms[] = {"1", "true", "0", "false"};
		for (int k = 0; k < 4; k++) {
			accepts(bools[i].var, forms[k], &c);
			bool v = *(bool *)((char *)&c + bools[i].off);
			is_int(v, k < 2, "%s='%s' reads as %s", bools[i].var, forms[k], k < 2 ? "true" : "false");
			node_config_free(&c);
		}
		const char *bad[] = {"yes", "TRUE", "", "2", " 1"};
		for (int k = 0; k < 5; k++)
			refuses(bools[i].var, bad[k]);
		refuses(bools[i].var, NULL);
	}

	/* integers or max */
	const char *counts[] = {"pubsub#max_items", "pubsub#item_expire"};
	for (int i = 0; i < 2; i++) {
		accepts(counts[i], "5", &c);
		is_int(i ? c.item_expire : c.max_items, 5, "%s=5", counts[i]);
		node_config_free(&c);
		accepts(counts[i], "max", &c);
		is_int(i ? c.item_expire : c.max_items, 0, "%s=max means no limit", counts[i]);
		node_config_free(&c);
		accepts(counts[i], "2147483647", &c);
		is_int(i ? c.item_expire : c.max_items, 2147483647, "%s=2^31-1", counts[i]);
		node_config_free(&c);
		const char *bad[] = {"0", "-1", "+5", "abc", "", "1.5", " 5", "5 ", "MAX", "2147483648",
		                     "99999999999999999999"};
		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
			refuses(counts[i], bad[k]);
		refuses(counts[i], NULL);
	}

	/* max_payload_size: positive, and never above the service's limit */
	accepts("pubsub#max_payload_size", "1000", &c);
	is_int(c.max_payload_size, 1000, "max_payload_size=1000");
	node_config_free(&c);
	accepts("pubsub#max_payload_size", "100000", &c);
	is_int(c.max_payload_size, 100000, "max_payload_size at the service limit");
	node_config_free(&c);
	refuses("pubsub#max_payload_size", "100001");
	refuses("pubsub#max_payload_size", "0");
	refuses("pubsub#max_payload_size", "max");
	refuses("pubsub#max_payload_size", "-5");
	refuses("pubsub#max_payload_size", " 50");
	ok(apply1("pubsub#max_payload_size", "5000000", NULL, &c, &err), "without limits any size is accepted");
	node_config_free(&c);

	/* access models: open, whitelist, authorize, presence (when offered); roster and
	 * anything else is unsupported-access-model (8.1.2) */
	const char *models[] = {"open", "whitelist", "authorize", "presence"};
	for (int i = 0; i < 4; i++) {
		accepts("pubsub#access_model", models[i], &c);
		is_int(c.access_model, i, "access_model=%s", models[i]);
		node_config_free(&c);
	}
	refuses_app("pubsub#access_model", "presence", &LIM_NO_PRESENCE, PSE_UNSUPPORTED_ACCESS_MODEL);
	refuses_app("pubsub#access_model", "presence", NULL, PSE_UNSUPPORTED_ACCESS_MODEL);
	refuses_app("pubsub#access_model", "roster", &LIM, PSE_UNSUPPORTED_ACCESS_MODEL);
	refuses_app("pubsub#access_model", "Open", &LIM, PSE_UNSUPPORTED_ACCESS_MODEL);
	refuses_app("pubsub#access_model", "", &LIM, PSE_UNSUPPORTED_ACCESS_MODEL);

	/* the other lists */
	struct {
		const char *var;
		const char *values[4];
		size_t off;
	} lists[] = {
		{"pubsub#publish_model", {"publishers", "subscribers", "open", NULL}, offsetof(struct node_config, publish_model)},
		{"pubsub#notification_type", {"headline", "normal", NULL, NULL},
		 offsetof(struct node_config, notification_type)},
		{"pubsub#send_last_published_item", {"never", "on_sub", NULL, NULL}, offsetof(struct node_config, send_last)},
		{"pubsub#publish_node_full", {"retract-oldest", "discard-oldest", "reject", NULL},
		 offsetof(struct node_config, node_full)},
		{"pubsub#itemreply", {"owner", "publisher", NULL, NULL}, offsetof(struct node_config, itemreply)},
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		for (int k = 0; lists[i].values[k]; k++) {
			accepts(lists[i].var, lists[i].values[k], &c);
			is_int(*(int *)((char *)&c + lists[i].off), k, "%s=%s", lists[i].var, lists[i].values[k]);
			node_config_free(&c);
		}
		refuses(lists[i].var, "bogus");
		refuses(lists[i].var, "");
		refuses(lists[i].var, NULL);
	}
	/* presence-based sending needs presence tracking (checklist P22) */
	refuses("pubsub#send_last_published_item", "on_sub_and_presence");
	accepts("pubsub#node_type", "leaf", &c);
	node_config_free(&c);
	refuses("pubsub#node_type", "collection");

	/* a field with two values where one is expected */
	struct form *f = submit1("http://jabber.org/protocol/pubsub#node_config", "pubsub#title", "a");
	form_field_add_value(&f->fields[1], "b");
	node_config_defaults(&c);
	ok(!node_config_apply(&c, f, &LIM, &err) && err.cond == SC_NOT_ACCEPTABLE, "two values for title: not-acceptable");
	node_config_free(&c);
	form_free(f);
}

static void submissions(void)
{
	struct node_config c, before;
	struct ps_error err;

	/* incomplete submission: what is left out keeps its value (XEP-0004 2.13, 8.2.4) */
	node_config_defaults(&c);
	struct form *f = submit1("http://jabber.org/protocol/pubsub#node_config", "pubsub#max_items", "7");
	form_add_text(f, "pubsub#title", FT_TEXT_SINGLE, NULL, "Team");
	ok(node_config_apply(&c, f, &LIM, &err), "a first partial submission");
	form_free(f);
	f = submit1("http://jabber.org/protocol/pubsub#node_config", "pubsub#access_model", "whitelist");
	ok(node_config_apply(&c, f, &LIM, &err), "a second partial submission");
	form_free(f);
	ok(c.max_items == 7 && strcmp(c.title, "Team") == 0 && c.access_model == AM_WHITELIST,
	   "both submissions hold: max_items 7, title Team, whitelist");
	ok(c.persist_items && c.notify_retract && c.publish_model == PM_PUBLISHERS, "the rest kept its values");

	/* unknown fields, fixed fields without var and FORM_TYPE are ignored (XEP-0004 3.1) */
	node_config_copy(&before, &c);
	f = submit1("http://jabber.org/protocol/pubsub#node_config", "pubsub#roster_groups_allowed", "friends");
	form_add_text(f, "x-example#whatever", FT_TEXT_SINGLE, NULL, "1");
	form_add_text(f, "pubsub#presence_based_delivery", FT_BOOLEAN, NULL, "maybe");
	form_add_text(f, NULL, FT_FIXED, NULL, "a note");
	ok(node_config_apply(&c, f, &LIM, &err), "unknown fields are ignored");
	ok(same_config(&c, &before), "and change nothing");
	form_free(f);

	/* a bad value anywhere refuses the whole submission and changes nothing */
	f = submit1("http://jabber.org/protocol/pubsub#node_config", "pubsub#title", "Changed");
	form_add_text(f, "pubsub#max_items", FT_TEXT_SINGLE, NULL, "3");
	form_add_text(f, "pubsub#persist_items", FT_BOOLEAN, NULL, "perhaps");
	ok(!node_config_apply(&c, f, &LIM, &err) && err.cond == SC_NOT_ACCEPTABLE && strstr(err.text, "persist_items"),
	   "a bad boolean after good fields: not-acceptable naming the field (%s)", err.text);
	ok(same_config(&c, &before), "nothing of that submission was applied");
	form_free(f);
	node_config_free(&before);
	node_config_free(&c);
}

static bool precondition(const struct node_config *c, const char *var, const char *value, struct ps_error *err)
{
	struct form *f = submit1("http://jabber.org/protocol/pubsub#publish-options", var, value);
	memset(err, 0, sizeof(*err));
	bool r = node_config_check_preconditions(c, f, &LIM, err);
	form_free(f);
	return r;
}

static void met(const struct node_config *c, const char *var, const char *value)
{
	struct ps_error err;
	bool got = precondition(c, var, value, &err);
	ok(got, "precondition %s=%s holds%s%s", var, value, err.text[0] ? ": " : "", err.text);
}

static void not_met(const struct node_config *c, const char *var, const char *value)
{
	struct ps_error err;
	bool r = precondition(c, var, value, &err);
	ok(!r && err.cond == SC_CONFLICT && err.type == SET_CANCEL && err.app == PSE_PRECONDITION_NOT_MET,
	   "precondition %s=%s fails with conflict + precondition-not-met (%s)", var, value, err.text);
}

static void malformed(const struct node_config *c, const char *var, const char *value, enum stanza_cond cond,
                      enum ps_app app)
{
	struct ps_error err;
	bool r = precondition(c, var, value, &err);
	ok(!r && err.cond == cond && err.type == SET_MODIFY && err.app == app,
	   "precondition %s=%s is %s%s%s, not a failed precondition (%s)", var, value, stanza_cond_name(cond),
	   app ? " + " : "", app ? ps_app_name(app) : "", err.text);
}

static void preconditions(void)
{
	struct node_config c;
	node_config_defaults(&c);
	/* normalisation: booleans in both forms, max, integers */
	met(&c, "pubsub#persist_items", "true");
	met(&c, "pubsub#persist_items", "1");
	not_met(&c, "pubsub#persist_items", "0");
	not_met(&c, "pubsub#persist_items", "false");
	met(&c, "pubsub#notify_config", "0");
	met(&c, "pubsub#max_items", "max");
	not_met(&c, "pubsub#max_items", "10");
	met(&c, "pubsub#access_model", "open");
	not_met(&c, "pubsub#access_model", "whitelist");
	met(&c, "pubsub#send_last_published_item", "never");
	met(&c, "pubsub#title", "");
	not_met(&c, "pubsub#title", "Other");
	met(&c, "pubsub#node_type", "leaf");
	met(&c, "pubsub#max_payload_size", "65536");
	node_config_free(&c);

	node_config_defaults(&c);
	c.max_items = 10;
	c.access_model = AM_WHITELIST;
	free(c.title);
	c.title = strdup("Private");
	met(&c, "pubsub#max_items", "10");
	met(&c, "pubsub#max_items", "010");
	not_met(&c, "pubsub#max_items", "max");
	not_met(&c, "pubsub#max_items", "11");
	met(&c, "pubsub#access_model", "whitelist");
	met(&c, "pubsub#title", "Private");
	not_met(&c, "pubsub#title", "private");

	/* several preconditions: all must hold */
	struct ps_error err;
	struct form *f = submit1("http://jabber.org/protocol/pubsub#publish-options", "pubsub#persist_items", "1");
	form_add_text(f, "pubsub#access_model", FT_LIST_SINGLE, NULL, "whitelist");
	form_add_text(f, "pubsub#max_items", FT_TEXT_SINGLE, NULL, "10");
	ok(node_config_check_preconditions(&c, f, &LIM, &err), "XEP-0223-style preconditions all hold");
	form_add_text(f, "pubsub#notify_sub", FT_BOOLEAN, NULL, "true");
	ok(!node_config_check_preconditions(&c, f, &LIM, &err) && err.app == PSE_PRECONDITION_NOT_MET &&
	       strstr(err.text, "notify_sub"),
	   "one failing precondition among several is named (%s)", err.text);
	form_free(f);
	f = form_new(FORM_SUBMIT);
	form_add_hidden(f, "FORM_TYPE", "http://jabber.org/protocol/pubsub#publish-options");
	ok(node_config_check_preconditions(&c, f, &LIM, &err), "a form with only FORM_TYPE sets no precondition");
	form_free(f);

	/* unknown fields are rejected (7.1.5), with bad-request rather than a failed
	 * precondition that clients would answer by reconfiguring (checklist P17) */
	malformed(&c, "pubsub#bogus", "1", SC_BAD_REQUEST, PSE_NONE);
	malformed(&c, "x-example#thing", "1", SC_BAD_REQUEST, PSE_NONE);
	malformed(&c, "pubsub#presence_based_delivery", "0", SC_BAD_REQUEST, PSE_NONE);
	malformed(&c, "pubsub#tempsub", "0", SC_BAD_REQUEST, PSE_NONE);
	/* values the node could never have */
	malformed(&c, "pubsub#persist_items", "yes", SC_BAD_REQUEST, PSE_NONE);
	malformed(&c, "pubsub#max_items", "0", SC_BAD_REQUEST, PSE_NONE);
	malformed(&c, "pubsub#max_payload_size", "100001", SC_BAD_REQUEST, PSE_NONE);
	malformed(&c, "pubsub#node_type", "collection", SC_BAD_REQUEST, PSE_NONE);
	malformed(&c, "pubsub#send_last_published_item", "on_sub_and_presence", SC_BAD_REQUEST, PSE_NONE);
	/* an access model the service does not offer is the 8.1.2 error (checklist P18) */
	malformed(&c, "pubsub#access_model", "roster", SC_NOT_ACCEPTABLE, PSE_UNSUPPORTED_ACCESS_MODEL);
	f = submit1("http://jabber.org/protocol/pubsub#publish-options", "pubsub#access_model", "presence");
	ok(!node_config_check_preconditions(&c, f, &LIM_NO_PRESENCE, &err) && err.cond == SC_NOT_ACCEPTABLE &&
	       err.app == PSE_UNSUPPORTED_ACCESS_MODEL,
	   "presence, where not offered, is unsupported-access-model too");
	form_free(f);
	node_config_free(&c);
}

/* The field of a form, or NULL. */
static const struct form_field *field(const struct form *f, const char *var)
{
	return form_find(f, var);
}

static bool has_option(const struct form_field *fl, const char *v)
{
	for (size_t i = 0; fl && i < fl->n_options; i++)
		if (strcmp(fl->options[i], v) == 0)
			return true;
	return false;
}

static void test_forms(void)
{
	struct node_config c;
	node_config_defaults(&c);
	struct form *f = node_config_form(&c, FORM_FORM, &LIM);
	ok(f->type == FORM_FORM, "the owner form is of type form");
	ok(f->n_fields > 0 && strcmp(f->fields[0].var, "FORM_TYPE") == 0 && f->fields[0].type == FT_HIDDEN,
	   "FORM_TYPE comes first, hidden");
	is_str(form_type_value(f), "http://jabber.org/protocol/pubsub#node_config", "FORM_TYPE is pubsub#node_config");
	const char *expect[][3] = {
		{"pubsub#title", "text-single", ""},
		{"pubsub#description", "text-single", ""},
		{"pubsub#type", "text-single", ""},
		{"pubsub#node_type", "list-single", "leaf"},
		{"pubsub#access_model", "list-single", "open"},
		{"pubsub#publish_model", "list-single", "publishers"},
		{"pubsub#max_items", "text-single", "max"},
		{"pubsub#item_expire", "text-single", "max"},
		{"pubsub#max_payload_size", "text-single", "65536"},
		{"pubsub#persist_items", "boolean", "true"},
		{"pubsub#deliver_payloads", "boolean", "true"},
		{"pubsub#deliver_notifications", "boolean", "true"},
		{"pubsub#notify_config", "boolean", "false"},
		{"pubsub#notify_delete", "boolean", "true"},
		{"pubsub#notify_retract", "boolean", "true"},
		{"pubsub#notify_sub", "boolean", "false"},
		{"pubsub#subscribe", "boolean", "true"},
		{"pubsub#notification_type", "list-single", "headline"},
		{"pubsub#send_last_published_item", "list-single", "never"},
		{"pubsub#publish_node_full", "list-single", "retract-oldest"},
		{"pubsub#itemreply", "list-single", "owner"},
		{"x-calpubsub#multi_subscribe", "boolean", "false"},
		{"x-calpubsub#calendar", "boolean", "false"},
		{"x-calpubsub#calendar_format", "list-single", "xcal"},
	};
	size_t n_expect = sizeof(expect) / sizeof(expect[0]);
	is_int(f->n_fields, n_expect + 2, "the form has FORM_TYPE, %zu fields and the calendar components", n_expect);
	const struct form_field *comps = field(f, "x-calpubsub#calendar_components");
	ok(comps && comps->type == FT_LIST_MULTI && comps->n_values == 3 && comps->n_options == 3 &&
	       strcmp(comps->values[0], "VEVENT") == 0,
	   "calendar components: a list-multi of VEVENT, VTODO, VJOURNAL");
	for (size_t i = 0; i < n_expect; i++) {
		const struct form_field *fl = field(f, expect[i][0]);
		if (!ok(fl != NULL, "%s is in the form", expect[i][0]))
			continue;
		is_str(field_type_name(fl->type), expect[i][1], "%s is %s", expect[i][0], expect[i][1]);
		ok(fl->n_values == 1 && strcmp(fl->values[0], expect[i][2]) == 0, "%s shows '%s'", expect[i][0],
		   expect[i][2]);
		ok(fl->label && fl->label[0], "%s has a label", expect[i][0]);
	}
	const struct form_field *am = field(f, "pubsub#access_model");
	ok(has_option(am, "open") && has_option(am, "whitelist") && has_option(am, "authorize") &&
	       has_option(am, "presence") && !has_option(am, "roster") && am->n_options == 4,
	   "access models offered: open, whitelist, authorize, presence");
	ok(has_option(field(f, "pubsub#publish_node_full"), "reject") &&
	       has_option(field(f, "pubsub#publish_node_full"), "discard-oldest"),
	   "publish_node_full offers its three behaviours");
	ok(field(f, "pubsub#node_type")->n_options == 1, "node_type offers leaf only");
	form_free(f);

	f = node_config_form(&c, FORM_FORM, &LIM_NO_PRESENCE);
	am = field(f, "pubsub#access_model");
	ok(!has_option(am, "presence") && am->n_options == 3, "without presence access, presence is not offered");
	form_free(f);

	/* the result form of configuration notifications carries values, no options */
	f = node_config_form(&c, FORM_RESULT, &LIM);
	ok(f->type == FORM_RESULT && field(f, "pubsub#access_model")->n_options == 0, "a result form lists no options");
	form_free(f);

	/* round trip: a non-default configuration, shown and submitted back, is the same */
	free(c.title);
	c.title = strdup("Round <trip> & back");
	c.access_model = AM_AUTHORIZE;
	c.publish_model = PM_OPEN;
	c.max_items = 42;
	c.item_expire = 3600;
	c.max_payload_size = 2048;
	c.persist_items = false;
	c.notify_sub = true;
	c.multi_subscribe = true;
	c.notification_type = NT_NORMAL;
	c.send_last = SL_ON_SUB;
	c.node_full = NF_REJECT;
	c.itemreply = IR_PUBLISHER;
	f = node_config_form(&c, FORM_FORM, &LIM);
	struct form *submit = form_new(FORM_SUBMIT);
	for (size_t i = 0; i < f->n_fields; i++) {
		struct form_field *fl = form_add_field(submit, f->fields[i].var, f->fields[i].type, NULL);
		for (size_t v = 0; v < f->fields[i].n_values; v++)
			form_field_add_value(fl, f->fields[i].values[v]);
	}
	struct node_config back;
	struct ps_error err;
	node_config_defaults(&back);
	ok(node_config_apply(&back, submit, &LIM, &err), "the shown form can be submitted back");
	ok(same_config(&back, &c), "and gives the same configuration");
	/* and the same form, as preconditions, holds */
	err.text[0] = '\0';
	bool held = node_config_check_preconditions(&c, submit, &LIM, &err);
	ok(held, "the whole form as preconditions holds%s%s", err.text[0] ? ": " : "", err.text);
	node_config_free(&back);
	form_free(submit);
	form_free(f);
	node_config_free(&c);
}

static void names(void)
{
	enum notification_type nt;
	enum send_last sl;
	enum node_full nf;
	enum itemreply ir;
	ok(notification_type_parse("normal", &nt) && nt == NT_NORMAL, "notification type normal");
	is_str(notification_type_name(NT_HEADLINE), "headline", "headline");
	ok(!notification_type_parse("chat", &nt) && !notification_type_parse(NULL, &nt), "chat is not a notification type");
	ok(send_last_parse("on_sub", &sl) && sl == SL_ON_SUB, "on_sub");
	is_str(send_last_name(SL_NEVER), "never", "never");
	ok(node_full_parse("discard-oldest", &nf) && nf == NF_DISCARD_OLDEST, "discard-oldest");
	is_str(node_full_name(NF_REJECT), "reject", "reject");
	ok(itemreply_parse("publisher", &ir) && ir == IR_PUBLISHER, "publisher");
	is_str(itemreply_name(IR_OWNER), "owner", "owner");
	ok(!itemreply_parse("none", &ir), "itemreply none is not offered");
}

int main(void)
{
	test_defaults();
	fields();
	submissions();
	preconditions();
	test_forms();
	names();
	return done_testing();
}
