"""test_calendar.py: calendars end to end: calpubsubctl import pushes events to
subscribers and a re-import pushes exactly what changed; rows written into PostgreSQL
by another application are published (also those written while calpubsub was down);
xCal and jCal publishing with its errors; time-range, expand and free/busy queries;
export and re-import change nothing."""

import asyncio
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import tap  # noqa: E402
from harness import ET, SRCDIR, environment, error_of  # noqa: E402

NS_PS = "http://jabber.org/protocol/pubsub"
NS_EVENT = "http://jabber.org/protocol/pubsub#event"
NS_XCAL = "urn:ietf:params:xml:ns:icalendar-2.0"
NS_CALDAV = "urn:ietf:params:xml:ns:caldav"
DATA = os.path.join(SRCDIR, "tests", "data")


def ics(*events, calendar_props=""):
    body = "".join(events)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calpubsub tests//EN\r\n%s%sEND:VCALENDAR\r\n"
            % (calendar_props, body))


def vevent(uid, start, summary, extra=""):
    return ("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:%s\r\nDURATION:PT1H\r\n"
            "SUMMARY:%s\r\n%sEND:VEVENT\r\n" % (uid, start, summary, extra))


def write(env, name, text):
    path = os.path.join(env.root, name)
    with open(path, "w", newline="") as f:
        f.write(text)
    return path


def stanza_events(s, node):
    """(kind, item id) of the item notifications of node in stanza s."""
    if s.name != "message":
        return []
    ev = s.xml.find("{%s}event" % NS_EVENT)
    items = ev.find("{%s}items" % NS_EVENT) if ev is not None else None
    if items is None or items.get("node") != node:
        return []
    return [(child.tag.split("}")[1], child.get("id")) for child in items]


def events_of(client, node, since=0):
    """(kind, item id) of the item notifications of node received after index since."""
    return [e for s in client.received[since:] for e in stanza_events(s, node)]


async def subscribe(client, node):
    reply = await client.raw_iq("set", "<pubsub xmlns='%s'><subscribe node='%s' jid='%s'/></pubsub>"
                                % (NS_PS, node, client.boundjid.bare))
    assert reply.get("type") == "result", ET.tostring(reply, "unicode")


async def quiet_period(client, seconds=0.7):
    """Waits until nothing has arrived for a while, and returns the count received."""
    while True:
        n = len(client.received)
        await asyncio.sleep(seconds)
        if len(client.received) == n:
            return n


@tap.test
async def import_pushes_and_reimport_pushes_changes(env):
    """import publishes every object; a re-import with edits pushes exactly what changed"""
    d = env.calpubsub
    bob = await env.client("bob")
    first = write(env, "v1.ics", ics(vevent("a@x", "20240401T100000Z", "Alpha"),
                                     vevent("b@x", "20240402T100000Z", "Bravo"),
                                     vevent("c@x", "20240403T100000Z", "Charlie")))
    out = d.ctl("import", first, "--node", "team", "--owner", "alice@localhost")
    assert "new calendar 'team': 3 added, 0 changed, 0 removed, 0 unchanged" in out.stdout, out.stdout
    await subscribe(bob, "team")
    mark = len(bob.received)
    second = write(env, "v2.ics", ics(vevent("a@x", "20240401T100000Z", "Alpha"),
                                      vevent("b@x", "20240402T110000Z", "Bravo moved"),
                                      vevent("d@x", "20240404T100000Z", "Delta")))
    out = d.ctl("import", second, "--node", "team")
    assert "calendar 'team': 1 added, 1 changed, 1 removed, 1 unchanged" in out.stdout, out.stdout
    await bob.wait_for(lambda s: len(events_of(bob, "team", mark)) >= 3, 10, "three notifications")
    await quiet_period(bob)
    got = sorted(events_of(bob, "team", mark))
    assert got == [("item", "b@x"), ("item", "d@x"), ("retract", "c@x")], got
    # the payload is RFC 6321 xCal with the new summary
    moved = [s for s in bob.received[mark:] if s.name == "message" and "b@x" in str(s)][0]
    summary = moved.xml.find(".//{%s}summary/{%s}text" % (NS_XCAL, NS_XCAL))
    assert summary is not None and summary.text == "Bravo moved", str(moved)
    # the same file again: nothing
    mark = len(bob.received)
    out = d.ctl("import", second, "--node", "team")
    assert "0 added, 0 changed, 0 removed, 3 unchanged" in out.stdout, out.stdout
    await quiet_period(bob)
    assert events_of(bob, "team", mark) == []


@tap.test
async def export_reimport_is_a_noop(env):
    """export then import of the export changes nothing and notifies nobody"""
    d = env.calpubsub
    bob = await env.client("bob", resource="export")
    for fixture in ("google.ics", "outlook.ics", "apple.ics", "thunderbird.ics", "dst.ics", "recurrences.ics",
                    "multi.ics"):
        node = "rt-" + fixture.split(".")[0]
        out = d.ctl("import", os.path.join(DATA, fixture), "--node", node, "--owner", "alice@localhost")
        assert out.returncode == 0, (fixture, out.stderr)
        await subscribe(bob, node)
        mark = len(bob.received)
        exported = os.path.join(env.root, node + ".ics")
        d.ctl("export", "--node", node, "--output", exported)
        out = d.ctl("import", exported, "--node", node, "--json")
        summary = json.loads(out.stdout)
        assert summary["added"] == [] and summary["changed"] == [] and summary["removed"] == [], (fixture, summary)
        assert summary["unchanged"] > 0
        await quiet_period(bob, 0.3)
        assert events_of(bob, node, mark) == [], fixture


