/* cal_expand_tool.c: a test-only command line over the calendar library, so that the
 * Python comparison test (tests/calendar/) can run it next to an independent
 * implementation:
 *   cal_expand_tool expand FILE FROM TO   one line per occurrence in [FROM, TO):
 *                                          "UID START END RECURRENCE-ID", UTC, sorted
 *   cal_expand_tool check FILE            the diagnostics, "line:severity:uid:message"
 *   cal_expand_tool canonical FILE        the canonical texts of the objects */
#include "src/calendar/calendar.h"

#include <stdlib.h>
#include <string.h>

struct lines {
	char **v;
	size_t n;
};

static void push(struct lines *l, char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = s;
}

struct run {
	const char *mode;
	cal_time_t from, to;
	struct lines out;
	int failures;
};

static int on_occurrence(const struct cal_occurrence *o, void *arg)
{
	struct buf *line = arg;
	char s[17], e[17], r[17];
	cal_time_format(o->start, s);
	cal_time_format(o->end, e);
	cal_time_format(o->recurrence_id, r);
	buf_printf(line, "%s %s %s\n", s, e, r);
	return 0;
}

static int on_object(const struct cal_object *obj, void *arg)
{
	struct run *run = arg;
	if (!strcmp(run->mode, "canonical")) {
		fputs(obj->ics, stdout);
		return 0;
	}
	struct buf occs = BUF_INIT, err = BUF_INIT;
	if (cal_expand(obj->ics, run->from, run->to, NULL, on_occurrence, &occs, &err) < 0) {
		fprintf(stderr, "%s: %s\n", obj->uid, err.data);
		run->failures++;
	}
	for (char *p = occs.data, *nl; p && (nl = strchr(p, '\n')); p = nl + 1) {
		struct buf line = BUF_INIT;
		buf_printf(&line, "%s ", obj->uid);
		buf_append(&line, p, (size_t)(nl - p));
		push(&run->out, buf_steal(&line));
	}
	buf_free(&occs);
	buf_free(&err);
	return 0;
}

static void on_diag(const struct cal_diag *d, void *arg)
{
	(void)arg;
	printf("%u:%s:%s:%s\n", d->line, d->severity == CAL_ERROR ? "error" : "warning", d->uid ? d->uid : "",
	       d->message);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	struct run run = {0};
	if (argc < 3 || (strcmp(argv[1], "expand") == 0 && argc != 5)) {
		fprintf(stderr, "usage: cal_expand_tool expand FILE FROM TO | check FILE | canonical FILE\n");
		return 2;
	}
	run.mode = argv[1];
	if (!strcmp(run.mode, "expand") && (!cal_time_parse(argv[3], &run.from) || !cal_time_parse(argv[4], &run.to))) {
		fprintf(stderr, "FROM and TO are UTC times like 20240101T000000Z\n");
		return 2;
	}
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 2;
	}
	struct cal_read_opts opts = {.policy = !strcmp(run.mode, "check") ? CAL_READ_REPORT_ALL : CAL_READ_SKIP_INVALID};
	int errors = cal_read(f, argv[2], &opts, !strcmp(run.mode, "check") ? NULL : on_object,
	                      !strcmp(run.mode, "check") ? on_diag : NULL, &run);
	fclose(f);
	if (run.out.n)
		qsort(run.out.v, run.out.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < run.out.n; i++) {
		puts(run.out.v[i]);
		free(run.out.v[i]);
	}
	free(run.out.v);
	cal_library_cleanup();
	return errors < 0 || run.failures ? 1 : 0;
}
