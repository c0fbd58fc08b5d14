/* contentline.c: iCalendar content lines (RFC 5545 3.1): the physical line reader that
 * unfolds and counts lines, the tokenizer of one content line, the component tree built
 * from them, and the canonical writer (folding, quoting, escaping). */
#include "src/calendar/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- physical lines ---- */

void line_reader_init_file(struct line_reader *r, FILE *in)
{
	memset(r, 0, sizeof(*r));
	r->in = in;
}

void line_reader_init_mem(struct line_reader *r, const char *text, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->mem = text;
	r->mem_len = len;
}

void line_reader_free(struct line_reader *r)
{
	free(r->phys);
	buf_free(&r->content);
	r->phys = NULL;
}

/* Loads the next physical line into r->phys without its line end (LF or CRLF). */
static void read_physical(struct line_reader *r)
{
	if (r->have_phys || r->phys_len < 0)
		return;
	if (r->in) {
		ssize_t n = getline(&r->phys, &r->phys_cap, r->in);
		if (n < 0) {
			if (ferror(r->in))
				r->io_error = true;
			r->phys_len = -1;
			return;
		}
		r->phys_len = n;
	} else {
		if (r->mem_pos >= r->mem_len) {
			r->phys_len = -1;
			return;
		}
		const char *start = r->mem + r->mem_pos;
		const char *nl = memchr(start, '\n', r->mem_len - r->mem_pos);
		size_t n = nl ? (size_t)(nl - start) + 1 : r->mem_len - r->mem_pos;
		if (n + 1 > r->phys_cap) {
			r->phys_cap = n + 1;
			r->phys = xrealloc(r->phys, r->phys_cap);
		}
		memcpy(r->phys, start, n);
		r->phys[n] = '\0';
		r->mem_pos += n;
		r->phys_len = (long)n;
	}
	r->phys_no++;
	if (r->phys_len > 0 && r->phys[r->phys_len - 1] == '\n')
		r->phys[--r->phys_len] = '\0';
	if (r->phys_len > 0 && r->phys[r->phys_len - 1] == '\r')
		r->phys[--r->phys_len] = '\0';
	if (r->phys_no == 1 && r->phys_len >= 3 && memcmp(r->phys, "\xEF\xBB\xBF", 3) == 0) {
		memmove(r->phys, r->phys + 3, (size_t)r->phys_len - 2);
		r->phys_len -= 3;
	}
	r->have_phys = true;
}

static bool is_continuation(const struct line_reader *r)
{
	return r->phys_len > 0 && (r->phys[0] == ' ' || r->phys[0] == '\t');
}

int line_reader_next(struct line_reader *r, unsigned *line)
{
	for (;;) {
		read_physical(r);
		if (r->phys_len < 0)
			return 0;
		if (r->phys_len == 0) { /* empty lines carry nothing: tolerated */
			r->have_phys = false;
			continue;
		}
		break;
	}
	*line = r->phys_no;
	r->have_phys = false;
	if (is_continuation(r))
		return -1;
	buf_reset(&r->content);
	buf_append(&r->content, r->phys, (size_t)r->phys_len);
	for (;;) {
		read_physical(r);
		if (r->phys_len < 0 || !is_continuation(r))
			break;
		buf_append(&r->content, r->phys + 1, (size_t)r->phys_len - 1);
		r->have_phys = false;
	}
	return 1;
}

/* ---- one content line ---- */

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-';
}

bool cl_is_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_name_char(*s))
			return false;
	return true;
}