@tap.test
async def broken_files_are_refused_whole(env):
    """a malformed file is refused as a whole with file and line, exit 65, nothing written"""
    d = env.calpubsub
    bad = write(env, "bad.ics", ics(vevent("ok-1@x", "20240401T100000Z", "Fine"),
                                    "BEGIN:VEVENT\r\nUID:broken@x\r\nDTSTAMP:20240101T000000Z\r\n"
                                    "DTSTART:20241301T100000Z\r\nSUMMARY:Month 13\r\nEND:VEVENT\r\n"))
    out = d.ctl("import", bad, "--node", "refused", "--owner", "alice@localhost", check=False)
    assert out.returncode == 65, (out.returncode, out.stderr)
    assert re.search(r"bad\.ics:14: error: .*DTSTART", out.stderr), out.stderr
    assert "nothing imported" in out.stderr
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_node WHERE name = 'refused'") == "0"
    # --skip-invalid imports the valid object and names the skipped one with its line
    out = d.ctl("import", bad, "--node", "refused", "--owner", "alice@localhost", "--skip-invalid", check=False)
    assert out.returncode == 0, out.stderr
    assert re.search(r"bad\.ics:14: error", out.stderr) and "1 added" in out.stdout, (out.stdout, out.stderr)
    assert env.postgres.psql("SELECT string_agg(uid, ',') FROM calpubsub_calendar_object "
                             "WHERE node_name = 'refused'") == "ok-1@x"
    for broken in sorted(os.listdir(os.path.join(DATA, "broken"))):
        path = os.path.join(DATA, "broken", broken)
        out = d.ctl("import", path, "--node", "b-" + broken, "--owner", "alice@localhost", "--json", check=False)
        summary = json.loads(out.stdout)
        if out.returncode == 0:
            continue  # some fixtures hold only warnings (an unknown TZID is one)
        assert out.returncode == 65, (broken, out.returncode)
        errors = [x for x in summary["diagnostics"] if x["severity"] == "error"]
        assert errors and all(x["line"] > 0 and x["file"] == path for x in errors), (broken, summary)
    # objects new to the calendar are written while the file is read: one the database
    # refuses (a UID over 1023 bytes) fails the import, and what was written goes with it
    long_uid = write(env, "long-uid.ics", ics(vevent("before@x", "20240401T100000Z", "Before"),
                                              vevent("u" * 1100, "20240402T100000Z", "Long"),
                                              vevent("after@x", "20240403T100000Z", "After")))
    out = d.ctl("import", long_uid, "--node", "long-uid", "--owner", "alice@localhost", check=False)
    assert out.returncode == 1 and "calpubsub_calendar_object_uid_check" in out.stderr, (out.returncode, out.stderr)
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_calendar_object WHERE uid IN ('before@x', 'after@x')") == "0"
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_node WHERE name = 'long-uid'") == "0"
    out = d.ctl("import", "/nonexistent.ics", "--node", "x", check=False)
    assert out.returncode == 66
    out = d.ctl("import", bad, check=False)
    assert out.returncode == 64


@tap.test
async def dry_run_and_keep_missing(env):
    """--dry-run prints the difference and writes nothing; --keep-missing retracts nothing"""
    d = env.calpubsub
    v1 = write(env, "k1.ics", ics(vevent("k1@x", "20240401T100000Z", "One"), vevent("k2@x", "20240402T100000Z", "Two")))
    d.ctl("import", v1, "--node", "keep", "--owner", "alice@localhost")
    v2 = write(env, "k2.ics", ics(vevent("k2@x", "20240402T100000Z", "Two, changed"),
                                  vevent("k3@x", "20240403T100000Z", "Three")))
    out = d.ctl("import", v2, "--node", "keep", "--dry-run")
    assert out.stdout.splitlines()[:3] == ["+ k3@x", "~ k2@x", "- k1@x"], out.stdout
    assert "would update calendar 'keep': 1 added, 1 changed, 1 removed" in out.stdout
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_calendar_object WHERE node_name = 'keep'") == "2"
    out = d.ctl("import", v2, "--node", "keep", "--keep-missing")
    assert "1 added, 1 changed, 0 removed" in out.stdout, out.stdout
    assert env.postgres.psql("SELECT string_agg(uid, ',' ORDER BY uid) FROM calpubsub_calendar_object "
                             "WHERE node_name = 'keep'") == "k1@x,k2@x,k3@x"


@tap.test
async def oversized_object_refuses_the_import(env):
    """an object over the node's pubsub#max_payload_size refuses the whole import, named; nothing is written"""
    d = env.calpubsub
    d.ctl("import", write(env, "z1.ics", ics(vevent("z1@x", "20240401T100000Z", "Small"))), "--node", "sized",
          "--owner", "alice@localhost")
    env.postgres.psql("UPDATE calpubsub_node SET max_payload_size = 2000 WHERE name = 'sized' AND deleted_at IS NULL")
    changes = env.postgres.psql("SELECT count(*) FROM calpubsub_change")
    big = vevent("z3@x", "20240403T100000Z", "Big", extra="DESCRIPTION:" + "long " * 600 + "\r\n")
    out = d.ctl("import", write(env, "z2.ics", ics(vevent("z1@x", "20240401T100000Z", "Small, changed"),
                                                   vevent("z2@x", "20240402T100000Z", "Fine"), big)),
                "--node", "sized", check=False)
    assert out.returncode == 1, (out.returncode, out.stderr)
    assert "z3@x" in out.stderr and "max_payload_size of 2000 bytes" in out.stderr, out.stderr
    assert "z1@x" not in out.stderr and "z2@x" not in out.stderr, out.stderr  # checked exactly, and under
    assert env.postgres.psql("SELECT string_agg(uid || ':' || (ics LIKE '%changed%'), ',') FROM "
                             "calpubsub_calendar_object WHERE node_name = 'sized'") == "z1@x:false"
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_item i JOIN calpubsub_node n ON n.id = i.node_id "
                             "WHERE n.name = 'sized' AND n.deleted_at IS NULL") == "1"
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_change") == changes


