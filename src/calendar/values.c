/* values.c: iCalendar value types: which type each property has (RFC 5545 section 3.8,
 * RFC 7986, RFC 9074, RFC 9253), the strict grammar of each type, and the canonical form
 * a value takes in stored text, chosen so that xCal and jCal round trips are exact. */
#include "src/calendar/internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The largest number a DURATION part may carry (see duration_parse). */
#define DURATION_PART_MAX 1000000000000LL

struct prop_info {
	const char *name;
	enum vtype type;
	enum vshape shape;
};

/* Sorted by name for bsearch. */
static const struct prop_info known_props[] = {
	{"ACKNOWLEDGED", VT_DATE_TIME, SHAPE_SINGLE},
	{"ACTION", VT_TEXT, SHAPE_SINGLE},
	{"ATTACH", VT_URI, SHAPE_SINGLE},
	{"ATTENDEE", VT_CAL_ADDRESS, SHAPE_SINGLE},
	{"CALSCALE", VT_TEXT, SHAPE_SINGLE},
	{"CATEGORIES", VT_TEXT, SHAPE_LIST},
	{"CLASS", VT_TEXT, SHAPE_SINGLE},
	{"COLOR", VT_TEXT, SHAPE_SINGLE},
	{"COMMENT", VT_TEXT, SHAPE_SINGLE},
	{"COMPLETED", VT_DATE_TIME, SHAPE_SINGLE},
	{"CONCEPT", VT_URI, SHAPE_SINGLE},
	{"CONFERENCE", VT_URI, SHAPE_SINGLE},
	{"CONTACT", VT_TEXT, SHAPE_SINGLE},
	{"CREATED", VT_DATE_TIME, SHAPE_SINGLE},
	{"DESCRIPTION", VT_TEXT, SHAPE_SINGLE},
	{"DTEND", VT_DATE_TIME, SHAPE_SINGLE},
	{"DTSTAMP", VT_DATE_TIME, SHAPE_SINGLE},
	{"DTSTART", VT_DATE_TIME, SHAPE_SINGLE},
	{"DUE", VT_DATE_TIME, SHAPE_SINGLE},
	{"DURATION", VT_DURATION, SHAPE_SINGLE},
	{"EXDATE", VT_DATE_TIME, SHAPE_LIST},
	{"FREEBUSY", VT_PERIOD, SHAPE_LIST},
	{"GEO", VT_FLOAT, SHAPE_GEO},
	{"IMAGE", VT_URI, SHAPE_SINGLE},
	{"LAST-MODIFIED", VT_DATE_TIME, SHAPE_SINGLE},
	{"LINK", VT_URI, SHAPE_SINGLE},
	{"LOCATION", VT_TEXT, SHAPE_SINGLE},
	{"METHOD", VT_TEXT, SHAPE_SINGLE},
	{"NAME", VT_TEXT, SHAPE_SINGLE},
	{"ORGANIZER", VT_CAL_ADDRESS, SHAPE_SINGLE},
	{"PERCENT-COMPLETE", VT_INTEGER, SHAPE_SINGLE},
	{"PRIORITY", VT_INTEGER, SHAPE_SINGLE},
	{"PRODID", VT_TEXT, SHAPE_SINGLE},
	{"PROXIMITY", VT_TEXT, SHAPE_SINGLE},
	{"RDATE", VT_DATE_TIME, SHAPE_LIST},
	{"RECURRENCE-ID", VT_DATE_TIME, SHAPE_SINGLE},
	{"REFID", VT_TEXT, SHAPE_SINGLE},
	{"REFRESH-INTERVAL", VT_DURATION, SHAPE_SINGLE},
	{"RELATED-TO", VT_TEXT, SHAPE_SINGLE},
	{"REPEAT", VT_INTEGER, SHAPE_SINGLE},
	{"REQUEST-STATUS", VT_TEXT, SHAPE_RSTATUS},
	{"RESOURCES", VT_TEXT, SHAPE_LIST},
	{"RRULE", VT_RECUR, SHAPE_SINGLE},
	{"SEQUENCE", VT_INTEGER, SHAPE_SINGLE},
	{"SOURCE", VT_URI, SHAPE_SINGLE},
	{"STATUS", VT_TEXT, SHAPE_SINGLE},
	{"SUMMARY", VT_TEXT, SHAPE_SINGLE},
	{"TRANSP", VT_TEXT, SHAPE_SINGLE},
	{"TRIGGER", VT_DURATION, SHAPE_SINGLE},
	{"TZID", VT_TEXT, SHAPE_SINGLE},
	{"TZNAME", VT_TEXT, SHAPE_SINGLE},
	{"TZOFFSETFROM", VT_UTC_OFFSET, SHAPE_SINGLE},
	{"TZOFFSETTO", VT_UTC_OFFSET, SHAPE_SINGLE},
	{"TZURL", VT_URI, SHAPE_SINGLE},
	{"UID", VT_TEXT, SHAPE_SINGLE},
	{"URL", VT_URI, SHAPE_SINGLE},
	{"VERSION", VT_TEXT, SHAPE_SINGLE},
};

