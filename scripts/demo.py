"""demo.py: the main job, once scripts/demo.sh has installed and built everything: a
private PostgreSQL and Prosody on loopback under .state/, calpubsub connected to them,
the sample team calendar loaded, and a subscriber that receives every change live: a
re-import of an edited calendar and a row written with plain SQL. Prosody also serves
the web page (CALPUBSUB_WEB_DIR) with its BOSH endpoint: the banner gives its URL.
Ctrl-C stops everything it started."""

import argparse
import asyncio
import datetime
import os
import signal
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

import harness  # noqa: E402

USERS = ("admin", "alice", "bob")


def banner(env):
    d = env.calpubsub
    print("""
calpubsub is running.
  XMPP server   Prosody, c2s on 127.0.0.1:{c2s}, component port {comp}
  PubSub service {component}
  accounts      {users} (password '{password}'; admin@{domain} is a service admin)
  web page      {web}
                (log in as bob@{domain}, password '{password}'; BOSH at {bosh})
  database      {conninfo}
  logs          {log}
                {prosody_log}
Press Ctrl-C to stop calpubsub, Prosody and PostgreSQL.
""".format(c2s=env.server.c2s_port, comp=env.server.component_port, component=harness.COMPONENT,
           users=", ".join("%s@%s" % (u, harness.DOMAIN) for u in USERS), password=harness.PASSWORD,
           domain=harness.DOMAIN, conninfo=env.postgres.conninfo(), log=d.log, prosody_log=env.server.log,
           web=web_url(env), bosh=env.server.bosh_url()))


def web_url(env):
    if not getattr(env.server, "web_dir", ""):
        return "not served (CALPUBSUB_WEB_DIR is not set: run scripts/demo.sh)"
    return env.server.web_url(jid="bob@" + harness.DOMAIN, node="team")


NS_EVENT = "http://jabber.org/protocol/pubsub#event"
NS_XCAL = "urn:ietf:params:xml:ns:icalendar-2.0"
SAMPLE = os.path.join(TOP, "etc", "sample-calendar.ics")


async def show_service(env):
    """What a client sees: the service's disco#info answer."""
    c = await env.client("alice", resource="demo")
    info = await c["xep_0030"].get_info(jid=harness.COMPONENT, timeout=10)
    print("alice@%s asks %s what it is (XEP-0030 disco#info):" % (harness.DOMAIN, harness.COMPONENT))
    for cat, typ, _lang, name in info["disco_info"]["identities"]:
        print("  identity  %s/%s  %s" % (cat, typ, name))
    pubsub = [f for f in info["disco_info"]["features"] if "#" in f and "pubsub" in f]
    others = sorted(f for f in info["disco_info"]["features"] if f not in pubsub)
    for feature in others:
        print("  feature   %s" % feature)
    print("  feature   http://jabber.org/protocol/pubsub#... (%d PubSub features)" % len(pubsub))


def describe(stanza):
    """One line per change a subscriber is told about."""
    lines = []
    ev = stanza.xml.find("{%s}event" % NS_EVENT)
    items = ev.find("{%s}items" % NS_EVENT) if ev is not None else None
    if items is None:
        return lines
    for child in items:
        kind = child.tag.split("}")[1]
        if kind == "retract":
            lines.append("  - %s removed from %s" % (child.get("id"), items.get("node")))
            continue
        summary = child.find(".//{%s}summary/{%s}text" % (NS_XCAL, NS_XCAL))
        component = child.find(".//{%s}vevent" % NS_XCAL)
        if component is None:
            component = child.find(".//{%s}vtodo" % NS_XCAL)
        dtstart = component.find(".//{%s}dtstart" % NS_XCAL) if component is not None else None
        start = [v for v in dtstart if not v.tag.endswith("parameters")][0] if dtstart is not None else None
        lines.append("  + %s: %s%s" % (items.get("node"), summary.text if summary is not None else child.get("id"),
                                       " (starts %s)" % start.text if start is not None else ""))
    return lines