@tap.test
async def sql_rows_are_published(env):
    """rows written with plain SQL are published within a second; bad rows are refused"""
    d = env.calpubsub
    bob = await env.client("bob", resource="sql")
    d.ctl("import", write(env, "s.ics", ics(vevent("s0@x", "20240401T100000Z", "Seed"))), "--node", "sqlcal",
          "--owner", "alice@localhost")
    await subscribe(bob, "sqlcal")
    mark = len(bob.received)
    text = ics(vevent("s1@x", "20240405T100000Z", "Written by SQL")).replace("'", "''")
    env.postgres.psql("INSERT INTO calpubsub_calendar_object (node_name, uid, ics) VALUES ('sqlcal', 's1@x', '%s')"
                      % text)
    await bob.wait_for(lambda s: ("item", "s1@x") in events_of(bob, "sqlcal", mark), 2, "the SQL row's notification")
    env.postgres.psql("UPDATE calpubsub_calendar_object SET ics = replace(ics, 'Written by SQL', 'Updated by SQL') "
                      "WHERE uid = 's1@x'")
    await bob.wait_for(lambda s: events_of(bob, "sqlcal", mark).count(("item", "s1@x")) == 2, 2, "the update")
    env.postgres.psql("DELETE FROM calpubsub_calendar_object WHERE uid = 's0@x'")
    await bob.wait_for(lambda s: ("retract", "s0@x") in events_of(bob, "sqlcal", mark), 2, "the retraction")
    # a bad row is refused with its key and does not block the rows after it
    env.postgres.psql("INSERT INTO calpubsub_calendar_object (node_name, uid, ics) VALUES ('sqlcal', 'bad@x', "
                      "'BEGIN:VCALENDAR\nEND:VEVENT')")
    good = ics(vevent("s2@x", "20240406T100000Z", "After the bad one")).replace("'", "''")
    env.postgres.psql("INSERT INTO calpubsub_calendar_object (node_name, uid, ics) VALUES ('sqlcal', 's2@x', '%s')"
                      % good)
    await bob.wait_for(lambda s: ("item", "s2@x") in events_of(bob, "sqlcal", mark), 2, "the row after the bad one")
    assert "calendar row sqlcal/bad@x refused" in d.log_text()
    state = env.postgres.psql("SELECT state || '|' || problem FROM calpubsub_calendar_object WHERE uid = 'bad@x'")
    assert state.startswith("invalid|line "), state
    # a row whose uid is not the UID of its text
    wrong = ics(vevent("other@x", "20240406T100000Z", "Mismatch")).replace("'", "''")
    env.postgres.psql("INSERT INTO calpubsub_calendar_object (node_name, uid, ics) VALUES ('sqlcal', 'mine@x', '%s')"
                      % wrong)
    await d.async_wait_log("calendar row sqlcal/mine@x refused: .*UID", 3)


@tap.test
async def readme_sql_example(env):
    """the psql example of the README works as written"""
    readme = open(os.path.join(SRCDIR, "README.md")).read()
    block = re.search(r"psql calpubsub <<'SQL'\n(.*?)\nSQL\n", readme, re.S).group(1)
    d = env.calpubsub
    bob = await env.client("bob", resource="readme")
    d.ctl("import", write(env, "readme.ics", ics(vevent("seed@readme", "20261101T100000Z", "Seed"))), "--node",
          "team", "--owner", "alice@localhost")
    await subscribe(bob, "team")
    mark = len(bob.received)
    out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                          str(env.postgres.port), "-U", "calpubsub", "calpubsub"], input=block, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert out.returncode == 0, out.stderr
    await bob.wait_for(lambda s: ("retract", "lunch@example.org") in events_of(bob, "team", mark), 5,
                       "the README row published, then retracted")
    assert ("item", "lunch@example.org") in events_of(bob, "team", mark)


async def subscribed_then_stopped(env, node, seed_uid, seed_summary):
    """bob subscribed to a new calendar of one event, then calpubsub stopped: (bob, how many
    stanzas bob had received by then)."""
    d = env.calpubsub
    bob = await env.client("bob", resource=node)
    d.ctl("import", write(env, node + "-seed.ics", ics(vevent(seed_uid, "20240401T100000Z", seed_summary))), "--node",
          node, "--owner", "alice@localhost")
    await subscribe(bob, node)
    mark = len(bob.received)
    assert d.stop() == 0
    return bob, mark


