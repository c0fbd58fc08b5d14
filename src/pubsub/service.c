/* service.c: the PubSub service operations. */
#include "service.h"

#include "../buf.h"
#include "../store/nodes.h"

#include <stdlib.h>

struct service {
	struct store *store;
	const struct config *cfg;
};

struct service *service_new(struct store *st, const struct config *cfg)
{
	struct service *svc = xcalloc(1, sizeof(*svc));
	svc->store = st;
	svc->cfg = cfg;
	return svc;
}

void service_free(struct service *svc)
{
	free(svc);
}

static enum ps_status from_store(enum store_result r)
{
	switch (r) {
	case STORE_OK: return PS_OK;
	case STORE_UNAVAILABLE: return PS_UNAVAILABLE;
	default: return PS_FAILED;
	}
}

enum ps_status service_list_nodes(struct service *svc, const char *requester, char ***names, size_t *n)
{
	(void)requester;
	return from_store(store_node_names(svc->store, names, n));
}
