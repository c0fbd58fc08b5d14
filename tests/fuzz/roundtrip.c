/* roundtrip.c: checks that accepted canonical text survives the reader and the xCal and
 * jCal round trips unchanged (roundtrip.h). */
#include "tests/fuzz/roundtrip.h"

#include "src/buf.h"
#include "src/calendar/calendar.h"
#include "src/xmltree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* what cal_read_string gave back: the first object's text, and the errors */
struct reread {
	int count;
	char *ics;
	struct buf errors;
};

static int take_first(const struct cal_object *obj, void *arg)
{
	struct reread *again = arg;
	if (again->count++ == 0)
		again->ics = strdup(obj->ics);
	return 0;
}

static void keep_errors(const struct cal_diag *d, void *arg)
{
	struct reread *again = arg;
	if (d->severity == CAL_ERROR)
		buf_printf(&again->errors, "line %u: %s\n", d->line, d->message);
}

static void fail(const char *what, const char *before, const char *after, const char *detail)
{
	fprintf(stderr, "%s\n--- canonical text\n%s--- came back as\n%s--- detail\n%s\n", what, before,
	        after ? after : "(nothing)\n", detail);
	abort();
}

static void check_reader(const char *ics)
{
	struct reread again = {0, NULL, BUF_INIT};
	struct cal_read_opts opts = {.policy = CAL_READ_ALL_OR_NOTHING};
	int rc = cal_read_string(ics, strlen(ics), "canonical", &opts, take_first, keep_errors, &again);
	if (rc != 0 || again.count != 1 || strcmp(again.ics, ics) != 0)
		fail("canonical text is not a fixpoint of the reader", ics, again.ics, buf_cstr(&again.errors));
	free(again.ics);
	buf_free(&again.errors);
}

static void check_jcal(const char *ics)
{
	struct buf json = BUF_INIT, errors = BUF_INIT;
	struct cal_payload back;
	if (!cal_to_jcal(ics, &json, &errors))
		fail("cal_to_jcal refused canonical text", ics, NULL, buf_cstr(&errors));
	if (!cal_from_jcal(json.data, json.len, &back, &errors))
		fail("the jCal of canonical text is refused", ics, json.data, buf_cstr(&errors));
	if (strcmp(back.ics, ics) != 0)
		fail("the jCal round trip changed canonical text", ics, back.ics, json.data);
	cal_payload_free(&back);
	buf_free(&json);
	buf_free(&errors);
}

static void check_xcal(const char *ics)
{
	struct xml_node *tree = NULL;
	struct buf errors = BUF_INIT, text = BUF_INIT;
	struct cal_payload back;
	if (!cal_to_xcal(ics, &tree, &errors))
		fail("cal_to_xcal refused canonical text", ics, NULL, buf_cstr(&errors));
	xml_serialize(&text, tree, NULL);
	if (!cal_from_xcal(tree, &back, &errors))
		fail("the xCal of canonical text is refused", ics, text.data, buf_cstr(&errors));
	if (strcmp(back.ics, ics) != 0)
		fail("the xCal round trip changed canonical text", ics, back.ics, text.data);
	cal_payload_free(&back);
	xml_free(tree);
	buf_free(&text);
	buf_free(&errors);
}

void fuzz_check_roundtrip(const char *ics)
{
	check_reader(ics);
	check_jcal(ics);
	check_xcal(ics);
}
