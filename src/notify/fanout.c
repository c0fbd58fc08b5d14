/* fanout.c: the notification fan-out. It runs as a loop hook in slices: while the
 * database and the link are up and the link's output is below the high-water mark, it
 * takes the next change after its position, renders the event once, and writes one
 * message per recipient JID (paging subscriptions by JID). Every so often it asks the
 * link for a sync point; when the server answers it, everything before that point has
 * been handled by the server, and the position is saved as the durable cursor. */
#include "fanout.h"

#include "subs_cache.h"
#include "wake_gate.h"

#include "../buf.h"
#include "../log.h"
#include "../loop.h"
#include "../store/pubsub.h"
#include "../xmpp/router.h"
#include "../xmpp/wire.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIGH_WATER_BYTES (1u << 20)
/* Output the server has not confirmed reading: bounds how long a reply can wait behind
 * notifications (at Prosody's few MB/s, a few tens of milliseconds). */
#define WINDOW_BYTES (256u << 10)
#define SYNC_EVERY_BYTES (64u << 10)
#define PAGE_ROWS 500
#define CHANGE_BATCH 64
/* Work per loop turn, so that requests are read between slices of a big fan-out. */
#define SLICE_MESSAGES 2000
#define SYNC_EVERY_MESSAGES 2000
#define SYNC_EVERY_MS 200
/* The cursor is saved at most this often: each save is a durable commit, and a
 * checkpoint comes every SYNC_EVERY_BYTES while output flows and after every change
 * otherwise. Saving after each of a stream of small fan-outs put an fsync on the machine
 * while subscribers were still reading them (and in front of the next publish). A
 * position the server confirmed in between is saved when the interval is over; after a
 * crash or a lost link at most this much more is sent again (with the same ids). */
#define SAVE_EVERY_MS 100
#define PRUNE_EVERY_MS 60000
#define KEEP_DELIVERED_SECONDS 3600
/* Bounces waiting to be settled; beyond, they are dropped (the next ones come back). */
#define MAX_BOUNCES 100000

#define NS_SHIM "http://jabber.org/protocol/shim"
#define NS_DELAY "urn:xmpp:delay"

struct checkpoint {
	struct fanout *f;
	int64_t change; /* changes below are done */
	char *position; /* within `change`: last JID done */
	unsigned generation;
};

struct fanout {
	struct store *store;
	struct link *link;
	struct service *svc;
	const struct config *cfg;
	bool db_up;
	bool link_up;
	bool loaded;
	bool idle;         /* nothing after the position last time we looked */
	unsigned generation; /* bumped on every reload: stale checkpoints are ignored */
	/* the position of the work: changes below `change` are sent; within it, every JID up
	 * to `position` */
	int64_t change;
	char *position;
	int64_t saved_change;
	char *saved_position;
	struct change_row *batch;
	size_t n_batch;
	size_t batch_pos;
	/* the change being sent */
	struct change_row *current;
	struct node_row node;
	bool node_loaded;
	struct buf event;     /* the rendered child elements of <message/> */
	struct buf body_text; /* the <body/> for include_body subscribers */
	struct buf message;   /* scratch space for one message, reused */
	char type_attr[24];
	bool current_done;
	uint64_t sent;
	uint64_t sent_since_sync;
	unsigned long long bytes_at_sync; /* link_sent_bytes() at the last checkpoint */
	uint64_t last_sync_ms;
	uint64_t last_save_ms;
	/* the newest position the server confirmed and that waits for save_timer */
	bool confirmed_unsaved;
	int64_t confirmed_change;
	char *confirmed_position;
	struct loop_timer save_timer;
	uint64_t last_prune_ms;
	fanout_ingest_fn ingest;
	void *ingest_arg;
	struct multicast *mc;
	struct buf bcc[2]; /* bcc addresses waiting for a multicast stanza, without and with <body/> */
	size_t bcc_n[2];
	int64_t *bounce_nodes;    /* bounces waiting to end subscriptions */
	char **bounce_jids;
	size_t n_bounces;
	uint64_t change_recipients; /* of the change being sent, for the log */
	uint64_t change_stanzas;
	struct subs_cache subs_cache;
	struct wake_gate wake_gate;
};

