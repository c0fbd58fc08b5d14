/* fuzz_cal_read.c: fuzz target for the iCalendar reader (calpubsubctl import, rows other
 * applications write): every object it delivers must encode to xCal and jCal, and a valid
 * one must come back unchanged from both. The input is the file itself; its first byte
 * also picks the read policy. */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/roundtrip.h"

#include "src/buf.h"
#include "src/calendar/calendar.h"

#include <stdint.h>
#include <stdlib.h>

static void on_diag(const struct cal_diag *d, void *arg)
{
	(void)d;
	(void)arg;
}

static int on_object(const struct cal_object *o, void *arg)
{
	(void)arg;
	for (int jcal = 0; jcal <= 1; jcal++) {
		struct buf payload = BUF_INIT, body = BUF_INIT, err = BUF_INIT;
		/* the reader's canonical text is what calpubsub stores and encodes later */
		if (!cal_to_item(o->ics, jcal, &payload, &body, &err) && o->valid)
			abort();
		buf_free(&payload);
		buf_free(&body);
		buf_free(&err);
	}
	if (o->valid)
		fuzz_check_roundtrip(o->ics);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct cal_read_opts opts = {.policy = (enum cal_read_policy)(data[0] % 3), .early = (data[0] & 4) != 0};
	cal_read_string((const char *)data, size, "fuzz.ics", &opts, on_object, on_diag, NULL);
	return 0;
}
