/* loop.h: the single-threaded event loop: file descriptors (poll), timers, and hooks
 * that run before every wait. libstrophe and libpq both plug into it. */
#ifndef CALPUBSUB_LOOP_H
#define CALPUBSUB_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*loop_fd_fn)(int fd, short revents, void *arg);
typedef void (*loop_timer_fn)(void *arg);
/* Runs before each wait; returns true when it still has work queued, so that the loop
 * polls without sleeping and calls it again. */
typedef bool (*loop_hook_fn)(void *arg);

struct loop_timer {
	uint64_t due_ms;
	loop_timer_fn fn;
	void *arg;
	bool armed;
	struct loop_timer *next;
};

void loop_init(void);
void loop_free(void);
uint64_t loop_now_ms(void);

/* Watches fd for events (POLLIN/POLLOUT); calling it again for the same fd updates it. */
void loop_watch_fd(int fd, short events, loop_fd_fn fn, void *arg);
void loop_unwatch_fd(int fd);

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *arg);
void loop_timer_start(struct loop_timer *t, uint64_t delay_ms);
void loop_timer_stop(struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);

void loop_add_hook(loop_hook_fn fn, void *arg);

/* Runs until loop_quit(); the longest single wait is max_wait_ms. */
void loop_run(uint64_t max_wait_ms);
void loop_quit(void);
bool loop_quitting(void);

#endif
