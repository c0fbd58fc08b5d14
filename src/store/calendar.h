/* calendar.h: storage of calendar objects (calpubsub_calendar_object) beside the items
 * that publish them, and the set-based import that turns a whole file into one
 * transaction of inserts, updates, retractions and change-log rows. */
#ifndef CALPUBSUB_STORE_CALENDAR_H
#define CALPUBSUB_STORE_CALENDAR_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum calobj_state { CALOBJ_PENDING = 0, CALOBJ_PUBLISHED, CALOBJ_INVALID };

struct calobj_row {
	char *node;
	char *uid;
	char *ics;
	char *component;
	int64_t range_start; /* seconds since 1970, UTC */
	int64_t range_end;
	enum calobj_state state;
	char *problem;
};
void calobj_rows_free(struct calobj_row *r, size_t n);
void calobj_row_clear(struct calobj_row *r);

/* Stores an object as published (inside the caller's transaction). */
enum store_result store_calobj_put(struct store *st, const char *node, const char *uid, const char *ics,
                                   const char *component, int64_t range_start, int64_t range_end);
enum store_result store_calobj_delete(struct store *st, const char *node, const char *uid);
/* Records why an application's row could not be published. */
enum store_result store_calobj_refuse(struct store *st, const char *node, const char *uid, const char *problem);
/* Published objects of a node whose occurrences may overlap [from, to). */
enum store_result store_calobj_window(struct store *st, const char *node, int64_t from, int64_t to,
                                      struct calobj_row **out, size_t *n);
/* Every published object of a node, by UID. */
enum store_result store_calobj_all(struct store *st, const char *node, struct calobj_row **out, size_t *n);

/* ---- import ---- */

/* An object of the file to publish. */
struct import_object {
	const char *uid;
	const char *component;
	const char *ics;
	int64_t range_start;
	int64_t range_end;
};

struct import_diff {
	char **added;   /* UIDs not in the calendar yet */
	size_t n_added;
	char **changed; /* UIDs whose text differs */
	size_t n_changed;
	char **removed; /* UIDs of the calendar missing from the file */
	size_t n_removed;
	size_t n_unchanged;
};
void import_diff_free(struct import_diff *d);

/* An object the calendar has, to compare the file with. */
struct import_existing {
	char *uid;
	char *ics;
	bool published; /* false: an application's row that was refused, or one without its item */
};
/* Every object of the node (published or not), by UID in byte order (strcmp). */
enum store_result store_import_existing(struct store *st, int64_t node_id, const char *node,
                                       struct import_existing **out, size_t *n);
void import_existing_free(struct import_existing *e, size_t n);

/* Checks objs[i] as its item row is written (calpubsub encodes an imported item from
 * its calendar object's text when it sends it: sql/007_calendar_item_text.sql). False
 * (with err) aborts the import. */
typedef bool (*import_check_fn)(size_t i, void *arg, char *err, size_t errlen);
/* Calendar objects written while the file is still being read, into the caller's
 * transaction, so that PostgreSQL stores them meanwhile: for objects whose UID the
 * calendar does not have. open returns NULL (err set) when it failed; put returns false
 * once anything failed; close ends the stream (cancels it unless `keep`) and says whether
 * every row was stored. */
struct import_stream;
struct import_stream *store_import_stream_open(struct store *st, const char *node, char *err, size_t errlen);
bool store_import_stream_put(struct import_stream *s, const struct import_object *o);
bool store_import_stream_close(struct import_stream *s, bool keep, char *err, size_t errlen);

/* Applies the difference in the caller's transaction, then commits: the old rows of the
 * `replaced` UIDs go, `objs` (added and changed, in the order their notifications go out)
 * become calendar objects (but those with stored[i], already written by an import_stream;
 * `stored` may be NULL), items and one change-log row each, and the `removed` UIDs are
 * retracted (with notifications when notify_retract). Rolls back on any failure. */
enum store_result store_import_apply(struct store *st, int64_t node_id, const char *node, const char *publisher,
                                     const struct import_object *objs, const bool *stored, size_t n,
                                     import_check_fn check, void *check_arg, char *const *replaced,
                                     size_t n_replaced, char *const *removed, size_t n_removed, bool notify_retract,
                                     char *err, size_t errlen);

#endif
