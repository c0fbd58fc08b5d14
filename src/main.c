/* main.c: the calpubsub daemon: command line, configuration, signals, and the wiring of
 * the XMPP link, the database and the service into one event loop. */
#include "autoconf.h"
#include "buf.h"
#include "calendar/calendar.h"
#include "config.h"
#include "log.h"
#include "live/ingest.h"
#include "loop.h"
#include "notify/fanout.h"
#include "pubsub/service.h"
#include "store/store.h"
#include "xmpp/handlers.h"
#include "xmpp/link.h"
#include "xmpp/multicast.h"
#include "xmpp/router.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Exit statuses, as documented in calpubsub(8). */
#define EXIT_RUNTIME 1 /* a fatal condition after start, such as a schema mismatch */
#define EXIT_USAGE 64
#define EXIT_CONFIG 78
#define SHUTDOWN_TIMEOUT_MS 3000

struct daemon {
	struct config cfg;
	int verbosity; /* -v minus -q: applied on top of log.level */
	struct store *store;
	struct link *link;
	struct router *router;
	struct service *svc;
	struct fanout *fanout;
	struct ingest *ingest;
	struct multicast *multicast;
	struct loop_timer expiry_timer;
	int signal_fd;
	int exit_status;
	bool stopping;
};

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: calpubsub [OPTION]...\n"
	        "Calendar PubSub (XEP-0060) component for Prosody and ejabberd.\n\n"
	        "  -c, --config=FILE    configuration file (default " CONFIG_DEFAULT_PATH ")\n"
	        "  -f, --foreground     stay in the foreground instead of detaching\n"
	        "  -p, --pidfile=FILE   write the process id to FILE (with detaching)\n"
	        "  -v, --verbose        log more (repeat for debug); overrides log.level\n"
	        "  -q, --quiet          log less (repeat for errors only)\n"
	        "  -V, --version        print the version and exit\n"
	        "  -h, --help           print this help and exit\n\n"
	        "The shared secret comes from $" CONFIG_SECRET_ENV ", server.secret_file or server.secret;\n"
	        "it is never taken from the command line. SIGHUP re-reads log.level and\n"
	        "log.destination; SIGTERM and SIGINT close the stream and exit.\n");
}

static enum log_level effective_level(enum log_level configured, int verbosity)
{
	int level = (int)configured + verbosity;
	if (level < LOGL_ERROR)
		level = LOGL_ERROR;
	if (level > LOGL_DEBUG)
		level = LOGL_DEBUG;
	return (enum log_level)level;
}

static void reload(struct daemon *d)
{
	struct config fresh;
	char err[CONFIG_ERR_MAX];
	if (!config_load(d->cfg.path, &fresh, err, sizeof(err))) {
		log_error("SIGHUP: keeping the running configuration: %s", err);
		config_free(&fresh);
		return;
	}
	enum log_level level = effective_level(fresh.log_level, d->verbosity);
	/* Announce under whichever of the old and new levels shows it, so that the line
	 * appears when the level goes down and when it goes up. */
	bool announced = log_enabled(LOGL_INFO);
	if (announced)
		log_info("SIGHUP: configuration re-read; log level %s, log destination %s", log_level_name(level),
		         fresh.log_destination);
	if (!log_configure(NULL, fresh.log_destination, level)) {
		log_error("SIGHUP: cannot open log destination %s: %s", fresh.log_destination, strerror(errno));
	} else {
		free(d->cfg.log_destination);
		d->cfg.log_destination = xstrdup(fresh.log_destination);
		d->cfg.log_level = fresh.log_level;
	}
	if (!announced)
		log_info("SIGHUP: configuration re-read; log level %s, log destination %s", log_level_name(level),
		         d->cfg.log_destination);
	if (strcmp(fresh.jid, d->cfg.jid) != 0 || strcmp(fresh.server_host, d->cfg.server_host) != 0 ||
	    fresh.server_port != d->cfg.server_port || strcmp(fresh.db_conninfo, d->cfg.db_conninfo) != 0)
		log_warn("SIGHUP: component, server or database settings changed; restart calpubsub to apply them");
	config_free(&fresh);
}

static void on_link_closed(void *arg)
{
	struct daemon *d = arg;
	fanout_save_now(d->fanout);
	loop_quit();
}

static void begin_shutdown(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("%s: shutting down", why);
	link_shutdown(d->link, SHUTDOWN_TIMEOUT_MS, on_link_closed, d);
}

static void on_signal(int fd, short revents, void *arg)
{
	(void)revents;
	struct daemon *d = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP: reload(d); break;
		case SIGTERM: begin_shutdown(d, "SIGTERM"); break;
		case SIGINT: begin_shutdown(d, "SIGINT"); break;
		default: break;
		}
	}
}

static int setup_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Expired items are deleted (and their retraction announced) by calpubsub itself, at
 * most a second after they expire; retrieval hides them at once. */
static void on_expiry_timer(void *arg)
{
	struct daemon *d = arg;
	if (!store_is_up(d->store))
		return;
	double next = service_expire_items(d->svc);
	if (next < 0 || next > 1)
		next = 1;
	loop_timer_start(&d->expiry_timer, (uint64_t)(next * 1000) + 1);
}

static void on_store_event(enum store_event ev, const char *detail, void *arg)
{
	struct daemon *d = arg;
	if (ev == STORE_EV_SCHEMA_MISMATCH) {
		log_error("%s", detail);
		d->exit_status = EXIT_RUNTIME;
		begin_shutdown(d, "database schema mismatch");
		return;
	}
	fanout_store_state(d->fanout, ev == STORE_EV_UP);
	if (ev == STORE_EV_UP)
		loop_timer_start(&d->expiry_timer, 0);
	else
		loop_timer_stop(&d->expiry_timer);
}

