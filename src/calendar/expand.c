/* expand.c: the occurrences of a calendar object in a window: DTSTART, RRULE (through
 * libical's iterator, with its wrong answers worked around here, or subdaily.c for rules
 * more frequent than daily; COUNT and UNTIL are applied here so that DTSTART counts and
 * UTC UNTIL compares with UTC instants), RDATE (DATE, DATE-TIME, PERIOD), EXDATE,
 * RECURRENCE-ID overrides including RANGE=THISANDFUTURE. Durations follow RFC 5545
 * 3.8.5.3: DTEND gives every instance the same exact duration, DURATION the same nominal
 * one (P1D is one calendar day, 23 hours on a spring-forward day). */
#include "src/calendar/internal.h"

#include <stdlib.h>
#include <string.h>

/* A DATE or DATE-TIME value placed in time. */
struct when {
	bool is_date;
	bool floating;        /* no TZID and no Z (dates are floating too) */
	icaltimezone *zone;   /* frame of local: NULL means UTC */
	int64_t local;        /* wall-clock seconds in that frame */
	int64_t utc;
};

/* How long an instance lasts: nominal days on the wall clock, then exact seconds. */
struct span {
	int64_t days;
	int64_t secs;
};

struct ctx {
	struct cal_zones *zones;
	icaltimezone *floating;
	struct buf *err;
	size_t iterations;
	size_t max_iterations;
	bool capped;
};

static bool resolve_value(struct ctx *c, const char *value, const char *tzid, bool date_only, struct when *w)
{
	struct cal_dt dt;
	memset(w, 0, sizeof(*w));
	if (!dt_parse(value, &dt) || (date_only && !dt.is_date)) {
		buf_printf(c->err, "'%s' is not a DATE or DATE-TIME", value);
		return false;
	}
	w->is_date = dt.is_date;
	w->local = dt_local_seconds(&dt);
	if (dt.is_utc) {
		w->zone = NULL;
	} else if (tzid && !dt.is_date) {
		/* An unknown TZID was reported when the object was read: read it as floating
		 * rather than fail every query on the object. */
		w->zone = cal_zones_lookup(c->zones, tzid);
		w->floating = w->zone == NULL;
		if (!w->zone)
			w->zone = c->floating;
	} else {
		w->floating = true;
		w->zone = c->floating;
	}
	w->utc = zone_local_to_utc(w->zone, w->local);
	return true;
}

static bool resolve_prop(struct ctx *c, const struct cal_prop *p, struct when *w)
{
	return resolve_value(c, p->value, cal_prop_param(p, "TZID"), false, w);
}

static int64_t end_of(const struct when *start_frame, int64_t local, int64_t utc, const struct span *s)
{
	if (s->days)
		return zone_local_to_utc(start_frame->zone, local + s->days * 86400) + s->secs;
	return utc + s->secs;
}

/* The span of a component whose start is w: DTEND/DUE, DURATION, or the defaults of RFC
 * 5545 3.6.1 (a DATE lasts one day, a DATE-TIME is an instant). */
static bool comp_span(struct ctx *c, const struct cal_comp *comp, const struct when *w, struct span *s)
{
	memset(s, 0, sizeof(*s));
	const struct cal_prop *end = cal_comp_prop(comp, strcmp(comp->name, "VTODO") == 0 ? "DUE" : "DTEND");
	const struct cal_prop *dur = cal_comp_prop(comp, "DURATION");
	if (end) {
		struct when e;
		if (!resolve_prop(c, end, &e))
			return false;
		if (w->is_date && e.is_date)
			s->days = (e.local - w->local) / 86400;
		else
			s->secs = e.utc - w->utc;
	} else if (dur) {
		struct cal_duration d;
		if (!duration_parse(dur->value, &d)) {
			buf_printf(c->err, "invalid DURATION '%s'", dur->value);
			return false;
		}
		s->days = d.negative ? -d.days : d.days;
		s->secs = d.negative ? -d.seconds : d.seconds;
	} else if (w->is_date) {
		s->days = 1;
	}
	return true;
}