static bool fanout_hook(void *arg);
static void on_save_timer(void *arg);

struct fanout *fanout_new(struct store *st, struct link *link, struct service *svc, const struct config *cfg)
{
	struct fanout *f = xcalloc(1, sizeof(*f));
	f->store = st;
	f->link = link;
	f->svc = svc;
	f->cfg = cfg;
	loop_timer_init(&f->save_timer, on_save_timer, f);
	loop_add_hook(fanout_hook, f);
	return f;
}

static void drop_current(struct fanout *f)
{
	f->current = NULL;
	f->change_recipients = f->change_stanzas = 0;
	if (f->node_loaded)
		node_row_free(&f->node);
	f->node_loaded = false;
	buf_reset(&f->event);
	buf_reset(&f->body_text);
}

static void drop_batch(struct fanout *f)
{
	drop_current(f);
	change_rows_free(f->batch, f->n_batch);
	f->batch = NULL;
	f->n_batch = f->batch_pos = 0;
	wake_gate_forget(&f->wake_gate);
}

void fanout_free(struct fanout *f)
{
	if (!f)
		return;
	loop_timer_stop(&f->save_timer);
	drop_batch(f);
	buf_free(&f->event);
	buf_free(&f->body_text);
	buf_free(&f->message);
	buf_free(&f->bcc[0]);
	buf_free(&f->bcc[1]);
	for (size_t i = 0; i < f->n_bounces; i++)
		free(f->bounce_jids[i]);
	free(f->bounce_jids);
	free(f->bounce_nodes);
	free(f->position);
	free(f->saved_position);
	free(f->confirmed_position);
	subs_cache_clear(&f->subs_cache);
	free(f);
}

static void save_confirmed(struct fanout *f);

static void reload(struct fanout *f)
{
	/* What the server confirmed stays true when the link or the database goes: saved
	 * now if the database is there (else at the next reload), before the position is
	 * read back from it. */
	save_confirmed(f);
	f->loaded = false;
	f->generation++;
	drop_batch(f);
	/* a database that comes back may be another one (restored, failed over) */
	subs_cache_clear(&f->subs_cache);
}

void fanout_store_state(struct fanout *f, bool up)
{
	f->db_up = up;
	reload(f);
}

void fanout_link_state(struct fanout *f, bool up)
{
	f->link_up = up;
	/* what was written but not confirmed may be lost with the link: start again from the
	 * durable cursor */
	reload(f);
}

void fanout_wake(struct fanout *f, const char *payload)
{
	f->idle = false;
	wake_gate_woken(&f->wake_gate, payload);
}

void fanout_set_multicast(struct fanout *f, struct multicast *mc)
{
	f->mc = mc;
}

void fanout_bounced(struct fanout *f, const char *from, const char *id, bool permanent, const char *condition)
{
	int64_t node_id;
	if (!fanout_parse_id(id, &node_id))
		return;
	const char *service = f->mc ? multicast_service(f->mc) : NULL;
	if (service && from && strcmp(from, service) == 0) {
		/* the service refused a batch: resend from the confirmed position, unbatched */
		multicast_refused(f->mc, condition ? condition : "error");
		reload(f);
		return;
	}
	if (!permanent || !from || f->n_bounces >= MAX_BOUNCES)
		return;
	f->bounce_nodes = xrealloc(f->bounce_nodes, (f->n_bounces + 1) * sizeof(*f->bounce_nodes));
	f->bounce_jids = xrealloc(f->bounce_jids, (f->n_bounces + 1) * sizeof(*f->bounce_jids));
	f->bounce_nodes[f->n_bounces] = node_id;
	f->bounce_jids[f->n_bounces] = xstrdup(from);
	f->n_bounces++;
}

/* Ends the subscriptions of bounced JIDs, many at a time, so that a bounce storm (a
 * domain gone) costs a few statements rather than one round trip each. */
