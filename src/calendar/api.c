/* api.c: the public operations on canonical texts: expansion (occurrences, CalDAV's
 * <expand/>, the time-range predicate), free/busy, export, and small time helpers. */
#include "src/calendar/codec.h"

#include <stdlib.h>
#include <string.h>

void cal_time_format(cal_time_t t, char out[17])
{
	struct cal_dt d;
	dt_from_local_seconds(t, false, &d);
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%04d%02d%02dT%02d%02d%02dZ", d.year, d.month, d.day, d.hour, d.minute, d.second);
	memcpy(out, tmp, 16);
	out[16] = '\0';
}

bool cal_time_parse(const char *s, cal_time_t *out)
{
	struct cal_dt d;
	if (!dt_parse(s, &d) || (!d.is_date && !d.is_utc))
		return false;
	*out = dt_local_seconds(&d);
	return true;
}

void cal_library_cleanup(void)
{
	icaltimezone_free_builtin_timezones();
	icalmemory_free_ring();
}

void cal_payload_free(struct cal_payload *p)
{
	free(p->uid);
	free(p->kind);
	free(p->ics);
	memset(p, 0, sizeof(*p));
}

struct cal_comp *load_object(const char *ics, struct cal_zones **zones, struct buf *err)
{
	struct cal_comp *vcal = cal_parse_text(ics, strlen(ics), err);
	if (!vcal)
		return NULL;
	*zones = cal_zones_new();
	for (size_t i = 0; i < vcal->n_subs; i++)
		if (!strcmp(vcal->subs[i]->name, "VTIMEZONE"))
			cal_zones_add_vtimezone(*zones, vcal->subs[i]);
	return vcal;
}

icaltimezone *floating_zone(const struct cal_expand_opts *opts, struct buf *err)
{
	if (!opts || !opts->floating_tzid)
		return NULL;
	icaltimezone *z = cal_builtin_zone(opts->floating_tzid);
	if (!z)
		buf_printf(err, "unknown time zone '%s'", opts->floating_tzid);
	return z;
}

/* An object loaded and expanded, for the operations below. */
struct loaded {
	struct cal_comp *vcal;
	struct cal_zones *zones;
	const struct cal_comp **comps;
	size_t n_comps;
	icaltimezone *floating;
	struct expansion e;
};

static bool load(const char *ics, const struct cal_expand_opts *opts, struct loaded *l, struct buf *err)
{
	memset(l, 0, sizeof(*l));
	if (opts && opts->floating_tzid && !(l->floating = floating_zone(opts, err)))
		return false;
	l->vcal = load_object(ics, &l->zones, err);
	if (!l->vcal)
		return false;
	l->n_comps = calendar_objects(l->vcal, &l->comps);
	return true;
}

static void loaded_free(struct loaded *l)
{
	expansion_free(&l->e);
	free(l->comps);
	cal_comp_free(l->vcal);
	cal_zones_free(l->zones);
}

static bool load_and_expand(const char *ics, cal_time_t from, cal_time_t to, const struct cal_expand_opts *opts,
                            struct loaded *l, struct buf *err)
{
	if (!load(ics, opts, l, err))
		return false;
	if (expand_components(l->comps, l->n_comps, l->zones, l->floating, from, to, &l->e, err))
		return true;
	loaded_free(l);
	return false;
}

static bool prop_is(const struct cal_comp *c, const char *name, const char *value)
{
	const struct cal_prop *p = cal_comp_prop(c, name);
	return p && strcasecmp(p->value, value) == 0;
}

static bool starts_with_date(const struct cal_comp *c)
{
	const struct cal_prop *p = cal_comp_prop(c, "DTSTART");
	if (!p)
		p = cal_comp_prop(c, "DUE");
	struct cal_dt d;
	return p && dt_parse(p->value, &d) && d.is_date;
}

static void describe(const struct loaded *l, const struct occ *o, struct cal_occurrence *out)
{
	const struct cal_comp *c = l->e.comps[o->comp];
	memset(out, 0, sizeof(*out));
	out->start = o->start;
	out->end = o->end;
	out->recurrence_id = o->rid;
	out->recurring = l->e.recurring;
	out->all_day = starts_with_date(c);
	out->kind = c->name;
	out->component = o->comp;
	out->overridden = o->overridden;
	out->cancelled = prop_is(c, "STATUS", "CANCELLED");
	out->transparent = prop_is(c, "TRANSP", "TRANSPARENT");
	out->tentative = prop_is(c, "STATUS", "TENTATIVE");
}

