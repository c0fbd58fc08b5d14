"""test_web_page.py: the web page (src/web) in a real browser: headless Chromium, driven
through playwright-core by tests/web/driver.cjs, opens the page from the private XMPP
server's HTTP server, logs in over BOSH, lists the calendars, subscribes, shows the
sample team calendar's week in the browser's time zone (New York here, the sample is
in Berlin), and follows, live and without a reload, an import, an SQL write, an SQL
delete, a re-import without an event, an xCal publish, and the XMPP server going away
and coming back. Wrong passwords and forbidden calendars are shown on the page. Every
check reads the page's DOM; waits have deadlines, never fixed sleeps. It runs once per
server of CALPUBSUB_TEST_SERVERS, Prosody (mod_bosh, mod_http_files) and ejabberd
(mod_bosh, mod_http_fileserver) by default, with the same checks. The last screenshot
of each server is left in the build tree as tests/web/screenshot-SERVER.png."""

import asyncio
import contextlib
import json
import os
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import tap  # noqa: E402
from harness import DOMAIN, ET, PASSWORD, SLOW, SRCDIR, environment  # noqa: E402

NS_PS = "http://jabber.org/protocol/pubsub"
NS_XCAL = "urn:ietf:params:xml:ns:icalendar-2.0"
SAMPLE = os.path.join(SRCDIR, "etc", "sample-calendar.ics")
BUILDDIR = os.environ.get("CALPUBSUB_BUILDDIR", os.getcwd())
SCREENSHOT = os.path.join(BUILDDIR, "tests", "web", "screenshot-%s.png")
# The week of the sample calendar's offsite; its stand-ups are on Monday, Wednesday
# and Friday at 09:30 Berlin, 03:30 in New York.
WEEK = "2026-12-07"
# seconds from a change to the page showing it (Browser.wait scales it by SLOW: the
# plain build is held to it, the sanitizer and valgrind runs get their margin)
LIVE_DEADLINE = 2.0

# What the agenda shows: {date: [text of each event]}, one line per event.
AGENDA_JS = """(() => Object.fromEntries(Array.from(document.querySelectorAll('#agenda .day'),
    d => [d.dataset.date, Array.from(d.querySelectorAll('.event'),
          e => e.innerText.replace(/\\s+/g, ' ').trim())])))()"""

# The page's own state, for the diagnostics of a failed wait
STATE_JS = """(() => { const s = window.calpubsubPage.state; return JSON.stringify({node: s.node,
    subscription: s.subscription, refreshing: s.refreshing, refreshAgain: s.refreshAgain,
    queryGeneration: s.queryGeneration, occurrences: s.occurrences.length, attempt: s.attempt,
    lastProblem: s.lastProblem, online: !!s.conn}); })()"""


