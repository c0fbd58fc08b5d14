/* limitcomp.c: the limit of the path. A minimal XEP-0114 component that does nothing
 * but what a pubsub fan-out cannot avoid: on each publish IQ it answers at once, renders
 * the notification once (the received item, serialized by libstrophe) and writes one
 * <message/> per subscriber, the same bytes calpubsub writes, to the same N clients
 * through the same server, as fast as the server reads them. No database, no flow
 * control, no subscriber lookup: the subscribers are PREFIX<FIRST>..PREFIX<FIRST+COUNT-1>,
 * numbers of six digits.
 *
 *   limitcomp HOST PORT JID SECRET NODE PREFIX FIRST COUNT [MULTICAST BATCH]
 *
 * With MULTICAST (the server's XEP-0033 service, ejabberd's mod_multicast), it writes one
 * <message/> per BATCH subscribers instead, addressed to the service with every
 * subscriber as a bcc address, as calpubsub does where the server offers XEP-0033.
 *
 * libstrophe connects, does the handshake and parses what the server sends; the output
 * goes straight to the socket, as in calpubsub's src/xmpp/link.c. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/socket.h>
#include <unistd.h>

#define NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define NS_EVENT "http://jabber.org/protocol/pubsub#event"
/* PREFIX and a number of six digits, as bench/run's user_name() and benchclient spell them */
#define SUBSCRIBER_JID "%s%06ld@localhost"

static xmpp_ctx_t *ctx;
static xmpp_conn_t *conn;
static int sock = -1;
static int online;
static volatile sig_atomic_t stop;
static const char *jid, *prefix, *fanout_node;
static long first, count, batch;
static const char *mc_jid;
static unsigned long long serial;

static char *out;
static size_t out_len, out_off, out_cap;

static void out_append(const char *s, size_t n)
{
	if (out_len + n > out_cap) {
		out_cap = (out_len + n) * 2 + 65536;
		out = realloc(out, out_cap);
	}
	memcpy(out + out_len, s, n);
	out_len += n;
}

static void out_puts(const char *s)
{
	out_append(s, strlen(s));
}

static void out_flush(void)
{
	while (out_off < out_len) {
		ssize_t n = send(sock, out + out_off, out_len - out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		fprintf(stderr, "limitcomp: write failed: %s\n", strerror(errno));
		exit(1);
	}
	if (out_off == out_len)
		out_off = out_len = 0;
}

static int on_sockopt(xmpp_conn_t *c, void *sockp)
{
	(void)c;
	int fd = *(int *)sockp, one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sock = fd;
	return 0;
}

static void on_conn(xmpp_conn_t *c, xmpp_conn_event_t ev, int err, xmpp_stream_error_t *se, void *ud)
{
	(void)c;
	(void)err;
	(void)se;
	(void)ud;
	if (ev == XMPP_CONN_CONNECT) {
		online = 1;
		fprintf(stderr, "limitcomp: connected as %s\n", jid);
		return;
	}
	if (ev == XMPP_CONN_DISCONNECT) {
		fprintf(stderr, "limitcomp: disconnected\n");
		exit(online ? 1 : 2);
	}
}

/* appends text with the five XML specials escaped (attribute values) */
static void out_escaped(const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': out_append("&amp;", 5); break;
		case '<': out_append("&lt;", 4); break;
		case '>': out_append("&gt;", 4); break;
		case '\'': out_append("&apos;", 6); break;
		case '"': out_append("&quot;", 6); break;
		default: out_append(s, 1);
		}
	}
}

