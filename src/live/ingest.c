/* ingest.c: turns an application's calendar row into a published item. A row that is not
 * exactly one valid calendar object under its uid is refused: the reason goes to the
 * log with the row's key and to its problem column, and later rows go on. */
#include "ingest.h"

#include "../buf.h"
#include "../calendar/calendar.h"
#include "../log.h"
#include "../store/calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ingest {
	struct service *svc;
	struct store *store;
};

struct ingest *ingest_new(struct service *svc, struct store *st)
{
	struct ingest *g = xcalloc(1, sizeof(*g));
	g->svc = svc;
	g->store = st;
	return g;
}

void ingest_free(struct ingest *g)
{
	free(g);
}

/* What the reader found in one row. */
struct row_read {
	const char *key;
	struct buf problems;
	int objects;
	char *uid;
	char *component;
	char *ics;
	int64_t range_start, range_end;
};

static void on_diag(const struct cal_diag *d, void *arg)
{
	struct row_read *rr = arg;
	if (d->severity == CAL_WARNING) {
		log_warn("calendar row %s, line %u: %s", rr->key, d->line, d->message);
		return;
	}
	if (rr->problems.len)
		buf_puts(&rr->problems, "; ");
	buf_printf(&rr->problems, "line %u: %s", d->line, d->message);
}

static int on_object(const struct cal_object *obj, void *arg)
{
	struct row_read *rr = arg;
	if (rr->objects++ == 0) {
		rr->uid = xstrdup(obj->uid);
		rr->component = xstrdup(obj->kind);
		rr->ics = xstrndup(obj->ics, obj->ics_len);
		rr->range_start = obj->range_start;
		rr->range_end = obj->range_end;
	}
	return 0;
}

/* True when the database is away: the row is tried again later. Any other failure is
 * the row's (or a bug, logged): retrying it would hold back every change after it. */
static bool transient(const struct ps_error *err)
{
	return err->cond == SC_RESOURCE_CONSTRAINT;
}

static bool refuse(struct ingest *g, const char *node, const char *uid, const char *problem)
{
	log_error("calendar row %s/%s refused: %s", node, uid, problem);
	struct ps_error err;
	if (service_ingest_refuse(g->svc, node, uid, problem, &err))
		return true;
	return !transient(&err);
}

bool ingest_row(const char *node, const char *uid, const char *ics, void *arg)
{
	struct ingest *g = arg;
	struct ps_error err;
	if (!node || !uid)
		return true;
	if (!ics) {
		if (service_ingest_removed(g->svc, node, uid, &err))
			return true;
		log_error("calendar row %s/%s was deleted but its item stays: %s", node, uid, err.text);
		return !transient(&err);
	}
	char key[600];
	snprintf(key, sizeof(key), "%.250s/%.250s", node, uid);
	struct row_read rr = {.key = key, .problems = BUF_INIT};
	struct cal_read_opts ro = {.policy = CAL_READ_ALL_OR_NOTHING};
	int errors = cal_read_string(ics, strlen(ics), key, &ro, on_object, on_diag, &rr);
	bool done = true;
	struct node_config cfg;
	bool have_cfg = false;
	if (errors != 0 || rr.objects != 1 || strcmp(rr.uid, uid) != 0) {
		if (!rr.problems.len && rr.objects != 1)
			buf_printf(&rr.problems, "the row holds %d calendar objects; it must hold exactly one", rr.objects);
		else if (!rr.problems.len && rr.uid && strcmp(rr.uid, uid) != 0)
			buf_printf(&rr.problems, "the row's uid differs from the UID %.200s of its text", rr.uid);
		else if (!rr.problems.len)
			buf_puts(&rr.problems, "not a valid iCalendar object");
		done = refuse(g, node, uid, rr.problems.data);
	} else if (!(have_cfg = service_ingest_node(g->svc, node, &cfg, &err))) {
		done = transient(&err) ? false : refuse(g, node, uid, err.text);
	} else {
		struct buf payload = BUF_INIT, body = BUF_INIT, why = BUF_INIT;
		if (!cal_to_item(rr.ics, cfg.calendar_format == CF_JCAL, &payload, &body, &why)) {
			done = refuse(g, node, uid, buf_cstr(&why));
		} else {
			struct ingest_object o = {node, uid, rr.ics, rr.component, rr.range_start, rr.range_end,
			                          payload.data, buf_cstr(&body)};
			if (service_ingest_publish(g->svc, &o, &err))
				log_info("calendar row %s published", key);
			else
				done = transient(&err) ? false : refuse(g, node, uid, err.text);
		}
		buf_free(&payload);
		buf_free(&body);
		buf_free(&why);
	}
	if (have_cfg)
		node_config_free(&cfg);
	buf_free(&rr.problems);
	free(rr.uid);
	free(rr.component);
	free(rr.ics);
	return done;
}
