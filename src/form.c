/* form.c: data form model helpers. */
#include "form.h"

#include "buf.h"

#include <stdlib.h>
#include <string.h>

struct form *form_new(enum form_type type)
{
	struct form *f = xcalloc(1, sizeof(*f));
	f->type = type;
	return f;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void form_free(struct form *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_fields; i++) {
		struct form_field *fl = &f->fields[i];
		free(fl->var);
		free(fl->label);
		free_strings(fl->values, fl->n_values);
		free_strings(fl->options, fl->n_options);
	}
	free(f->fields);
	free(f->title);
	free(f->instructions);
	free(f);
}

struct form_field *form_add_field(struct form *f, const char *var, enum field_type type, const char *label)
{
	f->fields = xrealloc(f->fields, (f->n_fields + 1) * sizeof(*f->fields));
	struct form_field *fl = &f->fields[f->n_fields++];
	memset(fl, 0, sizeof(*fl));
	fl->var = var ? xstrdup(var) : NULL;
	fl->type = type;
	fl->label = label ? xstrdup(label) : NULL;
	return fl;
}

void form_field_add_value(struct form_field *fl, const char *value)
{
	fl->values = xrealloc(fl->values, (fl->n_values + 1) * sizeof(char *));
	fl->values[fl->n_values++] = xstrdup(value);
}

void form_field_add_option(struct form_field *fl, const char *value)
{
	fl->options = xrealloc(fl->options, (fl->n_options + 1) * sizeof(char *));
	fl->options[fl->n_options++] = xstrdup(value);
}

struct form_field *form_find(const struct form *f, const char *var)
{
	for (size_t i = 0; i < f->n_fields; i++)
		if (f->fields[i].var && strcmp(f->fields[i].var, var) == 0)
			return &f->fields[i];
	return NULL;
}

const char *form_value(const struct form *f, const char *var)
{
	const struct form_field *fl = form_find(f, var);
	return fl && fl->n_values ? fl->values[0] : NULL;
}

const char *form_type_value(const struct form *f)
{
	return form_value(f, "FORM_TYPE");
}

void form_add_hidden(struct form *f, const char *var, const char *value)
{
	form_field_add_value(form_add_field(f, var, FT_HIDDEN, NULL), value);
}

void form_add_text(struct form *f, const char *var, enum field_type type, const char *label, const char *value)
{
	struct form_field *fl = form_add_field(f, var, type, label);
	if (value)
		form_field_add_value(fl, value);
}

void form_add_bool(struct form *f, const char *var, const char *label, bool value)
{
	form_field_add_value(form_add_field(f, var, FT_BOOLEAN, label), value ? "true" : "false");
}

bool form_parse_bool(const char *s, bool *out)
{
	if (!s)
		return false;
	if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0) {
		*out = false;
		return true;
	}
	return false;
}

static const char *const form_type_names[] = {"form", "submit", "cancel", "result"};

const char *form_type_name(enum form_type t)
{
	return form_type_names[t];
}

bool form_type_parse(const char *s, enum form_type *out)
{
	for (size_t i = 0; s && i < sizeof(form_type_names) / sizeof(form_type_names[0]); i++) {
		if (strcmp(s, form_type_names[i]) == 0) {
			*out = (enum form_type)i;
			return true;
		}
	}
	return false;
}

static const char *const field_type_names[] = {
	NULL,        "boolean",     "fixed",       "hidden",     "jid-multi",    "jid-single",
	"list-multi", "list-single", "text-multi", "text-private", "text-single",
};

const char *field_type_name(enum field_type t)
{
	return field_type_names[t];
}

bool field_type_parse(const char *s, enum field_type *out)
{
	if (!s) {
		*out = FT_UNSPECIFIED;
		return true;
	}
	for (size_t i = 1; i < sizeof(field_type_names) / sizeof(field_type_names[0]); i++) {
		if (strcmp(s, field_type_names[i]) == 0) {
			*out = (enum field_type)i;
			return true;
		}
	}
	return false;
}