long cal_expand(const char *ics, cal_time_t from, cal_time_t to, const struct cal_expand_opts *opts,
                cal_occurrence_fn fn, void *arg, struct buf *err)
{
	struct loaded l;
	if (!load_and_expand(ics, from, to, opts, &l, err))
		return -1;
	long n = (long)l.e.n_occs;
	for (size_t i = 0; i < l.e.n_occs && fn; i++) {
		struct cal_occurrence occ;
		describe(&l, &l.e.occs[i], &occ);
		if (fn(&occ, arg) != 0) {
			buf_puts(err, "stopped by the caller");
			n = -1;
			break;
		}
	}
	loaded_free(&l);
	return n;
}

int cal_occurs_in_window(const char *ics, cal_time_t from, cal_time_t to, const struct cal_expand_opts *opts,
                         struct buf *err)
{
	struct loaded l;
	if (!load(ics, opts, &l, err))
		return -1;
	/* A recurring object is searched in windows from `from` that double after each
	 * miss: a rule recurring every minute, asked about a year, answers after its first
	 * day instead of after 525,600 instances. */
	int64_t width = expands_near_window(l.comps, l.n_comps) ? 86400 : to - from;
	int found = 0;
	for (int64_t lo = from, hi; !found && lo < to; lo = hi, width *= 2) {
		hi = to - lo > width ? lo + width : to;
		expansion_free(&l.e);
		if (!expand_components(l.comps, l.n_comps, l.zones, l.floating, lo, hi, &l.e, err)) {
			loaded_free(&l);
			return -1;
		}
		found = l.e.n_occs > 0;
	}
	/* RFC 4791 9.9: a VTODO with neither DTSTART nor DUE matches every range. */
	for (size_t i = 0; i < l.n_comps && !found; i++)
		found = !strcmp(l.comps[i]->name, "VTODO") && !cal_comp_prop(l.comps[i], "DTSTART") &&
		        !cal_comp_prop(l.comps[i], "DUE");
	loaded_free(&l);
	return found;
}

static void put_time_prop(struct cal_comp *c, const char *name, int64_t utc, bool as_date, icaltimezone *floating)
{
	char value[64];
	if (as_date) {
		struct cal_dt d;
		dt_from_local_seconds(zone_utc_to_local(floating, utc), true, &d);
		snprintf(value, sizeof(value), "%04d%02d%02d", d.year, d.month, d.day);
		cal_prop_add_param(cal_comp_add_prop(c, name, value), "VALUE", "DATE");
	} else {
		cal_time_format(utc, value);
		cal_comp_add_prop(c, name, value);
	}
}

char *cal_expand_ics(const char *ics, cal_time_t from, cal_time_t to, const struct cal_expand_opts *opts,
                     struct buf *err)
{
	struct loaded l;
	if (!load_and_expand(ics, from, to, opts, &l, err))
		return NULL;
	static const char *const dropped[] = {"RRULE", "RDATE", "EXDATE", "DTSTART", "DTEND", "DUE", "DURATION",
	                                      "RECURRENCE-ID"};
	struct buf out = BUF_INIT;
	cal_write_calendar_start(&out);
	for (size_t i = 0; i < l.e.n_occs; i++) {
		const struct occ *o = &l.e.occs[i];
		const struct cal_comp *src = l.e.comps[o->comp];
		bool all_day = starts_with_date(src);
		bool todo = !strcmp(src->name, "VTODO");
		bool had_start = cal_comp_prop(src, "DTSTART") != NULL;
		bool had_end = cal_comp_prop(src, "DTEND") || cal_comp_prop(src, "DUE") || cal_comp_prop(src, "DURATION");
		struct cal_comp *inst = cal_comp_clone(src);
		for (size_t k = 0; k < sizeof(dropped) / sizeof(dropped[0]); k++)
			cal_comp_remove_props(inst, dropped[k]);
		if (l.e.recurring)
			put_time_prop(inst, "RECURRENCE-ID", o->rid, l.e.all_day_master, l.floating);
		if (had_start)
			put_time_prop(inst, "DTSTART", o->start, all_day, l.floating);
		if (had_end || (!had_start && todo))
			put_time_prop(inst, todo ? "DUE" : "DTEND", o->end, all_day, l.floating);
		cal_write_comp(&out, inst);
		cal_comp_free(inst);
		if (out.len > CAL_EXPAND_MAX_BYTES) {
			buf_printf(err, "its %zu instances take more than %d bytes: ask for a shorter range", l.e.n_occs,
			           CAL_EXPAND_MAX_BYTES);
			buf_free(&out);
			loaded_free(&l);
			return NULL;
		}
	}
	cal_write_calendar_end(&out);
	loaded_free(&l);
	return buf_steal(&out);
}

