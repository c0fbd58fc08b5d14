/* fuzz_cal_expand.c: fuzz target for the queries over a stored object (time range,
 * CalDAV expand, free/busy) with the window of 2024: the input is the object's text. */
#include "tests/fuzz/fuzz.h"

#include "src/buf.h"
#include "src/calendar/calendar.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int on_occurrence(const struct cal_occurrence *occ, void *arg)
{
	(void)occ;
	(*(long *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ics = malloc(size + 1);
	if (!ics)
		return 0;
	memcpy(ics, data, size);
	ics[size] = '\0';
	const cal_time_t from = 1704067200, to = 1735689600; /* 2024 */
	struct buf err = BUF_INIT;
	long n = 0;
	long found = cal_expand(ics, from, to, NULL, on_occurrence, &n, &err);
	buf_reset(&err);
	/* the two answers to "does it occur in 2024?" must agree */
	if (found > 0 && cal_occurs_in_window(ics, from, to, NULL, &err) != 1)
		abort();
	buf_reset(&err);
	free(cal_expand_ics(ics, from, to, NULL, &err));
	buf_reset(&err);
	const char *objects[] = {ics};
	free(cal_freebusy(objects, 1, from, to, from, NULL, &err));
	buf_free(&err);
	free(ics);
	return 0;
}
