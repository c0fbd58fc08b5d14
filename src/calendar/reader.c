/* reader.c: reading iCalendar streams into calendar objects. One pass over the input:
 * our own line reader unfolds and counts physical lines, the stream is split into
 * top-level components kept as text (never as trees, so that a file of 100,000 events
 * costs little more than its own size), grouped by UID; at the end each group is parsed,
 * validated, turned into canonical text and delivered. */
#include "src/calendar/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A top-level component as read: its unfolded content lines, one per '\n'-ended line of
 * text, with the physical line where each starts. */
struct raw_comp {
	char *kind;
	struct buf text;
	unsigned *lines;
	size_t n_lines;
	unsigned line;
	bool broken; /* a structural error was already reported */
};

struct group {
	char *uid;  /* NULL for components without UID */
	unsigned line;
	struct raw_comp *comps;
	size_t n_comps;
};

/* String -> index, open addressing. */
struct done_object {
	char *uid, *kind, *ics;
	size_t ics_len;
	unsigned line;
	int64_t start, end;
	bool valid;
};

struct tz_def {
	struct raw_comp raw;
	char *tzid;
	struct cal_comp *parsed; /* once validated */
	struct buf canonical;    /* its canonical text, written once for every object using it */
	bool checked, valid;
};

struct reader {
	const char *name;
	const struct cal_read_opts *opts;
	cal_object_fn on_object;
	cal_diag_fn on_diag;
	void *arg;
	int errors;
	struct group *groups;
	size_t n_groups, cap_groups;
	struct strmap uid_index;
	struct tz_def *tzs;
	size_t n_tzs;
	struct strmap tz_index;
	struct cal_zones *zones;
	struct done_object *done;
	size_t n_done;
	struct buf ics; /* canonical text of the object being made; keeps its capacity */
	bool stopped;
};

/* ---- small helpers ---- */

__attribute__((format(printf, 5, 6))) static void diag(struct reader *rd, enum cal_severity sev, unsigned line,
                                                       const char *uid, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (sev == CAL_ERROR)
		rd->errors++;
	if (rd->on_diag) {
		struct cal_diag d = {rd->name, line, uid, sev, buf_cstr(&msg)};
		rd->on_diag(&d, rd->arg);
	}
	buf_free(&msg);
}

static void raw_free(struct raw_comp *c)
{
	free(c->kind);
	buf_free(&c->text);
	free(c->lines);
	memset(c, 0, sizeof(*c));
}

static void raw_add_line(struct raw_comp *c, const char *s, size_t n, unsigned line)
{
	if ((c->n_lines & (c->n_lines - 1)) == 0)
		c->lines = xrealloc(c->lines, (c->n_lines ? c->n_lines * 2 : 1) * sizeof(*c->lines));
	c->lines[c->n_lines++] = line;
	buf_append(&c->text, s, n);
	buf_putc(&c->text, '\n');
}

/* The property name of a content line, upper-cased into out (empty when none). */
static void line_name(const char *s, size_t n, char *out, size_t cap)
{
	size_t i = 0;
	while (i < n && i + 1 < cap && (isalnum((unsigned char)s[i]) || s[i] == '-')) {
		out[i] = (char)toupper((unsigned char)s[i]);
		i++;
	}
	out[i] = '\0';
	if (i < n && s[i] != ':' && s[i] != ';')
		out[0] = '\0';
}

/* Whether the value of a BEGIN or END line (no NUL inside: checked before) is kind. */
static bool value_is(const char *v, size_t n, const char *kind)
{
	return strlen(kind) == n && strncasecmp(v, kind, n) == 0;
}

static bool is_top_level_kind(const char *v, size_t n)
{
	static const char *const kinds[] = {"VCALENDAR", "VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE"};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (value_is(v, n, kinds[i]))
			return true;
	return false;
}

/* ---- splitting the stream ---- */

struct scan {
	bool in_calendar;
	unsigned calendar_line;
	bool seen_calendar;
	struct raw_comp cur;   /* current top-level component, kind NULL when none */
	char *stack[16];       /* names of open components inside cur */
	unsigned stack_lines[16];
	size_t depth;          /* 0: cur itself only */
	char *cur_uid;         /* UID or TZID seen at the top of cur */
};

