/* internal.h: what the files of src/calendar/ share and nobody else sees: the component
 * tree built from content lines (our own, because libical's serializer drops parameters
 * and rewrites values, so canonical text cannot come from it), value types, the time
 * zone resolver and the occurrence generator. */
#ifndef CALPUBSUB_CALENDAR_INTERNAL_H
#define CALPUBSUB_CALENDAR_INTERNAL_H

#include <libical/ical.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "src/buf.h"
#include "src/calendar/calendar.h"

/* ---- content lines and components (contentline.c) ---- */

/* strcmp(a, b) == 0 with most mismatches settled on the first byte, without the call:
 * the lookups of property and parameter names run a few hundred times per object. */
static inline bool name_eq(const char *a, const char *b)
{
	return a[0] == b[0] && strcmp(a, b) == 0;
}

struct cal_param {
	char *name;     /* upper case */
	char **values;  /* unquoted */
	size_t n_values;
};

struct cal_prop {
	char *name;     /* upper case */
	struct cal_param *params;
	size_t n_params;
	char *value;    /* raw, as written (escapes kept) */
	unsigned line;
	/* value_check() passed for the effective type and shape: the canonical writer need
	 * not run the same checks (libical's among them) again. Set by the reader only. */
	bool value_checked;
};

struct cal_comp {
	char *name;     /* upper case */
	unsigned line;  /* line of BEGIN */
	struct cal_prop *props;
	size_t n_props;
	struct cal_comp **subs;
	size_t n_subs;
};

/* A property, parameter or component name (RFC 5545 3.1: letters, digits and '-'). */
bool cl_is_name(const char *s);
/* Parses one unfolded content line. False with a message in err. */
bool cl_parse(const char *line, size_t len, struct cal_prop *out, struct buf *err);
void cal_prop_clear(struct cal_prop *p);
const char *cal_prop_param(const struct cal_prop *p, const char *name);
void cal_prop_add_param(struct cal_prop *p, const char *name, const char *value);
void cal_prop_remove_param(struct cal_prop *p, const char *name);

struct cal_comp *cal_comp_new(const char *name, unsigned line);
void cal_comp_free(struct cal_comp *c);
struct cal_prop *cal_comp_add_prop(struct cal_comp *c, const char *name, const char *value);
/* Moves *p (a property from cl_parse) to the end of c's properties; *p is left empty. */
void cal_comp_take_prop(struct cal_comp *c, struct cal_prop *p);
void cal_comp_add_sub(struct cal_comp *c, struct cal_comp *sub);
const struct cal_prop *cal_comp_prop(const struct cal_comp *c, const char *name);
size_t cal_comp_count(const struct cal_comp *c, const char *name);
void cal_comp_remove_props(struct cal_comp *c, const char *name);
struct cal_comp *cal_comp_clone(const struct cal_comp *c);

/* Pulls unfolded content lines out of a stream or a string, counting physical lines. */
struct line_reader {
	FILE *in;
	const char *mem;
	size_t mem_len, mem_pos;
	char *phys;       /* current physical line */
	size_t phys_cap;
	long phys_len;    /* -1 once the input is exhausted */
	bool have_phys;   /* phys holds a line not yet consumed */
	unsigned phys_no; /* number of the line in phys */
	bool io_error;
	struct buf content;
};
void line_reader_init_file(struct line_reader *r, FILE *in);
void line_reader_init_mem(struct line_reader *r, const char *text, size_t len);
/* Next content line into r->content; its first physical line in *line. 0 at the end,
 * 1 on a line, -1 for a continuation line with nothing before it (skipped). */
int line_reader_next(struct line_reader *r, unsigned *line);
void line_reader_free(struct line_reader *r);

/* Parses text holding exactly one VCALENDAR (canonical or generated text: errors are
 * not located by line). NULL with a message in err. */
struct cal_comp *cal_parse_text(const char *text, size_t len, struct buf *err);

/* Canonical writing: names upper case, parameters quoted only when needed, VALUE first
 * and only when not the default, values normalized by type, folded at 75 octets, CRLF. */
void cal_write_prop(struct buf *out, const struct cal_prop *p);
void cal_write_comp(struct buf *out, const struct cal_comp *c);
void cal_write_calendar_start(struct buf *out);
void cal_write_calendar_end(struct buf *out);

/* Text escapes (RFC 5545 3.3.11). */
void text_unescape(struct buf *out, const char *s, size_t n);
/* One character of TEXT, escaped as RFC 5545 3.3.11 says. Inline: canonical text is
 * written a character at a time. */
