/* calendar.c: calendar objects and the bulk import. The import stages the file with COPY
 * and computes the difference in SQL, so that a file of 100,000 events costs a handful
 * of statements, not 100,000 round trips. */
#include "calendar.h"

#include "../buf.h"
#include "../log.h"
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHANGE_LOCK "7365290118" /* the lock of calpubsub_log_change(): ids in commit order */

void calobj_row_clear(struct calobj_row *r)
{
	free(r->node);
	free(r->uid);
	free(r->ics);
	free(r->component);
	free(r->problem);
	memset(r, 0, sizeof(*r));
}

void calobj_rows_free(struct calobj_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		calobj_row_clear(&r[i]);
	free(r);
}

#define CALOBJ_COLUMNS \
	"node_name, uid, ics, component, coalesce(extract(epoch FROM range_start)::bigint, 0), " \
	"coalesce(extract(epoch FROM range_end)::bigint, 0), state, problem"

static void read_calobj(const PGresult *res, int i, struct calobj_row *o)
{
	o->node = store_strdup(res, i, 0);
	o->uid = store_strdup(res, i, 1);
	o->ics = store_strdup(res, i, 2);
	o->component = store_strdup(res, i, 3);
	o->range_start = store_int(res, i, 4);
	o->range_end = store_int(res, i, 5);
	const char *state = PQgetvalue(res, i, 6);
	o->state = strcmp(state, "published") == 0 ? CALOBJ_PUBLISHED : strcmp(state, "invalid") == 0 ? CALOBJ_INVALID
	                                                                                                : CALOBJ_PENDING;
	o->problem = store_strdup(res, i, 7);
}

static enum store_result read_calobjs(PGresult *res, enum store_result r, struct calobj_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!res)
		return r;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++)
		read_calobj(res, i, &(*out)[i]);
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}

enum store_result store_calobj_put(struct store *st, const char *node, const char *uid, const char *ics,
                                   const char *component, int64_t range_start, int64_t range_end)
{
	char rs[24], re[24];
	snprintf(rs, sizeof(rs), "%" PRId64, range_start);
	snprintf(re, sizeof(re), "%" PRId64, range_end);
	const char *p[] = {node, uid, ics, component, rs, re};
	return store_command(st, "calobj_put",
	                     "INSERT INTO calpubsub_calendar_object (node_name, uid, ics, component, range_start, range_end, "
	                     "state, problem) VALUES ($1, $2, $3, $4, to_timestamp($5), to_timestamp($6), 'published', NULL) "
	                     "ON CONFLICT (node_name, uid) DO UPDATE SET ics = EXCLUDED.ics, component = EXCLUDED.component, "
	                     "range_start = EXCLUDED.range_start, range_end = EXCLUDED.range_end, state = 'published', "
	                     "problem = NULL, updated_at = now()",
	                     6, p);
}

enum store_result store_calobj_delete(struct store *st, const char *node, const char *uid)
{
	const char *p[] = {node, uid};
	return store_command(st, "calobj_delete", "DELETE FROM calpubsub_calendar_object WHERE node_name = $1 AND uid = $2",
	                     2, p);
}

enum store_result store_calobj_refuse(struct store *st, const char *node, const char *uid, const char *problem)
{
	const char *p[] = {node, uid, problem};
	return store_command(st, "calobj_refuse",
	                     "UPDATE calpubsub_calendar_object SET state = 'invalid', problem = $3 "
	                     "WHERE node_name = $1 AND uid = $2",
	                     3, p);
}

enum store_result store_calobj_window(struct store *st, const char *node, int64_t from, int64_t to,
                                      struct calobj_row **out, size_t *n)
{
	char f[24], t[24];
	snprintf(f, sizeof(f), "%" PRId64, from);
	snprintf(t, sizeof(t), "%" PRId64, to);
	const char *p[] = {node, f, t};
	enum store_result r;
	PGresult *res = store_query(st, "calobj_window",
	                            "SELECT " CALOBJ_COLUMNS " FROM calpubsub_calendar_object WHERE node_name = $1 "
	                            "AND state = 'published' AND range_start < to_timestamp($3) "
	                            "AND range_end >= to_timestamp($2) ORDER BY range_start, uid",
	                            3, p, &r);
	return read_calobjs(res, r, out, n);
}

enum store_result store_calobj_all(struct store *st, const char *node, struct calobj_row **out, size_t *n)
{
	const char *p[] = {node};
	enum store_result r;
	PGresult *res = store_query(st, "calobj_all",
	                            "SELECT " CALOBJ_COLUMNS " FROM calpubsub_calendar_object WHERE node_name = $1 "
	                            "AND state = 'published' ORDER BY uid",
	                            1, p, &r);
	return read_calobjs(res, r, out, n);
}

