/* import_plan.h: what an import changes, decided without the database: the file's objects
 * compared with the calendar's, both sorted by UID in byte order. */
#ifndef CALPUBSUB_CTL_IMPORT_PLAN_H
#define CALPUBSUB_CTL_IMPORT_PLAN_H

#include "../store/calendar.h"

#include <stddef.h>

enum import_status {
	IMPORT_UNCHANGED,
	IMPORT_ADDED,   /* not in the calendar */
	IMPORT_CHANGED, /* in the calendar with another text, or as a refused application row */
};

/* Sets status[i] for each of the n_file objects and fills `out` with the UIDs added,
 * changed and (when `keep_missing` is false) removed. Both inputs sorted by strcmp() of
 * their UIDs, each UID once. */
void import_plan(const struct import_object *file, size_t n_file, const struct import_existing *existing,
                 size_t n_existing, bool keep_missing, enum import_status *status, struct import_diff *out);

#endif
