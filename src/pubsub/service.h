/* service.h: the PubSub service: what each request may do and what it changes. It
 * decides and delegates storage to store/; it never parses XML or speaks SQL. */
#ifndef CALPUBSUB_PUBSUB_SERVICE_H
#define CALPUBSUB_PUBSUB_SERVICE_H

#include "../config.h"
#include "../store/store.h"

#include <stddef.h>

enum ps_status {
	PS_OK = 0,
	PS_UNAVAILABLE, /* the database is down: the client should retry */
	PS_FAILED,      /* an internal failure, already logged */
};

struct service;

struct service *service_new(struct store *st, const struct config *cfg);
void service_free(struct service *svc);

/* Names of the nodes that requester may see. */
enum ps_status service_list_nodes(struct service *svc, const char *requester, char ***names, size_t *n);

#endif