@tap.test
async def sql_rows_written_while_stopped(env):
    """rows written while calpubsub was stopped are published when it starts"""
    d = env.calpubsub
    bob, mark = await subscribed_then_stopped(env, "offline-cal", "w0@x", "Seed")
    for i in range(3):
        text = ics(vevent("w%d@x" % (i + 1), "2024041%dT100000Z" % i, "Written while down %d" % i)).replace("'", "''")
        env.postgres.psql("INSERT INTO calpubsub_calendar_object (node_name, uid, ics) VALUES ('offline-cal', "
                          "'w%d@x', '%s')" % (i + 1, text))
    d.start()
    await bob.wait_for(lambda s: {("item", "w%d@x" % i) for i in (1, 2, 3)} <= set(events_of(bob, "offline-cal", mark)),
                       5, "the three rows")


def summaries_of(client, node, since=0):
    """(item id, SUMMARY) of each xCal item notification of node after index since."""
    out = []
    for s in client.received[since:]:
        items = s.xml.find("{%s}event/{%s}items" % (NS_EVENT, NS_EVENT)) if s.name == "message" else None
        if items is None or items.get("node") != node:
            continue
        for item in items.findall("{%s}item" % NS_EVENT):
            summary = item.find(".//{%s}summary/{%s}text" % (NS_XCAL, NS_XCAL))
            out.append((item.get("id"), summary.text if summary is not None else None))
    return out


@tap.test
async def imports_while_stopped_deliver_every_version(env):
    """imports made while calpubsub is stopped notify every version of an item as it was imported"""
    d = env.calpubsub
    bob, mark = await subscribed_then_stopped(env, "versions", "keep@x", "Kept")
    # The import's change rows refer to the items, stored as their objects' text; the
    # second import replaces one item and removes another before any of them is delivered.
    d.ctl("import", write(env, "ver1.ics", ics(vevent("keep@x", "20240401T100000Z", "Kept"),
                                               vevent("edit@x", "20240402T100000Z", "First version"),
                                               vevent("gone@x", "20240403T100000Z", "Soon removed"))), "--node", "versions")
    d.ctl("import", write(env, "ver2.ics", ics(vevent("keep@x", "20240401T100000Z", "Kept"),
                                               vevent("edit@x", "20240402T100000Z", "Second version"))), "--node", "versions")
    kept = env.postgres.psql("SELECT string_agg(item_id || ':' || (ics LIKE '%SUMMARY:' || CASE item_id "
                             "WHEN 'edit@x' THEN 'First version' ELSE 'Soon removed' END || '%'), ',' ORDER BY item_id) "
                             "FROM calpubsub_change WHERE node_name = 'versions' AND kind = 'publish' AND payload IS NULL "
                             "AND ics IS NOT NULL")
    assert kept == "edit@x:true,gone@x:true", kept  # the two superseded versions were copied into their changes
    d.start()
    await bob.wait_for(lambda s: ("retract", "gone@x") in events_of(bob, "versions", mark), 10, "the retraction")
    await quiet_period(bob)
    assert summaries_of(bob, "versions", mark) == [("edit@x", "First version"), ("gone@x", "Soon removed"),
                                                   ("edit@x", "Second version")], summaries_of(bob, "versions", mark)
    assert events_of(bob, "versions", mark)[-1] == ("retract", "gone@x"), events_of(bob, "versions", mark)
    # delivered and replaced again: nothing more is copied into the change log
    d.ctl("import", write(env, "ver3.ics", ics(vevent("edit@x", "20240402T100000Z", "Third version"))),
          "--node", "versions")
    await bob.wait_for(lambda s: ("edit@x", "Third version") in summaries_of(bob, "versions", mark), 10, "the third")
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_change WHERE node_name = 'versions' AND item_id = 'edit@x' "
                             "AND kind = 'publish' AND ics IS NOT NULL") == "1"


@tap.test
async def imported_items_keep_their_version_when_rows_change(env):
    """imported items and their notifications keep the imported text when SQL rewrites the rows"""
    d = env.calpubsub
    bob, mark = await subscribed_then_stopped(env, "rowver", "seed@x", "Seed")
    d.ctl("import", write(env, "rv.ics", ics(vevent("edit@x", "20240402T100000Z", "Imported"),
                                             vevent("bad@x", "20240403T100000Z", "Imported too"))), "--node", "rowver")
    rewritten = ics(vevent("edit@x", "20240402T100000Z", "Rewritten by SQL")).replace("'", "''")
    env.postgres.psql("UPDATE calpubsub_calendar_object SET ics = '%s' WHERE node_name = 'rowver' AND uid = 'edit@x'"
                      % rewritten)
    env.postgres.psql("UPDATE calpubsub_calendar_object SET ics = 'BEGIN:VCALENDAR\nEND:VEVENT' "
                      "WHERE node_name = 'rowver' AND uid = 'bad@x'")
    kept = env.postgres.psql("SELECT string_agg(item_id || ':' || (ics LIKE '%SUMMARY:Imported%'), ',' ORDER BY item_id) "
                             "FROM calpubsub_item WHERE item_id IN ('edit@x', 'bad@x') AND payload IS NULL")
    assert kept == "bad@x:true,edit@x:true", kept
    d.start()
    await bob.wait_for(lambda s: ("edit@x", "Rewritten by SQL") in summaries_of(bob, "rowver", mark), 10,
                       "the SQL version")
    await quiet_period(bob)
    assert summaries_of(bob, "rowver", mark) == [("bad@x", "Imported too"), ("edit@x", "Imported"),
                                                 ("edit@x", "Rewritten by SQL")], summaries_of(bob, "rowver", mark)
    await d.async_wait_log("calendar row rowver/bad@x refused", 3)
    # the refused row leaves the item as imported; the other one is the SQL version now
    reply = await bob.raw_iq("get", "<pubsub xmlns='%s'><items node='rowver'/></pubsub>" % NS_PS)
    summaries = sorted((i.get("id"), i.find(".//{%s}summary/{%s}text" % (NS_XCAL, NS_XCAL)).text)
                       for i in reply.iter("{%s}item" % NS_PS))
    assert summaries == [("bad@x", "Imported too"), ("edit@x", "Rewritten by SQL")], summaries  # seed@x: not in rv.ics


