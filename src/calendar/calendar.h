/* calendar.h: the calendar library of calpubsub: reading iCalendar files into calendar
 * objects (one per UID: the master, its RECURRENCE-ID overrides and the VTIMEZONEs they
 * use), validation with file/line diagnostics, the canonical text stored for each object,
 * xCal (RFC 6321) and jCal (RFC 7265) encoders and decoders, export, recurrence expansion
 * in a time window and free/busy. Pure: no XMPP, no SQL. Every calendar object crosses
 * this interface as its canonical iCalendar text; nothing here keeps state between calls
 * except libical's cache of built-in time zones. */
#ifndef CALPUBSUB_CALENDAR_H
#define CALPUBSUB_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "src/buf.h"
#include "src/xmltree.h"

/* Seconds since 1970-01-01T00:00:00Z. */
typedef int64_t cal_time_t;
/* Bounds standing for "unbounded": 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, both
 * representable in a PostgreSQL timestamptz. */
#define CAL_TIME_MIN ((cal_time_t)-62135596800LL)
#define CAL_TIME_MAX ((cal_time_t)253402300799LL)

#define CAL_NS_XCAL "urn:ietf:params:xml:ns:icalendar-2.0"
/* XEP-0335 JSON container, which carries jCal in an XML stanza. */
#define CAL_NS_JSON_CONTAINER "urn:xmpp:json:0"
/* The PRODID of every canonical text and export. */
#define CAL_PRODID "-//calpubsub//calpubsub//EN"

enum cal_severity { CAL_WARNING, CAL_ERROR };

struct cal_diag {
	const char *file;  /* the name given to cal_read */
	unsigned line;     /* physical line (1-based) in that file; 0 when none applies */
	const char *uid;   /* UID of the object concerned, NULL when unknown */
	enum cal_severity severity;
	const char *message;
};
typedef void (*cal_diag_fn)(const struct cal_diag *diag, void *arg);

struct cal_object {
	const char *uid;
	const char *kind;   /* "VEVENT", "VTODO" or "VJOURNAL" */
	const char *ics;    /* canonical text: one VCALENDAR, CRLF line ends */
	size_t ics_len;
	unsigned line;      /* line of the first BEGIN of this object in the source */
	/* No occurrence starts before range_start or ends after range_end. Floating times
	 * widen both by 14 hours, since they may be read in any zone. range_end is
	 * CAL_TIME_MAX for unbounded recurrences. */
	cal_time_t range_start;
	cal_time_t range_end;
	bool valid;         /* false only under CAL_READ_REPORT_ALL */
};
/* Returns 0 to go on, anything else to stop reading (cal_read then returns -1). */
typedef int (*cal_object_fn)(const struct cal_object *obj, void *arg);

enum cal_read_policy {
	/* Any error refuses the whole file: no object is delivered at all. */
	CAL_READ_ALL_OR_NOTHING = 0,
	/* Valid objects are delivered; each invalid one is reported and skipped. */
	CAL_READ_SKIP_INVALID,
	/* Every object is delivered with its valid flag (a linter's mode). */
	CAL_READ_REPORT_ALL,
};

struct cal_read_opts {
	enum cal_read_policy policy;
	/* With CAL_READ_ALL_OR_NOTHING: each valid object is delivered as soon as it is
	 * read, and the caller undoes what it did with them when cal_read() returns errors
	 * (an importer writes them in a transaction while the rest is read). */
	bool early;
};

/* Reads an iCalendar stream in one pass: VCALENDARs (one or more), their components
 * grouped by UID across the whole stream, VTIMEZONEs shared. Diagnostics go to on_diag
 * (may be NULL) as they are found; objects are delivered to on_object once the stream
 * is read, in the order of their first appearance. Returns the number of errors found
 * (0: the whole stream is valid), or -1 when reading failed or on_object stopped. */
int cal_read(FILE *in, const char *name, const struct cal_read_opts *opts, cal_object_fn on_object,
             cal_diag_fn on_diag, void *arg);
/* The same over a string in memory. */
int cal_read_string(const char *text, size_t len, const char *name, const struct cal_read_opts *opts,
                    cal_object_fn on_object, cal_diag_fn on_diag, void *arg);

/* One calendar object decoded from a published payload. */
struct cal_payload {
	char *uid;
	char *kind;
	char *ics; /* canonical text */
	cal_time_t range_start;
	cal_time_t range_end;
};
void cal_payload_free(struct cal_payload *p);

/* Encoders from canonical text. Both return false (with a reason appended to err) only
 * when the text is not a calendar at all. */
bool cal_to_xcal(const char *ics, struct xml_node **out, struct buf *err);
/* Compact XML text of the same tree. */
bool cal_to_xcal_text(const char *ics, struct buf *out, struct buf *err);
/* Compact JSON text (RFC 7265). */
bool cal_to_jcal(const char *ics, struct buf *out, struct buf *err);

/* The payload of a PubSub item holding the object: xCal, or jCal inside an XEP-0335
 * <json/> container. */
bool cal_to_item_payload(const char *ics, bool jcal, struct buf *out, struct buf *err);
/* The same, and the one-line summary of cal_summary(ics, 0, true) in `body`, with one
 * parse of the text. */
bool cal_to_item(const char *ics, bool jcal, struct buf *payload, struct buf *body, struct buf *err);
/* At least the size of the item payload, in either format, of a canonical object text of
 * ics_len bytes: an importer checks the node's max payload size with it and encodes only
 * when the bound is over. The worst growth found is about thirteenfold: empty one-letter
 * properties in jCal ("A:" becomes "[&quot;a&quot;,{},&quot;unknown&quot;,&quot;&quot;]"),
 * and a one-digit value list in xCal about tenfold; the bound leaves room over that
 * (test_cal_codec). */
