/* db.c: the daemon's PostgreSQL connection. Connecting is asynchronous (PQconnectPoll
 * through the event loop) so that a database that is down or slow never stalls the XMPP
 * link; statements are synchronous because they are short and local, and every one of
 * them goes through store_query(), which notices a lost connection and starts the
 * reconnect. Statements are prepared once per connection, on first use.
 *
 * A round trip costs calpubsub two context switches, more than most statements cost to
 * run, so the daemon holds back what needs no answer inside a transaction (its BEGIN,
 * writes whose result nobody reads) and sends it in one libpq pipeline with the next
 * statement that has a reader, or with the COMMIT. */
#include "internal.h"

#include "../backoff.h"
#include "../buf.h"
#include "../log.h"
#include "../loop.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 10000
/* Held statements sent at once beyond this: their results stay far below what the
 * socket buffers take, so a pipeline on a blocking connection cannot deadlock. */
#define HELD_MAX 32

struct statement {
	const char *label;
	const char *sql;
	int nparams;
	const char *const *params;
};

/* A statement held back, with copies of its parameters. */
struct held_statement {
	struct statement s;
	char **params;
	bool is_ride; /* its result is kept as the ride's (see store_ride_next_commit) */
};

/* A read that goes out with the next commit of a transaction that wrote something. */
struct ride {
	bool armed;
	int64_t tag;
	const char *label;
	const char *sql;
	int nparams;
	char *params[4];
	bool wanted;      /* the open transaction asked for it (store_want_ride) */
	/* what it returned with a commit that succeeded; only while armed with `tag`, since
	 * arming again or disarming drops it */
	PGresult *result;
};

enum conn_state { CS_IDLE, CS_CONNECTING, CS_UP, CS_WAITING };

struct store {
	char *conninfo;
	PGconn *conn;
	enum conn_state state;
	bool blocking; /* calpubsubctl: no event loop, no reconnect */
	int watched_fd;
	unsigned attempt;
	uint64_t retry_min_ms, retry_max_ms;
	struct loop_timer retry_timer;
	struct loop_timer connect_timer;
	store_event_fn on_event;
	store_notify_fn on_notify;
	void *arg;
	bool down_reported;
	const char **prepared; /* labels prepared on the current connection */
	size_t n_prepared, cap_prepared;
	/* held statements of the open transaction, in order; when begin_held, the first is
	 * its BEGIN and the server has not seen the transaction yet */
	struct held_statement *held;
	size_t n_held, cap_held;
	bool begin_held;
	struct ride ride;
};

static void start_connect(void *arg);
static void on_socket(int fd, short revents, void *arg);

static enum store_result send_held(struct store *st, const struct statement *last, PGresult **last_result);

PGconn *store_conn(struct store *st)
{
	/* whoever uses the connection directly comes after what is held */
	if (st->n_held)
		send_held(st, NULL, NULL);
	return st->conn;
}

static void emit(struct store *st, enum store_event ev, const char *detail)
{
	if (st->on_event)
		st->on_event(ev, detail, st->arg);
}

static void watch(struct store *st, short events)
{
	int fd = PQsocket(st->conn);
	if (st->watched_fd >= 0 && st->watched_fd != fd)
		loop_unwatch_fd(st->watched_fd);
	st->watched_fd = fd;
	if (fd >= 0)
		loop_watch_fd(fd, events, on_socket, st);
}

static void unwatch(struct store *st)
{
	if (st->watched_fd >= 0)
		loop_unwatch_fd(st->watched_fd);
	st->watched_fd = -1;
}

static void forget_prepared(struct store *st)
{
	st->n_prepared = 0;
}

static void drop_held(struct store *st)
{
	for (size_t i = 0; i < st->n_held; i++) {
		for (int p = 0; p < st->held[i].s.nparams; p++)
			free(st->held[i].params[p]);
		free(st->held[i].params);
	}
	st->n_held = 0;
	st->begin_held = false;
	st->ride.wanted = false;
}