static int prop_info_cmp(const void *key, const void *elem)
{
	const struct prop_info *info = elem;
	const char *k = key;
	/* the first byte settles most steps of the search without the call */
	if (k[0] != info->name[0])
		return (unsigned char)k[0] - (unsigned char)info->name[0];
	return strcmp(k, info->name);
}

static const struct prop_info *prop_info(const char *name)
{
	return bsearch(name, known_props, sizeof(known_props) / sizeof(known_props[0]), sizeof(known_props[0]),
	               prop_info_cmp);
}

enum vtype prop_default_type(const char *name)
{
	const struct prop_info *i = prop_info(name);
	return i ? i->type : VT_UNKNOWN;
}

enum vshape prop_shape(const char *name)
{
	const struct prop_info *i = prop_info(name);
	return i ? i->shape : SHAPE_SINGLE;
}

static const char *const vtype_names[] = {
	[VT_UNKNOWN] = "UNKNOWN", [VT_TEXT] = "TEXT", [VT_DATE] = "DATE", [VT_DATE_TIME] = "DATE-TIME",
	[VT_TIME] = "TIME", [VT_DURATION] = "DURATION", [VT_PERIOD] = "PERIOD", [VT_RECUR] = "RECUR",
	[VT_UTC_OFFSET] = "UTC-OFFSET", [VT_CAL_ADDRESS] = "CAL-ADDRESS", [VT_URI] = "URI",
	[VT_INTEGER] = "INTEGER", [VT_FLOAT] = "FLOAT", [VT_BOOLEAN] = "BOOLEAN", [VT_BINARY] = "BINARY",
	[VT_OTHER] = NULL,
};

enum vtype vtype_from_name(const char *name)
{
	for (int t = VT_TEXT; t < VT_OTHER; t++)
		if (strcasecmp(name, vtype_names[t]) == 0)
			return (enum vtype)t;
	return VT_OTHER;
}

const char *vtype_name(enum vtype t)
{
	return t < VT_OTHER ? vtype_names[t] : NULL;
}

enum vtype prop_type(const struct cal_prop *p)
{
	const char *v = cal_prop_param(p, "VALUE");
	return v ? vtype_from_name(v) : prop_default_type(p->name);
}

enum vtype prop_types(const struct cal_prop *p, enum vtype *default_type, enum vshape *shape)
{
	const struct prop_info *i = prop_info(p->name);
	*default_type = i ? i->type : VT_UNKNOWN;
	*shape = i ? i->shape : SHAPE_SINGLE;
	const char *v = cal_prop_param(p, "VALUE");
	return v ? vtype_from_name(v) : *default_type;
}

enum vtype param_type(const char *name)
{
	if (name_eq(name, "ALTREP") || name_eq(name, "DIR"))
		return VT_URI;
	if (name_eq(name, "DELEGATED-FROM") || name_eq(name, "DELEGATED-TO") || name_eq(name, "MEMBER") ||
	    name_eq(name, "SENT-BY"))
		return VT_CAL_ADDRESS;
	if (name_eq(name, "RSVP"))
		return VT_BOOLEAN;
	return VT_TEXT;
}