/* ---- import ---- */

void import_diff_free(struct import_diff *d)
{
	for (size_t i = 0; i < d->n_added; i++)
		free(d->added[i]);
	for (size_t i = 0; i < d->n_changed; i++)
		free(d->changed[i]);
	for (size_t i = 0; i < d->n_removed; i++)
		free(d->removed[i]);
	free(d->added);
	free(d->changed);
	free(d->removed);
	memset(d, 0, sizeof(*d));
}

void import_existing_free(struct import_existing *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].uid);
		free(e[i].ics);
	}
	free(e);
}

enum store_result store_import_existing(struct store *st, int64_t node_id, const char *node,
                                       struct import_existing **out, size_t *n)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, node_id);
	const char *p[] = {node, id};
	enum store_result r;
	*out = NULL;
	*n = 0;
	/* published: with its item, or it is published again; byte order, the order of
	 * strcmp(), in which the caller merges */
	PGresult *res = store_query(st, "import_existing",
	                            "SELECT o.uid, o.ics, o.state = 'published' AND i.item_id IS NOT NULL "
	                            "FROM calpubsub_calendar_object o LEFT JOIN calpubsub_item i "
	                            "ON i.node_id = $2::bigint AND i.item_id = o.uid "
	                            "WHERE o.node_name = $1 ORDER BY o.uid COLLATE \"C\"",
	                            2, p, &r);
	if (!res)
		return r;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++)
		(*out)[i] = (struct import_existing){store_strdup(res, i, 0), store_strdup(res, i, 1),
		                                     PQgetvalue(res, i, 2)[0] == 't'};
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}

/* COPY text format: backslash, tab, newline and carriage return are escaped. Payloads
 * are long runs of ordinary bytes: strcspn() finds each run's end. */
static void copy_field(struct buf *b, const char *s)
{
	if (!s) {
		buf_puts(b, "\\N");
		return;
	}
	for (;;) {
		size_t run = strcspn(s, "\\\t\n\r");
		buf_append(b, s, run);
		s += run;
		switch (*s) {
		case '\0': return;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\n': buf_puts(b, "\\n"); break;
		default: buf_puts(b, "\\r"); break;
		}
		s++;
	}
}

