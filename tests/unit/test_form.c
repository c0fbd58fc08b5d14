/* test_form.c: the XEP-0004 data form model: building forms, finding fields and values,
 * FORM_TYPE, and the lexical forms of booleans, form types and field types. */
#include "src/form.h"
#include "tap.h"

#include <string.h>

int main(void)
{
	/* booleans: "MUST support both styles" (XEP-0004 3.3), nothing else */
	bool b = false;
	ok(form_parse_bool("1", &b) && b, "1 is true");
	ok(form_parse_bool("true", &b) && b, "true is true");
	b = true;
	ok(form_parse_bool("0", &b) && !b, "0 is false");
	ok(form_parse_bool("false", &b) && !b, "false is false");
	const char *bad[] = {"", "TRUE", "True", "yes", "no", "2", " 1", "1 ", "on", "-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		ok(!form_parse_bool(bad[i], &b) && b, "'%s' is not a boolean (and changes nothing)", bad[i]);
	}
	ok(!form_parse_bool(NULL, &b), "NULL is not a boolean");

	/* form types */
	const char *types[] = {"form", "submit", "cancel", "result"};
	for (int i = 0; i < 4; i++) {
		enum form_type t;
		ok(form_type_parse(types[i], &t) && (int)t == i, "form type %s", types[i]);
		is_str(form_type_name((enum form_type)i), types[i], "form type name %s", types[i]);
	}
	enum form_type ft;
	ok(!form_type_parse("bogus", &ft) && !form_type_parse(NULL, &ft) && !form_type_parse("Submit", &ft),
	   "unknown form types are refused");

	/* field types; no type attribute is its own case (text-single by default) */
	const char *ftypes[] = {"boolean",    "fixed",       "hidden",     "jid-multi",    "jid-single",
	                        "list-multi", "list-single", "text-multi", "text-private", "text-single"};
	for (size_t i = 0; i < sizeof(ftypes) / sizeof(ftypes[0]); i++) {
		enum field_type t;
		ok(field_type_parse(ftypes[i], &t) && strcmp(field_type_name(t), ftypes[i]) == 0, "field type %s",
		   ftypes[i]);
	}
	enum field_type t = FT_BOOLEAN;
	ok(field_type_parse(NULL, &t) && t == FT_UNSPECIFIED, "no type attribute: unspecified");
	ok(!field_type_parse("bogus", &t) && !field_type_parse("", &t), "unknown field types are refused");

	/* building and reading */
	struct form *f = form_new(FORM_SUBMIT);
	ok(form_type_value(f) == NULL, "no FORM_TYPE yet");
	form_add_hidden(f, "FORM_TYPE", "urn:example:form");
	form_add_text(f, "title", FT_TEXT_SINGLE, "Title", "Hello");
	form_add_text(f, "empty", FT_TEXT_SINGLE, NULL, NULL);
	form_add_bool(f, "flag", "A flag", true);
	struct form_field *multi = form_add_field(f, "many", FT_TEXT_MULTI, NULL);
	form_field_add_value(multi, "one");
	form_field_add_value(multi, "two");
	struct form_field *list = form_add_field(f, "choice", FT_LIST_SINGLE, "Pick");
	form_field_add_option(list, "a");
	form_field_add_option(list, "b");
	form_add_text(f, NULL, FT_FIXED, NULL, "a fixed note");
	is_str(form_type_value(f), "urn:example:form", "FORM_TYPE value");
	is_str(form_value(f, "title"), "Hello", "a text value");
	ok(form_value(f, "empty") == NULL, "a field without a value has none");
	ok(form_find(f, "empty") != NULL, "but exists");
	is_str(form_value(f, "flag"), "true", "booleans are written as true/false");
	is_str(form_value(f, "many"), "one", "the first of several values");
	is_int(form_find(f, "many")->n_values, 2, "both values kept");
	is_int(form_find(f, "choice")->n_options, 2, "options kept");
	ok(form_value(f, "missing") == NULL && form_find(f, "missing") == NULL, "a missing field");
	is_int(f->n_fields, 7, "seven fields, the fixed one without var included");
	ok(f->fields[6].var == NULL && f->fields[6].type == FT_FIXED, "a fixed field has no var");
	form_free(f);
	form_free(NULL);
	return done_testing();
}
