/* test_import_plan.c: the comparison behind calpubsubctl import (import_plan): added,
 * changed, unchanged and removed objects, refused application rows, --keep-missing, empty
 * sides, and UIDs that only byte order sorts correctly. */
#include "src/ctl/import_plan.h"
#include "tap.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_mixed(void)
{
	const struct import_object file[] = {
		{"a", "VEVENT", "A1", 0, 0}, {"b", "VEVENT", "B2", 0, 0}, {"d", "VEVENT", "D1", 0, 0},
		{"e", "VEVENT", "E1", 0, 0}, {"g", "VTODO", "G1", 0, 0},
	};
	const struct import_existing cal[] = {
		{"a", "A1", true}, {"b", "B1", true}, {"c", "C1", true}, {"e", "E1", false}, {"f", "F1", true}, {"h", "H", true},
	};
	enum import_status status[N(file)];
	struct import_diff d;
	import_plan(file, N(file), cal, N(cal), false, status, &d);
	is_int(status[0], IMPORT_UNCHANGED, "same text: unchanged");
	is_int(status[1], IMPORT_CHANGED, "another text: changed");
	is_int(status[2], IMPORT_ADDED, "not in the calendar: added");
	is_int(status[3], IMPORT_CHANGED, "a refused application row with the same text is published: changed");
	is_int(status[4], IMPORT_ADDED, "after the calendar's last UID: added");
	is_int(d.n_added, 2, "two added");
	ok(d.n_added == 2 && !strcmp(d.added[0], "d") && !strcmp(d.added[1], "g"), "added: d, g");
	ok(d.n_changed == 2 && !strcmp(d.changed[0], "b") && !strcmp(d.changed[1], "e"), "changed: b, e");
	ok(d.n_removed == 3 && !strcmp(d.removed[0], "c") && !strcmp(d.removed[1], "f") && !strcmp(d.removed[2], "h"),
	   "removed: c, f, h (in the middle and after the file's last UID)");
	is_int(d.n_unchanged, 1, "one unchanged");
	ok(d.added[d.n_added] == NULL && d.removed[d.n_removed] == NULL, "lists end with NULL");
	import_diff_free(&d);

	import_plan(file, N(file), cal, N(cal), true, status, &d);
	ok(d.n_removed == 0 && d.removed == NULL, "--keep-missing: nothing removed");
	is_int(d.n_added + d.n_changed + d.n_unchanged, N(file), "--keep-missing: every file object accounted for");
	import_diff_free(&d);
}

static void test_empty_sides(void)
{
	const struct import_object file[] = {{"x", "VEVENT", "X", 0, 0}, {"y", "VEVENT", "Y", 0, 0}};
	const struct import_existing cal[] = {{"x", "X", true}, {"y", "Y", true}};
	enum import_status status[2] = {IMPORT_UNCHANGED, IMPORT_UNCHANGED};
	struct import_diff d;
	import_plan(file, 2, NULL, 0, false, status, &d);
	ok(d.n_added == 2 && d.n_changed == 0 && d.n_removed == 0 && d.n_unchanged == 0, "new calendar: all added");
	ok(status[0] == IMPORT_ADDED && status[1] == IMPORT_ADDED, "new calendar: statuses");
	import_diff_free(&d);
	import_plan(NULL, 0, cal, 2, false, status, &d);
	ok(d.n_added == 0 && d.n_removed == 2 && !strcmp(d.removed[1], "y"), "empty file: all removed");
	import_diff_free(&d);
	import_plan(file, 2, cal, 2, false, status, &d);
	ok(d.n_added == 0 && d.n_changed == 0 && d.n_removed == 0 && d.n_unchanged == 2, "the same file again: a no-op");
	import_diff_free(&d);
}

static void test_byte_order(void)
{
	/* 'Z' < '_' < 'a' < 0xC3 (UTF-8 lead byte) in strcmp order, whatever the locale says */
	const struct import_object file[] = {
		{"Zulu", "VEVENT", "1", 0, 0}, {"_x", "VEVENT", "2", 0, 0}, {"alpha", "VEVENT", "3", 0, 0},
		{"\xc3\xa9t\xc3\xa9", "VEVENT", "4", 0, 0},
	};
	const struct import_existing cal[] = {{"_x", "2", true}, {"\xc3\xa9t\xc3\xa9", "4", true}};
	enum import_status status[N(file)];
	struct import_diff d;
	import_plan(file, N(file), cal, N(cal), false, status, &d);
	ok(d.n_added == 2 && d.n_unchanged == 2 && d.n_removed == 0, "byte order: matches found across upper case, "
	                                                              "punctuation and UTF-8");
	import_diff_free(&d);
}

int main(void)
{
	test_mixed();
	test_empty_sides();
	test_byte_order();
	return done_testing();
}
