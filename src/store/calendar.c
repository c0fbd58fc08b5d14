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

/* COPY text format: backslash, tab, newline and carriage return are escaped. */
static void copy_field(struct buf *b, const char *s)
{
	if (!s) {
		buf_puts(b, "\\N");
		return;
	}
	for (; *s; s++) {
		switch (*s) {
		case '\\': buf_puts(b, "\\\\"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		default: buf_putc(b, *s);
		}
	}
}

/* Streams rows built by `row` into a COPY ... FROM STDIN already started. */
static bool copy_rows(PGconn *conn, const char *copy_sql, size_t n, void (*row)(struct buf *, size_t, const void *),
                      const void *arg, char *err, size_t errlen)
{
	PGresult *res = PQexec(conn, copy_sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		err[strcspn(err, "\n")] = '\0';
		PQclear(res);
		return false;
	}
	PQclear(res);
	struct buf b = BUF_INIT;
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		row(&b, i, arg);
		if (b.len >= (1u << 20) || i + 1 == n) {
			ok = PQputCopyData(conn, b.data, (int)b.len) == 1;
			buf_reset(&b);
		}
	}
	buf_free(&b);
	if (PQputCopyEnd(conn, ok ? NULL : "aborted") != 1)
		ok = false;
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ok) {
			snprintf(err, errlen, "%s", PQresultErrorMessage(res));
			err[strcspn(err, "\n")] = '\0';
			ok = false;
		}
		PQclear(res);
	}
	return ok;
}

static void stage_row(struct buf *b, size_t i, const void *arg)
{
	const struct import_object *o = &((const struct import_object *)arg)[i];
	copy_field(b, o->uid);
	buf_putc(b, '\t');
	copy_field(b, o->component);
	buf_putc(b, '\t');
	copy_field(b, o->ics);
	buf_printf(b, "\t%" PRId64 "\t%" PRId64 "\n", o->range_start, o->range_end);
}

enum store_result store_import_stage(struct store *st, const struct import_object *objs, size_t n, char *err,
                                     size_t errlen)
{
	PGconn *conn = store_conn(st);
	if (!store_exec_text(conn,
	             "CREATE TEMP TABLE import_stage (uid text PRIMARY KEY, component text, ics text, range_start bigint, "
	             "range_end bigint) ON COMMIT DROP",
	             err, errlen) ||
	    !copy_rows(conn, "COPY import_stage FROM STDIN", n, stage_row, objs, err, errlen))
		return PQstatus(conn) == CONNECTION_OK ? STORE_FAILED : STORE_UNAVAILABLE;
	return STORE_OK;
}

static enum store_result uid_list(struct store *st, const char *label, const char *sql, const char *node,
                                  char ***out, size_t *n)
{
	const char *p[] = {node};
	enum store_result r;
	*out = NULL;
	*n = 0;
	PGresult *res = store_query(st, label, sql, 1, p, &r);
	if (!res)
		return r;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(char *));
	for (int i = 0; i < rows; i++)
		(*out)[i] = store_strdup(res, i, 0);
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}

enum store_result store_import_diff(struct store *st, const char *node, struct import_diff *out)
{
	memset(out, 0, sizeof(*out));
	enum store_result r = uid_list(st, "import_added",
	                               "SELECT s.uid FROM import_stage s WHERE NOT EXISTS (SELECT 1 FROM "
	                               "calpubsub_calendar_object o WHERE o.node_name = $1 AND o.uid = s.uid) ORDER BY s.uid",
	                               node, &out->added, &out->n_added);
	if (r == STORE_OK)
		r = uid_list(st, "import_changed",
		             "SELECT s.uid FROM import_stage s JOIN calpubsub_calendar_object o ON o.node_name = $1 "
		             "AND o.uid = s.uid WHERE o.ics <> s.ics OR o.state <> 'published' ORDER BY s.uid",
		             node, &out->changed, &out->n_changed);
	if (r == STORE_OK)
		r = uid_list(st, "import_removed",
		             "SELECT o.uid FROM calpubsub_calendar_object o WHERE o.node_name = $1 AND NOT EXISTS "
		             "(SELECT 1 FROM import_stage s WHERE s.uid = o.uid) ORDER BY o.uid",
		             node, &out->removed, &out->n_removed);
	if (r == STORE_OK) {
		enum store_result rc;
		PGresult *res = store_query(st, "import_count", "SELECT count(*) FROM import_stage", 0, NULL, &rc);
		if (!res)
			return rc;
		out->n_unchanged = (size_t)store_int(res, 0, 0) - out->n_added - out->n_changed;
		PQclear(res);
	}
	return r;
}

static void payload_row(struct buf *b, size_t i, const void *arg)
{
	const struct import_payload *p = &((const struct import_payload *)arg)[i];
	copy_field(b, p->uid);
	buf_putc(b, '\t');
	copy_field(b, p->payload);
	buf_putc(b, '\t');
	copy_field(b, p->body);
	buf_putc(b, '\n');
}

