/* calendar_cmds.c: calpubsubctl import, export and occurrences. import reads a whole
 * iCalendar file (refusing it whole when anything is invalid, unless --skip-invalid),
 * compares it with the calendar node, and applies the difference in one transaction:
 * new and changed objects published, removed ones retracted, unchanged ones untouched. */
#include "ctl.h"

#include "../buf.h"
#include "../calendar/calendar.h"
#include "../jid.h"
#include "../pubsub/node_config.h"
#include "../store/calendar.h"
#include "../store/pubsub.h"
#include "import_plan.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


struct import_opts {
	const char *file;
	const char *node;
	const char *owner;
	const char *title;
	enum calendar_format format;
	bool keep_missing;
	bool dry_run;
	bool skip_invalid;
	bool json;
};

/* What the reader delivered, kept as text until the database has said what changed. */
struct object {
	char *uid;
	char *component;
	char *ics;
	int64_t range_start;
	int64_t range_end;
	bool stored; /* its calendar object row was written while reading */
};

struct import_state {
	const struct import_opts *o;
	struct object *objs;
	size_t n, cap;
	/* while reading, objects new to the calendar are written at once (not on a dry run) */
	struct import_stream *stream;
	const struct import_existing *existing; /* by UID in byte order */
	size_t n_existing;
	unsigned errors, warnings;
	json_t *diags; /* with --json */
	/* progress on a terminal */
	bool progress;
	long long total_bytes;
	long long read_bytes;
	time_t last_progress;
};

static void report(const struct cal_diag *d, void *arg)
{
	struct import_state *s = arg;
	const char *sev = d->severity == CAL_ERROR ? "error" : "warning";
	if (d->severity == CAL_ERROR)
		s->errors++;
	else
		s->warnings++;
	if (s->o->json) {
		json_t *e = json_pack("{s:s, s:i, s:s, s:s}", "file", d->file, "line", (int)d->line, "severity", sev,
		                      "message", d->message);
		if (d->uid)
			json_object_set_new(e, "uid", json_string(d->uid));
		json_array_append_new(s->diags, e);
		return;
	}
	if (s->progress)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "%s:%u: %s: %s%s%s%s\n", d->file, d->line, sev, d->message, d->uid ? " (UID " : "",
	        d->uid ? d->uid : "", d->uid ? ")" : "");
}

static int existing_by_uid(const void *uid, const void *e)
{
	return strcmp(uid, ((const struct import_existing *)e)->uid);
}

static int collect(const struct cal_object *obj, void *arg)
{
	struct import_state *s = arg;
	if (!obj->valid)
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->objs = xrealloc(s->objs, s->cap * sizeof(*s->objs));
	}
	struct object *o = &s->objs[s->n++];
	*o = (struct object){xstrdup(obj->uid), xstrdup(obj->kind), xstrndup(obj->ics, obj->ics_len), obj->range_start,
	                     obj->range_end, false};
	if (s->stream && !bsearch(o->uid, s->existing, s->n_existing, sizeof(*s->existing), existing_by_uid)) {
		struct import_object row = {o->uid, o->component, o->ics, o->range_start, o->range_end};
		/* a failure shows when the stream is closed */
		o->stored = store_import_stream_put(s->stream, &row);
	}
	return 0;
}

static void free_objects(struct import_state *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->objs[i].uid);
		free(s->objs[i].component);
		free(s->objs[i].ics);
	}
	free(s->objs);
}

static void show_progress(struct import_state *s, const char *what, long long done, long long total)
{
	if (!s->progress)
		return;
	time_t now = time(NULL);
	if (now == s->last_progress && done != total)
		return;
	s->last_progress = now;
	int pct = total > 0 ? (int)(done * 100 / total) : 100;
	int bar = pct / 5;
	fprintf(stderr, "\r\033[K%s [%.*s%*s] %3d%%", what, bar, "####################", 20 - bar, "", pct);
	fflush(stderr);
}

/* A stdio cookie that counts what the reader pulls, for the progress bar. */
struct counted_file {
	FILE *in;
	struct import_state *s;
};

