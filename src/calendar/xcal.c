/* xcal.c: xCal (RFC 6321) encoder and decoder. Encoding walks the canonical text's
 * component tree; decoding builds iCalendar text again and hands it to the reader, so a
 * published payload is held to the same rules as an imported file. */
#include "src/calendar/codec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The encoder writes the XML text directly: building a tree first and serializing it
 * cost more than half of a large import. An element's start tag stays open until its first
 * content, so that an empty one is written `<name/>` as xml_serialize() writes it. The
 * same walk builds a tree instead (cal_to_xcal) when `out` is NULL. */
struct xcal_writer {
	struct buf *out;
	bool tag_open;
	/* reused for values and type names, so that encoding allocates next to nothing */
	struct buf value, type;
	/* tree mode: the open elements, the root first */
	struct xml_node **open;
	size_t depth, cap;
};

static void close_start_tag(struct xcal_writer *w)
{
	if (w->tag_open)
		buf_putc(w->out, '>');
	w->tag_open = false;
}

static void put_name(struct buf *out, const char *name, bool lower)
{
	if (!lower) {
		buf_puts(out, name);
		return;
	}
	for (; *name; name++)
		buf_putc(out, (char)tolower((unsigned char)*name));
}

/* iCalendar names (VEVENT, DTSTART, TZID) are written in lower case, as RFC 6321 says */
static void start_el_case(struct xcal_writer *w, const char *name, bool lower)
{
	if (!w->out) {
		struct buf lowered = BUF_INIT;
		put_name(&lowered, name, lower);
		struct xml_node *e = xml_element_new(buf_cstr(&lowered), CAL_NS_XCAL);
		buf_free(&lowered);
		xml_add_child(w->open[w->depth - 1], e);
		if (w->depth == w->cap) {
			w->cap *= 2;
			w->open = xrealloc(w->open, w->cap * sizeof(*w->open));
		}
		w->open[w->depth++] = e;
		return;
	}
	close_start_tag(w);
	buf_putc(w->out, '<');
	put_name(w->out, name, lower);
	w->tag_open = true;
}

static void end_el_case(struct xcal_writer *w, const char *name, bool lower)
{
	if (!w->out) {
		w->depth--;
		return;
	}
	if (w->tag_open) {
		buf_puts(w->out, "/>");
		w->tag_open = false;
		return;
	}
	buf_puts(w->out, "</");
	put_name(w->out, name, lower);
	buf_putc(w->out, '>');
}

static void start_el(struct xcal_writer *w, const char *name)
{
	start_el_case(w, name, false);
}

static void end_el(struct xcal_writer *w, const char *name)
{
	end_el_case(w, name, false);
}

static void text_el(struct xcal_writer *w, const char *name, const char *text)
{
	start_el(w, name);
	if (*text && !w->out) {
		xml_add_child(w->open[w->depth - 1], xml_text_new(text, strlen(text)));
	} else if (*text) {
		close_start_tag(w);
		buf_xml_escape(w->out, text);
	}
	end_el(w, name);
}

static void unescaped_el(struct xcal_writer *w, const char *name, const char *raw)
{
	buf_reset(&w->value);
	text_unescape(&w->value, raw, strlen(raw));
	text_el(w, name, buf_cstr(&w->value));
}

static void ext_el(struct xcal_writer *w, const char *name, enum vtype t, const char *v)
{
	buf_reset(&w->value);
	codec_ext_value(&w->value, t, v);
	text_el(w, name, buf_cstr(&w->value));
}

static void lower_el(struct xcal_writer *w, const char *name, const char *v)
{
	buf_reset(&w->value);
	codec_lower(&w->value, v);
	text_el(w, name, buf_cstr(&w->value));
}

static void encode_recur(struct xcal_writer *w, const char *v)
{
	start_el(w, "recur");
	char **parts;
	size_t n = split_unescaped(v, ';', &parts);
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(parts[i], '=');
		if (!eq)
			continue;
		*eq = '\0';
		struct buf name = BUF_INIT;
		codec_lower(&name, parts[i]);
		char **vals;
		size_t nv = split_unescaped(eq + 1, ',', &vals);
		for (size_t k = 0; k < nv; k++) {
			if (!strcmp(name.data, "until")) {
				buf_reset(&w->value);
				codec_ext_date_or_datetime(&w->value, vals[k]);
				text_el(w, name.data, buf_cstr(&w->value));
			} else {
				text_el(w, name.data, vals[k]);
			}
		}
		free_strv(vals, nv);
		buf_free(&name);
	}
	free_strv(parts, n);
	end_el(w, "recur");
}