static void group_add(struct reader *rd, const char *uid, struct raw_comp *c)
{
	size_t *idx = uid ? strmap_get(&rd->uid_index, uid) : NULL;
	struct group *g;
	if (idx) {
		g = &rd->groups[*idx];
	} else {
		if (rd->n_groups == rd->cap_groups) {
			rd->cap_groups = rd->cap_groups ? rd->cap_groups * 2 : 64;
			rd->groups = xrealloc(rd->groups, rd->cap_groups * sizeof(*rd->groups));
		}
		g = &rd->groups[rd->n_groups];
		memset(g, 0, sizeof(*g));
		g->uid = uid ? xstrdup(uid) : NULL;
		g->line = c->line;
		if (uid)
			strmap_put(&rd->uid_index, uid, rd->n_groups);
		rd->n_groups++;
	}
	g->comps = xrealloc(g->comps, (g->n_comps + 1) * sizeof(*g->comps));
	g->comps[g->n_comps++] = *c;
	memset(c, 0, sizeof(*c));
}

static void tz_add(struct reader *rd, const char *tzid, struct raw_comp *c)
{
	size_t *idx = strmap_get(&rd->tz_index, tzid);
	if (idx) {
		struct tz_def *first = &rd->tzs[*idx];
		if (strcmp(first->raw.text.data, c->text.data) != 0)
			diag(rd, CAL_WARNING, c->line, NULL,
			     "VTIMEZONE '%s' is defined again differently; the first definition (line %u) is used", tzid,
			     first->raw.line);
		raw_free(c);
		return;
	}
	rd->tzs = xrealloc(rd->tzs, (rd->n_tzs + 1) * sizeof(*rd->tzs));
	struct tz_def *t = &rd->tzs[rd->n_tzs];
	memset(t, 0, sizeof(*t));
	t->raw = *c;
	t->tzid = xstrdup(tzid);
	memset(c, 0, sizeof(*c));
	strmap_put(&rd->tz_index, tzid, rd->n_tzs++);
}

static void finish_component(struct reader *rd, struct scan *sc)
{
	struct raw_comp *c = &sc->cur;
	if (!strcmp(c->kind, "VTIMEZONE")) {
		if (sc->cur_uid && !c->broken)
			tz_add(rd, sc->cur_uid, c);
		else if (!c->broken)
			diag(rd, CAL_ERROR, c->line, NULL, "VTIMEZONE without TZID");
	} else if (is_object_kind(c->kind)) {
		if (!sc->cur_uid && !c->broken)
			diag(rd, CAL_ERROR, c->line, NULL, "%s without UID", c->kind);
		if (sc->cur_uid || !c->broken)
			group_add(rd, sc->cur_uid, c);
	} else {
		diag(rd, CAL_WARNING, c->line, NULL, "%s ignored: only VEVENT, VTODO and VJOURNAL are calendar objects",
		     c->kind);
	}
	raw_free(c);
	for (size_t i = 0; i < sc->depth; i++)
		free(sc->stack[i]);
	sc->depth = 0;
	free(sc->cur_uid);
	sc->cur_uid = NULL;
}