static ssize_t counted_read(void *cookie, char *buf, size_t size)
{
	struct counted_file *cf = cookie;
	size_t n = fread(buf, 1, size, cf->in);
	if (n == 0 && ferror(cf->in))
		return -1;
	cf->s->read_bytes += (long long)n;
	show_progress(cf->s, "reading", cf->s->read_bytes, cf->s->total_bytes);
	return (ssize_t)n;
}

static int by_uid(const void *a, const void *b)
{
	return strcmp(((const struct object *)a)->uid, ((const struct object *)b)->uid);
}

static void usage_import(FILE *out)
{
	fprintf(out, "Usage: calpubsubctl import FILE|- --node NODE [--owner JID] [--title TEXT] [--format xcal|jcal]\n"
	             "                           [--keep-missing] [--dry-run] [--skip-invalid] [--json]\n");
}

static int parse_import_args(int argc, char **argv, struct import_opts *o)
{
	static const struct option options[] = {
		{"node", required_argument, NULL, 'n'},   {"owner", required_argument, NULL, 'o'},
		{"title", required_argument, NULL, 't'},  {"format", required_argument, NULL, 'f'},
		{"keep-missing", no_argument, NULL, 'k'}, {"dry-run", no_argument, NULL, 'd'},
		{"skip-invalid", no_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	optind = 0; /* 0, not 1: glibc then also forgets the main scan's "+" mode */
	int opt;
	while ((opt = getopt_long(argc, argv, "n:o:t:f:kdsjh", options, NULL)) != -1) {
		switch (opt) {
		case 'n': o->node = optarg; break;
		case 'o': o->owner = optarg; break;
		case 't': o->title = optarg; break;
		case 'f':
			if (!calendar_format_parse(optarg, &o->format)) {
				fprintf(stderr, "calpubsubctl import: --format is xcal or jcal\n");
				return EXIT_USAGE;
			}
			break;
		case 'k': o->keep_missing = true; break;
		case 'd': o->dry_run = true; break;
		case 's': o->skip_invalid = true; break;
		case 'j': o->json = true; break;
		case 'h': usage_import(stdout); return -1;
		default: usage_import(stderr); return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !o->node) {
		usage_import(stderr);
		return EXIT_USAGE;
	}
	o->file = argv[optind];
	return 0;
}

static FILE *open_input(const struct import_opts *o)
{
	FILE *raw = strcmp(o->file, "-") == 0 ? stdin : fopen(o->file, "r");
	if (!raw)
		fprintf(stderr, "calpubsubctl import: cannot read %s: %s\n", o->file, strerror(errno));
	return raw;
}

/* Reads the file opened by open_input() and closes it; returns 0 or an exit status. */
static int read_file(struct import_state *s, FILE *raw)
{
	const struct import_opts *o = s->o;
	bool from_stdin = raw == stdin;
	struct stat st;
	s->progress = !o->json && isatty(STDERR_FILENO) && fstat(fileno(raw), &st) == 0 && S_ISREG(st.st_mode) &&
	              st.st_size > (1 << 20);
	s->total_bytes = s->progress ? (long long)st.st_size : 0;
	struct counted_file cf = {raw, s};
	cookie_io_functions_t io = {.read = counted_read};
	FILE *in = s->progress ? fopencookie(&cf, "r", io) : raw;
	struct cal_read_opts ro = {.policy = o->skip_invalid ? CAL_READ_SKIP_INVALID : CAL_READ_ALL_OR_NOTHING,
	                           .early = s->stream != NULL};
	int rc = cal_read(in, from_stdin ? "<stdin>" : o->file, &ro, collect, report, s);
	if (in != raw)
		fclose(in);
	if (!from_stdin)
		fclose(raw);
	if (s->progress)
		fputs("\r\033[K", stderr);
	if (rc < 0) {
		fprintf(stderr, "calpubsubctl import: reading %s failed\n", o->file);
		return EXIT_NOINPUT;
	}
	if (rc > 0 && !o->skip_invalid)
		return EXIT_DATAERR;
	qsort(s->objs, s->n, sizeof(*s->objs), by_uid);
	return 0;
}

/* The calendar node, created when missing (not on a dry run). */
static int ensure_node(struct ctl *c, struct store *st, const struct import_opts *o, struct node_row *node,
                       bool *created)
{
	*created = false;
	enum store_result r = store_node_get(st, o->node, node);
	if (r == STORE_OK) {
		if (!node->cfg.calendar) {
			fprintf(stderr, "calpubsubctl import: node '%s' exists and is not a calendar\n", o->node);
			return EXIT_FAILED;
		}
		return 0;
	}
	if (r != STORE_NOT_FOUND)
		return r == STORE_UNAVAILABLE ? EXIT_UNAVAILABLE : EXIT_FAILED;
	char *owner = o->owner ? jid_normalize_bare(o->owner) : c->cfg.calendar_owner ? xstrdup(c->cfg.calendar_owner)
	                                                                              : NULL;
	if (!owner) {
		fprintf(stderr, "calpubsubctl import: node '%s' does not exist and has no owner: pass --owner or set "
		                "calendar.default_owner\n",
		        o->node);
		return EXIT_USAGE;
	}
	memset(node, 0, sizeof(*node));
	node_config_defaults(&node->cfg);
	node->cfg.calendar = true;
	node->cfg.calendar_format = o->format;
	free(node->cfg.payload_type);
	node->cfg.payload_type = xstrdup(o->format == CF_XCAL ? CAL_NS_XCAL : CAL_NS_JSON_CONTAINER);
	free(node->cfg.title);
	node->cfg.title = xstrdup(o->title ? o->title : o->node);
	node->cfg.max_payload_size = c->cfg.max_payload_size;
	node->name = xstrdup(o->node);
	*created = true;
	if (!o->dry_run && store_node_create(st, o->node, owner, &node->cfg, &node->id) != STORE_OK) {
		free(owner);
		return EXIT_FAILED;
	}
	free(owner);
	return 0;
}

static void print_uids(const char *sign, char **uids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s %s\n", sign, uids[i]);
}

static json_t *uid_array(char **uids, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(uids[i]));
	return a;
}

/* Checks each object's item payload against the node's max payload size as its item row
 * is written (store_import_apply). The item is stored as the object's text and encoded
 * when calpubsub sends it, so the payload is made here only for an object big enough to
 * come near the limit. */
struct size_check {
	struct import_state *s;
	const struct import_object *objs;
	size_t n;
	bool jcal;
	int64_t max_payload;
	struct buf payload;
};

static bool check_object(size_t i, void *arg, char *err, size_t errlen)
{
	struct size_check *e = arg;
	const struct import_object *o = &e->objs[i];
	show_progress(e->s, "publishing", (long long)i + 1, (long long)e->n);
	if ((int64_t)cal_item_size_bound(strlen(o->ics)) <= e->max_payload)
		return true;
	struct buf why = BUF_INIT;
	buf_reset(&e->payload);
	bool ok = cal_to_item_payload(o->ics, e->jcal, &e->payload, &why);
	if (!ok)
		snprintf(err, errlen, "cannot encode %s: %s", o->uid, buf_cstr(&why));
	buf_free(&why);
	if (ok && (int64_t)e->payload.len > e->max_payload) {
		snprintf(err, errlen, "%s: its payload of %zu bytes exceeds the node's pubsub#max_payload_size of %" PRId64
		         " bytes", o->uid, e->payload.len, e->max_payload);
		ok = false;
	}
	return ok;
}

static int apply(struct store *st, struct import_state *s, const struct node_row *node, const struct import_object *objs,
                 const enum import_status *status, const struct import_diff *d, char *err, size_t errlen)
{
	size_t n = d->n_added + d->n_changed, k = 0;
	struct import_object *publish = xcalloc(n + 1, sizeof(*publish));
	bool *stored = xcalloc(n + 1, sizeof(*stored));
	for (size_t i = 0; i < s->n; i++) {
		if (status[i] == IMPORT_UNCHANGED)
			continue;
		stored[k] = s->objs[i].stored;
		publish[k++] = objs[i];
	}
	struct size_check e = {s, publish, n, node->cfg.calendar_format == CF_JCAL, node->cfg.max_payload_size, BUF_INIT};
	enum store_result r = store_import_apply(st, node->id, node->name, node->cfg.calendar ? "calpubsubctl" : NULL,
	                                         publish, stored, n, check_object, &e, d->changed, d->n_changed, d->removed,
	                                         d->n_removed, node->cfg.notify_retract, err, errlen);
	buf_free(&e.payload);
	free(publish);
	free(stored);
	return r == STORE_OK ? 0 : r == STORE_UNAVAILABLE ? EXIT_UNAVAILABLE : EXIT_FAILED;
}

int cmd_import(struct ctl *c, int argc, char **argv)
{
	struct import_opts o = {0};
	int rc = parse_import_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = ctl_load_config(c, false)) != 0)
		return rc;
	struct import_state s = {.o = &o, .diags = json_array()};
	struct store *st = NULL;
	struct node_row node = {0};
	struct import_diff d = {0};
	struct import_existing *existing = NULL;
	size_t n_existing = 0;
	bool created = false, diff_done = false;
	char err[1024] = "";
	FILE *input = open_input(&o);
	if (!input)
		rc = EXIT_NOINPUT;
	/* The calendar first: its objects tell which of the file's are new, and those are
	 * written while the rest of the file is read, so that PostgreSQL works meanwhile. */
	if (!rc && !(st = ctl_connect(c)))
		rc = EXIT_UNAVAILABLE;
	if (!rc && store_begin(st) != STORE_OK)
		rc = EXIT_UNAVAILABLE;
	if (!rc)
		rc = ensure_node(c, st, &o, &node, &created);
	if (!rc) {
		enum store_result r = store_import_existing(st, node.id, o.node, &existing, &n_existing);
		if (r != STORE_OK)
			rc = r == STORE_UNAVAILABLE ? EXIT_UNAVAILABLE : EXIT_FAILED;
	}
	if (!rc && !o.dry_run) {
		s.existing = existing;
		s.n_existing = n_existing;
		if (!(s.stream = store_import_stream_open(st, o.node, err, sizeof(err))))
			rc = EXIT_FAILED;
	}
	if (!rc)
		rc = read_file(&s, input);
	else if (input && input != stdin)
		fclose(input);
	if (s.stream && !store_import_stream_close(s.stream, rc == 0, err, sizeof(err)) && !rc)
		rc = EXIT_FAILED;
	struct import_object *objs = xcalloc(s.n + 1, sizeof(*objs));
	enum import_status *status = xcalloc(s.n + 1, sizeof(*status));
	for (size_t i = 0; i < s.n; i++)
		objs[i] = (struct import_object){s.objs[i].uid, s.objs[i].component, s.objs[i].ics, s.objs[i].range_start,
		                                 s.objs[i].range_end};
	if (!rc) {
		import_plan(objs, s.n, existing, n_existing, o.keep_missing, status, &d);
		diff_done = true;
	}
	import_existing_free(existing, n_existing);
	bool applied = false;
	if (!rc && o.dry_run) {
		store_rollback(st);
	} else if (!rc) {
		rc = apply(st, &s, &node, objs, status, &d, err, sizeof(err));
		applied = true; /* committed, or rolled back by the store */
	}
	if (rc && st && !applied)
		store_rollback(st);
	if (s.progress)
		fputs("\r\033[K", stderr);
	if (o.json) {
		json_t *out = json_pack("{s:s, s:s, s:b, s:b, s:b}", "node", o.node, "file", o.file, "ok", rc == 0,
		                        "dry_run", o.dry_run, "created", created && !rc);
		if (diff_done) {
			json_object_set_new(out, "added", uid_array(d.added, d.n_added));
			json_object_set_new(out, "changed", uid_array(d.changed, d.n_changed));
			json_object_set_new(out, "removed", uid_array(d.removed, d.n_removed));
			json_object_set_new(out, "unchanged", json_integer((json_int_t)d.n_unchanged));
		}
		json_object_set_new(out, "errors", json_integer(s.errors));
		json_object_set_new(out, "warnings", json_integer(s.warnings));
		json_object_set_new(out, "diagnostics", s.diags);
		s.diags = NULL;
		if (err[0])
			json_object_set_new(out, "failure", json_string(err));
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(out);
	} else {
		if (rc == EXIT_DATAERR)
			fprintf(stderr, "%s: %u error%s: nothing imported (--skip-invalid imports the valid objects)\n", o.file,
			        s.errors, s.errors == 1 ? "" : "s");
		else if (err[0])
			fprintf(stderr, "calpubsubctl import: %s\n", err);
		if (diff_done && o.dry_run) {
			print_uids("+", d.added, d.n_added);
			print_uids("~", d.changed, d.n_changed);
			print_uids("-", d.removed, d.n_removed);
		}
		if (diff_done && !rc)
			printf("%s%s '%s': %zu added, %zu changed, %zu removed, %zu unchanged%s%s\n",
			       o.dry_run ? "would update " : "", created ? "new calendar" : "calendar", o.node, d.n_added,
			       d.n_changed, d.n_removed, d.n_unchanged,
			       s.errors ? " (invalid objects skipped: see above)" : "",
			       o.keep_missing && !o.dry_run ? "; missing objects kept" : "");
	}
	json_decref(s.diags);
	if (diff_done)
		import_diff_free(&d);
	node_row_free(&node);
	free(objs);
	free(status);
	free_objects(&s);
	store_free(st);
	return rc;
}

