/* cal_read_bench.c: measures what reading a large file costs, against a plain libical
 * whole-file parse of the same file, each in its own child process so that peak RSS
 * (getrusage of the child) is the reader's alone.
 *   cal_read_bench generate N FILE   writes N events (a tenth recurring, some with
 *                                    overrides, all in one VTIMEZONE) to FILE
 *   cal_read_bench measure FILE      prints time and peak RSS of cal_read (each policy)
 *                                    and of icalparser_parse_string on the whole file
 * As a unit test (no arguments) it generates 20,000 events (CAL_BENCH_EVENTS) and checks
 * that reading stays within twice libical's peak RSS; the check is skipped under ASan and
 * when CAL_BENCH_NO_RSS is set (valgrind runs). */
#include "src/calendar/calendar.h"
#include "tap.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int generate(long n, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	fputs("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calpubsub//bench//EN\r\n"
	      "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
	      "TZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
	      "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
	      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
	      f);
	for (long i = 0; i < n; i++) {
		int day = (int)(i % 28) + 1, month = (int)(i / 28 % 12) + 1, hour = (int)(i % 10) + 8;
		fprintf(f,
		        "BEGIN:VEVENT\r\nUID:bench-%ld@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
		        "DTSTART;TZID=Europe/Berlin:2024%02d%02dT%02d0000\r\nDTEND;TZID=Europe/Berlin:2024%02d%02dT%02d3000\r\n"
		        "SUMMARY:Meeting number %ld about topic %ld\r\nLOCATION:Room %ld\\, building %ld\r\n"
		        "DESCRIPTION:Agenda:\\n1. review\\n2. plan next steps for item %ld\r\n"
		        "ORGANIZER;CN=Organizer %ld:mailto:org%ld@example.com\r\n"
		        "ATTENDEE;CN=Attendee;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:att%ld@example.com\r\n"
		        "CATEGORIES:work,bench\r\nX-CUSTOM-FIELD;X-PARAM=value:%ld\r\n",
		        i, month, day, hour, month, day, hour, i, i % 97, i % 50, i % 7, i, i % 13, i % 13, i % 101, i);
		if (i % 10 == 0)
			fputs("RRULE:FREQ=WEEKLY;COUNT=10\r\n", f);
		fputs("BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\nEND:VEVENT\r\n", f);
		if (i % 100 == 0)
			fprintf(f,
			        "BEGIN:VEVENT\r\nUID:bench-%ld@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
			        "RECURRENCE-ID;TZID=Europe/Berlin:2024%02d%02dT%02d0000\r\n"
			        "DTSTART;TZID=Europe/Berlin:2024%02d%02dT%02d3000\r\nDTEND;TZID=Europe/Berlin:2024%02d%02dT%02d4500\r\n"
			        "SUMMARY:Moved\r\nEND:VEVENT\r\n",
			        i, month, day, hour, month, day, hour, month, day, hour);
	}
	fputs("END:VCALENDAR\r\n", f);
	return fclose(f) != 0;
}

static long objects_seen;

static int count_object(const struct cal_object *o, void *arg)
{
	(void)o;
	(void)arg;
	objects_seen++;
	return 0;
}

/* Work run in a child; prints its own wall time through the pipe. */
static int run_reader(const char *path, enum cal_read_policy policy)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	struct cal_read_opts opts = {.policy = policy};
	int rc = cal_read(f, path, &opts, count_object, NULL, NULL);
	fclose(f);
	cal_library_cleanup();
	return rc == 0 && objects_seen > 0 ? 0 : -1;
}

static int run_libical(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	struct buf text = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&text, chunk, n);
	fclose(f);
	icalcomponent *c = icalparser_parse_string(text.data);
	int ok = c && icalcomponent_count_components(c, ICAL_VEVENT_COMPONENT) > 0;
	if (c)
		icalcomponent_free(c);
	buf_free(&text);
	return ok ? 0 : -1;
}

struct measure {
	double seconds;
	long max_rss_kb;
	bool ok;
};

enum job { JOB_NOTHING, JOB_READ_STRICT, JOB_READ_SKIP, JOB_LIBICAL };

static struct measure measure(enum job job, const char *path)
{
	struct measure m = {0, 0, false};
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid_t pid = fork();
	if (pid == 0) {
		int rc = 0;
		if (job == JOB_READ_STRICT)
			rc = run_reader(path, CAL_READ_ALL_OR_NOTHING);
		else if (job == JOB_READ_SKIP)
			rc = run_reader(path, CAL_READ_SKIP_INVALID);
		else if (job == JOB_LIBICAL)
			rc = run_libical(path);
		_exit(rc == 0 ? 0 : 1);
	}
	int status = 0;
	struct rusage ru;
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
		return m;
	clock_gettime(CLOCK_MONOTONIC, &b);
	m.seconds = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	m.max_rss_kb = ru.ru_maxrss;
	m.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	return m;
}

static void report(const char *what, const struct measure *m)
{
	printf("# %-44s %7.2f s  peak RSS %7ld KiB%s\n", what, m->seconds, m->max_rss_kb, m->ok ? "" : "  (FAILED)");
}

static int compare(const char *path)
{
	struct measure base = measure(JOB_NOTHING, path);
	struct measure strict = measure(JOB_READ_STRICT, path);
	struct measure skip = measure(JOB_READ_SKIP, path);
	struct measure lib = measure(JOB_LIBICAL, path);
	report("process baseline (no work)", &base);
	report("cal_read, CAL_READ_ALL_OR_NOTHING", &strict);
	report("cal_read, CAL_READ_SKIP_INVALID (streaming)", &skip);
	report("libical icalparser_parse_string, whole file", &lib);
	ok(strict.ok && skip.ok && lib.ok, "all three readers succeed");
	bool sanitized = false;
#ifdef __SANITIZE_ADDRESS__
	sanitized = true; /* shadow memory and quarantine make RSS meaningless */
#endif
	if (sanitized || getenv("CAL_BENCH_NO_RSS")) { /* set for runs under valgrind */
		printf("ok %d # SKIP peak RSS is not meaningful under a sanitizer or valgrind\n", ++tap_count);
		printf("ok %d # SKIP peak RSS is not meaningful under a sanitizer or valgrind\n", ++tap_count);
		return done_testing();
	}
	ok(strict.max_rss_kb <= 2 * lib.max_rss_kb,
	   "all-or-nothing reading stays within 2x libical's peak RSS (%.2fx)", (double)strict.max_rss_kb / (double)lib.max_rss_kb);
	ok(skip.max_rss_kb <= 2 * lib.max_rss_kb, "streaming reading stays within 2x libical's peak RSS (%.2fx)",
	   (double)skip.max_rss_kb / (double)lib.max_rss_kb);
	return done_testing();
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "generate"))
		return generate(atol(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "measure"))
		return compare(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: cal_read_bench [generate N FILE | measure FILE]\n");
		return 2;
	}
	char path[] = "/tmp/cal_read_bench_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	const char *events = getenv("CAL_BENCH_EVENTS");
	int rc = generate(events ? atol(events) : 20000, path) ? 1 : compare(path);
	unlink(path);
	return rc;
}