static void encode_value(struct xcal_writer *w, const char *type_name, enum vtype t, const char *v)
{
	const char *slash;
	switch (t) {
	case VT_TEXT: unescaped_el(w, "text", v); break;
	case VT_DATE:
	case VT_DATE_TIME:
	case VT_TIME:
	case VT_UTC_OFFSET: ext_el(w, type_name, t, v); break;
	case VT_PERIOD:
		start_el(w, "period");
		slash = strchr(v, '/');
		if (!slash) {
			text_el(w, "start", v);
		} else {
			char *start = xstrndup(v, (size_t)(slash - v));
			ext_el(w, "start", VT_DATE_TIME, start);
			free(start);
			if (slash[1] == 'P' || slash[1] == '+' || slash[1] == '-')
				text_el(w, "duration", slash + 1);
			else
				ext_el(w, "end", VT_DATE_TIME, slash + 1);
		}
		end_el(w, "period");
		break;
	case VT_RECUR: encode_recur(w, v); break;
	case VT_BOOLEAN: lower_el(w, "boolean", v); break;
	default: text_el(w, type_name, v); break;
	}
}

static void encode_param(struct xcal_writer *w, const struct cal_param *prm)
{
	start_el_case(w, prm->name, true);
	enum vtype pt = param_type(prm->name);
	const char *value_el = pt == VT_URI ? "uri" : pt == VT_CAL_ADDRESS ? "cal-address" : pt == VT_BOOLEAN ? "boolean" : "text";
	for (size_t k = 0; k < prm->n_values; k++) {
		if (pt == VT_BOOLEAN)
			lower_el(w, value_el, prm->values[k]);
		else
			text_el(w, value_el, prm->values[k]);
	}
	end_el_case(w, prm->name, true);
}

static void encode_prop(struct xcal_writer *w, const struct cal_prop *p)
{
	start_el_case(w, p->name, true);
	bool params = false;
	for (size_t i = 0; i < p->n_params; i++) {
		if (!strcmp(p->params[i].name, "VALUE"))
			continue;
		if (!params)
			start_el(w, "parameters");
		params = true;
		encode_param(w, &p->params[i]);
	}
	if (params)
		end_el(w, "parameters");
	enum vtype t = prop_type(p);
	enum vshape shape = prop_shape(p->name);
	buf_reset(&w->type);
	codec_type_name(&w->type, p);
	const char *type_name = buf_cstr(&w->type);
	char **parts = NULL;
	size_t n = 0;
	if ((shape == SHAPE_GEO && t == VT_FLOAT) || (shape == SHAPE_RSTATUS && t == VT_TEXT))
		n = split_unescaped(p->value, ';', &parts);
	if (shape == SHAPE_GEO && n == 2) {
		start_el(w, "geo");
		text_el(w, "latitude", parts[0]);
		text_el(w, "longitude", parts[1]);
		end_el(w, "geo");
	} else if (shape == SHAPE_RSTATUS && n >= 2) {
		start_el(w, "request-status");
		text_el(w, "code", parts[0]);
		unescaped_el(w, "description", parts[1]);
		if (n > 2)
			unescaped_el(w, "data", parts[2]);
		end_el(w, "request-status");
	} else if (shape == SHAPE_LIST) {
		char **vals;
		size_t nv = split_unescaped(p->value, ',', &vals);
		for (size_t i = 0; i < nv; i++)
			encode_value(w, type_name, t, vals[i]);
		free_strv(vals, nv);
	} else {
		encode_value(w, type_name, t, p->value);
	}
	free_strv(parts, n);
	end_el_case(w, p->name, true);
}

static void encode_comp(struct xcal_writer *w, const struct cal_comp *c)
{
	start_el_case(w, c->name, true);
	start_el(w, "properties");
	for (size_t i = 0; i < c->n_props; i++)
		encode_prop(w, &c->props[i]);
	end_el(w, "properties");
	if (c->n_subs) {
		start_el(w, "components");
		for (size_t i = 0; i < c->n_subs; i++)
			encode_comp(w, c->subs[i]);
		end_el(w, "components");
	}
	end_el_case(w, c->name, true);
}

void xcal_write(const struct cal_comp *vcal, struct buf *out)
{
	struct xcal_writer w = {.out = out};
	buf_puts(out, "<icalendar xmlns='" CAL_NS_XCAL "'>");
	encode_comp(&w, vcal);
	buf_puts(out, "</icalendar>");
	buf_free(&w.value);
	buf_free(&w.type);
}

bool cal_to_xcal_text(const char *ics, struct buf *out, struct buf *err)
{
	struct cal_comp *vcal = cal_parse_text(ics, strlen(ics), err);
	if (!vcal)
		return false;
	xcal_write(vcal, out);
	cal_comp_free(vcal);
	return true;
}

