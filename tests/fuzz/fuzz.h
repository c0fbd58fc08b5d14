/* fuzz.h: what each fuzz target defines, for libFuzzer and for tests/fuzz/replay.c. */
#ifndef CALPUBSUB_FUZZ_H
#define CALPUBSUB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
