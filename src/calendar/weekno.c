/* weekno.c: the instances of a FREQ=YEARLY rule with BYWEEKNO, on wall-clock seconds.
 * Our own because libical 3.0.16 numbers the weeks wrongly: it misses or misplaces week
 * -1 and week 53 and ignores WKST (BYWEEKNO=-1;BYDAY=MO;WKST=SU gave 2025-12-22 for
 * 2025-12-29), and even gives days outside BYDAY (BYWEEKNO=1;BYDAY=MO from 2026-01-01
 * gave Tuesday 2026-12-29). RFC 5545 3.3.10: week 1 is the first week, begun on WKST,
 * with at least four days of the year; a year has 52 or 53 weeks, -1 is its last. Week
 * n of a year belongs to that year even where its days lie in the year before or after.
 * BYDAY picks the days of each week, DTSTART's weekday without it (what the rule does
 * not say is taken from DTSTART); BYMONTH, BYMONTHDAY and BYYEARDAY keep the days whose
 * own date they name; BYHOUR, BYMINUTE and BYSECOND make the times of each day,
 * DTSTART's without them; BYSETPOS picks from each year's set. */
#include <limits.h>

#include "src/calendar/internal.h"

/* The values of a BYxxx list within [0, max], ascending and without repeats, or the one
 * value if_empty when the rule has no such list. */
