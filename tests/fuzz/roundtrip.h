/* roundtrip.h: the invariant the calendar fuzz targets share: canonical text that calpubsub
 * accepted must come back unchanged from the reader and from both of its item formats,
 * because subscribers of either format must see the same calendar object. */
#ifndef CALPUBSUB_FUZZ_ROUNDTRIP_H
#define CALPUBSUB_FUZZ_ROUNDTRIP_H

/* Aborts, printing what differed, unless ics (one accepted object's canonical text) is a
 * fixpoint of cal_read_string, and of cal_to_jcal + cal_from_jcal and of cal_to_xcal +
 * cal_from_xcal. */
void fuzz_check_roundtrip(const char *ics);

#endif
