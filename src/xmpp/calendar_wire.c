/* calendar_wire.c: calendar nodes on the wire (ProtoXEP "Calendaring Extensions to
 * Publish-Subscribe", with RFC 6321 xCal and RFC 7265 jCal payloads): decoding and
 * checking a published calendar object, and the CalDAV time-range and free/busy queries
 * carried inside an items request. */
#include "calendar_wire.h"

#include "../calendar/calendar.h"
#include "../log.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_CALDAV "urn:ietf:params:xml:ns:caldav"
#define NS_DAV "DAV:"

void calendar_publish_free(struct calendar_publish *cp)
{
	if (cp->decoded.ics)
		cal_payload_free(&cp->decoded);
	buf_free(&cp->payload);
	buf_free(&cp->body);
	memset(cp, 0, sizeof(*cp));
}

static bool invalid(struct ps_error *err, const char *what)
{
	return ps_fail(err, SC_BAD_REQUEST, PSE_INVALID_PAYLOAD, "%s", what);
}

bool calendar_prepare_publish(struct publish_request *pr, const struct node_config *cfg, void *arg,
                              struct ps_error *err)
{
	struct calendar_publish *cp = arg;
	const struct xml_node *payload = cp->tree;
	bool calendar = cfg->calendar, jcal = cfg->calendar_format == CF_JCAL;
	bool ok = true;
	if (!calendar || !payload)
		return true; /* not a calendar, or the service answers for the missing payload */
	struct buf errors = BUF_INIT;
	if (!jcal) {
		if (!payload->name || strcmp(payload->name, "icalendar") != 0 || !payload->ns ||
		    strcmp(payload->ns, CAL_NS_XCAL) != 0)
			ok = invalid(err, "this calendar takes xCal: <icalendar xmlns='" CAL_NS_XCAL "'/>");
		else if (!cal_from_xcal(payload, &cp->decoded, &errors))
			ok = invalid(err, buf_cstr(&errors));
	} else {
		if (!payload->name || strcmp(payload->name, "json") != 0 || !payload->ns ||
		    strcmp(payload->ns, CAL_NS_JSON_CONTAINER) != 0) {
			ok = invalid(err, "this calendar takes jCal in <json xmlns='" CAL_NS_JSON_CONTAINER "'/>");
		} else {
			char *json = xml_text_content(payload);
			if (!cal_from_jcal(json, strlen(json), &cp->decoded, &errors))
				ok = invalid(err, buf_cstr(&errors));
			free(json);
		}
	}
	buf_free(&errors);
	if (ok && !node_config_takes_component(cfg, cp->decoded.kind))
		ok = ps_fail(err, SC_BAD_REQUEST, PSE_ITEM_FORBIDDEN, "this calendar takes %s, not %s", cfg->calendar_components,
		             cp->decoded.kind);
	if (ok && pr->item_id && strcmp(pr->item_id, cp->decoded.uid) != 0)
		ok = ps_fail(err, SC_BAD_REQUEST, PSE_INVALID_PAYLOAD,
		             "the item id of a calendar object is its UID: '%.100s' is not '%.100s'", pr->item_id,
		             cp->decoded.uid);
	if (ok) {
		struct buf why = BUF_INIT;
		/* the canonical form is what subscribers see, whatever the publisher's spelling */
		ok = cal_to_item(cp->decoded.ics, jcal, &cp->payload, &cp->body, &why) || invalid(err, buf_cstr(&why));
		buf_free(&why);
	}
	if (ok) {
		pr->item_id = cp->decoded.uid;
		pr->payload = cp->payload.data;
		pr->payload_ns = jcal ? CAL_NS_JSON_CONTAINER : CAL_NS_XCAL;
		pr->body = cp->body.data;
		pr->calendar_ics = cp->decoded.ics;
		pr->calendar_component = cp->decoded.kind;
		pr->range_start = cp->decoded.range_start;
		pr->range_end = cp->decoded.range_end;
	}
	return ok;
}

/* ---- queries ---- */

/* CalDAV times are UTC date-times (20240101T000000Z); the ProtoXEP's examples write
 * 2024-01-01T00:00:00Z. Both are taken. */
static bool parse_utc(const char *s, cal_time_t *out)
{
	char compact[32];
	size_t k = 0;
	if (!s)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '-' || *p == ':')
			continue;
		if (k + 1 >= sizeof(compact))
			return false;
		compact[k++] = *p;
	}
	compact[k] = '\0';
	return k == 16 && compact[15] == 'Z' && cal_time_parse(compact, out);
}

/* bad-request with the CalDAV precondition that failed as the application condition */
static void query_error(struct iq *iq, const char *caldav_condition, const char *text)
{
	char app[120];
	snprintf(app, sizeof(app), "<%s xmlns='" NS_CALDAV "'/>", caldav_condition);
	iq_error(iq, SC_BAD_REQUEST, app, text);
}