static void start_component(struct scan *sc, const char *kind, size_t n, unsigned line)
{
	memset(&sc->cur, 0, sizeof(sc->cur));
	sc->cur.kind = xstrndup(kind, n);
	for (char *p = sc->cur.kind; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	sc->cur.line = line;
}

static char *unescaped_value(const struct cal_prop *p)
{
	struct buf b = BUF_INIT;
	text_unescape(&b, p->value, strlen(p->value));
	return buf_steal(&b);
}

static void calendar_property(struct reader *rd, const char *s, size_t n, unsigned line)
{
	struct cal_prop p;
	struct buf err = BUF_INIT;
	if (!cl_parse(s, n, &p, &err)) {
		diag(rd, CAL_ERROR, line, NULL, "%s", err.data);
		buf_free(&err);
		return;
	}
	buf_free(&err);
	if (!strcmp(p.name, "VERSION") && strcmp(p.value, "2.0") != 0)
		diag(rd, CAL_ERROR, line, NULL, "VERSION:%s is not iCalendar 2.0 (RFC 5545)", p.value);
	else if (!strcmp(p.name, "CALSCALE") && strcasecmp(p.value, "GREGORIAN") != 0)
		diag(rd, CAL_ERROR, line, NULL, "CALSCALE:%s is not supported (only GREGORIAN)", p.value);
	cal_prop_clear(&p);
}

static void abandon_component(struct reader *rd, struct scan *sc)
{
	sc->cur.broken = true;
	finish_component(rd, sc);
}

static void scan_line(struct reader *rd, struct scan *sc, const char *s, size_t n, unsigned line)
{
	char name[16];
	line_name(s, n, name, sizeof(name));
	bool is_begin = !strcmp(name, "BEGIN"), is_end = !strcmp(name, "END");
	/* The value stays in the line: only BEGIN and END lines look at it. */
	const char *colon = memchr(s, ':', n);
	const char *value = colon ? colon + 1 : "";
	size_t vlen = colon ? n - (size_t)(colon + 1 - s) : 0;
	int vl = (int)vlen;
	/* XML allows CR and DEL, a content line neither (RFC 5545 3.1: CR only in the CRLF
	 * that ends it) */
	const char *bad = !utf8_is_xml_safe(s, n) ? "invalid UTF-8 or a control character in the line"
	                  : memchr(s, '\r', n)   ? "a carriage return inside the line (CR only goes before LF)"
	                  : memchr(s, 0x7F, n)    ? "a DEL control character in the line"
	                                          : NULL;
	if (bad) {
		diag(rd, CAL_ERROR, line, sc->cur_uid, "%s", bad);
		if (sc->cur.kind)
			sc->cur.broken = true;
		return;
	}
	if (sc->cur.kind) {
		if (is_begin && is_top_level_kind(value, vlen)) {
			diag(rd, CAL_ERROR, line, sc->cur_uid, "BEGIN:%.*s inside %s (line %u): END:%s missing", vl, value,
			     sc->depth ? sc->stack[sc->depth - 1] : sc->cur.kind,
			     sc->depth ? sc->stack_lines[sc->depth - 1] : sc->cur.line,
			     sc->depth ? sc->stack[sc->depth - 1] : sc->cur.kind);
			abandon_component(rd, sc);
			/* and read this line again outside */
		} else if (is_begin) {
			if (sc->depth == sizeof(sc->stack) / sizeof(sc->stack[0])) {
				diag(rd, CAL_ERROR, line, sc->cur_uid, "components nested too deeply");
				sc->cur.broken = true;
			} else {
				sc->stack_lines[sc->depth] = line;
				sc->stack[sc->depth++] = xstrndup(value, vlen);
			}
			raw_add_line(&sc->cur, s, n, line);
			return;
		} else if (is_end) {
			const char *open = sc->depth ? sc->stack[sc->depth - 1] : sc->cur.kind;
			if (value_is(value, vlen, open)) {
				if (sc->depth) {
					free(sc->stack[--sc->depth]);
					raw_add_line(&sc->cur, s, n, line);
				} else {
					finish_component(rd, sc);
				}
				return;
			}
			unsigned open_line = sc->depth ? sc->stack_lines[sc->depth - 1] : sc->cur.line;
			diag(rd, CAL_ERROR, line, sc->cur_uid, "END:%.*s does not match BEGIN:%s (line %u)", vl, value, open,
			     open_line);
			sc->cur.broken = true;
			if (value_is(value, vlen, "VCALENDAR") || value_is(value, vlen, sc->cur.kind)) {
				/* Close what is open and read this END again outside. */
				if (value_is(value, vlen, sc->cur.kind)) {
					finish_component(rd, sc);
					return;
				}
				finish_component(rd, sc);
			} else {
				return;
			}
		} else {
			if (sc->depth == 0 && (!strcmp(name, "UID") || (!strcmp(name, "TZID") && !strcmp(sc->cur.kind, "VTIMEZONE"))) &&
			    !sc->cur_uid) {
				struct cal_prop p;
				struct buf err = BUF_INIT;
				if (cl_parse(s, n, &p, &err)) {
					sc->cur_uid = !strcmp(name, "UID") ? unescaped_value(&p) : xstrdup(p.value);
					cal_prop_clear(&p);
				}
				buf_free(&err);
			}
			raw_add_line(&sc->cur, s, n, line);
			return;
		}
	}
	/* Outside any top-level component. */
	if (!sc->in_calendar) {
		if (is_begin && value_is(value, vlen, "VCALENDAR")) {
			sc->in_calendar = sc->seen_calendar = true;
			sc->calendar_line = line;
		} else if (is_end) {
			diag(rd, CAL_ERROR, line, NULL, "END:%.*s without BEGIN", vl, value);
		} else {
			diag(rd, CAL_ERROR, line, NULL, "%s outside BEGIN:VCALENDAR ... END:VCALENDAR",
			     is_begin ? "BEGIN" : name[0] ? name : "text");
		}
	} else if (is_begin) {
		if (value_is(value, vlen, "VCALENDAR"))
			diag(rd, CAL_ERROR, line, NULL, "BEGIN:VCALENDAR inside the VCALENDAR of line %u", sc->calendar_line);
		else
			start_component(sc, value, vlen, line);
	} else if (is_end) {
		if (value_is(value, vlen, "VCALENDAR"))
			sc->in_calendar = false;
		else
			diag(rd, CAL_ERROR, line, NULL, "END:%.*s without BEGIN", vl, value);
	} else {
		calendar_property(rd, s, n, line);
	}
}

/* ---- turning a group into an object ---- */

/* Parses a raw component into a tree; each bad line is reported. */
static struct cal_comp *parse_raw(struct reader *rd, const struct raw_comp *raw, const char *uid, bool *ok)
{
	struct cal_comp *root = cal_comp_new(raw->kind, raw->line);
	struct cal_comp *stack[17];
	size_t depth = 0;
	stack[depth++] = root;
	const char *s = raw->text.data;
	for (size_t i = 0; i < raw->n_lines; i++) {
		const char *nl = strchr(s, '\n');
		size_t n = (size_t)(nl - s);
		struct cal_prop p;
		struct buf err = BUF_INIT;
		if (!cl_parse(s, n, &p, &err)) {
			diag(rd, CAL_ERROR, raw->lines[i], uid, "%s", err.data);
			*ok = false;
		} else if (!strcmp(p.name, "BEGIN")) {
			struct cal_comp *c = cal_comp_new(p.value, raw->lines[i]);
			cal_comp_add_sub(stack[depth - 1], c);
			if (depth < sizeof(stack) / sizeof(stack[0]))
				stack[depth++] = c;
			cal_prop_clear(&p);
		} else if (!strcmp(p.name, "END")) {
			if (depth > 1)
				depth--;
			cal_prop_clear(&p);
		} else {
			p.line = raw->lines[i];
			cal_comp_take_prop(stack[depth - 1], &p);
		}
		buf_free(&err);
		s = nl + 1;
	}
	return root;
}

static bool is_date_prop(const char *name)
{
	return !strcmp(name, "DTSTART") || !strcmp(name, "DTEND") || !strcmp(name, "DUE") ||
	       !strcmp(name, "RECURRENCE-ID") || !strcmp(name, "EXDATE") || !strcmp(name, "RDATE");
}

/* Marks each value that passes, so that the canonical writer does not check it again. */
static bool check_values(struct reader *rd, struct cal_comp *c, const char *uid)
{
	bool ok = true;
	for (size_t i = 0; i < c->n_props; i++) {
		struct cal_prop *p = &c->props[i];
		enum vtype dflt;
		enum vshape shape;
		enum vtype t = prop_types(p, &dflt, &shape);
		/* every date property defaults to DATE-TIME: most properties skip the names */
		bool date_prop = dflt == VT_DATE_TIME && is_date_prop(p->name);
		struct buf err = BUF_INIT;
		if (date_prop && t != VT_DATE && t != VT_DATE_TIME && !(t == VT_PERIOD && !strcmp(p->name, "RDATE"))) {
			diag(rd, CAL_ERROR, p->line, uid, "%s cannot have VALUE=%s", p->name, cal_prop_param(p, "VALUE"));
			ok = false;
		} else if (!value_check(t, shape, p->value, &err)) {
			diag(rd, CAL_ERROR, p->line, uid, "%s: %s", p->name, err.data);
			ok = false;
		} else {
			p->value_checked = true;
			if (date_prop && cal_prop_param(p, "TZID") && strpbrk(p->value, "Zz"))
				diag(rd, CAL_WARNING, p->line, uid, "%s: TZID on a UTC time is ignored", p->name);
		}
		buf_free(&err);
	}
	for (size_t i = 0; i < c->n_subs; i++)
		ok &= check_values(rd, c->subs[i], uid);
	return ok;
}

/* Properties that may appear once per component, in the order their duplicates are
 * reported. */
static const char *const once_names[] = {"UID", "DTSTART", "DTEND", "DUE", "DURATION", "RECURRENCE-ID",
                                         "DTSTAMP", "SEQUENCE", "STATUS", "SUMMARY", "TRANSP", "CLASS"};
#define N_ONCE (sizeof(once_names) / sizeof(once_names[0]))

static int once_index(const char *name)
{
	for (size_t k = 0; k < N_ONCE; k++)
		if (name_eq(name, once_names[k]))
			return (int)k;
	return -1;
}

/* One pass over the properties for all the names: the first duplicate of each. */
static bool check_once(struct reader *rd, const struct cal_comp *c, const char *uid)
{
	const struct cal_prop *first[N_ONCE] = {0}, *again[N_ONCE] = {0};
	for (size_t i = 0; i < c->n_props; i++) {
		int k = once_index(c->props[i].name);
		if (k < 0)
			continue;
		if (!first[k])
			first[k] = &c->props[i];
		else if (!again[k])
			again[k] = &c->props[i];
	}
	bool ok = true;
	for (size_t k = 0; k < N_ONCE; k++) {
		if (!again[k])
			continue;
		diag(rd, CAL_ERROR, again[k]->line, uid, "%s appears more than once in %s (first at line %u)", once_names[k],
		     c->name, first[k]->line);
		ok = false;
	}
	return ok;
}

static bool check_alarm(struct reader *rd, const struct cal_comp *a, const char *uid)
{
	bool ok = true;
	if (!cal_comp_prop(a, "ACTION")) {
		diag(rd, CAL_ERROR, a->line, uid, "VALARM without ACTION");
		ok = false;
	}
	if (!cal_comp_prop(a, "TRIGGER")) {
		diag(rd, CAL_ERROR, a->line, uid, "VALARM without TRIGGER");
		ok = false;
	}
	return ok;
}

/* Times: presence, types and order of DTSTART, DTEND, DUE, DURATION, RRULE. */
static bool check_times(struct reader *rd, const struct cal_comp *c, const char *uid)
{
	bool ok = true;
	const struct cal_prop *start = cal_comp_prop(c, "DTSTART");
	bool todo = !strcmp(c->name, "VTODO");
	const struct cal_prop *end = cal_comp_prop(c, todo ? "DUE" : "DTEND");
	const struct cal_prop *dur = cal_comp_prop(c, "DURATION");
	if (!start && !strcmp(c->name, "VEVENT")) {
		diag(rd, CAL_ERROR, c->line, uid, "VEVENT without DTSTART");
		return false;
	}
	if (end && dur) {
		diag(rd, CAL_ERROR, dur->line, uid, "%s has both %s (line %u) and DURATION", c->name, end->name, end->line);
		return false;
	}
	if (!strcmp(c->name, "VJOURNAL") && (end || dur)) {
		diag(rd, CAL_ERROR, (end ? end : dur)->line, uid, "VJOURNAL cannot have %s", (end ? end : dur)->name);
		return false;
	}
	if (!start) {
		const struct cal_prop *needs = dur ? dur : cal_comp_prop(c, "RRULE");
		if (!needs)
			needs = cal_comp_prop(c, "RDATE");
		if (needs) {
			diag(rd, CAL_ERROR, needs->line, uid, "%s without DTSTART", needs->name);
			return false;
		}
		return true;
	}
	int64_t s_utc, e_utc;
	struct cal_dt s_dt, e_dt;
	bool known;
	if (!prop_instant(rd->zones, start, &s_utc, &s_dt, &known))
		return false; /* reported by check_values */
	if (end && prop_instant(rd->zones, end, &e_utc, &e_dt, &known)) {
		if (s_dt.is_date != e_dt.is_date) {
			diag(rd, CAL_ERROR, end->line, uid, "DTSTART is a %s but %s is a %s", s_dt.is_date ? "DATE" : "DATE-TIME",
			     end->name, e_dt.is_date ? "DATE" : "DATE-TIME");
			ok = false;
		} else if (e_utc < s_utc) {
			diag(rd, CAL_ERROR, end->line, uid, "%s (%s) is before DTSTART (%s, line %u)", end->name, end->value,
			     start->value, start->line);
			ok = false;
		}
	}
	struct cal_duration d;
	if (dur && duration_parse(dur->value, &d)) {
		if (d.negative) {
			diag(rd, CAL_ERROR, dur->line, uid, "DURATION %s is negative", dur->value);
			ok = false;
		} else if (s_dt.is_date && d.seconds) {
			diag(rd, CAL_WARNING, dur->line, uid, "DURATION %s on an all-day %s should be in days or weeks",
			     dur->value, c->name);
		}
	}
	size_t n_rules = 0;
	for (size_t i = 0; i < c->n_props; i++) {
		const struct cal_prop *p = &c->props[i];
		if (strcmp(p->name, "RRULE") != 0)
			continue;
		if (++n_rules == 2)
			diag(rd, CAL_WARNING, p->line, uid, "more than one RRULE (deprecated by RFC 5545)");
		const char *u = strcasestr(p->value, "UNTIL=");
		struct cal_dt until;
		if (!u)
			continue;
		char *val = xstrndup(u + 6, strcspn(u + 6, ";"));
		if (dt_parse(val, &until)) {
			if (until.is_date != s_dt.is_date)
				diag(rd, CAL_WARNING, p->line, uid, "RRULE UNTIL %s is a %s but DTSTART is a %s", val,
				     until.is_date ? "DATE" : "DATE-TIME", s_dt.is_date ? "DATE" : "DATE-TIME");
			else if (!s_dt.is_date && cal_prop_param(start, "TZID") && !until.is_utc)
				diag(rd, CAL_WARNING, p->line, uid, "RRULE UNTIL %s should be in UTC since DTSTART has a TZID", val);
		}
		free(val);
	}
	return ok;
}

static bool check_component(struct reader *rd, struct cal_comp *c, const char *uid)
{
	bool ok = check_values(rd, c, uid);
	ok &= check_once(rd, c, uid);
	if (!cal_comp_prop(c, "DTSTAMP"))
		diag(rd, CAL_WARNING, c->line, uid, "%s without DTSTAMP", c->name);
	if (ok)
		ok = check_times(rd, c, uid);
	for (size_t i = 0; i < c->n_subs; i++)
		if (!strcmp(c->subs[i]->name, "VALARM"))
			ok &= check_alarm(rd, c->subs[i], uid);
	return ok;
}

static bool recurs_yearly(const char *rrule)
{
	for (const char *part = rrule; part; part = strchr(part, ';') ? strchr(part, ';') + 1 : NULL)
		if (strncasecmp(part, "FREQ=", 5) == 0)
			return strncasecmp(part + 5, "YEARLY", 6) == 0 && (part[11] == ';' || part[11] == '\0');
	return false;
}

static bool check_vtimezone(struct reader *rd, struct tz_def *t)
{
	if (t->checked)
		return t->valid;
	t->checked = true;
	bool ok = true;
	struct cal_comp *c = parse_raw(rd, &t->raw, NULL, &ok);
	ok &= check_values(rd, c, NULL);
	size_t rules = 0;
	for (size_t i = 0; i < c->n_subs; i++) {
		const struct cal_comp *s = c->subs[i];
		if (strcmp(s->name, "STANDARD") != 0 && strcmp(s->name, "DAYLIGHT") != 0)
			continue;
		rules++;
		static const char *const required[] = {"DTSTART", "TZOFFSETFROM", "TZOFFSETTO"};
		for (size_t k = 0; k < 3; k++) {
			if (!cal_comp_prop(s, required[k])) {
				diag(rd, CAL_ERROR, s->line, NULL, "%s of VTIMEZONE '%s' without %s", s->name, t->tzid, required[k]);
				ok = false;
			}
		}
		/* libical lists every change of a zone from its DTSTART on: a rule recurring
		 * by the minute would make millions of them */
		for (size_t k = 0; k < s->n_props; k++)
			if (strcmp(s->props[k].name, "RRULE") == 0 && !recurs_yearly(s->props[k].value)) {
				diag(rd, CAL_ERROR, s->props[k].line, NULL, "%s of VTIMEZONE '%s': its RRULE must be FREQ=YEARLY",
				     s->name, t->tzid);
				ok = false;
			}
	}
	if (!rules) {
		diag(rd, CAL_ERROR, t->raw.line, NULL, "VTIMEZONE '%s' has neither STANDARD nor DAYLIGHT", t->tzid);
		ok = false;
	}
	t->valid = ok;
	if (ok) {
		t->parsed = c;
		cal_write_comp(&t->canonical, c);
		cal_zones_add_vtimezone(rd->zones, c);
	} else {
		cal_comp_free(c);
	}
	return ok;
}

/* Collects the TZIDs used in c (and its subcomponents) with the first line using each. */
struct tz_use {
	const char *tzid;
	unsigned line;
};

static void collect_tzids(const struct cal_comp *c, struct tz_use **uses, size_t *n)
{
	for (size_t i = 0; i < c->n_props; i++) {
		const char *tzid = cal_prop_param(&c->props[i], "TZID");
		if (!tzid)
			continue;
		bool seen = false;
		for (size_t k = 0; k < *n && !seen; k++)
			seen = strcmp((*uses)[k].tzid, tzid) == 0;
		if (seen)
			continue;
		*uses = xrealloc(*uses, (*n + 1) * sizeof(**uses));
		(*uses)[(*n)++] = (struct tz_use){tzid, c->props[i].line};
	}
	for (size_t i = 0; i < c->n_subs; i++)
		collect_tzids(c->subs[i], uses, n);
}

static int tz_use_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tz_use *)a)->tzid, ((const struct tz_use *)b)->tzid);
}