static int parse_node_only(int argc, char **argv, const char *usage, const char **node, const char **output)
{
	static const struct option options[] = {
		{"node", required_argument, NULL, 'n'},
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	optind = 0; /* 0, not 1: glibc then also forgets the main scan's "+" mode */
	int opt;
	while ((opt = getopt_long(argc, argv, "n:o:", options, NULL)) != -1) {
		switch (opt) {
		case 'n': *node = optarg; break;
		case 'o': *output = optarg; break;
		default: fprintf(stderr, "%s", usage); return EXIT_USAGE;
		}
	}
	if (optind != argc || !*node) {
		fprintf(stderr, "%s", usage);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_export(struct ctl *c, int argc, char **argv)
{
	const char *node = NULL, *output = NULL;
	int rc = parse_node_only(argc, argv, "Usage: calpubsubctl export --node NODE [--output FILE]\n", &node, &output);
	struct store *st;
	if (rc || (rc = ctl_open_store(c, &st)) != 0)
		return rc;
	struct node_row row;
	enum store_result r = store_node_get(st, node, &row);
	if (r != STORE_OK) {
		fprintf(stderr, "calpubsubctl export: %s\n", r == STORE_NOT_FOUND ? "no such node" : "database error");
		store_free(st);
		return r == STORE_UNAVAILABLE ? EXIT_UNAVAILABLE : EXIT_FAILED;
	}
	bool is_calendar = row.cfg.calendar;
	node_row_free(&row);
	if (!is_calendar) {
		fprintf(stderr, "calpubsubctl export: node '%s' is not a calendar\n", node);
		store_free(st);
		return EXIT_FAILED;
	}
	struct calobj_row *objs;
	size_t n;
	r = store_calobj_all(st, node, &objs, &n);
	store_free(st);
	if (r != STORE_OK)
		return EXIT_FAILED;
	const char **texts = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		texts[i] = objs[i].ics;
	struct buf out = BUF_INIT, err = BUF_INIT;
	bool ok = cal_export(&out, texts, n, &err);
	free(texts);
	calobj_rows_free(objs, n);
	if (ok) {
		FILE *f = output ? fopen(output, "w") : stdout;
		if (!f || fwrite(out.data, 1, out.len, f) != out.len) {
			fprintf(stderr, "calpubsubctl export: cannot write %s: %s\n", output ? output : "<stdout>",
			        strerror(errno));
			ok = false;
		}
		if (f && f != stdout && fclose(f) != 0)
			ok = false;
	} else {
		fprintf(stderr, "calpubsubctl export: %s\n", buf_cstr(&err));
	}
	buf_free(&out);
	buf_free(&err);
	return ok ? 0 : EXIT_FAILED;
}

struct occ_sink {
	struct cal_occurrence *v;
	size_t n, cap;
};

/* Occurrences are collected, then printed: nothing waits on stdout inside the expansion. */
static int collect_occ(const struct cal_occurrence *occ, void *arg)
{
	struct occ_sink *sink = arg;
	if (sink->n == sink->cap) {
		sink->cap = sink->cap ? sink->cap * 2 : 16;
		sink->v = xrealloc(sink->v, sink->cap * sizeof(*sink->v));
	}
	sink->v[sink->n++] = *occ;
	return 0;
}

/* Accepts 2024-01-15, 2024-01-15T10:00:00Z and the iCalendar forms. */
static bool parse_when(const char *s, cal_time_t *out)
{
	char compact[32];
	size_t k = 0;
	for (const char *p = s; *p && k + 1 < sizeof(compact); p++)
		if (*p != '-' && *p != ':')
			compact[k++] = *p;
	compact[k] = '\0';
	return cal_time_parse(compact, out);
}

int cmd_occurrences(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{"node", required_argument, NULL, 'n'}, {"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},   {"tz", required_argument, NULL, 'z'},
		{"json", no_argument, NULL, 'j'},       {NULL, 0, NULL, 0},
	};
	const char *node = NULL, *from_s = NULL, *to_s = NULL, *tz = NULL;
	bool json = false;
	optind = 0; /* 0, not 1: glibc then also forgets the main scan's "+" mode */
	int opt;
	static const char usage[] =
		"Usage: calpubsubctl occurrences --node NODE --from TIME --to TIME [--tz ZONE] [--json]\n"
		"TIME is 2024-01-15, 2024-01-15T10:00:00Z or 20240115T100000Z (UTC).\n";
	while ((opt = getopt_long(argc, argv, "n:f:t:z:j", options, NULL)) != -1) {
		switch (opt) {
		case 'n': node = optarg; break;
		case 'f': from_s = optarg; break;
		case 't': to_s = optarg; break;
		case 'z': tz = optarg; break;
		case 'j': json = true; break;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	cal_time_t from, to;
	if (optind != argc || !node || !from_s || !to_s) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!parse_when(from_s, &from) || !parse_when(to_s, &to) || to <= from) {
		fprintf(stderr, "calpubsubctl occurrences: --from and --to must be times with --from before --to\n");
		return EXIT_USAGE;
	}
	struct store *st;
	int rc = ctl_open_store(c, &st);
	if (rc)
		return rc;
	struct calobj_row *objs;
	size_t n;
	enum store_result r = store_calobj_window(st, node, from, to, &objs, &n);
	store_free(st);
	if (r != STORE_OK)
		return EXIT_FAILED;
	struct cal_expand_opts eo = {.floating_tzid = tz};
	json_t *list = json ? json_array() : NULL;
	rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct buf err = BUF_INIT;
		struct occ_sink sink = {0};
		if (cal_expand(objs[i].ics, from, to, &eo, collect_occ, &sink, &err) < 0) {
			fprintf(stderr, "calpubsubctl occurrences: %s: %s\n", objs[i].uid, buf_cstr(&err));
			rc = EXIT_FAILED;
		}
		for (size_t k = 0; k < sink.n; k++) {
			const struct cal_occurrence *occ = &sink.v[k];
			char start[17], end[17], rid[17];
			struct buf summary = BUF_INIT;
			cal_time_format(occ->start, start);
			cal_time_format(occ->end, end);
			cal_time_format(occ->recurrence_id, rid);
			cal_summary(objs[i].ics, occ->component, false, &summary);
			if (json) {
				json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:b}", "uid", objs[i].uid, "start", start, "end", end,
				                      "summary", buf_cstr(&summary), "all_day", occ->all_day);
				if (occ->recurring)
					json_object_set_new(e, "recurrence_id", json_string(rid));
				json_array_append_new(list, e);
			} else {
				printf("%s\t%s\t%s\t%s\t%s\n", start, end, objs[i].uid, occ->recurring ? rid : "-",
				       buf_cstr(&summary));
			}
			buf_free(&summary);
		}
		free(sink.v);
		buf_free(&err);
	}
	if (json) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(list);
	}
	calobj_rows_free(objs, n);
	return rc;
}