struct period {
	int64_t start, end;
	bool tentative;
};

static int period_cmp(const void *a, const void *b)
{
	const struct period *x = a, *y = b;
	if (x->tentative != y->tentative)
		return x->tentative ? 1 : -1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

static int period_output_cmp(const void *a, const void *b)
{
	const struct period *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->tentative != y->tentative)
		return x->tentative ? 1 : -1;
	return (x->end > y->end) - (x->end < y->end);
}

char *cal_freebusy(const char *const *objects, size_t n_objects, cal_time_t from, cal_time_t to, cal_time_t stamp,
                   const struct cal_expand_opts *opts, struct buf *err)
{
	struct period *p = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < n_objects; i++) {
		struct loaded l;
		if (!load_and_expand(objects[i], from, to, opts, &l, err)) {
			free(p);
			return NULL;
		}
		for (size_t k = 0; k < l.e.n_occs; k++) {
			struct cal_occurrence occ;
			describe(&l, &l.e.occs[k], &occ);
			if (strcmp(occ.kind, "VEVENT") != 0 || occ.cancelled || occ.transparent)
				continue;
			int64_t s = occ.start < from ? from : occ.start, e = occ.end > to ? to : occ.end;
			if (e <= s)
				continue; /* instants take no time */
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				p = xrealloc(p, cap * sizeof(*p));
			}
			p[n++] = (struct period){s, e, occ.tentative};
		}
		loaded_free(&l);
	}
	/* Coalesce overlapping or touching periods of the same type. */
	if (n)
		qsort(p, n, sizeof(*p), period_cmp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && p[m - 1].tentative == p[i].tentative && p[i].start <= p[m - 1].end) {
			if (p[i].end > p[m - 1].end)
				p[m - 1].end = p[i].end;
			continue;
		}
		p[m++] = p[i];
	}
	if (m)
		qsort(p, m, sizeof(*p), period_output_cmp);
	struct buf out = BUF_INIT;
	char a[17], b[17];
	cal_write_calendar_start(&out);
	buf_puts(&out, "BEGIN:VFREEBUSY\r\n");
	cal_time_format(stamp, a);
	buf_printf(&out, "DTSTAMP:%s\r\n", a);
	cal_time_format(from, a);
	cal_time_format(to, b);
	buf_printf(&out, "DTSTART:%s\r\nDTEND:%s\r\n", a, b);
	for (size_t i = 0; i < m; i++) {
		cal_time_format(p[i].start, a);
		cal_time_format(p[i].end, b);
		buf_printf(&out, "FREEBUSY;FBTYPE=%s:%s/%s\r\n", p[i].tentative ? "BUSY-TENTATIVE" : "BUSY", a, b);
	}
	buf_puts(&out, "END:VFREEBUSY\r\n");
	cal_write_calendar_end(&out);
	free(p);
	return buf_steal(&out);
}

static int tz_comp_cmp(const void *a, const void *b)
{
	const struct cal_comp *x = *(const struct cal_comp *const *)a, *y = *(const struct cal_comp *const *)b;
	return strcmp(cal_comp_prop(x, "TZID")->value, cal_comp_prop(y, "TZID")->value);
}

