/* codec.c: what the xCal and jCal codecs share: the RFC 6321/7265 spelling of values
 * (extended date formats, "+05:00" offsets), the type name of a property, and the way
 * back: a decoded component tree becomes iCalendar text that goes through the reader,
 * so that a published payload is validated exactly like an imported file. */
#include "src/calendar/codec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void codec_type_name(struct buf *out, const struct cal_prop *p)
{
	enum vtype t = prop_type(p);
	const char *name = t == VT_OTHER ? cal_prop_param(p, "VALUE") : vtype_name(t);
	for (const char *c = name; *c; c++)
		buf_putc(out, (char)tolower((unsigned char)*c));
}

void codec_lower(struct buf *out, const char *s)
{
	for (; *s; s++)
		buf_putc(out, (char)tolower((unsigned char)*s));
	buf_append(out, "", 0); /* NUL-terminated even when empty */
}

/* Appends the n bytes at v, then the separator `sep`. */
static void part(struct buf *out, const char *v, size_t n, char sep)
{
	buf_append(out, v, n);
	buf_putc(out, sep);
}

void codec_ext_value(struct buf *out, enum vtype t, const char *v)
{
	size_t n = strlen(v);
	switch (t) {
	case VT_DATE:
	case VT_DATE_TIME:
		if (n < 8)
			break;
		part(out, v, 4, '-');
		part(out, v + 4, 2, '-');
		buf_append(out, v + 6, 2);
		if (n >= 15) {
			buf_putc(out, 'T');
			part(out, v + 9, 2, ':');
			part(out, v + 11, 2, ':');
			buf_puts(out, v + 13);
		}
		return;
	case VT_TIME:
		if (n < 6)
			break;
		part(out, v, 2, ':');
		part(out, v + 2, 2, ':');
		buf_puts(out, v + 4);
		return;
	case VT_UTC_OFFSET:
		if (n < 5)
			break;
		part(out, v, 3, ':');
		buf_append(out, v + 3, 2);
		if (n >= 7) {
			buf_putc(out, ':');
			buf_puts(out, v + 5);
		}
		return;
	default:
		break;
	}
	buf_puts(out, v);
}

void codec_basic_value(struct buf *out, enum vtype t, const char *v)
{
	if (t != VT_DATE && t != VT_DATE_TIME && t != VT_TIME && t != VT_UTC_OFFSET) {
		buf_puts(out, v);
		return;
	}
	/* The sign of an offset stays; every other '-' and ':' is a separator. */
	for (const char *c = v; *c; c++)
		if ((*c != '-' || (t == VT_UTC_OFFSET && c == v)) && *c != ':')
			buf_putc(out, *c);
	buf_append(out, "", 0); /* NUL-terminated even when empty */
}

void codec_ext_date_or_datetime(struct buf *out, const char *v)
{
	codec_ext_value(out, strlen(v) > 8 ? VT_DATE_TIME : VT_DATE, v);
}