struct keyed_comp {
	struct cal_comp *comp;
	bool master;
	int64_t rid;
	const char *rid_text;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed_comp *x = a, *y = b;
	if (x->master != y->master)
		return x->master ? -1 : 1;
	if (x->rid != y->rid)
		return x->rid < y->rid ? -1 : 1;
	return strcmp(x->rid_text ? x->rid_text : "", y->rid_text ? y->rid_text : "");
}

static void store_object(struct reader *rd, const struct group *g, const char *kind, struct buf *ics, int64_t start,
                         int64_t end, bool valid)
{
	bool all_or_nothing = rd->opts->policy == CAL_READ_ALL_OR_NOTHING;
	if (all_or_nothing && !rd->opts->early) {
		struct done_object d = {g->uid ? xstrdup(g->uid) : NULL, xstrdup(kind), NULL, ics->len, g->line, start, end,
		                        valid};
		d.ics = buf_steal(ics);
		rd->done = xrealloc(rd->done, (rd->n_done + 1) * sizeof(*rd->done));
		rd->done[rd->n_done++] = d;
		return;
	}
	if (all_or_nothing && !valid) /* early delivery: the read will fail anyway */
		return;
	if (!rd->stopped && rd->on_object) {
		struct cal_object o = {g->uid, kind, buf_cstr(ics), ics->len, g->line, start, end, valid};
		rd->stopped = rd->on_object(&o, rd->arg) != 0;
	}
}

