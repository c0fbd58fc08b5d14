/* config.h: the configuration file (libconfig syntax), shared by calpubsub and
 * calpubsubctl. Every key is checked against a schema: an unknown key, a wrong type or
 * a missing required key is one error line naming the file, the line and the key. */
#ifndef CALPUBSUB_CONFIG_H
#define CALPUBSUB_CONFIG_H

#include "log.h"

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/calpubsub/calpubsub.conf"
#define CONFIG_SECRET_ENV "CALPUBSUB_SECRET"
#define CONFIG_ERR_MAX 1024

struct config {
	char *path;

	/* component */
	char *jid;
	char *name;

	/* server */
	char *server_host;
	int server_port;
	char *server_domain;
	char *secret_inline; /* server.secret, discouraged */
	char *secret_file;
	double reconnect_min_s;
	double reconnect_max_s;
	double ping_interval_s;
	double ping_timeout_s;
	bool multicast; /* send notifications through the server's XEP-0033 service if it has one */

	/* database */
	char *db_conninfo;

	/* pubsub */
	char **admins; /* normalised bare JIDs */
	size_t n_admins;
	enum create_policy { CREATE_EVERYONE, CREATE_LOCAL, CREATE_ADMINS, CREATE_DOMAINS } create_policy;
	char **create_domains; /* with CREATE_DOMAINS: normalised domains */
	size_t n_create_domains;
	int max_payload_size;  /* service-wide upper bound of pubsub#max_payload_size */
	int max_reply_items;   /* most items in one retrieval reply (RSM pages beyond) */

	/* calendar */
	char *calendar_owner;  /* owner of calendars created by import or by applications' rows */

	/* log */
	enum log_level log_level;
	char *log_destination;

	/* Resolved by config_load_secret(); never logged. */
	char *secret;
	const char *secret_source; /* "environment", "file", "config" */
};

/* Reads and checks path. On failure returns false and writes one line to err. */
bool config_load(const char *path, struct config *cfg, char *err, size_t errlen);
/* Resolves the shared secret: $CALPUBSUB_SECRET, then server.secret_file, then
 * server.secret. The environment variable is removed once read so that child processes
 * do not inherit it. */
bool config_load_secret(struct config *cfg, char *err, size_t errlen);
void config_free(struct config *cfg);
bool config_is_admin(const struct config *cfg, const char *bare_jid);
/* Whether bare_jid may create nodes under pubsub.create_nodes. */
bool config_may_create(const struct config *cfg, const char *bare_jid);

#endif
