/* form.h: the XEP-0004 data form model, without XML: xmpp/ parses and writes forms, the
 * service builds and validates them. */
#ifndef CALPUBSUB_FORM_H
#define CALPUBSUB_FORM_H

#include <stdbool.h>
#include <stddef.h>

enum form_type { FORM_FORM, FORM_SUBMIT, FORM_CANCEL, FORM_RESULT };

enum field_type {
	FT_UNSPECIFIED, /* no type attribute: text-single by XEP-0004, but kept apart for validation */
	FT_BOOLEAN,
	FT_FIXED,
	FT_HIDDEN,
	FT_JID_MULTI,
	FT_JID_SINGLE,
	FT_LIST_MULTI,
	FT_LIST_SINGLE,
	FT_TEXT_MULTI,
	FT_TEXT_PRIVATE,
	FT_TEXT_SINGLE,
};

struct form_field {
	char *var;
	enum field_type type;
	char *label;
	char **values;
	size_t n_values;
	char **options; /* option values, for list fields */
	size_t n_options;
	bool required;
};

struct form {
	enum form_type type;
	char *title;
	char *instructions;
	struct form_field *fields;
	size_t n_fields;
};

struct form *form_new(enum form_type type);
void form_free(struct form *f);
/* Adds a field; FORM_TYPE is just a hidden field named so. Returns the new field (valid
 * until the next form_add_field). */
struct form_field *form_add_field(struct form *f, const char *var, enum field_type type, const char *label);
void form_field_add_value(struct form_field *fl, const char *value);
void form_field_add_option(struct form_field *fl, const char *value);
struct form_field *form_find(const struct form *f, const char *var);
/* The FORM_TYPE value, or NULL. */
const char *form_type_value(const struct form *f);
/* The single value of a field (NULL when absent or empty). */
const char *form_value(const struct form *f, const char *var);
/* Convenience builders for the forms the service sends. */
void form_add_hidden(struct form *f, const char *var, const char *value);
void form_add_text(struct form *f, const char *var, enum field_type type, const char *label, const char *value);
void form_add_bool(struct form *f, const char *var, const char *label, bool value);

/* XEP-0004 boolean lexical forms: "1"/"true" and "0"/"false". */
bool form_parse_bool(const char *s, bool *out);
const char *form_type_name(enum form_type t);
bool form_type_parse(const char *s, enum form_type *out);
const char *field_type_name(enum field_type t);
bool field_type_parse(const char *s, enum field_type *out);

#endif
