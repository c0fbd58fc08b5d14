/* wire.c: stanza tree conversions and PubSub error replies. */
#include "wire.h"

#include "../log.h"

#include <stdlib.h>
#include <string.h>

struct xml_node *wire_to_xml_node(xmpp_stanza_t *st, int max_depth)
{
	if (max_depth < 0)
		return NULL;
	if (xmpp_stanza_is_text(st)) {
		const char *t = xmpp_stanza_get_text_ptr(st);
		return xml_text_new(t ? t : "", t ? strlen(t) : 0);
	}
	struct xml_node *n = xml_element_new(xmpp_stanza_get_name(st), xmpp_stanza_get_ns(st));
	int count = xmpp_stanza_get_attribute_count(st);
	if (count > 0) {
		const char **attrs = xmalloc(sizeof(char *) * 2 * (size_t)count);
		int got = xmpp_stanza_get_attributes(st, attrs, 2 * count);
		for (int i = 0; i + 1 < got; i += 2)
			if (strcmp(attrs[i], "xmlns") != 0)
				xml_add_attr(n, attrs[i], attrs[i + 1]);
		free(attrs);
	}
	for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c; c = xmpp_stanza_get_next(c)) {
		struct xml_node *child = wire_to_xml_node(c, max_depth - 1);
		if (!child) {
			xml_free(n);
			return NULL;
		}
		xml_add_child(n, child);
	}
	return n;
}

char *wire_serialize(xmpp_stanza_t *st)
{
	struct xml_node *n = wire_to_xml_node(st, 64);
	if (!n)
		return NULL;
	struct buf b = BUF_INIT;
	xml_serialize(&b, n, NULL);
	xml_free(n);
	return buf_steal(&b);
}

xmpp_stanza_t *wire_child(xmpp_stanza_t *st, const char *name, const char *ns)
{
	for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c; c = xmpp_stanza_get_next(c)) {
		if (!xmpp_stanza_is_tag(c) || strcmp(xmpp_stanza_get_name(c), name) != 0)
			continue;
		const char *cns = xmpp_stanza_get_ns(c);
		if (!ns || (cns && strcmp(cns, ns) == 0))
			return c;
	}
	return NULL;
}

char *wire_child_text(xmpp_stanza_t *st, const char *name, const char *ns)
{
	xmpp_stanza_t *c = wire_child(st, name, ns);
	if (!c)
		return NULL;
	struct buf b = BUF_INIT;
	for (xmpp_stanza_t *t = xmpp_stanza_get_children(c); t; t = xmpp_stanza_get_next(t))
		if (xmpp_stanza_is_text(t) && xmpp_stanza_get_text_ptr(t))
			buf_puts(&b, xmpp_stanza_get_text_ptr(t));
	return buf_steal(&b);
}

static bool form_fail(struct ps_error *err, const char *what)
{
	return ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "malformed data form: %s", what);
}

/* Every form calpubsub reads has a few dozen fields at most (a node configuration, the
 * largest, about 30). The cap bounds the duplicate check, a scan per field, which made a
 * hostile form of 20,000 fields cost a second. */
#define WIRE_FORM_MAX_FIELDS 256