static void settle_bounces(struct fanout *f)
{
	if (!f->n_bounces)
		return;
	service_notifications_bounced(f->svc, f->bounce_nodes, (const char *const *)f->bounce_jids, f->n_bounces);
	for (size_t i = 0; i < f->n_bounces; i++)
		free(f->bounce_jids[i]);
	f->n_bounces = 0;
}

void fanout_set_ingest(struct fanout *f, fanout_ingest_fn fn, void *arg)
{
	f->ingest = fn;
	f->ingest_arg = arg;
}

uint64_t fanout_sent(const struct fanout *f)
{
	return f->sent;
}

bool fanout_parse_id(const char *id, int64_t *node_id)
{
	long long change, node;
	int end = 0;
	if (!id || sscanf(id, "ps-%lld-%lld%n", &change, &node, &end) != 2 || id[end] != '\0')
		return false;
	*node_id = node;
	return true;
}

static void set_position(char **dst, const char *jid)
{
	free(*dst);
	*dst = jid ? xstrdup(jid) : NULL;
}

/* ---- checkpoints ---- */

static bool ahead_of_saved(const struct fanout *f, int64_t change, const char *position)
{
	return change > f->saved_change ||
	       (change == f->saved_change && position && (!f->saved_position || strcmp(position, f->saved_position) > 0));
}

static void save_confirmed(struct fanout *f)
{
	loop_timer_stop(&f->save_timer);
	if (!f->confirmed_unsaved || !store_is_up(f->store))
		return;
	if (store_fanout_save(f->store, f->confirmed_change, f->confirmed_position) != STORE_OK)
		return; /* the store reconnects, and the fan-out reloads */
	f->confirmed_unsaved = false;
	f->saved_change = f->confirmed_change;
	set_position(&f->saved_position, f->confirmed_position);
	f->last_save_ms = loop_now_ms();
}

static void on_save_timer(void *arg)
{
	save_confirmed(arg);
}

static void on_synced(bool ok, void *arg)
{
	struct checkpoint *cp = arg;
	struct fanout *f = cp->f;
	if (ok && cp->generation == f->generation && ahead_of_saved(f, cp->change, cp->position)) {
		/* confirmations come back in the order their checkpoints went out */
		f->confirmed_unsaved = true;
		f->confirmed_change = cp->change;
		set_position(&f->confirmed_position, cp->position);
		uint64_t since = loop_now_ms() - f->last_save_ms;
		if (since >= SAVE_EVERY_MS)
			save_confirmed(f);
		else if (!loop_timer_armed(&f->save_timer))
			loop_timer_start(&f->save_timer, SAVE_EVERY_MS - since);
	}
	free(cp->position);
	free(cp);
}

void fanout_save_now(struct fanout *f)
{
	save_confirmed(f);
}

static void checkpoint(struct fanout *f)
{
	if (f->change == f->saved_change && !f->position && !f->saved_position)
		return;
	struct checkpoint *cp = xcalloc(1, sizeof(*cp));
	cp->f = f;
	cp->change = f->change;
	cp->position = f->position ? xstrdup(f->position) : NULL;
	cp->generation = f->generation;
	f->sent_since_sync = 0;
	f->last_sync_ms = loop_now_ms();
	f->bytes_at_sync = link_sent_bytes(f->link);
	link_sync(f->link, on_synced, cp);
}

/* ---- rendering ---- */

static void render_item_event(struct fanout *f, const struct change_row *c)
{
	struct buf *b = &f->event;
	buf_puts(b, "<event xmlns='" NS_PUBSUB_EVENT "'><items");
	xml_attr(b, "node", c->node);
	if (!c->item_id) {
		buf_puts(b, "/></event>");
		return;
	}
	buf_puts(b, "><item");
	xml_attr(b, "id", c->item_id);
	if (f->node.cfg.itemreply == IR_PUBLISHER)
		xml_attr(b, "publisher", c->publisher);
	if (f->node.cfg.deliver_payloads && c->payload && *c->payload) {
		buf_putc(b, '>');
		buf_puts(b, c->payload);
		buf_puts(b, "</item></items></event>");
	} else {
		buf_puts(b, "/></items></event>");
	}
	if (c->kind == CH_LAST_ITEM && c->stamp) {
		buf_puts(b, "<delay xmlns='" NS_DELAY "'");
		xml_attr(b, "stamp", c->stamp);
		buf_puts(b, "/>");
	}
}

