/* test_cal_expand.c: recurrence expansion against the rules of RFC 5545 (3.3.5 local
 * times around DST changes, 3.3.10 COUNT and UNTIL, 3.8.5.3 exact DTEND vs nominal
 * DURATION, 3.8.4.4 RANGE=THISANDFUTURE), overrides, EXDATE, RDATE, all-day and
 * floating times, window edges (RFC 4791 9.9), CalDAV's <expand/>, and free/busy. The
 * expected instants are worked out by hand from those rules, each next to its reason. */
#include "cal_testlib.h"
#include "tap.h"

#define HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
#define TAIL "END:VCALENDAR\r\n"
#define EVENT(uid, body) "BEGIN:VEVENT\r\nUID:" uid "\r\nDTSTAMP:20240101T000000Z\r\n" body "END:VEVENT\r\n"

static cal_time_t T(const char *s)
{
	cal_time_t t = 0;
	if (!cal_time_parse(s, &t))
		printf("# bad time literal %s\n", s);
	return t;
}

/* Reads a calendar holding one object; returns its canonical text. */
static char *object(const char *text)
{
	struct collected c;
	int rc = read_text(text, strlen(text), CAL_READ_ALL_OR_NOTHING, &c);
	char *ics = rc == 0 && c.n == 1 ? xstrdup(c.objs[0].ics) : NULL;
	if (!ics)
		printf("# not one valid object: %s\n", buf_cstr(&c.diags));
	collected_free(&c);
	return ics;
}

struct occs {
	struct cal_occurrence v[64];
	size_t n;
};

static int keep(const struct cal_occurrence *o, void *arg)
{
	struct occs *s = arg;
	if (s->n < 64)
		s->v[s->n++] = *o;
	return 0;
}

static struct occs expand(const char *text, cal_time_t from, cal_time_t to, const char *floating)
{
	struct occs s = {.n = 0};
	char *ics = object(text);
	struct buf err = BUF_INIT;
	struct cal_expand_opts opts = {floating};
	if (ics && cal_expand(ics, from, to, &opts, keep, &s, &err) < 0)
		printf("# expand failed: %s\n", err.data);
	buf_free(&err);
	free(ics);
	return s;
}

static struct occs expand_all(const char *text)
{
	return expand(text, T("19700101T000000Z"), T("21000101T000000Z"), NULL);
}

static void test_local_times(void)
{
	struct occs s = expand_all(HEAD EVENT("a", "DTSTART;TZID=America/New_York:20241103T013000\r\n") TAIL);
	is_int(s.n ? s.v[0].start : 0, T("20241103T053000Z"),
	       "New York 01:30 on the fall-back day is the first 01:30 (EDT, 05:30Z), RFC 5545 3.3.5");
	s = expand_all(HEAD EVENT("a", "DTSTART;TZID=America/New_York:20240310T023000\r\n") TAIL);
	is_int(s.n ? s.v[0].start : 0, T("20240310T073000Z"),
	       "New York 02:30 in the spring-forward gap takes the offset before the gap (EST: 07:30Z)");
	s = expand_all(HEAD EVENT("a", "DTSTART;TZID=Europe/Berlin:20241027T023000\r\n") TAIL);
	is_int(s.n ? s.v[0].start : 0, T("20241027T003000Z"), "Berlin 02:30 on the fall-back day is CEST (00:30Z)");
	s = expand_all(HEAD EVENT("a", "DTSTART;TZID=Europe/Berlin:20240331T023000\r\n") TAIL);
	is_int(s.n ? s.v[0].start : 0, T("20240331T013000Z"), "Berlin 02:30 in the gap is read with CET (01:30Z)");
	s = expand_all(HEAD EVENT("a", "DTSTART;TZID=Europe/Berlin:20240329T080000\r\nDTEND;TZID=Europe/Berlin:20240329T090000\r\n"
	                               "RRULE:FREQ=DAILY;COUNT=3\r\n") TAIL);
	ok(s.n == 3 && s.v[0].start == T("20240329T070000Z") && s.v[1].start == T("20240330T070000Z") &&
	       s.v[2].start == T("20240331T060000Z"),
	   "a daily 08:00 keeps the wall clock across the DST change (07:00Z, 07:00Z, 06:00Z)");
	s = expand_all(HEAD EVENT("a", "DTSTART;TZID=America/New_York:20240303T023000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n") TAIL);
	ok(s.n == 3 && s.v[1].start == T("20240310T073000Z") && s.v[2].start == T("20240317T063000Z"),
	   "a weekly 02:30 instance in the gap moves to 03:30 EDT, the next is 02:30 EDT again");
}