static void query_error_about(struct iq *iq, const char *caldav_condition, const char *what, const char *name)
{
	char text[300];
	snprintf(text, sizeof(text), "%s: '%.60s'", what, name ? name : "");
	query_error(iq, caldav_condition, text);
}

/* Reads a time-range element: start and end are optional (unbounded). */
static bool read_range(struct iq *iq, xmpp_stanza_t *tr, cal_time_t *from, cal_time_t *to)
{
	const char *s = xmpp_stanza_get_attribute(tr, "start");
	const char *e = xmpp_stanza_get_attribute(tr, "end");
	if (!s && !e) {
		query_error(iq, "valid-filter", "a time-range needs a start, an end or both");
		return false;
	}
	if ((s && !parse_utc(s, from)) || (e && !parse_utc(e, to))) {
		query_error_about(iq, "valid-filter", "time-range values are UTC date-times such as 20240101T000000Z",
		                  s && !parse_utc(s, from) ? s : e);
		return false;
	}
	if (*to <= *from) {
		query_error(iq, "valid-filter", "the time-range end must come after its start");
		return false;
	}
	return true;
}

struct query {
	const char *component; /* NULL: any */
	bool ranged;
	cal_time_t from, to;
	bool expand;
	cal_time_t expand_from, expand_to;
};

/* calendar-query: filter/comp-filter[VCALENDAR]/comp-filter[VEVENT|VTODO|VJOURNAL]/
 * time-range, and DAV:prop/calendar-data/expand (or a bare <expand/>). */
static bool parse_calendar_query(struct iq *iq, xmpp_stanza_t *q, struct query *out)
{
	memset(out, 0, sizeof(*out));
	out->from = CAL_TIME_MIN;
	out->to = CAL_TIME_MAX;
	xmpp_stanza_t *filter = wire_child(q, "filter", NS_CALDAV);
	xmpp_stanza_t *top = filter ? wire_child(filter, "comp-filter", NS_CALDAV) : NULL;
	const char *top_name = top ? xmpp_stanza_get_attribute(top, "name") : NULL;
	if (!top || !top_name || strcmp(top_name, "VCALENDAR") != 0 || stanza_element_count(filter) != 1) {
		query_error(iq, "valid-filter", "a calendar-query has <filter><comp-filter name='VCALENDAR'>");
		return false;
	}
	for (xmpp_stanza_t *c = stanza_first_element(top); c; c = stanza_next_element(c)) {
		const char *name = xmpp_stanza_get_name(c);
		const char *comp = xmpp_stanza_get_attribute(c, "name");
		if (strcmp(name, "comp-filter") != 0 || out->component) {
			query_error_about(iq, "supported-filter",
			                  "unsupported filter (one component filter with a time-range is supported)", name);
			return false;
		}
		if (!comp || (strcmp(comp, "VEVENT") != 0 && strcmp(comp, "VTODO") != 0 && strcmp(comp, "VJOURNAL") != 0)) {
			query_error_about(iq, "supported-filter", "unsupported component filter", comp);
			return false;
		}
		out->component = comp;
		for (xmpp_stanza_t *f = stanza_first_element(c); f; f = stanza_next_element(f)) {
			if (strcmp(xmpp_stanza_get_name(f), "time-range") != 0 || out->ranged) {
				query_error_about(iq, "supported-filter", "unsupported filter (a time-range is supported)",
				                  xmpp_stanza_get_name(f));
				return false;
			}
			if (!read_range(iq, f, &out->from, &out->to))
				return false;
			out->ranged = true;
		}
	}
	xmpp_stanza_t *prop = wire_child(q, "prop", NS_DAV);
	xmpp_stanza_t *data = prop ? wire_child(prop, "calendar-data", NS_CALDAV) : NULL;
	xmpp_stanza_t *expand = data ? wire_child(data, "expand", NS_CALDAV) : wire_child(q, "expand", NS_CALDAV);
	if (expand) {
		out->expand = true;
		out->expand_from = out->from;
		out->expand_to = out->to;
		const char *s = xmpp_stanza_get_attribute(expand, "start");
		const char *e = xmpp_stanza_get_attribute(expand, "end");
		if ((s || e) && !read_range(iq, expand, &out->expand_from, &out->expand_to))
			return false;
		if (out->expand_from == CAL_TIME_MIN || out->expand_to == CAL_TIME_MAX) {
			query_error(iq, "valid-filter", "<expand/> needs a bounded window (start and end, or a time-range)");
			return false;
		}
	}
	return true;
}

static bool begin(struct service *svc, struct iq *iq, struct requester *rq)
{
	struct ps_error err;
	if (service_requester(svc, iq->from, rq, &err))
		return true;
	wire_iq_ps_error(iq, &err, NULL);
	return false;
}

static void reply_items(struct iq *iq, const char *node, struct buf *items)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'><items");
	xml_attr(&b, "node", node);
	buf_putc(&b, '>');
	buf_append(&b, buf_cstr(items), items->len);
	buf_puts(&b, "</items></pubsub>");
	iq_result(iq, b.data);
	buf_free(&b);
}