static void drop_ride_result(struct store *st)
{
	PQclear(st->ride.result);
	st->ride.result = NULL;
}

static void disarm_ride(struct store *st)
{
	for (int i = 0; i < st->ride.nparams; i++)
		free(st->ride.params[i]);
	st->ride.nparams = 0;
	st->ride.armed = false;
}

/* First line of a libpq message, for one-line logs. */
static void first_line(char *dst, size_t n, const char *msg)
{
	snprintf(dst, n, "%s", msg ? msg : "unknown error");
	dst[strcspn(dst, "\n")] = '\0';
}

static void schedule_retry(struct store *st, const char *why)
{
	unwatch(st);
	if (st->conn)
		PQfinish(st->conn);
	st->conn = NULL;
	forget_prepared(st);
	drop_held(st);
	disarm_ride(st);
	drop_ride_result(st);
	loop_timer_stop(&st->connect_timer);
	bool was_up = st->state == CS_UP;
	st->state = CS_WAITING;
	if (st->blocking)
		return;
	uint64_t delay = backoff_delay_ms(st->attempt++, st->retry_min_ms, st->retry_max_ms, backoff_jitter());
	if (was_up || !st->down_reported)
		log_error("database unavailable: %s; retrying in %.1f s", why, (double)delay / 1000.0);
	else
		log_debug("database still unavailable: %s; retrying in %.1f s", why, (double)delay / 1000.0);
	st->down_reported = true;
	loop_timer_start(&st->retry_timer, delay);
	emit(st, STORE_EV_DOWN, why);
}

static void connection_lost(struct store *st)
{
	char why[256];
	first_line(why, sizeof(why), st->conn ? PQerrorMessage(st->conn) : NULL);
	if (!why[0])
		snprintf(why, sizeof(why), "connection closed");
	schedule_retry(st, why);
}

static void on_connected(struct store *st)
{
	loop_timer_stop(&st->connect_timer);
	st->state = CS_UP;
	int version = 0;
	enum store_result r = store_schema_version(st, &version);
	if (r != STORE_OK) {
		if (st->state == CS_UP)
			schedule_retry(st, "cannot read the schema version");
		return;
	}
	if (version != store_schema_expected()) {
		char detail[256];
		if (version < store_schema_expected())
			snprintf(detail, sizeof(detail),
			         "the database schema is at version %d, this calpubsub needs %d: run 'calpubsubctl migrate'",
			         version, store_schema_expected());
		else
			snprintf(detail, sizeof(detail),
			         "the database schema is at version %d, newer than this calpubsub (%d): upgrade calpubsub",
			         version, store_schema_expected());
		emit(st, STORE_EV_SCHEMA_MISMATCH, detail);
		return;
	}
	if (store_command(st, "listen", "LISTEN " STORE_NOTIFY_CHANNEL, 0, NULL) != STORE_OK ||
	    store_command(st, "internal", STORE_INTERNAL_SESSION, 0, NULL) != STORE_OK)
		return; /* store_command already scheduled the retry */
	if (st->down_reported)
		log_info("database connection restored");
	else
		log_info("connected to the database (schema version %d)", version);
	st->down_reported = false;
	st->attempt = 0;
	watch(st, POLLIN);
	emit(st, STORE_EV_UP, NULL);
}

/* Returns whether any notification was handed on. */
static bool drain_notifications(struct store *st)
{
	PGnotify *n;
	bool any = false;
	while (st->conn && (n = PQnotifies(st->conn)) != NULL) {
		if (st->on_notify)
			st->on_notify(n->extra, st->arg);
		PQfreemem(n);
		any = true;
	}
	return any;
}

static void advance_connect(struct store *st)
{
	switch (PQconnectPoll(st->conn)) {
	case PGRES_POLLING_READING: watch(st, POLLIN); break;
	case PGRES_POLLING_WRITING: watch(st, POLLOUT); break;
	case PGRES_POLLING_OK: on_connected(st); break;
	case PGRES_POLLING_FAILED:
	default: connection_lost(st); break;
	}
}