static void push_occ(struct expansion *e, const struct occ *o)
{
	if (e->n_occs == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->occs = xrealloc(e->occs, e->cap * sizeof(*e->occs));
	}
	e->occs[e->n_occs++] = *o;
}

/* A master instance before overrides are applied. */
struct cand {
	int64_t local, utc;
	bool has_end;
	int64_t end_utc;
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

static void push_cand(struct cands *cs, int64_t local, int64_t utc, bool has_end, int64_t end_utc)
{
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 16;
		cs->v = xrealloc(cs->v, cs->cap * sizeof(*cs->v));
	}
	cs->v[cs->n++] = (struct cand){local, utc, has_end, end_utc};
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->utc < y->utc ? -1 : x->utc > y->utc;
}

/* UNTIL as a limit on local times or on UTC instants. */
struct until {
	bool present;
	bool on_utc;
	int64_t limit;
};

static struct icaltimetype ical_from_local(int64_t local, bool is_date)
{
	struct cal_dt d;
	dt_from_local_seconds(local, is_date, &d);
	struct icaltimetype t = icaltime_null_time();
	t.year = d.year;
	t.month = d.month;
	t.day = d.day;
	t.hour = d.hour;
	t.minute = d.minute;
	t.second = d.second;
	t.is_date = is_date;
	return t;
}

static bool rule_until(const char *rrule, const struct when *start, struct until *u)
{
	memset(u, 0, sizeof(*u));
	char **parts;
	size_t n = split_unescaped(rrule, ';', &parts);
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		if (strncasecmp(parts[i], "UNTIL=", 6) != 0)
			continue;
		struct cal_dt dt;
		ok = dt_parse(parts[i] + 6, &dt);
		if (!ok)
			break;
		u->present = true;
		if (dt.is_utc) {
			u->on_utc = true;
			u->limit = dt_local_seconds(&dt);
		} else if (dt.is_date && !start->is_date) {
			/* A DATE limit on DATE-TIME instances (RFC 5545 wants the same type; this
			 * is common): every instance of that day. */
			u->limit = dt_local_seconds(&dt) + 86399;
		} else {
			u->limit = dt_local_seconds(&dt);
		}
	}
	free_strv(parts, n);
	return ok;
}

/* libical 3.0.16 counts INTERVAL from the wrong period in two cases: a WEEKLY rule whose
 * BYDAY holds only days before DTSTART's in a week begun on Sunday (FREQ=WEEKLY;
 * INTERVAL=3;BYDAY=SU from a Wednesday begins two weeks late), and a DAILY rule whose
 * BYxxx parts leave most days out (FREQ=DAILY;INTERVAL=25;BYMONTHDAY=8,27 gives up after
 * DTSTART). Such rules are iterated every day or week instead (INTERVAL=1, which libical
 * gets right), keeping the periods that lie a multiple of INTERVAL after DTSTART's, which
 * is how RFC 5545 3.3.10 defines INTERVAL. The length of that period in days, or 0. */
static int counted_days(const struct icalrecurrencetype *r)
{
	if (r->interval <= 1)
		return 0;
	if (r->freq == ICAL_WEEKLY_RECURRENCE)
		return 7;
	return r->freq == ICAL_DAILY_RECURRENCE && (recur_has_by(r) || recur_has(r->by_set_pos)) ? 1 : 0;
}

/* The number of the day, or of the week begun on WKST (Monday by default), that holds a
 * wall-clock time. */
static int64_t period_of(int64_t local, int days, icalrecurrencetype_weekday wkst)
{
	int64_t day = floor_div(local, 86400);
	if (days == 1)
		return day;
	int64_t into_week = (weekday_of_day(day) - recur_week_start(wkst) + 7) % 7; /* 0: day is WKST */
	return floor_div(day - into_week, 7);
}

/* Whether a wall-clock time's day is one of a BYMONTHDAY list (-1 is the month's last). */
static bool on_month_day(int64_t local, const short *month_days)
{
	struct cal_dt d;
	dt_from_local_seconds(local, false, &d);
	return recur_list_holds(month_days, d.day, days_in_month(d.year, d.month));
}