bool cal_to_xcal(const char *ics, struct xml_node **out, struct buf *err)
{
	struct cal_comp *vcal = cal_parse_text(ics, strlen(ics), err);
	if (!vcal)
		return false;
	struct xcal_writer w = {.cap = 16};
	w.open = xcalloc(w.cap, sizeof(*w.open));
	w.open[w.depth++] = *out = xml_element_new("icalendar", CAL_NS_XCAL);
	encode_comp(&w, vcal);
	buf_free(&w.value);
	buf_free(&w.type);
	free(w.open);
	cal_comp_free(vcal);
	return true;
}

/* ---- decoding ---- */

static bool is_xcal(const struct xml_node *n)
{
	return n->name && n->ns && strcmp(n->ns, CAL_NS_XCAL) == 0;
}

static char *content(const struct xml_node *n)
{
	return xml_text_content(n);
}

/* One of the parts of a recurrence rule, as xCal spells it (lower case): its rank in
 * recur_part_names, or -1. */
static int recur_element(const char *name)
{
	for (const char *c = name; *c; c++)
		if (isupper((unsigned char)*c))
			return -1;
	return recur_part_rank(name);
}

static bool decode_recur(const struct xml_node *r, struct buf *out, struct buf *errors)
{
	/* Repeated parts (byday, bymonth...) join with commas, in the order each part first
	 * appears. A part is gathered once, so the work is bounded by the number of parts
	 * times the number of children, whatever a hostile <recur> repeats. */
	uint32_t gathered = 0; /* bit p: recur_part_names[p], of which there are 16 */
	for (size_t i = 0; i < r->n_children; i++) {
		const struct xml_node *part = r->children[i];
		if (!part->name)
			continue;
		int p = recur_element(part->name);
		if (p < 0) {
			buf_printf(errors, "xCal: <%.100s> is not a part of a recurrence rule\n", part->name);
			return false;
		}
		if (gathered & (1u << p))
			continue;
		gathered |= 1u << p;
		const char *name = recur_part_names[p];
		buf_printf(out, "%s%s=", out->len ? ";" : "", name);
		bool first = true;
		for (size_t k = i; k < r->n_children; k++) {
			if (!r->children[k]->name || strcmp(r->children[k]->name, part->name) != 0)
				continue;
			char *v = content(r->children[k]);
			if (!first)
				buf_putc(out, ',');
			first = false;
			codec_basic_value(out, strcmp(name, "UNTIL") ? VT_UNKNOWN : VT_DATE_TIME, v);
			free(v);
		}
	}
	if (!out->len) {
		buf_puts(errors, "xCal: empty <recur>\n");
		return false;
	}
	return true;
}

static bool decode_value(const struct xml_node *v, struct buf *out, struct buf *errors)
{
	enum vtype t = vtype_from_name(v->name);
	if (t == VT_RECUR)
		return decode_recur(v, out, errors);
	if (t == VT_PERIOD) {
		const struct xml_node *s = xml_child(v, "start", CAL_NS_XCAL), *e = xml_child(v, "end", CAL_NS_XCAL),
		                      *d = xml_child(v, "duration", CAL_NS_XCAL);
		if (!s || (!e == !d)) {
			buf_puts(errors, "xCal: <period> needs <start> and one of <end> or <duration>\n");
			return false;
		}
		char *a = content(s), *b = content(e ? e : d);
		codec_basic_value(out, VT_DATE_TIME, a);
		buf_putc(out, '/');
		codec_basic_value(out, e ? VT_DATE_TIME : VT_DURATION, b);
		free(a);
		free(b);
		return true;
	}
	char *text = content(v);
	if (t == VT_TEXT)
		text_escape(out, text);
	else if (t == VT_BOOLEAN) {
		char *u = codec_upper(text);
		buf_puts(out, u);
		free(u);
	} else
		codec_basic_value(out, t, text);
	free(text);
	return true;
}

