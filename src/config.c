/* config.c: loads calpubsub.conf with libconfig and validates it against the key table
 * below. The table is the single list of keys: adding a key means adding a row here and
 * a commented line in etc/calpubsub.conf. */
#include "config.h"

#include "buf.h"
#include "jid.h"

#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum key_type {
	KT_STRING,      /* any non-empty string */
	KT_DOMAIN,      /* a domain-only JID */
	KT_PORT,        /* 1..65535 */
	KT_SECONDS,     /* positive number, integer or float */
	KT_JID_LIST,    /* list or array of bare JIDs */
	KT_LOG_LEVEL,   /* error|warn|info|debug */
	KT_LOG_DEST,    /* stderr|syslog|/absolute/path */
	KT_CREATE,      /* everyone|local|admins or a list of domains */
	KT_COUNT,       /* positive integer */
	KT_BARE_JID,    /* one bare JID */
	KT_BOOL,        /* true or false */
};

struct key_spec {
	const char *path;
	enum key_type type;
	bool required;
	size_t offset;
};

#define OFF(field) offsetof(struct config, field)

static const struct key_spec keys[] = {
	{"component.jid", KT_DOMAIN, true, OFF(jid)},
	{"component.name", KT_STRING, false, OFF(name)},
	{"server.host", KT_STRING, false, OFF(server_host)},
	{"server.port", KT_PORT, false, OFF(server_port)},
	{"server.domain", KT_DOMAIN, false, OFF(server_domain)},
	{"server.secret", KT_STRING, false, OFF(secret_inline)},
	{"server.secret_file", KT_STRING, false, OFF(secret_file)},
	{"server.reconnect_min", KT_SECONDS, false, OFF(reconnect_min_s)},
	{"server.reconnect_max", KT_SECONDS, false, OFF(reconnect_max_s)},
	{"server.ping_interval", KT_SECONDS, false, OFF(ping_interval_s)},
	{"server.ping_timeout", KT_SECONDS, false, OFF(ping_timeout_s)},
	{"server.multicast", KT_BOOL, false, OFF(multicast)},
	{"database.conninfo", KT_STRING, true, OFF(db_conninfo)},
	{"pubsub.admins", KT_JID_LIST, false, OFF(admins)},
	{"pubsub.create_nodes", KT_CREATE, false, OFF(create_policy)},
	{"pubsub.max_payload_size", KT_COUNT, false, OFF(max_payload_size)},
	{"pubsub.max_reply_items", KT_COUNT, false, OFF(max_reply_items)},
	{"calendar.default_owner", KT_BARE_JID, false, OFF(calendar_owner)},
	{"log.level", KT_LOG_LEVEL, false, OFF(log_level)},
	{"log.destination", KT_LOG_DEST, false, OFF(log_destination)},
};

static const char *const groups[] = {"component", "server", "database", "pubsub", "calendar", "log"};

static void set_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->server_port = 5347;
	cfg->reconnect_min_s = 1;
	cfg->reconnect_max_s = 60;
	cfg->ping_interval_s = 60;
	cfg->ping_timeout_s = 20;
	cfg->multicast = true;
	cfg->log_level = LOGL_INFO;
	cfg->create_policy = CREATE_LOCAL;
	cfg->max_payload_size = 262144;
	cfg->max_reply_items = 500;
}

static const char *type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "unknown";
	}
}

struct load_ctx {
	const char *path;
	char *err;
	size_t errlen;
};

static bool fail_at(struct load_ctx *lc, const config_setting_t *s, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool fail_at(struct load_ctx *lc, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *file = s && config_setting_source_file(s) ? config_setting_source_file(s) : lc->path;
	unsigned line = s ? config_setting_source_line(s) : 0;
	snprintf(lc->err, lc->errlen, "%s:%u: %s: %s", file, line, key, msg);
	return false;
}

static const struct key_spec *find_key(const char *path)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

static bool is_group_name(const char *name)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (strcmp(groups[i], name) == 0)
			return true;
	return false;
}

static bool want_type(struct load_ctx *lc, const config_setting_t *s, const char *key, bool ok, const char *expected)
{
	if (ok)
		return true;
	return fail_at(lc, s, key, "expected %s, found %s", expected, type_name(config_setting_type(s)));
}

