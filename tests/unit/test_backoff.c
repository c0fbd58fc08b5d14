/* test_backoff.c: reconnect delays grow, are capped, and stay within the jitter band. */
#include "src/backoff.h"
#include "tap.h"

int main(void)
{
	is_int(backoff_delay_ms(0, 1000, 60000, 0.0), 500, "first retry, no jitter: half of the minimum");
	is_int(backoff_delay_ms(0, 1000, 60000, 0.999999), 999, "first retry, full jitter: just under the minimum");
	is_int(backoff_delay_ms(1, 1000, 60000, 0.0), 1000, "second retry doubles");
	is_int(backoff_delay_ms(5, 1000, 60000, 0.0), 16000, "sixth retry: 32 s nominal");
	is_int(backoff_delay_ms(6, 1000, 60000, 0.0), 30000, "capped nominal delay of 60 s, lower band");
	is_int(backoff_delay_ms(200, 1000, 60000, 0.5), 45000, "huge attempt counts do not overflow");
	is_int(backoff_delay_ms(3, 1000, 60000, -1.0), 4000, "negative jitter is clamped");
	is_int(backoff_delay_ms(0, 0, 100, 0.0), 0, "zero minimum still yields a finite delay");
	for (int i = 0; i < 1000; i++) {
		double j = backoff_jitter();
		if (j < 0.0 || j >= 1.0) {
			ok(0, "jitter %f out of [0,1)", j);
			return done_testing();
		}
	}
	ok(1, "1000 jitter draws within [0,1)");
	unsigned long long max_seen = 0;
	for (int i = 0; i < 200; i++) {
		unsigned long long d = backoff_delay_ms(30, 1000, 2000, backoff_jitter());
		if (d > max_seen)
			max_seen = d;
	}
	ok(max_seen <= 2000 && max_seen >= 1000, "capped delays stay in [cap/2, cap] (max seen %llu)", max_seen);
	return done_testing();
}
