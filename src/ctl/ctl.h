/* ctl.h: what the calpubsubctl commands share: the configuration, the database
 * connection, and the documented exit statuses. */
#ifndef CALPUBSUB_CTL_H
#define CALPUBSUB_CTL_H

#include "../config.h"
#include "../store/store.h"

#include <stdbool.h>

/* Exit statuses, as documented in calpubsubctl(8) (sysexits.h values). */
#define EXIT_FAILED 1       /* the command failed */
#define EXIT_USAGE 64       /* wrong command line */
#define EXIT_DATAERR 65     /* the input file is not valid iCalendar: nothing was written */
#define EXIT_NOINPUT 66     /* the input file cannot be read */
#define EXIT_UNAVAILABLE 69 /* the database cannot be reached */
#define EXIT_CONFIG 78      /* configuration error */

struct ctl {
	const char *config_path;
	struct config cfg;
};

/* Loads the configuration (and the secret when asked); prints the error and returns an
 * exit status, or 0. */
int ctl_load_config(struct ctl *c, bool need_secret);
/* A blocking connection, or NULL after printing why. */
struct store *ctl_connect(struct ctl *c);
/* The configuration (no secret) and a blocking connection: an exit status, or 0 with *st set. */
int ctl_open_store(struct ctl *c, struct store **st);

int cmd_import(struct ctl *c, int argc, char **argv);
int cmd_export(struct ctl *c, int argc, char **argv);
int cmd_occurrences(struct ctl *c, int argc, char **argv);

#endif