static inline void text_escape_char(struct buf *out, char c)
{
	switch (c) {
	case '\\': buf_append(out, "\\\\", 2); break;
	case ';': buf_append(out, "\\;", 2); break;
	case ',': buf_append(out, "\\,", 2); break;
	case '\n': buf_append(out, "\\n", 2); break;
	default: buf_putc(out, c);
	}
}
/* A whole TEXT value from xCal or jCal: CRLF and a lone CR are line breaks too. */
void text_escape(struct buf *out, const char *s);
/* Splits a raw value at commas (or another separator) that no backslash escapes. */
size_t split_unescaped(const char *s, char sep, char ***out);
void free_strv(char **v, size_t n);

/* ---- value types (values.c) ---- */

enum vtype {
	VT_UNKNOWN = 0, VT_TEXT, VT_DATE, VT_DATE_TIME, VT_TIME, VT_DURATION, VT_PERIOD, VT_RECUR,
	VT_UTC_OFFSET, VT_CAL_ADDRESS, VT_URI, VT_INTEGER, VT_FLOAT, VT_BOOLEAN, VT_BINARY, VT_OTHER
};

enum vshape {
	SHAPE_SINGLE = 0,
	SHAPE_LIST,      /* comma-separated values (CATEGORIES, RDATE, ...) */
	SHAPE_GEO,       /* float;float */
	SHAPE_RSTATUS,   /* code;description[;data] */
};

enum vtype prop_default_type(const char *prop_name);
enum vshape prop_shape(const char *prop_name);
/* The effective type: VALUE parameter when present, else the default. */
enum vtype prop_type(const struct cal_prop *p);
/* prop_type() with the default type and the shape, from one lookup of the name. */
enum vtype prop_types(const struct cal_prop *p, enum vtype *default_type, enum vshape *shape);
enum vtype vtype_from_name(const char *name); /* VT_OTHER for an x-name or unknown */
const char *vtype_name(enum vtype t);          /* "DATE-TIME"; "UNKNOWN" for VT_UNKNOWN */
/* Parameters whose values RFC 6321 types as cal-address, uri or boolean. */
enum vtype param_type(const char *param_name);
/* x rounded to 15 significant digits, in the plain decimal notation of an iCalendar FLOAT
 * (no exponent): the canonical form, and how a jCal number becomes one. */
void float_plain(struct buf *out, double x);
/* How many values a parameter may hold, and whether it may be repeated: the parameters
 * of RFC 5545 and RFC 7986 appear at most once, with one value unless their grammar is a
 * list; any other name may repeat, and its values are then kept as one list. */
enum param_arity { PARAM_OTHER = 0, PARAM_ONE, PARAM_LIST };
enum param_arity param_arity(const char *param_name);

/* Checks a value against the grammar of its type (and libical's parser for the types
 * libical knows). False with a reason in err. */
bool value_check(enum vtype t, enum vshape shape, const char *value, struct buf *err);
/* Appends the canonical form of a valid value of this type and shape; an invalid one is
 * kept as written. checked: value_check() already passed for these arguments. */
void value_canonical(struct buf *out, enum vtype t, enum vshape shape, const char *value, bool checked);

/* The parts of RRULE in canonical (RFC 6321) order: returns the index of name in that
 * order, or -1 for a part outside it. */
int recur_part_rank(const char *name);
extern const char *const recur_part_names[];
extern const size_t recur_n_parts;
/* RRULE parts whose values are integers (jCal writes them as numbers). */
bool recur_part_is_int(const char *name);
/* libical looks for the next instance of a rule more frequent than daily one second,
 * minute or hour at a time, with no bound: with a day filter (FREQ=SECONDLY;BYMONTH=2;
 * BYMONTHDAY=30) it may never return. The filter that makes r such a rule, or NULL. */
const char *recur_endless_filter(const struct icalrecurrencetype *r);
/* The RFC 5545 3.3.10 rule a combination of parts breaks (BYMONTHDAY with WEEKLY, a
 * numbered BYDAY with DAILY, ...), or NULL. */
const char *recur_rfc_conflict(const struct icalrecurrencetype *r);
/* A valid rule shape the expansion cannot answer correctly, as a message, or NULL. */
const char *recur_unsupported(const struct icalrecurrencetype *r);

/* DATE, DATE-TIME values. */
struct cal_dt {
	int year, month, day, hour, minute, second;
	bool is_date;
	bool is_utc;
};
bool dt_parse(const char *s, struct cal_dt *out);
/* Seconds of this wall-clock value counted as if it were UTC. */
int64_t dt_local_seconds(const struct cal_dt *dt);
void dt_from_local_seconds(int64_t secs, bool is_date, struct cal_dt *out);
int days_in_month(int year, int month);
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

struct cal_duration {
	bool negative;
	int64_t days;    /* nominal: weeks * 7 + days */
	int64_t seconds; /* exact */
};
bool duration_parse(const char *s, struct cal_duration *out);

/* ---- time zones (tz.c) ---- */

