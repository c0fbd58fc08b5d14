/* errors.c: names and default types of the RFC 6120 stanza error conditions. */
#include "errors.h"

struct cond_info {
	const char *name;
	enum stanza_error_type type;
};

/* Types as RFC 6120 8.3.3 recommends for each condition. */
static const struct cond_info conds[] = {
	[SC_NONE] = {"undefined-condition", SET_CANCEL},
	[SC_BAD_REQUEST] = {"bad-request", SET_MODIFY},
	[SC_CONFLICT] = {"conflict", SET_CANCEL},
	[SC_FEATURE_NOT_IMPLEMENTED] = {"feature-not-implemented", SET_CANCEL},
	[SC_FORBIDDEN] = {"forbidden", SET_AUTH},
	[SC_GONE] = {"gone", SET_CANCEL},
	[SC_INTERNAL_SERVER_ERROR] = {"internal-server-error", SET_CANCEL},
	[SC_ITEM_NOT_FOUND] = {"item-not-found", SET_CANCEL},
	[SC_JID_MALFORMED] = {"jid-malformed", SET_MODIFY},
	[SC_NOT_ACCEPTABLE] = {"not-acceptable", SET_MODIFY},
	[SC_NOT_ALLOWED] = {"not-allowed", SET_CANCEL},
	[SC_NOT_AUTHORIZED] = {"not-authorized", SET_AUTH},
	[SC_POLICY_VIOLATION] = {"policy-violation", SET_MODIFY},
	[SC_RECIPIENT_UNAVAILABLE] = {"recipient-unavailable", SET_WAIT},
	[SC_REDIRECT] = {"redirect", SET_MODIFY},
	[SC_REGISTRATION_REQUIRED] = {"registration-required", SET_AUTH},
	[SC_REMOTE_SERVER_NOT_FOUND] = {"remote-server-not-found", SET_CANCEL},
	[SC_REMOTE_SERVER_TIMEOUT] = {"remote-server-timeout", SET_WAIT},
	[SC_RESOURCE_CONSTRAINT] = {"resource-constraint", SET_WAIT},
	[SC_SERVICE_UNAVAILABLE] = {"service-unavailable", SET_CANCEL},
	[SC_SUBSCRIPTION_REQUIRED] = {"subscription-required", SET_AUTH},
	[SC_UNDEFINED_CONDITION] = {"undefined-condition", SET_CANCEL},
	[SC_UNEXPECTED_REQUEST] = {"unexpected-request", SET_WAIT},
};

const char *stanza_cond_name(enum stanza_cond c)
{
	return conds[c].name;
}

enum stanza_error_type stanza_cond_default_type(enum stanza_cond c)
{
	return conds[c].type;
}

const char *stanza_error_type_name(enum stanza_error_type t)
{
	static const char *const names[] = {"cancel", "continue", "modify", "auth", "wait"};
	return names[t];
}