static int short_cmp(const void *a, const void *b)
{
	return *(const short *)a - *(const short *)b;
}

/* libical 3.0.16 walks a BYxxx list in the order it is written and skips what comes
 * after a value it has passed: BYMINUTE=18,35,53,9 from 21:04 misses 21:09. RFC 5545
 * sets no order, so the lists are sorted before libical sees them. */
static void sort_by_lists(struct icalrecurrencetype *r)
{
	short *lists[] = {r->by_second, r->by_minute,  r->by_hour,  r->by_month_day, r->by_year_day,
	                  r->by_week_no, r->by_month,  r->by_set_pos};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		size_t n = 0;
		while (lists[i][n] != ICAL_RECURRENCE_ARRAY_MAX)
			n++;
		qsort(lists[i], n, sizeof(short), short_cmp);
	}
}

/* What rrule_cands keeps of libical's instances once work_around_libical has changed the
 * rule: the days or weeks INTERVAL counts, and the days of a DAILY rule's BYMONTHDAY. */
struct kept_instances {
	int days;             /* 1 or 7: INTERVAL counts such periods here; 0: libical does */
	int64_t every, start_period;
	short month_days[ICAL_BY_MONTHDAY_SIZE];
};

/* Changes a rule that libical 3.0.16 would expand wrongly into one it expands right, and
 * notes in *keep what to do on top of it. */
static void work_around_libical(struct icalrecurrencetype *rule, int64_t dtstart, struct kept_instances *keep)
{
	sort_by_lists(rule);
	/* libical expands a YEARLY rule's BYMONTHDAY in DTSTART's month only; RFC 5545
	 * 3.3.10's table expands it over the year, which is over every month. */
	if (rule->freq == ICAL_YEARLY_RECURRENCE && recur_has(rule->by_month_day) && !recur_has(rule->by_month) &&
	    !recur_has(rule->by_year_day) && !rule->rscale) { /* with BYWEEKNO, weekno.c expands it */
		for (short m = 1; m <= 12; m++)
			rule->by_month[m - 1] = m;
		rule->by_month[12] = ICAL_RECURRENCE_ARRAY_MAX;
	}
	keep->days = counted_days(rule);
	if (keep->days) {
		keep->start_period = period_of(dtstart, keep->days, rule->week_start);
		rule->interval = 1;
	}
	/* libical never matches a negative BYMONTHDAY (-1, the last day) in a DAILY rule.
	 * There BYMONTHDAY only keeps or drops whole days, so it is applied by kept(). */
	if (rule->freq == ICAL_DAILY_RECURRENCE && recur_has(rule->by_month_day)) {
		memcpy(keep->month_days, rule->by_month_day, sizeof(keep->month_days));
		rule->by_month_day[0] = ICAL_RECURRENCE_ARRAY_MAX;
	}
}

static bool kept(const struct kept_instances *keep, int64_t local, icalrecurrencetype_weekday wkst)
{
	if (keep->days && (period_of(local, keep->days, wkst) - keep->start_period) % keep->every != 0)
		return false;
	return !recur_has(keep->month_days) || on_month_day(local, keep->month_days);
}

/* One rule's instances in order, on the wall clock: from subdaily.c for a rule more
 * frequent than daily on DATE-TIMEs, from weekno.c for a yearly rule by week number,
 * from libical's iterator for the others. */
struct rule_walk {
	icalrecur_iterator *it;
	enum { WALK_LIBICAL, WALK_SUB_DAILY, WALK_WEEK_NUMBERS } kind;
	struct subdaily sub;
	struct weekno weeks;
	bool is_date;
	int64_t from, limit;
};