class Browser:
    """The Node.js driver process: one command in, one JSON answer out."""

    def __init__(self, proc):
        self.proc = proc

    @classmethod
    async def start(cls):
        node = os.environ.get("NODE") or "node"
        proc = await asyncio.create_subprocess_exec(node, os.path.join(HERE, "driver.cjs"),
                                                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                    stderr=None)
        browser = cls(proc)
        # Not the machine's zone, and not the calendar's: times must be converted.
        version = await browser.call("launch", timezoneId="America/New_York", locale="en-GB", timeout=60)
        tap.diag("Chromium %s, time zone America/New_York" % version)
        return browser

    async def call(self, op, timeout=30, **args):
        self.proc.stdin.write((json.dumps(dict(op=op, **args)) + "\n").encode())
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout * SLOW)
        if not line:
            raise RuntimeError("the browser driver exited (status %s)" % await self.proc.wait())
        reply = json.loads(line)
        if not reply["ok"]:
            raise RuntimeError("browser %s failed: %s" % (op, reply["error"]))
        return reply["value"]

    async def js(self, expression):
        return await self.call("evaluate", expression=expression)

    async def wait(self, expression, what, timeout=10.0, check=None):
        """Evaluates expression in the page until check(value) (default: truthy) holds;
        returns the value and the seconds it took."""
        check = check or bool
        started = time.monotonic()
        deadline = started + timeout * SLOW
        value = None
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if check(value):
                return value, time.monotonic() - started
            await asyncio.sleep(0.05)
        raise AssertionError("the page did not show %s within %.1f s; it shows:\n%s\nstatus: %s\nerror: %s\n"
                             "state: %s\nactivity: %s"
                             % (what, timeout * SLOW, json.dumps(value, indent=1)[:3000], await self.status(),
                                await self.js("document.getElementById('error').textContent"),
                                await self.js(STATE_JS), await self.js("document.getElementById('activity').innerText")))

    async def agenda(self, what, check, timeout=10.0):
        return await self.wait(AGENDA_JS, what, timeout, check)

    async def status(self):
        return await self.js("[document.getElementById('status').dataset.state,"
                             " document.getElementById('status').textContent]")

    async def wait_status(self, state, what, timeout=10.0, text=""):
        return await self.wait("[document.getElementById('status').dataset.state,"
                               " document.getElementById('status').textContent]", what, timeout,
                               lambda v: v[0] == state and text in v[1])

    async def login(self, url, user, password=PASSWORD):
        assert await self.call("goto", url=url) == 200
        await self.call("fill", selector="#jid", value="%s@%s" % (user, DOMAIN))
        await self.call("fill", selector="#password", value=password)
        await self.call("click", selector="#login-button")

    async def close(self):
        with contextlib.suppress(Exception):
            await self.call("close", timeout=20)
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@contextlib.asynccontextmanager
async def web_environment(server="prosody"):
    async with environment(server=server) as env:
        env.browser = await Browser.start()
        try:
            yield env
        finally:
            await env.browser.close()


def events_on(agenda, day, needle):
    return [e for e in agenda.get(day, []) if needle in e]


def ics_event(uid, start, summary, duration="PT30M"):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calpubsub web test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
            "DTSTAMP:20261101T000000Z\r\nDTSTART:%s\r\nDURATION:%s\r\nSUMMARY:%s\r\nEND:VEVENT\r\n"
            "END:VCALENDAR\r\n" % (uid, start, duration, summary))


