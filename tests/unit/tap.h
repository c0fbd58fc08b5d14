/* tap.h: a minimal TAP producer for the C unit tests, read by automake's tap-driver. */
#ifndef CALPUBSUB_TAP_H
#define CALPUBSUB_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((unused)) static int tap_count;
__attribute__((unused)) static int tap_failed;

#define ok(cond, ...) tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

__attribute__((format(printf, 4, 5))) __attribute__((unused)) static int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	tap_count++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return pass;
}

__attribute__((format(printf, 5, 6))) __attribute__((unused)) static int tap_is_int(long long got, long long want, const char *file,
                                                            int line, const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;
	tap_count++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d: got %lld, want %lld\n", file, line, got, want);
	}
	return pass;
}

__attribute__((format(printf, 5, 6))) __attribute__((unused)) static int tap_is_str(const char *got, const char *want, const char *file,
                                                            int line, const char *fmt, ...)
{
	va_list ap;
	int pass = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);
	tap_count++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d: got '%s', want '%s'\n", file, line, got ? got : "(null)",
		       want ? want : "(null)");
	}
	return pass;
}

__attribute__((unused)) static int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
