/* import_plan.c: the comparison behind `calpubsubctl import`: one merge of two sorted
 * lists, so that a file of 100,000 objects costs no database round trip per object and
 * an unchanged object costs nothing at all. */
#include "import_plan.h"

#include "../buf.h"

#include <stdlib.h>
#include <string.h>

static void push(char ***v, size_t *n, const char *uid)
{
	/* capacity doubles at each power of two; one slot more than used, NULL */
	size_t need = *n + 2;
	if (*n == 0 || (need & (need - 1)) == 0)
		*v = xrealloc(*v, 2 * need * sizeof(**v));
	(*v)[(*n)++] = xstrdup(uid);
	(*v)[*n] = NULL;
}

void import_plan(const struct import_object *file, size_t n_file, const struct import_existing *existing,
                 size_t n_existing, bool keep_missing, enum import_status *status, struct import_diff *out)
{
	memset(out, 0, sizeof(*out));
	size_t i = 0, k = 0;
	while (i < n_file || k < n_existing) {
		int cmp = i == n_file ? 1 : k == n_existing ? -1 : strcmp(file[i].uid, existing[k].uid);
		if (cmp < 0) {
			status[i] = IMPORT_ADDED;
			push(&out->added, &out->n_added, file[i++].uid);
		} else if (cmp > 0) {
			if (!keep_missing)
				push(&out->removed, &out->n_removed, existing[k].uid);
			k++;
		} else {
			bool same = existing[k].published && strcmp(file[i].ics, existing[k].ics) == 0;
			status[i] = same ? IMPORT_UNCHANGED : IMPORT_CHANGED;
			if (same)
				out->n_unchanged++;
			else
				push(&out->changed, &out->n_changed, file[i].uid);
			i++;
			k++;
		}
	}
}