size_t cal_item_size_bound(size_t ics_len);

/* Decoders of a published payload holding exactly one calendar object. On failure they
 * return false and append one message per line to errors (for a bad-request answer). */
bool cal_from_xcal(const struct xml_node *icalendar, struct cal_payload *out, struct buf *errors);
bool cal_from_jcal(const char *json, size_t len, struct cal_payload *out, struct buf *errors);

/* Writes one iCalendar file holding the given canonical texts: one VCALENDAR, each
 * VTIMEZONE once (the first definition of a TZID wins). False when one text is not a
 * calendar (reason in err); out then holds nothing new. */
bool cal_export(struct buf *out, const char *const *objects, size_t n_objects, struct buf *err);

/* One occurrence of a calendar object. */
struct cal_occurrence {
	cal_time_t start;          /* UTC */
	cal_time_t end;            /* UTC; equal to start for instants */
	/* The original start of this instance (its RECURRENCE-ID), UTC; for all-day objects
	 * midnight of the date in the floating zone. Meaningful when recurring. */
	cal_time_t recurrence_id;
	bool recurring;            /* the object has RRULE, RDATE or overrides */
	bool all_day;              /* the instance's DTSTART is a DATE */
	const char *kind;          /* "VEVENT", "VTODO", "VJOURNAL" */
	/* The component the instance comes from: its index in the object's canonical text
	 * (0 is the master when there is one; overrides follow in RECURRENCE-ID order). */
	unsigned component;
	bool overridden;           /* comes from a RECURRENCE-ID component */
	bool cancelled;            /* STATUS:CANCELLED */
	bool transparent;          /* TRANSP:TRANSPARENT */
	bool tentative;            /* STATUS:TENTATIVE */
};
typedef int (*cal_occurrence_fn)(const struct cal_occurrence *occ, void *arg);

/* floating_tzid: the zone in which floating times and dates are read (IANA or Windows
 * name); NULL means UTC. */
struct cal_expand_opts {
	const char *floating_tzid;
};

/* Calls fn for each occurrence of the object that overlaps [from, to) (RFC 4791 9.9:
 * start < to and end > from; an instant overlaps when from <= start < to), in order of
 * start. Returns the number of occurrences, or -1 with the reason in err (invalid text,
 * unknown floating zone, a rule too expensive to expand, or fn returning nonzero). */
long cal_expand(const char *ics, cal_time_t from, cal_time_t to, const struct cal_expand_opts *opts,
                cal_occurrence_fn fn, void *arg, struct buf *err);
/* Whether the object has an occurrence overlapping [from, to); -1 on error. */
int cal_occurs_in_window(const char *ics, cal_time_t from, cal_time_t to, const struct cal_expand_opts *opts,
                         struct buf *err);
/* CalDAV's <expand/> (RFC 4791 9.6.5): a VCALENDAR whose components are the instances
 * overlapping [from, to), each with RECURRENCE-ID (when recurring) and times in UTC, no
 * RRULE, RDATE, EXDATE or VTIMEZONE. NULL with the reason in err, also when the text
 * would pass CAL_EXPAND_MAX_BYTES: each instance repeats the whole object, so a 2 KB
 * event recurring every minute made 1.2 GB for a year. */
#define CAL_EXPAND_MAX_BYTES (1024 * 1024)
char *cal_expand_ics(const char *ics, cal_time_t from, cal_time_t to, const struct cal_expand_opts *opts,
                     struct buf *err);

/* Free/busy (RFC 5545 3.6.4, RFC 4791 7.10) of the VEVENTs of the given objects over
 * [from, to): a VCALENDAR with one VFREEBUSY whose FREEBUSY periods are in UTC, clipped
 * to the window, sorted, coalesced per FBTYPE (BUSY, or BUSY-TENTATIVE for
 * STATUS:TENTATIVE); transparent and cancelled instances are left out. stamp is the
 * DTSTAMP. NULL with the reason in err. */
char *cal_freebusy(const char *const *objects, size_t n_objects, cal_time_t from, cal_time_t to,
                   cal_time_t stamp, const struct cal_expand_opts *opts, struct buf *err);

/* The IANA zone for a Windows zone name as Outlook and Exchange write them
 * ("W. Europe Standard Time"), from CLDR's windowsZones.xml; NULL when unknown. */
const char *cal_windows_zone_to_iana(const char *windows_name);

/* Formats t as an iCalendar UTC DATE-TIME ("20240131T120000Z"); buf holds 17 bytes. */
void cal_time_format(cal_time_t t, char out[17]);
/* Parses a UTC DATE-TIME ("20240131T120000Z") or a DATE ("20240131", midnight UTC). */
bool cal_time_parse(const char *s, cal_time_t *out);

/* A one-line human summary of one component of a canonical object (0: the first, the
 * master when there is one; the numbering of cal_occurrence.component): its SUMMARY,
 * and with_start when it starts, for the <body/> of notifications (pubsub#include_body)
 * and listings. False when the text is not a calendar or has no such component. */
bool cal_summary(const char *ics, unsigned component, bool with_start, struct buf *out);

/* Releases libical's cache of built-in zones (tests and tools call it before exit so that
 * leak checkers see a clean heap). */
void cal_library_cleanup(void);

#endif
