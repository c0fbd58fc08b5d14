/* backoff.h: capped exponential backoff with jitter, for every reconnect in calpubsub. */
#ifndef CALPUBSUB_BACKOFF_H
#define CALPUBSUB_BACKOFF_H

#include <stdint.h>

/* Delay before attempt number `attempt` (0 for the first retry): min_ms doubled per
 * attempt, capped at max_ms, then spread over [half, full] by jitter (0 <= jitter < 1) so
 * that many instances restarted together do not reconnect in lock step. */
uint64_t backoff_delay_ms(unsigned attempt, uint64_t min_ms, uint64_t max_ms, double jitter);
/* A jitter value from the process's random source. */
double backoff_jitter(void);

#endif