static void test_durations(void)
{
	struct occs s = expand_all(HEAD EVENT("a", "DTSTART;TZID=Europe/Berlin:20240330T120000\r\nDURATION:P1D\r\n") TAIL);
	is_int(s.n ? s.v[0].end - s.v[0].start : 0, 23 * 3600, "P1D over the spring-forward night lasts 23 hours (nominal)");
	s = expand_all(HEAD EVENT("a", "DTSTART;TZID=Europe/Berlin:20240330T120000\r\nDURATION:PT24H\r\n") TAIL);
	is_int(s.n ? s.v[0].end - s.v[0].start : 0, 24 * 3600, "PT24H lasts 24 hours (exact)");
	s = expand_all(HEAD EVENT("a", "DTSTART;TZID=Europe/Berlin:20240329T120000\r\nDURATION:P1D\r\nRRULE:FREQ=DAILY;COUNT=3\r\n") TAIL);
	ok(s.n == 3 && s.v[0].end - s.v[0].start == 86400 && s.v[1].end - s.v[1].start == 23 * 3600 &&
	       s.v[2].end - s.v[2].start == 86400,
	   "a nominal DURATION gives each instance its own length (24 h, 23 h, 24 h), RFC 5545 3.8.5.3");
	s = expand_all(HEAD EVENT("a", "DTSTART;TZID=Europe/Berlin:20240329T120000\r\nDTEND;TZID=Europe/Berlin:20240330T120000\r\n"
	                               "RRULE:FREQ=DAILY;COUNT=3\r\n") TAIL);
	ok(s.n == 3 && s.v[1].end - s.v[1].start == 86400 && s.v[1].end == T("20240331T110000Z"),
	   "DTEND gives every instance the same exact duration (24 h even over the change)");
	s = expand_all(HEAD EVENT("a", "DTSTART;VALUE=DATE:20240330\r\n") TAIL);
	ok(s.n == 1 && s.v[0].all_day && s.v[0].end - s.v[0].start == 86400, "an all-day event without DTEND lasts one day");
	s = expand_all(HEAD EVENT("a", "DTSTART:20240330T120000Z\r\n") TAIL);
	ok(s.n == 1 && s.v[0].end == s.v[0].start, "a DATE-TIME without DTEND or DURATION is an instant");
}

static void test_count_until(void)
{
	struct occs s = expand_all(HEAD EVENT("a", "DTSTART:20240103T100000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3\r\n") TAIL);
	ok(s.n == 3 && s.v[0].start == T("20240103T100000Z") && s.v[1].start == T("20240108T100000Z") &&
	       s.v[2].start == T("20240115T100000Z"),
	   "DTSTART counts as the first of COUNT even when the rule does not match it (3.3.10)");
	s = expand_all(HEAD EVENT("a", "DTSTART;TZID=Europe/Berlin:20240101T100000\r\nRRULE:FREQ=DAILY;UNTIL=20240103T090000Z\r\n") TAIL);
	is_int(s.n, 3, "UNTIL in UTC is compared with UTC instants and is inclusive (10:00 CET = 09:00Z)");
	s = expand_all(HEAD EVENT("a", "DTSTART;VALUE=DATE:20240101\r\nRRULE:FREQ=WEEKLY;UNTIL=20240115\r\n") TAIL);
	is_int(s.n, 3, "a DATE UNTIL includes its day");
	s = expand_all(HEAD EVENT("a", "DTSTART:20240131T100000Z\r\nRRULE:FREQ=MONTHLY;COUNT=4\r\n") TAIL);
	ok(s.n == 4 && s.v[1].start == T("20240331T100000Z"), "a monthly rule on the 31st skips months without one");
	s = expand_all(HEAD EVENT("a", "DTSTART:20240126T170000Z\r\nRRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3\r\n") TAIL);
	ok(s.n == 3 && s.v[1].start == T("20240131T170000Z") && s.v[2].start == T("20240229T170000Z"),
	   "BYSETPOS=-1 picks the last working day");
	s = expand(HEAD EVENT("a", "DTSTART;VALUE=DATE:19900615\r\nRRULE:FREQ=YEARLY\r\n") TAIL, T("21000101T000000Z"),
	           T("21010101T000000Z"), NULL);
	ok(s.n == 1 && s.v[0].start == T("21000615T000000Z"), "an unbounded yearly rule expands in a window a century later");
}

/* A window far from DTSTART starts the iteration near the window; the instances must be
 * the ones counted from DTSTART. */