/* Maps strings (copied) to indexes; zero-initialized is empty. */
struct strmap {
	char **keys;
	size_t *vals;
	size_t cap, n;
};
size_t *strmap_get(struct strmap *m, const char *key); /* NULL when absent */
void strmap_put(struct strmap *m, const char *key, size_t val);
void strmap_free(struct strmap *m);

struct cal_zones;
/* owner: the zones made from VTIMEZONE components are freed with the resolver. */
struct cal_zones *cal_zones_new(void);
void cal_zones_free(struct cal_zones *z);
/* Adds a VTIMEZONE; an already known TZID keeps its first definition. */
void cal_zones_add_vtimezone(struct cal_zones *z, const struct cal_comp *vtimezone);
/* A VTIMEZONE of the object wins; then IANA names (also after a /prefix/ such as
 * Mozilla's), then Windows names. NULL when unknown. */
icaltimezone *cal_zones_lookup(struct cal_zones *z, const char *tzid);
/* Zone resolution without any VTIMEZONE: built-in IANA zones and Windows names. */
icaltimezone *cal_builtin_zone(const char *tzid);

/* Wall clock to UTC in zone (NULL: UTC) following RFC 5545 3.3.5: an ambiguous time is
 * its first occurrence, a time in a gap takes the offset before the gap. */
int64_t zone_local_to_utc(icaltimezone *zone, int64_t local);
int64_t zone_utc_to_local(icaltimezone *zone, int64_t utc);
/* The instant of a DATE or DATE-TIME property, floating times and dates read in UTC.
 * known_zone: false when its TZID resolves nowhere. False when the value is no date. */
bool prop_instant(struct cal_zones *z, const struct cal_prop *p, int64_t *utc, struct cal_dt *dt, bool *known_zone);