static char *two_digits(char *p, int v)
{
	*p++ = (char)('0' + v / 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/* A timestamptz in COPY text format, from seconds since the epoch (years 1-9999). Two per
 * object of an import: written by hand, printf took a tenth of the encoding. */
static void copy_timestamp(struct buf *b, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int year = gmtime_r(&tt, &tm) ? tm.tm_year + 1900 : -1;
	if (year < 0 || year > 9999) {
		buf_puts(b, "\\N");
		return;
	}
	char text[sizeof("YYYY-MM-DD HH:MM:SS+00")], *p = text;
	p = two_digits(two_digits(p, year / 100), year % 100);
	*p++ = '-';
	p = two_digits(p, tm.tm_mon + 1);
	*p++ = '-';
	p = two_digits(p, tm.tm_mday);
	*p++ = ' ';
	p = two_digits(p, tm.tm_hour);
	*p++ = ':';
	p = two_digits(p, tm.tm_min);
	*p++ = ':';
	p = two_digits(p, tm.tm_sec);
	memcpy(p, "+00", 3);
	buf_append(b, text, (size_t)(p + 3 - text));
}

/* A COPY ... FROM STDIN in progress: rows are gathered and sent a megabyte at a time, so
 * that PostgreSQL stores a chunk while the next is built. */
struct copy_in {
	PGconn *conn;
	struct buf rows;
	bool sent; /* false once sending failed */
};

static bool copy_open(struct copy_in *c, PGconn *conn, const char *copy_sql, char *err, size_t errlen)
{
	*c = (struct copy_in){conn, BUF_INIT, true};
	PGresult *res = PQexec(conn, copy_sql);
	bool ok = PQresultStatus(res) == PGRES_COPY_IN;
	if (!ok)
		store_error_line(conn, res, err, errlen);
	PQclear(res);
	return ok;
}

/* Sends what was gathered once it is a megabyte (or always, with `all`). */
static bool copy_flush(struct copy_in *c, bool all)
{
	if (c->sent && c->rows.len && (all || c->rows.len >= (1u << 20)))
		c->sent = PQputCopyData(c->conn, c->rows.data, (int)c->rows.len) == 1;
	if (all || c->rows.len >= (1u << 20))
		buf_reset(&c->rows);
	return c->sent;
}

/* Ends the COPY; `keep` false cancels it. True when every row was stored. */
static bool copy_close(struct copy_in *c, bool keep, char *err, size_t errlen)
{
	bool ok = keep && copy_flush(c, true);
	buf_free(&c->rows);
	if (!c->sent)
		store_error_line(c->conn, NULL, err, errlen);
	if (PQputCopyEnd(c->conn, ok ? NULL : "import aborted") != 1)
		ok = false;
	PGresult *res;
	while ((res = PQgetResult(c->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ok) {
			store_error_line(c->conn, res, err, errlen);
			ok = false;
		}
		PQclear(res);
	}
	return ok;
}

/* Streams n rows built by `row`, which returns false to abort (err set). */
static bool copy_rows(PGconn *conn, const char *copy_sql, size_t n,
                      bool (*row)(struct buf *, size_t, void *, char *, size_t), void *arg, char *err, size_t errlen)
{
	struct copy_in c;
	if (!copy_open(&c, conn, copy_sql, err, errlen))
		return false;
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++)
		ok = row(&c.rows, i, arg, err, errlen) && copy_flush(&c, false);
	return copy_close(&c, ok, err, errlen) && ok;
}

static bool exec_params(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
                        size_t errlen)
{
	/* typed, so that a statement may leave a parameter unused */
	static const Oid types[] = {25 /* text */, 20 /* bigint */, 1009 /* text[] */};
	return store_result_done(conn, PQexecParams(conn, sql, nparams, types, params, NULL, NULL, 0), err, errlen);
}

struct apply_rows {
	const struct import_object *objs;
	const char *node, *node_id, *publisher;
	import_check_fn check;
	void *check_arg;
	const bool *stored; /* objects whose row an import_stream wrote */
	int64_t first_change;
};

#define OBJECT_COPY \
	"COPY calpubsub_calendar_object (node_name, uid, ics, component, range_start, range_end, state) FROM STDIN"

static void object_fields(struct buf *b, const char *node, const struct import_object *o)
{
	copy_field(b, node);
	buf_putc(b, '\t');
	copy_field(b, o->uid);
	buf_putc(b, '\t');
	copy_field(b, o->ics);
	buf_putc(b, '\t');
	copy_field(b, o->component);
	buf_putc(b, '\t');
	copy_timestamp(b, o->range_start);
	buf_putc(b, '\t');
	copy_timestamp(b, o->range_end);
	buf_puts(b, "\tpublished\n");
}

static bool object_row(struct buf *b, size_t i, void *arg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	const struct apply_rows *a = arg;
	if (!a->stored || !a->stored[i])
		object_fields(b, a->node, &a->objs[i]);
	return true;
}

struct import_stream {
	struct copy_in copy; /* copy.sent: false once anything failed */
	char *node;
};

struct import_stream *store_import_stream_open(struct store *st, const char *node, char *err, size_t errlen)
{
	struct import_stream *s = xcalloc(1, sizeof(*s));
	if (!copy_open(&s->copy, store_conn(st), OBJECT_COPY, err, errlen)) {
		free(s);
		return NULL;
	}
	s->node = xstrdup(node);
	return s;
}

bool store_import_stream_put(struct import_stream *s, const struct import_object *o)
{
	if (!s->copy.sent)
		return false;
	object_fields(&s->copy.rows, s->node, o);
	return copy_flush(&s->copy, false);
}

bool store_import_stream_close(struct import_stream *s, bool keep, char *err, size_t errlen)
{
	bool ok = copy_close(&s->copy, keep, err, errlen);
	free(s->node);
	free(s);
	return ok;
}

/* The item has no payload of its own: it is its calendar object's text (007). */
static bool item_row(struct buf *b, size_t i, void *arg, char *err, size_t errlen)
{
	struct apply_rows *a = arg;
	if (!a->check(i, a->check_arg, err, errlen))
		return false;
	buf_puts(b, a->node_id);
	buf_putc(b, '\t');
	copy_field(b, a->objs[i].uid);
	buf_putc(b, '\t');
	copy_field(b, a->publisher);
	buf_printf(b, "\t%" PRId64 "\n", a->first_change + (int64_t)i);
	return true;
}

/* The change refers to its item for the payload (006_import_payload_by_reference.sql),
 * and the summary is made with the payload when the change is sent. */
static bool change_row(struct buf *b, size_t i, void *arg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	const struct apply_rows *a = arg;
	buf_printf(b, "%" PRId64 "\t%s\t", a->first_change + (int64_t)i, a->node_id);
	copy_field(b, a->node);
	buf_puts(b, "\tpublish\t");
	copy_field(b, a->objs[i].uid);
	buf_putc(b, '\t');
	copy_field(b, a->publisher);
	buf_putc(b, '\n');
	return true;
}

/* Takes CHANGE_LOCK and reserves n consecutive change ids: every writer of the change log
 * takes that lock before nextval(), so nobody else draws from the sequence meanwhile. */
static bool reserve_change_ids(PGconn *conn, size_t n, int64_t *first, char *err, size_t errlen)
{
	char count[24];
	snprintf(count, sizeof(count), "%zu", n);
	const char *p[] = {count};
	PGresult *res = PQexecParams(conn,
	                             "SELECT pg_advisory_xact_lock(" CHANGE_LOCK "), "
	                             "setval('calpubsub_change_id', nextval('calpubsub_change_id') + $1::bigint - 1) "
	                             "- $1::bigint + 1",
	                             1, NULL, p, NULL, NULL, 0);
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (ok)
		*first = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	else
		store_error_line(conn, res, err, errlen);
	PQclear(res);
	return ok;
}

enum store_result store_import_apply(struct store *st, int64_t node_id, const char *node, const char *publisher,
                                     const struct import_object *objs, const bool *stored, size_t n,
                                     import_check_fn check, void *check_arg, char *const *replaced,
                                     size_t n_replaced, char *const *removed, size_t n_removed, bool notify_retract,
                                     char *err, size_t errlen)
{
	PGconn *conn = store_conn(st);
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, node_id);
	struct apply_rows a = {objs, node, id, publisher, check, check_arg, stored, 0};
	size_t to_store = n;
	for (size_t i = 0; stored && i < n; i++)
		to_store -= stored[i];
	bool ok = true;
	if (n_replaced) {
		/* a changed object is published again as a new item; its old rows go first (the
		 * item's trigger takes the calendar object with it) */
		char *uids = store_text_array((const char *const *)replaced, n_replaced);
		const char *p[] = {node, id, uids};
		ok = exec_params(conn, "DELETE FROM calpubsub_item WHERE node_id = $2 AND item_id = ANY($3)", 3, p, err,
		                 errlen) &&
		     exec_params(conn, "DELETE FROM calpubsub_calendar_object WHERE node_name = $1 AND uid = ANY($3)", 3, p,
		                 err, errlen);
		free(uids);
	}
	ok = ok && (to_store == 0 || copy_rows(conn, OBJECT_COPY, n, object_row, &a, err, errlen)) &&
	     (n == 0 ||
	      (reserve_change_ids(conn, n, &a.first_change, err, errlen) &&
	       copy_rows(conn, "COPY calpubsub_item (node_id, item_id, publisher, change_id) FROM STDIN", n,
	                 item_row, &a, err, errlen) &&
	       copy_rows(conn, "COPY calpubsub_change (id, node_id, node_name, kind, item_id, publisher) FROM STDIN",
	                 n, change_row, &a, err, errlen)));
	if (ok && n_removed) {
		char *uids = store_text_array((const char *const *)removed, n_removed);
		const char *p[] = {node, id, uids};
		ok = store_exec_text(conn, "SELECT pg_advisory_xact_lock(" CHANGE_LOCK ")", err, errlen) &&
		     exec_params(conn,
		                 notify_retract
		                     ? "WITH gone AS (DELETE FROM calpubsub_item WHERE node_id = $2 AND item_id = ANY($3) "
		                       "RETURNING item_id) INSERT INTO calpubsub_change (id, node_id, node_name, kind, item_id) "
		                       "SELECT nextval('calpubsub_change_id'), $2, $1, 'retract', item_id "
		                       "FROM (SELECT item_id FROM gone ORDER BY item_id COLLATE \"C\") g"
		                     : "DELETE FROM calpubsub_item WHERE node_id = $2 AND item_id = ANY($3)",
		                 3, p, err, errlen) &&
		     /* objects that had no item (application rows that were refused) */
		     exec_params(conn, "DELETE FROM calpubsub_calendar_object WHERE node_name = $1 AND uid = ANY($3)", 3, p,
		                 err, errlen);
		free(uids);
	}
	ok = ok && store_exec_text(conn, "SELECT pg_notify('" STORE_NOTIFY_CHANNEL "', 'import')", err, errlen) &&
	     store_exec_text(conn, "COMMIT", err, errlen);
	if (!ok) {
		PQclear(PQexec(conn, "ROLLBACK"));
		return PQstatus(conn) == CONNECTION_OK ? STORE_FAILED : STORE_UNAVAILABLE;
	}
	return STORE_OK;
}