static bool walk_next(struct ctx *c, struct rule_walk *w, int64_t *local)
{
	if (w->kind != WALK_LIBICAL) {
		size_t budget = c->max_iterations > c->iterations ? c->max_iterations - c->iterations : 0;
		enum walk_result r = w->kind == WALK_SUB_DAILY
		                         ? subdaily_next(&w->sub, w->from, w->limit, budget, &c->iterations, local)
		                         : weekno_next(&w->weeks, w->from, w->limit, budget, &c->iterations, local);
		c->capped |= r == WALK_CAPPED;
		if (r != WALK_FOUND)
			return false;
		w->from = *local + 1;
		return true;
	}
	struct icaltimetype t = icalrecur_iterator_next(w->it);
	if (icaltime_is_null_time(t))
		return false;
	if (++c->iterations > c->max_iterations) {
		c->capped = true;
		return false;
	}
	struct cal_dt d = {t.year, t.month, t.day, t.hour, t.minute, t.second, w->is_date, false};
	*local = dt_local_seconds(&d);
	return true;
}

static bool rrule_cands(struct ctx *c, const char *rrule, const struct when *start, int64_t lo_local,
                        int64_t hi_local, struct cands *out)
{
	icalerror_clear_errno();
	struct icalrecurrencetype rule = icalrecurrencetype_from_string(rrule);
	struct until until;
	/* the reader refuses endless rules; text that did not come through it may hold one */
	if (rule.freq == ICAL_NO_RECURRENCE || recur_endless_filter(&rule) || !rule_until(rrule, start, &until)) {
		icalerror_clear_errno();
		free(rule.rscale);
		buf_printf(c->err, "invalid RRULE '%s'", rrule);
		return false;
	}
	int count = rule.count;
	rule.count = 0;
	rule.until = icaltime_null_time();
	/* Without COUNT, nothing before the window matters (UNTIL is checked below, on our
	 * side), so the iteration starts near it. */
	bool skip_ahead = !count && lo_local > start->local;
	struct rule_walk w = {.is_date = start->is_date, .from = skip_ahead ? lo_local : start->local + 1,
	                      .limit = hi_local};
	bool by_week_numbers = rule.freq == ICAL_YEARLY_RECURRENCE && recur_has(rule.by_week_no) && !rule.rscale;
	w.kind = recur_is_sub_daily(&rule) ? WALK_SUB_DAILY : by_week_numbers ? WALK_WEEK_NUMBERS : WALK_LIBICAL;
	/* libical would search such rules second by second (26 s for one query of a year) */
	if (w.kind == WALK_SUB_DAILY && (start->is_date || !subdaily_init(&w.sub, &rule, start->local))) {
		free(rule.rscale);
		buf_printf(c->err, "RRULE '%s': a rule more frequent than daily needs a DATE-TIME DTSTART and "
		                   "no number on its BYDAY",
		           rrule);
		return false;
	}
	if (w.kind == WALK_WEEK_NUMBERS && !weekno_init(&w.weeks, &rule, start->local, start->is_date)) {
		free(rule.rscale);
		buf_printf(c->err, "RRULE '%s': a BYDAY with a number cannot be used with BYWEEKNO", rrule);
		return false;
	}
	struct kept_instances keep = {.every = rule.interval, .month_days = {ICAL_RECURRENCE_ARRAY_MAX}};
	if (w.kind == WALK_LIBICAL) {
		work_around_libical(&rule, start->local, &keep);
		w.it = icalrecur_iterator_new(rule, ical_from_local(start->local, start->is_date));
		if (!w.it) {
			icalerror_clear_errno();
			free(rule.rscale);
			buf_printf(c->err, "RRULE '%s' cannot be expanded", rrule);
			return false;
		}
		if (skip_ahead)
			icalrecur_iterator_set_start(w.it, ical_from_local(lo_local, start->is_date));
	}
	int generated = 1; /* DTSTART is the first instance (RFC 5545 3.3.10) */
	int64_t local;
	while (walk_next(c, &w, &local)) {
		if (local <= start->local)
			continue;
		if (local > hi_local)
			break;
		if (!kept(&keep, local, rule.week_start))
			continue;
		if (count && ++generated > count)
			break;
		int64_t utc = zone_local_to_utc(start->zone, local);
		if (until.present && (until.on_utc ? utc : local) > until.limit)
			break;
		if (local >= lo_local)
			push_cand(out, local, utc, false, 0);
	}
	if (w.it)
		icalrecur_iterator_free(w.it);
	free(rule.rscale); /* libical hands its copy of RSCALE to the caller; the iterator shared it */
	icalerror_clear_errno();
	return true;
}

