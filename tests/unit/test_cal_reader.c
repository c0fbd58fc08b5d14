/* test_cal_reader.c: reading iCalendar files: grouping by UID, canonical text that is
 * deterministic and idempotent (read(export(objects)) gives the same texts on every
 * fixture), what must survive, the diagnostics of broken files with their exact lines,
 * the three policies, time zone resolution and the range bounds. */
#include "cal_testlib.h"
#include "tap.h"

static size_t count_substr(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Canonical text is idempotent: each object's text read alone, and the whole fixture
 * exported then read back, give byte-identical texts. */
static void test_idempotence(const char *name)
{
	size_t len;
	char *text = read_fixture(name, &len);
	struct collected first;
	int rc = read_text(text, len, CAL_READ_ALL_OR_NOTHING, &first);
	is_int(rc, 0, "%s: no errors", name);
	ok(first.n > 0, "%s: objects delivered (%zu)", name, first.n);
	const struct cal_read_opts early = {.policy = CAL_READ_ALL_OR_NOTHING, .early = true};
	struct collected streamed = {0};
	cal_read_string(text, len, "test", &early, collect_object, collect_diag, &streamed);
	bool same_stream = streamed.n == first.n;
	for (size_t i = 0; same_stream && i < first.n; i++)
		same_stream = !strcmp(streamed.objs[i].uid, first.objs[i].uid) && !strcmp(streamed.objs[i].ics, first.objs[i].ics);
	ok(same_stream, "%s: early delivery gives the same objects in the same order", name);
	collected_free(&streamed);
	size_t same = 0;
	const char **texts = xcalloc(first.n + 1, sizeof(char *));
	for (size_t i = 0; i < first.n; i++) {
		struct collected again;
		texts[i] = first.objs[i].ics;
		read_text(first.objs[i].ics, strlen(first.objs[i].ics), CAL_READ_ALL_OR_NOTHING, &again);
		same += again.n == 1 && strcmp(again.objs[0].ics, first.objs[i].ics) == 0 &&
		        again.objs[0].start == first.objs[i].start && again.objs[0].end == first.objs[i].end;
		collected_free(&again);
	}
	is_int(same, first.n, "%s: every canonical text reads back to itself", name);
	struct buf exported = BUF_INIT, err = BUF_INIT;
	ok(cal_export(&exported, texts, first.n, &err), "%s: export", name);
	is_int(count_substr(exported.data, "BEGIN:VCALENDAR"), 1, "%s: export is one VCALENDAR", name);
	struct collected second;
	is_int(read_text(exported.data, exported.len, CAL_READ_ALL_OR_NOTHING, &second), 0, "%s: export reads back",
	       name);
	is_int(second.n, first.n, "%s: same number of objects after export", name);
	size_t identical = 0;
	for (size_t i = 0; i < first.n; i++) {
		const struct collected_object *o = find_object(&second, first.objs[i].uid);
		identical += o && strcmp(o->ics, first.objs[i].ics) == 0;
	}
	is_int(identical, first.n, "%s: read(export(objects)) gives byte-identical canonical texts", name);
	/* Deterministic: a second read of the same file gives the same texts in order. */
	struct collected third;
	read_text(text, len, CAL_READ_ALL_OR_NOTHING, &third);
	size_t stable = 0;
	for (size_t i = 0; i < first.n && i < third.n; i++)
		stable += strcmp(first.objs[i].ics, third.objs[i].ics) == 0;
	is_int(stable, first.n, "%s: reading twice gives the same texts", name);
	collected_free(&third);
	collected_free(&second);
	buf_free(&exported);
	buf_free(&err);
	free(texts);
	collected_free(&first);
	free(text);
}

static void test_grouping(void)
{
	size_t len;
	char *text = read_fixture("recurrences.ics", &len);
	struct collected c;
	read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
	const struct collected_object *o = find_object(&c, "weekly-overrides@example.com");
	ok(o != NULL, "components sharing a UID form one object");
	if (o) {
		is_int(count_substr(o->ics, "BEGIN:VEVENT"), 3, "master and two overrides in one object");
		const char *master = strstr(o->ics, "SUMMARY:Weekly review");
		const char *before = strstr(o->ics, "RECURRENCE-ID;TZID=Europe/Paris:20240117T140000");
		const char *after = strstr(o->ics, "RECURRENCE-ID:20240124T130000Z");
		ok(master && before && after && master < before && before < after,
		   "master first, then overrides by RECURRENCE-ID (the override listed first in the file comes second)");
		is_int(o->line, 4, "the object starts at the first BEGIN:VEVENT of its UID (line 4)");
		ok(strstr(o->ics, "PRODID:" CAL_PRODID "\r\n") && strstr(o->ics, "VERSION:2.0\r\n"),
		   "canonical text has VERSION:2.0 and our PRODID");
		ok(!strstr(o->ics, "calpubsub tests"), "the source PRODID is not part of the object");
	}
	ok(find_object(&c, "orphan-override@example.com") != NULL, "an override without master is kept (legal in RFC 5545)");
	o = find_object(&c, "todo-recurring@example.com");
	ok(o && !strcmp(o->kind, "VTODO"), "VTODO objects are read");
	collected_free(&c);
	free(text);

	text = read_fixture("multi.ics", &len);
	read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
	is_int(c.n, 2, "two objects across two VCALENDARs (LF line ends, BOM, empty lines)");
	o = find_object(&c, "shared-zone-1@example.com");
	ok(o && count_substr(o->ics, "BEGIN:VEVENT") == 2, "an override in another VCALENDAR joins its master");
	ok(o && count_substr(o->ics, "BEGIN:VTIMEZONE") == 1 && strstr(o->ics, "TZID:Custom/Office"),
	   "the VTIMEZONE defined later in the file is included once");
	is_int(o ? o->line : 0, 5, "line numbers count the BOM line and the empty line");
	o = find_object(&c, "shared-zone-2@example.com");
	ok(o && strstr(o->ics, "X-UNKNOWN-PROP;X-PARAM=\"a:b\";Y=1,2:some value\\, with comma\r\n"),
	   "unknown X- properties keep their parameters (quoted where needed) and value");
	ok(o && strstr(o->ics, "FOO-IANA-NEW:not registered\r\n"), "an unregistered IANA-style property survives");
	ok(!c.errors && !c.warnings, "no diagnostics on a valid file");
	collected_free(&c);
	free(text);

	text = read_fixture("google.ics", &len);
	read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
	o = find_object(&c, "3k1f0r9s7vq2kq0e6n5b8h2c1a@google.com");
	if (ok(o != NULL, "Google's recurring event read")) {
		struct buf unfolded = BUF_INIT;
		size_t longest = 0, folds = 0;
		for (const char *p = o->ics; *p;) {
			const char *nl = strstr(p, "\r\n");
			size_t n = (size_t)(nl - p);
			longest = n > longest ? n : longest;
			if (*p == ' ') {
				folds++;
				buf_append(&unfolded, p + 1, n - 1);
			} else {
				if (unfolded.len)
					buf_puts(&unfolded, "\n");
				buf_append(&unfolded, p, n);
			}
			p = nl + 2;
		}
		ok(longest <= 75 && folds > 0, "lines are folded at 75 octets (longest %zu, %zu folds)", longest, folds);
		ok(strstr(unfolded.data, "\nATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Bob;X-NUM-GUESTS=0:mailto:bob@example.com\n") != NULL,
		   "a folded input line comes back whole once unfolded");
		buf_free(&unfolded);
	}
	ok(o && strstr(o->ics, "X-GOOGLE-CONFERENCE:https://meet.google.com/abc-defg-hij\r\n"), "X- property kept");
	ok(o && strstr(o->ics, "BEGIN:VALARM\r\nACTION:DISPLAY\r\n"), "VALARM kept");
	ok(o && !strstr(o->ics, "X-WR-CALNAME"), "calendar-level properties are not part of objects");
	collected_free(&c);
	free(text);

	text = read_fixture("thunderbird.ics", &len);
	read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
	o = find_object(&c, "journal-1@example.com");
	ok(o && strstr(o->ics, "DESCRIPTION:Tempo too fast in bar 12\\;\\nfix next time\r\n"),
	   "TEXT values are written with canonical escapes (a bare ';' becomes '\\;')");
	o = find_object(&c, "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7");
	ok(o && strstr(o->ics, "TRIGGER:-PT15M\r\n"), "a VALUE parameter equal to the default type is dropped");
	ok(o && strstr(o->ics, "X-MOZ-SNOOZE-TIME-1710438000000000:20240314T180500Z\r\n"), "X-MOZ properties kept");
	collected_free(&c);
	free(text);
}

struct broken_case {
	const char *file;
	unsigned line;
	const char *fragment;
	size_t valid_objects; /* delivered under CAL_READ_SKIP_INVALID */
};

static void test_broken(void)
{
	static const struct broken_case cases[] = {
		{"broken/unbalanced.ics", 16, "BEGIN:VEVENT inside VEVENT (line 11): END:VEVENT missing", 2},
		{"broken/no-colon.ics", 16, "line without ':'", 1},
		{"broken/bad-value.ics", 8, "DTEND: '2024-01-05 11:00' is not a valid DATE-TIME value", 1},
		{"broken/huge-duration.ics", 8, "DURATION: 'PT9999999999999999H' is not a valid DURATION value", 1},
		{"broken/backward-period.ics", 8, "RDATE: '20240301T100000Z/20240201T000000Z' is not a valid PERIOD value", 1},
		{"broken/endless-rules.ics", 10, "STANDARD of VTIMEZONE 'Every-Minute': its RRULE must be FREQ=YEARLY", 1},
		{"broken/endless-rules.ics", 22, "a rule recurring more often than daily cannot take BYMONTHDAY", 1},
		{"broken/dtend-before-dtstart.ics", 15, "DTEND (20240105T093000) is before DTSTART", 1},
		{"broken/dtend-and-duration.ics", 10, "both DTEND (line 8) and DURATION", 0},
		{"broken/bad-rrule.ics", 9, "invalid RRULE 'FREQ=FORTNIGHTLY'", 0},
		{"broken/missing-uid.ics", 11, "VEVENT without UID", 1},
		{"broken/missing-dtstart.ics", 4, "VEVENT without DTSTART", 0},
		{"broken/folded.ics", 10, "PRIORITY: 'hi' is not a valid INTEGER value", 0},
		{"broken/folded.ics", 11, "line without ':'", 0},
		{"broken/alarm-and-unknown-tz.ics", 13, "VALARM without TRIGGER", 1},
		{"broken/duplicate-uid.ics", 9, "UID defined again (first definition at line 4)", 0},
		{"broken/vcalendar-1.ics", 2, "VERSION:1.0 is not iCalendar 2.0", 1},
		{"broken/bad-params.ics", 7, "DTSTART: parameter TZID is given more than once", 1},
		{"broken/bad-params.ics", 12, "DTSTAMP: VALUE= is not the name of a value type", 1},
		{"broken/bad-params.ics", 19, "X-NOTE: VALUE=TE+XT is not the name of a value type", 1},
		{"broken/bad-params.ics", 25, "ATTENDEE: parameter ROLE takes one value, not 2", 1},
		{"broken/bad-numbers.ics", 8, "GEO: '1000000000000000000000000000000000000000...' is beyond the range of a pair", 1},
		{"broken/bad-numbers.ics", 14, "RRULE: COUNT value '2X' is not an integer from 0 to 2147483647", 1},
		{"broken/bad-numbers.ics", 20, "RRULE: BYMONTHDAY value '0' is not an integer, or its negative, from 1 to 31", 1},
		{"broken/bad-numbers.ics", 26, "RRULE: part FREQ is given more than once", 1},
		{"broken/rule-conflicts.ics", 8, "RRULE: BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545 3.3.10)", 1},
		{"broken/rule-conflicts.ics", 14, "RRULE: a BYDAY with a number (\"1MO\") is for FREQ=MONTHLY or YEARLY only", 1},
		{"broken/rule-conflicts.ics", 20, "RRULE: BYYEARDAY cannot be used with FREQ=DAILY, WEEKLY or MONTHLY", 1},
		{"broken/rule-conflicts.ics", 26, "RRULE: BYWEEKNO is for FREQ=YEARLY only", 1},
		{"broken/rule-conflicts.ics", 32, "RRULE: a BYDAY with a number (\"1MO\") cannot be used with BYWEEKNO", 1},
		{"broken/rule-conflicts.ics", 38, "RRULE: BYSETPOS needs another BYxxx part to pick from", 1},
		{"broken/vcalendar-1.ics", 1, "BEGIN:VCALENDAR without END:VCALENDAR", 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct broken_case *bc = &cases[i];
		size_t len;
		char *text = read_fixture(bc->file, &len);
		struct collected c;
		int rc = read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
		ok(rc > 0, "%s: refused (%d errors)", bc->file, rc);
		is_int(c.n, 0, "%s: nothing delivered when all or nothing", bc->file);
		if (!ok(has_diag(&c, bc->line, "error", bc->fragment), "%s: error at line %u: %s", bc->file, bc->line,
		        bc->fragment))
			printf("# diagnostics:\n# %s\n", c.diags.data);
		collected_free(&c);
		read_text(text, len, CAL_READ_SKIP_INVALID, &c);
		is_int(c.n, bc->valid_objects, "%s: skip mode delivers the %zu valid objects", bc->file, bc->valid_objects);
		collected_free(&c);
		const struct cal_read_opts early = {.policy = CAL_READ_ALL_OR_NOTHING, .early = true};
		memset(&c, 0, sizeof(c));
		rc = cal_read_string(text, len, "test", &early, collect_object, collect_diag, &c);
		ok(rc > 0 && c.n == bc->valid_objects, "%s: early delivery gives the %zu valid objects, the file still refused",
		   bc->file, bc->valid_objects);
		collected_free(&c);
		read_text(text, len, CAL_READ_REPORT_ALL, &c);
		size_t invalid = 0;
		for (size_t k = 0; k < c.n; k++)
			invalid += !c.objs[k].valid;
		ok(invalid > 0 || c.n == bc->valid_objects, "%s: report mode flags the invalid objects", bc->file);
		collected_free(&c);
		free(text);
	}
	size_t len;
	char *text = read_fixture("broken/unbalanced.ics", &len);
	struct collected c;
	read_text(text, len, CAL_READ_SKIP_INVALID, &c);
	ok(has_diag(&c, 11, "warning", "VEVENT skipped"), "each skipped object is reported with its line");
	ok(find_object(&c, "good-2@example.com") != NULL, "reading resumes at the BEGIN that closed the broken component");
	collected_free(&c);
	free(text);

	text = read_fixture("broken/alarm-and-unknown-tz.ics", &len);
	read_text(text, len, CAL_READ_SKIP_INVALID, &c);
	ok(has_diag(&c, 7, "warning", "unknown time zone 'Mars/Olympus_Mons'"),
	   "an unknown TZID is a warning with the line of its use");
	ok(strstr(c.diags.data, ":warning:unknown-tz@example.com:") != NULL, "the warning names the event's UID");
	ok(find_object(&c, "unknown-tz@example.com") != NULL, "an unknown TZID alone does not make the event invalid");
	collected_free(&c);
	free(text);

	static const char empty[] = "\r\n\r\n";
	read_text(empty, sizeof(empty) - 1, CAL_READ_ALL_OR_NOTHING, &c);
	ok(has_diag(&c, 0, "error", "no VCALENDAR"), "a file without VCALENDAR is an error");
	collected_free(&c);
}

/* What the strict checks keep: the valid objects of the two fixtures above, in the
 * canonical form xCal and jCal give back unchanged. */
static void test_strict_canonical(void)
{
	static const struct {
		const char *file, *uid, *line;
	} kept[] = {
		{"broken/bad-params.ics", "fine@x", "X-TAGGED;X-TAG=red,blue;X-OTHER=1:kept\r\n"},
		{"broken/bad-numbers.ics", "fine@x", "RRULE:FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-5\r\n"},
		{"broken/bad-numbers.ics", "fine@x", "GEO:0.000001;-123456789012346000000000\r\n"},
	};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		size_t len;
		char *text = read_fixture(kept[i].file, &len);
		struct collected c;
		read_text(text, len, CAL_READ_SKIP_INVALID, &c);
		const char *ics = c.n == 1 && !strcmp(c.objs[0].uid, kept[i].uid) ? c.objs[0].ics : "";
		if (!ok(strstr(ics, kept[i].line) != NULL, "%s: %s keeps %.*s", kept[i].file, kept[i].uid,
		        (int)strlen(kept[i].line) - 2, kept[i].line))
			printf("# canonical text:\n%s", ics);
		collected_free(&c);
		free(text);
	}
	/* RFC 5545 3.1: no control character in a content line but HTAB; XML would let a CR
	 * or a DEL through to xCal, and a subscriber's parser then sees another text */
	static const struct {
		const char *line, *message;
	} controls[] = {
		{"SUMMARY:one\rDTSTART:20240101T000000Z", "a carriage return inside the line (CR only goes before LF)"},
		{"SUMMARY:bu\x7f" "dget", "a DEL control character in the line"},
		{"SUMMARY:bell\x07", "invalid UTF-8 or a control character in the line"},
	};
	for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
		struct buf text = BUF_INIT;
		buf_printf(&text, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:c\r\n"
		                  "DTSTAMP:20240101T000000Z\r\nDTSTART:20240105T100000Z\r\n%s\r\nEND:VEVENT\r\n"
		                  "END:VCALENDAR\r\n",
		           controls[i].line);
		struct collected c;
		int rc = read_text(text.data, text.len, CAL_READ_ALL_OR_NOTHING, &c);
		if (!ok(rc > 0 && has_diag(&c, 8, "error", controls[i].message), "line 8: %s", controls[i].message))
			printf("# diagnostics:\n# %s\n", c.diags.data);
		collected_free(&c);
		buf_free(&text);
	}
}