static bool decode_prop(const struct xml_node *pe, struct cal_comp *c, struct buf *errors)
{
	char *name = codec_upper(pe->name);
	struct cal_prop *p = cal_comp_add_prop(c, name, "");
	free(name);
	struct buf value = BUF_INIT;
	const char *type = NULL;
	size_t n_values = 0;
	bool ok = true;
	for (size_t i = 0; i < pe->n_children && ok; i++) {
		const struct xml_node *v = pe->children[i];
		if (!is_xcal(v))
			continue;
		if (!strcmp(v->name, "parameters")) {
			for (size_t k = 0; k < v->n_children; k++) {
				const struct xml_node *prm = v->children[k];
				if (!is_xcal(prm))
					continue;
				char **values = xmalloc((prm->n_children ? prm->n_children : 1) * sizeof(*values));
				size_t n = 0;
				for (size_t j = 0; j < prm->n_children; j++) {
					if (!is_xcal(prm->children[j]))
						continue;
					char *pv = content(prm->children[j]);
					if (!strcmp(prm->children[j]->name, "boolean")) {
						char *u = codec_upper(pv);
						free(pv);
						pv = u;
					}
					values[n++] = pv;
				}
				codec_param_add(p, prm->name, (const char *const *)values, n);
				free_strv(values, n);
			}
			continue;
		}
		if (!strcmp(v->name, "geo")) {
			const struct xml_node *lat = xml_child(v, "latitude", CAL_NS_XCAL), *lon = xml_child(v, "longitude", CAL_NS_XCAL);
			if (!lat || !lon) {
				buf_printf(errors, "xCal: <%s>: <geo> needs <latitude> and <longitude>\n", pe->name);
				ok = false;
				break;
			}
			char *a = content(lat), *b = content(lon);
			buf_printf(&value, "%s;%s", a, b);
			free(a);
			free(b);
			type = "float";
			n_values++;
			continue;
		}
		if (!strcmp(v->name, "request-status")) {
			const struct xml_node *code = xml_child(v, "code", CAL_NS_XCAL), *desc = xml_child(v, "description", CAL_NS_XCAL),
			                      *data = xml_child(v, "data", CAL_NS_XCAL);
			if (!code || !desc) {
				buf_printf(errors, "xCal: <%s>: <request-status> needs <code> and <description>\n", pe->name);
				ok = false;
				break;
			}
			char *a = content(code), *b = content(desc);
			buf_printf(&value, "%s;", a);
			text_escape(&value, b);
			free(a);
			free(b);
			if (data) {
				char *d = content(data);
				buf_putc(&value, ';');
				text_escape(&value, d);
				free(d);
			}
			type = "text";
			n_values++;
			continue;
		}
		if (type && strcmp(type, v->name) != 0) {
			buf_printf(errors, "xCal: <%s> mixes <%s> and <%s> values\n", pe->name, type, v->name);
			ok = false;
			break;
		}
		type = v->name;
		if (n_values++)
			buf_putc(&value, ',');
		ok = decode_value(v, &value, errors);
	}
	if (ok && !n_values) {
		buf_printf(errors, "xCal: <%s> has no value\n", pe->name);
		ok = false;
	}
	if (ok && n_values > 1 && prop_shape(p->name) != SHAPE_LIST) {
		buf_printf(errors, "xCal: <%s> takes one value, not %zu\n", pe->name, n_values);
		ok = false;
	}
	if (ok) {
		free(p->value);
		p->value = buf_steal(&value);
		codec_set_value_type(p, type);
	}
	buf_free(&value);
	return ok;
}

static struct cal_comp *decode_comp(const struct xml_node *ce, struct buf *errors)
{
	char *name = codec_upper(ce->name);
	struct cal_comp *c = cal_comp_new(name, 0);
	free(name);
	bool ok = true;
	for (size_t i = 0; i < ce->n_children && ok; i++) {
		const struct xml_node *part = ce->children[i];
		if (!is_xcal(part))
			continue;
		bool props = !strcmp(part->name, "properties");
		if (!props && strcmp(part->name, "components") != 0) {
			buf_printf(errors, "xCal: <%s> may hold only <properties> and <components>, not <%s>\n", ce->name,
			           part->name);
			ok = false;
			break;
		}
		for (size_t k = 0; k < part->n_children && ok; k++) {
			const struct xml_node *x = part->children[k];
			if (!is_xcal(x))
				continue;
			if (props) {
				ok = decode_prop(x, c, errors);
			} else {
				struct cal_comp *sub = decode_comp(x, errors);
				if (sub)
					cal_comp_add_sub(c, sub);
				ok = sub != NULL;
			}
		}
	}
	if (!ok) {
		cal_comp_free(c);
		return NULL;
	}
	return c;
}

bool cal_from_xcal(const struct xml_node *icalendar, struct cal_payload *out, struct buf *errors)
{
	memset(out, 0, sizeof(*out));
	if (!icalendar || !icalendar->name || strcmp(icalendar->name, "icalendar") != 0 || !is_xcal(icalendar)) {
		buf_puts(errors, "xCal: the payload must be <icalendar xmlns='" CAL_NS_XCAL "'>\n");
		return false;
	}
	const struct xml_node *vcalendar = NULL;
	for (size_t i = 0; i < icalendar->n_children; i++) {
		const struct xml_node *c = icalendar->children[i];
		if (!is_xcal(c))
			continue;
		if (strcmp(c->name, "vcalendar") != 0 || vcalendar) {
			buf_puts(errors, "xCal: <icalendar> must hold exactly one <vcalendar>\n");
			return false;
		}
		vcalendar = c;
	}
	if (!vcalendar) {
		buf_puts(errors, "xCal: <icalendar> must hold exactly one <vcalendar>\n");
		return false;
	}
	struct cal_comp *vcal = decode_comp(vcalendar, errors);
	if (!vcal)
		return false;
	bool ok = codec_finish(vcal, "xCal", out, errors);
	cal_comp_free(vcal);
	return ok;
}
