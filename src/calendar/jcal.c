/* jcal.c: jCal (RFC 7265) encoder and decoder, the only user of jansson. Like xCal,
 * decoding rebuilds iCalendar text and hands it to the reader. */
#include "src/calendar/codec.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Reals are written with 15 significant digits, as FLOAT values are canonicalized, so
 * that a value survives the trip through a double. */
#define JCAL_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* jansson answers NULL for a value it cannot hold (text that is not UTF-8, a number that
 * is not finite). The reader lets neither into canonical text, but stored text is not
 * trusted: the encoder notes the first such value instead of dropping it from an array,
 * which would shift every later member. */
struct jcal_encoder {
	const char *refused; /* the property whose value jansson refused, or NULL */
};

static bool made(struct jcal_encoder *e, const char *prop, const json_t *value)
{
	if (!value && !e->refused)
		e->refused = prop;
	return value != NULL;
}

static void put(struct jcal_encoder *e, const char *prop, json_t *array, json_t *value)
{
	if (made(e, prop, value))
		json_array_append_new(array, value);
}

static void put_key(struct jcal_encoder *e, const char *prop, json_t *object, const char *key, json_t *value)
{
	if (made(e, prop, value))
		json_object_set_new(object, key, value);
}

static json_t *lower_str(const char *s)
{
	struct buf b = BUF_INIT;
	codec_lower(&b, s);
	json_t *j = json_string(b.data);
	buf_free(&b);
	return j;
}

static json_t *unescaped_str(const char *raw)
{
	struct buf b = BUF_INIT;
	text_unescape(&b, raw, strlen(raw));
	json_t *j = json_stringn(b.data, b.len);
	buf_free(&b);
	return j;
}

static json_t *ext_str(enum vtype t, const char *v)
{
	struct buf b = BUF_INIT;
	codec_ext_value(&b, t, v);
	json_t *j = json_string(buf_cstr(&b));
	buf_free(&b);
	return j;
}

static json_t *recur_part_value(const char *name, const char *v)
{
	if (!strcasecmp(name, "UNTIL")) {
		struct buf b = BUF_INIT;
		codec_ext_date_or_datetime(&b, v);
		json_t *j = json_string(b.data);
		buf_free(&b);
		return j;
	}
	/* a leap month of RFC 7529 ("5L") is not a number */
	if (recur_part_is_int(name) && *v && isdigit((unsigned char)v[strlen(v) - 1]))
		return json_integer(strtoll(v, NULL, 10));
	return json_string(v);
}

static json_t *encode_recur(struct jcal_encoder *e, const char *prop, const char *v)
{
	json_t *o = json_object();
	char **parts;
	size_t n = split_unescaped(v, ';', &parts);
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(parts[i], '=');
		if (!eq)
			continue;
		*eq = '\0';
		char **vals;
		size_t nv = split_unescaped(eq + 1, ',', &vals);
		json_t *jv;
		if (nv == 1) {
			jv = recur_part_value(parts[i], vals[0]);
		} else {
			jv = json_array();
			for (size_t k = 0; k < nv; k++)
				put(e, prop, jv, recur_part_value(parts[i], vals[k]));
		}
		struct buf key = BUF_INIT;
		codec_lower(&key, parts[i]);
		put_key(e, prop, o, key.data, jv);
		buf_free(&key);
		free_strv(vals, nv);
	}
	free_strv(parts, n);
	return o;
}

static json_t *encode_value(struct jcal_encoder *e, const char *prop, enum vtype t, const char *v)
{
	switch (t) {
	case VT_TEXT: return unescaped_str(v);
	case VT_DATE:
	case VT_DATE_TIME:
	case VT_TIME:
	case VT_UTC_OFFSET: return ext_str(t, v);
	case VT_PERIOD: {
		const char *slash = strchr(v, '/');
		if (!slash)
			return json_string(v);
		struct buf b = BUF_INIT;
		char *start = xstrndup(v, (size_t)(slash - v));
		codec_ext_value(&b, VT_DATE_TIME, start);
		free(start);
		buf_putc(&b, '/');
		codec_ext_value(&b, slash[1] == 'P' || slash[1] == '+' || slash[1] == '-' ? VT_DURATION : VT_DATE_TIME,
		                slash + 1);
		json_t *j = json_string(b.data);
		buf_free(&b);
		return j;
	}
	case VT_RECUR: return encode_recur(e, prop, v);
	case VT_INTEGER: return json_integer(strtoll(v, NULL, 10));
	case VT_FLOAT: return json_real(strtod(v, NULL));
	case VT_BOOLEAN: return json_boolean(strcasecmp(v, "TRUE") == 0);
	default: return json_string(v);
	}
}