static void test_far_window(void)
{
	/* 2024-02-29T23:00Z + 7 h * 1285 = 2025-03-01T02:00Z is not an instance: 1284 steps
	 * end at 2025-02-28T20:00Z, then 03:00, 10:00 and 17:00 on March 1st */
	struct occs s = expand(HEAD EVENT("h", "DTSTART:20240229T230000Z\r\nRRULE:FREQ=HOURLY;INTERVAL=7\r\n") TAIL,
	                       T("20250301T000000Z"), T("20250302T000000Z"), NULL);
	ok(s.n == 3 && s.v[0].start == T("20250301T030000Z") && s.v[1].start == T("20250301T100000Z") &&
	       s.v[2].start == T("20250301T170000Z"),
	   "every 7 hours a year later: the steps still count from DTSTART");
	/* 97 min * 5420 = 2025-03-01T01:20Z from 2024-02-29T23:00Z */
	s = expand(HEAD EVENT("m", "DTSTART:20240229T230000Z\r\nRRULE:FREQ=MINUTELY;INTERVAL=97\r\n") TAIL,
	           T("20250301T000000Z"), T("20250301T050000Z"), NULL);
	ok(s.n == 3 && s.v[0].start == T("20250301T012000Z") && s.v[1].start == T("20250301T025700Z") &&
	       s.v[2].start == T("20250301T043400Z"),
	   "every 97 minutes a year later: the steps still count from DTSTART");
	s = expand(HEAD EVENT("u", "DTSTART;TZID=Europe/Berlin:20240204T093000\r\n"
	                           "RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=SU;UNTIL=20300101T000000Z\r\n") TAIL,
	           T("20270101T000000Z"), T("20270201T000000Z"), NULL);
	/* every third Sunday from 2024-02-04: + 21 d * 51 = 2027-01-10, then 2027-01-31
	 * (09:30 CET = 08:30Z) */
	ok(s.n == 2 && s.v[0].start == T("20270110T083000Z") && s.v[1].start == T("20270131T083000Z"),
	   "a rule with UNTIL starts near a far window and keeps its weeks");
}

/* Rule shapes that libical 3.0.16 expands wrongly, each worked out from RFC 5545 3.3.10
 * (and checked against python-dateutil): DTSTART counts as the first of COUNT. */
struct rule_case {
	const char *dtstart, *rrule, *why;
	const char *want[6];
};