static char *upper_dup(const char *s, size_t n)
{
	char *d = xstrndup(s, n);
	for (char *p = d; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return d;
}

static void param_push_value(struct cal_param *prm, const char *s, size_t n)
{
	prm->values = xrealloc(prm->values, (prm->n_values + 1) * sizeof(*prm->values));
	prm->values[prm->n_values++] = xstrndup(s, n);
}

/* A parameter's place in a property, for finding repeated names by sorting. */
struct param_slot {
	const char *name;
	size_t index;
};

static int by_name_then_place(const void *a, const void *b)
{
	const struct param_slot *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Joins the params[slots[0..n).index] (one name, in their order) into the first of them:
 * its values become all their values. */
static void join_repeated(struct cal_prop *p, const struct param_slot *slots, size_t n)
{
	size_t total = 0;
	for (size_t k = 0; k < n; k++)
		total += p->params[slots[k].index].n_values;
	char **values = xmalloc(total * sizeof(*values));
	size_t at = 0;
	for (size_t k = 0; k < n; k++) {
		struct cal_param *prm = &p->params[slots[k].index];
		memcpy(values + at, prm->values, prm->n_values * sizeof(*values));
		at += prm->n_values;
		free(prm->values);
		prm->values = NULL;
		prm->n_values = 0;
		if (k > 0) {
			free(prm->name);
			prm->name = NULL;
		}
	}
	struct cal_param *first = &p->params[slots[0].index];
	first->values = values;
	first->n_values = total;
}

/* RFC 5545 3.2 gives each parameter it defines once per property, most with one value:
 * a second TZID would leave the xCal and jCal subscribers to pick one. A parameter it
 * does not define may repeat; its values are joined, which is how xCal and jCal hold
 * them. Sorting keeps this O(n log n) for a line of thousands of parameters. */
static bool settle_params(struct cal_prop *p, struct buf *err)
{
	size_t n = p->n_params;
	if (n > 1) {
		struct param_slot *slots = xmalloc(n * sizeof(*slots));
		for (size_t i = 0; i < n; i++)
			slots[i] = (struct param_slot){p->params[i].name, i};
		qsort(slots, n, sizeof(*slots), by_name_then_place);
		bool repeated = false;
		for (size_t start = 0, end; start < n; start = end) {
			for (end = start + 1; end < n && !strcmp(slots[end].name, slots[start].name); end++)
				;
			if (end - start == 1)
				continue;
			if (param_arity(slots[start].name) != PARAM_OTHER) {
				buf_printf(err, "%s: parameter %s is given more than once", p->name, slots[start].name);
				free(slots);
				return false;
			}
			join_repeated(p, slots + start, end - start);
			repeated = true;
		}
		free(slots);
		if (repeated) {
			size_t kept = 0;
			for (size_t i = 0; i < n; i++)
				if (p->params[i].name)
					p->params[kept++] = p->params[i];
			p->n_params = kept;
		}
	}
	for (size_t i = 0; i < p->n_params; i++) {
		const struct cal_param *prm = &p->params[i];
		if (param_arity(prm->name) == PARAM_ONE && prm->n_values != 1) {
			buf_printf(err, "%s: parameter %s takes one value, not %zu", p->name, prm->name, prm->n_values);
			return false;
		}
		if (!strcmp(prm->name, "VALUE") && !cl_is_name(prm->values[0])) {
			buf_printf(err, "%s: VALUE=%.100s is not the name of a value type", p->name, prm->values[0]);
			return false;
		}
	}
	return true;
}

bool cl_parse(const char *line, size_t len, struct cal_prop *out, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	const char *p = line, *end = line + len;
	if (!memchr(line, ':', len)) {
		buf_puts(err, "line without ':' (not a content line)");
		return false;
	}
	while (p < end && is_name_char(*p))
		p++;
	if (p == line) {
		buf_puts(err, "content line does not start with a property name");
		return false;
	}
	out->name = upper_dup(line, (size_t)(p - line));
	while (p < end && *p == ';') {
		const char *pname = ++p;
		while (p < end && is_name_char(*p))
			p++;
		if (p == pname || p >= end || *p != '=') {
			buf_printf(err, "%s: malformed parameter (expected NAME=value)", out->name);
			cal_prop_clear(out);
			return false;
		}
		out->params = xrealloc(out->params, (out->n_params + 1) * sizeof(*out->params));
		struct cal_param *prm = &out->params[out->n_params++];
		memset(prm, 0, sizeof(*prm));
		prm->name = upper_dup(pname, (size_t)(p - pname));
		do {
			p++; /* '=' or ',' */
			if (p < end && *p == '"') {
				const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
				if (!q) {
					buf_printf(err, "%s: unterminated quoted value of parameter %s", out->name, prm->name);
					cal_prop_clear(out);
					return false;
				}
				param_push_value(prm, p + 1, (size_t)(q - p - 1));
				p = q + 1;
			} else {
				const char *v = p;
				while (p < end && *p != ';' && *p != ':' && *p != ',' && *p != '"')
					p++;
				param_push_value(prm, v, (size_t)(p - v));
			}
		} while (p < end && *p == ',');
	}
	if (p >= end || *p != ':') {
		if (!memchr(p, ':', (size_t)(end - p)))
			buf_printf(err, "%s: line without ':' (no value)", out->name);
		else
			buf_printf(err, "%s: unexpected character '%c' before the value", out->name, *p);
		cal_prop_clear(out);
		return false;
	}
	if (!settle_params(out, err)) {
		cal_prop_clear(out);
		return false;
	}
	p++;
	out->value = xstrndup(p, (size_t)(end - p));
	return true;
}

void cal_prop_clear(struct cal_prop *p)
{
	for (size_t i = 0; i < p->n_params; i++) {
		free_strv(p->params[i].values, p->params[i].n_values);
		free(p->params[i].name);
	}
	free(p->params);
	free(p->name);
	free(p->value);
	memset(p, 0, sizeof(*p));
}

const char *cal_prop_param(const struct cal_prop *p, const char *name)
{
	for (size_t i = 0; i < p->n_params; i++)
		if (name_eq(p->params[i].name, name))
			return p->params[i].n_values ? p->params[i].values[0] : "";
	return NULL;
}

void cal_prop_add_param(struct cal_prop *p, const char *name, const char *value)
{
	p->params = xrealloc(p->params, (p->n_params + 1) * sizeof(*p->params));
	struct cal_param *prm = &p->params[p->n_params++];
	prm->name = xstrdup(name);
	prm->values = xmalloc(sizeof(*prm->values));
	prm->values[0] = xstrdup(value);
	prm->n_values = 1;
}

void cal_prop_remove_param(struct cal_prop *p, const char *name)
{
	size_t kept = 0;
	for (size_t i = 0; i < p->n_params; i++) {
		if (strcmp(p->params[i].name, name) == 0) {
			free_strv(p->params[i].values, p->params[i].n_values);
			free(p->params[i].name);
		} else {
			p->params[kept++] = p->params[i];
		}
	}
	p->n_params = kept;
}

/* ---- components ---- */

struct cal_comp *cal_comp_new(const char *name, unsigned line)
{
	struct cal_comp *c = xcalloc(1, sizeof(*c));
	c->name = upper_dup(name, strlen(name));
	c->line = line;
	return c;
}

void cal_comp_free(struct cal_comp *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_props; i++)
		cal_prop_clear(&c->props[i]);
	for (size_t i = 0; i < c->n_subs; i++)
		cal_comp_free(c->subs[i]);
	free(c->props);
	free(c->subs);
	free(c->name);
	free(c);
}

static struct cal_prop *comp_push_prop(struct cal_comp *c)
{
	/* Room for 8 first (most components need more than 4), then doubling: from 8 on,
	 * n_props is a power of two exactly when the array is full. */
	if (c->n_props == 0 || (c->n_props >= 8 && (c->n_props & (c->n_props - 1)) == 0))
		c->props = xrealloc(c->props, (c->n_props ? c->n_props * 2 : 8) * sizeof(*c->props));
	struct cal_prop *p = &c->props[c->n_props++];
	memset(p, 0, sizeof(*p));
	return p;
}

struct cal_prop *cal_comp_add_prop(struct cal_comp *c, const char *name, const char *value)
{
	struct cal_prop *p = comp_push_prop(c);
	p->name = xstrdup(name);
	p->value = xstrdup(value);
	return p;
}

void cal_comp_take_prop(struct cal_comp *c, struct cal_prop *src)
{
	*comp_push_prop(c) = *src;
	memset(src, 0, sizeof(*src));
}

void cal_comp_add_sub(struct cal_comp *c, struct cal_comp *sub)
{
	c->subs = xrealloc(c->subs, (c->n_subs + 1) * sizeof(*c->subs));
	c->subs[c->n_subs++] = sub;
}

const struct cal_prop *cal_comp_prop(const struct cal_comp *c, const char *name)
{
	for (size_t i = 0; i < c->n_props; i++)
		if (name_eq(c->props[i].name, name))
			return &c->props[i];
	return NULL;
}

size_t cal_comp_count(const struct cal_comp *c, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_props; i++)
		n += name_eq(c->props[i].name, name);
	return n;
}