def edited_sample(env, name, drop_offsite=False):
    """The sample with the stand-up moved to room 5 and an evening party on Thursday."""
    with open(SAMPLE) as f:
        text = f.read()
    text = text.replace("LOCATION:Room 2 / video", "LOCATION:Room 5")
    text = text.replace("BEGIN:VTODO", "BEGIN:VEVENT\nUID:party@team.example\nDTSTAMP:20261105T080000Z\n"
                        "DTSTART;TZID=Europe/Berlin:20261210T180000\nDURATION:PT3H\nSUMMARY:End-of-year party\n"
                        "END:VEVENT\nBEGIN:VTODO")
    if drop_offsite:
        start = text.index("BEGIN:VEVENT\nUID:offsite@team.example")
        end = text.index("END:VEVENT", start) + len("END:VEVENT\n")
        text = text[:start] + text[end:]
    path = os.path.join(env.root, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def page_url(env, **query):
    return env.server.web_url(jid="bob@" + DOMAIN, **query)


@tap.test
async def page_is_served(env):
    """the XMPP server serves the page and the vendored Strophe.js beside its BOSH endpoint"""
    url = env.server.web_url()
    with urllib.request.urlopen(url, timeout=10) as r:
        html = r.read().decode()
    assert 'src="calendar.js"' in html, html[:500]
    with urllib.request.urlopen(url + "vendor/strophe.esm.js", timeout=10) as r:
        assert "javascript" in r.headers.get("Content-Type", ""), r.headers
        assert b"Strophe" in r.read(4096)
    # the BOSH endpoint answers on the same origin
    with urllib.request.urlopen(env.server.bosh_url(), timeout=10) as r:
        assert r.status == 200


@tap.test
async def wrong_password_is_shown(env):
    """a wrong password is said on the page, and the page does not retry it"""
    b = env.browser
    await b.login(page_url(env), "bob", "not-the-password")
    await b.wait("document.getElementById('error').textContent", "the login error", 10,
                 lambda t: "wrong Jabber ID or password" in t)
    state, _ = await b.status()
    assert state == "error", state
    assert await b.js("!document.getElementById('login-button').hidden")


@tap.test
async def week_in_browser_time_zone(env):
    """log in, list the calendars, subscribe, and show the week in the browser's time zone"""
    d = env.calpubsub
    d.ctl("import", SAMPLE, "--node", "team", "--owner", "admin@" + DOMAIN)
    # a node that is not a calendar is not listed
    admin = await env.client("admin", resource="web")
    reply = await admin.raw_iq("set", "<pubsub xmlns='%s'><create node='not-a-calendar'/></pubsub>" % NS_PS)
    assert reply.get("type") == "result", ET.tostring(reply, "unicode")
    b = env.browser
    await b.login(page_url(env, node="team", **{"from": WEEK}), "bob")
    await b.wait_status("online", "the connected state", 15, "Connected as bob@" + DOMAIN)
    calendars, _ = await b.wait("Array.from(document.querySelectorAll('#calendars button'), b => b.dataset.node)",
                                "the calendar list", 10)
    assert calendars == ["team"], calendars
    await b.wait("document.getElementById('subscription').textContent", "the subscription", 10,
                 lambda t: t.startswith("Subscribed"))
    agenda, took = await b.agenda("the sample's week", lambda a: len(a.get("2026-12-11", [])) == 1)
    tap.diag("first week shown %.2f s after the subscription" % took)
    # stand-ups at 09:30-09:45 Berlin are 03:30-03:45 in New York, Monday, Wednesday, Friday
    for day in ("2026-12-07", "2026-12-09", "2026-12-11"):
        assert events_on(agenda, day, "03:30 – 03:45 Stand-up Room 2 / video"), (day, agenda)
    # the two-day offsite (DTEND 11 December, exclusive) on Wednesday and Thursday only
    assert events_on(agenda, "2026-12-09", "All day · day 1 of 2 Team offsite"), agenda
    assert events_on(agenda, "2026-12-10", "All day · day 2 of 2 Team offsite"), agenda
    assert not events_on(agenda, "2026-12-11", "offsite") and not events_on(agenda, "2026-12-08", "offsite")
    assert agenda["2026-12-08"] == [] and agenda["2026-12-12"] == [] and agenda["2026-12-13"] == [], agenda
    # all-day events come first in a day
    assert agenda["2026-12-09"][0].startswith("All day"), agenda["2026-12-09"]
    assert "America/New_York" in await b.js("document.getElementById('timezone').textContent")
    assert await b.js("document.compatMode") == "CSS1Compat"  # standards mode, not quirks
    # the subscription is bob's bare JID's, as calpubsub sees it
    subs = env.postgres.psql("SELECT s.jid FROM calpubsub_subscription s JOIN calpubsub_node n ON n.id = s.node_id "
                             "WHERE n.name = 'team'")
    assert subs == "bob@" + DOMAIN, subs
    # marks this page load: a reload would lose it
    await b.js("window.loadMark = 'still the same page'")


async def expect_live(b, what, check):
    """The page shows check() within LIVE_DEADLINE seconds, without a reload."""
    agenda, took = await b.agenda(what, check, timeout=LIVE_DEADLINE)
    assert await b.js("window.loadMark") == "still the same page", "the page was reloaded"
    tap.diag("%s: on the page after %.2f s" % (what, took))
    return agenda


@tap.test
async def import_shows_live(env):
    """a re-import with changes shows on the page within 2 s"""
    env.calpubsub.ctl("import", edited_sample(env, "edited.ics"), "--node", "team")
    agenda = await expect_live(env.browser, "the re-import",
                               lambda a: events_on(a, "2026-12-10", "End-of-year party")
                               and events_on(a, "2026-12-11", "Room 5"))
    # 18:00-21:00 Berlin is 12:00-15:00 in New York
    assert events_on(agenda, "2026-12-10", "12:00 – 15:00 End-of-year party"), agenda
    assert all(events_on(agenda, d, "Stand-up Room 5") for d in ("2026-12-07", "2026-12-09", "2026-12-11")), agenda
    activity = await env.browser.js("document.getElementById('activity').innerText")
    assert 'Published: "End-of-year party"' in activity and 'Changed: "Stand-up"' in activity, activity


@tap.test
async def sql_rows_show_live(env):
    """a row written with SQL shows within 2 s, and disappears within 2 s of its DELETE"""
    b = env.browser
    ics = ics_event("sql@web", "20261208T150000Z", "Written with SQL").replace("'", "''")
    env.postgres.psql("INSERT INTO calpubsub_calendar_object (node_name, uid, ics) VALUES ('team', 'sql@web', '%s')"
                      % ics)
    agenda = await expect_live(b, "the SQL row", lambda a: events_on(a, "2026-12-08", "Written with SQL"))
    assert events_on(agenda, "2026-12-08", "10:00 – 10:30 Written with SQL"), agenda
    env.postgres.psql("DELETE FROM calpubsub_calendar_object WHERE node_name = 'team' AND uid = 'sql@web'")
    await expect_live(b, "the SQL DELETE", lambda a: a.get("2026-12-08") == [])
    activity = await b.js("document.getElementById('activity').innerText")
    assert 'Removed: "Written with SQL"' in activity, activity


@tap.test
async def reimport_without_event_removes_it(env):
    """an event left out of a re-import disappears within 2 s"""
    env.calpubsub.ctl("import", edited_sample(env, "no-offsite.ics", drop_offsite=True), "--node", "team")
    await expect_live(env.browser, "the offsite removed",
                      lambda a: not events_on(a, "2026-12-09", "offsite") and not events_on(a, "2026-12-10", "offsite")
                      and events_on(a, "2026-12-10", "End-of-year party"))


@tap.test
async def xcal_publish_shows_live(env):
    """an event published as xCal over XMPP shows within 2 s"""
    admin = await env.client("admin", resource="xcal")
    xcal = ("<icalendar xmlns='%s'><vcalendar><properties><prodid><text>-//web test//EN</text></prodid>"
            "<version><text>2.0</text></version></properties><components><vevent><properties>"
            "<uid><text>xcal@web</text></uid><dtstamp><date-time>2026-11-01T00:00:00Z</date-time></dtstamp>"
            "<dtstart><date-time>2026-12-12T14:00:00Z</date-time></dtstart>"
            "<dtend><date-time>2026-12-12T15:00:00Z</date-time></dtend>"
            "<summary><text>Published as xCal</text></summary></properties></vevent></components></vcalendar>"
            "</icalendar>" % NS_XCAL)
    reply = await admin.raw_iq("set", "<pubsub xmlns='%s'><publish node='team'><item id='xcal@web'>%s</item>"
                               "</publish></pubsub>" % (NS_PS, xcal))
    assert reply.get("type") == "result", ET.tostring(reply, "unicode")
    agenda = await expect_live(env.browser, "the xCal publish",
                               lambda a: events_on(a, "2026-12-12", "Published as xCal"))
    assert events_on(agenda, "2026-12-12", "09:00 – 10:00 Published as xCal"), agenda


@tap.test
async def server_down_and_back(env):
    """the XMPP server going away is shown, the page reconnects by itself and is live again"""
    b = env.browser
    await env.close_clients()  # the test's own XMPP clients would lose their stream too
    mark = env.calpubsub.log_mark()
    env.server.stop()
    _, took = await b.wait_status("reconnecting", "the lost connection", 10, "does not answer")
    tap.diag("loss shown after %.2f s: %s" % (took, (await b.status())[1]))
    await b.wait("document.body.dataset.stale", "the week marked out of date", 5, lambda v: v == "true")
    env.server.start()
    # the page's backoff doubles up to 30 s (calendar.js): a server that is slow to
    # come back can cost it one whole step more
    _, took = await b.wait_status("online", "the reconnected state", 50, "Connected as bob@")
    tap.diag("online again %.2f s after %s started" % (took, env.server_kind))
    # the page subscribes again after every connect; the week stays on the page meanwhile
    assert events_on(await b.js(AGENDA_JS), "2026-12-12", "Published as xCal")
    await b.wait("document.getElementById('subscription').textContent", "the subscription again", 10,
                 lambda t: t.startswith("Subscribed"))
    # calpubsub reconnects to the server on its own; wait for it, then a change must show
    await env.calpubsub.async_wait_log(r"connected to 127\.0\.0\.1:\d+ as ", 10, since=mark)
    ics = ics_event("after@web", "20261213T170000Z", "After the restart").replace("'", "''")
    env.postgres.psql("INSERT INTO calpubsub_calendar_object (node_name, uid, ics) VALUES ('team', 'after@web', '%s')"
                      % ics)
    await expect_live(b, "a row after the reconnect", lambda a: events_on(a, "2026-12-13", "12:00 – 12:30 After"))
    await b.wait("document.body.dataset.stale", "the week up to date", 5, lambda v: v == "false")
    path = SCREENSHOT % env.server_kind
    await b.call("screenshot", path=path)
    tap.diag("screenshot: %s" % path)


@tap.test
async def forbidden_calendar_is_shown(env):
    """a calendar the user may not read is an error on the page, not a blank week"""
    d = env.calpubsub
    d.ctl("import", SAMPLE, "--node", "private", "--owner", "alice@" + DOMAIN)
    alice = await env.client("alice", resource="web")
    reply = await alice.raw_iq("set", "<pubsub xmlns='%s#owner'><configure node='private'>"
                               "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                               "<value>http://jabber.org/protocol/pubsub#node_config</value></field>"
                               "<field var='pubsub#access_model'><value>whitelist</value></field></x>"
                               "</configure></pubsub>" % NS_PS)
    assert reply.get("type") == "result", ET.tostring(reply, "unicode")
    b = env.browser
    await b.login(page_url(env, node="private", **{"from": WEEK}), "bob")
    await b.wait_status("online", "the connected state", 15)
    error, _ = await b.wait("document.getElementById('error').textContent", "the refusal", 10,
                            lambda t: 'Could not subscribe to "private"' in t)
    tap.diag("the page says: " + error)
    calendars = await b.js("Array.from(document.querySelectorAll('#calendars button'), b => b.dataset.node)")
    assert "private" not in calendars, calendars
    agenda = await b.js(AGENDA_JS)
    assert not any(agenda.values()), agenda


@tap.test
async def calpubsub_down_at_login(env):
    """calpubsub away at login is said on the page, which finds the calendars once it is back"""
    d = env.calpubsub
    assert d.stop() == 0
    b = env.browser
    await b.login(page_url(env, node="team", **{"from": WEEK}), "bob")
    await b.wait_status("online", "the connected state", 15)
    error, _ = await b.wait("document.getElementById('error').textContent", "the service error", 10,
                            lambda t: "is calpubsub running?" in t)
    tap.diag("the page says: " + error)
    d.start()
    await b.wait("Array.from(document.querySelectorAll('#calendars button'), b => b.dataset.node)",
                 "the calendar list once calpubsub is back", 15, lambda v: "team" in v)
    await b.agenda("the week once calpubsub is back", lambda a: events_on(a, "2026-12-11", "Stand-up"))
    assert await b.js("document.getElementById('error').hidden")


def main():
    # once per server of CALPUBSUB_TEST_SERVERS (Prosody and ejabberd by default), each
    # serving the page and BOSH on one origin
    tap.run(web_environment)


if __name__ == "__main__":
    main()