static void test_time_zones(void)
{
	is_str(cal_windows_zone_to_iana("W. Europe Standard Time"), "Europe/Berlin", "CLDR: W. Europe -> Berlin");
	is_str(cal_windows_zone_to_iana("Pacific Standard Time"), "America/Los_Angeles", "CLDR: Pacific -> Los Angeles");
	is_str(cal_windows_zone_to_iana("Eastern Standard Time"), "America/New_York", "CLDR: Eastern -> New York");
	ok(cal_windows_zone_to_iana("AUS Central Standard Time") != NULL, "first table entry found");
	ok(cal_windows_zone_to_iana("Yukon Standard Time") != NULL || cal_windows_zone_to_iana("West Pacific Standard Time"),
	   "last table entries found");
	ok(cal_windows_zone_to_iana("Mars Standard Time") == NULL, "unknown Windows names stay unknown");

	/* Outlook's "Pacific Standard Time" without VTIMEZONE resolves like the IANA zone. */
	size_t len;
	char *text = read_fixture("outlook.ics", &len);
	struct collected c;
	read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
	ok(!c.warnings, "Windows TZIDs raise no unknown-zone warning");
	const struct collected_object *sync = NULL;
	for (size_t i = 0; i < c.n; i++)
		if (strstr(c.objs[i].ics, "Sync with Seattle"))
			sync = &c.objs[i];
	if (ok(sync != NULL, "the Windows-zone event is read")) {
		char *iana = xstrdup(sync->ics);
		char *p;
		while ((p = strstr(iana, "\"Pacific Standard Time\"")))
			memcpy(p, "America/Los_Angeles    ", 23);
		struct buf a = BUF_INIT, b = BUF_INIT;
		char *ea = cal_expand_ics(sync->ics, CAL_TIME_MIN, CAL_TIME_MAX, NULL, &a);
		char *eb = cal_expand_ics(iana, CAL_TIME_MIN, CAL_TIME_MAX, NULL, &b);
		ok(ea && eb && strcmp(ea, eb) == 0, "a Windows TZID expands exactly like its IANA zone");
		free(ea);
		free(eb);
		free(iana);
		buf_free(&a);
		buf_free(&b);
	}
	collected_free(&c);
	free(text);

	/* A VTIMEZONE in the file wins over the tz database, even under an IANA name. */
	static const char own_zone[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\n"
		"DTSTART:19700101T000000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
		"BEGIN:VEVENT\r\nUID:own\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20240701T120000\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	read_text(own_zone, sizeof(own_zone) - 1, CAL_READ_ALL_OR_NOTHING, &c);
	char noon_at_plus3[17];
	cal_time_t t;
	cal_time_parse("20240701T090000Z", &t);
	cal_time_format(t, noon_at_plus3);
	is_int(c.n ? c.objs[0].start : 0, t, "the file's VTIMEZONE (+03:00) is used, not tzdata's CEST");
	collected_free(&c);
}

static long count_occurrences(const char *ics, cal_time_t *first, cal_time_t *last_end)
{
	struct buf err = BUF_INIT;
	char *expanded = cal_expand_ics(ics, CAL_TIME_MIN, CAL_TIME_MAX, NULL, &err);
	long n = 0;
	*first = CAL_TIME_MAX;
	*last_end = CAL_TIME_MIN;
	for (char *p = expanded; p && (p = strstr(p, "\r\nDTSTART")); p++) {
		char *colon = strchr(p, ':');
		char value[17] = {0};
		memcpy(value, colon + 1, strspn(colon + 1, "0123456789TZ") < 16 ? strspn(colon + 1, "0123456789TZ") : 16);
		cal_time_t s;
		if (cal_time_parse(value, &s) && s < *first)
			*first = s;
		n++;
	}
	for (char *p = expanded; p && (p = strstr(p, "\r\nDTEND")); p++) {
		char *colon = strchr(p, ':');
		char value[17] = {0};
		memcpy(value, colon + 1, strspn(colon + 1, "0123456789TZ") < 16 ? strspn(colon + 1, "0123456789TZ") : 16);
		cal_time_t e;
		if (cal_time_parse(value, &e) && e > *last_end)
			*last_end = e;
	}
	free(expanded);
	buf_free(&err);
	return n;
}

static void test_ranges(void)
{
	size_t len;
	char *text = read_fixture("recurrences.ics", &len);
	struct collected c;
	read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
	/* For bounded, zoned objects the range is exactly that of the full expansion. */
	static const char *const bounded[] = {"weekly-overrides@example.com", "rdates@example.com",
	                                      "thisandfuture@example.com", "monthly-last-friday@example.com"};
	for (size_t i = 0; i < sizeof(bounded) / sizeof(bounded[0]); i++) {
		const struct collected_object *o = find_object(&c, bounded[i]);
		cal_time_t first, last;
		if (!ok(o != NULL, "%s read", bounded[i]))
			continue;
		long n = count_occurrences(o->ics, &first, &last);
		ok(n > 1, "%s: %ld occurrences", bounded[i], n);
		is_int(o->start, first, "%s: range_start is the first start", bounded[i]);
		is_int(o->end, last, "%s: range_end is the last end", bounded[i]);
	}
	const struct collected_object *o = find_object(&c, "floating-daily@example.com");
	cal_time_t first, last;
	count_occurrences(o->ics, &first, &last);
	is_int(o->start, first - 14 * 3600, "floating times widen range_start by 14 h");
	is_int(o->end, last + 14 * 3600, "floating times widen range_end by 14 h");
	collected_free(&c);
	free(text);

	static const char late[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:late@x\r\n"
	                           "DTSTAMP:20240101T000000Z\r\nDTSTART:99991231T120000Z\r\nDURATION:P999D\r\n"
	                           "END:VEVENT\r\nEND:VCALENDAR\r\n";
	read_text(late, sizeof(late) - 1, CAL_READ_ALL_OR_NOTHING, &c);
	is_int(c.n ? c.objs[0].end : 0, CAL_TIME_MAX, "an occurrence ending after 9999 gives range_end CAL_TIME_MAX");
	collected_free(&c);

	text = read_fixture("google.ics", &len);
	read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
	o = find_object(&c, "birthday-anna@google.com");
	ok(o && o->end == CAL_TIME_MAX, "an unbounded RRULE ends at CAL_TIME_MAX");
	cal_time_t june15;
	cal_time_parse("20230615", &june15);
	ok(o && o->start == june15 - 14 * 3600, "and starts at its (floating) DTSTART");
	collected_free(&c);
	free(text);
}

int main(void)
{
	for (size_t i = 0; i < CAL_N_FIXTURES; i++)
		test_idempotence(cal_fixtures[i]);
	test_grouping();
	test_broken();
	test_strict_canonical();
	test_time_zones();
	test_ranges();
	cal_library_cleanup();
	return done_testing();
}