@tap.test
async def other_writers_between_publishes(env):
    """rows another program commits between calpubsub's own publishes are notified once each, in the log's order; stray NOTIFYs on its channel change nothing"""
    d = env.calpubsub
    pg = env.postgres
    bob = await env.client("bob", resource="mix")
    d.ctl("import", write(env, "mix.ics", ics(vevent("m0@x", "20240401T100000Z", "Seed"))), "--node", "mixcal",
          "--owner", "alice@localhost")
    await subscribe(bob, "mixcal")
    reply = await bob.raw_iq("set", "<pubsub xmlns='%s'><create node='mixplain'/></pubsub>" % NS_PS)
    assert reply.get("type") == "result", ET.tostring(reply, "unicode")
    await subscribe(bob, "mixplain")
    mark = len(bob.received)
    first = int(pg.psql("SELECT coalesce(max(id), 0) FROM calpubsub_change"))
    rows, publishes = 40, 40
    script = []
    for i in range(rows):
        text = ics(vevent("m%02d@x" % (i + 1), "20240402T100000Z", "Row %d" % i)).replace("'", "''")
        script.append("INSERT INTO calpubsub_calendar_object (node_name, uid, ics) VALUES ('mixcal', 'm%02d@x', '%s');"
                      % (i + 1, text))
        if i % 5 == 0:  # wake-ups that name no change, a change far ahead, and one long gone
            script.append("NOTIFY calpubsub_changes, 'hello'; SELECT pg_notify('calpubsub_changes', '999999999'); "
                          "SELECT pg_notify('calpubsub_changes', '1');")
        script.append("SELECT pg_sleep(0.004);")
    writer = subprocess.Popen(["psql", "-X", "-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                               "-p", str(pg.port), "-U", "calpubsub", "calpubsub"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writer.stdin.write("\n".join(script) + "\n")
    writer.stdin.close()
    for i in range(publishes):
        reply = await bob.raw_iq("set", "<pubsub xmlns='%s'><publish node='mixplain'><item id='p%02d'>"
                                        "<x xmlns='urn:test'/></item></publish></pubsub>" % (NS_PS, i))
        assert reply.get("type") == "result", ET.tostring(reply, "unicode")
    assert writer.wait(timeout=30) == 0, writer.stderr.read()

    def received():  # in arrival order, across both nodes
        return [(node, item) for s in bob.received[mark:] for node in ("mixcal", "mixplain")
                for kind, item in stanza_events(s, node) if kind == "item"]

    await bob.wait_for(lambda s: len(received()) >= rows + publishes, 10, "every row's and publish's notification")
    await quiet_period(bob)
    got = received()
    logged = [tuple(line.split("|")) for line in pg.psql(
        "SELECT node_name || '|' || item_id FROM calpubsub_change WHERE id > %d AND kind = 'publish' "
        "AND node_name IN ('mixcal', 'mixplain') ORDER BY id" % first).splitlines()]
    assert len(logged) == rows + publishes, logged
    assert got == logged, "notified in another order than the change log, or not once each:\n%s\n%s" % (got, logged)


@tap.test
async def application_write_during_calpubsub_write_does_not_deadlock(env):
    """an application rewriting an imported event's row while calpubsub replaces its item does not deadlock"""
    d = env.calpubsub
    d.ctl("import", write(env, "lk.ics", ics(vevent("lk@x", "20240402T100000Z", "Locked"))), "--node", "locks",
          "--owner", "alice@localhost")
    pg = env.postgres
    argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "calpubsub",
            "calpubsub"]
    # calpubsub's order: the item first (a publish over it, or its removal), then its object
    mine = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mine.stdin.write("BEGIN;\nSET calpubsub.internal = 'on';\n"
                     "UPDATE calpubsub_item SET payload = '<x xmlns=\"urn:t\"/>' WHERE item_id = 'lk@x';\n"
                     "\\echo item-locked\n")
    mine.stdin.flush()
    assert mine.stdout.readline().strip() == "item-locked"
    app = subprocess.Popen(argv + ["-c", "UPDATE calpubsub_calendar_object SET ics = replace(ics, 'Locked', "
                                         "'Rewritten') WHERE uid = 'lk@x'"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    await asyncio.sleep(0.5)
    mine.stdin.write("UPDATE calpubsub_calendar_object SET ics = ics WHERE uid = 'lk@x';\nCOMMIT;\n")
    mine_out, mine_err = mine.communicate(timeout=20)
    app_out, app_err = app.communicate(timeout=20)
    assert (mine.returncode, app.returncode) == (0, 0), (mine_err, app_err)  # deadlock detected: one of them fails
    assert "SUMMARY:Rewritten" in pg.psql("SELECT ics FROM calpubsub_calendar_object WHERE uid = 'lk@x'")


@tap.test
async def big_items_reply_is_paged(env):
    """an items request over the reply size limit returns the first items and RSM pages to the rest"""
    d = env.calpubsub
    alice = await env.client("alice", resource="paged")
    long_text = "DESCRIPTION:" + "agenda item " * 120 + "\r\n"
    events = [vevent("page-%03d@x" % i, "202405%02dT100000Z" % (1 + i % 28), "Event %d" % i, long_text)
              for i in range(250)]
    out = d.ctl("import", write(env, "paged.ics", ics(*events)), "--node", "paged", "--owner", "alice@localhost")
    assert out.returncode == 0, out.stderr
    NS_RSM = "http://jabber.org/protocol/rsm"
    seen, after, pages = [], None, 0
    while True:
        rsm = "<set xmlns='%s'><after>%s</after></set>" % (NS_RSM, after) if after else ""
        reply = await alice.raw_iq("get", "<pubsub xmlns='%s'><items node='paged'/>%s</pubsub>" % (NS_PS, rsm))
        assert reply.get("type") == "result", ET.tostring(reply, "unicode")[:300]
        items = [i.get("id") for i in reply.iter("{%s}item" % NS_PS)]
        assert all(i.find(".//{%s}description" % NS_XCAL) is not None for i in reply.iter("{%s}item" % NS_PS))
        assert len(ET.tostring(reply)) < 300 * 1024, len(ET.tostring(reply))
        pages += 1
        seen += items
        s = reply.find(".//{%s}set" % NS_RSM)
        if not items or s is None or len(seen) >= 250:
            break
        assert s.findtext("{%s}count" % NS_RSM) == "250", ET.tostring(s, "unicode")
        after = s.findtext("{%s}last" % NS_RSM)
    assert pages >= 2, pages  # the first answer was cut to the reply size
    assert sorted(seen) == sorted("page-%03d@x" % i for i in range(250)), (len(seen), len(set(seen)))


async def publish(client, node, payload, item_id=None):
    attr = " id='%s'" % item_id if item_id else ""
    return await client.raw_iq("set", "<pubsub xmlns='%s'><publish node='%s'><item%s>%s</item></publish></pubsub>"
                               % (NS_PS, node, attr, payload))


XCAL_EVENT = ("<icalendar xmlns='%s'><vcalendar><properties><prodid><text>-//test//EN</text></prodid>"
              "<version><text>2.0</text></version></properties><components><vevent><properties>"
              "<uid><text>{uid}</text></uid><dtstamp><date-time>2024-01-01T00:00:00Z</date-time></dtstamp>"
              "<dtstart><date-time>2024-05-01T10:00:00Z</date-time></dtstart>"
              "<summary><text>{summary}</text></summary></properties></vevent></components></vcalendar>"
              "</icalendar>" % NS_XCAL)


@tap.test
async def xcal_publish(env):
    """xCal published over XMPP is validated and stored like an imported object"""
    d = env.calpubsub
    alice = await env.client("alice", resource="xcal")
    bob = await env.client("bob", resource="xcal")
    d.ctl("import", write(env, "x.ics", ics(vevent("x0@x", "20240401T100000Z", "Seed"))), "--node", "xcal",
          "--owner", "alice@localhost")
    await subscribe(bob, "xcal")
    reply = await publish(alice, "xcal", XCAL_EVENT.format(uid="pub-1@x", summary="Published"), "pub-1@x")
    assert reply.get("type") == "result", ET.tostring(reply, "unicode")
    await bob.wait_for(lambda s: ("item", "pub-1@x") in events_of(bob, "xcal"), 3, "the published event")
    # without an id, the item id is the UID
    reply = await publish(alice, "xcal", XCAL_EVENT.format(uid="pub-2@x", summary="No id"))
    assert reply.find(".//{%s}item" % NS_PS).get("id") == "pub-2@x"
    exported = d.ctl("export", "--node", "xcal").stdout
    assert "UID:pub-1@x" in exported and "SUMMARY:Published" in exported
    cases = [
        (XCAL_EVENT.format(uid="pub-3@x", summary="Wrong id"), "different", "bad-request", "invalid-payload"),
        ("<entry xmlns='http://www.w3.org/2005/Atom'/>", None, "bad-request", "invalid-payload"),
        (XCAL_EVENT.format(uid="pub-4@x", summary="x").replace("<dtstart>", "<dtstart><bogus/>"), None,
         "bad-request", "invalid-payload"),
        (XCAL_EVENT.format(uid="pub-5@x", summary="x").replace("vevent", "vtodo"), None, "bad-request",
         "item-forbidden"),
        (XCAL_EVENT.format(uid="pub-6@x", summary="x").replace(
            "</dtstart>", "</dtstart><rrule><recur><freq>DAILY</freq><byfortnight>1</byfortnight></recur></rrule>"),
         None, "bad-request", "invalid-payload"),
    ]
    # a calendar that takes events only
    owner_cfg = ("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='xcal'>"
                 "<x xmlns='jabber:x:data' type='submit'><field var='x-calpubsub#calendar_components'>"
                 "<value>VEVENT</value></field></x></configure></pubsub>")
    assert (await alice.raw_iq("set", owner_cfg)).get("type") == "result"
    for payload, item_id, cond, app in cases:
        reply = await publish(alice, "xcal", payload, item_id)
        _, got, text, got_app = error_of(reply)
        assert (got, got_app.split("}")[1] if got_app else None) == (cond, app), (payload[:60], got, got_app, text)
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_calendar_object WHERE node_name = 'xcal'") == "3"
    # pubsub#max_payload_size holds for the payload as published, before it is decoded:
    # white space the canonical form would drop still counts
    assert (await alice.raw_iq("set", owner_cfg.replace("x-calpubsub#calendar_components", "pubsub#max_payload_size")
                               .replace("VEVENT", "2000"))).get("type") == "result"
    padded = XCAL_EVENT.format(uid="pub-7@x", summary="Padded").replace("<properties>", "<properties>" + " " * 2000)
    _, got, text, got_app = error_of(await publish(alice, "xcal", padded))
    assert (got, got_app.split("}")[1]) == ("not-acceptable", "payload-too-big"), (got, got_app, text)
    reply = await publish(alice, "xcal", XCAL_EVENT.format(uid="pub-7@x", summary="Plain"))
    assert reply.get("type") == "result", ET.tostring(reply, "unicode")


@tap.test
async def jcal_node(env):
    """a jCal calendar publishes and accepts jCal in XEP-0335 containers"""
    d = env.calpubsub
    alice = await env.client("alice", resource="jcal")
    out = d.ctl("import", write(env, "j.ics", ics(vevent("j0@x", "20240401T100000Z", "Json"))), "--node", "jcal",
                "--owner", "alice@localhost", "--format", "jcal")
    assert out.returncode == 0, out.stderr
    reply = await alice.raw_iq("get", "<pubsub xmlns='%s'><items node='jcal'/></pubsub>" % NS_PS)
    container = reply.find(".//{urn:xmpp:json:0}json")
    data = json.loads(container.text)
    assert data[0] == "vcalendar" and any(p[0] == "summary" and p[3] == "Json" for p in data[2][0][1]), data
    data[2][0][1] = [p if p[0] != "summary" else ["summary", {}, "text", "Json again"] for p in data[2][0][1]]
    payload = "<json xmlns='urn:xmpp:json:0'>%s</json>" % json.dumps(data).replace("&", "&amp;").replace("<", "&lt;")
    reply = await publish(alice, "jcal", payload, "j0@x")
    assert reply.get("type") == "result", ET.tostring(reply, "unicode")
    assert "SUMMARY:Json again" in d.ctl("export", "--node", "jcal").stdout
    reply = await publish(alice, "jcal", XCAL_EVENT.format(uid="j1@x", summary="xcal on a jcal node"))
    assert error_of(reply)[1] == "bad-request"


def calendar_query(node, component="VEVENT", start=None, end=None, expand=False, extra=""):
    tr = ""
    if start or end:
        tr = "<time-range%s%s/>" % (" start='%s'" % start if start else "", " end='%s'" % end if end else "")
    return ("<pubsub xmlns='%s'><items node='%s'><calendar-query xmlns='%s'>%s<filter><comp-filter name='VCALENDAR'>"
            "<comp-filter name='%s'>%s%s</comp-filter></comp-filter></filter></calendar-query></items></pubsub>"
            % (NS_PS, node, NS_CALDAV,
               "<prop xmlns='DAV:'><calendar-data xmlns='%s'><expand/></calendar-data></prop>" % NS_CALDAV
               if expand else "",
               component, tr, extra))


@tap.test
async def time_range_queries(env):
    """time-range queries return the objects with an occurrence in range; expand returns occurrences"""
    d = env.calpubsub
    bob = await env.client("bob", resource="query")
    weekly = vevent("weekly@x", "20240304T090000", "Weekly", "RRULE:FREQ=WEEKLY;COUNT=4\r\n"
                    "EXDATE;TZID=Europe/Berlin:20240318T090000\r\n").replace("DTSTART:", "DTSTART;TZID=Europe/Berlin:")
    weekly += ("BEGIN:VEVENT\r\nUID:weekly@x\r\nDTSTAMP:20240101T000000Z\r\n"
               "RECURRENCE-ID;TZID=Europe/Berlin:20240311T090000\r\nDTSTART;TZID=Europe/Berlin:20240311T140000\r\n"
               "DURATION:PT1H\r\nSUMMARY:Weekly (moved)\r\nEND:VEVENT\r\n")
    d.ctl("import", write(env, "q.ics", ics(weekly, vevent("once@x", "20240320T100000Z", "Once"),
                                           vevent("far@x", "20250101T100000Z", "Far away"))),
          "--node", "query", "--owner", "alice@localhost")
    reply = await bob.raw_iq("get", calendar_query("query", start="20240301T000000Z", end="20240325T000000Z"))
    ids = sorted(i.get("id") for i in reply.iter("{%s}item" % NS_PS))
    assert ids == ["once@x", "weekly@x"], ids
    reply = await bob.raw_iq("get", calendar_query("query", start="2024-03-10T00:00:00Z", end="2024-03-20T00:00:00Z",
                                                   expand=True))
    starts = sorted(e.text for e in reply.iter("{%s}date-time" % NS_XCAL)
                    if e is not None and e.text and e.text.startswith("2024-03-1"))
    # 11 March moved to 14:00 Berlin (13:00Z); 18 March excluded; once@x is on the 20th, outside
    vevents = list(reply.iter("{%s}vevent" % NS_XCAL))
    assert len(vevents) == 1, ET.tostring(reply, "unicode")[:2000]
    dtstart = vevents[0].find(".//{%s}dtstart/{%s}date-time" % (NS_XCAL, NS_XCAL)).text
    assert dtstart == "2024-03-11T13:00:00Z", (dtstart, starts)
    assert vevents[0].find(".//{%s}rrule" % NS_XCAL) is None
    # open-ended ranges
    reply = await bob.raw_iq("get", calendar_query("query", start="20241201T000000Z"))
    assert [i.get("id") for i in reply.iter("{%s}item" % NS_PS)] == ["far@x"]
    # unsupported filters and bad times are refused
    for bad in (calendar_query("query", start="20240301T000000Z", extra="<prop-filter name='SUMMARY'/>"),
                calendar_query("query", component="VALARM", start="20240301T000000Z"),
                calendar_query("query", start="yesterday"),
                calendar_query("query", start="20240301T000000Z", end="20240201T000000Z"),
                "<pubsub xmlns='%s'><items node='query'><calendar-query xmlns='%s'/></items></pubsub>"
                % (NS_PS, NS_CALDAV)):
        etype, cond, text, app = error_of(await bob.raw_iq("get", bad))
        assert cond == "bad-request" and app and NS_CALDAV in app, (cond, app, text)


@tap.test
async def free_busy(env):
    """free/busy: coalesced busy periods, transparent and cancelled events left out"""
    d = env.calpubsub
    bob = await env.client("bob", resource="fb")
    d.ctl("import", write(env, "fb.ics", ics(
        vevent("f1@x", "20240401T090000Z", "First"),
        vevent("f2@x", "20240401T093000Z", "Overlaps"),
        vevent("f3@x", "20240401T120000Z", "Free time", "TRANSP:TRANSPARENT\r\n"),
        vevent("f4@x", "20240401T140000Z", "Cancelled", "STATUS:CANCELLED\r\n"),
        vevent("f5@x", "20240401T160000Z", "Maybe", "STATUS:TENTATIVE\r\n"))), "--node", "fb", "--owner",
        "alice@localhost")
    reply = await bob.raw_iq("get", "<pubsub xmlns='%s'><items node='fb'><free-busy-query xmlns='%s'>"
                             "<time-range start='20240401T000000Z' end='20240402T000000Z'/></free-busy-query>"
                             "</items></pubsub>" % (NS_PS, NS_CALDAV))
    periods = []
    for fb in reply.iter("{%s}freebusy" % NS_XCAL):
        fbtype = fb.find(".//{%s}fbtype/{%s}text" % (NS_XCAL, NS_XCAL))
        for p in fb.iter("{%s}period" % NS_XCAL):
            periods.append((fbtype.text if fbtype is not None else "BUSY", p.find("{%s}start" % NS_XCAL).text,
                            p.find("{%s}end" % NS_XCAL).text))
    assert sorted(periods) == [("BUSY", "2024-04-01T09:00:00Z", "2024-04-01T10:30:00Z"),
                               ("BUSY-TENTATIVE", "2024-04-01T16:00:00Z", "2024-04-01T17:00:00Z")], periods


@tap.test
async def occurrences_command(env):
    """calpubsubctl occurrences prints the same expansion for scripts"""
    d = env.calpubsub
    d.ctl("import", os.path.join(DATA, "outlook.ics"), "--node", "occ", "--owner", "alice@localhost")
    out = d.ctl("occurrences", "--node", "occ", "--from", "2024-03-01", "--to", "2024-04-01", "--json")
    occ = json.loads(out.stdout)
    starts = [o["start"] for o in occ if o["summary"].startswith("Sync with Seattle")]
    # 9:00 Pacific: 17:00Z before the US switch to summer time on 10 March, 16:00Z after
    assert starts[:2] == ["20240305T170000Z", "20240312T160000Z"], starts
    out = d.ctl("occurrences", "--node", "occ", "--from", "2024-04-01", "--to", "2024-03-01", check=False)
    assert out.returncode == 64


@tap.test
async def calendar_disco(env):
    """a calendar node says so in disco#info"""
    d = env.calpubsub
    bob = await env.client("bob", resource="disco")
    d.ctl("import", write(env, "dc.ics", ics(vevent("dc@x", "20240401T100000Z", "Disco"))), "--node", "disco-cal",
          "--owner", "alice@localhost")
    info = await bob.raw_iq("get", "<query xmlns='http://jabber.org/protocol/disco#info' node='disco-cal'/>")
    features = {f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")}
    assert "urn:xmpp:tmp:calendar:0" in features, features


@tap.test
async def hundred_thousand_events(env):
    """a file of 100,000 events imports in one command within 2 GiB of address space"""
    d = env.calpubsub
    sanitized = harness.built_with_sanitizers()
    # Under ASan libical's many small allocations make the parse some ten times slower and the
    # address-space bound cannot hold ASan's shadow: there the same import runs on a fifth of
    # the file, unbounded; the plain build checks the full file and the bound.
    count = 20000 if sanitized else 100000
    path = os.path.join(env.root, "big.ics")
    with open(path, "w", newline="") as f:
        f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calpubsub tests//EN\r\n")
        for i in range(count):
            f.write(vevent("big-%06d@x" % i, "2024%02d%02dT%02d0000Z" % (1 + i % 12, 1 + i % 28, i % 24),
                           "Event %d" % i, "RRULE:FREQ=WEEKLY;COUNT=3\r\n" if i % 10 == 0 else ""))
        f.write("END:VCALENDAR\r\n")
    argv = [harness.CALPUBSUBCTL_BIN, "-c", d.conf, "import", path, "--node", "big", "--owner", "alice@localhost"]
    if not sanitized:
        argv = ["prlimit", "--as=%d" % (2 << 30), "--"] + argv
    started = time.monotonic()
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=900)
    tap.diag("%d events imported in %.1f s" % (count, time.monotonic() - started))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "%d added" % count in out.stdout, out.stdout
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_item i JOIN calpubsub_node n ON n.id = i.node_id "
                             "WHERE n.name = 'big'") == str(count)


def main():
    tap.run(environment)


if __name__ == "__main__":
    main()
