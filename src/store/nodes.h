/* nodes.h: node rows. */
#ifndef CALPUBSUB_STORE_NODES_H
#define CALPUBSUB_STORE_NODES_H

#include "store.h"

#include <stddef.h>

enum store_result store_node_names(struct store *st, char ***names, size_t *n);

#endif