static json_t *encode_prop(struct jcal_encoder *e, const struct cal_prop *p)
{
	json_t *a = json_array();
	put(e, p->name, a, lower_str(p->name));
	json_t *params = json_object();
	for (size_t i = 0; i < p->n_params; i++) {
		const struct cal_param *prm = &p->params[i];
		if (!strcmp(prm->name, "VALUE"))
			continue;
		json_t *v;
		if (prm->n_values == 1) {
			v = json_string(prm->values[0]);
		} else {
			v = json_array();
			for (size_t k = 0; k < prm->n_values; k++)
				put(e, p->name, v, json_string(prm->values[k]));
		}
		struct buf key = BUF_INIT;
		codec_lower(&key, prm->name);
		put_key(e, p->name, params, key.data, v);
		buf_free(&key);
	}
	put(e, p->name, a, params);
	struct buf type = BUF_INIT;
	codec_type_name(&type, p);
	put(e, p->name, a, json_string(type.data));
	buf_free(&type);

	enum vtype t = prop_type(p);
	enum vshape shape = prop_shape(p->name);
	char **parts = NULL;
	size_t n = 0;
	if ((shape == SHAPE_GEO && t == VT_FLOAT) || (shape == SHAPE_RSTATUS && t == VT_TEXT))
		n = split_unescaped(p->value, ';', &parts);
	if (shape == SHAPE_GEO && n == 2) {
		put(e, p->name, a, json_pack("[ff]", strtod(parts[0], NULL), strtod(parts[1], NULL)));
	} else if (shape == SHAPE_RSTATUS && n >= 2) {
		json_t *rs = json_array();
		put(e, p->name, rs, json_string(parts[0]));
		for (size_t i = 1; i < n && i < 3; i++)
			put(e, p->name, rs, unescaped_str(parts[i]));
		put(e, p->name, a, rs);
	} else if (shape == SHAPE_LIST) {
		char **vals;
		size_t nv = split_unescaped(p->value, ',', &vals);
		for (size_t i = 0; i < nv; i++)
			put(e, p->name, a, encode_value(e, p->name, t, vals[i]));
		free_strv(vals, nv);
	} else {
		put(e, p->name, a, encode_value(e, p->name, t, p->value));
	}
	free_strv(parts, n);
	return a;
}

static json_t *encode_comp(struct jcal_encoder *e, const struct cal_comp *c)
{
	json_t *props = json_array(), *subs = json_array();
	for (size_t i = 0; i < c->n_props; i++)
		put(e, c->props[i].name, props, encode_prop(e, &c->props[i]));
	for (size_t i = 0; i < c->n_subs; i++)
		put(e, c->subs[i]->name, subs, encode_comp(e, c->subs[i]));
	json_t *a = json_array();
	put(e, c->name, a, lower_str(c->name));
	put(e, c->name, a, props);
	put(e, c->name, a, subs);
	return a;
}

bool jcal_write(const struct cal_comp *vcal, struct buf *out, struct buf *err)
{
	struct jcal_encoder e = {NULL};
	json_t *j = encode_comp(&e, vcal);
	if (e.refused) {
		buf_printf(err, "%s: a value cannot be written as jCal (not UTF-8, or not a finite number)", e.refused);
		json_decref(j);
		return false;
	}
	char *text = json_dumps(j, JCAL_DUMP_FLAGS);
	json_decref(j);
	buf_puts(out, text);
	free(text);
	return true;
}

bool cal_to_jcal(const char *ics, struct buf *out, struct buf *err)
{
	struct cal_comp *vcal = cal_parse_text(ics, strlen(ics), err);
	if (!vcal)
		return false;
	bool ok = jcal_write(vcal, out, err);
	cal_comp_free(vcal);
	return ok;
}

