/* jid.h: parsing, checking and comparing JIDs (RFC 7622) without any XMPP library, so
 * that the service's decisions can be unit tested. */
#ifndef CALPUBSUB_JID_H
#define CALPUBSUB_JID_H

#include <stdbool.h>
#include <stddef.h>

#define JID_PART_MAX 1023

struct jid {
	char *local;    /* NULL when absent */
	char *domain;   /* never NULL after a successful parse */
	char *resource; /* NULL when absent */
};

/* Splits and checks s; localpart and domainpart are lowercased (ASCII) the way servers
 * normalise them, the resource is kept as is. False on an invalid JID. */
bool jid_parse(const char *s, struct jid *out);
void jid_free(struct jid *j);
/* Returns a newly allocated normalised string for the bare (local@domain) or full JID. */
char *jid_bare_string(const struct jid *j);
char *jid_full_string(const struct jid *j);
/* Normalised bare form of s, or NULL if s is not a JID. */
char *jid_normalize_bare(const char *s);
/* Normalised full form of s, or NULL if s is not a JID. */
char *jid_normalize(const char *s);
/* The domainpart of s (normalised), or NULL. */
char *jid_domain_of(const char *s);
/* True when s is a syntactically valid domain-only JID (no @, no /). */
bool jid_is_domain(const char *s);

#endif
