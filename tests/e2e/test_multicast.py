"""test_multicast.py: fan-out through the server's XEP-0033 service. With ejabberd's
mod_multicast, one stanza carries many subscribers; every subscriber must still get
exactly what it would get with one stanza each: nothing missed, nothing twice, nothing
of a node it is not subscribed to. Prosody has no such service, and ejabberd without
mod_multicast or calpubsub with server.multicast = false fall back to one stanza per
subscriber; the received sets must be the same."""

import asyncio
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import ET, SLOW, environment, error_of  # noqa: E402

NS_PS = "http://jabber.org/protocol/pubsub"
NS_OWNER = "http://jabber.org/protocol/pubsub#owner"
NS_EVENT = "http://jabber.org/protocol/pubsub#event"
SUBSCRIBERS = 200
NODES = {"open-a": "open", "open-b": "open", "members": "whitelist", "approved": "authorize"}


def received_items(client):
    """[(node, item id, message id)] of every item notification received."""
    out = []
    for s in client.received:
        if s.name != "message":
            continue
        ev = s.xml.find("{%s}event" % NS_EVENT)
        items = ev.find("{%s}items" % NS_EVENT) if ev is not None else None
        if items is None:
            continue
        for it in items.findall("{%s}item" % NS_EVENT):
            out.append((items.get("node"), it.get("id"), s["id"]))
    return out


async def ok(client, payload, iq_type="set"):
    reply = await client.raw_iq(iq_type, payload, timeout=15)
    assert reply.get("type") == "result", ET.tostring(reply, "unicode")[:500]
    return reply


async def connect_all(env, names):
    clients = []
    for chunk in range(0, len(names), 25):
        clients += await asyncio.gather(*(env.client(n, resource="mc", timeout=60) for n in names[chunk:chunk + 25]))
    return clients


async def setup_world(env):
    """300 subscribers over four nodes whose access models make them differ."""
    if getattr(env, "world", None):
        return env.world
    names = ["m%03d" % i for i in range(SUBSCRIBERS)]
    env.server.add_users(names)
    owner = await env.client("alice", resource="owner")
    for node, model in NODES.items():
        reply = await owner.raw_iq("set", "<pubsub xmlns='%s'><create node='%s'/><configure><x xmlns='jabber:x:data' "
                                   "type='submit'><field var='FORM_TYPE' type='hidden'><value>"
                                   "http://jabber.org/protocol/pubsub#node_config</value></field><field "
                                   "var='pubsub#access_model'><value>%s</value></field></x></configure></pubsub>"
                                   % (NS_PS, node, model))
        assert reply.get("type") == "result", ET.tostring(reply, "unicode")[:500]
    rng = random.Random(33)
    members = {n for n in names if rng.random() < 0.4}
    affs = "".join("<affiliation jid='%s@localhost' affiliation='member'/>" % n for n in sorted(members))
    await ok(owner, "<pubsub xmlns='%s'><affiliations node='members'>%s</affiliations></pubsub>" % (NS_OWNER, affs))
    clients = await connect_all(env, names)
    expected = {n: set() for n in names}
    pending = []
    for c, n in zip(clients, names):
        for node in NODES:
            if rng.random() < 0.5:
                continue
            reply = await c.raw_iq("set", "<pubsub xmlns='%s'><subscribe node='%s' jid='%s@localhost'/></pubsub>"
                                   % (NS_PS, node, n), timeout=15)
            if node == "members" and n not in members:
                assert error_of(reply)[1] == "not-allowed", ET.tostring(reply, "unicode")
                continue
            assert reply.get("type") == "result", ET.tostring(reply, "unicode")
            state = reply.find(".//{%s}subscription" % NS_PS).get("subscription")
            if node == "approved":
                assert state == "pending"
                pending.append((n, reply.find(".//{%s}subscription" % NS_PS).get("subid")))
            else:
                expected[n].add(node)
    # the owner approves every other pending request, by answering the approval forms
    for n, subid in pending[::2]:
        owner.send_raw("<message to='%s'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' "
                       "type='hidden'><value>http://jabber.org/protocol/pubsub#subscribe_authorization</value>"
                       "</field><field var='pubsub#subid'><value>%s</value></field><field var='pubsub#node'>"
                       "<value>approved</value></field><field var='pubsub#subscriber_jid'><value>%s@localhost"
                       "</value></field><field var='pubsub#allow'><value>true</value></field></x></message>"
                       % (env.component, subid, n))
        expected[n].add("approved")
    # wait until the approvals are in the database
    approved = len(pending[::2])
    deadline = asyncio.get_running_loop().time() + 10 * SLOW
    while env.postgres.psql("SELECT count(*) FROM calpubsub_subscription s JOIN calpubsub_node n "
                            "ON n.id = s.node_id WHERE n.name = 'approved' AND s.state = 'subscribed'") != str(approved):
        assert asyncio.get_running_loop().time() < deadline, "approvals not applied"
        await asyncio.sleep(0.1)
    env.world = (owner, clients, names, expected)
    return env.world