/* ---- decoding ---- */

static void number_text(struct buf *out, const json_t *v)
{
	if (json_is_integer(v))
		buf_printf(out, "%lld", (long long)json_integer_value(v));
	else
		float_plain(out, json_real_value(v));
}

static bool decode_recur(const char *prop, const json_t *o, struct buf *out, struct buf *errors)
{
	const char *key;
	const json_t *v;
	if (!json_is_object(o)) {
		buf_printf(errors, "jCal: %s: a recur value is an object\n", prop);
		return false;
	}
	json_object_foreach((json_t *)o, key, v) {
		char *name = codec_upper(key);
		buf_printf(out, "%s%s=", out->len ? ";" : "", name);
		size_t n = json_is_array(v) ? json_array_size(v) : 1;
		for (size_t i = 0; i < n; i++) {
			const json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
			if (i)
				buf_putc(out, ',');
			if (json_is_number(x)) {
				number_text(out, x);
			} else if (json_is_string(x)) {
				codec_basic_value(out, strcmp(name, "UNTIL") ? VT_UNKNOWN : VT_DATE_TIME, json_string_value(x));
			} else {
				buf_printf(errors, "jCal: %s: recur part '%s' must be a number or a string\n", prop, key);
				free(name);
				return false;
			}
		}
		free(name);
	}
	return true;
}

static bool decode_value(const char *prop, enum vtype t, enum vshape shape, const json_t *v, struct buf *out,
                         struct buf *errors)
{
	if (shape == SHAPE_GEO && t == VT_FLOAT && json_is_array(v)) {
		if (json_array_size(v) != 2 || !json_is_number(json_array_get(v, 0)) || !json_is_number(json_array_get(v, 1))) {
			buf_printf(errors, "jCal: %s: geo is [latitude, longitude]\n", prop);
			return false;
		}
		number_text(out, json_array_get(v, 0));
		buf_putc(out, ';');
		number_text(out, json_array_get(v, 1));
		return true;
	}
	if (shape == SHAPE_RSTATUS && t == VT_TEXT && json_is_array(v)) {
		size_t n = json_array_size(v);
		if (n < 2 || n > 3) {
			buf_printf(errors, "jCal: %s: request-status is [code, description, data]\n", prop);
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			const json_t *x = json_array_get(v, i);
			if (!json_is_string(x)) {
				buf_printf(errors, "jCal: %s: request-status parts are strings\n", prop);
				return false;
			}
			if (i) {
				buf_putc(out, ';');
				text_escape(out, json_string_value(x));
			} else {
				buf_puts(out, json_string_value(x)); /* the status code is no text */
			}
		}
		return true;
	}
	switch (t) {
	case VT_RECUR: return decode_recur(prop, v, out, errors);
	case VT_INTEGER:
		if (!json_is_integer(v))
			break;
		number_text(out, v);
		return true;
	case VT_FLOAT:
		if (!json_is_number(v))
			break;
		number_text(out, v);
		return true;
	case VT_BOOLEAN:
		if (!json_is_boolean(v))
			break;
		buf_puts(out, json_is_true(v) ? "TRUE" : "FALSE");
		return true;
	default:
		if (!json_is_string(v))
			break;
		if (t == VT_TEXT) {
			text_escape(out, json_string_value(v));
		} else if (t == VT_PERIOD) {
			const char *s = json_string_value(v), *slash = strchr(s, '/');
			char *start = slash ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
			codec_basic_value(out, VT_DATE_TIME, start);
			free(start);
			if (slash) {
				buf_putc(out, '/');
				codec_basic_value(out, slash[1] == 'P' || slash[1] == '+' || slash[1] == '-' ? VT_DURATION : VT_DATE_TIME,
				                  slash + 1);
			}
		} else {
			codec_basic_value(out, t, json_string_value(v));
		}
		return true;
	}
	buf_printf(errors, "jCal: %s: value of the wrong JSON type for %s\n", prop, vtype_name(t) ? vtype_name(t) : "its type");
	return false;
}

