/* calpubsubctl.c: the admin command line: schema migrations, configuration checks, and
 * (as they land) calendar import, export and queries. It reuses store/ and calendar/. */
#include "autoconf.h"
#include "../calendar/calendar.h"
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: calpubsubctl [-c FILE] COMMAND [ARGS]\n"
	        "Administration of calpubsub, the calendar PubSub component.\n\n"
	        "Commands:\n"
	        "  migrate          apply pending database migrations\n"
	        "  schema-version   print the database schema version and the one this build needs\n"
	        "  check-config     check the configuration file (and the secret) without connecting\n"
	        "  import FILE|- --node NODE [--owner JID] [--title TEXT] [--format xcal|jcal]\n"
	        "                   [--keep-missing] [--dry-run] [--skip-invalid] [--json]\n"
	        "                   load an iCalendar file into a calendar node: publish what is new or\n"
	        "                   changed, retract what is gone\n"
	        "  export --node NODE [--output FILE]\n"
	        "                   write a calendar node as one iCalendar file\n"
	        "  occurrences --node NODE --from TIME --to TIME [--tz ZONE] [--json]\n"
	        "                   list the occurrences in a window, recurrences expanded\n\n"
	        "Options:\n"
	        "  -c, --config=FILE  configuration file (default " CONFIG_DEFAULT_PATH ")\n"
	        "  -V, --version      print the version and exit\n"
	        "  -h, --help         print this help and exit\n");
}

int ctl_load_config(struct ctl *c, bool need_secret)
{
	char err[CONFIG_ERR_MAX];
	if (!config_load(c->config_path, &c->cfg, err, sizeof(err)) ||
	    (need_secret && !config_load_secret(&c->cfg, err, sizeof(err)))) {
		fprintf(stderr, "calpubsubctl: %s\n", err);
		return EXIT_CONFIG;
	}
	return 0;
}

struct store *ctl_connect(struct ctl *c)
{
	char err[512];
	struct store *st = store_connect_blocking(c->cfg.db_conninfo, err, sizeof(err));
	if (!st)
		fprintf(stderr, "calpubsubctl: %s\n", err);
	return st;
}

int ctl_open_store(struct ctl *c, struct store **st)
{
	int rc = ctl_load_config(c, false);
	if (rc)
		return rc;
	*st = ctl_connect(c);
	return *st ? 0 : EXIT_UNAVAILABLE;
}

static void print_step(int version, const char *name, void *arg)
{
	(void)arg;
	printf("applied %03d_%s\n", version, name);
}

static int cmd_migrate(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "calpubsubctl migrate: unexpected argument '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	struct store *st;
	int rc = ctl_open_store(c, &st);
	if (rc)
		return rc;
	char err[1024];
	int before = 0;
	store_schema_version(st, &before);
	enum store_result r = store_migrate(st, print_step, NULL, err, sizeof(err));
	if (r != STORE_OK) {
		fprintf(stderr, "calpubsubctl: %s\n", err);
		store_free(st);
		return EXIT_FAILED;
	}
	int after = 0;
	store_schema_version(st, &after);
	if (after == before)
		printf("schema already at version %d: nothing to do\n", after);
	else
		printf("schema migrated from version %d to %d\n", before, after);
	store_free(st);
	return 0;
}

static int cmd_schema_version(struct ctl *c, int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "calpubsubctl schema-version: unexpected argument '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	struct store *st;
	int rc = ctl_open_store(c, &st);
	if (rc)
		return rc;
	int version = 0;
	enum store_result r = store_schema_version(st, &version);
	store_free(st);
	if (r != STORE_OK)
		return EXIT_FAILED;
	printf("database %d, this build %d%s\n", version, store_schema_expected(),
	       version == store_schema_expected() ? "" : " (run 'calpubsubctl migrate')");
	return version == store_schema_expected() ? 0 : EXIT_FAILED;
}

static int cmd_check_config(struct ctl *c, int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "calpubsubctl check-config: unexpected argument '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	int rc = ctl_load_config(c, true);
	if (rc)
		return rc;
	printf("%s: OK (component %s, server %s:%d, secret from %s)\n", c->cfg.path, c->cfg.jid, c->cfg.server_host,
	       c->cfg.server_port, c->cfg.secret_source);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ctl c = {CONFIG_DEFAULT_PATH, {0}};
	int opt;
	/* '+' stops at the command, so that its own options are left for it */
	while ((opt = getopt_long(argc, argv, "+c:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': c.config_path = optarg; break;
		case 'V': printf("calpubsubctl %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[optind];
	static const struct {
		const char *name;
		int (*fn)(struct ctl *, int, char **);
	} commands[] = {
		{"migrate", cmd_migrate},         {"schema-version", cmd_schema_version}, {"check-config", cmd_check_config},
		{"import", cmd_import},           {"export", cmd_export},                 {"occurrences", cmd_occurrences},
	};
	int rc = -1;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) == 0) {
			rc = commands[i].fn(&c, argc - optind, argv + optind);
			break;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "calpubsubctl: unknown command '%s'\n", cmd);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	config_free(&c.cfg);
	cal_library_cleanup();
	return rc;
}