async def watch(subscriber, seen, seconds):
    """Prints what the subscriber receives during the next seconds."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        for s in subscriber.received[seen:]:
            if s.name == "message":
                for line in describe(s):
                    print(line, flush=True)
        seen = len(subscriber.received)
        await asyncio.sleep(0.1)
    return seen


def edited_sample(path):
    """The sample with the review moved, the offsite removed and a new event added."""
    with open(SAMPLE) as f:
        text = f.read()
    text = text.replace("SUMMARY:Monthly review", "SUMMARY:Monthly review (moved to 16:00)")
    text = text.replace("DTSTART;TZID=Europe/Berlin:20260129T150000", "DTSTART;TZID=Europe/Berlin:20260129T160000")
    start = text.index("BEGIN:VEVENT\nUID:offsite@team.example")
    end = text.index("END:VEVENT", start) + len("END:VEVENT\n")
    text = text[:start] + text[end:]
    text = text.replace("BEGIN:VTODO", "BEGIN:VEVENT\nUID:party@team.example\nDTSTAMP:20260105T080000Z\n"
                        "DTSTART;TZID=Europe/Berlin:20261218T180000\nDURATION:PT3H\nSUMMARY:End-of-year party\n"
                        "END:VEVENT\nBEGIN:VTODO")
    with open(path, "w") as f:
        f.write(text)


async def show_calendar(env):
    d = env.calpubsub
    bob = await env.client("bob", resource="demo")
    print("\n$ calpubsubctl import etc/sample-calendar.ics --node team --owner admin@localhost")
    out = d.ctl("import", SAMPLE, "--node", "team", "--owner", "admin@" + harness.DOMAIN, check=False)
    print("  " + (out.stdout or out.stderr).strip())
    reply = await bob.raw_iq("set", "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='team' "
                             "jid='bob@%s'/></pubsub>" % harness.DOMAIN)
    print("bob@%s subscribes to 'team': %s" % (harness.DOMAIN, reply.get("type")))
    seen = len(bob.received)
    edited = os.path.join(env.root, "team-edited.ics")
    edited_sample(edited)
    print("\n$ calpubsubctl import team-edited.ics --node team   (review moved, offsite removed, party added)")
    out = d.ctl("import", edited, "--node", "team", check=False)
    print("  " + (out.stdout or out.stderr).strip())
    print("bob receives, live:")
    seen = await watch(bob, seen, 1.5)
    print("\n$ psql -c \"INSERT INTO calpubsub_calendar_object (node_name, uid, ics) VALUES ('team', 'sql@demo', ...)\"")
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//demo//psql//EN\r\nBEGIN:VEVENT\r\nUID:sql@demo\r\n"
           "DTSTAMP:%s\r\nDTSTART:%s\r\nDURATION:PT30M\r\nSUMMARY:Written by another application\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n" % (now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%dT%H%M00Z")))
    env.postgres.psql("INSERT INTO calpubsub_calendar_object (node_name, uid, ics) VALUES ('team', 'sql@demo', '%s') "
                      "ON CONFLICT (node_name, uid) DO UPDATE SET ics = EXCLUDED.ics" % ics)
    print("bob receives, live:")
    seen = await watch(bob, seen, 1.5)
    monday = datetime.date.today() - datetime.timedelta(days=datetime.date.today().weekday())
    print("\n$ calpubsubctl occurrences --node team --from %s --to %s   (this week)"
          % (monday, monday + datetime.timedelta(days=7)))
    out = d.ctl("occurrences", "--node", "team", "--from", str(monday), "--to",
                str(monday + datetime.timedelta(days=7)), check=False)
    for line in out.stdout.splitlines():
        start, end, uid, _rid, summary = line.split("\t")
        print("  %s  %s" % (start, summary))
    print("\nbob stays subscribed: import a calendar or write rows now, and watch them arrive here")
    print("and on the web page (%s)." % web_url(env))
    print("  e.g. %s -c %s import YOUR.ics --node team"
          % (os.environ.get("CALPUBSUBCTL_BIN", "calpubsubctl"), d.conf))
    return bob, seen


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", default=os.path.join(TOP, ".state"), help="state directory (default .state)")
    args = parser.parse_args()
    env = harness.Env(root=args.state)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print("starting PostgreSQL and Prosody under %s ..." % env.root)
        env.setup(users=USERS, daemon_settings={"log": {"level": "info"}})
        banner(env)
        await show_service(env)
        bob, seen = await show_calendar(env)
        while not stop.is_set():
            seen = await watch(bob, seen, 0.5)
    finally:
        print("\nstopping calpubsub, Prosody and PostgreSQL ...")
        await env.close_clients()
        statuses = env.teardown()
        print("stopped (calpubsub exit status %s)" % ", ".join(str(s) for s in statuses))


if __name__ == "__main__":
    asyncio.run(main())