enum param_arity param_arity(const char *name)
{
	static const char *const one[] = {"ALTREP", "CN", "CUTYPE", "DIR", "ENCODING", "FMTTYPE", "FBTYPE",
	                                  "LANGUAGE", "PARTSTAT", "RANGE", "RELATED", "RELTYPE", "ROLE", "RSVP",
	                                  "SENT-BY", "TZID", "VALUE", "EMAIL", "LABEL"};
	static const char *const list[] = {"DELEGATED-FROM", "DELEGATED-TO", "MEMBER", "DISPLAY", "FEATURE"};
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++)
		if (name_eq(name, one[i]))
			return PARAM_ONE;
	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		if (name_eq(name, list[i]))
			return PARAM_LIST;
	return PARAM_OTHER;
}

/* ---- dates and times ---- */

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int days_in_month(int y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dim[m - 1];
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool dt_parse(const char *s, struct cal_dt *out)
{
	memset(out, 0, sizeof(*out));
	if (!digits(s, 4, &out->year) || !digits(s + 4, 2, &out->month) || !digits(s + 6, 2, &out->day))
		return false;
	if (out->month < 1 || out->month > 12 || out->day < 1 || out->day > days_in_month(out->year, out->month))
		return false;
	if (s[8] == '\0') {
		out->is_date = true;
		return true;
	}
	if ((s[8] != 'T' && s[8] != 't') || !digits(s + 9, 2, &out->hour) || !digits(s + 11, 2, &out->minute) ||
	    !digits(s + 13, 2, &out->second))
		return false;
	if (out->hour > 23 || out->minute > 59 || out->second > 60)
		return false;
	if (s[15] == 'Z' || s[15] == 'z') {
		out->is_utc = true;
		return s[16] == '\0';
	}
	return s[15] == '\0';
}

int64_t dt_local_seconds(const struct cal_dt *dt)
{
	return days_from_civil(dt->year, (unsigned)dt->month, (unsigned)dt->day) * 86400 + dt->hour * 3600 +
	       dt->minute * 60 + dt->second;
}

void dt_from_local_seconds(int64_t secs, bool is_date, struct cal_dt *out)
{
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t rest = secs - days * 86400;
	memset(out, 0, sizeof(*out));
	civil_from_days(days, &out->year, &out->month, &out->day);
	out->is_date = is_date;
	if (!is_date) {
		out->hour = (int)(rest / 3600);
		out->minute = (int)(rest / 60 % 60);
		out->second = (int)(rest % 60);
	}
}

bool duration_parse(const char *s, struct cal_duration *out)
{
	memset(out, 0, sizeof(*out));
	if (*s == '+' || *s == '-')
		out->negative = *s++ == '-';
	if (*s != 'P' && *s != 'p')
		return false;
	s++;
	bool any = false, in_time = false;
	const char *order = "WDHMS";
	const char *last = NULL;
	while (*s) {
		if ((*s == 'T' || *s == 't') && !in_time) {
			in_time = true;
			s++;
			if (!isdigit((unsigned char)*s))
				return false;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return false;
		int64_t n = 0;
		while (isdigit((unsigned char)*s)) {
			/* a trillion of any unit is far beyond any calendar (a trillion seconds is
			 * 31,700 years), and keeps every sum of them in seconds inside 64 bits */
			if (n > DURATION_PART_MAX / 10)
				return false;
			n = n * 10 + (*s++ - '0');
		}
		char unit = (char)toupper((unsigned char)*s++);
		const char *pos = strchr(order, unit);
		if (!unit || !pos || (last && pos <= last))
			return false;
		if ((unit == 'W' || unit == 'D') == in_time)
			return false;
		last = pos;
		any = true;
		switch (unit) {
		case 'W': out->days += n * 7; break;
		case 'D': out->days += n; break;
		case 'H': out->seconds += n * 3600; break;
		case 'M': out->seconds += n * 60; break;
		default: out->seconds += n; break;
		}
	}
	return any;
}

/* ---- grammar checks ---- */

static bool check_integer(const char *s)
{
	const char *p = s + (*s == '+' || *s == '-');
	if (!*p)
		return false;
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q))
			return false;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	return errno == 0 && v >= INT32_MIN && v <= INT32_MAX;
}