static bool store_string(struct load_ctx *lc, const config_setting_t *s, const char *key, char **dst)
{
	if (!want_type(lc, s, key, config_setting_type(s) == CONFIG_TYPE_STRING, "a string"))
		return false;
	const char *v = config_setting_get_string(s);
	if (!*v)
		return fail_at(lc, s, key, "must not be empty");
	free(*dst);
	*dst = xstrdup(v);
	return true;
}

static bool get_number(struct load_ctx *lc, const config_setting_t *s, const char *key, double *out)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: *out = (double)config_setting_get_int64(s); return true;
	case CONFIG_TYPE_FLOAT: *out = config_setting_get_float(s); return true;
	default: return want_type(lc, s, key, false, "a number");
	}
}

static bool apply_key(struct load_ctx *lc, const struct key_spec *k, const config_setting_t *s, struct config *cfg)
{
	void *field = (char *)cfg + k->offset;
	double num;
	switch (k->type) {
	case KT_STRING: return store_string(lc, s, k->path, field);
	case KT_DOMAIN:
		if (!store_string(lc, s, k->path, field))
			return false;
		if (!jid_is_domain(*(char **)field))
			return fail_at(lc, s, k->path, "'%s' is not a domain JID", *(char **)field);
		return true;
	case KT_PORT:
		if (!want_type(lc, s, k->path, config_setting_type(s) == CONFIG_TYPE_INT, "an integer"))
			return false;
		num = config_setting_get_int(s);
		if (num < 1 || num > 65535)
			return fail_at(lc, s, k->path, "port %.0f out of range 1-65535", num);
		*(int *)field = (int)num;
		return true;
	case KT_SECONDS:
		if (!get_number(lc, s, k->path, &num))
			return false;
		if (!(num > 0) || !isfinite(num) || num > 86400)
			return fail_at(lc, s, k->path, "must be a number of seconds between 0 and 86400");
		*(double *)field = num;
		return true;
	case KT_LOG_LEVEL: {
		if (!want_type(lc, s, k->path, config_setting_type(s) == CONFIG_TYPE_STRING, "a string"))
			return false;
		const char *v = config_setting_get_string(s);
		if (!log_level_parse(v, field))
			return fail_at(lc, s, k->path, "'%s' is not one of error, warn, info, debug", v);
		return true;
	}
	case KT_LOG_DEST: {
		if (!store_string(lc, s, k->path, field))
			return false;
		const char *v = *(char **)field;
		if (strcmp(v, "stderr") != 0 && strcmp(v, "syslog") != 0 && v[0] != '/')
			return fail_at(lc, s, k->path, "'%s' is not stderr, syslog or an absolute file path", v);
		return true;
	}
	case KT_BOOL:
		if (!want_type(lc, s, k->path, config_setting_type(s) == CONFIG_TYPE_BOOL, "true or false"))
			return false;
		*(bool *)field = config_setting_get_bool(s);
		return true;
	case KT_BARE_JID: {
		if (!store_string(lc, s, k->path, field))
			return false;
		char **dst = field;
		struct jid j;
		bool ok = jid_parse(*dst, &j) && j.local && !j.resource;
		if (ok) {
			char *bare = jid_bare_string(&j);
			free(*dst);
			*dst = bare;
		}
		jid_free(&j);
		if (!ok)
			return fail_at(lc, s, k->path, "'%s' is not a bare JID (user@domain)", *dst);
		return true;
	}
	case KT_COUNT:
		if (!want_type(lc, s, k->path, config_setting_type(s) == CONFIG_TYPE_INT, "an integer"))
			return false;
		if (config_setting_get_int(s) < 1)
			return fail_at(lc, s, k->path, "must be a positive integer");
		*(int *)field = config_setting_get_int(s);
		return true;
	case KT_CREATE: {
		int t = config_setting_type(s);
		if (t == CONFIG_TYPE_STRING) {
			const char *v = config_setting_get_string(s);
			if (strcmp(v, "everyone") == 0)
				cfg->create_policy = CREATE_EVERYONE;
			else if (strcmp(v, "local") == 0)
				cfg->create_policy = CREATE_LOCAL;
			else if (strcmp(v, "admins") == 0)
				cfg->create_policy = CREATE_ADMINS;
			else
				return fail_at(lc, s, k->path, "'%s' is not everyone, local, admins or a list of domains", v);
			return true;
		}
		if (!want_type(lc, s, k->path, t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST,
		               "everyone, local, admins or a list of domains"))
			return false;
		int n = config_setting_length(s);
		cfg->create_domains = xcalloc((size_t)n + 1, sizeof(char *));
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			const char *v = config_setting_get_string(e);
			if (!v || !jid_is_domain(v))
				return fail_at(lc, e, k->path, "element %d is not a domain", i + 1);
			cfg->create_domains[i] = jid_normalize(v);
			cfg->n_create_domains = (size_t)i + 1;
		}
		cfg->create_policy = CREATE_DOMAINS;
		return true;
	}
	case KT_JID_LIST: {
		int t = config_setting_type(s);
		if (!want_type(lc, s, k->path, t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST, "a list of JIDs"))
			return false;
		int n = config_setting_length(s);
		char **list = xcalloc((size_t)n + 1, sizeof(char *));
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			const char *v = config_setting_get_string(e);
			char *bare = v ? jid_normalize_bare(v) : NULL;
			struct jid j;
			bool has_resource = v && jid_parse(v, &j) && j.resource;
			if (v)
				jid_free(&j);
			if (!bare || has_resource) {
				for (int m = 0; m < i; m++)
					free(list[m]);
				free(list);
				free(bare);
				return fail_at(lc, e, k->path, "element %d is not a bare JID", i + 1);
			}
			list[i] = bare;
		}
		char ***dst = field;
		*dst = list;
		cfg->n_admins = (size_t)n;
		return true;
	}
	}
	return false;
}