static void free_busy(struct service *svc, struct iq *iq, const char *node, xmpp_stanza_t *q)
{
	xmpp_stanza_t *tr = wire_child(q, "time-range", NS_CALDAV);
	cal_time_t from = CAL_TIME_MIN, to = CAL_TIME_MAX;
	if (!tr || !xmpp_stanza_get_attribute(tr, "start") || !xmpp_stanza_get_attribute(tr, "end"))
		return query_error(iq, "valid-filter", "a free-busy-query has a <time-range/> with start and end");
	if (!read_range(iq, tr, &from, &to))
		return;
	struct requester rq;
	if (!begin(svc, iq, &rq))
		return;
	struct ps_error err;
	struct calobj_row *objs;
	size_t n;
	enum calendar_format format;
	bool ok = service_calendar_window(svc, &rq, node, from, to, &objs, &n, &format, &err);
	requester_free(&rq);
	if (!ok)
		return wire_iq_ps_error(iq, &err, NULL);
	const char **texts = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		texts[i] = objs[i].ics;
	struct buf why = BUF_INIT, items = BUF_INIT;
	char *fb = cal_freebusy(texts, n, from, to, (cal_time_t)time(NULL), NULL, &why);
	free(texts);
	calobj_rows_free(objs, n);
	if (!fb) {
		log_error("free/busy of '%s' failed: %s", node, buf_cstr(&why));
		iq_error(iq, SC_INTERNAL_SERVER_ERROR, NULL, NULL);
	} else {
		buf_puts(&items, "<item>");
		if (cal_to_item_payload(fb, format == CF_JCAL, &items, &why)) {
			buf_puts(&items, "</item>");
			reply_items(iq, node, &items);
		} else {
			iq_error(iq, SC_INTERNAL_SERVER_ERROR, NULL, NULL);
		}
		free(fb);
	}
	buf_free(&why);
	buf_free(&items);
}

static void calendar_query(struct service *svc, struct iq *iq, const char *node, xmpp_stanza_t *q, int max_objects)
{
	struct query query;
	if (!parse_calendar_query(iq, q, &query))
		return;
	struct requester rq;
	if (!begin(svc, iq, &rq))
		return;
	struct ps_error err;
	struct calobj_row *objs;
	size_t n;
	enum calendar_format format;
	bool ok = service_calendar_window(svc, &rq, node, query.from, query.to, &objs, &n, &format, &err);
	requester_free(&rq);
	if (!ok)
		return wire_iq_ps_error(iq, &err, NULL);
	struct buf items = BUF_INIT, why = BUF_INIT;
	int kept = 0;
	for (size_t i = 0; i < n && kept < max_objects; i++) {
		const struct calobj_row *o = &objs[i];
		if (query.component && (!o->component || strcmp(o->component, query.component) != 0))
			continue;
		int occurs = query.ranged ? cal_occurs_in_window(o->ics, query.from, query.to, NULL, &why) : 1;
		if (occurs < 0) {
			log_warn("cannot search %s/%s in the window: %s", node, o->uid, buf_cstr(&why));
			buf_reset(&why);
		}
		if (occurs != 1)
			continue;
		char *expanded = query.expand ? cal_expand_ics(o->ics, query.expand_from, query.expand_to, NULL, &why) : NULL;
		if (query.expand && !expanded) {
			log_warn("cannot expand %s/%s: %s", node, o->uid, buf_cstr(&why));
			buf_reset(&why);
			continue;
		}
		size_t mark = items.len;
		buf_puts(&items, "<item");
		xml_attr(&items, "id", o->uid);
		buf_putc(&items, '>');
		if (cal_to_item_payload(expanded ? expanded : o->ics, format == CF_JCAL, &items, &why)) {
			buf_puts(&items, "</item>");
			kept++;
		} else {
			items.len = mark;
			items.data[mark] = '\0';
		}
		free(expanded);
		buf_reset(&why);
	}
	calobj_rows_free(objs, n);
	reply_items(iq, node, &items);
	buf_free(&items);
	buf_free(&why);
}

bool calendar_items_query(struct service *svc, struct iq *iq, xmpp_stanza_t *items, int max_objects)
{
	const char *node = xmpp_stanza_get_attribute(items, "node");
	xmpp_stanza_t *q = wire_child(items, "calendar-query", NS_CALDAV);
	xmpp_stanza_t *fb = wire_child(items, "free-busy-query", NS_CALDAV);
	if (!q && !fb)
		return false;
	if (!node) {
		struct ps_error err;
		ps_fail(&err, SC_BAD_REQUEST, PSE_NODEID_REQUIRED, "a node attribute is required");
		wire_iq_ps_error(iq, &err, NULL);
	} else if (q && fb) {
		iq_error(iq, SC_BAD_REQUEST, NULL, "one query per request");
	} else if (fb) {
		free_busy(svc, iq, node, fb);
	} else {
		calendar_query(svc, iq, node, q, max_objects);
	}
	return true;
}
