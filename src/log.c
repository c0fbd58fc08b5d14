/* log.c: leveled logging. One line per message, timestamped in UTC when written to a
 * stream, so that a log file stays greppable and needs no configuration. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOGL_INFO;
static FILE *log_stream; /* NULL means stderr unless to_syslog */
static bool to_syslog;
static const char *log_ident = "calpubsub";

static const char *const level_names[] = {"error", "warn", "info", "debug"};

bool log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

bool log_configure(const char *ident, const char *destination, enum log_level level)
{
	if (ident)
		log_ident = ident;
	if (!destination || strcmp(destination, "stderr") == 0) {
		log_close();
	} else if (strcmp(destination, "syslog") == 0) {
		log_close();
		openlog(log_ident, LOG_PID, LOG_DAEMON);
		to_syslog = true;
	} else {
		FILE *f = fopen(destination, "a");
		if (!f)
			return false;
		setvbuf(f, NULL, _IOLBF, 0);
		log_close();
		log_stream = f;
	}
	current_level = level;
	return true;
}

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

bool log_enabled(enum log_level level)
{
	return level <= current_level;
}

void log_close(void)
{
	if (log_stream)
		fclose(log_stream);
	log_stream = NULL;
	if (to_syslog)
		closelog();
	to_syslog = false;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	int saved_errno = errno;
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (to_syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[level], "%s", text);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		char stamp[32];
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		FILE *out = log_stream ? log_stream : stderr;
		fprintf(out, "%s.%03ldZ %s[%ld] %s: %s\n", stamp, ts.tv_nsec / 1000000L, log_ident,
		        (long)getpid(), level_names[level], text);
		fflush(out);
	}
	errno = saved_errno;
}