static bool walk(struct load_ctx *lc, const config_setting_t *group, const char *prefix, struct config *cfg)
{
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		char path[256];
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name ? name : "?");
		if (config_setting_type(s) == CONFIG_TYPE_GROUP) {
			if (*prefix || !is_group_name(name))
				return fail_at(lc, s, path, "unknown group");
			if (!walk(lc, s, path, cfg))
				return false;
			continue;
		}
		const struct key_spec *k = find_key(path);
		if (!k)
			return fail_at(lc, s, path, *prefix ? "unknown key" : "unknown key (keys belong in a group such as server { ... })");
		if (!apply_key(lc, k, s, cfg))
			return false;
	}
	return true;
}

static bool check_required(struct load_ctx *lc, config_t *lib, struct config *cfg)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!keys[i].required || config_lookup(lib, keys[i].path))
			continue;
		/* Point at the group when it exists, so the admin knows where to add the key. */
		char group[64];
		snprintf(group, sizeof(group), "%.*s", (int)(strchr(keys[i].path, '.') - keys[i].path), keys[i].path);
		const config_setting_t *g = config_lookup(lib, group);
		return fail_at(lc, g, keys[i].path, "required key is missing");
	}
	if (cfg->secret_inline && cfg->secret_file) {
		const config_setting_t *s = config_lookup(lib, "server.secret");
		return fail_at(lc, s, "server.secret", "set either server.secret or server.secret_file, not both");
	}
	if (cfg->reconnect_min_s > cfg->reconnect_max_s) {
		const config_setting_t *s = config_lookup(lib, "server.reconnect_min");
		return fail_at(lc, s, "server.reconnect_min", "must not exceed server.reconnect_max");
	}
	return true;
}

/* The domain calpubsub pings and asks for services: by default the component's parent. */
static void derive_defaults(struct config *cfg)
{
	if (!cfg->server_host)
		cfg->server_host = xstrdup("127.0.0.1");
	if (!cfg->name)
		cfg->name = xstrdup("Calendar PubSub");
	if (!cfg->server_domain) {
		const char *dot = strchr(cfg->jid, '.');
		cfg->server_domain = xstrdup(dot ? dot + 1 : cfg->jid);
	}
	if (!cfg->log_destination)
		cfg->log_destination = xstrdup("stderr");
}