struct form *wire_parse_form(xmpp_stanza_t *x, struct ps_error *err)
{
	enum form_type type;
	if (!form_type_parse(xmpp_stanza_get_type(x), &type)) {
		form_fail(err, "type must be form, submit, cancel or result");
		return NULL;
	}
	struct form *f = form_new(type);
	for (xmpp_stanza_t *c = xmpp_stanza_get_children(x); c; c = xmpp_stanza_get_next(c)) {
		if (!xmpp_stanza_is_tag(c))
			continue;
		const char *name = xmpp_stanza_get_name(c);
		if (strcmp(name, "title") == 0 || strcmp(name, "instructions") == 0 || strcmp(name, "reported") == 0 ||
		    strcmp(name, "item") == 0)
			continue;
		if (strcmp(name, "field") != 0) {
			form_fail(err, "unexpected element");
			form_free(f);
			return NULL;
		}
		enum field_type ft;
		const char *var = xmpp_stanza_get_attribute(c, "var");
		if (!field_type_parse(xmpp_stanza_get_type(c), &ft) || (!var && ft != FT_FIXED)) {
			form_fail(err, var ? "unknown field type" : "a field without var");
			form_free(f);
			return NULL;
		}
		if (f->n_fields == WIRE_FORM_MAX_FIELDS) {
			ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "malformed data form: more than %d fields", WIRE_FORM_MAX_FIELDS);
			form_free(f);
			return NULL;
		}
		if (var && form_find(f, var)) {
			ps_fail(err, SC_BAD_REQUEST, PSE_NONE, "malformed data form: field %.100s appears twice", var);
			form_free(f);
			return NULL;
		}
		struct form_field *fl = form_add_field(f, var, ft, xmpp_stanza_get_attribute(c, "label"));
		for (xmpp_stanza_t *v = xmpp_stanza_get_children(c); v; v = xmpp_stanza_get_next(v)) {
			if (!xmpp_stanza_is_tag(v))
				continue;
			const char *vn = xmpp_stanza_get_name(v);
			if (strcmp(vn, "value") == 0) {
				char *text = xmpp_stanza_get_text(v);
				form_field_add_value(fl, text ? text : "");
				if (text)
					xmpp_free(xmpp_stanza_get_context(v), text);
			} else if (strcmp(vn, "required") == 0) {
				fl->required = true;
			}
		}
	}
	return f;
}

void wire_write_form(struct buf *b, const struct form *f)
{
	buf_printf(b, "<x xmlns='" NS_XDATA "' type='%s'>", form_type_name(f->type));
	if (f->title) {
		buf_puts(b, "<title>");
		buf_xml_escape(b, f->title);
		buf_puts(b, "</title>");
	}
	if (f->instructions) {
		buf_puts(b, "<instructions>");
		buf_xml_escape(b, f->instructions);
		buf_puts(b, "</instructions>");
	}
	for (size_t i = 0; i < f->n_fields; i++) {
		const struct form_field *fl = &f->fields[i];
		buf_puts(b, "<field");
		xml_attr(b, "var", fl->var);
		/* result forms carry types too, so that clients show booleans and lists right */
		if (fl->type != FT_UNSPECIFIED)
			xml_attr(b, "type", field_type_name(fl->type));
		if (f->type == FORM_FORM)
			xml_attr(b, "label", fl->label);
		buf_putc(b, '>');
		if (fl->required && f->type == FORM_FORM)
			buf_puts(b, "<required/>");
		for (size_t o = 0; o < fl->n_options; o++) {
			buf_puts(b, "<option><value>");
			buf_xml_escape(b, fl->options[o]);
			buf_puts(b, "</value></option>");
		}
		for (size_t v = 0; v < fl->n_values; v++) {
			buf_puts(b, "<value>");
			buf_xml_escape(b, fl->values[v]);
			buf_puts(b, "</value>");
		}
		buf_puts(b, "</field>");
	}
	buf_puts(b, "</x>");
}

void wire_iq_ps_error(struct iq *iq, const struct ps_error *err, const char *extra_payload)
{
	struct buf app = BUF_INIT;
	if (err->app != PSE_NONE) {
		buf_printf(&app, "<%s xmlns='" NS_PUBSUB_ERRORS "'", ps_app_name(err->app));
		if (err->feature)
			xml_attr(&app, "feature", err->feature);
		buf_puts(&app, "/>");
	}
	/* extra_payload: the failed entries, carried before <error/> */
	iq_error_with_payload(iq, err->type, err->cond, app.len ? app.data : NULL, err->text[0] ? err->text : NULL,
	                      extra_payload);
	buf_free(&app);
}
