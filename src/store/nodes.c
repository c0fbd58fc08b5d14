/* nodes.c: queries on calpubsub_node. */
#include "nodes.h"

#include "../buf.h"
#include "internal.h"

enum store_result store_node_names(struct store *st, char ***names, size_t *n)
{
	enum store_result r;
	PGresult *res = store_query(st, "node_names", "SELECT name FROM calpubsub_node ORDER BY name", 0, NULL, &r);
	*names = NULL;
	*n = 0;
	if (!res)
		return r;
	int rows = PQntuples(res);
	*names = xcalloc((size_t)rows + 1, sizeof(char *));
	for (int i = 0; i < rows; i++)
		(*names)[i] = xstrdup(PQgetvalue(res, i, 0));
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}