static bool rdate_cands(struct ctx *c, const struct cal_prop *p, const struct when *start, struct cands *out)
{
	char **vals;
	size_t n = split_unescaped(p->value, ',', &vals);
	const char *tzid = cal_prop_param(p, "TZID");
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		char *slash = strchr(vals[i], '/');
		struct when w;
		if (slash)
			*slash = '\0';
		ok = resolve_value(c, vals[i], tzid, false, &w);
		if (!ok)
			break;
		int64_t local = zone_utc_to_local(start->zone, w.utc);
		if (w.floating || w.is_date)
			local = w.local;
		if (!slash) {
			push_cand(out, local, w.utc, false, 0);
			continue;
		}
		struct when e;
		struct cal_duration d;
		if (dt_parse(slash + 1, &(struct cal_dt){0}) && resolve_value(c, slash + 1, tzid, false, &e)) {
			push_cand(out, local, w.utc, true, e.utc);
		} else if (duration_parse(slash + 1, &d)) {
			struct span s = {d.days, d.seconds};
			push_cand(out, local, w.utc, true, end_of(&w, w.local, w.utc, &s));
		} else {
			buf_printf(c->err, "invalid RDATE period '%s'", vals[i]);
			ok = false;
		}
	}
	free_strv(vals, n);
	return ok;
}

/* EXDATE values: instants, or whole days when a DATE excludes DATE-TIME instances. */
struct exclusions {
	int64_t *instants;
	size_t n_instants;
	int64_t *days; /* local midnight */
	size_t n_days;
};

static bool add_exdates(struct ctx *c, const struct cal_prop *p, const struct when *start, struct exclusions *x)
{
	char **vals;
	size_t n = split_unescaped(p->value, ',', &vals);
	const char *tzid = cal_prop_param(p, "TZID");
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		struct when w;
		ok = resolve_value(c, vals[i], tzid, false, &w);
		if (!ok)
			break;
		if (w.is_date && !start->is_date) {
			x->days = xrealloc(x->days, (x->n_days + 1) * sizeof(*x->days));
			x->days[x->n_days++] = w.local;
		} else {
			x->instants = xrealloc(x->instants, (x->n_instants + 1) * sizeof(*x->instants));
			x->instants[x->n_instants++] = w.utc;
		}
	}
	free_strv(vals, n);
	return ok;
}

static int int64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sorted once, so that each candidate is a binary search: an object may carry thousands
 * of EXDATEs and a query thousands of candidates. */
static void exclusions_sort(struct exclusions *x)
{
	if (x->n_instants)
		qsort(x->instants, x->n_instants, sizeof(*x->instants), int64_cmp);
	if (x->n_days)
		qsort(x->days, x->n_days, sizeof(*x->days), int64_cmp);
}

static bool excluded(const struct exclusions *x, const struct cand *cd)
{
	if (x->n_instants && bsearch(&cd->utc, x->instants, x->n_instants, sizeof(*x->instants), int64_cmp))
		return true;
	int64_t day = cd->local - ((cd->local % 86400) + 86400) % 86400;
	return x->n_days && bsearch(&day, x->days, x->n_days, sizeof(*x->days), int64_cmp);
}

/* A RECURRENCE-ID component resolved. */
struct override {
	unsigned index;
	int64_t rid;        /* UTC */
	int64_t rid_local;  /* in the master's frame */
	bool future;        /* RANGE=THISANDFUTURE */
	struct when start;
	struct span span;
	int64_t start_local_in_master; /* for THISANDFUTURE shifts */
};

static int override_cmp(const void *a, const void *b)
{
	const struct override *x = a, *y = b;
	if (x->rid != y->rid)
		return x->rid < y->rid ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int occ_cmp(const void *a, const void *b)
{
	const struct occ *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->rid != y->rid)
		return x->rid < y->rid ? -1 : 1;
	return (x->comp > y->comp) - (x->comp < y->comp);
}