void cal_comp_remove_props(struct cal_comp *c, const char *name)
{
	size_t kept = 0;
	for (size_t i = 0; i < c->n_props; i++) {
		if (strcmp(c->props[i].name, name) == 0)
			cal_prop_clear(&c->props[i]);
		else
			c->props[kept++] = c->props[i];
	}
	c->n_props = kept;
}

static void prop_copy(struct cal_prop *dst, const struct cal_prop *src)
{
	dst->name = xstrdup(src->name);
	dst->value = xstrdup(src->value);
	dst->line = src->line;
	dst->n_params = src->n_params;
	dst->params = src->n_params ? xcalloc(src->n_params, sizeof(*dst->params)) : NULL;
	for (size_t i = 0; i < src->n_params; i++) {
		dst->params[i].name = xstrdup(src->params[i].name);
		dst->params[i].n_values = src->params[i].n_values;
		dst->params[i].values = xcalloc(src->params[i].n_values, sizeof(char *));
		for (size_t j = 0; j < src->params[i].n_values; j++)
			dst->params[i].values[j] = xstrdup(src->params[i].values[j]);
	}
}

struct cal_comp *cal_comp_clone(const struct cal_comp *c)
{
	struct cal_comp *d = cal_comp_new(c->name, c->line);
	for (size_t i = 0; i < c->n_props; i++)
		prop_copy(comp_push_prop(d), &c->props[i]);
	for (size_t i = 0; i < c->n_subs; i++)
		cal_comp_add_sub(d, cal_comp_clone(c->subs[i]));
	return d;
}