static bool float_syntax(const char *s)
{
	const char *p = s + (*s == '+' || *s == '-');
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/* jCal holds a FLOAT as a JSON number: a double */
static bool check_float(const char *s)
{
	return float_syntax(s) && isfinite(strtod(s, NULL));
}

static bool check_utc_offset(const char *s)
{
	int h, m, sec = 0;
	if (*s != '+' && *s != '-')
		return false;
	size_t n = strlen(s);
	if ((n != 5 && n != 7) || !digits(s + 1, 2, &h) || !digits(s + 3, 2, &m) || (n == 7 && !digits(s + 5, 2, &sec)))
		return false;
	return h < 24 && m < 60 && sec < 60;
}

static bool check_time(const char *s)
{
	int h, m, sec;
	if (!digits(s, 2, &h) || !digits(s + 2, 2, &m) || !digits(s + 4, 2, &sec))
		return false;
	if (h > 23 || m > 59 || sec > 60)
		return false;
	return s[6] == '\0' || ((s[6] == 'Z' || s[6] == 'z') && s[7] == '\0');
}

static bool check_period(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return false;
	char *start = xstrndup(s, (size_t)(slash - s));
	struct cal_dt a, b;
	struct cal_duration d;
	bool ok = dt_parse(start, &a) && !a.is_date;
	free(start);
	if (!ok)
		return false;
	/* a period ends after it starts (RFC 5545 3.3.9: "the start and end of a period") */
	if (dt_parse(slash + 1, &b))
		return !b.is_date && dt_local_seconds(&b) > dt_local_seconds(&a);
	return duration_parse(slash + 1, &d) && !d.negative && (d.days || d.seconds);
}

/* Canonical order of RRULE parts (RFC 6321 appendix A, RFC 7529 for RSCALE and SKIP). */
const char *const recur_part_names[] = {"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR",
                                        "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS",
                                        "WKST", "RSCALE", "SKIP"};
const size_t recur_n_parts = sizeof(recur_part_names) / sizeof(recur_part_names[0]);

int recur_part_rank(const char *name)
{
	for (size_t i = 0; i < recur_n_parts; i++)
		if (strcasecmp(name, recur_part_names[i]) == 0)
			return (int)i;
	return -1;
}


/* The range of each integer part of a rule (RFC 5545 3.3.10; INTERVAL is a short in
 * libical), whether it takes a sign, and whether a list. */
struct recur_int_range {
	const char *name;
	long min, max;
	bool signed_, list;
};

static const struct recur_int_range recur_int_ranges[] = {
	{"COUNT", 0, INT32_MAX, false, false},  {"INTERVAL", 1, 32767, false, false},
	{"BYSECOND", 0, 60, false, true},       {"BYMINUTE", 0, 59, false, true},
	{"BYHOUR", 0, 23, false, true},         {"BYMONTHDAY", 1, 31, true, true},
	{"BYYEARDAY", 1, 366, true, true},      {"BYWEEKNO", 1, 53, true, true},
	{"BYMONTH", 1, 12, false, true},        {"BYSETPOS", 1, 366, true, true},
};

static const struct recur_int_range *recur_int_range(const char *name)
{
	for (size_t i = 0; i < sizeof(recur_int_ranges) / sizeof(recur_int_ranges[0]); i++)
		if (strcasecmp(name, recur_int_ranges[i].name) == 0)
			return &recur_int_ranges[i];
	return NULL;
}

bool recur_part_is_int(const char *name)
{
	return recur_int_range(name) != NULL;
}

const char *recur_endless_filter(const struct icalrecurrencetype *r)
{
	if (!recur_is_sub_daily(r))
		return NULL;
	if (recur_has(r->by_month_day))
		return "BYMONTHDAY";
	if (recur_has(r->by_year_day))
		return "BYYEARDAY";
	if (recur_has(r->by_week_no))
		return "BYWEEKNO";
	if (recur_has(r->by_month))
		return "BYMONTH";
	return NULL;
}

const char *recur_rfc_conflict(const struct icalrecurrencetype *r)
{
	bool yearly = r->freq == ICAL_YEARLY_RECURRENCE, monthly = r->freq == ICAL_MONTHLY_RECURRENCE;
	if (recur_has(r->by_week_no) && !yearly)
		return "BYWEEKNO is for FREQ=YEARLY only";
	if (recur_has(r->by_year_day) &&
	    (monthly || r->freq == ICAL_WEEKLY_RECURRENCE || r->freq == ICAL_DAILY_RECURRENCE))
		return "BYYEARDAY cannot be used with FREQ=DAILY, WEEKLY or MONTHLY";
	if (recur_has(r->by_month_day) && r->freq == ICAL_WEEKLY_RECURRENCE)
		return "BYMONTHDAY cannot be used with FREQ=WEEKLY";
	for (int i = 0; r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		if (icalrecurrencetype_day_position(r->by_day[i]) == 0)
			continue;
		if (!yearly && !monthly)
			return "a BYDAY with a number (\"1MO\") is for FREQ=MONTHLY or YEARLY only";
		if (recur_has(r->by_week_no))
			return "a BYDAY with a number (\"1MO\") cannot be used with BYWEEKNO";
	}
	if (recur_has(r->by_set_pos) && !recur_has_by(r))
		return "BYSETPOS needs another BYxxx part to pick from";
	return NULL;
}

const char *recur_unsupported(const struct icalrecurrencetype *r)
{
	if (!recur_has(r->by_set_pos) || recur_is_sub_daily(r))
		return NULL;
	if (r->freq == ICAL_DAILY_RECURRENCE || r->freq == ICAL_WEEKLY_RECURRENCE)
		return "BYSETPOS on a DAILY or WEEKLY rule is not supported: libical 3.0 ignores it";
	if (recur_has(r->by_hour) || recur_has(r->by_minute) || recur_has(r->by_second))
		return "BYSETPOS together with BYHOUR, BYMINUTE or BYSECOND is only supported on rules more "
		       "frequent than daily: libical 3.0 picks the wrong instances";
	return NULL;
}

/* One integer part's value: digits only, in range, nonzero when signed, one value unless
 * a list; with RSCALE (RFC 7529) BYMONTH also takes 13 and a leap month's "L". A value
 * that jCal's integers could not hold unchanged is refused here rather than altered. */
static bool check_recur_ints(const char *name, const char *value, bool rscale, struct buf *err)
{
	const struct recur_int_range *r = recur_int_range(name);
	bool leap_months = rscale && !strcasecmp(name, "BYMONTH");
	long max = leap_months ? 13 : r->max;
	char **items;
	size_t n = split_unescaped(value, ',', &items);
	bool ok = n == 1 || r->list;
	if (!ok)
		buf_printf(err, "%s takes one value", r->name);
	for (size_t i = 0; i < n && ok; i++) {
		const char *p = items[i];
		if (r->signed_ && (*p == '+' || *p == '-'))
			p++;
		size_t n_digits = strspn(p, "0123456789");
		bool leap = leap_months && p[n_digits] && !strcmp(p + n_digits, "L");
		long v = n_digits && n_digits <= 10 ? strtol(p, NULL, 10) : -1;
		ok = n_digits > 0 && (!p[n_digits] || leap) && v >= r->min && v <= max;
		if (!ok)
			buf_printf(err, "%s value '%.20s' is not %s from %ld to %ld", r->name, items[i],
			           r->signed_ ? "an integer, or its negative," : "an integer", r->min, max);
	}
	free_strv(items, n);
	return ok;
}

static bool check_recur(const char *s, struct buf *err)
{
	char **parts;
	size_t n = split_unescaped(s, ';', &parts);
	bool has_freq = false, has_count = false, has_until = false, ok = true;
	bool rscale = false;
	for (size_t i = 0; i < n; i++)
		rscale |= strncasecmp(parts[i], "RSCALE=", 7) == 0;
	uint32_t seen = 0; /* bit r: recur_part_names[r] */
	for (size_t i = 0; i < n && ok; i++) {
		char *eq = strchr(parts[i], '=');
		if (!parts[i][0])
			continue; /* "FREQ=WEEKLY;": an empty part, as some producers write */
		if (!eq) {
			buf_printf(err, "RRULE part '%.100s' has no '='", parts[i]);
			ok = false;
			break;
		}
		*eq = '\0';
		int rank = recur_part_rank(parts[i]);
		if (rank < 0) {
			buf_printf(err, "unknown RRULE part '%.100s'", parts[i]);
			ok = false;
			break;
		}
		/* jCal and xCal hold a rule as one member per part */
		if (seen & (UINT32_C(1) << rank)) {
			buf_printf(err, "part %s is given more than once", recur_part_names[rank]);
			ok = false;
			break;
		}
		seen |= UINT32_C(1) << rank;
		if (recur_part_is_int(parts[i]) && !check_recur_ints(parts[i], eq + 1, rscale, err)) {
			ok = false;
			break;
		}
		has_freq |= strcasecmp(parts[i], "FREQ") == 0;
		has_count |= strcasecmp(parts[i], "COUNT") == 0;
		if (strcasecmp(parts[i], "UNTIL") == 0) {
			struct cal_dt u;
			has_until = true;
			if (!dt_parse(eq + 1, &u)) {
				buf_printf(err, "RRULE UNTIL '%s' is not a DATE or DATE-TIME", eq + 1);
				ok = false;
			}
		}
	}
	free_strv(parts, n);
	if (!ok)
		return false;
	if (!has_freq) {
		buf_puts(err, "RRULE without FREQ");
		return false;
	}
	if (has_count && has_until) {
		buf_puts(err, "RRULE has both COUNT and UNTIL (RFC 5545 3.3.10)");
		return false;
	}
	/* libical's parser is the one that flags a bad rule with X-LIC-ERROR. */
	icalerror_clear_errno();
	struct icalrecurrencetype r = icalrecurrencetype_from_string(s);
	free(r.rscale); /* libical hands its copy of RSCALE to the caller */
	if (r.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
		buf_printf(err, "invalid RRULE '%s'", s);
		icalerror_clear_errno();
		return false;
	}
	const char *filter = recur_endless_filter(&r);
	if (filter) {
		buf_printf(err, "RRULE: a rule recurring more often than daily cannot take %s", filter);
		return false;
	}
	const char *conflict = recur_rfc_conflict(&r);
	if (conflict) {
		buf_printf(err, "RRULE: %s (RFC 5545 3.3.10)", conflict);
		return false;
	}
	const char *unsupported = recur_unsupported(&r);
	if (unsupported) {
		buf_printf(err, "RRULE: %s", unsupported);
		return false;
	}
	return true;
}

/* The same value through libical's parser, which is what sets X-LIC-ERROR when libical
 * reads a file. */
static bool libical_accepts(icalvalue_kind kind, const char *s)
{
	icalerror_clear_errno();
	icalvalue *v = icalvalue_new_from_string(kind, s);
	bool ok = v != NULL && icalerrno == ICAL_NO_ERROR;
	if (v)
		icalvalue_free(v);
	icalerror_clear_errno();
	return ok;
}

static bool check_one(enum vtype t, const char *v, struct buf *err)
{
	struct cal_dt dt;
	struct cal_duration d;
	bool ok = true;
	switch (t) {
	case VT_DATE:
		ok = dt_parse(v, &dt) && dt.is_date && libical_accepts(ICAL_DATE_VALUE, v);
		break;
	case VT_DATE_TIME:
		ok = dt_parse(v, &dt) && !dt.is_date && libical_accepts(ICAL_DATETIME_VALUE, v);
		break;
	case VT_TIME: ok = check_time(v); break;
	case VT_DURATION: ok = duration_parse(v, &d) && libical_accepts(ICAL_DURATION_VALUE, v); break;
	case VT_PERIOD: ok = check_period(v) && libical_accepts(ICAL_PERIOD_VALUE, v); break;
	case VT_RECUR: return check_recur(v, err);
	case VT_UTC_OFFSET: ok = check_utc_offset(v) && libical_accepts(ICAL_UTCOFFSET_VALUE, v); break;
	case VT_INTEGER: ok = check_integer(v); break;
	case VT_FLOAT:
		ok = check_float(v);
		if (!ok && float_syntax(v)) {
			buf_printf(err, "'%.40s...' is beyond the range of a FLOAT", v);
			return false;
		}
		break;
	case VT_BOOLEAN: ok = !strcasecmp(v, "TRUE") || !strcasecmp(v, "FALSE"); break;
	default: break;
	}
	if (!ok)
		buf_printf(err, "'%.100s' is not a valid %s value", v, vtype_name(t));
	return ok;
}

static bool check_rstatus_code(const char *s)
{
	/* statcode = 1*DIGIT 1*2("." 1*DIGIT) */
	int dots = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			dots++;
			if (!isdigit((unsigned char)s[1]))
				return false;
		} else if (!isdigit((unsigned char)*s)) {
			return false;
		}
	}
	return dots >= 1 && dots <= 2;
}