static void render_approval(struct fanout *f, const struct change_row *c)
{
	struct form *form = form_new(FORM_FORM);
	form->title = xstrdup("PubSub subscriber request");
	form->instructions = xstrdup("To approve this entity's subscription request, click the OK button. To deny the "
	                             "request, click the cancel button.");
	form_add_hidden(form, "FORM_TYPE", FORM_SUBSCRIBE_AUTHORIZATION);
	if (c->subid)
		form_add_hidden(form, "pubsub#subid", c->subid);
	form_add_text(form, "pubsub#node", FT_TEXT_SINGLE, "Node ID", c->node);
	form_add_text(form, "pubsub#subscriber_jid", FT_JID_SINGLE, "Subscriber Address", c->subject);
	form_add_bool(form, "pubsub#allow", "Allow this JID to subscribe to this pubsub node?", false);
	wire_write_form(&f->event, form);
	form_free(form);
	buf_puts(&f->body_text, "<body>");
	buf_xml_escape(&f->body_text, c->subject ? c->subject : "");
	buf_puts(&f->body_text, " asks to subscribe to the node ");
	buf_xml_escape(&f->body_text, c->node);
	buf_puts(&f->body_text, ". Answer the form in this message to approve or deny.</body>");
	/* the form is for the owner to read: always part of the message */
	buf_append(&f->event, f->body_text.data, f->body_text.len);
	buf_reset(&f->body_text);
}

static void body_line(struct fanout *f, const char *fmt, const char *a, const char *b)
{
	char text[512];
	snprintf(text, sizeof(text), fmt, a ? a : "", b ? b : "");
	buf_puts(&f->body_text, "<body>");
	buf_xml_escape(&f->body_text, text);
	buf_puts(&f->body_text, "</body>");
}

/* Renders the current change once; false when it needs no notification at all. */
static bool render(struct fanout *f)
{
	const struct change_row *c = f->current;
	struct buf *b = &f->event;
	const struct node_config *cfg = &f->node.cfg;
	/* event notifications follow the node's message type; state changes and approval
	 * forms are normal messages, kept offline for whoever is away */
	bool event = c->kind == CH_PUBLISH || c->kind == CH_RETRACT || c->kind == CH_PURGE || c->kind == CH_DELETE ||
	             c->kind == CH_CONFIG || c->kind == CH_LAST_ITEM;
	snprintf(f->type_attr, sizeof(f->type_attr), "%s",
	         event && cfg->notification_type == NT_HEADLINE ? " type='headline'" : "");
	switch (c->kind) {
	case CH_PUBLISH:
	case CH_LAST_ITEM:
		if (c->kind == CH_PUBLISH && !cfg->deliver_notifications)
			return false;
		render_item_event(f, c);
		if (c->body) {
			buf_puts(&f->body_text, "<body>");
			buf_xml_escape(&f->body_text, c->body);
			buf_puts(&f->body_text, "</body>");
		} else {
			body_line(f, "Item %s was published to %s", c->item_id, c->node);
		}
		return true;
	case CH_RETRACT:
		buf_puts(b, "<event xmlns='" NS_PUBSUB_EVENT "'><items");
		xml_attr(b, "node", c->node);
		buf_puts(b, "><retract");
		xml_attr(b, "id", c->item_id);
		buf_puts(b, "/></items></event>");
		body_line(f, "Item %s was removed from %s", c->item_id, c->node);
		return true;
	case CH_PURGE:
		buf_puts(b, "<event xmlns='" NS_PUBSUB_EVENT "'><purge");
		xml_attr(b, "node", c->node);
		buf_puts(b, "/></event>");
		body_line(f, "All items of %s were removed%s", c->node, NULL);
		return true;
	case CH_DELETE:
		if (!cfg->notify_delete)
			return false;
		buf_puts(b, "<event xmlns='" NS_PUBSUB_EVENT "'><delete");
		xml_attr(b, "node", c->node);
		if (c->uri) {
			buf_puts(b, "><redirect");
			xml_attr(b, "uri", c->uri);
			buf_puts(b, "/></delete></event>");
		} else {
			buf_puts(b, "/></event>");
		}
		body_line(f, "The node %s was deleted%s", c->node, NULL);
		return true;
	case CH_CONFIG:
		buf_puts(b, "<event xmlns='" NS_PUBSUB_EVENT "'><configuration");
		xml_attr(b, "node", c->node);
		if (cfg->deliver_payloads) {
			buf_putc(b, '>');
			struct form *form = node_config_form(cfg, FORM_RESULT, service_limits(f->svc));
			wire_write_form(b, form);
			form_free(form);
			buf_puts(b, "</configuration></event>");
		} else {
			buf_puts(b, "/></event>");
		}
		body_line(f, "The configuration of %s changed%s", c->node, NULL);
		return true;
	case CH_SUBSCRIPTION:
		buf_puts(b, "<event xmlns='" NS_PUBSUB_EVENT "'><subscription");
		xml_attr(b, "node", c->node);
		xml_attr(b, "jid", c->subject);
		xml_attr(b, "subid", c->subid);
		xml_attr(b, "subscription", c->state);
		buf_puts(b, "/></event>");
		return true;
	case CH_APPROVAL:
		render_approval(f, c);
		return true;
	case CH_INGEST: return false; /* handled before rendering */
	case CH_AFFILIATION:
		buf_puts(b, "<pubsub xmlns='" NS_PUBSUB "'><affiliations");
		xml_attr(b, "node", c->node);
		buf_puts(b, "><affiliation");
		xml_attr(b, "jid", c->subject);
		xml_attr(b, "affiliation", c->state);
		buf_puts(b, "/></affiliations></pubsub>");
		return true;
	}
	return false;
}