struct cal_comp *cal_parse_text(const char *text, size_t len, struct buf *err)
{
	struct line_reader r;
	line_reader_init_mem(&r, text, len);
	struct cal_comp *stack[16];
	size_t depth = 0;
	struct cal_comp *root = NULL;
	unsigned line;
	int rc;
	while ((rc = line_reader_next(&r, &line)) != 0) {
		struct cal_prop p;
		struct buf perr = BUF_INIT;
		if (rc < 0 || !cl_parse(r.content.data, r.content.len, &p, &perr)) {
			buf_printf(err, "line %u: %s", line, rc < 0 ? "continuation line without a content line" : perr.data);
			buf_free(&perr);
			goto fail;
		}
		buf_free(&perr);
		p.line = line;
		if (strcmp(p.name, "BEGIN") == 0) {
			if (root && depth == 0) {
				buf_printf(err, "line %u: more than one VCALENDAR", line);
				cal_prop_clear(&p);
				goto fail;
			}
			if (depth == sizeof(stack) / sizeof(stack[0])) {
				buf_printf(err, "line %u: components nested too deeply", line);
				cal_prop_clear(&p);
				goto fail;
			}
			struct cal_comp *c = cal_comp_new(p.value, line);
			if (depth)
				cal_comp_add_sub(stack[depth - 1], c);
			else
				root = c;
			stack[depth++] = c;
			cal_prop_clear(&p);
		} else if (strcmp(p.name, "END") == 0) {
			bool match = depth && strcasecmp(stack[depth - 1]->name, p.value) == 0;
			if (!match) {
				buf_printf(err, "line %u: END:%s does not close the open component", line, p.value);
				cal_prop_clear(&p);
				goto fail;
			}
			depth--;
			cal_prop_clear(&p);
		} else if (!depth) {
			buf_printf(err, "line %u: %s outside any component", line, p.name);
			cal_prop_clear(&p);
			goto fail;
		} else {
			cal_comp_take_prop(stack[depth - 1], &p);
		}
	}
	if (!root || depth) {
		buf_puts(err, root ? "unterminated component" : "no VCALENDAR");
		goto fail;
	}
	if (strcmp(root->name, "VCALENDAR") != 0) {
		buf_printf(err, "expected VCALENDAR, found %s", root->name);
		goto fail;
	}
	line_reader_free(&r);
	return root;
fail:
	line_reader_free(&r);
	cal_comp_free(root);
	return NULL;
}

/* ---- text values ---- */

