/* store.h: the PostgreSQL connection of the daemon and of calpubsubctl: asynchronous
 * (re)connection driven by the event loop, schema check, LISTEN/NOTIFY. The queries live
 * in the other store/ files; only store/ includes libpq. */
#ifndef CALPUBSUB_STORE_H
#define CALPUBSUB_STORE_H

#include <stdbool.h>
#include <stddef.h>

enum store_result {
	STORE_OK = 0,
	STORE_UNAVAILABLE, /* no connection, or it broke during the call: retry later */
	STORE_FAILED,      /* the statement failed for another reason (logged) */
	STORE_NOT_FOUND,
	STORE_CONFLICT,
};

enum store_event {
	STORE_EV_UP,              /* connected and the schema matches */
	STORE_EV_DOWN,            /* connection lost or a connection attempt failed */
	STORE_EV_SCHEMA_MISMATCH, /* connected, but the schema is not the one compiled in */
};

#define STORE_NOTIFY_CHANNEL "calpubsub_changes"

struct store;
typedef void (*store_event_fn)(enum store_event ev, const char *detail, void *arg);
typedef void (*store_notify_fn)(const char *payload, void *arg);

/* Daemon: connects in the background through the event loop and keeps reconnecting with
 * backoff between retry_min_s and retry_max_s. */
struct store *store_new(const char *conninfo, double retry_min_s, double retry_max_s);
void store_set_handlers(struct store *st, store_event_fn on_event, store_notify_fn on_notify, void *arg);
void store_start(struct store *st);
void store_free(struct store *st);
bool store_is_up(const struct store *st);

/* calpubsubctl: one blocking connection; false with a message in err. */
struct store *store_connect_blocking(const char *conninfo, char *err, size_t errlen);

/* Transactions. A failed statement inside one leaves it aborted: roll back. */
enum store_result store_begin(struct store *st);
enum store_result store_commit(struct store *st);
void store_rollback(struct store *st);
/* True inside a transaction that can still commit (no statement of it has failed). */
bool store_in_transaction(const struct store *st);

/* The schema version this build expects, and the one the database has (0 when it has
 * none). */
int store_schema_expected(void);
enum store_result store_schema_version(struct store *st, int *version);
/* Applies every pending migration, each in its own transaction, under an advisory lock
 * so that two concurrent runs cannot interleave. Reports each applied step through
 * progress (may be NULL). */
enum store_result store_migrate(struct store *st, void (*progress)(int version, const char *name, void *arg),
                                void *arg, char *err, size_t errlen);

#endif