static void on_store_notify(const char *payload, void *arg)
{
	struct daemon *d = arg;
	fanout_wake(d->fanout, payload);
}

static void on_link_state(bool online, void *arg)
{
	struct daemon *d = arg;
	/* multicast first: its probes cancelled below must see that the connection they were
	 * for is gone, or they send the next probe into it and that request, never answered,
	 * is dropped with its argument at shutdown (LeakSanitizer) */
	multicast_link_state(d->multicast, online);
	if (!online)
		router_cancel_requests(d->router);
	fanout_link_state(d->fanout, online);
}

static void on_bounce(const char *from, const char *id, bool permanent, const char *condition, void *arg)
{
	struct daemon *d = arg;
	fanout_bounced(d->fanout, from, id, permanent, condition);
}

/* Detaches from the terminal. The parent waits for the child to report that start-up
 * went through, so that an init script sees a failure as an exit status. */
static int daemonize(const char *pidfile, int *ready_fd)
{
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(pipefd[1]);
		char status = 1;
		ssize_t n = read(pipefd[0], &status, 1);
		_exit(n == 1 ? status : EXIT_RUNTIME);
	}
	close(pipefd[0]);
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(EXIT_RUNTIME);
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");
		if (!f) {
			log_error("cannot write pid file %s: %s", pidfile, strerror(errno));
			return -1;
		}
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	*ready_fd = pipefd[1];
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
		{"pidfile", required_argument, NULL, 'p'}, {"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},         {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	struct daemon d = {0};
	const char *config_path = CONFIG_DEFAULT_PATH;
	const char *pidfile = NULL;
	bool foreground = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:fp:vqVh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'f': foreground = true; break;
		case 'p': pidfile = optarg; break;
		case 'v': d.verbosity++; break;
		case 'q': d.verbosity--; break;
		case 'V': printf("calpubsub %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "calpubsub: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	char err[CONFIG_ERR_MAX];
	if (!config_load(config_path, &d.cfg, err, sizeof(err)) || !config_load_secret(&d.cfg, err, sizeof(err))) {
		fprintf(stderr, "calpubsub: %s\n", err);
		config_free(&d.cfg);
		return EXIT_CONFIG;
	}
	enum log_level level = effective_level(d.cfg.log_level, d.verbosity);
	if (!log_configure("calpubsub", d.cfg.log_destination, level)) {
		fprintf(stderr, "calpubsub: %s: log.destination: cannot open %s: %s\n", d.cfg.path,
		        d.cfg.log_destination, strerror(errno));
		config_free(&d.cfg);
		return EXIT_CONFIG;
	}
	int ready_fd = -1;
	if (!foreground && daemonize(pidfile, &ready_fd) != 0) {
		log_error("cannot detach: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	loop_init();
	d.signal_fd = setup_signals();
	if (d.signal_fd < 0) {
		log_error("cannot set up signal handling: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	loop_watch_fd(d.signal_fd, POLLIN, on_signal, &d);

	log_info("calpubsub %s starting as %s (secret from %s)", PACKAGE_VERSION, d.cfg.jid, d.cfg.secret_source);
	d.store = store_new(d.cfg.db_conninfo, d.cfg.reconnect_min_s, d.cfg.reconnect_max_s);
	store_set_handlers(d.store, on_store_event, on_store_notify, &d);
	d.svc = service_new(d.store, &d.cfg);
	service_set_item_encoder(d.svc, cal_to_item);
	d.link = link_new(&d.cfg);
	d.router = router_new(d.link, &d.cfg);
	d.fanout = fanout_new(d.store, d.link, d.svc, &d.cfg);
	d.multicast = multicast_new(d.router, &d.cfg);
	fanout_set_multicast(d.fanout, d.multicast);
	d.ingest = ingest_new(d.svc, d.store);
	fanout_set_ingest(d.fanout, ingest_row, d.ingest);
	loop_timer_init(&d.expiry_timer, on_expiry_timer, &d);
	link_set_handlers(d.link, on_link_state, &d, router_dispatch, d.router);
	link_set_input_done(d.link, router_input_done, d.router);
	disco_register(d.router, d.svc);
	basic_register(d.router);
	pubsub_register(d.router, d.svc);
	adhoc_register(d.router, d.svc);
	inbound_register(d.router, d.svc, on_bounce, &d);

	store_start(d.store);
	link_start(d.link);
	if (ready_fd >= 0) {
		char ok = 0;
		if (write(ready_fd, &ok, 1) != 1)
			log_warn("cannot report start-up to the parent process");
		close(ready_fd);
	}
	loop_run(1000);

	loop_timer_stop(&d.expiry_timer);
	/* requests still waiting for an answer (a shutdown that never saw the link go down)
	 * hand their arguments back before their owners go */
	multicast_link_state(d.multicast, false);
	router_cancel_requests(d.router);
	/* The link goes first: releasing a connection libstrophe still counts as open reports
	 * the disconnect, which fails the outstanding syncs into the fan-out (on_synced) and
	 * tells on_link_state; both must still exist (valgrind saw on_synced read a freed
	 * fan-out when the link was freed last). */
	link_free(d.link);
	fanout_free(d.fanout);
	ingest_free(d.ingest);
	multicast_free(d.multicast);
	router_free(d.router);
	service_free(d.svc);
	store_free(d.store);
	loop_free();
	close(d.signal_fd);
	if (pidfile && !foreground)
		unlink(pidfile);
	cal_library_cleanup();
	log_info("calpubsub stopped");
	log_close();
	config_free(&d.cfg);
	return d.exit_status;
}