enum store_result store_import_apply(struct store *st, int64_t node_id, const char *node, const char *publisher,
                                     const struct import_payload *payloads, size_t n_payloads, bool retract,
                                     bool notify_retract, int64_t max_payload, char *err, size_t errlen)
{
	PGconn *conn = store_conn(st);
	char id[24], maxp[24];
	snprintf(id, sizeof(id), "%" PRId64, node_id);
	snprintf(maxp, sizeof(maxp), "%" PRId64, max_payload);
	bool ok = store_exec_text(conn, "CREATE TEMP TABLE import_payload (uid text PRIMARY KEY, payload text, body text) ON COMMIT DROP",
	                  err, errlen) &&
	          copy_rows(conn, "COPY import_payload FROM STDIN", n_payloads, payload_row, payloads, err, errlen);
	if (ok) {
		/* an object larger than the node allows refuses the whole import */
		const char *q[] = {maxp};
		PGresult *res = PQexecParams(conn, "SELECT coalesce(max(length(payload)), 0) > $1::bigint FROM import_payload",
		                             1, NULL, q, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			snprintf(err, errlen, "%s", PQresultErrorMessage(res));
			ok = false;
		} else if (PQgetvalue(res, 0, 0)[0] == 't') {
			snprintf(err, errlen, "an object exceeds the node's pubsub#max_payload_size of %s bytes", maxp);
			ok = false;
		}
		PQclear(res);
	}
	const char *p[] = {node, id, publisher};
	static const struct {
		const char *sql;
		int nparams;
	} steps[] = {
		{"INSERT INTO calpubsub_calendar_object (node_name, uid, ics, component, range_start, range_end, state, "
		 "problem) SELECT $1::text, s.uid, s.ics, s.component, to_timestamp(s.range_start), to_timestamp(s.range_end), "
		 "'published', NULL FROM import_stage s JOIN import_payload p USING (uid) "
		 "ON CONFLICT (node_name, uid) DO UPDATE SET ics = EXCLUDED.ics, component = EXCLUDED.component, "
		 "range_start = EXCLUDED.range_start, range_end = EXCLUDED.range_end, state = 'published', problem = NULL, "
		 "updated_at = now()",
		 3},
		{"INSERT INTO calpubsub_item (node_id, item_id, payload, publisher) SELECT $2::bigint, uid, payload, $3::text "
		 "FROM import_payload ORDER BY uid ON CONFLICT (node_id, item_id) DO UPDATE SET payload = EXCLUDED.payload, "
		 "publisher = EXCLUDED.publisher, published_at = now(), expires_at = NULL, "
		 "seq = nextval('calpubsub_item_seq')",
		 3},
		{"SELECT pg_advisory_xact_lock(" CHANGE_LOCK ")", 0},
		{"INSERT INTO calpubsub_change (id, node_id, node_name, kind, item_id, payload, publisher, body) "
		 "SELECT nextval('calpubsub_change_id'), $2::bigint, $1::text, 'publish', uid, payload, $3::text, body "
		 "FROM (SELECT * FROM import_payload ORDER BY uid) p",
		 3},
	};
	/* typed, so that a statement may leave a parameter unused */
	static const Oid types[] = {25 /* text */, 20 /* bigint */, 25 /* text */};
	for (size_t i = 0; ok && i < sizeof(steps) / sizeof(steps[0]); i++) {
		PGresult *res = PQexecParams(conn, steps[i].sql, steps[i].nparams, types, p, NULL, NULL, 0);
		ExecStatusType s = PQresultStatus(res);
		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			snprintf(err, errlen, "%s", PQresultErrorMessage(res));
			err[strcspn(err, "\n")] = '\0';
			ok = false;
		}
		PQclear(res);
	}
	if (ok && retract) {
		const char *q[] = {node, id};
		const char *sql = notify_retract
			? "WITH gone AS (DELETE FROM calpubsub_item WHERE node_id = $2::bigint AND item_id IN (SELECT o.uid FROM "
			  "calpubsub_calendar_object o WHERE o.node_name = $1 AND NOT EXISTS (SELECT 1 FROM import_stage s "
			  "WHERE s.uid = o.uid)) RETURNING item_id) INSERT INTO calpubsub_change (id, node_id, node_name, kind, "
			  "item_id) SELECT nextval('calpubsub_change_id'), $2::bigint, $1::text, 'retract', item_id "
			  "FROM (SELECT item_id FROM gone ORDER BY item_id) g"
			: "DELETE FROM calpubsub_item WHERE node_id = $2::bigint AND item_id IN (SELECT o.uid FROM "
			  "calpubsub_calendar_object o WHERE o.node_name = $1 AND NOT EXISTS (SELECT 1 FROM import_stage s "
			  "WHERE s.uid = o.uid))";
		PGresult *res = PQexecParams(conn, sql, 2, NULL, q, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "%s", PQresultErrorMessage(res));
			ok = false;
		}
		PQclear(res);
		/* objects that had no item (refused application rows) */
		res = PQexecParams(conn,
		                   "DELETE FROM calpubsub_calendar_object o WHERE o.node_name = $1 AND NOT EXISTS "
		                   "(SELECT 1 FROM import_stage s WHERE s.uid = o.uid)",
		                   1, NULL, q, NULL, NULL, 0);
		if (ok && PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "%s", PQresultErrorMessage(res));
			ok = false;
		}
		PQclear(res);
	}
	ok = ok && store_exec_text(conn, "SELECT pg_notify('" STORE_NOTIFY_CHANNEL "', 'import')", err, errlen) &&
	     store_exec_text(conn, "COMMIT", err, errlen);
	if (!ok) {
		PQclear(PQexec(conn, "ROLLBACK"));
		return PQstatus(conn) == CONNECTION_OK ? STORE_FAILED : STORE_UNAVAILABLE;
	}
	return STORE_OK;
}