async def publish_round(env, tag):
    """Three items on every node; returns {node: {item ids}}."""
    owner, clients, names, expected = await setup_world(env)
    published = {}
    for node in NODES:
        published[node] = set()
        for i in range(3):
            item = "%s-%s-%d" % (tag, node, i)
            await ok(owner, "<pubsub xmlns='%s'><publish node='%s'><item id='%s'><entry xmlns='urn:test'>%s</entry>"
                     "</item></publish></pubsub>" % (NS_PS, node, item, item))
            published[node].add(item)
    return published


async def check_round(env, tag, published):
    """Every subscriber has exactly the items of its nodes, once each, and nothing else."""
    owner, clients, names, expected = env.world
    want = {n: {(node, item) for node in expected[n] for item in published[node]} for n in names}
    total = sum(len(w) for w in want.values())
    deadline = asyncio.get_running_loop().time() + 30 * SLOW
    while True:
        got = {n: [(node, item) for node, item, _ in received_items(c) if item.startswith(tag + "-")]
               for c, n in zip(clients, names)}
        if sum(len(g) for g in got.values()) >= total or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # anything extra would arrive now
    got = {n: [(node, item) for node, item, _ in received_items(c) if item.startswith(tag + "-")]
           for c, n in zip(clients, names)}
    for n in names:
        assert sorted(got[n]) == sorted(want[n]), "%s: got %d, want %d (missing %s, extra %s)" % (
            n, len(got[n]), len(want[n]), sorted(want[n] - set(got[n]))[:3], sorted(set(got[n]) - want[n])[:3])
        assert len(got[n]) == len(set(got[n])), "%s got a notification twice" % n
    tap.diag("%d subscribers received exactly their %d notifications" % (len(names), total))


def stanzas_per_change(d, since):
    """[(recipients, stanzas)] of the changes logged after since."""
    return [(int(a), int(b)) for a, b in re.findall(r": (\d+) recipients in (\d+) stanzas", d.log_text()[since:])]


@tap.test
async def batched_delivery_is_exact(env):
    """hundreds of subscribers over nodes with different access models get exactly their notifications"""
    d = env.calpubsub
    await setup_world(env)
    mark = d.log_mark()
    published = await publish_round(env, "r1")
    await check_round(env, "r1", published)
    counts = stanzas_per_change(d, mark)
    assert counts, "no fan-out was logged"
    if env.server.multicast_jid:
        assert "notifications go through %s (XEP-0033)" % env.server.multicast_jid in d.log_text()
        assert all(stanzas < recipients for recipients, stanzas in counts if recipients > 10), counts
    else:
        assert "offers no XEP-0033 multicast service" in d.log_text()
        assert all(stanzas == recipients for recipients, stanzas in counts), counts


@tap.test
async def multicast_turned_off(env):
    """server.multicast = false sends one stanza per subscriber, with the same result"""
    d = env.calpubsub
    await setup_world(env)
    d.stop()
    d.settings["server"]["multicast"] = False
    d.write_config()
    try:
        mark = d.start()
        published = await publish_round(env, "r2")
        await check_round(env, "r2", published)
        counts = stanzas_per_change(d, mark)
        assert counts and all(stanzas == recipients for recipients, stanzas in counts), counts
    finally:
        d.stop()
        d.settings["server"]["multicast"] = True
        d.write_config()
        d.start()


@tap.test
async def without_mod_multicast(env):
    """an ejabberd without mod_multicast: calpubsub notices after reconnecting and falls back"""
    if env.server_kind != "ejabberd":
        tap.diag("Prosody never offers XEP-0033: covered by the first test")
        return
    d = env.calpubsub
    await setup_world(env)
    env.server.multicast = False
    env.server.multicast_jid = None
    env.server.write_config()
    mark = d.log_mark()
    env.server.restart()
    env.clients = []
    env.world = None
    await d.async_wait_log(r"connected to 127\.0\.0\.1:\d+ as ", 30, since=mark)
    await d.async_wait_log("offers no XEP-0033 multicast service", 20, since=mark)
    owner, clients, names, expected = await setup_world_again(env)
    published = await publish_round(env, "r3")
    await check_round(env, "r3", published)
    counts = stanzas_per_change(d, d.log_text().rfind("offers no XEP-0033"))
    assert counts and all(stanzas == recipients for recipients, stanzas in counts), counts


async def setup_world_again(env):
    """After a server restart: reconnect the same subscribers (their subscriptions are in
    calpubsub's database) and recompute what each should get."""
    names = ["m%03d" % i for i in range(SUBSCRIBERS)]
    owner = await env.client("alice", resource="owner2")
    clients = await connect_all(env, names)
    expected = {n: set() for n in names}
    rows = env.postgres.psql("SELECT s.bare_jid || '|' || n.name FROM calpubsub_subscription s JOIN calpubsub_node n "
                             "ON n.id = s.node_id WHERE s.state = 'subscribed'")
    for row in rows.splitlines():
        jid, node = row.split("|")
        user = jid.split("@")[0]
        if user in expected:
            expected[user].add(node)
    env.world = (owner, clients, names, expected)
    return env.world


def main():
    tap.run(environment)


if __name__ == "__main__":
    main()