bool value_check(enum vtype t, enum vshape shape, const char *value, struct buf *err)
{
	char **parts;
	size_t n;
	bool ok = true;
	switch (shape) {
	case SHAPE_LIST:
		n = split_unescaped(value, ',', &parts);
		for (size_t i = 0; i < n && ok; i++)
			ok = check_one(t, parts[i], err);
		free_strv(parts, n);
		return ok;
	case SHAPE_GEO:
		if (t != VT_FLOAT)
			return check_one(t, value, err);
		n = split_unescaped(value, ';', &parts);
		ok = n == 2 && check_float(parts[0]) && check_float(parts[1]);
		bool too_far = !ok && n == 2 && float_syntax(parts[0]) && float_syntax(parts[1]);
		free_strv(parts, n);
		if (too_far)
			buf_printf(err, "'%.40s...' is beyond the range of a pair of FLOAT values", value);
		else if (!ok)
			buf_printf(err, "'%.100s' is not a latitude;longitude pair of FLOAT values", value);
		return ok;
	case SHAPE_RSTATUS:
		if (t != VT_TEXT)
			return check_one(t, value, err);
		n = split_unescaped(value, ';', &parts);
		ok = n >= 2 && check_rstatus_code(parts[0]);
		free_strv(parts, n);
		if (!ok)
			buf_printf(err, "'%s' is not a status code;description[;data] value", value);
		return ok;
	default:
		return check_one(t, value, err);
	}
}