/* Whether a rule part's list holds anything. */
static inline bool recur_has(const short *list)
{
	return list[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

/* A rule more frequent than daily: SECONDLY, MINUTELY or HOURLY. */
static inline bool recur_is_sub_daily(const struct icalrecurrencetype *r)
{
	return r->freq == ICAL_SECONDLY_RECURRENCE || r->freq == ICAL_MINUTELY_RECURRENCE ||
	       r->freq == ICAL_HOURLY_RECURRENCE;
}

/* A BYxxx part other than BYSETPOS. */
static inline bool recur_has_by(const struct icalrecurrencetype *r)
{
	return recur_has(r->by_second) || recur_has(r->by_minute) || recur_has(r->by_hour) || recur_has(r->by_day) ||
	       recur_has(r->by_month_day) || recur_has(r->by_year_day) || recur_has(r->by_week_no) ||
	       recur_has(r->by_month);
}

/* a / b rounded down, for times before 1970 too */
static inline int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The weekday of a local day number, 0 being Sunday: local day 0, 1970-01-01, was a
 * Thursday. */
static inline int weekday_of_day(int64_t day)
{
	return (int)(((day + 4) % 7 + 7) % 7);
}

/* Whether a BYxxx list holds value, a negative member counting back from count (-1 is
 * the count-th: BYMONTHDAY=-1 is the month's last day). */
static inline bool recur_list_holds(const short *list, int value, int count)
{
	for (size_t i = 0; list[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (list[i] == value || count + 1 + list[i] == value)
			return true;
	return false;
}

/* WKST as a weekday number, 0 being Sunday; Monday when the rule has none. */
static inline int recur_week_start(icalrecurrencetype_weekday wkst)
{
	return (wkst == ICAL_NO_WEEKDAY ? ICAL_MONDAY_WEEKDAY : (int)wkst) - ICAL_SUNDAY_WEEKDAY;
}

/* The weekdays of BYDAY into *bits (bit n: weekday n, 0 being Sunday; 0 without BYDAY).
 * False when a day has a number ("1MO"), which a set of weekdays cannot say. */
static inline bool recur_weekday_bits(const short *by_day, uint8_t *bits)
{
	*bits = 0;
	for (size_t i = 0; by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		if (icalrecurrencetype_day_position(by_day[i]) != 0)
			return false;
		*bits |= (uint8_t)(1u << (icalrecurrencetype_day_day_of_week(by_day[i]) - ICAL_SUNDAY_WEEKDAY));
	}
	return true;
}

/* The index in a set of n that a BYSETPOS value names (1 the first, -1 the last), or -1
 * when the set has no such member. */
static inline long recur_set_pos_index(long pos, size_t n)
{
	long index = pos > 0 ? pos - 1 : (long)n + pos;
	return index >= 0 && index < (long)n ? index : -1;
}

/* What our own walks over a rule's instances (subdaily.c, weekno.c) answer. */
enum walk_result { WALK_FOUND, WALK_NONE, WALK_CAPPED };

/* ---- rules more frequent than daily (subdaily.c) ---- */

#define SUBDAILY_MAX_SET 3600   /* instances in one hour of an HOURLY rule: minutes x seconds */
#define SUBDAILY_MAX_SET_POS 32

struct subdaily {
	int64_t unit;              /* seconds in one period: 1, 60 or 3600 */
	int64_t interval;
	int64_t first_period;      /* the period holding DTSTART, counted from local day 0 */
	int64_t cycle;             /* seconds after which the periods' pattern on the week repeats */
	uint64_t seconds, minutes; /* bit n: second or minute n passes (limit) or is made (expand) */
	uint32_t hours;            /* bit n: hour n passes */
	uint8_t weekdays;          /* bit n: weekday n passes, 0 being Sunday */
	short set_pos[SUBDAILY_MAX_SET_POS];
	size_t n_set_pos;
};

/* False when the rule is not SECONDLY, MINUTELY or HOURLY, or has a BYDAY with a
 * position. dtstart is on the wall clock, in seconds from local day 0. */
bool subdaily_init(struct subdaily *s, const struct icalrecurrencetype *r, int64_t dtstart);
/* The first instance at or after from and at or before limit, into *at. Each period
 * looked at counts in *steps; more than budget of them gives WALK_CAPPED. */
enum walk_result subdaily_next(const struct subdaily *s, int64_t from, int64_t limit, size_t budget, size_t *steps,
                               int64_t *at);

/* ---- yearly rules by week number (weekno.c) ---- */

#define WEEKNO_MAX_DAYS (53 * 7) /* days one year's weeks can hold */
#define WEEKNO_MAX_SET_POS 32

struct weekno {
	int first_year, interval;
	short weeks[ICAL_BY_WEEKNO_SIZE]; /* BYWEEKNO, ICAL_RECURRENCE_ARRAY_MAX-terminated */
	uint8_t weekdays;                 /* bit n: weekday n, 0 being Sunday */
	int week_start;                   /* WKST, 0 being Sunday */
	uint16_t months;                  /* bit n: month n passes */
	short month_days[ICAL_BY_MONTHDAY_SIZE], year_days[ICAL_BY_YEARDAY_SIZE];
	/* the times of each day: every combination, ascending */
	uint8_t hours[24], minutes[60], seconds[60];
	size_t n_hours, n_minutes, n_seconds, times_per_day;
	short set_pos[WEEKNO_MAX_SET_POS];
	size_t n_set_pos;
	int cached_year; /* the year whose days cached_days holds */
	int64_t cached_days[WEEKNO_MAX_DAYS];
	size_t n_cached_days;
};

/* False unless the rule is FREQ=YEARLY with BYWEEKNO and no numbered BYDAY. dtstart is
 * on the wall clock, in seconds from local day 0. */
bool weekno_init(struct weekno *w, const struct icalrecurrencetype *r, int64_t dtstart, bool is_date);
/* The first instance at or after from and at or before limit, into *at. Each year
 * looked at counts in *steps; more than budget of them gives WALK_CAPPED. */
enum walk_result weekno_next(struct weekno *w, int64_t from, int64_t limit, size_t budget, size_t *steps,
                             int64_t *at);

/* ---- occurrences (expand.c) ---- */

struct occ {
	int64_t start, end, rid;
	unsigned comp;            /* index into the object's components */
	bool overridden;
};

struct expansion {
	const struct cal_comp **comps;
	size_t n_comps;
	bool recurring;
	bool all_day_master;
	struct occ *occs;
	size_t n_occs, cap;
};

/* Expands the object's components (all of one UID, canonical order) over [from, to).
 * floating: the zone for floating times and dates (NULL: UTC). False with err. */
bool expand_components(const struct cal_comp *const *comps, size_t n_comps, struct cal_zones *zones,
                       icaltimezone *floating, int64_t from, int64_t to, struct expansion *out, struct buf *err);
void expansion_free(struct expansion *e);
/* Whether the components recur and the expansion of any window starts near it (no RRULE
 * has COUNT, which is counted from DTSTART): then a short window costs only its own
 * instances. */
bool expands_near_window(const struct cal_comp *const *comps, size_t n_comps);
/* The bounds of all occurrences, for a database pre-filter. */
bool object_range(const struct cal_comp *const *comps, size_t n_comps, struct cal_zones *zones, int64_t *start,
                  int64_t *end, struct buf *err);
/* Collects the object components (VEVENT, VTODO, VJOURNAL) of a parsed VCALENDAR. */
size_t calendar_objects(const struct cal_comp *vcal, const struct cal_comp ***out);
bool is_object_kind(const char *name);

/* Reads a canonical text and returns its VCALENDAR with the zones of its VTIMEZONEs. */
struct cal_comp *load_object(const char *ics, struct cal_zones **zones, struct buf *err);
icaltimezone *floating_zone(const struct cal_expand_opts *opts, struct buf *err);

#endif
