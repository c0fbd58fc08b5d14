/* replay.c: runs one fuzz target over every file of its corpus (tests/fuzz/corpus/NAME:
 * the fuzzers' seeds and every input that once crashed, hung or leaked) and prints TAP,
 * so that `make check`, and its sanitizer build, keep each of them fixed. Linked with
 * libFuzzer instead, the same targets search for new ones (README.md, "The two commands"). */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

#include "src/buf.h"

/* An input replays in well under SLOW_SECONDS on any build, sanitizers included; more
 * means a fix has regressed into the slow path the input was kept for. An input still
 * running after HUNG_SECONDS is stopped, so that a hang fails the suite instead of
 * holding it. */
#define SLOW_SECONDS 5.0
#define HUNG_SECONDS 60

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "Bail out! an input ran for a minute (the last one named on stderr)\n";
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file in b; false if it cannot be read. */
static bool read_whole(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	bool failed = ferror(f);
	fclose(f);
	return !failed;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	DIR *dir = opendir(CORPUS_DIR);
	if (!dir) {
		printf("Bail out! cannot open %s\n", CORPUS_DIR);
		return 1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	for (struct dirent *e; (e = readdir(dir)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **bigger = realloc(names, cap * sizeof(*names));
			if (!bigger)
				return 1;
			names = bigger;
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(dir);
	if (n == 0) {
		printf("Bail out! %s is empty\n", CORPUS_DIR);
		return 1;
	}
	qsort(names, n, sizeof(*names), by_name);
	signal(SIGALRM, on_alarm);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", n);
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, names[i]);
		struct buf data = BUF_INIT;
		if (!read_whole(path, &data)) {
			printf("not ok %zu - %s: cannot read it\n", i + 1, names[i]);
			failed = 1;
		} else {
			/* a crash, a sanitizer report or a leak ends the program: the TAP driver
			 * then reports the missing tests and the program's output names the input */
			fprintf(stderr, "# replaying %s\n", names[i]);
			double start = now_seconds();
			alarm(HUNG_SECONDS);
			LLVMFuzzerTestOneInput((const uint8_t *)buf_cstr(&data), data.len);
			alarm(0);
			double took = now_seconds() - start;
			if (took > SLOW_SECONDS) {
				printf("not ok %zu - %s took %.1f s\n", i + 1, names[i], took);
				failed = 1;
			} else {
				printf("ok %zu - %s (%zu bytes)\n", i + 1, names[i], data.len);
			}
		}
		buf_free(&data);
		free(names[i]);
	}
	free(names);
	return failed;
}