/* ---- canonical forms ---- */

static void put_upper(struct buf *out, const char *s)
{
	for (; *s; s++)
		buf_putc(out, (char)toupper((unsigned char)*s));
}

/* text_escape(text_unescape(s)) in one pass, without the unescaped copy: the escapes
 * RFC 5545 defines stay (\N written \n), any other backslash is text and is doubled. */
static void canonical_text(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (s[0] == '\\' && (s[1] == 'n' || s[1] == 'N')) {
			buf_append(out, "\\n", 2);
			s++;
			continue;
		}
		if (s[0] == '\\' && (s[1] == '\\' || s[1] == ';' || s[1] == ',')) {
			buf_append(out, s, 2);
			s++;
			continue;
		}
		text_escape_char(out, *s);
	}
	buf_append(out, "", 0); /* NUL-terminated even when empty */
}

void float_plain(struct buf *out, double x)
{
	char sci[32];
	snprintf(sci, sizeof(sci), "%.14e", x); /* "-d.ddddddddddddddde+XX" */
	const char *p = sci;
	if (*p == '-')
		buf_putc(out, *p++);
	char mantissa[16];
	size_t n = 0;
	for (; *p && *p != 'e'; p++)
		if (isdigit((unsigned char)*p) && n < sizeof(mantissa))
			mantissa[n++] = *p;
	int exponent = *p == 'e' ? atoi(p + 1) : 0;
	while (n > 1 && mantissa[n - 1] == '0')
		n--;
	if (exponent < 0) {
		buf_puts(out, "0.");
		for (int i = -1; i > exponent; i--)
			buf_putc(out, '0');
		buf_append(out, mantissa, n);
		return;
	}
	size_t whole = (size_t)exponent + 1;
	for (size_t i = 0; i < whole; i++)
		buf_putc(out, i < n ? mantissa[i] : '0');
	if (n > whole) {
		buf_putc(out, '.');
		buf_append(out, mantissa + whole, n - whole);
	}
}

