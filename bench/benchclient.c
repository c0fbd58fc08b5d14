/* benchclient.c: the bench's XMPP clients, in C with libstrophe.
 *
 *   benchclient clients SHM PORT PREFIX FIRST COUNT RATE
 *     logs in COUNT accounts PREFIX<FIRST>..@localhost (PLAIN, no TLS) at RATE logins/s
 *     (at most a few in progress at once, so the server's accept backlog never overflows),
 *     sends presence, and counts every pubsub notification it receives by the publish
 *     sequence number in its item id ("b<seq>"): first copies, repeats (per client) and
 *     the times of the first and last receipt, into the shared scoreboard SHM. When the
 *     runner bumps sub_cmd, every client subscribes its bare JID to SHM's service/node.
 *     libstrophe select()s: keep COUNT at about 250 per process.
 *
 *   benchclient pub SHM PORT USER
 *     one publisher session; reads commands on standard input, one a line, and answers
 *     each with one JSON line on standard output:
 *       iq ID XML                      sends XML (an IQ with id ID), waits for its answer
 *       serial SERVICE NODE PAYLOAD SEQ0 M EXPECT TIMEOUT CAP
 *                                      M publishes one at a time: each waits for its IQ
 *                                      answer and then until EXPECT clients have it (at
 *                                      most TIMEOUT s); no new publish after CAP s
 *       burst SERVICE NODE PAYLOAD SEQ0 M EXPECT TIMEOUT CAP
 *                                      M publishes back to back; waits until EXPECT x M
 *                                      notifications arrived, TIMEOUT s passed without
 *                                      progress, or CAP s in all
 *       quit
 *     PAYLOAD is a file whose bytes go verbatim inside <item id='b<seq>'>...</item>.
 */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DOMAIN "localhost"
#define PASSWORD "password"
#define MAX_LOGINS_IN_FLIGHT 8
#define NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define NS_EVENT "http://jabber.org/protocol/pubsub#event"