static bool overlaps(int64_t start, int64_t end, int64_t from, int64_t to)
{
	if (start == end)
		return start >= from && start < to;
	return start < to && end > from;
}

bool is_object_kind(const char *name)
{
	return !strcmp(name, "VEVENT") || !strcmp(name, "VTODO") || !strcmp(name, "VJOURNAL");
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

static int64_t span_bound(const struct span *s)
{
	return abs64(s->days) * 86400 + abs64(s->secs) + 7200;
}

/* The start of a component: DTSTART, or DUE for a VTODO without DTSTART. */
static const struct cal_prop *start_prop(const struct cal_comp *comp, bool *from_due)
{
	const struct cal_prop *p = cal_comp_prop(comp, "DTSTART");
	*from_due = false;
	if (!p && strcmp(comp->name, "VTODO") == 0) {
		p = cal_comp_prop(comp, "DUE");
		*from_due = p != NULL;
	}
	return p;
}

static bool expand(struct ctx *c, const struct cal_comp *const *comps, size_t n_comps, int64_t from, int64_t to,
                   struct expansion *out)
{
	const struct cal_comp *master = NULL;
	unsigned master_index = 0;
	struct override *ovr = xcalloc(n_comps ? n_comps : 1, sizeof(*ovr));
	size_t n_ovr = 0;
	struct cands cands = {0};
	struct exclusions x = {0};
	bool ok = true;
	int64_t margin = 2 * 86400;

	memset(out, 0, sizeof(*out));
	out->comps = xcalloc(n_comps ? n_comps : 1, sizeof(*out->comps));
	out->n_comps = n_comps;
	for (size_t i = 0; i < n_comps; i++) {
		out->comps[i] = comps[i];
		if (!cal_comp_prop(comps[i], "RECURRENCE-ID") && !master) {
			master = comps[i];
			master_index = (unsigned)i;
		}
	}

	struct when mstart = {0};
	struct span mspan = {0, 0};
	bool have_master_start = false;
	if (master) {
		bool from_due;
		const struct cal_prop *sp = start_prop(master, &from_due);
		if (sp) {
			ok = resolve_prop(c, sp, &mstart);
			have_master_start = ok;
			if (ok && !from_due)
				ok = comp_span(c, master, &mstart, &mspan);
			out->all_day_master = ok && mstart.is_date;
		}
		out->recurring = cal_comp_prop(master, "RRULE") || cal_comp_prop(master, "RDATE");
	}

	/* Overrides first: their shifts widen the window in which master instances matter. */
	for (size_t i = 0; i < n_comps && ok; i++) {
		const struct cal_prop *rid = cal_comp_prop(comps[i], "RECURRENCE-ID");
		if (!rid)
			continue;
		out->recurring = true;
		struct override *o = &ovr[n_ovr];
		struct when rw;
		if (!(ok = resolve_prop(c, rid, &rw)))
			break;
		o->index = (unsigned)i;
		o->rid = rw.utc;
		o->future = cal_prop_param(rid, "RANGE") && strcasecmp(cal_prop_param(rid, "RANGE"), "THISANDFUTURE") == 0;
		bool from_due;
		const struct cal_prop *sp = start_prop(comps[i], &from_due);
		if (sp) {
			if (!(ok = resolve_prop(c, sp, &o->start)))
				break;
			if (!from_due && !(ok = comp_span(c, comps[i], &o->start, &o->span)))
				break;
		} else {
			o->start = rw;
			o->span = mspan;
		}
		if (have_master_start) {
			bool local_frame = mstart.is_date || mstart.floating;
			o->rid_local = local_frame ? rw.local : zone_utc_to_local(mstart.zone, rw.utc);
			o->start_local_in_master = local_frame ? o->start.local : zone_utc_to_local(mstart.zone, o->start.utc);
		}
		int64_t shift = abs64(o->start_local_in_master - o->rid_local);
		if (o->future && shift + span_bound(&o->span) > margin)
			margin = shift + span_bound(&o->span);
		n_ovr++;
	}

	if (ok && have_master_start) {
		int64_t lo = from - span_bound(&mspan) - margin - 86400;
		int64_t hi = to + margin + 86400;
		push_cand(&cands, mstart.local, mstart.utc, false, 0);
		for (size_t i = 0; i < master->n_props && ok; i++) {
			const struct cal_prop *p = &master->props[i];
			if (!strcmp(p->name, "RRULE"))
				ok = rrule_cands(c, p->value, &mstart, lo, hi, &cands);
			else if (!strcmp(p->name, "RDATE"))
				ok = rdate_cands(c, p, &mstart, &cands);
			else if (!strcmp(p->name, "EXDATE"))
				ok = add_exdates(c, p, &mstart, &x);
		}
	}
	if (ok) {
		if (cands.n) /* qsort wants a valid pointer even for nothing */
			qsort(cands.v, cands.n, sizeof(*cands.v), cand_cmp);
		exclusions_sort(&x);
		/* in the order of the candidates, so that one pass finds each one's overrides */
		if (n_ovr)
			qsort(ovr, n_ovr, sizeof(*ovr), override_cmp);
		const struct override *future = NULL;
		size_t passed = 0; /* ovr[0..passed) have a RECURRENCE-ID before this candidate */
		for (size_t i = 0; i < cands.n; i++) {
			const struct cand *cd = &cands.v[i];
			for (; passed < n_ovr && ovr[passed].rid < cd->utc; passed++)
				if (ovr[passed].future)
					future = &ovr[passed];
			if ((i && cd->utc == cands.v[i - 1].utc) || excluded(&x, cd))
				continue;
			if (passed < n_ovr && ovr[passed].rid == cd->utc)
				continue; /* the override stands for this instance */
			struct occ o = {.rid = cd->utc, .comp = master_index};
			if (future) {
				int64_t local = cd->local + (future->start_local_in_master - future->rid_local);
				o.start = zone_local_to_utc(mstart.zone, local);
				o.end = end_of(&mstart, local, o.start, &future->span);
				o.comp = future->index;
				o.overridden = true;
			} else {
				o.start = cd->utc;
				o.end = cd->has_end ? cd->end_utc : end_of(&mstart, cd->local, cd->utc, &mspan);
			}
			if (overlaps(o.start, o.end, from, to))
				push_occ(out, &o);
		}
		for (size_t k = 0; k < n_ovr; k++) {
			struct occ o = {.rid = ovr[k].rid, .comp = ovr[k].index, .overridden = true};
			o.start = ovr[k].start.utc;
			o.end = end_of(&ovr[k].start, ovr[k].start.local, o.start, &ovr[k].span);
			if (overlaps(o.start, o.end, from, to))
				push_occ(out, &o);
		}
		if (out->n_occs)
			qsort(out->occs, out->n_occs, sizeof(*out->occs), occ_cmp);
	}
	free(cands.v);
	free(x.instants);
	free(x.days);
	free(ovr);
	if (!ok)
		expansion_free(out);
	return ok;
}

bool expand_components(const struct cal_comp *const *comps, size_t n_comps, struct cal_zones *zones,
                       icaltimezone *floating, int64_t from, int64_t to, struct expansion *out, struct buf *err)
{
	struct ctx c = {zones, floating, err, 0, 2000000, false};
	if (!expand(&c, comps, n_comps, from, to, out))
		return false;
	if (c.capped) {
		expansion_free(out);
		buf_puts(err, "the recurrence rules need too many steps to expand over this window");
		return false;
	}
	return true;
}

void expansion_free(struct expansion *e)
{
	free(e->occs);
	free(e->comps);
	memset(e, 0, sizeof(*e));
}

static bool rrule_has(const struct cal_prop *p, const char *part)
{
	return strcasestr(p->value, part) != NULL;
}

static bool rule_unbounded(const struct cal_comp *master)
{
	for (size_t i = 0; i < master->n_props; i++) {
		const struct cal_prop *p = &master->props[i];
		if (name_eq(p->name, "RRULE") && !rrule_has(p, "COUNT=") && !rrule_has(p, "UNTIL="))
			return true;
	}
	return false;
}

bool expands_near_window(const struct cal_comp *const *comps, size_t n_comps)
{
	bool recurs = false;
	for (size_t i = 0; i < n_comps; i++)
		for (size_t k = 0; k < comps[i]->n_props; k++) {
			const struct cal_prop *p = &comps[i]->props[k];
			if (!name_eq(p->name, "RRULE"))
				continue;
			if (rrule_has(p, "COUNT="))
				return false; /* rrule_cands counts it from DTSTART */
			recurs = true;
		}
	return recurs;
}

static bool any_floating(struct ctx *c, const struct cal_comp *const *comps, size_t n)
{
	static const char *const names[] = {"DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "RDATE"};
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < comps[i]->n_props; k++) {
			const struct cal_prop *p = &comps[i]->props[k];
			for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
				if (!name_eq(p->name, names[j]))
					continue;
				const char *tzid = cal_prop_param(p, "TZID");
				if ((!tzid || !cal_zones_lookup(c->zones, tzid)) && !strpbrk(p->value, "Zz"))
					return true;
			}
		}
	}
	return false;
}

