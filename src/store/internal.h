/* internal.h: what the store/ files share about the libpq connection. Not for use
 * outside store/. */
#ifndef CALPUBSUB_STORE_INTERNAL_H
#define CALPUBSUB_STORE_INTERNAL_H

#include "store.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* calpubsub's own writes to calendar objects are published by calpubsub itself: the
 * trigger that logs writes of other applications skips sessions marked so. */
#define STORE_INTERNAL_SESSION "SET calpubsub.internal = 'on'"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration store_migrations[];
extern const size_t store_n_migrations;

PGconn *store_conn(struct store *st);
/* Runs a parameterised statement. Returns the result on success (caller PQclear()s it),
 * NULL on failure with *res set: STORE_UNAVAILABLE when the connection is gone (the store
 * then reconnects on its own), STORE_CONFLICT on a unique violation, STORE_FAILED
 * otherwise (logged with the statement's label). */
PGresult *store_query(struct store *st, const char *label, const char *sql, int nparams,
                      const char *const *params, enum store_result *res);
/* Same for statements without result rows; returns STORE_OK or the failure. */
enum store_result store_command(struct store *st, const char *label, const char *sql, int nparams,
                                const char *const *params);
/* For a write whose result nobody reads, inside a transaction of the daemon: held back
 * and sent in one round trip with the next statement, or with the COMMIT. Its failure is
 * then reported by that statement (and logged with this label); the transaction is
 * aborted as it would have been at once. Elsewhere the same as store_command(). */
enum store_result store_command_later(struct store *st, const char *label, const char *sql, int nparams,
                                      const char *const *params);
/* A read that rides along with a commit: from now on, the next commit of a daemon
 * transaction that called store_want_ride() also sends this statement (at most four
 * parameters), just before its COMMIT and in the same round trip. Its result is kept
 * when everything in that round trip succeeded; a later riding commit replaces it.
 * Arming again drops what was kept. */
void store_ride_next_commit(struct store *st, int64_t tag, const char *label, const char *sql, int nparams,
                            const char *const *params);
/* The open transaction's commit should carry the armed ride, if there is one. */
void store_want_ride(struct store *st);
/* The result of the last ride armed with this tag (the caller PQclear()s it), or NULL;
 * disarms the ride either way. */
PGresult *store_take_ride(struct store *st, int64_t tag);
/* Runs SQL text without parameters (several statements, a migration script) on a
 * connection used directly; on failure copies the first line of the error to err. */
bool store_exec_text(PGconn *conn, const char *sql, char *err, size_t errlen);
/* Whether a statement run on a connection used directly succeeded; on failure copies the
 * first line of its error to err. Clears res either way. */
bool store_result_done(PGconn *conn, PGresult *res, char *err, size_t errlen);
/* The first line of res's error (of the connection's when res is NULL) into err. */
void store_error_line(PGconn *conn, const PGresult *res, char *err, size_t errlen);
/* Row helpers: a copy of the value (NULL for SQL NULL), and typed readers. */
char *store_strdup(const PGresult *res, int row, int col);
/* A text[] literal ({"a","b"}, every element quoted), for a parameter of type text[]. */
char *store_text_array(const char *const *v, size_t n);
int64_t store_int(const PGresult *res, int row, int col);
bool store_bool(const PGresult *res, int row, int col);

/* Node rows: the columns (of calpubsub_node n), and a reader for them starting at column col. */
#define NODE_COLUMNS \
	"n.id, n.name, n.creator, to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
	"n.deleted_at IS NOT NULL, n.title, n.description, n.payload_type, n.access_model, n.publish_model, " \
	"n.max_items, n.item_expire, n.max_payload_size, n.persist_items, n.deliver_payloads, " \
	"n.deliver_notifications, n.notify_config, n.notify_delete, n.notify_retract, n.notify_sub, n.subscribe, " \
	"n.multi_subscribe, n.notification_type, n.send_last, n.node_full, n.itemreply, n.calendar, " \
	"n.calendar_format, n.calendar_components, n.subs_version"
#define N_NODE_COLUMNS 30
struct node_row;
void store_read_node(const PGresult *res, int row, int col, struct node_row *n);

/* Subscription rows: the columns, and a reader for them starting at column col. */
#define SUB_COLUMNS "s.id, s.node_id, n.name, s.jid, s.subid, s.state, s.deliver, s.include_body"
struct sub_row;
void store_read_sub(const PGresult *res, int row, int col, struct sub_row *s);

#endif