static struct bench_shm *shm;
static volatile sig_atomic_t stop;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void atomic_max(uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
	while (cur < v && !__atomic_compare_exchange_n(p, &cur, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void atomic_min_nonzero(uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
	while ((cur == 0 || cur > v) && !__atomic_compare_exchange_n(p, &cur, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static struct bench_shm *map_shm(const char *path)
{
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		perror(path);
		exit(2);
	}
	void *p = mmap(NULL, sizeof(struct bench_shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	struct bench_shm *s = p;
	if (s->magic != BENCH_SHM_MAGIC) {
		fprintf(stderr, "%s: not a bench scoreboard\n", path);
		exit(2);
	}
	return s;
}

static int sockopt_nodelay(xmpp_conn_t *conn, void *sockp)
{
	(void)conn;
	int fd = *(int *)sockp, one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static void silent_log(void *ud, xmpp_log_level_t level, const char *area, const char *msg)
{
	(void)ud;
	if (level >= XMPP_LEVEL_ERROR)
		fprintf(stderr, "libstrophe %s: %s\n", area, msg);
}
static const xmpp_log_t logger = {silent_log, NULL};

/* ---------------------------------------------------------------- clients ---- */

struct client {
	xmpp_conn_t *conn;
	char bare[64];
	int state; /* 0 not started, 1 connecting, 2 online, 3 gone */
	unsigned subs_done;
	uint8_t seen[BENCH_MAX_SEQ / 8];
};

static struct client *clients;
static int n_clients, n_started, in_flight;
static uint64_t start_ns;
static double login_rate;
static int c2s_port;
static xmpp_ctx_t *ctx;

static int on_message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	(void)conn;
	struct client *c = ud;
	uint64_t t = now_ns();
	xmpp_stanza_t *ev = xmpp_stanza_get_child_by_name_and_ns(st, "event", NS_EVENT);
	xmpp_stanza_t *items = ev ? xmpp_stanza_get_child_by_name(ev, "items") : NULL;
	xmpp_stanza_t *item = items ? xmpp_stanza_get_child_by_name(items, "item") : NULL;
	const char *id = item ? xmpp_stanza_get_attribute(item, "id") : NULL;
	char *end;
	unsigned long seq = id && id[0] == 'b' ? strtoul(id + 1, &end, 10) : BENCH_MAX_SEQ;
	if (!id || id[0] != 'b' || *end || seq >= BENCH_MAX_SEQ) {
		__atomic_add_fetch(&shm->unexpected, 1, __ATOMIC_RELAXED);
		return 1;
	}
	if (c->seen[seq / 8] & (1u << (seq % 8))) {
		__atomic_add_fetch(&shm->dups, 1, __ATOMIC_RELAXED);
		return 1;
	}
	c->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	__atomic_add_fetch(&shm->received, 1, __ATOMIC_RELAXED);
	atomic_min_nonzero(&shm->first_ns[seq], t);
	atomic_max(&shm->last_ns[seq], t);
	/* last: the publisher polls count, so the time must be in place before it */
	__atomic_add_fetch(&shm->count[seq], 1, __ATOMIC_RELEASE);
	return 1;
}

static int on_sub_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	(void)conn;
	(void)ud;
	const char *type = xmpp_stanza_get_type(st);
	atomic_max(&shm->sub_last_ns, now_ns());
	if (type && strcmp(type, "result") == 0)
		__atomic_add_fetch(&shm->sub_ok, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&shm->sub_err, 1, __ATOMIC_RELAXED);
	return 0;
}

static void subscribe(struct client *c, unsigned gen)
{
	char id[48], xml[512];
	snprintf(id, sizeof(id), "sub-%u", gen);
	snprintf(xml, sizeof(xml),
	         "<iq type='set' id='%s' to='%s'><pubsub xmlns='" NS_PUBSUB "'><subscribe node='%s' jid='%s'/></pubsub></iq>",
	         id, shm->service, shm->node, c->bare);
	xmpp_id_handler_add(c->conn, on_sub_reply, id, c);
	atomic_min_nonzero(&shm->sub_first_ns, now_ns());
	xmpp_send_raw(c->conn, xml, strlen(xml));
}

static void on_client_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int err, xmpp_stream_error_t *se, void *ud)
{
	(void)err;
	(void)se;
	struct client *c = ud;
	if (ev == XMPP_CONN_CONNECT) {
		in_flight--;
		c->state = 2;
		xmpp_handler_add(conn, on_message, NULL, "message", NULL, c);
		xmpp_send_raw_string(conn, "<presence/>");
		__atomic_add_fetch(&shm->online, 1, __ATOMIC_RELAXED);
		return;
	}
	if (c->state == 2) {
		__atomic_add_fetch(&shm->disconnects, 1, __ATOMIC_RELAXED);
	} else if (c->state == 1) {
		in_flight--;
		__atomic_add_fetch(&shm->login_failed, 1, __ATOMIC_RELAXED);
	}
	c->state = 3;
}

static void start_one(struct client *c)
{
	c->conn = xmpp_conn_new(ctx);
	char jid[96];
	snprintf(jid, sizeof(jid), "%s/b", c->bare);
	xmpp_conn_set_jid(c->conn, jid);
	xmpp_conn_set_pass(c->conn, PASSWORD);
	xmpp_conn_set_flags(c->conn, XMPP_CONN_FLAG_DISABLE_TLS | XMPP_CONN_FLAG_DISABLE_SM);
	c->state = 1;
	in_flight++;
	if (xmpp_connect_client(c->conn, "127.0.0.1", (unsigned short)c2s_port, on_client_conn, c) != XMPP_EOK) {
		in_flight--;
		c->state = 3;
		__atomic_add_fetch(&shm->login_failed, 1, __ATOMIC_RELAXED);
	}
}

static int run_clients(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: benchclient clients SHM PORT PREFIX FIRST COUNT RATE\n");
		return 64;
	}
	shm = map_shm(argv[2]);
	c2s_port = atoi(argv[3]);
	const char *prefix = argv[4];
	int first = atoi(argv[5]);
	n_clients = atoi(argv[6]);
	login_rate = atof(argv[7]);
	clients = calloc((size_t)n_clients, sizeof(*clients));
	for (int i = 0; i < n_clients; i++)
		snprintf(clients[i].bare, sizeof(clients[i].bare), "%s%06d@" DOMAIN, prefix, first + i);
	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, &logger);
	start_ns = now_ns();
	unsigned sub_gen = __atomic_load_n(&shm->sub_cmd, __ATOMIC_ACQUIRE);
	while (!stop) {
		double due = (double)(now_ns() - start_ns) / 1e9 * login_rate + 1;
		while (n_started < n_clients && n_started < due && in_flight < MAX_LOGINS_IN_FLIGHT)
			start_one(&clients[n_started++]);
		unsigned gen = __atomic_load_n(&shm->sub_cmd, __ATOMIC_ACQUIRE);
		if (gen != sub_gen) {
			sub_gen = gen;
			for (int i = 0; i < n_clients; i++)
				if (clients[i].state == 2)
					subscribe(&clients[i], gen);
		}
		/* select() returns as soon as a session has input; the timeout only paces logins and
		 * the look at sub_cmd. Short while logging in; long after, so that 20 idle processes
		 * do not take CPU 1 from what is measured. */
		xmpp_run_once(ctx, n_started < n_clients || in_flight ? 5 : 50);
	}
	_exit(0); /* the server is restarted after every run: no goodbyes */
}

/* -------------------------------------------------------------- publisher ---- */

static xmpp_conn_t *pub_conn;
static int pub_online = -1; /* -1 connecting, 1 online, 0 failed */
static char reply_id[64];
static char *reply_text;
static char reply_type[16];
static uint64_t reply_ns;
static unsigned long long id_seq;

static void on_pub_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int err, xmpp_stream_error_t *se, void *ud)
{
	(void)conn;
	(void)err;
	(void)se;
	(void)ud;
	pub_online = ev == XMPP_CONN_CONNECT ? 1 : 0;
}

static int on_pub_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	(void)conn;
	(void)ud;
	reply_ns = now_ns();
	const char *t = xmpp_stanza_get_type(st);
	snprintf(reply_type, sizeof(reply_type), "%s", t ? t : "?");
	if (strcmp(reply_type, "result") != 0 && !reply_text) {
		size_t len;
		xmpp_stanza_to_text(st, &reply_text, &len);
	}
	return 0;
}

/* Sends an IQ with a fresh id; returns when it is answered or timeout_ms passed. */
static bool send_iq(const char *fmt_before_id, const char *after_id, uint64_t timeout_ms, uint64_t *rtt_ns)
{
	snprintf(reply_id, sizeof(reply_id), "p%llu", ++id_seq);
	reply_type[0] = 0;
	xmpp_id_handler_add(pub_conn, on_pub_reply, reply_id, NULL);
	size_t len = strlen(fmt_before_id) + strlen(reply_id) + strlen(after_id);
	char *xml = malloc(len + 1);
	snprintf(xml, len + 1, "%s%s%s", fmt_before_id, reply_id, after_id);
	uint64_t t0 = now_ns();
	xmpp_send_raw(pub_conn, xml, len);
	free(xml);
	while (!reply_type[0] && pub_online == 1 && now_ns() - t0 < timeout_ms * 1000000ull)
		xmpp_run_once(ctx, 1);
	if (!reply_type[0]) {
		xmpp_id_handler_delete(pub_conn, on_pub_reply, reply_id);
		snprintf(reply_type, sizeof(reply_type), "timeout");
		return false;
	}
	if (rtt_ns)
		*rtt_ns = reply_ns - t0;
	return strcmp(reply_type, "result") == 0;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *data = NULL;
	size_t cap = 0, len = 0, n;
	char chunk[4096];
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			data = realloc(data, cap);
		}
		memcpy(data + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (!data)
		data = calloc(1, 1);
	data[len] = 0;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = 0;
	return data;
}

static void print_list(const char *name, const uint64_t *v, int n)
{
	printf("\"%s\":[", name);
	for (int i = 0; i < n; i++)
		printf("%s%" PRIu64, i ? "," : "", v[i]);
	printf("]");
}

static void do_iq(char *args)
{
	char *id = strtok(args, " ");
	char *xml = id ? id + strlen(id) + 1 : NULL;
	if (!id || !xml) {
		printf("{\"error\":\"usage\"}\n");
		return;
	}
	/* the caller's id is replaced by a fresh one: split at it */
	char pattern[80];
	snprintf(pattern, sizeof(pattern), "id='%s'", id);
	char *at = strstr(xml, pattern);
	if (!at) {
		printf("{\"error\":\"no id='%s' in the XML\"}\n", id);
		return;
	}
	size_t before = (size_t)(at - xml) + 4;
	char *head = strndup(xml, before);
	uint64_t rtt = 0;
	free(reply_text);
	reply_text = NULL;
	send_iq(head, at + strlen(pattern) - 1, 30000, &rtt);
	free(head);
	printf("{\"type\":");
	json_string(reply_type);
	printf(",\"rtt_ns\":%" PRIu64 ",\"text\":", rtt);
	json_string(reply_text ? reply_text : "");
	printf("}\n");
}

static void do_publish(char *args, bool burst)
{
	char service[128], node[64], payload_path[512];
	unsigned seq0, m, expect;
	double timeout_s, cap_s;
	if (sscanf(args, "%127s %63s %511s %u %u %u %lf %lf", service, node, payload_path, &seq0, &m, &expect, &timeout_s,
	           &cap_s) != 8 ||
	    seq0 + m > BENCH_MAX_SEQ) {
		printf("{\"error\":\"usage\"}\n");
		return;
	}
	char *payload = read_file(payload_path);
	if (!payload) {
		printf("{\"error\":\"cannot read the payload\"}\n");
		return;
	}
	size_t head_len = strlen(service) + 64;
	char *head = malloc(head_len);
	snprintf(head, head_len, "<iq type='set' to='%s' id='", service);
	uint64_t *rtt = calloc(m, sizeof(uint64_t));
	uint64_t *lat = calloc(m, sizeof(uint64_t));
	uint64_t *first = calloc(m, sizeof(uint64_t)); /* publish -> first of N: the component's path and the server's first read */
	unsigned errors = 0, complete = 0;
	free(reply_text);
	reply_text = NULL;
	uint64_t limit_ns = (uint64_t)(timeout_s * 1e9), cap_ns = (uint64_t)(cap_s * 1e9);
	uint64_t t_start = now_ns();
	unsigned sent = 0;
	int capped = 0;
	if (!burst) {
		for (unsigned k = 0; k < m; k++) {
			unsigned seq = seq0 + k;
			if (now_ns() - t_start > cap_ns) {
				capped = 1;
				break;
			}
			sent++;
			size_t tail_len = strlen(node) + strlen(payload) + 160;
			char *tail = malloc(tail_len);
			snprintf(tail, tail_len, "'><pubsub xmlns='" NS_PUBSUB "'><publish node='%s'><item id='b%u'>%s</item></publish></pubsub></iq>",
			         node, seq, payload);
			shm->pub_ns[seq] = now_ns();
			if (!send_iq(head, tail, 30000, &rtt[k]))
				errors++;
			free(tail);
			uint64_t t0 = now_ns();
			while (expect && __atomic_load_n(&shm->count[seq], __ATOMIC_ACQUIRE) < expect && now_ns() - t0 < limit_ns &&
			       pub_online == 1)
				xmpp_run_once(ctx, 1);
			if (!expect || __atomic_load_n(&shm->count[seq], __ATOMIC_ACQUIRE) >= expect) {
				complete++;
				if (expect) {
					lat[k] = __atomic_load_n(&shm->last_ns[seq], __ATOMIC_ACQUIRE) - shm->pub_ns[seq];
					first[k] = shm->first_ns[seq] - shm->pub_ns[seq];
				}
			}
		}
	} else {
		/* all at once, then collect the answers and wait for the notifications */
		char **ids = calloc(m, sizeof(char *));
		unsigned answered = 0;
		for (unsigned k = 0; k < m; k++) {
			unsigned seq = seq0 + k;
			char id[32];
			snprintf(id, sizeof(id), "p%llu", ++id_seq);
			ids[k] = strdup(id);
			size_t len = strlen(head) + strlen(node) + strlen(payload) + 200;
			char *xml = malloc(len);
			snprintf(xml, len,
			         "%s%s'><pubsub xmlns='" NS_PUBSUB "'><publish node='%s'><item id='b%u'>%s</item></publish></pubsub></iq>",
			         head, id, node, seq, payload);
			shm->pub_ns[seq] = now_ns();
			sent++;
			xmpp_send_raw(pub_conn, xml, strlen(xml));
			free(xml);
		}
		(void)answered;
		uint64_t want = (uint64_t)expect * m, last_total = 0, last_progress = now_ns();
		for (;;) {
			uint64_t total = 0;
			for (unsigned k = 0; k < m; k++)
				total += __atomic_load_n(&shm->count[seq0 + k], __ATOMIC_ACQUIRE);
			if (total >= want || pub_online != 1)
				break;
			if (total != last_total) {
				last_total = total;
				last_progress = now_ns();
			} else if (now_ns() - last_progress > limit_ns) {
				break;
			}
			if (now_ns() - t_start > cap_ns) {
				capped = 1;
				break;
			}
			xmpp_run_once(ctx, 1);
		}
		for (unsigned k = 0; k < m; k++)
			free(ids[k]);
		free(ids);
		for (unsigned k = 0; k < m; k++) {
			unsigned seq = seq0 + k;
			if (__atomic_load_n(&shm->count[seq], __ATOMIC_ACQUIRE) >= expect) {
				complete++;
				lat[k] = shm->last_ns[seq] - shm->pub_ns[seq];
				first[k] = shm->first_ns[seq] - shm->pub_ns[seq];
			}
		}
	}
	uint64_t first_pub = shm->pub_ns[seq0], last_recv = 0, received = 0;
	for (unsigned k = 0; k < m; k++) {
		if (shm->last_ns[seq0 + k] > last_recv)
			last_recv = shm->last_ns[seq0 + k];
		received += shm->count[seq0 + k];
	}
	printf("{\"sent\":%u,\"capped\":%d,\"complete\":%u,\"errors\":%u,\"received\":%" PRIu64 ",\"first_pub_ns\":%" PRIu64 ",\"last_recv_ns\":%" PRIu64
	       ",\"wall_ns\":%" PRIu64 ",",
	       sent, capped, complete, errors, received, first_pub, last_recv, now_ns() - t_start);
	print_list("rtt_ns", rtt, (int)m);
	printf(",");
	print_list("lat_ns", lat, (int)(burst ? m : sent));
	printf(",");
	print_list("first_ns", first, (int)(burst ? m : sent));
	printf(",\"error_text\":");
	json_string(reply_text ? reply_text : "");
	printf("}\n");
	free(rtt);
	free(lat);
	free(first);
	free(head);
	free(payload);
}

static int on_pub_any_iq_result(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	/* answers to burst publishes (ids without a handler): count errors only */
	(void)conn;
	(void)ud;
	const char *t = xmpp_stanza_get_type(st);
	if (t && strcmp(t, "error") == 0 && !reply_text) {
		size_t len;
		xmpp_stanza_to_text(st, &reply_text, &len);
	}
	return 1;
}

static int run_pub(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: benchclient pub SHM PORT USER\n");
		return 64;
	}
	shm = map_shm(argv[2]);
	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, &logger);
	pub_conn = xmpp_conn_new(ctx);
	char jid[128];
	snprintf(jid, sizeof(jid), "%s@" DOMAIN "/pub", argv[4]);
	xmpp_conn_set_jid(pub_conn, jid);
	xmpp_conn_set_pass(pub_conn, PASSWORD);
	xmpp_conn_set_flags(pub_conn, XMPP_CONN_FLAG_DISABLE_TLS | XMPP_CONN_FLAG_DISABLE_SM);
	xmpp_conn_set_sockopt_callback(pub_conn, sockopt_nodelay);
	if (xmpp_connect_client(pub_conn, "127.0.0.1", (unsigned short)atoi(argv[3]), on_pub_conn, NULL) != XMPP_EOK)
		return 1;
	uint64_t t0 = now_ns();
	while (pub_online < 0 && now_ns() - t0 < 30000000000ull)
		xmpp_run_once(ctx, 10);
	if (pub_online != 1) {
		printf("{\"error\":\"publisher could not log in\"}\n");
		return 1;
	}
	xmpp_handler_add(pub_conn, on_pub_any_iq_result, NULL, "iq", NULL, NULL);
	xmpp_send_raw_string(pub_conn, "<presence/>");
	printf("{\"online\":true}\n");
	fflush(stdout);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (strncmp(line, "iq ", 3) == 0)
			do_iq(line + 3);
		else if (strncmp(line, "serial ", 7) == 0)
			do_publish(line + 7, false);
		else if (strncmp(line, "burst ", 6) == 0)
			do_publish(line + 6, true);
		else if (strcmp(line, "quit") == 0)
			break;
		else
			printf("{\"error\":\"unknown command\"}\n");
		if (pub_online != 1)
			printf("{\"error\":\"publisher disconnected\"}\n");
		fflush(stdout);
	}
	free(line);
	_exit(0);
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && strcmp(argv[1], "clients") == 0)
		return run_clients(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "pub") == 0)
		return run_pub(argc, argv);
	fprintf(stderr, "usage: benchclient clients|pub ...\n");
	return 64;
}
