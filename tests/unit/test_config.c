/* test_config.c: the configuration loader: every key of the sample, and one clear line
 * naming file, line and key for each kind of mistake. */
#include "src/config.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/calpubsub-test-config-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static const char *minimal =
	"component = { jid = \"pubsub.example.org\"; };\n"
	"database = { conninfo = \"dbname=x\"; };\n";

/* Loads text and returns the error line (empty when it loaded). */
static const char *load_error(const char *text)
{
	static char err[CONFIG_ERR_MAX];
	struct config cfg;
	err[0] = '\0';
	const char *path = write_file("t.conf", text);
	config_load(path, &cfg, err, sizeof(err));
	config_free(&cfg);
	return err;
}

static void expect_error(const char *text, const char *fragment, const char *what)
{
	const char *err = load_error(text);
	ok(strstr(err, fragment) != NULL, "%s: '%s' contains '%s'", what, err, fragment);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	char err[CONFIG_ERR_MAX];
	struct config cfg;
	const char *srcdir = getenv("CALPUBSUB_SRCDIR");
	char sample[512];
	snprintf(sample, sizeof(sample), "%s/etc/calpubsub.conf", srcdir ? srcdir : ".");
	ok(config_load(sample, &cfg, err, sizeof(err)), "the shipped sample loads (%s)", err);
	is_str(cfg.jid, "pubsub.calendar.localhost", "sample component JID");
	is_int(cfg.server_port, 5347, "sample port");
	config_free(&cfg);

	ok(config_load(write_file("min.conf", minimal), &cfg, err, sizeof(err)), "minimal config loads");
	is_str(cfg.server_host, "127.0.0.1", "default host");
	is_str(cfg.server_domain, "example.org", "default server domain is the component's parent");
	is_str(cfg.name, "Calendar PubSub", "default name");
	is_int(cfg.log_level, LOGL_INFO, "default log level");
	config_free(&cfg);

	expect_error("component = { jid = \"p.example.org\"; colour = \"red\"; };\ndatabase = { conninfo = \"x\"; };\n",
	             "t.conf:1: component.colour: unknown key", "unknown key");
	expect_error("component = { jid = \"p.example.org\"; };\n\ndatabase = { conninfo = 5; };\n",
	             "t.conf:3: database.conninfo: expected a string, found an integer", "wrong type");
	expect_error("component = { jid = \"p.example.org\"; };\nserver = { port = \"x\"; };\ndatabase = { conninfo = \"x\"; };\n",
	             "t.conf:2: server.port: expected an integer", "port as string");
	expect_error("component = { jid = \"p.example.org\"; };\nserver = { port = 70000; };\ndatabase = { conninfo = \"x\"; };\n",
	             "server.port: port 70000 out of range", "port out of range");
	expect_error("component = { name = \"x\"; };\ndatabase = { conninfo = \"x\"; };\n",
	             "t.conf:1: component.jid: required key is missing", "missing key names the group line");
	expect_error("database = { conninfo = \"x\"; };\n", "component.jid: required key is missing",
	             "missing group");
	expect_error("component = { jid = \"user@p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\n",
	             "component.jid: 'user@p.example.org' is not a domain JID", "JID with a localpart");
	expect_error("component = { jid = ; };\n", "t.conf:1: syntax error", "syntax error");
	expect_error("colour = 1;\ncomponent = { jid = \"p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\n",
	             "t.conf:1: colour: unknown key", "unknown top-level key");
	expect_error("component = { jid = \"p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\nweb = { port = 1; };\n",
	             "t.conf:3: web: unknown group", "unknown group");
	expect_error("component = { jid = \"p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\n"
	             "log = { level = \"loud\"; };\n",
	             "t.conf:3: log.level: 'loud' is not one of error, warn, info, debug", "bad log level");
	expect_error("component = { jid = \"p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\n"
	             "log = { destination = \"relative.log\"; };\n",
	             "log.destination: 'relative.log' is not stderr, syslog or an absolute file path", "relative log path");
	expect_error("component = { jid = \"p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\n"
	             "pubsub = { admins = [\"admin@example.org\", \"not a jid\"]; };\n",
	             "t.conf:3: pubsub.admins: element 2 is not a bare JID", "bad admin JID");
	expect_error("component = { jid = \"p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\n"
	             "server = { reconnect_min = 0; };\n",
	             "server.reconnect_min: must be a number of seconds", "zero duration");
	expect_error("component = { jid = \"p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\n"
	             "server = { reconnect_min = 10; reconnect_max = 2.5; };\n",
	             "server.reconnect_min: must not exceed server.reconnect_max", "min above max");
	expect_error("component = { jid = \"p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\n"
	             "server = { secret = \"a\"; secret_file = \"/b\"; };\n",
	             "server.secret: set either server.secret or server.secret_file", "two secrets");
	char missing[600];
	snprintf(missing, sizeof(missing), "%s/does-not-exist.conf", dir);
	ok(!config_load(missing, &cfg, err, sizeof(err)) && strstr(err, "does-not-exist.conf:0: cannot read") != NULL,
	   "unreadable file: %s", err);
	config_free(&cfg);

	/* secrets */
	const char *with_file = write_file("s.conf", "component = { jid = \"p.example.org\"; };\n"
	                                             "database = { conninfo = \"x\"; };\n"
	                                             "server = { secret_file = \"/nonexistent/secret\"; };\n");
	ok(config_load(with_file, &cfg, err, sizeof(err)), "config with secret_file loads");
	ok(!config_load_secret(&cfg, err, sizeof(err)) && strstr(err, "cannot read /nonexistent/secret"),
	   "missing secret file is reported: %s", err);
	config_free(&cfg);
	setenv("CALPUBSUB_SECRET", "from-env", 1);
	ok(config_load(with_file, &cfg, err, sizeof(err)) && config_load_secret(&cfg, err, sizeof(err)),
	   "environment secret wins");
	is_str(cfg.secret, "from-env", "secret from the environment");
	is_str(cfg.secret_source, "environment", "source named");
	ok(getenv("CALPUBSUB_SECRET") == NULL, "the environment variable is removed once read");
	config_free(&cfg);
	char secret_path[600];
	snprintf(secret_path, sizeof(secret_path), "%s/secret", dir);
	write_file("secret", "file-secret\n");
	char text[1024];
	snprintf(text, sizeof(text),
	         "component = { jid = \"p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\n"
	         "server = { secret_file = \"%s\"; };\n",
	         secret_path);
	ok(config_load(write_file("s2.conf", text), &cfg, err, sizeof(err)) && config_load_secret(&cfg, err, sizeof(err)),
	   "secret from a file");
	is_str(cfg.secret, "file-secret", "trailing newline stripped");
	config_free(&cfg);
	ok(config_load(write_file("s3.conf", minimal), &cfg, err, sizeof(err)) &&
	       !config_load_secret(&cfg, err, sizeof(err)) && strstr(err, "no shared secret"),
	   "no secret anywhere is an error");
	config_free(&cfg);

	ok(config_load(write_file("a.conf", "component = { jid = \"p.example.org\"; };\ndatabase = { conninfo = \"x\"; };\n"
	                                    "pubsub = { admins = [\"Admin@Example.org\"]; };\n"),
	               &cfg, err, sizeof(err)),
	   "admins load");
	ok(config_is_admin(&cfg, "admin@example.org"), "admin JIDs are normalised");
	ok(!config_is_admin(&cfg, "other@example.org"), "others are not admins");
	config_free(&cfg);

	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return done_testing();
}
