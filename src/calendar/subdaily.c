/* subdaily.c: the instances of a rule more frequent than daily (FREQ=SECONDLY, MINUTELY,
 * HOURLY), on wall-clock seconds. Our own because libical 3.0.16 gets these wrong as
 * soon as a BYxxx part limits them: from a DTSTART outside BYHOUR it keeps DTSTART's
 * minute in the next matching hour (MINUTELY;BYHOUR=15 from 12:27 begins at 15:27, not
 * 15:00), it restarts INTERVAL at every hour or day, and its set_start moves INTERVAL's
 * phase. The rule follows RFC 5545 3.3.10's table: for these frequencies BYDAY (weekdays
 * only), BYHOUR and the BY parts finer than the frequency's own unit or equal to it
 * limit, the finer ones of MINUTELY and HOURLY expand, BYSETPOS picks from each
 * period's set. BYMONTH, BYMONTHDAY, BYYEARDAY and BYWEEKNO are refused by the reader
 * for these rules. A leap second (BYSECOND=60) never occurs on POSIX wall-clock time. */
#include "src/calendar/internal.h"

static uint64_t bits_of(const short *list, int max, uint64_t if_empty)
{
	if (!recur_has(list))
		return if_empty;
	uint64_t bits = 0;
	for (int i = 0; list[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (list[i] >= 0 && list[i] <= max)
			bits |= UINT64_C(1) << list[i];
	return bits;
}

bool subdaily_init(struct subdaily *s, const struct icalrecurrencetype *r, int64_t dtstart)
{
	memset(s, 0, sizeof(*s));
	s->unit = r->freq == ICAL_SECONDLY_RECURRENCE   ? 1
	          : r->freq == ICAL_MINUTELY_RECURRENCE ? 60
	          : r->freq == ICAL_HOURLY_RECURRENCE   ? 3600
	                                                : 0;
	if (!s->unit)
		return false;
	s->interval = r->interval > 0 ? r->interval : 1;
	s->first_period = floor_div(dtstart, s->unit);
	int64_t start_second = dtstart - floor_div(dtstart, 60) * 60;
	int64_t start_minute = floor_div(dtstart, 60) - floor_div(dtstart, 3600) * 60;
	const uint64_t all = ~UINT64_C(0);
	bool seconds_expand = s->unit > 1, minutes_expand = s->unit > 60;
	s->seconds = bits_of(r->by_second, 59, seconds_expand ? UINT64_C(1) << start_second : all);
	s->minutes = bits_of(r->by_minute, 59, minutes_expand ? UINT64_C(1) << start_minute : all);
	s->hours = (uint32_t)bits_of(r->by_hour, 23, all);
	if (!recur_weekday_bits(r->by_day, &s->weekdays))
		return false; /* "1MO" means nothing within a day (RFC 5545 3.3.10) */
	if (!s->weekdays)
		s->weekdays = 0x7f;
	for (int i = 0; r->by_set_pos[i] != ICAL_RECURRENCE_ARRAY_MAX && s->n_set_pos < SUBDAILY_MAX_SET_POS; i++)
		s->set_pos[s->n_set_pos++] = r->by_set_pos[i];
	/* the rule's pattern on the week repeats after lcm(step, one week) */
	int64_t step = s->unit * s->interval, a = step, b = 7 * 86400;
	while (b) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	s->cycle = step / a * (7 * 86400);
	return true;
}

/* The first period at or after p that lies a multiple of INTERVAL after DTSTART's. */
static int64_t aligned(const struct subdaily *s, int64_t p)
{
	if (p <= s->first_period)
		return s->first_period;
	return s->first_period + (p - s->first_period + s->interval - 1) / s->interval * s->interval;
}

/* The offsets in seconds, ascending, of one period's instances before BYSETPOS. */
static size_t period_set(const struct subdaily *s, int32_t *out)
{
	size_t n = 0;
	if (s->unit == 1) {
		out[n++] = 0;
		return n;
	}
	for (int m = 0; m < (s->unit == 3600 ? 60 : 1); m++) {
		if (s->unit == 3600 && !(s->minutes & (UINT64_C(1) << m)))
			continue;
		for (int sec = 0; sec < 60; sec++)
			if (s->seconds & (UINT64_C(1) << sec))
				out[n++] = m * 60 + sec;
	}
	return n;
}

/* BYSETPOS: keeps the members at the listed positions (1 is the first, -1 the last). */
static size_t pick_positions(const struct subdaily *s, int32_t *set, size_t n)
{
	if (!s->n_set_pos)
		return n;
	bool keep[SUBDAILY_MAX_SET];
	memset(keep, 0, n * sizeof(bool));
	for (size_t i = 0; i < s->n_set_pos; i++) {
		long at = recur_set_pos_index(s->set_pos[i], n);
		if (at >= 0)
			keep[at] = true;
	}
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (keep[i])
			set[kept++] = set[i];
	return kept;
}

enum walk_result subdaily_next(const struct subdaily *s, int64_t from, int64_t limit, size_t budget, size_t *steps,
                               int64_t *at)
{
	int64_t p = aligned(s, floor_div(from, s->unit));
	const int64_t scan_start = p * s->unit;
	for (size_t used = 0; p <= floor_div(limit, s->unit); used++) {
		/* a whole cycle, and the period that begins the next, without an instance: the
		 * rule has none left (FREQ=SECONDLY;INTERVAL=2;BYSECOND=34 from an odd second) */
		if (p * s->unit - scan_start > s->cycle)
			return WALK_NONE;
		if (used == budget)
			return WALK_CAPPED;
		++*steps;
		int64_t t0 = p * s->unit;
		int64_t day = floor_div(t0, 86400), in_day = t0 - day * 86400;
		int weekday = weekday_of_day(day);
		int hour = (int)(in_day / 3600), minute = (int)(in_day / 60 % 60), second = (int)(in_day % 60);
		/* a period that fails a limit: on to the first period of the next day, hour,
		 * minute or second that could pass it */
		int64_t skip_to = !(s->weekdays & (1u << weekday))                     ? (day + 1) * 86400
		                  : !(s->hours & (UINT32_C(1) << hour))                ? t0 - in_day % 3600 + 3600
		                  : s->unit <= 60 && !(s->minutes & (UINT64_C(1) << minute)) ? t0 - second + 60
		                  : s->unit == 1 && !(s->seconds & (UINT64_C(1) << second))   ? t0 + 1
		                                                                        : INT64_MIN;
		if (skip_to != INT64_MIN) {
			p = aligned(s, floor_div(skip_to + s->unit - 1, s->unit));
			continue;
		}
		int32_t set[SUBDAILY_MAX_SET];
		size_t n = pick_positions(s, set, period_set(s, set));
		for (size_t i = 0; i < n; i++) {
			int64_t t = t0 + set[i];
			if (t > limit)
				return WALK_NONE;
			if (t >= from) {
				*at = t;
				return WALK_FOUND;
			}
		}
		p += s->interval;
	}
	return WALK_NONE;
}