static void on_socket(int fd, short revents, void *arg)
{
	(void)fd;
	(void)revents;
	struct store *st = arg;
	if (st->state == CS_CONNECTING) {
		advance_connect(st);
		return;
	}
	if (st->state != CS_UP)
		return;
	if (!PQconsumeInput(st->conn) || PQstatus(st->conn) != CONNECTION_OK) {
		connection_lost(st);
		return;
	}
	drain_notifications(st);
}

static void on_connect_timeout(void *arg)
{
	struct store *st = arg;
	if (st->state == CS_CONNECTING)
		schedule_retry(st, "connection attempt timed out");
}

static void start_connect(void *arg)
{
	struct store *st = arg;
	st->conn = PQconnectStart(st->conninfo);
	if (!st->conn || PQstatus(st->conn) == CONNECTION_BAD) {
		connection_lost(st);
		return;
	}
	st->state = CS_CONNECTING;
	loop_timer_start(&st->connect_timer, CONNECT_TIMEOUT_MS);
	watch(st, POLLOUT);
}

/* Notifications can arrive while a synchronous statement runs; libpq then keeps them
 * queued without the socket becoming readable again, so drain before every wait. The
 * hook is registered after those of the link and the fan-out (store_start runs last):
 * when it woke someone, report busy so that the loop runs the hooks again at once
 * instead of sleeping until the next timer with the wake-up unseen. */
static bool drain_hook(void *arg)
{
	struct store *st = arg;
	return st->state == CS_UP && drain_notifications(st);
}

struct store *store_new(const char *conninfo, double retry_min_s, double retry_max_s)
{
	struct store *st = xcalloc(1, sizeof(*st));
	st->conninfo = xstrdup(conninfo);
	st->watched_fd = -1;
	st->retry_min_ms = (uint64_t)(retry_min_s * 1000);
	st->retry_max_ms = (uint64_t)(retry_max_s * 1000);
	loop_timer_init(&st->retry_timer, start_connect, st);
	loop_timer_init(&st->connect_timer, on_connect_timeout, st);
	return st;
}

void store_set_handlers(struct store *st, store_event_fn on_event, store_notify_fn on_notify, void *arg)
{
	st->on_event = on_event;
	st->on_notify = on_notify;
	st->arg = arg;
}

void store_start(struct store *st)
{
	loop_add_hook(drain_hook, st);
	start_connect(st);
}

struct store *store_connect_blocking(const char *conninfo, char *err, size_t errlen)
{
	PGconn *conn = PQconnectdb(conninfo);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		char why[256];
		first_line(why, sizeof(why), conn ? PQerrorMessage(conn) : "out of memory");
		snprintf(err, errlen, "cannot connect to the database: %s", why);
		PQfinish(conn);
		return NULL;
	}
	struct store *st = xcalloc(1, sizeof(*st));
	st->conninfo = xstrdup(conninfo);
	st->conn = conn;
	st->state = CS_UP;
	st->blocking = true;
	st->watched_fd = -1;
	/* calpubsubctl's own messages say what failed; libpq's NOTICEs would only add noise */
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	PQclear(PQexec(conn, STORE_INTERNAL_SESSION));
	return st;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	if (!st->blocking) {
		loop_timer_stop(&st->retry_timer);
		loop_timer_stop(&st->connect_timer);
		unwatch(st);
	}
	if (st->conn)
		PQfinish(st->conn);
	drop_held(st);
	disarm_ride(st);
	drop_ride_result(st);
	free(st->held);
	free(st->prepared);
	free(st->conninfo);
	free(st);
}

bool store_is_up(const struct store *st)
{
	return st && st->state == CS_UP;
}

static bool is_prepared(struct store *st, const char *label)
{
	for (size_t i = 0; i < st->n_prepared; i++)
		if (strcmp(st->prepared[i], label) == 0)
			return true;
	return false;
}

