/* tz.c: time zone resolution and wall-clock arithmetic. A VTIMEZONE carried by the
 * object wins over the tz database; IANA names resolve through libical's built-in zones
 * (Debian's libical reads the system tzdata), Windows names through CLDR's table. Local
 * to UTC conversion is our own, because RFC 5545 3.3.5 fixes what ambiguous and
 * nonexistent local times mean and libical's conversion does not follow it. */
#include "src/calendar/internal.h"

#include <stdlib.h>
#include <string.h>

struct zone_entry {
	char *tzid;
	icaltimezone *zone; /* NULL: known to be unresolvable */
	bool owned;
};

struct cal_zones {
	struct zone_entry *v;
	size_t n;
	struct strmap by_tzid; /* tzid -> index in v */
};

struct cal_zones *cal_zones_new(void)
{
	return xcalloc(1, sizeof(struct cal_zones));
}

void cal_zones_free(struct cal_zones *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->n; i++) {
		if (z->v[i].owned)
			icaltimezone_free(z->v[i].zone, 1);
		free(z->v[i].tzid);
	}
	free(z->v);
	strmap_free(&z->by_tzid);
	free(z);
}

static struct zone_entry *find_entry(struct cal_zones *z, const char *tzid)
{
	const size_t *i = strmap_get(&z->by_tzid, tzid);
	return i ? &z->v[*i] : NULL;
}

static void add_entry(struct cal_zones *z, const char *tzid, icaltimezone *zone, bool owned)
{
	z->v = xrealloc(z->v, (z->n + 1) * sizeof(*z->v));
	z->v[z->n].tzid = xstrdup(tzid);
	z->v[z->n].zone = zone;
	z->v[z->n].owned = owned;
	strmap_put(&z->by_tzid, tzid, z->n);
	z->n++;
}

void cal_zones_add_vtimezone(struct cal_zones *z, const struct cal_comp *vtimezone)
{
	const struct cal_prop *tzid = cal_comp_prop(vtimezone, "TZID");
	struct zone_entry *known = tzid ? find_entry(z, tzid->value) : NULL;
	if (!tzid || (known && known->owned))
		return;
	struct buf text = BUF_INIT;
	cal_write_comp(&text, vtimezone);
	icalcomponent *comp = icalparser_parse_string(text.data);
	buf_free(&text);
	icaltimezone *zone = icaltimezone_new();
	if (!comp || !icaltimezone_set_component(zone, comp)) {
		if (comp)
			icalcomponent_free(comp);
		icaltimezone_free(zone, 1);
		return; /* the name may still resolve through the tz database */
	}
	if (known) { /* a name looked up before its VTIMEZONE was seen */
		known->zone = zone;
		known->owned = true;
		return;
	}
	add_entry(z, tzid->value, zone, true);
}

icaltimezone *cal_builtin_zone(const char *tzid)
{
	if (!strcmp(tzid, "UTC") || !strcmp(tzid, "GMT") || !strcmp(tzid, "Etc/UTC") || !strcmp(tzid, "Z"))
		return icaltimezone_get_utc_timezone();
	icaltimezone *zone = icaltimezone_get_builtin_timezone(tzid);
	if (zone)
		return zone;
	if (tzid[0] == '/') {
		/* "/mozilla.org/20050126_1/Europe/Berlin", "/freeassociation.sourceforge.net/..."
		 * and the like: the zone name is the tail after some prefix. */
		for (const char *p = strchr(tzid + 1, '/'); p; p = strchr(p + 1, '/')) {
			zone = icaltimezone_get_builtin_timezone(p + 1);
			if (zone)
				return zone;
		}
	}
	const char *iana = cal_windows_zone_to_iana(tzid);
	return iana ? icaltimezone_get_builtin_timezone(iana) : NULL;
}

icaltimezone *cal_zones_lookup(struct cal_zones *z, const char *tzid)
{
	struct zone_entry *e = find_entry(z, tzid);
	if (e)
		return e->zone;
	icaltimezone *zone = cal_builtin_zone(tzid);
	add_entry(z, tzid, zone, false);
	return zone;
}

/* libical expands zone rules year by year; keep its queries within sane years. */
static int64_t clamp_for_zone(int64_t utc)
{
	const int64_t lo = -5364662400LL; /* 1800-01-01 */
	const int64_t hi = 7258118400LL;  /* 2200-01-01 */
	return utc < lo ? lo : utc > hi ? hi : utc;
}

static int offset_at(icaltimezone *zone, int64_t utc)
{
	struct cal_dt d;
	dt_from_local_seconds(clamp_for_zone(utc), false, &d);
	struct icaltimetype t = icaltime_null_time();
	t.year = d.year;
	t.month = d.month;
	t.day = d.day;
	t.hour = d.hour;
	t.minute = d.minute;
	t.second = d.second;
	t.zone = icaltimezone_get_utc_timezone();
	int is_daylight = 0;
	return icaltimezone_get_utc_offset_of_utc_time(zone, &t, &is_daylight);
}

int64_t zone_utc_to_local(icaltimezone *zone, int64_t utc)
{
	if (!zone || zone == icaltimezone_get_utc_timezone())
		return utc;
	return utc + offset_at(zone, utc);
}

int64_t zone_local_to_utc(icaltimezone *zone, int64_t local)
{
	if (!zone || zone == icaltimezone_get_utc_timezone())
		return local;
	/* The offsets in force two days before and after: transitions are further apart. */
	int before = offset_at(zone, local - 2 * 86400);
	int after = offset_at(zone, local + 2 * 86400);
	int64_t u_before = local - before, u_after = local - after;
	bool before_fits = offset_at(zone, u_before) == before;
	bool after_fits = offset_at(zone, u_after) == after;
	if (before == after) {
		if (before_fits)
			return u_before;
		/* Two transitions within four days: settle on the offset at the guess. */
		return local - offset_at(zone, u_before);
	}
	if (before_fits && after_fits) /* a repeated hour: the first occurrence */
		return u_before < u_after ? u_before : u_after;
	if (before_fits)
		return u_before;
	if (after_fits)
		return u_after;
	return u_before; /* a skipped hour: the offset before the gap */
}

bool prop_instant(struct cal_zones *z, const struct cal_prop *p, int64_t *utc, struct cal_dt *dt, bool *known_zone)
{
	if (!dt_parse(p->value, dt))
		return false;
	const char *tzid = cal_prop_param(p, "TZID");
	icaltimezone *zone = NULL;
	*known_zone = true;
	if (tzid && !dt->is_utc && !dt->is_date) {
		zone = cal_zones_lookup(z, tzid);
		*known_zone = zone != NULL;
	}
	*utc = zone_local_to_utc(zone, dt_local_seconds(dt));
	return true;
}