static bool decode_prop(const json_t *a, struct cal_comp *c, struct buf *errors)
{
	const json_t *name = json_array_get(a, 0), *params = json_array_get(a, 1), *type = json_array_get(a, 2);
	if (!json_is_array(a) || json_array_size(a) < 4 || !json_is_string(name) || !json_is_object(params) ||
	    !json_is_string(type)) {
		buf_puts(errors, "jCal: a property is [name, {parameters}, type, value, ...]\n");
		return false;
	}
	char *upper = codec_upper(json_string_value(name));
	struct cal_prop *p = cal_comp_add_prop(c, upper, "");
	free(upper);
	const char *key;
	const json_t *pv;
	json_object_foreach((json_t *)params, key, pv) {
		size_t n = json_is_array(pv) ? json_array_size(pv) : 1;
		const char **values = xmalloc((n ? n : 1) * sizeof(*values));
		for (size_t i = 0; i < n; i++) {
			const json_t *x = json_is_array(pv) ? json_array_get(pv, i) : pv;
			if (!json_is_string(x)) {
				buf_printf(errors, "jCal: %s: parameter '%s' must be a string or an array of strings\n", p->name, key);
				free(values);
				return false;
			}
			values[i] = json_string_value(x);
		}
		codec_param_add(p, key, values, n);
		free(values);
	}
	codec_set_value_type(p, json_string_value(type));
	char *tname = codec_upper(json_string_value(type));
	enum vtype t = !strcmp(tname, "UNKNOWN") ? VT_UNKNOWN : vtype_from_name(tname);
	free(tname);
	enum vshape shape = prop_shape(p->name);
	size_t n_values = json_array_size(a) - 3;
	if (n_values > 1 && shape != SHAPE_LIST) {
		buf_printf(errors, "jCal: %s takes one value, not %zu\n", p->name, n_values);
		return false;
	}
	struct buf value = BUF_INIT;
	bool ok = true;
	for (size_t i = 0; i < n_values && ok; i++) {
		if (i)
			buf_putc(&value, ',');
		ok = decode_value(p->name, t, shape, json_array_get(a, 3 + i), &value, errors);
	}
	if (ok) {
		free(p->value);
		p->value = buf_steal(&value);
	}
	buf_free(&value);
	return ok;
}

static struct cal_comp *decode_comp(const json_t *a, struct buf *errors)
{
	const json_t *name = json_array_get(a, 0), *props = json_array_get(a, 1), *subs = json_array_get(a, 2);
	if (!json_is_array(a) || json_array_size(a) != 3 || !json_is_string(name) || !json_is_array(props) ||
	    !json_is_array(subs)) {
		buf_puts(errors, "jCal: a component is [name, [properties], [components]]\n");
		return NULL;
	}
	char *upper = codec_upper(json_string_value(name));
	struct cal_comp *c = cal_comp_new(upper, 0);
	free(upper);
	bool ok = true;
	for (size_t i = 0; i < json_array_size(props) && ok; i++)
		ok = decode_prop(json_array_get(props, i), c, errors);
	for (size_t i = 0; i < json_array_size(subs) && ok; i++) {
		struct cal_comp *sub = decode_comp(json_array_get(subs, i), errors);
		if (sub)
			cal_comp_add_sub(c, sub);
		ok = sub != NULL;
	}
	if (!ok) {
		cal_comp_free(c);
		return NULL;
	}
	return c;
}

bool cal_from_jcal(const char *json, size_t len, struct cal_payload *out, struct buf *errors)
{
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		buf_printf(errors, "jCal: not JSON: %s (line %d, column %d)\n", jerr.text, jerr.line, jerr.column);
		return false;
	}
	const json_t *name = json_array_get(root, 0);
	if (!json_is_string(name) || strcasecmp(json_string_value(name), "vcalendar") != 0) {
		buf_puts(errors, "jCal: the payload must be [\"vcalendar\", [properties], [components]]\n");
		json_decref(root);
		return false;
	}
	struct cal_comp *vcal = decode_comp(root, errors);
	json_decref(root);
	if (!vcal)
		return false;
	bool ok = codec_finish(vcal, "jCal", out, errors);
	cal_comp_free(vcal);
	return ok;
}