static void remember_prepared(struct store *st, const char *label)
{
	if (st->n_prepared == st->cap_prepared) {
		st->cap_prepared = st->cap_prepared ? st->cap_prepared * 2 : 32;
		st->prepared = xrealloc(st->prepared, st->cap_prepared * sizeof(*st->prepared));
	}
	st->prepared[st->n_prepared++] = label;
}

static void forget_label(struct store *st, const char *label)
{
	for (size_t i = 0; i < st->n_prepared; i++)
		if (strcmp(st->prepared[i], label) == 0) {
			st->prepared[i] = st->prepared[--st->n_prepared];
			return;
		}
}

/* Classifies a failed result; takes ownership of res. */
static enum store_result classify_failure(struct store *st, const char *label, PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[512];
	first_line(msg, sizeof(msg), res ? PQresultErrorMessage(res) : PQerrorMessage(st->conn));
	enum store_result r = STORE_FAILED;
	if (PQstatus(st->conn) != CONNECTION_OK || (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)))
		r = STORE_UNAVAILABLE;
	else if (state && strcmp(state, "23505") == 0)
		r = STORE_CONFLICT;
	PQclear(res);
	if (r == STORE_UNAVAILABLE) {
		if (!st->blocking)
			connection_lost(st);
		else
			log_error("database: %s", msg);
	} else if (r == STORE_FAILED) {
		log_error("database statement '%s' failed: %s", label, msg);
	}
	return r;
}

static bool succeeded(const PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);
	return s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK;
}

static PGresult *run_one(struct store *st, const struct statement *s, enum store_result *res)
{
	if (!is_prepared(st, s->label)) {
		PGresult *p = PQprepare(st->conn, s->label, s->sql, s->nparams, NULL);
		if (PQresultStatus(p) != PGRES_COMMAND_OK) {
			*res = classify_failure(st, s->label, p);
			return NULL;
		}
		PQclear(p);
		remember_prepared(st, s->label);
	}
	PGresult *r = PQexecPrepared(st->conn, s->label, s->nparams, s->params, NULL, NULL, 0);
	if (succeeded(r)) {
		*res = STORE_OK;
		return r;
	}
	*res = classify_failure(st, s->label, r);
	return NULL;
}

/* Queues one statement of a pipeline (with its PREPARE on first use); false when libpq
 * cannot. */
static bool pipeline_send(struct store *st, const struct statement *s, bool *prepares)
{
	*prepares = !is_prepared(st, s->label);
	if (*prepares) {
		if (!PQsendPrepare(st->conn, s->label, s->sql, s->nparams, NULL))
			return false;
		remember_prepared(st, s->label); /* forgotten again if the server refuses it */
	}
	return PQsendQueryPrepared(st->conn, s->label, s->nparams, s->params, NULL, NULL, 0) == 1;
}