bool object_range(const struct cal_comp *const *comps, size_t n_comps, struct cal_zones *zones, int64_t *start,
                  int64_t *end, struct buf *err)
{
	/* A bounded rule is expanded in full (the cap keeps hostile rules cheap); an
	 * unbounded one is expanded only up to shortly after its DTSTART, to find the
	 * earliest start, and ends at CAL_TIME_MAX. */
	struct ctx c = {zones, NULL, err, 0, 100000, false};
	int64_t to = CAL_TIME_MAX;
	bool unbounded = false;
	for (size_t i = 0; i < n_comps; i++) {
		struct cal_dt dt;
		const struct cal_prop *sp = cal_comp_prop(comps[i], "DTSTART");
		if (cal_comp_prop(comps[i], "RECURRENCE-ID") || !rule_unbounded(comps[i]) || !sp || !dt_parse(sp->value, &dt))
			continue;
		unbounded = true;
		to = dt_local_seconds(&dt) + 3 * 86400;
		break;
	}
	struct expansion e;
	if (!expand(&c, comps, n_comps, CAL_TIME_MIN, to, &e))
		return false;
	*start = CAL_TIME_MIN;
	*end = CAL_TIME_MAX;
	if (e.n_occs) {
		*start = e.occs[0].start;
		int64_t last = e.occs[0].end;
		for (size_t i = 0; i < e.n_occs; i++) {
			if (e.occs[i].start < *start)
				*start = e.occs[i].start;
			if (e.occs[i].end > last)
				last = e.occs[i].end;
		}
		if (!unbounded && !c.capped)
			*end = last;
		if (any_floating(&c, comps, n_comps)) {
			const int64_t widest = 14 * 3600;
			*start = *start - widest < CAL_TIME_MIN ? CAL_TIME_MIN : *start - widest;
			*end = *end > CAL_TIME_MAX - widest ? CAL_TIME_MAX : *end + widest;
		}
		/* a long DURATION can end an occurrence after 9999: the range stays storable */
		*start = *start < CAL_TIME_MIN ? CAL_TIME_MIN : *start > CAL_TIME_MAX ? CAL_TIME_MAX : *start;
		*end = *end > CAL_TIME_MAX ? CAL_TIME_MAX : *end < CAL_TIME_MIN ? CAL_TIME_MIN : *end;
	}
	expansion_free(&e);
	return true;
}

size_t calendar_objects(const struct cal_comp *vcal, const struct cal_comp ***out)
{
	size_t n = 0;
	const struct cal_comp **v = xcalloc(vcal->n_subs ? vcal->n_subs : 1, sizeof(*v));
	for (size_t i = 0; i < vcal->n_subs; i++)
		if (is_object_kind(vcal->subs[i]->name))
			v[n++] = vcal->subs[i];
	*out = v;
	return n;
}
