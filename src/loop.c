/* loop.c: poll()-based event loop. Timers live in an unsorted list because calpubsub
 * only ever has a handful of them (reconnect, ping, expiry, database retry). */
#include "loop.h"

#include "buf.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fd_watch {
	int fd;
	short events;
	loop_fd_fn fn;
	void *arg;
};

struct hook {
	loop_hook_fn fn;
	void *arg;
};

static struct fd_watch *watches;
static size_t n_watches, cap_watches;
static struct loop_timer *timers;
static struct hook *hooks;
static size_t n_hooks;
static bool quit_requested;

void loop_init(void)
{
	quit_requested = false;
}

void loop_free(void)
{
	free(watches);
	watches = NULL;
	n_watches = cap_watches = 0;
	free(hooks);
	hooks = NULL;
	n_hooks = 0;
	timers = NULL;
}

uint64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void loop_watch_fd(int fd, short events, loop_fd_fn fn, void *arg)
{
	for (size_t i = 0; i < n_watches; i++) {
		if (watches[i].fd == fd) {
			watches[i].events = events;
			watches[i].fn = fn;
			watches[i].arg = arg;
			return;
		}
	}
	if (n_watches == cap_watches) {
		cap_watches = cap_watches ? cap_watches * 2 : 8;
		watches = xrealloc(watches, cap_watches * sizeof(*watches));
	}
	watches[n_watches++] = (struct fd_watch){fd, events, fn, arg};
}

void loop_unwatch_fd(int fd)
{
	for (size_t i = 0; i < n_watches; i++) {
		if (watches[i].fd == fd) {
			watches[i] = watches[--n_watches];
			return;
		}
	}
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
}

void loop_timer_stop(struct loop_timer *t)
{
	if (!t->armed)
		return;
	for (struct loop_timer **p = &timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

void loop_timer_start(struct loop_timer *t, uint64_t delay_ms)
{
	loop_timer_stop(t);
	t->due_ms = loop_now_ms() + delay_ms;
	t->armed = true;
	t->next = timers;
	timers = t;
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t->armed;
}

void loop_add_hook(loop_hook_fn fn, void *arg)
{
	hooks = xrealloc(hooks, (n_hooks + 1) * sizeof(*hooks));
	hooks[n_hooks++] = (struct hook){fn, arg};
}

void loop_quit(void)
{
	quit_requested = true;
}

bool loop_quitting(void)
{
	return quit_requested;
}

/* Fires every due timer once; a callback may re-arm its own timer or others. */
static void fire_timers(void)
{
	uint64_t now = loop_now_ms();
	bool fired;
	do {
		fired = false;
		for (struct loop_timer *t = timers; t; t = t->next) {
			if (t->due_ms <= now) {
				loop_timer_stop(t);
				t->fn(t->arg);
				fired = true;
				break; /* the list may have changed under us */
			}
		}
	} while (fired && !quit_requested);
}

static uint64_t next_wait_ms(uint64_t max_wait_ms)
{
	uint64_t now = loop_now_ms();
	uint64_t wait = max_wait_ms;
	for (struct loop_timer *t = timers; t; t = t->next) {
		uint64_t left = t->due_ms > now ? t->due_ms - now : 0;
		if (left < wait)
			wait = left;
	}
	return wait;
}

void loop_run(uint64_t max_wait_ms)
{
	struct pollfd *pfds = NULL;
	size_t cap_pfds = 0;
	while (!quit_requested) {
		fire_timers();
		if (quit_requested)
			break;
		bool busy = false;
		for (size_t i = 0; i < n_hooks; i++)
			busy |= hooks[i].fn(hooks[i].arg);
		if (quit_requested)
			break;
		if (n_watches > cap_pfds) {
			cap_pfds = n_watches;
			pfds = xrealloc(pfds, cap_pfds * sizeof(*pfds));
		}
		size_t n = n_watches;
		for (size_t i = 0; i < n; i++)
			pfds[i] = (struct pollfd){watches[i].fd, watches[i].events, 0};
		int timeout = busy ? 0 : (int)next_wait_ms(max_wait_ms);
		int r = poll(pfds, n, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll failed: %s", strerror(errno));
			break;
		}
		for (size_t i = 0; i < n && r > 0; i++) {
			if (!pfds[i].revents)
				continue;
			r--;
			/* A callback may unwatch descriptors, so look the watch up again by fd. */
			for (size_t j = 0; j < n_watches; j++) {
				if (watches[j].fd == pfds[i].fd) {
					watches[j].fn(pfds[i].fd, pfds[i].revents, watches[j].arg);
					break;
				}
			}
		}
	}
	free(pfds);
}