/* Opens a notification message: the id is the same for every recipient of a change and
 * for every resend of it, so a client drops a repeat by id. */
static void open_message(struct fanout *f, struct buf *m, const char *to)
{
	buf_reset(m);
	buf_reserve(m, f->event.len + f->body_text.len + 256);
	buf_puts(m, "<message");
	xml_attr(m, "from", f->cfg->jid);
	xml_attr(m, "to", to);
	buf_printf(m, " id='ps-%" PRId64 "-%" PRId64 "'%s>", f->current->id, f->current->node_id, f->type_attr);
}

static void close_message(struct fanout *f, struct buf *m, bool with_body)
{
	buf_append(m, f->event.data, f->event.len);
	if (with_body)
		buf_append(m, f->body_text.data, f->body_text.len);
}

/* One message to one JID. subids: the SubIDs to list in SHIM headers (n > 1 only). */
static void send_to(struct fanout *f, const char *to, bool with_body, char *const *subids, size_t n)
{
	struct buf m = f->message;
	open_message(f, &m, to);
	close_message(f, &m, with_body);
	if (n > 1) {
		buf_puts(&m, "<headers xmlns='" NS_SHIM "'>");
		for (size_t i = 0; i < n; i++) {
			buf_puts(&m, "<header name='SubID'>");
			buf_xml_escape(&m, subids[i]);
			buf_puts(&m, "</header>");
		}
		buf_puts(&m, "</headers>");
	}
	buf_puts(&m, "</message>");
	link_send(f->link, m.data, m.len);
	f->message = m;
	f->sent++;
	f->sent_since_sync++;
	f->change_recipients++;
	f->change_stanzas++;
}

/* One stanza for the JIDs waiting in bcc[variant], through the multicast service:
 * every subscriber is a bcc address, which the service removes before delivery, so no
 * subscriber learns of another. */