bool config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	set_defaults(cfg);
	cfg->path = xstrdup(path);
	struct load_ctx lc = {path, err, errlen};
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s:0: cannot read the configuration file: %s", path, strerror(errno));
		return false;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		snprintf(err, errlen, "%s:0: is a directory, not a configuration file", path);
		return false;
	}
	config_t lib;
	config_init(&lib);
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		config_set_include_dir(&lib, dir);
	}
	free(dir);
	bool ok = config_read(&lib, f) == CONFIG_TRUE;
	fclose(f);
	if (!ok) {
		snprintf(err, errlen, "%s:%d: syntax error: %s", config_error_file(&lib) ? config_error_file(&lib) : path,
		         config_error_line(&lib), config_error_text(&lib));
	} else {
		ok = walk(&lc, config_root_setting(&lib), "", cfg) && check_required(&lc, &lib, cfg);
	}
	config_destroy(&lib);
	if (ok)
		derive_defaults(cfg);
	return ok;
}

static char *read_secret_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "server.secret_file: cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	char line[1024];
	char *got = fgets(line, sizeof(line), f);
	fclose(f);
	if (!got) {
		snprintf(err, errlen, "server.secret_file: %s is empty", path);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (!line[0]) {
		snprintf(err, errlen, "server.secret_file: the first line of %s is empty", path);
		return NULL;
	}
	char *s = xstrdup(line);
	memset(line, 0, sizeof(line));
	return s;
}

bool config_load_secret(struct config *cfg, char *err, size_t errlen)
{
	char *env = getenv(CONFIG_SECRET_ENV);
	if (env && *env) {
		cfg->secret = xstrdup(env);
		cfg->secret_source = "environment";
		/* unsetenv() alone leaves the value readable in /proc/PID/environ, which shows
		 * the original environment block: wipe it there first. */
		memset(env, 0, strlen(env));
		unsetenv(CONFIG_SECRET_ENV);
		return true;
	}
	if (cfg->secret_file) {
		cfg->secret = read_secret_file(cfg->secret_file, err, errlen);
		cfg->secret_source = "file";
		return cfg->secret != NULL;
	}
	if (cfg->secret_inline) {
		cfg->secret = xstrdup(cfg->secret_inline);
		cfg->secret_source = "config";
		return true;
	}
	snprintf(err, errlen, "%s: no shared secret: set server.secret_file, server.secret or $%s", cfg->path,
	         CONFIG_SECRET_ENV);
	return false;
}

static void free_secret(char *s)
{
	if (!s)
		return;
	/* volatile keeps the compiler from dropping the wipe of memory about to be freed */
	for (volatile char *p = s; *p; p++)
		*p = 0;
	free(s);
}

void config_free(struct config *cfg)
{
	free(cfg->path);
	free(cfg->jid);
	free(cfg->name);
	free(cfg->server_host);
	free(cfg->server_domain);
	free_secret(cfg->secret_inline);
	free(cfg->secret_file);
	free(cfg->db_conninfo);
	for (size_t i = 0; i < cfg->n_admins; i++)
		free(cfg->admins[i]);
	free(cfg->admins);
	for (size_t i = 0; i < cfg->n_create_domains; i++)
		free(cfg->create_domains[i]);
	free(cfg->create_domains);
	free(cfg->log_destination);
	free(cfg->calendar_owner);
	free_secret(cfg->secret);
	memset(cfg, 0, sizeof(*cfg));
}

bool config_is_admin(const struct config *cfg, const char *bare_jid)
{
	for (size_t i = 0; i < cfg->n_admins; i++)
		if (strcmp(cfg->admins[i], bare_jid) == 0)
			return true;
	return false;
}

bool config_may_create(const struct config *cfg, const char *bare_jid)
{
	if (config_is_admin(cfg, bare_jid))
		return true;
	const char *at = strchr(bare_jid, '@');
	const char *domain = at ? at + 1 : bare_jid;
	switch (cfg->create_policy) {
	case CREATE_EVERYONE: return true;
	case CREATE_ADMINS: return false;
	case CREATE_LOCAL: return strcmp(domain, cfg->server_domain) == 0;
	case CREATE_DOMAINS:
		for (size_t i = 0; i < cfg->n_create_domains; i++)
			if (strcmp(domain, cfg->create_domains[i]) == 0)
				return true;
		return false;
	}
	return false;
}