static void canonical_float(struct buf *out, const char *s)
{
	if (!check_float(s)) {
		buf_puts(out, s);
		return;
	}
	float_plain(out, strtod(s, NULL));
}

/* A list of integers as jCal gives them back: no '+', no leading zero ("BYMONTHDAY=+01"
 * is "BYMONTHDAY=1"); a leap month's "L" stays. */
static void put_recur_ints(struct buf *out, const char *list)
{
	for (const char *p = list; *p;) {
		if (*p == '-')
			buf_putc(out, *p++);
		else if (*p == '+')
			p++;
		while (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
			p++;
		while (*p && *p != ',')
			buf_putc(out, (char)toupper((unsigned char)*p++));
		if (*p == ',')
			buf_putc(out, *p++);
	}
}

static void canonical_recur(struct buf *out, const char *s)
{
	char **parts;
	size_t n = split_unescaped(s, ';', &parts);
	bool first = true;
	for (int rank = 0; rank <= (int)recur_n_parts; rank++) {
		for (size_t i = 0; i < n; i++) {
			if (!parts[i][0])
				continue;
			char *eq = strchr(parts[i], '=');
			char *name = eq ? xstrndup(parts[i], (size_t)(eq - parts[i])) : xstrdup(parts[i]);
			int r = recur_part_rank(name);
			free(name);
			/* Known parts in canonical order, then the others as they came. */
			if (rank < (int)recur_n_parts ? r != rank : r >= 0)
				continue;
			if (!first)
				buf_putc(out, ';');
			first = false;
			if (eq && r >= 0 && recur_part_is_int(recur_part_names[r])) {
				put_upper(out, recur_part_names[r]);
				buf_putc(out, '=');
				put_recur_ints(out, eq + 1);
			} else {
				put_upper(out, parts[i]);
			}
		}
	}
	free_strv(parts, n);
}

static void canonical_one(struct buf *out, enum vtype t, const char *v, bool checked)
{
	if (!checked) {
		struct buf err = BUF_INIT;
		bool ok = check_one(t, v, &err);
		buf_free(&err);
		if (!ok) {
			buf_puts(out, v);
			return;
		}
	}
	switch (t) {
	case VT_TEXT: canonical_text(out, v); break;
	case VT_DATE:
	case VT_DATE_TIME:
	case VT_TIME:
	case VT_DURATION:
	case VT_PERIOD:
	case VT_BOOLEAN: put_upper(out, v); break;
	case VT_RECUR: canonical_recur(out, v); break;
	case VT_INTEGER: buf_printf(out, "%lld", strtoll(v, NULL, 10)); break;
	case VT_FLOAT: canonical_float(out, v); break;
	default: buf_puts(out, v); break;
	}
}

void value_canonical(struct buf *out, enum vtype t, enum vshape shape, const char *value, bool checked)
{
	char **parts;
	size_t n;
	switch (shape) {
	case SHAPE_LIST:
		n = split_unescaped(value, ',', &parts);
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_putc(out, ',');
			canonical_one(out, t, parts[i], checked);
		}
		free_strv(parts, n);
		break;
	case SHAPE_GEO:
		n = split_unescaped(value, ';', &parts);
		if (n == 2 && t == VT_FLOAT) {
			canonical_float(out, parts[0]);
			buf_putc(out, ';');
			canonical_float(out, parts[1]);
		} else {
			buf_puts(out, value);
		}
		free_strv(parts, n);
		break;
	case SHAPE_RSTATUS:
		n = split_unescaped(value, ';', &parts);
		if (t != VT_TEXT || n < 2) {
			buf_puts(out, value);
		} else {
			buf_puts(out, parts[0]);
			buf_putc(out, ';');
			canonical_text(out, parts[1]);
			if (n > 2) {
				struct buf data = BUF_INIT;
				for (size_t i = 2; i < n; i++)
					buf_printf(&data, "%s%s", i > 2 ? "\\;" : "", parts[i]);
				buf_putc(out, ';');
				canonical_text(out, data.data);
				buf_free(&data);
			}
		}
		free_strv(parts, n);
		break;
	default:
		canonical_one(out, t, value, checked);
	}
	buf_append(out, "", 0); /* NUL-terminated even when empty */
}
