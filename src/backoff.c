/* backoff.c: capped exponential backoff with "equal jitter": never less than half the
 * nominal delay, so a refused server is not hammered, never more than the cap. */
#include "backoff.h"

#include <stdlib.h>

uint64_t backoff_delay_ms(unsigned attempt, uint64_t min_ms, uint64_t max_ms, double jitter)
{
	uint64_t d = min_ms ? min_ms : 1;
	for (unsigned i = 0; i < attempt && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	if (jitter < 0)
		jitter = 0;
	if (jitter >= 1)
		jitter = 0.999999;
	uint64_t half = d / 2;
	return half + (uint64_t)((double)(d - half) * jitter);
}

double backoff_jitter(void)
{
	return (double)random() / ((double)RAND_MAX + 1.0);
}