static void test_rule_shapes(void)
{
	static const struct rule_case cases[] = {
		{"20240131T100000Z", "FREQ=WEEKLY;INTERVAL=3;BYDAY=SU;COUNT=4",
		 "every third week on Sunday from a Wednesday: DTSTART's own week (Monday 29 January) "
		 "holds Sunday 4 February",
		 {"20240131T100000Z", "20240204T100000Z", "20240225T100000Z", "20240317T100000Z"}},
		{"20240131T100000Z", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;WKST=SU;COUNT=3",
		 "with WKST=SU, DTSTART's week begins on Sunday 28 January, before DTSTART: the next "
		 "Sunday of a counted week is 11 February",
		 {"20240131T100000Z", "20240211T100000Z", "20240225T100000Z"}},
		{"20240102T100000Z", "FREQ=MINUTELY;INTERVAL=45;BYHOUR=9,10,11;COUNT=5",
		 "every 45 minutes within 9-11 h keeps its steps from DTSTART across hours and days "
		 "(a day is 32 steps)",
		 {"20240102T100000Z", "20240102T104500Z", "20240102T113000Z", "20240103T091500Z", "20240103T100000Z"}},
		{"20240127T122700Z", "FREQ=MINUTELY;BYHOUR=15;COUNT=3",
		 "every minute of 15 h from 12:27 begins at 15:00, not at DTSTART's minute",
		 {"20240127T122700Z", "20240127T150000Z", "20240127T150100Z"}},
		{"20240727T001400Z", "FREQ=HOURLY;INTERVAL=5;BYHOUR=6,16,23;COUNT=5",
		 "every 5 hours from 00:14, kept at 6, 16 and 23 h: 06:14 and 16:14 on the 28th, then 23:14 on the 30th",
		 {"20240727T001400Z", "20240728T061400Z", "20240728T161400Z", "20240730T231400Z", "20240802T061400Z"}},
		{"20240419T121300Z", "FREQ=YEARLY;BYMONTHDAY=25;UNTIL=20240801T000000Z",
		 "a YEARLY BYMONTHDAY without BYMONTH is that day of every month",
		 {"20240419T121300Z", "20240425T121300Z", "20240525T121300Z", "20240625T121300Z", "20240725T121300Z"}},
		{"20240727T004300Z", "FREQ=DAILY;INTERVAL=25;BYMONTHDAY=-1,8,27;COUNT=3",
		 "every 25th day, kept on the 8th, 27th and last of a month: 400 days on is 31 August 2025",
		 {"20240727T004300Z", "20250831T004300Z", "20260508T004300Z"}},
		{"20240102T100000Z", "FREQ=MINUTELY;INTERVAL=2;BYSECOND=10,20,30;BYSETPOS=-1;COUNT=3",
		 "BYSETPOS picks from each counted minute's seconds",
		 {"20240102T100000Z", "20240102T100030Z", "20240102T100230Z"}},
		{"20240102T100000Z", "FREQ=HOURLY;INTERVAL=3;BYMINUTE=0,30;BYDAY=TU;COUNT=5",
		 "BYMINUTE expands each counted hour",
		 {"20240102T100000Z", "20240102T103000Z", "20240102T130000Z", "20240102T133000Z", "20240102T160000Z"}},
		{"20260101T100000Z", "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO;COUNT=3",
		 "the Monday of ISO week 1: 2026's is 29 December 2025, before DTSTART; then 4 January 2027 "
		 "and 3 January 2028",
		 {"20260101T100000Z", "20270104T100000Z", "20280103T100000Z"}},
		{"20240305T093000Z", "FREQ=YEARLY;BYWEEKNO=-1;BYDAY=MO;WKST=SU;COUNT=3",
		 "the last week begun on Sunday: 2025's has four days of 2025 and ends on 3 January 2026",
		 {"20240305T093000Z", "20241223T093000Z", "20251229T093000Z"}},
		{"20240305T093000Z", "FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO;UNTIL=20330101T000000Z",
		 "week 53 only in the years that have one (2026, 2032)",
		 {"20240305T093000Z", "20261228T093000Z", "20321227T093000Z"}},
		{"20240305T093000Z", "FREQ=YEARLY;BYWEEKNO=20;COUNT=3",
		 "without BYDAY, DTSTART's weekday (Tuesday) of week 20",
		 {"20240305T093000Z", "20240514T093000Z", "20250513T093000Z"}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rule_case *rc = &cases[i];
		char text[512];
		snprintf(text, sizeof(text), HEAD EVENT("r", "DTSTART:%s\r\nRRULE:%s\r\n") TAIL, rc->dtstart, rc->rrule);
		struct occs s = expand_all(text);
		size_t want = 0;
		bool same = true;
		while (want < 6 && rc->want[want])
			want++;
		for (size_t k = 0; k < want && k < s.n; k++)
			same &= s.v[k].start == T(rc->want[k]);
		if (!ok(s.n == want && same, "%s: %s", rc->rrule, rc->why))
			for (size_t k = 0; k < s.n; k++) {
				char got[17];
				cal_time_format(s.v[k].start, got);
				printf("#   got %s\n", got);
			}
	}
	/* far from DTSTART the steps still count from it: 2024-01-02T10:00Z + 45 min * 10752
	 * (336 days) is 2024-12-03T10:00Z */
	struct occs s = expand(HEAD EVENT("f", "DTSTART:20240102T100000Z\r\n"
	                                       "RRULE:FREQ=MINUTELY;INTERVAL=45;BYHOUR=9,10,11\r\n") TAIL,
	                       T("20241203T000000Z"), T("20241204T000000Z"), NULL);
	ok(s.n == 4 && s.v[0].start == T("20241203T091500Z") && s.v[1].start == T("20241203T100000Z") &&
	       s.v[3].start == T("20241203T113000Z"),
	   "every 45 minutes within 9-11 h, queried eleven months on");
}

/* Thousands of EXDATEs and overrides are matched by search, not by scanning each list
 * per instance: this is the answer, not the time, that is checked here. */
static void test_many_exclusions(void)
{
	struct buf text = BUF_INIT;
	buf_puts(&text, HEAD "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\n"
	                     "RRULE:FREQ=DAILY;COUNT=3000\r\n");
	/* every day excluded but each tenth, in descending order */
	for (int day = 2999; day >= 0; day--) {
		if (day % 10 == 0)
			continue;
		char when[17];
		cal_time_format(T("20240101T100000Z") + (cal_time_t)day * 86400, when);
		buf_printf(&text, "EXDATE:%s\r\n", when);
	}
	buf_puts(&text, "END:VEVENT\r\n");
	/* every other tenth day moved by an hour, in descending order */
	for (int day = 2990; day > 0; day -= 20) {
		char rid[17], start[17];
		cal_time_format(T("20240101T100000Z") + (cal_time_t)day * 86400, rid);
		cal_time_format(T("20240101T110000Z") + (cal_time_t)day * 86400, start);
		buf_printf(&text, "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20240101T000000Z\r\nRECURRENCE-ID:%s\r\nDTSTART:%s\r\n"
		           "END:VEVENT\r\n", rid, start);
	}
	buf_puts(&text, TAIL);
	struct occs s = expand(text.data, T("20240101T000000Z"), T("20240301T000000Z"), NULL);
	/* January and February: days 0, 20, 40 at 10:00; days 10, 30, 50 moved to 11:00 */
	ok(s.n == 6 && s.v[0].start == T("20240101T100000Z") && s.v[1].start == T("20240111T110000Z") &&
	       s.v[2].start == T("20240121T100000Z") && s.v[3].start == T("20240131T110000Z") &&
	       s.v[4].start == T("20240210T100000Z") && s.v[5].start == T("20240220T110000Z"),
	   "2,700 EXDATEs and 150 overrides, given in descending order, each apply to their instance");
	buf_free(&text);
}

#define OVERRIDES \
	HEAD EVENT("o", "DTSTART;TZID=Europe/Berlin:20240301T090000\r\nDTEND;TZID=Europe/Berlin:20240301T100000\r\n" \
	                "RRULE:FREQ=WEEKLY;COUNT=7\r\nEXDATE;TZID=Europe/Berlin:20240308T090000\r\nSUMMARY:course\r\n") \
	EVENT("o", "RECURRENCE-ID;TZID=Europe/Berlin:20240315T090000\r\nDTSTART;TZID=Europe/Berlin:20240315T090000\r\n" \
	           "DTEND;TZID=Europe/Berlin:20240315T100000\r\nSTATUS:CANCELLED\r\n") \
	EVENT("o", "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20240322T090000\r\n" \
	           "DTSTART;TZID=Europe/Berlin:20240322T110000\r\nDTEND;TZID=Europe/Berlin:20240322T123000\r\nSUMMARY:moved\r\n") \
	EVENT("o", "RECURRENCE-ID;TZID=Europe/Berlin:20240405T090000\r\nDTSTART;TZID=Europe/Berlin:20240406T080000\r\n" \
	           "DTEND;TZID=Europe/Berlin:20240406T083000\r\nTRANSP:TRANSPARENT\r\n") TAIL

static void test_overrides(void)
{
	struct occs s = expand_all(OVERRIDES);
	/* Instances: 03-01, [03-08 excluded], 03-15 cancelled, 03-22 moved, 03-29 and 04-12
	 * shifted by THISANDFUTURE, 04-05 moved on its own. */
	is_int(s.n, 6, "EXDATE removes one of seven instances");
	if (s.n != 6)
		return;
	ok(s.v[0].start == T("20240301T080000Z") && !s.v[0].overridden && s.v[0].component == 0,
	   "the first instance comes from the master (component 0)");
	ok(s.v[1].start == T("20240315T080000Z") && s.v[1].cancelled && s.v[1].overridden,
	   "a cancelled override still occurs, flagged cancelled");
	ok(s.v[2].start == T("20240322T100000Z") && s.v[2].end - s.v[2].start == 5400 && s.v[2].recurrence_id == T("20240322T080000Z"),
	   "the THISANDFUTURE override itself: 11:00 CET for 90 minutes, RECURRENCE-ID 08:00Z");
	ok(s.v[3].start == T("20240329T100000Z") && s.v[3].end - s.v[3].start == 5400 && s.v[3].overridden &&
	       s.v[3].component == s.v[2].component,
	   "the next instance is shifted by two hours and takes the override's duration");
	ok(s.v[4].start == T("20240406T060000Z") && s.v[4].transparent && s.v[4].recurrence_id == T("20240405T070000Z"),
	   "a single override beats THISANDFUTURE for its own instance (moved to 04-06 08:00 CEST)");
	ok(s.v[5].start == T("20240412T090000Z") && s.v[5].recurrence_id == T("20240412T070000Z"),
	   "after the DST change the shift keeps the wall clock: 11:00 CEST = 09:00Z");
	for (size_t i = 0; i < s.n; i++)
		ok(s.v[i].recurring, "instance %zu is flagged recurring", i);

	s = expand_all(HEAD EVENT("orphan", "RECURRENCE-ID:20240220T090000Z\r\nDTSTART:20240220T100000Z\r\nDTEND:20240220T110000Z\r\n") TAIL);
	ok(s.n == 1 && s.v[0].start == T("20240220T100000Z") && s.v[0].recurrence_id == T("20240220T090000Z"),
	   "an override without master occurs at its own DTSTART");
}

static void test_rdate_floating(void)
{
	struct occs s = expand_all(HEAD EVENT("r", "DTSTART;TZID=America/New_York:20240205T100000\r\nDTEND;TZID=America/New_York:20240205T110000\r\n"
	                                           "RDATE;TZID=Europe/London:20240212T100000\r\n"
	                                           "RDATE;VALUE=PERIOD:20240304T140000Z/20240304T170000Z,20240311T140000Z/PT30M\r\n") TAIL);
	ok(s.n == 4 && s.v[1].start == T("20240212T100000Z") && s.v[1].end - s.v[1].start == 3600,
	   "RDATE in another zone; it gets the master's duration");
	ok(s.n == 4 && s.v[2].end == T("20240304T170000Z") && s.v[3].end - s.v[3].start == 1800,
	   "RDATE periods carry their own end or duration");
	s = expand_all(HEAD EVENT("d", "DTSTART;VALUE=DATE:20240101\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nRDATE;VALUE=DATE:20240103\r\n"
	                               "EXDATE;VALUE=DATE:20240108\r\n") TAIL);
	ok(s.n == 3 && s.v[1].start == T("20240103T000000Z") && s.v[2].start == T("20240115T000000Z") && s.v[2].all_day,
	   "all-day: RDATE and EXDATE as DATE values");
	s = expand(HEAD EVENT("d", "DTSTART;VALUE=DATE:20240101\r\n") TAIL, T("20231201T000000Z"), T("20240201T000000Z"),
	           "Europe/Berlin");
	ok(s.n == 1 && s.v[0].start == T("20231231T230000Z"), "an all-day event read in a floating zone starts at its midnight");
	s = expand(HEAD EVENT("f", "DTSTART:20240701T090000\r\n") TAIL, T("20240101T000000Z"), T("20250101T000000Z"), NULL);
	ok(s.n == 1 && s.v[0].start == T("20240701T090000Z"), "floating time is read in UTC by default");
	s = expand(HEAD EVENT("f", "DTSTART:20240701T090000\r\n") TAIL, T("20240101T000000Z"), T("20250101T000000Z"),
	           "W. Europe Standard Time");
	ok(s.n == 1 && s.v[0].start == T("20240701T070000Z"), "floating time read in a given zone (a Windows name works)");
	struct buf err = BUF_INIT;
	struct cal_expand_opts bad = {"Nowhere/Land"};
	ok(cal_expand(HEAD EVENT("f", "DTSTART:20240701T090000\r\n") TAIL, 0, T("20300101T000000Z"), &bad, NULL, NULL, &err) < 0 &&
	       strstr(err.data, "unknown time zone"),
	   "an unknown floating zone is an error, not UTC");
	buf_free(&err);
}

static void test_window(void)
{
	char *instant = object(HEAD EVENT("i", "DTSTART:20240110T100000Z\r\n") TAIL);
	char *hour = object(HEAD EVENT("h", "DTSTART:20240110T100000Z\r\nDTEND:20240110T110000Z\r\n") TAIL);
	struct buf err = BUF_INIT;
	is_int(cal_occurs_in_window(instant, T("20240110T100000Z"), T("20240110T120000Z"), NULL, &err), 1,
	       "an instant at the window start is in it");
	is_int(cal_occurs_in_window(instant, T("20240110T080000Z"), T("20240110T100000Z"), NULL, &err), 0,
	       "an instant at the window end is not");
	is_int(cal_occurs_in_window(hour, T("20240110T110000Z"), T("20240110T120000Z"), NULL, &err), 0,
	       "an event ending at the window start is not in it");
	is_int(cal_occurs_in_window(hour, T("20240110T090000Z"), T("20240110T100000Z"), NULL, &err), 0,
	       "an event starting at the window end is not in it");
	is_int(cal_occurs_in_window(hour, T("20240110T105959Z"), T("20240110T120000Z"), NULL, &err), 1,
	       "an overlap of one second counts");
	char *todo = object(HEAD "BEGIN:VTODO\r\nUID:t\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:whenever\r\nEND:VTODO\r\n" TAIL);
	is_int(cal_occurs_in_window(todo, T("20300101T000000Z"), T("20300102T000000Z"), NULL, &err), 1,
	       "a VTODO without DTSTART and DUE matches every window (RFC 4791 9.9)");
	is_int(cal_occurs_in_window("not a calendar", 0, 1, NULL, &err), -1, "garbage is an error");
	free(todo);

	/* A recurring object without COUNT is searched in windows growing from the start of
	 * the query's: each answer below needs a different one of them. */
	char *minutely = object(HEAD EVENT("m", "DTSTART:20240101T000000Z\r\nRRULE:FREQ=MINUTELY\r\n") TAIL);
	is_int(cal_occurs_in_window(minutely, T("20250101T000000Z"), T("20260101T000000Z"), NULL, &err), 1,
	       "a rule every minute is found in a window of a year (in its first day)");
	char *late = object(HEAD EVENT("l", "DTSTART:20240301T120000Z\r\nDURATION:PT1H\r\n"
	                                    "RRULE:FREQ=DAILY;UNTIL=20270101T000000Z\r\n"
	                                    "EXDATE:20240301T120000Z,20240302T120000Z,20240303T120000Z\r\n") TAIL);
	is_int(cal_occurs_in_window(late, T("20240301T000000Z"), T("20240304T000000Z"), NULL, &err), 0,
	       "no instance left in the first three days");
	is_int(cal_occurs_in_window(late, T("20240301T000000Z"), T("20240304T120001Z"), NULL, &err), 1,
	       "the fourth day's instance is found in a later window");
	char *yearly = object(HEAD EVENT("y", "DTSTART;VALUE=DATE:20200915\r\nRRULE:FREQ=YEARLY\r\n") TAIL);
	is_int(cal_occurs_in_window(yearly, T("20240101T000000Z"), T("20240914T000000Z"), NULL, &err), 0,
	       "a yearly rule has no instance before September 15th");
	is_int(cal_occurs_in_window(yearly, T("20240101T000000Z"), T("20240915T000001Z"), NULL, &err), 1,
	       "and one in a window that ends just after it");
	char *counted = object(HEAD EVENT("c", "DTSTART:20240101T090000Z\r\nRRULE:FREQ=WEEKLY;COUNT=60\r\n") TAIL);
	is_int(cal_occurs_in_window(counted, T("20250210T000000Z"), T("20250220T000000Z"), NULL, &err), 1,
	       "a counted rule's 59th instance (2025-02-10) is in its window");
	is_int(cal_occurs_in_window(counted, T("20250224T000000Z"), T("20260101T000000Z"), NULL, &err), 0,
	       "and nothing after its 60th");
	free(minutely);
	free(late);
	free(yearly);
	free(counted);
	free(instant);
	free(hour);
	buf_free(&err);
}

static void test_expand_ics(void)
{
	char *ics = object(OVERRIDES);
	struct buf err = BUF_INIT;
	char *out = cal_expand_ics(ics, T("20240320T000000Z"), T("20240401T000000Z"), NULL, &err);
	ok(out != NULL, "expand_ics");
	ok(out && !strstr(out, "RRULE") && !strstr(out, "EXDATE") && !strstr(out, "VTIMEZONE") && !strstr(out, "TZID"),
	   "no RRULE, EXDATE, VTIMEZONE or TZID in expanded output");
	ok(out && strstr(out, "RECURRENCE-ID:20240322T080000Z\r\nDTSTART:20240322T100000Z\r\nDTEND:20240322T113000Z\r\n"),
	   "each instance has RECURRENCE-ID and UTC times");
	ok(out && strstr(out, "RECURRENCE-ID:20240329T080000Z\r\nDTSTART:20240329T100000Z\r\n") && strstr(out, "SUMMARY:moved"),
	   "the shifted instance carries the THISANDFUTURE override's properties");
	struct collected c;
	if (out) {
		is_int(read_text(out, strlen(out), CAL_READ_ALL_OR_NOTHING, &c), 0, "the expanded calendar is itself valid");
		is_int(c.n ? 1 : 0, 1, "and reads as one object of overrides");
		collected_free(&c);
	}
	free(out);
	free(ics);
	ics = object(HEAD EVENT("allday", "DTSTART;VALUE=DATE:20240101\r\nDTEND;VALUE=DATE:20240102\r\nRRULE:FREQ=DAILY;COUNT=2\r\n") TAIL);
	out = cal_expand_ics(ics, T("20240102T000000Z"), T("20240103T000000Z"), NULL, &err);
	ok(out && strstr(out, "RECURRENCE-ID;VALUE=DATE:20240102\r\nDTSTART;VALUE=DATE:20240102\r\nDTEND;VALUE=DATE:20240103\r\n"),
	   "all-day instances stay DATE values");
	free(out);
	free(ics);
	ics = object(HEAD EVENT("minutely", "DTSTART:20240101T000000Z\r\nRRULE:FREQ=MINUTELY\r\n") TAIL);
	out = cal_expand_ics(ics, T("20240101T000000Z"), T("20240102T000000Z"), NULL, &err);
	ok(out && strlen(out) < CAL_EXPAND_MAX_BYTES, "a day of a rule recurring every minute expands");
	free(out);
	buf_reset(&err);
	out = cal_expand_ics(ics, T("20240101T000000Z"), T("20250101T000000Z"), NULL, &err);
	ok(!out && strstr(buf_cstr(&err), "take more than 1048576 bytes: ask for a shorter range"),
	   "a year of it is refused instead of growing past %d bytes", CAL_EXPAND_MAX_BYTES);
	free(out);
	free(ics);
	buf_free(&err);
}

static void test_freebusy(void)
{
	char *objs[6];
	objs[0] = object(HEAD EVENT("b1", "DTSTART:20240110T090000Z\r\nDTEND:20240110T100000Z\r\n") TAIL);
	objs[1] = object(HEAD EVENT("b2", "DTSTART:20240110T093000Z\r\nDTEND:20240110T103000Z\r\nRRULE:FREQ=DAILY;COUNT=2\r\n") TAIL);
	objs[2] = object(HEAD EVENT("t", "DTSTART:20240110T100000Z\r\nDTEND:20240110T120000Z\r\nSTATUS:TENTATIVE\r\n") TAIL);
	objs[3] = object(HEAD EVENT("tr", "DTSTART:20240110T130000Z\r\nDTEND:20240110T140000Z\r\nTRANSP:TRANSPARENT\r\n") TAIL);
	objs[4] = object(HEAD EVENT("c", "DTSTART:20240110T150000Z\r\nDTEND:20240110T160000Z\r\nSTATUS:CANCELLED\r\n") TAIL);
	objs[5] = object(HEAD EVENT("d", "DTSTART;VALUE=DATE:20240112\r\n") TAIL);
	struct buf err = BUF_INIT;
	char *fb = cal_freebusy((const char *const *)objs, 6, T("20240110T000000Z"), T("20240112T120000Z"),
	                        T("20240101T000000Z"), NULL, &err);
	ok(fb != NULL, "free/busy computed");
	const char *want =
		"BEGIN:VFREEBUSY\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240110T000000Z\r\nDTEND:20240112T120000Z\r\n"
		"FREEBUSY;FBTYPE=BUSY:20240110T090000Z/20240110T103000Z\r\n"
		"FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240110T100000Z/20240110T120000Z\r\n"
		"FREEBUSY;FBTYPE=BUSY:20240111T093000Z/20240111T103000Z\r\n"
		"FREEBUSY;FBTYPE=BUSY:20240112T000000Z/20240112T120000Z\r\n"
		"END:VFREEBUSY\r\n";
	if (!ok(fb && strstr(fb, want),
	        "overlaps coalesced per FBTYPE, tentative apart, transparent and cancelled left out, all-day clipped"))
		printf("# got:\n%s\n", fb ? fb : err.data);
	free(fb);
	for (size_t i = 0; i < 6; i++)
		free(objs[i]);
	buf_free(&err);
}

/* The VTIMEZONE Google ships for Europe/Berlin (rules only) agrees with tzdata, also
 * beyond 2037 where some libraries stop expanding rules. */
static void test_vtimezone_rules(void)
{
	static const char *const years[] = {"2024", "2041"};
	for (size_t i = 0; i < 2; i++) {
		struct buf a = BUF_INIT, b = BUF_INIT;
		buf_printf(&a,
		           HEAD "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
		                "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
		                "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nDTSTART:19701025T030000\r\n"
		                "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
		                EVENT("z", "DTSTART;TZID=Europe/Berlin:%s0320T120000\r\nRRULE:FREQ=WEEKLY;COUNT=40\r\n") TAIL,
		           years[i]);
		buf_printf(&b, HEAD EVENT("z", "DTSTART;TZID=Europe/Berlin:%s0320T120000\r\nRRULE:FREQ=WEEKLY;COUNT=40\r\n") TAIL,
		           years[i]);
		struct occs x = expand_all(a.data), y = expand_all(b.data);
		size_t same = 0;
		for (size_t k = 0; k < x.n && k < y.n; k++)
			same += x.v[k].start == y.v[k].start;
		ok(x.n == 40 && y.n == 40 && same == 40, "%s: a rule-based VTIMEZONE gives the same instants as tzdata", years[i]);
		buf_free(&a);
		buf_free(&b);
	}
}

int main(void)
{
	test_local_times();
	test_durations();
	test_count_until();
	test_far_window();
	test_rule_shapes();
	test_many_exclusions();
	test_overrides();
	test_rdate_floating();
	test_window();
	test_expand_ics();
	test_freebusy();
	test_vtimezone_rules();
	cal_library_cleanup();
	return done_testing();
}
