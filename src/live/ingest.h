/* ingest.h: PostgreSQL as a live source. Applications write calendar objects into
 * calpubsub_calendar_object with plain SQL; a trigger logs each write; the fan-out hands
 * those changes here, in order, and each row is read, checked with calendar/, and
 * published (or retracted) through the service, or refused with its reason recorded on
 * the row and in the log. */
#ifndef CALPUBSUB_LIVE_INGEST_H
#define CALPUBSUB_LIVE_INGEST_H

#include "../pubsub/service.h"
#include "../store/store.h"

#include <stdbool.h>

struct ingest;

struct ingest *ingest_new(struct service *svc, struct store *st);
void ingest_free(struct ingest *g);
/* Handles one write of the row (node, uid): ics is the text written, NULL when the row
 * was deleted. False when the database failed: the caller tries again later. */
bool ingest_row(const char *node, const char *uid, const char *ics, void *arg);

#endif