static size_t sorted_values(const short *list, int max, int if_empty, uint8_t *out)
{
	if (!recur_has(list)) {
		out[0] = (uint8_t)if_empty;
		return 1;
	}
	size_t n = 0;
	for (int v = 0; v <= max; v++)
		for (size_t i = 0; list[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			if (list[i] == v) {
				out[n++] = (uint8_t)v;
				break;
			}
	return n;
}

static void copy_list(const short *from, short *to, size_t size)
{
	size_t i = 0;
	for (; i + 1 < size && from[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		to[i] = from[i];
	to[i] = ICAL_RECURRENCE_ARRAY_MAX;
}

bool weekno_init(struct weekno *w, const struct icalrecurrencetype *r, int64_t dtstart, bool is_date)
{
	memset(w, 0, sizeof(*w));
	if (r->freq != ICAL_YEARLY_RECURRENCE || !recur_has(r->by_week_no))
		return false;
	struct cal_dt start;
	dt_from_local_seconds(dtstart, false, &start);
	w->first_year = start.year;
	w->interval = r->interval > 0 ? r->interval : 1;
	copy_list(r->by_week_no, w->weeks, ICAL_BY_WEEKNO_SIZE);
	if (!recur_weekday_bits(r->by_day, &w->weekdays))
		return false;
	if (!w->weekdays)
		w->weekdays = (uint8_t)(1u << weekday_of_day(floor_div(dtstart, 86400)));
	w->week_start = recur_week_start(r->week_start);
	w->months = recur_has(r->by_month) ? 0 : 0x1ffe;
	for (int i = 0; r->by_month[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (r->by_month[i] >= 1 && r->by_month[i] <= 12)
			w->months |= (uint16_t)(1u << r->by_month[i]);
	copy_list(r->by_month_day, w->month_days, ICAL_BY_MONTHDAY_SIZE);
	copy_list(r->by_year_day, w->year_days, ICAL_BY_YEARDAY_SIZE);
	if (is_date) {
		w->n_hours = w->n_minutes = w->n_seconds = 1; /* midnight: a DATE has no time */
	} else {
		w->n_hours = sorted_values(r->by_hour, 23, start.hour, w->hours);
		w->n_minutes = sorted_values(r->by_minute, 59, start.minute, w->minutes);
		w->n_seconds = sorted_values(r->by_second, 59, start.second, w->seconds);
	}
	w->times_per_day = w->n_hours * w->n_minutes * w->n_seconds;
	w->cached_year = INT_MIN;
	for (int i = 0; r->by_set_pos[i] != ICAL_RECURRENCE_ARRAY_MAX && w->n_set_pos < WEEKNO_MAX_SET_POS; i++)
		w->set_pos[w->n_set_pos++] = r->by_set_pos[i];
	return true;
}

/* The local day number of the first day of week 1 of a year: the WKST day on or before
 * January 4th, since that week has at least four days of the year and the one before
 * it at most three. */
static int64_t first_week_day(const struct weekno *w, int year)
{
	int64_t jan4 = floor_div(dt_local_seconds(&(struct cal_dt){.year = year, .month = 1, .day = 4}), 86400);
	return jan4 - (weekday_of_day(jan4) - w->week_start + 7) % 7;
}

static bool day_passes(const struct weekno *w, int64_t day)
{
	struct cal_dt d;
	dt_from_local_seconds(day * 86400, true, &d);
	if (!(w->months & (1u << d.month)))
		return false;
	if (recur_has(w->month_days) && !recur_list_holds(w->month_days, d.day, days_in_month(d.year, d.month)))
		return false;
	if (recur_has(w->year_days)) {
		int64_t jan1 = floor_div(dt_local_seconds(&(struct cal_dt){.year = d.year, .month = 1, .day = 1}), 86400);
		int year_length = days_in_month(d.year, 2) == 29 ? 366 : 365;
		if (!recur_list_holds(w->year_days, (int)(day - jan1 + 1), year_length))
			return false;
	}
	return true;
}

/* The year's days in its listed weeks that pass the rule's day parts, ascending. */
static size_t year_days(const struct weekno *w, int year, int64_t *days)
{
	int64_t first = first_week_day(w, year);
	int weeks = (int)((first_week_day(w, year + 1) - first) / 7);
	bool week_listed[54] = {false};
	for (size_t i = 0; w->weeks[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		int n = w->weeks[i] > 0 ? w->weeks[i] : weeks + 1 + w->weeks[i];
		if (n >= 1 && n <= weeks)
			week_listed[n] = true;
	}
	size_t count = 0;
	for (int n = 1; n <= weeks; n++) {
		if (!week_listed[n])
			continue;
		for (int offset = 0; offset < 7; offset++) {
			int64_t day = first + 7 * (n - 1) + offset;
			if ((w->weekdays & (1u << weekday_of_day(day))) && day_passes(w, day))
				days[count++] = day;
		}
	}
	return count;
}

/* The wall-clock time of member i of a year's set: days in order, each with its times. */
static int64_t member(const struct weekno *w, const int64_t *days, size_t i)
{
	size_t t = i % w->times_per_day;
	return days[i / w->times_per_day] * 86400 + w->hours[t / (w->n_minutes * w->n_seconds)] * 3600 +
	       w->minutes[t / w->n_seconds % w->n_minutes] * 60 + w->seconds[t % w->n_seconds];
}

/* The first member of a year's set at or after from, after BYSETPOS. */
static bool first_in_year(const struct weekno *w, const int64_t *days, size_t n_days, int64_t from, int64_t *at)
{
	size_t n = n_days * w->times_per_day;
	if (w->n_set_pos) {
		bool found = false;
		for (size_t i = 0; i < w->n_set_pos; i++) {
			long index = recur_set_pos_index(w->set_pos[i], n);
			if (index < 0)
				continue;
			int64_t t = member(w, days, (size_t)index);
			if (t >= from && (!found || t < *at)) {
				*at = t;
				found = true;
			}
		}
		return found;
	}
	for (size_t d = 0; d < n_days; d++) {
		if (days[d] * 86400 + 86399 < from)
			continue;
		for (size_t i = d * w->times_per_day; i < (d + 1) * w->times_per_day; i++) {
			int64_t t = member(w, days, i);
			if (t >= from) {
				*at = t;
				return true;
			}
		}
	}
	return false;
}

enum walk_result weekno_next(struct weekno *w, int64_t from, int64_t limit, size_t budget, size_t *steps,
                             int64_t *at)
{
	struct cal_dt d;
	dt_from_local_seconds(from, false, &d);
	/* A year's weeks can reach into the year after it: start at the first counted year
	 * from the year before from's. That can be the year before DTSTART's: 2025's last
	 * week ends on 2026-01-03, after a DTSTART of 2026-01-01 (the caller drops what
	 * precedes DTSTART). */
	int year = w->first_year + (int)floor_div(d.year - 1 - w->first_year + w->interval - 1, w->interval) * w->interval;
	struct cal_dt last;
	dt_from_local_seconds(limit, false, &last);
	for (size_t used = 0; year <= last.year + 1; year += w->interval, used++) {
		if (used == budget)
			return WALK_CAPPED;
		++*steps;
		/* the walk asks once per instance, mostly within one year: its days are kept */
		if (year != w->cached_year) {
			w->n_cached_days = year_days(w, year, w->cached_days);
			w->cached_year = year;
		}
		if (w->n_cached_days && first_in_year(w, w->cached_days, w->n_cached_days, from, at))
			return *at <= limit ? WALK_FOUND : WALK_NONE;
	}
	return WALK_NONE;
}
