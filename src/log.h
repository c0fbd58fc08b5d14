/* log.h: leveled logging to stderr, syslog or a file; reopened on SIGHUP. */
#ifndef CALPUBSUB_LOG_H
#define CALPUBSUB_LOG_H

#include <stdbool.h>

enum log_level { LOGL_ERROR = 0, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };

/* Parses "error", "warn", "info" or "debug"; false on anything else. */
bool log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

/* destination: "stderr", "syslog" or an absolute file path. Returns false with errno set
 * when the file cannot be opened; logging then keeps its previous destination. */
bool log_configure(const char *ident, const char *destination, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);
void log_close(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { \
		if (log_enabled(LOGL_DEBUG)) \
			log_msg(LOGL_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