char *codec_upper(const char *s)
{
	char *d = xstrdup(s);
	for (char *p = d; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return d;
}

void codec_set_value_type(struct cal_prop *p, const char *type_name)
{
	char *upper = codec_upper(type_name);
	enum vtype t = strcmp(upper, "UNKNOWN") == 0 ? VT_UNKNOWN : vtype_from_name(upper);
	/* The default type needs no VALUE; neither does unknown, which is how an
	 * iCalendar x-property without VALUE is spelled. */
	if (t != VT_UNKNOWN && t != prop_default_type(p->name)) {
		cal_prop_remove_param(p, "VALUE");
		p->params = xrealloc(p->params, (p->n_params + 1) * sizeof(*p->params));
		memmove(p->params + 1, p->params, p->n_params * sizeof(*p->params));
		p->params[0].name = xstrdup("VALUE");
		p->params[0].values = xmalloc(sizeof(char *));
		p->params[0].values[0] = upper;
		p->params[0].n_values = 1;
		p->n_params++;
		return;
	}
	free(upper);
}

void codec_param_add(struct cal_prop *p, const char *name, const char *const *values, size_t n_values)
{
	if (n_values == 0)
		return;
	p->params = xrealloc(p->params, (p->n_params + 1) * sizeof(*p->params));
	struct cal_param *prm = &p->params[p->n_params++];
	prm->name = codec_upper(name);
	prm->values = xmalloc(n_values * sizeof(*prm->values));
	for (size_t i = 0; i < n_values; i++)
		prm->values[i] = xstrdup(values[i]);
	prm->n_values = n_values;
}

struct payload_run {
	struct cal_payload *out;
	struct buf *errors;
	int objects;
};

static int take_object(const struct cal_object *obj, void *arg)
{
	struct payload_run *run = arg;
	if (++run->objects > 1)
		return 0;
	run->out->uid = xstrdup(obj->uid);
	run->out->kind = xstrdup(obj->kind);
	run->out->ics = xstrdup(obj->ics);
	run->out->range_start = obj->range_start;
	run->out->range_end = obj->range_end;
	return 0;
}

static void collect_error(const struct cal_diag *d, void *arg)
{
	struct payload_run *run = arg;
	if (d->severity != CAL_ERROR)
		return;
	buf_printf(run->errors, "%s%s%s\n", d->uid ? d->uid : "", d->uid ? ": " : "", d->message);
}

/* RFC 5545 3.1: values hold no control character but tab (a TEXT value's line breaks
 * are escaped before this), parameter values no DQUOTE either. */
static bool chars_ok(const char *s, bool param)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7F || (param && c == '"'))
			return false;
	}
	return true;
}

/* What a decoded tree must hold before it is written as content lines: a name or value
 * that could end a line or open another would let a payload smuggle in properties. */
static bool tree_ok(const struct cal_comp *c, const char *format, struct buf *errors)
{
	if (!cl_is_name(c->name)) {
		buf_printf(errors, "%s: '%.100s' is not a component name\n", format, c->name);
		return false;
	}
	for (size_t i = 0; i < c->n_props; i++) {
		const struct cal_prop *p = &c->props[i];
		if (!cl_is_name(p->name)) {
			buf_printf(errors, "%s: '%.100s' is not a property name\n", format, p->name);
			return false;
		}
		if (!chars_ok(p->value, false)) {
			buf_printf(errors, "%s: %s: a value holds a line break or another control character\n", format,
			           p->name);
			return false;
		}
		for (size_t k = 0; k < p->n_params; k++) {
			const struct cal_param *prm = &p->params[k];
			if (!cl_is_name(prm->name)) {
				buf_printf(errors, "%s: %s: '%.100s' is not a parameter name\n", format, p->name, prm->name);
				return false;
			}
			if (!strcmp(prm->name, "VALUE") && (prm->n_values != 1 || !cl_is_name(prm->values[0]))) {
				buf_printf(errors, "%s: %s: '%.100s' is not the name of a value type\n", format, p->name,
				           prm->n_values ? prm->values[0] : "");
				return false;
			}
			for (size_t v = 0; v < prm->n_values; v++)
				if (!chars_ok(prm->values[v], true)) {
					buf_printf(errors, "%s: %s: parameter %s holds a double quote or a control character\n",
					           format, p->name, prm->name);
					return false;
				}
		}
	}
	for (size_t i = 0; i < c->n_subs; i++)
		if (!tree_ok(c->subs[i], format, errors))
			return false;
	return true;
}

bool codec_finish(const struct cal_comp *vcal, const char *format, struct cal_payload *out, struct buf *errors)
{
	memset(out, 0, sizeof(*out));
	if (!tree_ok(vcal, format, errors))
		return false;
	struct buf text = BUF_INIT;
	cal_write_comp(&text, vcal);
	struct payload_run run = {out, errors, 0};
	struct cal_read_opts opts = {.policy = CAL_READ_ALL_OR_NOTHING};
	memset(out, 0, sizeof(*out));
	int rc = cal_read_string(text.data, text.len, format, &opts, take_object, collect_error, &run);
	buf_free(&text);
	if (rc == 0 && run.objects == 1)
		return true;
	if (rc == 0)
		buf_printf(errors, "the %s payload holds %d calendar objects instead of one\n", format, run.objects);
	cal_payload_free(out);
	return false;
}
