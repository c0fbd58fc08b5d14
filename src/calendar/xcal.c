/* xcal.c: xCal (RFC 6321) encoder and decoder. Encoding walks the canonical text's
 * component tree; decoding builds iCalendar text again and hands it to the reader, so a
 * published payload is held to the same rules as an imported file. */
#include "src/calendar/codec.h"

#include <stdlib.h>
#include <string.h>

static struct xml_node *el(struct xml_node *parent, const char *name)
{
	struct xml_node *e = xml_element_new(name, CAL_NS_XCAL);
	xml_add_child(parent, e);
	return e;
}

static struct xml_node *el_lower(struct xml_node *parent, const char *name)
{
	struct buf b = BUF_INIT;
	codec_lower(&b, name);
	struct xml_node *e = el(parent, b.data);
	buf_free(&b);
	return e;
}

static void text_el(struct xml_node *parent, const char *name, const char *text)
{
	struct xml_node *e = el(parent, name);
	if (*text)
		xml_add_child(e, xml_text_new(text, strlen(text)));
}

static void unescaped_el(struct xml_node *parent, const char *name, const char *raw)
{
	struct buf b = BUF_INIT;
	text_unescape(&b, raw, strlen(raw));
	text_el(parent, name, b.data);
	buf_free(&b);
}

static void ext_el(struct xml_node *parent, const char *name, enum vtype t, const char *v)
{
	struct buf b = BUF_INIT;
	codec_ext_value(&b, t, v);
	text_el(parent, name, buf_cstr(&b));
	buf_free(&b);
}

static void encode_recur(struct xml_node *parent, const char *v)
{
	struct xml_node *r = el(parent, "recur");
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
			struct buf b = BUF_INIT;
			if (!strcmp(name.data, "until"))
				codec_ext_date_or_datetime(&b, vals[k]);
			else
				buf_puts(&b, vals[k]);
			text_el(r, name.data, b.data);
			buf_free(&b);
		}
		free_strv(vals, nv);
		buf_free(&name);
	}
	free_strv(parts, n);
}

static void encode_value(struct xml_node *parent, const char *type_name, enum vtype t, const char *v)
{
	const char *slash;
	struct xml_node *e;
	switch (t) {
	case VT_TEXT: unescaped_el(parent, "text", v); break;
	case VT_DATE:
	case VT_DATE_TIME:
	case VT_TIME:
	case VT_UTC_OFFSET: ext_el(parent, type_name, t, v); break;
	case VT_PERIOD:
		e = el(parent, "period");
		slash = strchr(v, '/');
		if (!slash) {
			text_el(e, "start", v);
			break;
		}
		char *start = xstrndup(v, (size_t)(slash - v));
		ext_el(e, "start", VT_DATE_TIME, start);
		free(start);
		if (slash[1] == 'P' || slash[1] == '+' || slash[1] == '-')
			text_el(e, "duration", slash + 1);
		else
			ext_el(e, "end", VT_DATE_TIME, slash + 1);
		break;
	case VT_RECUR: encode_recur(parent, v); break;
	case VT_BOOLEAN: {
		struct buf b = BUF_INIT;
		codec_lower(&b, v);
		text_el(parent, "boolean", b.data);
		buf_free(&b);
		break;
	}
	default: text_el(parent, type_name, v); break;
	}
}

