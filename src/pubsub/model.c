/* model.c: names of the PubSub vocabulary and the error constructors. */
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool vfail(struct ps_error *err, enum stanza_cond cond, enum stanza_error_type type, enum ps_app app,
                  const char *fmt, va_list ap)
{
	err->cond = cond;
	err->type = type;
	err->app = app;
	err->feature = NULL;
	err->text[0] = '\0';
	if (fmt)
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
	return false;
}

bool ps_fail(struct ps_error *err, enum stanza_cond cond, enum ps_app app, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, cond, stanza_cond_default_type(cond), app, fmt, ap);
	va_end(ap);
	return false;
}

bool ps_fail_typed(struct ps_error *err, enum stanza_cond cond, enum stanza_error_type type, enum ps_app app,
                   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, cond, type, app, fmt, ap);
	va_end(ap);
	return false;
}

bool ps_unsupported(struct ps_error *err, const char *feature)
{
	ps_fail(err, SC_FEATURE_NOT_IMPLEMENTED, PSE_UNSUPPORTED, "%s is not supported", feature);
	err->feature = feature;
	return false;
}

bool ps_unavailable(struct ps_error *err)
{
	return ps_fail(err, SC_RESOURCE_CONSTRAINT, PSE_NONE, "the database is unavailable; retry later");
}

bool ps_internal(struct ps_error *err)
{
	return ps_fail(err, SC_INTERNAL_SERVER_ERROR, PSE_NONE, "internal error (logged)");
}

static bool parse_name(const char *const *names, size_t n, const char *s, int *out)
{
	for (size_t i = 0; s && i < n; i++) {
		if (names[i] && strcmp(names[i], s) == 0) {
			*out = (int)i;
			return true;
		}
	}
	return false;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const affiliation_names[] = {"none", "outcast", "member", "publish-only", "publisher", "owner"};
static const char *const sub_state_names[] = {"none", "pending", "unconfigured", "subscribed"};
static const char *const access_model_names[] = {"open", "whitelist", "authorize", "presence"};
static const char *const publish_model_names[] = {"publishers", "subscribers", "open"};
static const char *const ps_app_names[] = {
	NULL,
	"closed-node",
	"configuration-required",
	"invalid-jid",
	"invalid-options",
	"invalid-payload",
	"invalid-subid",
	"item-forbidden",
	"item-required",
	"jid-required",
	"max-items-exceeded",
	"node-full",
	"nodeid-required",
	"not-subscribed",
	"payload-too-big",
	"payload-required",
	"pending-subscription",
	"precondition-not-met",
	"presence-subscription-required",
	"subid-required",
	"too-many-subscriptions",
	"unsupported",
	"unsupported-access-model",
};

const char *affiliation_name(enum affiliation a)
{
	return affiliation_names[a];
}

bool affiliation_parse(const char *s, enum affiliation *out)
{
	int v;
	if (!parse_name(affiliation_names, COUNT(affiliation_names), s, &v))
		return false;
	*out = (enum affiliation)v;
	return true;
}

const char *sub_state_name(enum sub_state s)
{
	return sub_state_names[s];
}

bool sub_state_parse(const char *s, enum sub_state *out)
{
	int v;
	if (!parse_name(sub_state_names, COUNT(sub_state_names), s, &v))
		return false;
	*out = (enum sub_state)v;
	return true;
}

const char *access_model_name(enum access_model m)
{
	return access_model_names[m];
}

bool access_model_parse(const char *s, enum access_model *out)
{
	int v;
	if (!parse_name(access_model_names, COUNT(access_model_names), s, &v))
		return false;
	*out = (enum access_model)v;
	return true;
}

const char *publish_model_name(enum publish_model m)
{
	return publish_model_names[m];
}

bool publish_model_parse(const char *s, enum publish_model *out)
{
	int v;
	if (!parse_name(publish_model_names, COUNT(publish_model_names), s, &v))
		return false;
	*out = (enum publish_model)v;
	return true;
}

const char *ps_app_name(enum ps_app a)
{
	return ps_app_names[a];
}
