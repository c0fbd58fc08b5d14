/* wake_gate.c: whether the fan-out must read the change log again (see wake_gate.h). */
#include "wake_gate.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

void wake_gate_woken(struct wake_gate *g, const char *payload)
{
	char *end = NULL;
	errno = 0;
	/* digits only: strtoll alone would also take signs and leading blanks */
	long long id = payload && isdigit((unsigned char)payload[0]) ? strtoll(payload, &end, 10) : 0;
	if (!end || *end || errno || id <= 0)
		g->unnamed = true;
	else if (id > g->announced)
		g->announced = id;
}

void wake_gate_read_earlier(struct wake_gate *g, int64_t after, int64_t last_id, size_t rows, size_t limit)
{
	g->settled = rows < limit;
	g->seen = rows ? last_id : after;
}

void wake_gate_read(struct wake_gate *g, int64_t after, int64_t last_id, size_t rows, size_t limit)
{
	wake_gate_read_earlier(g, after, last_id, rows, limit);
	/* what was announced before this read had been committed before it ran (an id it
	 * did not find was pruned or belongs to a database that was replaced) */
	g->announced = 0;
	g->unnamed = false;
}

void wake_gate_forget(struct wake_gate *g)
{
	g->settled = false;
}

bool wake_gate_must_read(const struct wake_gate *g)
{
	return !g->settled || g->unnamed || g->announced > g->seen;
}