static void flush_batch(struct fanout *f, int variant)
{
	if (!f->bcc_n[variant])
		return;
	struct buf m = f->message;
	open_message(f, &m, multicast_service(f->mc));
	buf_puts(&m, "<addresses xmlns='" NS_ADDRESS "'>");
	buf_append(&m, f->bcc[variant].data, f->bcc[variant].len);
	buf_puts(&m, "</addresses>");
	close_message(f, &m, variant == 1);
	buf_puts(&m, "</message>");
	link_send(f->link, m.data, m.len);
	f->message = m;
	f->sent += f->bcc_n[variant];
	f->sent_since_sync += f->bcc_n[variant];
	f->change_recipients += f->bcc_n[variant];
	f->change_stanzas++;
	buf_reset(&f->bcc[variant]);
	f->bcc_n[variant] = 0;
}

/* Whether jid may go in a multicast batch: the service relays to the server's own users
 * only, and per-recipient content (SHIM headers) needs a stanza of its own. */
static bool batchable(const struct fanout *f, const char *jid, size_t subids)
{
	if (!f->mc || !multicast_service(f->mc) || subids > 1)
		return false;
	const char *at = strchr(jid, '@');
	const char *domain = at ? at + 1 : jid;
	size_t n = strcspn(domain, "/");
	return n == strlen(f->cfg->server_domain) && strncmp(domain, f->cfg->server_domain, n) == 0;
}

static void add_to_batch(struct fanout *f, const char *jid, bool with_body)
{
	int v = with_body ? 1 : 0;
	buf_puts(&f->bcc[v], "<address type='bcc'");
	xml_attr(&f->bcc[v], "jid", jid);
	buf_puts(&f->bcc[v], "/>");
	if (++f->bcc_n[v] >= multicast_limit(f->mc))
		flush_batch(f, v);
}

/* Recipients of the current change that are not its node's subscribers: one target, or
 * the node's owners. */
static bool send_direct(struct fanout *f)
{
	const struct change_row *c = f->current;
	if (c->target) {
		send_to(f, c->target, c->kind == CH_APPROVAL, NULL, 0);
		return true;
	}
	struct affiliation_row *affs;
	size_t n;
	if (store_affiliations_of_node(f->store, c->node_id, &affs, &n) != STORE_OK)
		return false;
	for (size_t i = 0; i < n; i++)
		if (affs[i].affiliation == AFF_OWNER)
			send_to(f, affs[i].jid, false, NULL, 0);
	affiliation_rows_free(affs, n);
	return true;
}

/* Sends one page of the current change's subscribers. Returns the messages sent, or -1
 * when the store failed; sets current_done when the last page has gone. */
static int send_page(struct fanout *f)
{
	const struct change_row *c = f->current;
	unsigned states = 1u << SUB_SUBSCRIBED;
	if (c->kind == CH_DELETE) /* XEP-0060 8.4.2: pending and unconfigured too */
		states |= (1u << SUB_PENDING) | (1u << SUB_UNCONFIGURED);
	struct sub_row *subs;
	size_t n;
	bool kept = subs_cache_usable(&f->subs_cache, c->node_id, states, f->node.subs_version, f->position);
	if (kept) {
		subs = f->subs_cache.subs;
		n = f->subs_cache.n;
	} else {
		int64_t version;
		if (store_subs_page(f->store, c->node_id, states, f->position, PAGE_ROWS, &subs, &n, &version) != STORE_OK)
			return -1;
		kept = subs_cache_keepable(f->position, n, PAGE_ROWS, version);
		if (kept)
			subs_cache_keep(&f->subs_cache, c->node_id, states, version, subs, n);
	}
	/* a full page may end inside one JID's subscriptions: leave that JID for the next */
	size_t usable = n;
	if (n == PAGE_ROWS) {
		while (usable > 0 && strcmp(subs[usable - 1].jid, subs[n - 1].jid) == 0)
			usable--;
		if (usable == 0)
			usable = n;
	}
	bool with_shim = c->kind == CH_PUBLISH || c->kind == CH_RETRACT || c->kind == CH_LAST_ITEM;
	int messages = 0;
	char *subids[64];
	for (size_t i = 0; i < usable;) {
		size_t j = i;
		size_t k = 0;
		bool body = false;
		for (; j < usable && strcmp(subs[j].jid, subs[i].jid) == 0; j++) {
			if (subs[j].since_change >= c->id) /* subscribed after the change */
				continue;
			if (!subs[j].deliver && c->kind != CH_DELETE)
				continue;
			if (k < sizeof(subids) / sizeof(subids[0]))
				subids[k++] = subs[j].subid;
			body |= subs[j].include_body;
		}
		if (k && batchable(f, subs[i].jid, with_shim ? k : 0)) {
			add_to_batch(f, subs[i].jid, body);
			messages++;
		} else if (k) {
			send_to(f, subs[i].jid, body, subids, with_shim ? k : 0);
			messages++;
		}
		set_position(&f->position, subs[i].jid);
		i = j;
	}
	/* the position now covers the whole page: what is batched must leave before a sync */
	flush_batch(f, 0);
	flush_batch(f, 1);
	if (n < PAGE_ROWS)
		f->current_done = true;
	if (!kept)
		sub_rows_free(subs, n);
	return messages;
}

