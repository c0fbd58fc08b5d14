"""test_expand_vs_python.py: the calendar library's recurrence expansion against an
independent implementation, Debian's python3-recurring-ical-events (2.0.1, on top of
python3-icalendar, dateutil and pytz). Both expand every fixture, object by object, in
the same windows; the occurrences (UID, start, end in UTC) must be identical.

Where the two disagree, RFC 5545 decides, and each disagreement is written down below as
an expectation: what the Python library says, what the RFC says, and the rule that turns
the library's answer into ours. A test fails when C and Python differ in any way no
expectation explains, when an expectation's rule does not turn Python's answer exactly
into ours, or when a documented disagreement is never observed any more (then the
expectation is stale and must go). Prints TAP for automake's tap-driver."""

import datetime
import os
import subprocess
import sys
import traceback
import zoneinfo

import icalendar
import pytz
import recurring_ical_events

SRCDIR = os.environ.get("CALPUBSUB_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.environ.get("CAL_EXPAND_TOOL", "tests/unit/cal_expand_tool")
DATA = os.path.join(SRCDIR, "tests", "data")
FMT = "%Y%m%dT%H%M%SZ"

FIXTURES = ["google.ics", "outlook.ics", "apple.ics", "thunderbird.ics", "dst.ics", "recurrences.ics", "multi.ics"]
WINDOWS = [("20230101T000000Z", "20250101T000000Z"),  # everything in the fixtures
           ("20240325T000000Z", "20240408T000000Z"),  # around Europe's spring-forward
           ("20241101T000000Z", "20241106T000000Z")]  # around America's fall-back


def parse_utc(s):
    return datetime.datetime.strptime(s, FMT).replace(tzinfo=datetime.timezone.utc)


def fmt(dt):
    return dt.astimezone(datetime.timezone.utc).strftime(FMT)


def as_utc(v):
    """A DTSTART/DTEND value from Python: aware, naive (floating: UTC) or a date."""
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return v.astimezone(datetime.timezone.utc)
    return datetime.datetime(v.year, v.month, v.day, tzinfo=datetime.timezone.utc)


# ---- the two implementations ----

def c_occurrences(fixture, start, stop):
    """{uid: sorted [(start, end)]} from the C library."""
    out = subprocess.run([TOOL, "expand", os.path.join(DATA, fixture), start, stop],
                         capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        uid, s, e, _rid = line.split(" ")
        result.setdefault(uid, []).append((parse_utc(s), parse_utc(e)))
    return {uid: sorted(v) for uid, v in result.items()}


def python_calendars(fixture):
    """{uid: icalendar.Calendar holding that object and every VTIMEZONE}."""
    data = open(os.path.join(DATA, fixture), "rb").read()
    # icalendar 4.0.3 rejects a UTF-8 byte order mark; RFC 5545 does not mention one and
    # our reader skips it, so it is removed before Python sees the file.
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # Parsed twice: icalendar learns a VTIMEZONE only when it meets it, and multi.ics
    # uses one before defining it (in another VCALENDAR, as concatenated exports do).
    icalendar.Calendar.from_ical(data, multiple=True)
    cals = icalendar.Calendar.from_ical(data, multiple=True)
    components = [c for cal in cals for c in cal.subcomponents]
    result = {}
    for uid in sorted({str(c["UID"]) for c in components if "UID" in c}):
        cal = icalendar.Calendar()
        for c in components:
            if c.name == "VTIMEZONE" or str(c.get("UID")) == uid:
                cal.add_component(c)
        result[uid] = cal
    return result


def python_occurrences(cal, start, stop):
    """Sorted [(start, end)] from recurring_ical_events, or the exception it raised."""
    try:
        events = recurring_ical_events.of(cal, components=["VEVENT", "VTODO", "VJOURNAL"]) \
            .between(parse_utc(start), parse_utc(stop))
    except Exception as exc:  # the library's failure is itself a documented outcome
        return exc
    out = []
    for ev in events:
        s = ev["DTSTART"].dt
        e = s
        for key in ("DTEND", "DUE", ""):  # VJOURNAL repetitions store their end under ''
            if key in ev:
                e = ev[key].dt if hasattr(ev[key], "dt") else ev[key]
                break
        out.append((as_utc(s), as_utc(e)))
    return sorted(out)


# ---- the documented disagreements ----

def wall(dt, zone):
    return dt.astimezone(zoneinfo.ZoneInfo(zone))


def first_of_repeated_hour(zone):
    """RFC 5545 3.3.5: a local time that occurs twice (the fall-back hour) means its
    first occurrence. pytz's localize(), which icalendar and recurring_ical_events use,
    picks the second (is_dst=False). Rule: instances whose local start lies in the
    repeated hour move one hour earlier, with their end."""
    def rule(occs, cal):
        out = []
        for s, e in occs:
            local = wall(s, zone).replace(tzinfo=None)
            first = local.replace(tzinfo=zoneinfo.ZoneInfo(zone), fold=0)
            second = local.replace(tzinfo=zoneinfo.ZoneInfo(zone), fold=1)
            shift = second.utcoffset() - first.utcoffset()
            if shift and fmt(s) == fmt(second):
                s, e = s + shift, e + shift
            out.append((s, e))
        return sorted(out)
    rule.__doc__ = first_of_repeated_hour.__doc__
    return rule


def nominal_duration(zone):
    """RFC 5545 3.3.6 and 3.8.5.3: the days and weeks of DURATION are nominal (P1D is one
    calendar day: 23 hours on a spring-forward day), hours and less are exact. The library
    adds a timedelta to a pytz time, which makes every day 24 hours. Rule: the end is the
    start's wall clock plus the nominal days, then plus the exact seconds."""
    def rule(occs, cal):
        dur = next(c for c in cal.walk() if "DURATION" in c)["DURATION"].dt
        tz = zoneinfo.ZoneInfo(zone)
        out = []
        for s, _e in occs:
            local = wall(s, zone).replace(tzinfo=None) + datetime.timedelta(days=dur.days)
            end = local.replace(tzinfo=tz).astimezone(datetime.timezone.utc) + datetime.timedelta(seconds=dur.seconds)
            out.append((s, end))
        return sorted(out)
    rule.__doc__ = nominal_duration.__doc__
    return rule


def dtstart_counts(count):
    """RFC 5545 3.3.10: "The DTSTART property value always counts as the first
    occurrence" of COUNT. dateutil counts only the instances matching the rule and the
    library adds DTSTART on top: one instance too many. Rule: the first COUNT."""
    def rule(occs, cal):
        return sorted(occs)[:count]
    rule.__doc__ = dtstart_counts.__doc__
    return rule


def this_and_future(zone, shift_hours, duration_minutes, rid_utc, override_utc):
    """RFC 5545 3.8.4.4 (RECURRENCE-ID;RANGE=THISANDFUTURE): the override applies to its
    instance and every later one; a changed DTSTART shifts them all. The library treats
    the override as one instance only. Rule: later instances shift by the override's
    change of wall-clock time and take its duration."""
    def rule(occs, cal):
        tz = zoneinfo.ZoneInfo(zone)
        limit, override = parse_utc(rid_utc), parse_utc(override_utc)
        out = []
        for s, e in occs:
            if s > limit and s != override:  # the override's own instance is right already
                local = wall(s, zone).replace(tzinfo=None) + datetime.timedelta(hours=shift_hours)
                s = local.replace(tzinfo=tz).astimezone(datetime.timezone.utc)
                e = s + datetime.timedelta(minutes=duration_minutes)
            out.append((s, e))
        return sorted(out)
    rule.__doc__ = this_and_future.__doc__
    return rule


def one_day_for_dates(occs, cal):
    """RFC 5545 3.6.1: a VEVENT whose DTSTART is a DATE, without DTEND or DURATION, lasts
    one day; RFC 4791 9.9 reads a VJOURNAL on a DATE as that whole day. The library gives
    both zero length. Rule: the end is the start plus one day."""
    return sorted((s, s + datetime.timedelta(days=1)) for s, _e in occs)


def until_is_utc(extra_start, minutes):
    """RFC 5545 3.3.10: UNTIL is inclusive and, with a zoned DTSTART, a UTC instant.
    dateutil compares the candidates while they still carry DTSTART's pytz offset (CET
    for a March start), so an April instance (CEST) that starts before UNTIL looks one
    hour later and is dropped. Rule: that last instance is there."""
    def rule(occs, cal):
        s = parse_utc(extra_start)
        return sorted(occs + [(s, s + datetime.timedelta(minutes=minutes))])
    rule.__doc__ = until_is_utc.__doc__
    return rule


def period_rdates(expected):
    """RFC 5545 3.8.5.2 allows RDATE;VALUE=PERIOD. The library cannot mix periods with
    date-times (dateutil raises TypeError comparing a tuple with a datetime). Rule: our
    answer is written out."""
    def rule(occs, cal):
        return sorted((parse_utc(a), parse_utc(b)) for a, b in expected)
    rule.__doc__ = period_rdates.__doc__
    return rule


EXPECTATIONS = {
    ("apple.ics", "5A4E3B2C-1D0F-4E9A-8B7C-6D5E4F3A2B1C"): first_of_repeated_hour("America/New_York"),
    ("dst.ics", "ny-fallback-ambiguous@example.com"): first_of_repeated_hour("America/New_York"),
    ("dst.ics", "berlin-nominal-day@example.com"): nominal_duration("Europe/Berlin"),
    ("dst.ics", "ny-nominal-weekly-day@example.com"): nominal_duration("America/New_York"),
    ("recurrences.ics", "dtstart-not-in-rule@example.com"): dtstart_counts(3),
    ("recurrences.ics", "thisandfuture@example.com"): this_and_future("Europe/Berlin", 2, 90, "20240322T080000Z", "20240322T100000Z"),
    ("thunderbird.ics", "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7"):
        this_and_future("Europe/Berlin", 1, 150, "20240418T170000Z", "20240418T180000Z"),
    ("recurrences.ics", "allday-weekly@example.com"): one_day_for_dates,
    ("thunderbird.ics", "journal-1@example.com"): one_day_for_dates,
    ("google.ics", "3k1f0r9s7vq2kq0e6n5b8h2c1a@google.com"): until_is_utc("20240429T073000Z", 15),
    ("recurrences.ics", "rdates@example.com"): period_rdates([
        ("20240205T150000Z", "20240205T160000Z"),  # DTSTART 10:00 New York
        ("20240212T150000Z", "20240212T160000Z"),  # RDATE 10:00 New York, master's duration
        ("20240226T200000Z", "20240226T210000Z"),  # RDATE 15:00 New York
        ("20240304T140000Z", "20240304T170000Z"),  # PERIOD with an end
        ("20240311T140000Z", "20240311T143000Z"),  # PERIOD with a duration
    ]),
}


def in_window(occs, start, stop):
    a, b = parse_utc(start), parse_utc(stop)
    return [(s, e) for s, e in occs if (s < b and e > a) or (s == e and a <= s < b)]


def show(occs):
    if isinstance(occs, Exception):
        return "%s: %s" % (type(occs).__name__, occs)
    return ", ".join("%s/%s" % (fmt(s), fmt(e)) for s, e in occs) or "(none)"


def main():
    results = []  # (ok, description, diagnostics)
    observed = set()
    for fixture in FIXTURES:
        cals = python_calendars(fixture)
        for start, stop in WINDOWS:
            ours = c_occurrences(fixture, start, stop)
            problems = []
            agreed = 0
            for uid in sorted(set(cals) | set(ours)):
                mine = ours.get(uid, [])
                theirs = python_occurrences(cals[uid], start, stop) if uid in cals else []
                if theirs == mine:
                    agreed += 1
                    continue
                rule = EXPECTATIONS.get((fixture, uid))
                if rule is None:
                    problems.append("%s: C says %s; Python says %s" % (uid, show(mine), show(theirs)))
                    continue
                # Apply the RFC rule to the library's whole answer, then cut to the window.
                whole = python_occurrences(cals[uid], "19700101T000000Z", "21000101T000000Z")
                expected = in_window(rule([] if isinstance(whole, Exception) else whole, cals[uid]), start, stop)
                if expected != mine:
                    problems.append("%s: RFC rule applied to Python's %s gives %s, but C says %s" %
                                    (uid, show(theirs), show(expected), show(mine)))
                else:
                    observed.add((fixture, uid))
            results.append((not problems, "%s in [%s, %s): %d objects agree, %d documented disagreements"
                            % (fixture, start, stop, agreed,
                               sum(1 for f, u in observed if f == fixture)), problems))
    for key in sorted(EXPECTATIONS):
        rule = EXPECTATIONS[key]
        doc = " ".join((rule.__doc__ or "").split()).split(". ")[0]
        results.append((key in observed, "documented disagreement observed: %s %s (%s)" % (key[0], key[1], doc),
                        [] if key in observed else ["never observed: the expectation is stale"]))
    print("1..%d" % len(results))
    failed = 0
    for n, (ok, desc, diags) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
        for d in diags:
            print("# " + d)
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        print("Bail out! " + traceback.format_exc().replace("\n", " | "))
        sys.exit(1)
