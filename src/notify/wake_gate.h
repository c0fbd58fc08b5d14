/* wake_gate.h: whether the fan-out must read the change log again, or has already read
 * everything that the wake-ups it got announce. Every transaction that logs a change
 * sends a NOTIFY after its commit, with the change's id (calpubsub_log_change) or
 * another word (an import). Change ids are committed in order, so a read that came back
 * short saw every change committed when it ran, and a wake-up that names an id it saw
 * asks for nothing new: reading again would come back empty, a round trip on the way of
 * every publish's notifications. */
#ifndef CALPUBSUB_NOTIFY_WAKE_GATE_H
#define CALPUBSUB_NOTIFY_WAKE_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wake_gate {
	bool settled;     /* the last read came back short: `seen` is everything committed then */
	int64_t seen;     /* every change up to this id was read */
	int64_t announced; /* the highest change id a wake-up named since the last read */
	bool unnamed;     /* a wake-up that named no change came since the last read */
};

/* A NOTIFY arrived, with its payload (NULL for none). */
void wake_gate_woken(struct wake_gate *g, const char *payload);
/* The changes after `after` were read, asking for at most `limit`: `rows` came back,
 * the last with id `last_id`. */
void wake_gate_read(struct wake_gate *g, int64_t after, int64_t last_id, size_t rows, size_t limit);
/* The same for a read made earlier, with a commit (store_read_changes_with_commit): the
 * wake-ups that arrived since may be for changes committed after it, and stay. */
void wake_gate_read_earlier(struct wake_gate *g, int64_t after, int64_t last_id, size_t rows, size_t limit);
/* Nothing is known about the log any more (a reconnection, a reload). */
void wake_gate_forget(struct wake_gate *g);
/* Whether reading the change log again can return anything. */
bool wake_gate_must_read(const struct wake_gate *g);

#endif