static int64_t last_id(const struct fanout *f)
{
	return f->n_batch ? f->batch[f->n_batch - 1].id : 0;
}

/* Fills the empty batch with the changes after the position: those the last commit
 * brought along, else those read now if a wake-up says there may be any. False when
 * there are none for now (or the store failed); then the next commit that logs a change
 * is asked to bring it along. */
static bool fetch_batch(struct fanout *f)
{
	int64_t after = f->change - 1;
	if (store_changes_read_with_commit(f->store, after, &f->batch, &f->n_batch))
		wake_gate_read_earlier(&f->wake_gate, after, last_id(f), f->n_batch, CHANGE_BATCH);
	if (!f->n_batch && wake_gate_must_read(&f->wake_gate)) {
		change_rows_free(f->batch, 0);
		f->batch = NULL;
		if (store_changes_after(f->store, after, CHANGE_BATCH, &f->batch, &f->n_batch) != STORE_OK)
			return false;
		wake_gate_read(&f->wake_gate, after, last_id(f), f->n_batch, CHANGE_BATCH);
	}
	if (!f->n_batch)
		store_read_changes_with_commit(f->store, after, CHANGE_BATCH);
	return f->n_batch > 0;
}

/* Moves to the next change, fetching a batch when needed. False when there is none. */
static bool next_change(struct fanout *f)
{
	if (f->batch_pos >= f->n_batch) {
		change_rows_free(f->batch, f->n_batch);
		f->batch = NULL;
		f->n_batch = f->batch_pos = 0;
		if (!fetch_batch(f))
			return false;
	}
	f->current = &f->batch[f->batch_pos++];
	if (f->current->id != f->change) {
		/* a gap (a rolled-back transaction took that id): nothing of it was sent */
		f->change = f->current->id;
		set_position(&f->position, NULL);
	}
	f->current_done = false;
	if (f->current->kind == CH_INGEST) {
		/* an application's row: publishing it logs a new change, notified in its turn */
		const char *ics = f->current->state && strcmp(f->current->state, "delete") == 0 ? NULL : f->current->payload;
		if (f->ingest && !f->ingest(f->current->node, f->current->item_id, ics, f->ingest_arg)) {
			f->batch_pos--; /* the database failed: try this change again */
			f->current = NULL;
			return false;
		}
		f->current_done = true;
		return true;
	}
	/* the node came with the change (read in the same statement) */
	f->node_loaded = f->current->has_node;
	if (f->node_loaded) {
		f->node = f->current->node_row;
		f->current->has_node = false;
		memset(&f->current->node_row, 0, sizeof(f->current->node_row));
	}
	struct change_row *c = f->current;
	if (f->node_loaded && (c->kind == CH_PUBLISH || c->kind == CH_LAST_ITEM) && !c->payload && c->ics)
		service_encode_item(f->svc, &f->node, c->item_id, c->ics, &c->payload, &c->body); /* an imported item */
	if (!f->node_loaded || !render(f))
		f->current_done = true; /* node gone, or nothing to say */
	return true;
}

