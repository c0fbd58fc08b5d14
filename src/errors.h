/* errors.h: the error vocabulary shared by the service and the wire format. The service
 * decides which error applies; xmpp/ turns it into an RFC 6120 stanza error with the
 * XEP-0060 application condition. Nothing here knows XML. */
#ifndef CALPUBSUB_ERRORS_H
#define CALPUBSUB_ERRORS_H

/* RFC 6120 8.3.3 defined conditions. */
enum stanza_cond {
	SC_NONE = 0,
	SC_BAD_REQUEST,
	SC_CONFLICT,
	SC_FEATURE_NOT_IMPLEMENTED,
	SC_FORBIDDEN,
	SC_GONE,
	SC_INTERNAL_SERVER_ERROR,
	SC_ITEM_NOT_FOUND,
	SC_JID_MALFORMED,
	SC_NOT_ACCEPTABLE,
	SC_NOT_ALLOWED,
	SC_NOT_AUTHORIZED,
	SC_POLICY_VIOLATION,
	SC_RECIPIENT_UNAVAILABLE,
	SC_REDIRECT,
	SC_REGISTRATION_REQUIRED,
	SC_REMOTE_SERVER_NOT_FOUND,
	SC_REMOTE_SERVER_TIMEOUT,
	SC_RESOURCE_CONSTRAINT,
	SC_SERVICE_UNAVAILABLE,
	SC_SUBSCRIPTION_REQUIRED,
	SC_UNDEFINED_CONDITION,
	SC_UNEXPECTED_REQUEST,
};

enum stanza_error_type { SET_CANCEL, SET_CONTINUE, SET_MODIFY, SET_AUTH, SET_WAIT };

const char *stanza_cond_name(enum stanza_cond c);
enum stanza_error_type stanza_cond_default_type(enum stanza_cond c);
const char *stanza_error_type_name(enum stanza_error_type t);

#endif