/* A pipeline statement's result, which must be followed by the end of its results. */
static PGresult *pipeline_result(PGconn *conn)
{
	PGresult *r = PQgetResult(conn);
	if (!r)
		return NULL;
	PGresult *end = PQgetResult(conn);
	if (end) {
		PQclear(end);
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Keeps the first real failure of a pipeline; the statements after it were skipped. */
static void note_failure(PGresult **failed, const char **failed_label, PGresult *r, const char *label)
{
	if (*failed || PQresultStatus(r) == PGRES_PIPELINE_ABORTED) {
		PQclear(r);
		return;
	}
	*failed = r;
	*failed_label = label;
}

/* Sends the held statements and then last (when not NULL) in one pipeline, and reads
 * every result; last's result goes to *last_result. The first failure is the result:
 * inside a transaction it aborts the transaction, as it would have on its own. */
static enum store_result send_held(struct store *st, const struct statement *last, PGresult **last_result)
{
	const struct statement *sent[HELD_MAX + 1];
	bool prepares[HELD_MAX + 1];
	size_t n = 0;
	for (size_t i = 0; i < st->n_held; i++)
		sent[n++] = &st->held[i].s;
	if (last)
		sent[n++] = last;
	PGconn *conn = st->conn;
	bool broken = !PQenterPipelineMode(conn);
	size_t queued = 0;
	while (!broken && queued < n && pipeline_send(st, sent[queued], &prepares[queued]))
		queued++;
	broken = broken || queued < n || !PQpipelineSync(conn);
	PGresult *failed = NULL, *result = NULL, *ride_result = NULL;
	const char *failed_label = NULL;
	for (size_t i = 0; !broken && i < n; i++) {
		if (prepares[i]) {
			PGresult *p = pipeline_result(conn);
			broken = !p;
			if (p && PQresultStatus(p) != PGRES_COMMAND_OK) {
				forget_label(st, sent[i]->label);
				note_failure(&failed, &failed_label, p, sent[i]->label);
			} else {
				PQclear(p);
			}
		}
		PGresult *r = broken ? NULL : pipeline_result(conn);
		broken = !r;
		if (r && succeeded(r) && sent[i] == last) {
			result = r;
		} else if (r && succeeded(r) && i < st->n_held && st->held[i].is_ride) {
			PQclear(ride_result);
			ride_result = r;
		} else if (r && succeeded(r)) {
			PQclear(r);
		} else if (r) {
			note_failure(&failed, &failed_label, r, sent[i]->label);
		}
	}
	if (!broken) {
		PGresult *sync = PQgetResult(conn);
		broken = PQresultStatus(sync) != PGRES_PIPELINE_SYNC || !PQexitPipelineMode(conn);
		PQclear(sync);
	}
	drop_held(st);
	if (ride_result && !broken && !failed) {
		/* only a commit carries the ride, so its result stands for what was committed */
		drop_ride_result(st);
		st->ride.result = ride_result;
		ride_result = NULL;
	}
	PQclear(ride_result);
	if (broken) {
		PQclear(result);
		PQclear(failed);
		/* a pipeline that went wrong leaves the protocol state unknown: start afresh */
		char why[256];
		first_line(why, sizeof(why), PQerrorMessage(conn));
		schedule_retry(st, why[0] ? why : "pipeline failed");
		return STORE_UNAVAILABLE;
	}
	if (failed) {
		PQclear(result);
		return classify_failure(st, failed_label, failed);
	}
	if (last_result)
		*last_result = result;
	else
		PQclear(result);
	return STORE_OK;
}

PGresult *store_query(struct store *st, const char *label, const char *sql, int nparams,
                      const char *const *params, enum store_result *res)
{
	if (!st || st->state != CS_UP || !st->conn) {
		*res = STORE_UNAVAILABLE;
		return NULL;
	}
	const struct statement s = {label, sql, nparams, params};
	if (!st->n_held)
		return run_one(st, &s, res);
	PGresult *r = NULL;
	*res = send_held(st, &s, &r);
	return r;
}

enum store_result store_command(struct store *st, const char *label, const char *sql, int nparams,
                                const char *const *params)
{
	enum store_result res;
	PGresult *r = store_query(st, label, sql, nparams, params, &res);
	PQclear(r);
	return res;
}

static bool may_hold(const struct store *st)
{
	return !st->blocking && store_in_transaction(st);
}

static struct held_statement *hold(struct store *st, const char *label, const char *sql, int nparams,
                                    const char *const *params)
{
	if (st->n_held == st->cap_held) {
		st->cap_held = st->cap_held ? st->cap_held * 2 : 8;
		st->held = xrealloc(st->held, st->cap_held * sizeof(*st->held));
	}
	struct held_statement *h = &st->held[st->n_held++];
	h->params = nparams ? xcalloc((size_t)nparams, sizeof(*h->params)) : NULL;
	for (int i = 0; i < nparams; i++)
		h->params[i] = params[i] ? xstrdup(params[i]) : NULL;
	h->s = (struct statement){label, sql, nparams, (const char *const *)h->params};
	h->is_ride = false;
	return h;
}

enum store_result store_command_later(struct store *st, const char *label, const char *sql, int nparams,
                                      const char *const *params)
{
	if (!may_hold(st))
		return store_command(st, label, sql, nparams, params);
	hold(st, label, sql, nparams, params);
	return st->n_held < HELD_MAX ? STORE_OK : send_held(st, NULL, NULL);
}

enum store_result store_begin(struct store *st)
{
	if (st && !st->blocking && st->state == CS_UP && st->conn && !st->n_held &&
	    PQtransactionStatus(st->conn) == PQTRANS_IDLE) {
		hold(st, "begin", "BEGIN", 0, NULL);
		st->begin_held = true;
		return STORE_OK;
	}
	return store_command(st, "begin", "BEGIN", 0, NULL);
}

enum store_result store_commit(struct store *st)
{
	if (!st)
		return STORE_UNAVAILABLE;
	if (st->begin_held && st->n_held == 1) {
		drop_held(st); /* nothing was written */
		return STORE_OK;
	}
	bool ride = st->ride.armed && st->ride.wanted && may_hold(st);
	st->ride.wanted = false;
	if (ride)
		hold(st, st->ride.label, st->ride.sql, st->ride.nparams, (const char *const *)st->ride.params)->is_ride = true;
	return store_command(st, "commit", "COMMIT", 0, NULL);
}

void store_ride_next_commit(struct store *st, int64_t tag, const char *label, const char *sql, int nparams,
                            const char *const *params)
{
	if (st->blocking || nparams > (int)(sizeof(st->ride.params) / sizeof(st->ride.params[0])))
		return;
	disarm_ride(st);
	drop_ride_result(st);
	st->ride.armed = true;
	st->ride.tag = tag;
	st->ride.label = label;
	st->ride.sql = sql;
	st->ride.nparams = nparams;
	for (int i = 0; i < nparams; i++)
		st->ride.params[i] = params[i] ? xstrdup(params[i]) : NULL;
}

void store_want_ride(struct store *st)
{
	if (store_in_transaction(st))
		st->ride.wanted = true;
}

PGresult *store_take_ride(struct store *st, int64_t tag)
{
	PGresult *r = NULL;
	if (st->ride.armed && st->ride.tag == tag) {
		r = st->ride.result;
		st->ride.result = NULL;
	}
	drop_ride_result(st);
	disarm_ride(st);
	return r;
}

bool store_in_transaction(const struct store *st)
{
	return st && st->state == CS_UP && st->conn &&
	       (st->begin_held || PQtransactionStatus(st->conn) == PQTRANS_INTRANS);
}

void store_rollback(struct store *st)
{
	if (!st)
		return;
	bool started = !st->begin_held;
	drop_held(st);
	if (started && st->state == CS_UP && st->conn)
		PQclear(PQexec(st->conn, "ROLLBACK"));
}

char *store_strdup(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return xstrdup(PQgetvalue(res, row, col));
}

int64_t store_int(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

bool store_bool(const PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col)[0] == 't';
}

void store_error_line(PGconn *conn, const PGresult *res, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	err[strcspn(err, "\n")] = '\0';
}

bool store_result_done(PGconn *conn, PGresult *res, char *err, size_t errlen)
{
	ExecStatusType s = PQresultStatus(res);
	bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
	if (!ok)
		store_error_line(conn, res, err, errlen);
	PQclear(res);
	return ok;
}

bool store_exec_text(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	return store_result_done(conn, PQexec(conn, sql), err, errlen);
}

char *store_text_array(const char *const *v, size_t n)
{
	struct buf b = BUF_INIT;
	buf_putc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ',');
		buf_putc(&b, '"');
		for (const char *c = v[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_putc(&b, '\\');
			buf_putc(&b, *c);
		}
		buf_putc(&b, '"');
	}
	buf_putc(&b, '}');
	return buf_steal(&b);
}