static void finish_change(struct fanout *f)
{
	if (f->change_recipients)
		log_debug("change %" PRId64 " (%s of '%s'): %" PRIu64 " recipients in %" PRIu64 " stanzas", f->current->id,
		          change_kind_name(f->current->kind), f->current->node, f->change_recipients, f->change_stanzas);
	f->change_recipients = f->change_stanzas = 0;
	f->change = f->current->id + 1;
	set_position(&f->position, NULL);
	drop_current(f);
}

static bool load_cursor(struct fanout *f)
{
	int64_t change;
	char *position;
	if (store_fanout_cursor(f->store, &change, &position) != STORE_OK)
		return false;
	f->change = change;
	set_position(&f->position, position);
	f->saved_change = change;
	set_position(&f->saved_position, position);
	free(position);
	f->loaded = true;
	f->idle = false;
	return true;
}

static bool fanout_hook(void *arg)
{
	struct fanout *f = arg;
	if (!f->db_up || !f->link_up || !link_online(f->link) || !store_is_up(f->store))
		return false;
	if (!f->loaded && !load_cursor(f))
		return false;
	/* The link's hook runs before this one: it has already written out what was queued
	 * and chosen its poll events for this round. */
	unsigned long long queued_before = link_sent_bytes(f->link);
	settle_bounces(f);
	uint64_t now = loop_now_ms();
	if (now - f->last_prune_ms >= PRUNE_EVERY_MS) {
		f->last_prune_ms = now;
		store_changes_prune(f->store, f->saved_change, KEEP_DELIVERED_SECONDS);
		/* deleted nodes whose deletion everyone has heard of can go; not at every
		 * checkpoint, which comes every 64 KB of output */
		store_nodes_reap(f->store, f->saved_change);
	}
	int budget = SLICE_MESSAGES;
	while (budget > 0 && link_pending_bytes(f->link) < HIGH_WATER_BYTES &&
	       link_unconfirmed_bytes(f->link) < WINDOW_BYTES) {
		if (!f->current) {
			if (f->idle || !next_change(f)) {
				f->idle = true;
				break;
			}
		}
		if (!f->current_done) {
			int sent;
			if (f->current->target || f->current->kind == CH_APPROVAL ||
			    (f->current->kind == CH_SUBSCRIPTION && !f->current->target)) {
				sent = send_direct(f) ? 1 : -1;
				f->current_done = sent >= 0;
			} else {
				sent = send_page(f);
			}
			if (sent < 0)
				return false; /* the store failed: it reconnects, and we reload */
			budget -= sent > 0 ? sent : 1;
		}
		if (f->current_done)
			finish_change(f);
		if (f->sent_since_sync >= SYNC_EVERY_MESSAGES ||
		    (f->sent_since_sync && link_sent_bytes(f->link) >= f->bytes_at_sync + SYNC_EVERY_BYTES))
			checkpoint(f);
	}
	/* Output the fan-out did not write (IQ answers: a thousand subscribe results) counts
	 * in the window too, and no checkpoint covers it. When the window is full with that
	 * much unsynced, nothing else would ask the server to confirm it until the keepalive
	 * ping, up to ping_interval later: ask now. */
	if (link_unconfirmed_bytes(f->link) >= WINDOW_BYTES && link_unsynced_bytes(f->link) >= SYNC_EVERY_BYTES)
		link_sync(f->link, NULL, NULL);
	bool more = !f->idle && budget <= 0 && link_pending_bytes(f->link) < HIGH_WATER_BYTES &&
	            link_unconfirmed_bytes(f->link) < WINDOW_BYTES;
	/* confirm what went out: promptly when the work stops, periodically while it runs */
	if ((f->sent_since_sync && (f->idle || now - f->last_sync_ms >= SYNC_EVERY_MS)) ||
	    (f->idle && f->change != f->saved_change && !f->sent_since_sync && now - f->last_sync_ms >= SYNC_EVERY_MS))
		checkpoint(f);
	/* Done for now, with output queued after the link's hook has chosen its poll events:
	 * one more turn (busy: poll does not wait) writes it out, instead of poll waiting for
	 * something else to happen, up to a second. While more work waits for the server's
	 * confirmations, those wake the loop as before. */
	return more || (f->idle && link_sent_bytes(f->link) != queued_before);
}