bool cal_export(struct buf *out, const char *const *objects, size_t n_objects, struct buf *err)
{
	struct cal_comp **vcals = xcalloc(n_objects ? n_objects : 1, sizeof(*vcals));
	const struct cal_comp **tzs = NULL;
	size_t n_tzs = 0;
	bool ok = true;
	for (size_t i = 0; i < n_objects && ok; i++) {
		struct buf perr = BUF_INIT;
		vcals[i] = cal_parse_text(objects[i], strlen(objects[i]), &perr);
		if (!vcals[i]) {
			buf_printf(err, "object %zu: %s", i + 1, perr.data);
			ok = false;
		}
		buf_free(&perr);
		for (size_t k = 0; ok && k < vcals[i]->n_subs; k++) {
			const struct cal_comp *s = vcals[i]->subs[k];
			const struct cal_prop *tzid = cal_comp_prop(s, "TZID");
			if (strcmp(s->name, "VTIMEZONE") != 0 || !tzid)
				continue;
			bool seen = false;
			for (size_t j = 0; j < n_tzs && !seen; j++)
				seen = strcmp(cal_comp_prop(tzs[j], "TZID")->value, tzid->value) == 0;
			if (!seen) {
				tzs = xrealloc(tzs, (n_tzs + 1) * sizeof(*tzs));
				tzs[n_tzs++] = s;
			}
		}
	}
	if (ok) {
		if (n_tzs)
			qsort(tzs, n_tzs, sizeof(*tzs), tz_comp_cmp);
		cal_write_calendar_start(out);
		for (size_t j = 0; j < n_tzs; j++)
			cal_write_comp(out, tzs[j]);
		for (size_t i = 0; i < n_objects; i++)
			for (size_t k = 0; k < vcals[i]->n_subs; k++)
				if (is_object_kind(vcals[i]->subs[k]->name))
					cal_write_comp(out, vcals[i]->subs[k]);
		cal_write_calendar_end(out);
	}
	for (size_t i = 0; i < n_objects; i++)
		cal_comp_free(vcals[i]);
	free(vcals);
	free(tzs);
	return ok;
}

static bool summary_of(const struct cal_comp *cal, unsigned component, bool with_start, struct buf *out)
{
	const struct cal_comp *master = NULL;
	unsigned seen = 0;
	for (size_t i = 0; i < cal->n_subs && !master; i++)
		if (strcmp(cal->subs[i]->name, "VTIMEZONE") != 0 && seen++ == component)
			master = cal->subs[i];
	if (!master)
		return false;
	const struct cal_prop *summary = cal_comp_prop(master, "SUMMARY");
	const struct cal_prop *start = cal_comp_prop(master, "DTSTART");
	if (!start)
		start = cal_comp_prop(master, "DUE");
	if (summary)
		text_unescape(out, summary->value, strlen(summary->value));
	else
		buf_puts(out, master->name[1] == 'T' ? "(untitled task)" : "(untitled event)");
	if (start && with_start) {
		const char *tzid = cal_prop_param(start, "TZID");
		buf_printf(out, " (%s%s%s)", start->value, tzid ? " " : "", tzid ? tzid : "");
	}
	return true;
}

bool cal_summary(const char *ics, unsigned component, bool with_start, struct buf *out)
{
	struct buf err = BUF_INIT;
	struct cal_comp *cal = cal_parse_text(ics, strlen(ics), &err);
	buf_free(&err);
	if (!cal)
		return false;
	bool ok = summary_of(cal, component, with_start, out);
	cal_comp_free(cal);
	return ok;
}

bool cal_to_item(const char *ics, bool jcal, struct buf *payload, struct buf *body, struct buf *err)
{
	size_t len = strlen(ics);
	struct cal_comp *vcal = cal_parse_text(ics, len, err);
	if (!vcal)
		return false;
	/* xCal is about twice the text: one allocation instead of a dozen */
	buf_reserve(payload, 2 * len + 256);
	if (jcal) {
		struct buf json = BUF_INIT;
		if (!jcal_write(vcal, &json, err)) {
			buf_free(&json);
			cal_comp_free(vcal);
			return false;
		}
		buf_puts(payload, "<json xmlns='" CAL_NS_JSON_CONTAINER "'>");
		buf_xml_escape_n(payload, json.data, json.len);
		buf_puts(payload, "</json>");
		buf_free(&json);
	} else {
		xcal_write(vcal, payload);
	}
	if (body && !summary_of(vcal, 0, true, body))
		buf_append(body, "", 0);
	cal_comp_free(vcal);
	return true;
}

size_t cal_item_size_bound(size_t ics_len)
{
	return 24 * ics_len + 2048;
}

bool cal_to_item_payload(const char *ics, bool jcal, struct buf *out, struct buf *err)
{
	return cal_to_item(ics, jcal, out, NULL, err);
}
