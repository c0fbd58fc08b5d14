/* fuzz_cal_jcal.c: fuzz target for jCal published to a calendar node: a payload that is
 * accepted must encode back to xCal and jCal, and come back unchanged from both. */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/roundtrip.h"

#include "src/buf.h"
#include "src/calendar/calendar.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cal_payload decoded;
	struct buf errors = BUF_INIT;
	if (cal_from_jcal((const char *)data, size, &decoded, &errors)) {
		for (int jcal = 0; jcal <= 1; jcal++) {
			struct buf payload = BUF_INIT, body = BUF_INIT, err = BUF_INIT;
			if (!cal_to_item(decoded.ics, jcal, &payload, &body, &err))
				abort();
			buf_free(&payload);
			buf_free(&body);
			buf_free(&err);
		}
		fuzz_check_roundtrip(decoded.ics);
		cal_payload_free(&decoded);
	}
	buf_free(&errors);
	return 0;
}
