/* link.h: the XEP-0114 component connection to the XMPP server: handshake, reconnect with
 * backoff, dead-link detection, clean shutdown, and the outgoing byte stream. */
#ifndef CALPUBSUB_XMPP_LINK_H
#define CALPUBSUB_XMPP_LINK_H

#include "../config.h"

#include <stdbool.h>
#include <stddef.h>
#include <strophe.h>

struct link;

typedef void (*link_state_fn)(bool online, void *arg);
/* Receives every stanza from the server once the handshake is done. */
typedef void (*link_stanza_fn)(xmpp_stanza_t *stanza, void *arg);
/* Answer to link_sync(): ok is false when the link went down first. */
typedef void (*link_sync_fn)(bool ok, void *arg);

struct link *link_new(const struct config *cfg);
void link_free(struct link *l);
void link_set_handlers(struct link *l, link_state_fn on_state, void *state_arg, link_stanza_fn on_stanza,
                       void *stanza_arg);
/* Called after each read of the server's stanzas has been dispatched; more_ready says
 * whether more input is already waiting on the socket. Returning true reads that input
 * now, in the same turn (group commit of requests that arrive together); false ends
 * the turn. */
typedef bool (*link_input_done_fn)(bool more_ready, void *arg);
void link_set_input_done(struct link *l, link_input_done_fn fn, void *arg);
void link_start(struct link *l);
/* Flushes what is queued, waits for the server to confirm it has handled it (a sync),
 * closes the stream and waits for the server to close its side, at most timeout_ms in
 * all; then calls done(). */
void link_shutdown(struct link *l, unsigned timeout_ms, void (*done)(void *arg), void *arg);
bool link_online(const struct link *l);

/* Queues serialised stanzas. calpubsub writes the socket itself instead of going through
 * libstrophe's send queue: that queue copies every stanza, writes it with its own system
 * call, and is discarded without a word on disconnect, so flow control and durability
 * could not be built on it. Dropped (with a debug line) when the link is not online. */
void link_send(struct link *l, const char *data, size_t len);
/* Bytes queued and not yet accepted by the kernel. */
size_t link_pending_bytes(const struct link *l);
/* Bytes sent that no answered sync covers yet: written, but maybe not yet read by the
 * server. Bulk senders keep this under a window so that the kernel's socket buffers
 * (megabytes on loopback) never hold a long queue in front of a reply. */
size_t link_unconfirmed_bytes(const struct link *l);
/* Of those, bytes that no sync sent so far covers: even once every outstanding sync is
 * answered, at least this much stays unconfirmed. */
size_t link_unsynced_bytes(const struct link *l);
/* Bytes handed to link_send() on this connection. */
unsigned long long link_sent_bytes(const struct link *l);
/* Sends a ping to the server and calls fn when it answers. The server handles a
 * component's stanzas in order, so the answer proves that it has processed everything
 * sent before: the fan-out advances its durable cursor on it. */
void link_sync(struct link *l, link_sync_fn fn, void *arg);
/* Called by the router for every IQ result or error; true when it was ours. */
bool link_take_reply(struct link *l, const char *id, bool is_error);

const char *link_jid(const struct link *l);
const char *link_server_domain(const struct link *l);
/* A fresh stanza id, unique for the life of the process. */
void link_new_id(struct link *l, char *dst, size_t n, const char *prefix);
xmpp_ctx_t *link_ctx(struct link *l);

#endif