static void process_group(struct reader *rd, struct group *g)
{
	int errors_before = rd->errors;
	bool ok = g->uid != NULL; /* a missing UID was reported while splitting */
	struct keyed_comp *kc = xcalloc(g->n_comps, sizeof(*kc));
	size_t n = 0;
	for (size_t i = 0; i < g->n_comps; i++) {
		ok &= !g->comps[i].broken;
		if (g->comps[i].broken)
			continue;
		bool parsed_ok = true;
		kc[n].comp = parse_raw(rd, &g->comps[i], g->uid, &parsed_ok);
		ok &= parsed_ok;
		n++;
	}
	/* Time zones used: a VTIMEZONE of the file, else the tz database, else a warning.
	 * Resolved before any time is read, so that the file's definitions win. */
	struct tz_use *uses = NULL;
	size_t n_uses = 0;
	for (size_t i = 0; i < n; i++)
		collect_tzids(kc[i].comp, &uses, &n_uses);
	if (n_uses)
		qsort(uses, n_uses, sizeof(*uses), tz_use_cmp);
	struct buf *ics = &rd->ics;
	buf_reset(ics);
	cal_write_calendar_start(ics);
	for (size_t i = 0; i < n_uses; i++) {
		size_t *idx = strmap_get(&rd->tz_index, uses[i].tzid);
		if (idx) {
			struct tz_def *t = &rd->tzs[*idx];
			if (!check_vtimezone(rd, t)) {
				diag(rd, CAL_ERROR, uses[i].line, g->uid, "uses the invalid VTIMEZONE '%s' (line %u)", t->tzid,
				     t->raw.line);
				ok = false;
			} else {
				buf_append(ics, t->canonical.data, t->canonical.len);
			}
		} else if (!cal_zones_lookup(rd->zones, uses[i].tzid)) {
			diag(rd, CAL_WARNING, uses[i].line, g->uid,
			     "unknown time zone '%s' (no VTIMEZONE, not an IANA or Windows name): its times are read as floating",
			     uses[i].tzid);
		}
	}
	char *kind = xstrdup(n ? kc[0].comp->name : g->comps[0].kind);
	for (size_t i = 0; i < n; i++) {
		struct cal_comp *c = kc[i].comp;
		if (strcmp(c->name, kind) != 0) {
			diag(rd, CAL_ERROR, c->line, g->uid, "%s shares its UID with a %s (line %u)", c->name, kind, kc[0].comp->line);
			ok = false;
		}
		if (!check_component(rd, c, g->uid)) {
			ok = false;
			continue;
		}
		const struct cal_prop *rid = cal_comp_prop(c, "RECURRENCE-ID");
		kc[i].master = rid == NULL;
		if (rid) {
			struct cal_dt dt;
			bool known;
			prop_instant(rd->zones, rid, &kc[i].rid, &dt, &known);
			kc[i].rid_text = rid->value;
		}
	}
	if (ok) {
		for (size_t i = 0; i < n; i++) {
			for (size_t k = 0; k < i; k++) {
				if (kc[i].master != kc[k].master || (!kc[i].master && kc[i].rid != kc[k].rid))
					continue;
				diag(rd, CAL_ERROR, kc[i].comp->line, g->uid,
				     kc[i].master ? "UID defined again (first definition at line %u)"
				                  : "a second override for the same RECURRENCE-ID (first at line %u)",
				     kc[k].comp->line);
				ok = false;
			}
		}
	}
	free(uses);
	if (n)
		qsort(kc, n, sizeof(*kc), keyed_cmp);
	for (size_t i = 0; i < n; i++)
		cal_write_comp(ics, kc[i].comp);
	cal_write_calendar_end(ics);

	int64_t start = CAL_TIME_MIN, end = CAL_TIME_MAX;
	if (ok) {
		const struct cal_comp **comps = xcalloc(n ? n : 1, sizeof(*comps));
		for (size_t i = 0; i < n; i++)
			comps[i] = kc[i].comp;
		struct buf err = BUF_INIT;
		if (!object_range(comps, n, rd->zones, &start, &end, &err)) {
			diag(rd, CAL_ERROR, g->line, g->uid, "%s", err.data);
			ok = false;
		}
		buf_free(&err);
		free(comps);
	}
	ok &= rd->errors == errors_before;
	for (size_t i = 0; i < n; i++)
		cal_comp_free(kc[i].comp);
	free(kc);
	if (!ok && rd->opts->policy == CAL_READ_SKIP_INVALID) {
		diag(rd, CAL_WARNING, g->line, g->uid, "%s skipped: %d error%s", kind, rd->errors - errors_before,
		     rd->errors - errors_before == 1 ? "" : "s");
		free(kind);
		return;
	}
	store_object(rd, g, kind, ics, start, end, ok);
	free(kind);
}

