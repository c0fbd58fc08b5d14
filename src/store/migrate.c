/* migrate.c: schema versions. Migrations are compiled in (see scripts/embed-sql.sh);
 * the table calpubsub_schema records which ones a database has. */
#include "internal.h"

#include "../log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any constant works as long as every calpubsub program uses the same one. */
#define MIGRATION_LOCK_KEY "7365290117"

int store_schema_expected(void)
{
	return store_n_migrations ? store_migrations[store_n_migrations - 1].version : 0;
}

enum store_result store_schema_version(struct store *st, int *version)
{
	enum store_result r;
	*version = 0;
	/* Two statements: a statement naming a missing table fails when it is prepared. */
	PGresult *res = store_query(st, "schema_exists", "SELECT to_regclass('calpubsub_schema') IS NOT NULL", 0,
	                            NULL, &r);
	if (!res)
		return r;
	bool exists = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!exists)
		return STORE_OK;
	res = store_query(st, "schema_version", "SELECT coalesce(max(version), 0) FROM calpubsub_schema", 0, NULL, &r);
	if (!res)
		return r;
	*version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return STORE_OK;
}

enum store_result store_migrate(struct store *st, void (*progress)(int version, const char *name, void *arg),
                                void *arg, char *err, size_t errlen)
{
	PGconn *conn = store_conn(st);
	char why[512];
	if (!store_exec_text(conn, "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")", why, sizeof(why))) {
		snprintf(err, errlen, "cannot take the migration lock: %s", why);
		return STORE_FAILED;
	}
	enum store_result result = STORE_OK;
	if (!store_exec_text(conn,
	                 "CREATE TABLE IF NOT EXISTS calpubsub_schema ("
	                 " version integer PRIMARY KEY,"
	                 " name text NOT NULL,"
	                 " applied_at timestamptz NOT NULL DEFAULT now())",
	                 why, sizeof(why))) {
		snprintf(err, errlen, "cannot create calpubsub_schema: %s", why);
		result = STORE_FAILED;
		goto unlock;
	}
	int current = 0;
	result = store_schema_version(st, &current);
	if (result != STORE_OK) {
		snprintf(err, errlen, "cannot read the schema version");
		goto unlock;
	}
	if (current > store_schema_expected()) {
		snprintf(err, errlen, "the database schema is at version %d, newer than this calpubsubctl (%d)", current,
		         store_schema_expected());
		result = STORE_FAILED;
		goto unlock;
	}
	for (size_t i = 0; i < store_n_migrations; i++) {
		const struct migration *m = &store_migrations[i];
		if (m->version <= current)
			continue;
		char record[256];
		snprintf(record, sizeof(record), "INSERT INTO calpubsub_schema (version, name) VALUES (%d, '%s')",
		         m->version, m->name);
		if (!store_exec_text(conn, "BEGIN", why, sizeof(why)) || !store_exec_text(conn, m->sql, why, sizeof(why)) ||
		    !store_exec_text(conn, record, why, sizeof(why)) || !store_exec_text(conn, "COMMIT", why, sizeof(why))) {
			char ignored[64];
			store_exec_text(conn, "ROLLBACK", ignored, sizeof(ignored));
			snprintf(err, errlen, "migration %03d_%s failed and was rolled back: %s", m->version, m->name, why);
			result = STORE_FAILED;
			goto unlock;
		}
		if (progress)
			progress(m->version, m->name, arg);
	}
unlock:
	store_exec_text(conn, "SELECT pg_advisory_unlock(" MIGRATION_LOCK_KEY ")", why, sizeof(why));
	return result;
}