static void encode_prop(struct xml_node *props, const struct cal_prop *p)
{
	struct xml_node *pe = el_lower(props, p->name);
	struct xml_node *params = NULL;
	for (size_t i = 0; i < p->n_params; i++) {
		const struct cal_param *prm = &p->params[i];
		if (!strcmp(prm->name, "VALUE"))
			continue;
		if (!params)
			params = el(pe, "parameters");
		struct xml_node *pr = el_lower(params, prm->name);
		enum vtype pt = param_type(prm->name);
		for (size_t k = 0; k < prm->n_values; k++) {
			struct buf b = BUF_INIT;
			if (pt == VT_BOOLEAN)
				codec_lower(&b, prm->values[k]);
			else
				buf_puts(&b, prm->values[k]);
			text_el(pr, pt == VT_URI ? "uri" : pt == VT_CAL_ADDRESS ? "cal-address" : pt == VT_BOOLEAN ? "boolean" : "text",
			        b.data);
			buf_free(&b);
		}
	}
	enum vtype t = prop_type(p);
	enum vshape shape = prop_shape(p->name);
	struct buf type_name = BUF_INIT;
	codec_type_name(&type_name, p);
	char **parts = NULL;
	size_t n = 0;
	if ((shape == SHAPE_GEO && t == VT_FLOAT) || (shape == SHAPE_RSTATUS && t == VT_TEXT))
		n = split_unescaped(p->value, ';', &parts);
	if (shape == SHAPE_GEO && n == 2) {
		struct xml_node *g = el(pe, "geo");
		text_el(g, "latitude", parts[0]);
		text_el(g, "longitude", parts[1]);
	} else if (shape == SHAPE_RSTATUS && n >= 2) {
		struct xml_node *r = el(pe, "request-status");
		text_el(r, "code", parts[0]);
		unescaped_el(r, "description", parts[1]);
		if (n > 2)
			unescaped_el(r, "data", parts[2]);
	} else if (shape == SHAPE_LIST) {
		char **vals;
		size_t nv = split_unescaped(p->value, ',', &vals);
		for (size_t i = 0; i < nv; i++)
			encode_value(pe, type_name.data, t, vals[i]);
		free_strv(vals, nv);
	} else {
		encode_value(pe, type_name.data, t, p->value);
	}
	free_strv(parts, n);
	buf_free(&type_name);
}

static void encode_comp(struct xml_node *parent, const struct cal_comp *c)
{
	struct xml_node *ce = el_lower(parent, c->name);
	struct xml_node *props = el(ce, "properties");
	for (size_t i = 0; i < c->n_props; i++)
		encode_prop(props, &c->props[i]);
	if (!c->n_subs)
		return;
	struct xml_node *subs = el(ce, "components");
	for (size_t i = 0; i < c->n_subs; i++)
		encode_comp(subs, c->subs[i]);
}

bool cal_to_xcal(const char *ics, struct xml_node **out, struct buf *err)
{
	struct cal_comp *vcal = cal_parse_text(ics, strlen(ics), err);
	if (!vcal)
		return false;
	*out = xml_element_new("icalendar", CAL_NS_XCAL);
	encode_comp(*out, vcal);
	cal_comp_free(vcal);
	return true;
}

bool cal_to_xcal_text(const char *ics, struct buf *out, struct buf *err)
{
	struct xml_node *root;
	if (!cal_to_xcal(ics, &root, err))
		return false;
	xml_serialize(out, root, NULL);
	xml_free(root);
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

static bool decode_recur(const struct xml_node *r, struct buf *out, struct buf *errors)
{
	/* Repeated parts (byday, bymonth...) join with commas. */
	for (size_t i = 0; i < r->n_children; i++) {
		const struct xml_node *part = r->children[i];
		if (!part->name)
			continue;
		bool repeat = false;
		for (size_t k = 0; k < i && !repeat; k++)
			repeat = r->children[k]->name && strcmp(r->children[k]->name, part->name) == 0;
		if (repeat)
			continue;
		char *name = codec_upper(part->name);
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
		free(name);
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
				for (size_t j = 0; j < prm->n_children; j++) {
					if (!is_xcal(prm->children[j]))
						continue;
					char *pv = content(prm->children[j]);
					if (!strcmp(prm->children[j]->name, "boolean")) {
						char *u = codec_upper(pv);
						free(pv);
						pv = u;
					}
					codec_param_add_value(p, prm->name, pv);
					free(pv);
				}
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