static void group_free(struct group *g)
{
	for (size_t i = 0; i < g->n_comps; i++)
		raw_free(&g->comps[i]);
	free(g->comps);
	free(g->uid);
	memset(g, 0, sizeof(*g));
}

static int read_all(struct line_reader *lr, const char *name, const struct cal_read_opts *opts,
                    cal_object_fn on_object, cal_diag_fn on_diag, void *arg)
{
	static const struct cal_read_opts defaults = {.policy = CAL_READ_ALL_OR_NOTHING};
	struct reader rd = {.name = name ? name : "(input)", .opts = opts ? opts : &defaults,
	                    .on_object = on_object, .on_diag = on_diag, .arg = arg};
	struct scan sc;
	memset(&sc, 0, sizeof(sc));
	rd.zones = cal_zones_new();
	unsigned line;
	int rc;
	while ((rc = line_reader_next(lr, &line)) != 0) {
		if (rc < 0) {
			diag(&rd, CAL_ERROR, line, sc.cur_uid, "continuation line (starting with a space) without a line to continue");
			if (sc.cur.kind)
				sc.cur.broken = true;
			continue;
		}
		scan_line(&rd, &sc, lr->content.data, lr->content.len, line);
	}
	if (sc.cur.kind) {
		diag(&rd, CAL_ERROR, sc.cur.line, sc.cur_uid, "BEGIN:%s without END:%s", sc.cur.kind, sc.cur.kind);
		abandon_component(&rd, &sc);
	}
	if (sc.in_calendar)
		diag(&rd, CAL_ERROR, sc.calendar_line, NULL, "BEGIN:VCALENDAR without END:VCALENDAR");
	if (!sc.seen_calendar)
		diag(&rd, CAL_ERROR, 0, NULL, "no VCALENDAR found");
	if (lr->io_error)
		diag(&rd, CAL_ERROR, 0, NULL, "read error");
	for (size_t i = 0; i < rd.n_groups; i++) {
		if (!rd.stopped)
			process_group(&rd, &rd.groups[i]);
		group_free(&rd.groups[i]);
	}
	if (rd.opts->policy == CAL_READ_ALL_OR_NOTHING) {
		for (size_t i = 0; i < rd.n_done; i++) {
			struct done_object *d = &rd.done[i];
			if (!rd.errors && !rd.stopped && rd.on_object) {
				struct cal_object o = {d->uid, d->kind, d->ics, d->ics_len, d->line, d->start, d->end, d->valid};
				rd.stopped = rd.on_object(&o, rd.arg) != 0;
			}
			free(d->uid);
			free(d->kind);
			free(d->ics);
		}
	}
	free(rd.done);
	buf_free(&rd.ics);
	free(rd.groups);
	strmap_free(&rd.uid_index);
	for (size_t i = 0; i < rd.n_tzs; i++) {
		raw_free(&rd.tzs[i].raw);
		free(rd.tzs[i].tzid);
		cal_comp_free(rd.tzs[i].parsed);
		buf_free(&rd.tzs[i].canonical);
	}
	free(rd.tzs);
	strmap_free(&rd.tz_index);
	cal_zones_free(rd.zones);
	return lr->io_error || rd.stopped ? -1 : rd.errors;
}

int cal_read(FILE *in, const char *name, const struct cal_read_opts *opts, cal_object_fn on_object,
             cal_diag_fn on_diag, void *arg)
{
	struct line_reader lr;
	line_reader_init_file(&lr, in);
	int rc = read_all(&lr, name, opts, on_object, on_diag, arg);
	line_reader_free(&lr);
	return rc;
}

int cal_read_string(const char *text, size_t len, const char *name, const struct cal_read_opts *opts,
                    cal_object_fn on_object, cal_diag_fn on_diag, void *arg)
{
	struct line_reader lr;
	line_reader_init_mem(&lr, text, len);
	int rc = read_all(&lr, name, opts, on_object, on_diag, arg);
	line_reader_free(&lr);
	return rc;
}