void text_unescape(struct buf *out, const char *s, size_t n)
{
	buf_reserve(out, n);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			char c = s[i + 1];
			if (c == 'n' || c == 'N') {
				buf_putc(out, '\n');
				i++;
				continue;
			}
			if (c == '\\' || c == ';' || c == ',') {
				buf_putc(out, c);
				i++;
				continue;
			}
		}
		buf_putc(out, s[i]);
	}
	buf_append(out, "", 0); /* NUL-terminated even when empty */
}

void text_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		/* a line break is one "\n" however the payload spelled it: CRLF, LF or CR */
		if (*s == '\r') {
			if (s[1] != '\n')
				text_escape_char(out, '\n');
			continue;
		}
		text_escape_char(out, *s);
	}
	buf_append(out, "", 0); /* NUL-terminated even when empty */
}

size_t split_unescaped(const char *s, char sep, char ***out)
{
	size_t n = 0;
	char **v = NULL;
	const char *start = s;
	for (const char *p = s;; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == sep || !*p) {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n++] = xstrndup(start, (size_t)(p - start));
			if (!*p)
				break;
			start = p + 1;
		}
	}
	*out = v;
	return n;
}

void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- canonical writer ---- */

/* Appends one logical line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8
 * sequence, ended by CRLF. */
static void write_folded(struct buf *out, const char *s, size_t n)
{
	size_t limit = 75;
	while (n > limit) {
		size_t cut = limit;
		while (cut > 1 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		buf_append(out, s, cut);
		buf_puts(out, "\r\n ");
		s += cut;
		n -= cut;
		limit = 74;
	}
	buf_append(out, s, n);
	buf_puts(out, "\r\n");
}

static bool needs_quotes(const char *v)
{
	return strpbrk(v, ":;,") != NULL;
}

static void write_param(struct buf *line, const struct cal_param *prm)
{
	bool boolean = param_type(prm->name) == VT_BOOLEAN;
	buf_putc(line, ';');
	buf_puts(line, prm->name);
	buf_putc(line, '=');
	for (size_t j = 0; j < prm->n_values; j++) {
		if (j)
			buf_putc(line, ',');
		if (needs_quotes(prm->values[j])) {
			buf_putc(line, '"');
			buf_puts(line, prm->values[j]);
			buf_putc(line, '"');
		} else if (boolean) /* RSVP=TRUE, as xCal's boolean comes back */
			for (const char *c = prm->values[j]; *c; c++)
				buf_putc(line, (char)toupper((unsigned char)*c));
		else
			buf_puts(line, prm->values[j]);
	}
}

void cal_write_prop(struct buf *out, const struct cal_prop *p)
{
	/* Written in place; only a line longer than a fold goes through a copy. */
	size_t start = out->len;
	buf_puts(out, p->name);
	enum vtype dflt;
	enum vshape shape;
	enum vtype t = prop_types(p, &dflt, &shape);
	const char *value_param = cal_prop_param(p, "VALUE");
	if (value_param && t != dflt) {
		buf_puts(out, ";VALUE=");
		for (const char *c = value_param; *c; c++)
			buf_putc(out, (char)toupper((unsigned char)*c));
	}
	for (size_t i = 0; i < p->n_params; i++)
		if (strcmp(p->params[i].name, "VALUE") != 0)
			write_param(out, &p->params[i]);
	buf_putc(out, ':');
	value_canonical(out, t, shape, p->value, p->value_checked);
	size_t n = out->len - start;
	if (n <= 75) {
		buf_append(out, "\r\n", 2);
		return;
	}
	char *text = xstrndup(out->data + start, n);
	out->len = start;
	write_folded(out, text, n);
	free(text);
}

void cal_write_comp(struct buf *out, const struct cal_comp *c)
{
	buf_append(out, "BEGIN:", 6);
	buf_puts(out, c->name);
	buf_append(out, "\r\n", 2);
	for (size_t i = 0; i < c->n_props; i++)
		cal_write_prop(out, &c->props[i]);
	for (size_t i = 0; i < c->n_subs; i++)
		cal_write_comp(out, c->subs[i]);
	buf_append(out, "END:", 4);
	buf_puts(out, c->name);
	buf_append(out, "\r\n", 2);
}

void cal_write_calendar_start(struct buf *out)
{
	buf_puts(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" CAL_PRODID "\r\n");
}

void cal_write_calendar_end(struct buf *out)
{
	buf_puts(out, "END:VCALENDAR\r\n");
}
