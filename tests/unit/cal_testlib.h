/* cal_testlib.h: what the calendar unit tests share: the fixture list, reading a fixture
 * from the source tree (CALPUBSUB_SRCDIR, set by make check), and collecting what
 * cal_read delivers. */
#ifndef CALPUBSUB_CAL_TESTLIB_H
#define CALPUBSUB_CAL_TESTLIB_H

#include "src/calendar/calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every valid fixture; the property tests run over all of them. */
__attribute__((unused)) static const char *const cal_fixtures[] = {
	"google.ics", "outlook.ics", "apple.ics", "thunderbird.ics", "dst.ics", "recurrences.ics", "multi.ics",
};
#define CAL_N_FIXTURES (sizeof(cal_fixtures) / sizeof(cal_fixtures[0]))

__attribute__((unused)) static char *fixture_path(const char *name)
{
	const char *src = getenv("CALPUBSUB_SRCDIR");
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/tests/data/%s", src ? src : ".", name);
	return buf_steal(&b);
}

__attribute__((unused)) static char *read_fixture(const char *name, size_t *len)
{
	char *path = fixture_path(name);
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	if (f) {
		char chunk[4096];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_append(&b, chunk, n);
		fclose(f);
	} else {
		printf("# cannot open %s\n", path);
	}
	free(path);
	if (len)
		*len = b.len;
	return buf_steal(&b);
}

struct collected_object {
	char *uid, *kind, *ics;
	unsigned line;
	cal_time_t start, end;
	bool valid;
};

struct collected {
	struct collected_object *objs;
	size_t n;
	struct buf diags; /* "line:error|warning:uid:message\n" */
	size_t errors, warnings;
};

__attribute__((unused)) static int collect_object(const struct cal_object *o, void *arg)
{
	struct collected *c = arg;
	c->objs = xrealloc(c->objs, (c->n + 1) * sizeof(*c->objs));
	c->objs[c->n++] = (struct collected_object){xstrdup(o->uid ? o->uid : ""), xstrdup(o->kind), xstrdup(o->ics),
	                                            o->line, o->range_start, o->range_end, o->valid};
	return 0;
}

__attribute__((unused)) static void collect_diag(const struct cal_diag *d, void *arg)
{
	struct collected *c = arg;
	buf_printf(&c->diags, "%u:%s:%s:%s\n", d->line, d->severity == CAL_ERROR ? "error" : "warning", d->uid ? d->uid : "",
	           d->message);
	if (d->severity == CAL_ERROR)
		c->errors++;
	else
		c->warnings++;
}

__attribute__((unused)) static int read_text(const char *text, size_t len, enum cal_read_policy policy,
                                             struct collected *c)
{
	struct cal_read_opts opts = {.policy = policy};
	memset(c, 0, sizeof(*c));
	return cal_read_string(text, len, "test", &opts, collect_object, collect_diag, c);
}

__attribute__((unused)) static void collected_free(struct collected *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->objs[i].uid);
		free(c->objs[i].kind);
		free(c->objs[i].ics);
	}
	free(c->objs);
	buf_free(&c->diags);
	memset(c, 0, sizeof(*c));
}

__attribute__((unused)) static const struct collected_object *find_object(const struct collected *c, const char *uid)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->objs[i].uid, uid) == 0)
			return &c->objs[i];
	return NULL;
}

/* Whether a diagnostic with this line, severity and message fragment was reported. */
__attribute__((unused)) static bool has_diag(const struct collected *c, unsigned line, const char *severity,
                                            const char *fragment)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%u:%s:", line, severity);
	for (const char *p = buf_cstr(&c->diags); *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *l = xstrndup(p, n);
		bool hit = strncmp(l, prefix, strlen(prefix)) == 0 && strstr(l, fragment);
		free(l);
		if (hit)
			return true;
		p += n + (nl != NULL);
	}
	return false;
}

#endif