static int on_iq(xmpp_conn_t *c, xmpp_stanza_t *st, void *ud)
{
	(void)c;
	(void)ud;
	const char *type = xmpp_stanza_get_type(st);
	const char *from = xmpp_stanza_get_from(st);
	const char *id = xmpp_stanza_get_id(st);
	if (!type || (strcmp(type, "set") != 0 && strcmp(type, "get") != 0) || !from || !id)
		return 1;
	out_puts("<iq type='result' from='");
	out_escaped(jid);
	out_puts("' to='");
	out_escaped(from);
	out_puts("' id='");
	out_escaped(id);
	out_puts("'/>");
	xmpp_stanza_t *ps = xmpp_stanza_get_child_by_name_and_ns(st, "pubsub", NS_PUBSUB);
	xmpp_stanza_t *pub = ps ? xmpp_stanza_get_child_by_name(ps, "publish") : NULL;
	xmpp_stanza_t *item = pub ? xmpp_stanza_get_child_by_name(pub, "item") : NULL;
	const char *node = pub ? xmpp_stanza_get_attribute(pub, "node") : NULL;
	if (!item || !node || strcmp(node, fanout_node) != 0)
		return 1; /* only NODE has subscribers */
	/* render once: everything after to='...' */
	const char *item_id = xmpp_stanza_get_attribute(item, "id");
	xmpp_stanza_t *payload = xmpp_stanza_get_children(item);
	char *payload_text = NULL;
	size_t payload_len = 0;
	if (payload)
		xmpp_stanza_to_text(payload, &payload_text, &payload_len);
	size_t mark = out_len;
	out_puts("' type='headline'><event xmlns='" NS_EVENT "'><items node='");
	out_escaped(node ? node : "");
	out_puts("'><item id='");
	out_escaped(item_id ? item_id : "");
	out_puts("'>");
	if (payload_text)
		out_append(payload_text, payload_len);
	out_puts("</item></items></event></message>");
	size_t tail_len = out_len - mark;
	char *tail = malloc(tail_len);
	memcpy(tail, out + mark, tail_len);
	out_len = mark;
	xmpp_free(ctx, payload_text);
	char head[256];
	unsigned long long s = ++serial;
	if (mc_jid) {
		for (long i = 0; i < count;) {
			int n = snprintf(head, sizeof(head), "<message from='%s' id='ps-%llu-%ld' to='%s", jid, s, i, mc_jid);
			out_append(head, (size_t)n);
			/* the addresses go before the payload: tail begins with the rest of <message> */
			const char *gt = memchr(tail, '>', tail_len);
			size_t open_len = (size_t)(gt - tail) + 1;
			out_append(tail, open_len);
			out_puts("<addresses xmlns='http://jabber.org/protocol/address'>");
			for (long k = 0; k < batch && i < count; k++, i++) {
				n = snprintf(head, sizeof(head), "<address type='bcc' jid='" SUBSCRIBER_JID "'/>", prefix, first + i);
				out_append(head, (size_t)n);
			}
			out_puts("</addresses>");
			out_append(tail + open_len, tail_len - open_len);
			if (out_len - out_off > (256u << 10))
				out_flush();
		}
		free(tail);
		return 1;
	}
	for (long i = 0; i < count; i++) {
		int n = snprintf(head, sizeof(head), "<message from='%s' id='ps-%llu-%ld' to='" SUBSCRIBER_JID, jid, s, i,
		                 prefix, first + i);
		out_append(head, (size_t)n);
		out_append(tail, tail_len);
		if (out_len - out_off > (256u << 10))
			out_flush(); /* keep the buffer small; the rest goes from the loop */
	}
	free(tail);
	return 1;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc != 9 && argc != 11) {
		fprintf(stderr, "usage: limitcomp HOST PORT JID SECRET NODE PREFIX FIRST COUNT [MULTICAST BATCH]\n");
		return 64;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	jid = argv[3];
	fanout_node = argv[5];
	prefix = argv[6];
	first = atol(argv[7]);
	count = atol(argv[8]);
	if (argc == 11) {
		mc_jid = argv[9];
		batch = atol(argv[10]) > 0 ? atol(argv[10]) : 1;
	}
	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	conn = xmpp_conn_new(ctx);
	xmpp_conn_set_jid(conn, jid);
	xmpp_conn_set_pass(conn, argv[4]);
	xmpp_conn_set_sockopt_callback(conn, on_sockopt);
	xmpp_handler_add(conn, on_iq, NULL, "iq", NULL, NULL);
	/* libstrophe 0.12.2 allocates sm_state only in a client connect (see DESIGN.md) */
	if (xmpp_connect_client(conn, "", 1, on_conn, NULL) == XMPP_EOK)
		xmpp_disconnect(conn);
	sock = -1;
	if (xmpp_connect_component(conn, argv[1], (unsigned short)atoi(argv[2]), on_conn, NULL) != XMPP_EOK) {
		fprintf(stderr, "limitcomp: cannot connect\n");
		return 1;
	}
	while (!stop) {
		if (!online || sock < 0) {
			xmpp_run_once(ctx, 10);
			continue;
		}
		out_flush();
		struct pollfd p = {sock, (short)(POLLIN | (out_len > out_off ? POLLOUT : 0)), 0};
		int r = poll(&p, 1, 50);
		if (r > 0 && (p.revents & POLLOUT))
			out_flush();
		if (r > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP))) {
			xmpp_run_once(ctx, 0);
			/* ACK at once: the server's socket keeps Nagle on, so its next stanza would
			 * otherwise wait for our delayed ACK (40 ms) */
			int one = 1;
			setsockopt(sock, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		}
	}
	return 0;
}
