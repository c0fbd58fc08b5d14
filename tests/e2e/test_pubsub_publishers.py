"""test_pubsub_publishers.py: the XEP-0060 publisher use cases end to end: publish with and
without an item id, re-publish, retract and its notifications, item shapes on persistent,
transient and notification-only nodes, publish-options preconditions and auto-create,
pubsub#max_items with every publish_node_full behaviour, item expiry done by calpubsub
itself, payload size limits, and the node options that shape notifications."""

import contextlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import SLOW, environment  # noqa: E402
from pubsub_lib import (shared_clients, NS_DELAY, NS_EVENT, NS_PS, app_feature, attr, create, err,  # noqa: E402
                        event_kind, get_config, get_items, item_ids, jid, mark, messages, notified_items,
                        notified_retracts, ok, payload, ps, publish, published_id, retract, set_affiliations,
                        subscribe, uid, wait_msg)

USERS = ("alice", "bob", "carol", "dave", "admin")


async def clients(env):
    return await shared_clients(env, {
        "alice": "alice",  # owner
        "bob": "bob",      # publisher
        "carol": "carol",  # subscriber
        "dave": "dave",    # nobody
    }, barrier=True)


async def node_with(s, config=None, publishers=("bob",), subscribers=("carol",)):
    node = uid()
    await create(s.alice, node, config)
    if publishers:
        ok(await set_affiliations(s.alice, node, [(jid(u), "publisher") for u in publishers]))
    for u in subscribers:
        ok(await subscribe(getattr(s, u), node))
    return node


def payload_title(stanza_or_el, ns="urn:example:payload"):
    el = stanza_or_el.xml if hasattr(stanza_or_el, "xml") else stanza_or_el
    t = el.find(".//{%s}title" % ns)
    return t.text if t is not None else None


@tap.test
async def publish_and_notify(env):
    """publish with and without an id: the id is returned, subscribers get the payload at once"""
    s = await clients(env)
    node = await node_with(s)
    m = mark(s.carol)
    started = time.monotonic()
    r = ok(await publish(s.bob, node, "first", payload("one")), "publish with id")
    assert published_id(r) == "first", "the reply names the item (checklist P10)"
    assert r.find(".//{%s}publish" % NS_PS).get("node") == node
    n = await wait_msg(s.carol, lambda x: notified_items(x, node) == ["first"], m)
    latency = time.monotonic() - started
    # regression: notifications used to wait for the next timer, up to a second
    assert latency < 0.5 * SLOW, "the notification took %.2f s" % latency
    assert payload_title(n) == "one"
    item = n.xml.find(".//{%s}item" % NS_EVENT)
    assert item.get("publisher") is None, "no publisher attribute unless itemreply=publisher"
    first_id = n["id"]
    assert first_id, "every notification has an id, for bounces (12.4)"
    # no id: the service makes one, unique for the node (7.1.1)
    r1 = ok(await publish(s.bob, node, None, payload("two")), "publish without id")
    r2 = ok(await publish(s.bob, node, None, payload("three")), "publish without id")
    g1, g2 = published_id(r1), published_id(r2)
    assert g1 and g2 and g1 != g2 and re.match(r"^[0-9a-f]{32}$", g1), (g1, g2)
    n = await wait_msg(s.carol, lambda x: notified_items(x, node) == [g2], m)
    assert n["id"] and n["id"] != first_id, "notification ids are unique (12.4)"
    r = ok(await get_items(s.carol, node))
    assert item_ids(r) == ["first", g1, g2], item_ids(r)
    # re-publish replaces the item, notifies again and moves it to the end (7.1.2, 12.1)
    m = mark(s.carol)
    ok(await publish(s.bob, node, "first", payload("one, again")))
    n = await wait_msg(s.carol, lambda x: notified_items(x, node) == ["first"], m)
    assert payload_title(n) == "one, again"
    r = ok(await get_items(s.carol, node))
    assert item_ids(r) == [g1, g2, "first"] and payload_title(r.findall(".//{%s}item" % NS_PS)[-1]) == "one, again"
    # unusual but valid item ids are kept as they are
    for weird in ("it'em \"quoted\" <&>", "caf\u00e9 \u2603", "'; DROP TABLE calpubsub_item; --", "a" * 1023):
        r = ok(await publish(s.bob, node, weird), weird[:20])
        assert published_id(r) == weird
        assert item_ids(ok(await get_items(s.carol, node, ids=[weird]))) == [weird]
    err(await publish(s.bob, node, "a" * 1024), "bad-request", "modify", "", "an id over 1023 bytes")
    err(await publish(s.bob, node, ""), "bad-request", "modify", "", "an empty id")


@tap.test
async def item_shapes(env):
    """item rules of 4.3 and 7.1.3: payload required, one payload, one item, item-required, pubsub#type"""
    s = await clients(env)
    node = await node_with(s)
    err(await publish(s.bob, node, raw_item=""), "bad-request", "modify", "item-required", "no <item/>")
    err(await publish(s.bob, node, raw_item="<item id='e'/>"), "bad-request", "modify", "payload-required")
    err(await publish(s.bob, node, raw_item="<item id='e'>%s%s</item>" % (payload("a"), payload("b"))),
        "bad-request", "modify", "invalid-payload", "two payloads")
    err(await publish(s.bob, node, raw_item="<item id='a'>%s</item><item id='b'>%s</item>" % (payload(), payload())),
        "bad-request", "modify", "invalid-payload", "two items (checklist P9)")
    err(await ps(s.bob, "set", "<publish/>"), "bad-request", "modify", "nodeid-required")
    err(await ps(s.bob, "set", "<publish node=''><item>%s</item></publish>" % payload()), "bad-request", "modify",
        "nodeid-required")
    # pubsub#type restricts the payload namespace (7.1.3.6)
    typed = await node_with(s, {"pubsub#type": "urn:example:payload"})
    ok(await publish(s.bob, typed, "t1"))
    err(await publish(s.bob, typed, "t2", "<other xmlns='urn:example:other'/>"), "bad-request", "modify",
        "invalid-payload")
    # none of the refused items was stored
    assert item_ids(ok(await get_items(s.carol, node))) == []
    assert item_ids(ok(await get_items(s.carol, typed))) == ["t1"]


@tap.test
async def notification_only_and_transient(env):
    """deliver_payloads=false notifies ids only; persist_items=false keeps nothing; both: no item at all"""
    s = await clients(env)
    # persistent, notification-only
    node = await node_with(s, {"pubsub#deliver_payloads": "0"})
    m = mark(s.carol)
    ok(await publish(s.bob, node, "n1", payload("secret")))
    n = await wait_msg(s.carol, lambda x: notified_items(x, node) == ["n1"], m)
    assert payload_title(n) is None, "no payload in the notification"
    assert payload_title(ok(await get_items(s.carol, node))) == "secret", "but retrieval has it"
    r = ok(await publish(s.bob, node, raw_item="<item/>"), "an empty item on a notification-only node (4.3)")
    assert published_id(r), "with a generated id"
    # transient, with payloads
    tnode = await node_with(s, {"pubsub#persist_items": "false"})
    m = mark(s.carol)
    ok(await publish(s.bob, tnode, "t1", payload("passing")))
    n = await wait_msg(s.carol, lambda x: notified_items(x, tnode) == ["t1"], m)
    assert payload_title(n) == "passing"
    r = err(await get_items(s.carol, tnode), "feature-not-implemented", "cancel", "unsupported")
    assert app_feature(await get_items(s.carol, tnode)) == "persistent-items"
    e = await retract(s.bob, tnode, "t1")
    err(e, "feature-not-implemented", "cancel", "unsupported")
    assert app_feature(e) == "persistent-items"
    e = await ps(s.alice, "set", "<purge node=%s/>" % attr(tnode), owner=True)
    err(e, "feature-not-implemented", "cancel", "unsupported")
    assert app_feature(e) == "persistent-items", "purge on a transient node (8.5.3.3)"
    err(await publish(s.bob, tnode, raw_item=""), "bad-request", "modify", "item-required",
        "a transient payload node still needs an item")
    # transient and notification-only: no item at all (4.3)
    bare = await node_with(s, {"pubsub#persist_items": "0", "pubsub#deliver_payloads": "0"})
    m = mark(s.carol)
    r = ok(await publish(s.bob, bare, raw_item=""), "publish without an item")
    assert published_id(r) is None, "no item, no id"
    n = await wait_msg(s.carol, lambda x: event_kind(x, bare) is not None, m)
    kind, el = event_kind(n, bare)
    assert kind == "items" and len(el) == 0, "an empty <items node/>"
    err(await publish(s.bob, bare, "x"), "bad-request", "modify", "item-forbidden")


@tap.test
async def retract_and_notify(env):
    """retract: notify attribute OR pubsub#notify_retract, errors, who may retract what"""
    s = await clients(env)
    node = await node_with(s)
    for i in ("a", "b", "c", "d"):
        ok(await publish(s.bob, node, i))
    m = mark(s.carol)
    ok(await retract(s.bob, node, "a", notify="true"))
    await wait_msg(s.carol, lambda x: notified_retracts(x, node) == ["a"], m)
    # notify_retract is on by default: a retract without notify is announced too (checklist P11)
    ok(await retract(s.bob, node, "b"))
    await wait_msg(s.carol, lambda x: notified_retracts(x, node) == ["b"], m)
    assert item_ids(ok(await get_items(s.carol, node))) == ["c", "d"]
    quiet = await node_with(s, {"pubsub#notify_retract": "false"})
    for i in ("a", "b", "c"):
        ok(await publish(s.bob, quiet, i))
    m = mark(s.carol)
    ok(await retract(s.bob, quiet, "a"))
    ok(await retract(s.bob, quiet, "b", notify="0"))
    ok(await retract(s.bob, quiet, "c", notify="1"))
    await wait_msg(s.carol, lambda x: notified_retracts(x, quiet) == ["c"], m)
    await s.barrier.wait(s.carol)
    got = [notified_retracts(x, quiet) for x in messages(s.carol, lambda x: notified_retracts(x, quiet), m)]
    assert got == [["c"]], "only the retract with notify=1 is announced: %s" % got
    # errors (7.2.3)
    err(await retract(s.bob, node, "nope"), "item-not-found", "cancel", "", "unknown item")
    err(await retract(s.bob, uid("missing"), "c"), "item-not-found", "cancel", "", "unknown node")
    err(await ps(s.bob, "set", "<retract node=%s/>" % attr(node)), "bad-request", "modify", "item-required")
    err(await ps(s.bob, "set", "<retract node=%s><item/></retract>" % attr(node)), "bad-request", "modify",
        "item-required")
    err(await ps(s.bob, "set", "<retract><item id='c'/></retract>"), "bad-request", "modify", "nodeid-required")
    err(await ps(s.bob, "set", "<retract node=%s notify='maybe'><item id='c'/></retract>" % attr(node)),
        "bad-request", "modify")
    err(await retract(s.carol, node, "c"), "forbidden", "auth", "", "a subscriber may not retract")
    err(await retract(s.dave, node, "c"), "forbidden", "auth", "", "an outsider may not retract")
    # publish-only: its own items, nobody else's (4.1 note)
    ok(await set_affiliations(s.alice, node, [(jid("dave"), "publish-only")]))
    ok(await publish(s.dave, node, "dave-1"))
    err(await retract(s.dave, node, "c"), "forbidden", "auth", "", "publish-only retracting bob's item")
    ok(await retract(s.dave, node, "dave-1"), "publish-only retracting its own item")
    # the owner and any publisher may retract anything
    ok(await retract(s.alice, node, "c"))
    ok(await publish(s.dave, node, "dave-2"))
    ok(await retract(s.bob, node, "dave-2"))
    assert item_ids(ok(await get_items(s.carol, node))) == ["d"]
    ok(await set_affiliations(s.alice, node, [(jid("dave"), "none")]))


@tap.test
async def publish_options(env):
    """publish-options: preconditions met, not met (conflict + precondition-not-met), unknown fields, normalisation"""
    s = await clients(env)
    node = await node_with(s, {"pubsub#access_model": "whitelist", "pubsub#max_items": "10"}, subscribers=())
    ok(await set_affiliations(s.alice, node, [(jid("carol"), "member")]))
    ok(await subscribe(s.carol, node))
    ok(await publish(s.bob, node, "p1", options={"pubsub#access_model": "whitelist"}), "one precondition")
    ok(await publish(s.bob, node, "p2", options={"pubsub#persist_items": "1", "pubsub#access_model": "whitelist",
                                                 "pubsub#max_items": "10", "pubsub#notify_retract": "true",
                                                 "pubsub#send_last_published_item": "never",
                                                 "pubsub#title": ""}), "several, normalised")
    for var, value in (("pubsub#access_model", "open"), ("pubsub#persist_items", "false"),
                       ("pubsub#max_items", "max"), ("pubsub#max_items", "11"), ("pubsub#title", "Other"),
                       ("pubsub#deliver_payloads", "0")):
        e = await publish(s.bob, node, "bad", options={var: value})
        err(e, "conflict", "cancel", "precondition-not-met", "%s=%s" % (var, value))
    # unknown fields and impossible values are malformed, not failed preconditions (checklist P17)
    err(await publish(s.bob, node, "bad", options={"pubsub#bogus": "1"}), "bad-request", "modify", "")
    err(await publish(s.bob, node, "bad", options={"pubsub#persist_items": "yes"}), "bad-request", "modify", "")
    err(await publish(s.bob, node, "bad", options={"pubsub#access_model": "roster"}), "not-acceptable", "modify",
        "unsupported-access-model")
    # the form must be a publish-options submit form
    err(await ps(s.bob, "set", "<publish node=%s><item id='bad'>%s</item></publish><publish-options>"
                 "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:example:x</value>"
                 "</field></x></publish-options>" % (attr(node), payload())), "bad-request", "modify", "")
    err(await ps(s.bob, "set", "<publish node=%s><item id='bad'>%s</item></publish><publish-options/>"
                 % (attr(node), payload())), "bad-request", "modify", "")
    assert item_ids(ok(await get_items(s.carol, node))) == ["p1", "p2"], "no refused publish was stored"


@tap.test
async def auto_create(env):
    """publish to a missing node creates it with the publish-options as its configuration (7.1.4, 7.1.5)"""
    s = await clients(env)
    plain = uid("auto")
    r = ok(await publish(s.bob, plain, "x"), "auto-create with defaults")
    assert published_id(r) == "x"
    cfg = await get_config(s.bob, plain)
    assert cfg["pubsub#access_model"] == "open" and cfg["pubsub#persist_items"] == "true", cfg
    r = ok(await ps(s.bob, "get", "<affiliations node=%s/>" % attr(plain)))
    assert [a.get("affiliation") for a in r.iter("{%s}affiliation" % NS_PS)] == ["owner"], "the publisher owns it"
    # XEP-0223 style: private storage preconditions
    private = uid("auto")
    ok(await publish(s.bob, private, "x", options={"pubsub#persist_items": "true", "pubsub#access_model": "whitelist",
                                                   "pubsub#max_items": "max",
                                                   "pubsub#send_last_published_item": "never",
                                                   "pubsub#title": "Bookmarks"}))
    cfg = await get_config(s.bob, private)
    assert (cfg["pubsub#access_model"], cfg["pubsub#max_items"], cfg["pubsub#title"]) == ("whitelist", "max",
                                                                                         "Bookmarks"), cfg
    err(await get_items(s.carol, private), "not-allowed", "cancel", "closed-node")
    # the same preconditions again now hold on the existing node
    ok(await publish(s.bob, private, "y", options={"pubsub#persist_items": "1", "pubsub#access_model": "whitelist"}))
    # what cannot be honoured creates nothing
    for options, cond, app in (({"pubsub#access_model": "roster"}, "not-acceptable", "unsupported-access-model"),
                               ({"pubsub#bogus": "1"}, "bad-request", ""),
                               ({"pubsub#max_items": "0"}, "bad-request", ""),
                               ({"pubsub#max_payload_size": "999999999"}, "bad-request", "")):
        missing = uid("auto")
        err(await publish(s.bob, missing, "x", options=options), cond, None, app, str(options))
        err(await get_items(s.bob, missing), "item-not-found", "cancel", "", "nothing was created")
    # an item the new node refuses creates nothing either
    missing = uid("auto")
    err(await publish(s.bob, missing, raw_item="<item id='e'/>"), "bad-request", "modify", "payload-required")
    err(await get_items(s.bob, missing), "item-not-found", "cancel", "", "no half-created node")
    # a node id over 1023 bytes cannot be created
    err(await publish(s.bob, "n" * 1024, "x"), "not-acceptable", "modify", "", "a node id over 1023 bytes")


@tap.test
async def max_items_and_node_full(env):
    """pubsub#max_items with retract-oldest (announced), discard-oldest (silent), reject (conflict + node-full)"""
    s = await clients(env)
    node = await node_with(s, {"pubsub#max_items": "3"})
    m = mark(s.carol)
    for i in range(5):
        ok(await publish(s.bob, node, "r%d" % i))
    assert item_ids(ok(await get_items(s.carol, node))) == ["r2", "r3", "r4"]
    await wait_msg(s.carol, lambda x: notified_items(x, node) == ["r4"], m)
    retracted = [i for x in messages(s.carol, lambda x: notified_retracts(x, node), m)
                 for i in notified_retracts(x, node)]
    assert retracted == ["r0", "r1"], "retract-oldest announces what it removes: %s" % retracted
    # re-publishing an existing item does not push anything out
    m = mark(s.carol)
    ok(await publish(s.bob, node, "r2"))
    assert item_ids(ok(await get_items(s.carol, node))) == ["r3", "r4", "r2"]
    # discard-oldest: silently
    quiet = await node_with(s, {"pubsub#max_items": "2", "pubsub#publish_node_full": "discard-oldest"})
    m = mark(s.carol)
    for i in range(4):
        ok(await publish(s.bob, quiet, "d%d" % i))
    assert item_ids(ok(await get_items(s.carol, quiet))) == ["d2", "d3"]
    await s.barrier.wait(s.carol)
    assert not messages(s.carol, lambda x: notified_retracts(x, quiet), m), "discard-oldest is silent"
    # reject: conflict + node-full (7.1.3.4), and nothing changes
    full = await node_with(s, {"pubsub#max_items": "2", "pubsub#publish_node_full": "reject"})
    ok(await publish(s.bob, full, "k1"))
    ok(await publish(s.bob, full, "k2"))
    err(await publish(s.bob, full, "k3"), "conflict", "cancel", "node-full")
    err(await publish(s.bob, full, None), "conflict", "cancel", "node-full", "generated id")
    ok(await publish(s.bob, full, "k1", payload("update")), "updating an item of a full node is fine")
    assert item_ids(ok(await get_items(s.carol, full))) == ["k2", "k1"]
    ok(await retract(s.bob, full, "k2"))
    ok(await publish(s.bob, full, "k3"), "room again after a retract")
    # lowering max_items trims the node, announcing the retractions
    m = mark(s.carol)
    ok(await ps(s.alice, "set", "<configure node=%s><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' "
                "type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field><field "
                "var='pubsub#max_items'><value>1</value></field></x></configure>" % attr(node), owner=True))
    assert item_ids(ok(await get_items(s.carol, node))) == ["r2"]
    await wait_msg(s.carol, lambda x: notified_retracts(x, node) == ["r4"], m)
    # max: no limit
    unlimited = await node_with(s, {"pubsub#max_items": "max"}, subscribers=())
    for i in range(30):
        ok(await publish(s.bob, unlimited, "u%d" % i))
    assert len(item_ids(ok(await get_items(s.bob, unlimited)))) == 30


@tap.test
async def item_expiry(env):
    """pubsub#item_expire: calpubsub itself removes expired items and announces their retraction"""
    s = await clients(env)
    # long enough for a publish and a read under valgrind to happen before it
    expire = str(max(1, round(SLOW)))
    node = await node_with(s, {"pubsub#item_expire": expire})
    quiet = await node_with(s, {"pubsub#item_expire": expire, "pubsub#notify_retract": "0"})
    keep = await node_with(s)
    m = mark(s.carol)
    # q1 first: once e1's retraction is announced, q1 has expired as well
    ok(await publish(s.bob, quiet, "q1"))
    ok(await publish(s.bob, keep, "k1"))
    ok(await publish(s.bob, node, "e1"))
    assert item_ids(ok(await get_items(s.carol, node))) == ["e1"], "not yet expired"
    await wait_msg(s.carol, lambda x: notified_retracts(x, node) == ["e1"], m, timeout=6,
                   what="the retraction of the expired item")
    assert item_ids(ok(await get_items(s.carol, node))) == []
    assert item_ids(ok(await get_items(s.carol, quiet))) == [], "expired without notify_retract too"
    assert item_ids(ok(await get_items(s.carol, keep))) == ["k1"], "items without expiry stay"
    await s.barrier.wait(s.carol)
    assert not messages(s.carol, lambda x: notified_retracts(x, quiet), m), "no retraction without notify_retract"
    # the rows are gone from PostgreSQL, not only hidden
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_item i JOIN calpubsub_node n ON n.id = i.node_id "
                             "WHERE n.name IN ('%s', '%s')" % (node, quiet)) == "0"
    # an expired item cannot be an RSM anchor, and retracting it says item-not-found
    err(await retract(s.bob, node, "e1"), "item-not-found", "cancel", "")


@tap.test
async def payload_size(env):
    """pubsub#max_payload_size: above it not-acceptable + payload-too-big; never above the service limit"""
    s = await clients(env)
    node = await node_with(s, {"pubsub#max_payload_size": "200"})
    ok(await publish(s.bob, node, "small", payload("x" * 50)))
    err(await publish(s.bob, node, "big", payload("x" * 300)), "not-acceptable", "modify", "payload-too-big")
    assert item_ids(ok(await get_items(s.carol, node))) == ["small"]
    # the default node limit is 64 KiB
    big = await node_with(s)
    err(await publish(s.bob, big, "big", payload("y" * 70000)), "not-acceptable", "modify", "payload-too-big")
    ok(await publish(s.bob, big, "fits", payload("y" * 60000)))
    # the service limit (pubsub.max_payload_size, 256 KiB by default) bounds the configuration
    r = await ps(s.alice, "set", "<configure node=%s><x xmlns='jabber:x:data' type='submit'><field "
                 "var='pubsub#max_payload_size'><value>300000</value></field></x></configure>" % attr(node), owner=True)
    err(r, "not-acceptable", "modify", "")


@tap.test
async def notification_options(env):
    """deliver_notifications, notification_type, itemreply, send_last_published_item, publish_model"""
    s = await clients(env)
    # deliver_notifications=false: no item notifications, retractions still announced
    silent = await node_with(s, {"pubsub#deliver_notifications": "0"})
    m = mark(s.carol)
    ok(await publish(s.bob, silent, "s1"))
    ok(await retract(s.bob, silent, "s1"))
    await wait_msg(s.carol, lambda x: notified_retracts(x, silent) == ["s1"], m)
    assert not messages(s.carol, lambda x: notified_items(x, silent), m), "no item notification"
    # notification_type=normal
    normal = await node_with(s, {"pubsub#notification_type": "normal"})
    m = mark(s.carol)
    ok(await publish(s.bob, normal, "n1"))
    n = await wait_msg(s.carol, lambda x: notified_items(x, normal) == ["n1"], m)
    assert n["type"] == "normal", n["type"]
    # itemreply=publisher: who published, never what the publisher claims (7.1.2.3)
    named = await node_with(s, {"pubsub#itemreply": "publisher"})
    m = mark(s.carol)
    ok(await ps(s.bob, "set", "<publish node=%s><item id='w1' publisher='mallory@evil.example'>%s</item></publish>"
                % (attr(named), payload())))
    n = await wait_msg(s.carol, lambda x: notified_items(x, named) == ["w1"], m)
    assert n.xml.find(".//{%s}item" % NS_EVENT).get("publisher") == jid("bob")
    # send_last_published_item=on_sub: the newest item, stamped with its date (6.1.7)
    last = await node_with(s, {"pubsub#send_last_published_item": "on_sub"}, subscribers=())
    ok(await publish(s.bob, last, "old"))
    ok(await publish(s.bob, last, "newest", payload("latest")))
    m = mark(s.carol)
    ok(await subscribe(s.carol, last))
    n = await wait_msg(s.carol, lambda x: notified_items(x, last) is not None, m)
    assert notified_items(n, last) == ["newest"] and payload_title(n) == "latest"
    delay = n.xml.find("{%s}delay" % NS_DELAY)
    assert delay is not None and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", delay.get("stamp")), "XEP-0203 stamp"
    # publish_model=open: anyone; subscribers: the subscribed ones
    anyone = await node_with(s, {"pubsub#publish_model": "open"}, publishers=())
    ok(await publish(s.dave, anyone, "from-dave"))
    subs_only = await node_with(s, {"pubsub#publish_model": "subscribers"}, publishers=())
    err(await publish(s.dave, subs_only, "x"), "forbidden", "auth", "")
    ok(await publish(s.carol, subs_only, "from-carol"), "a subscriber publishes")
    # pubsub#subscribe=false: subscriptions are refused (6.1.3.10)
    closed = await node_with(s, {"pubsub#subscribe": "0"}, subscribers=())
    e = await subscribe(s.carol, closed)
    err(e, "feature-not-implemented", "cancel", "unsupported")
    assert app_feature(e) == "subscribe"


@contextlib.contextmanager
def database_refuses(env, table, condition, message):
    """While inside, the database raises MESSAGE for rows of TABLE where CONDITION (on NEW)."""
    d = env.calpubsub
    env.postgres.psql(
        "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF %s THEN RAISE EXCEPTION '%s'; END IF; RETURN NEW; END $$; "
        "CREATE TRIGGER test_refuse BEFORE INSERT OR UPDATE ON %s FOR EACH ROW "
        "EXECUTE FUNCTION test_refuse()" % (condition, message, table), dbname=d.dbname)
    try:
        yield
    finally:
        env.postgres.psql("DROP TRIGGER test_refuse ON %s; DROP FUNCTION test_refuse()" % table, dbname=d.dbname)


@tap.test
async def publishes_arriving_together(env):
    """a burst of publishes shares commits; a refused one and a forbidden one fail alone, every other is stored and notified once"""
    s = await clients(env)
    d = env.calpubsub
    node = await node_with(s)
    await s.barrier.join(s.carol)
    with database_refuses(env, "calpubsub_item", "NEW.item_id = 'refused'", "refused by the test"):
        ids = ["p%02d" % i for i in range(40)]
        m, since = mark(s.carol), d.log_mark()
        tasks = [publish(s.bob, node, i) for i in ids[:20]] + [publish(s.bob, node, "refused")] + \
                [publish(s.dave, node, "intruder")] + [publish(s.bob, node, i) for i in ids[20:]]
        replies = await d.arriving_together(tasks)
    for i, r in zip(ids, replies[:20] + replies[22:]):
        assert published_id(ok(r, "publish " + i)) == i
    err(replies[20], "internal-server-error", "cancel", what="the item the database refused")
    err(replies[21], "forbidden", "auth", what="a publish by someone who may not")
    assert sorted(item_ids(ok(await get_items(s.alice, node)))) == ids
    await s.barrier.wait(s.carol)
    got = [i for x in messages(s.carol, lambda x: notified_items(x, node), m) for i in notified_items(x, node)]
    assert sorted(got) == ids, "notifications: %s" % got
    batches = [int(n) for n in re.findall(r"group commit: (\d+) requests? in one transaction", d.log_text()[since:])]
    assert max(batches, default=0) > 1, "42 publishes sent at once were committed one by one: %s" % batches
    failed = [int(n) for n in re.findall(r"group commit of (\d+) requests? failed; running each on its own",
                                         d.log_text()[since:])]
    assert failed and failed[0] > 1, "the refused publish's batch was not rolled back and run again: %s" % failed
    # a refusal is decided before anything is written: it does not roll back the others
    since = d.log_mark()
    replies = await d.arriving_together([publish(s.bob, node, "q%02d" % i) for i in range(10)] +
                                        [publish(s.dave, node, "intruder"), publish(s.bob, node, "q10")])
    err(replies[10], "forbidden", "auth", what="a publish by someone who may not")
    assert all(r.get("type") == "result" for r in replies[:10] + replies[11:])
    assert not re.search(r"group commit of \d+ requests? failed", d.log_text()[since:]), \
        "a forbidden publish rolled back the requests that shared its transaction"
    batches = [int(n) for n in re.findall(r"group commit: (\d+) requests? in one transaction", d.log_text()[since:])]
    assert max(batches, default=0) > 1, "12 publishes sent at once were committed one by one: %s" % batches


@tap.test
async def refused_change_leaves_nothing(env):
    """a publish whose change the database refuses after its item was written fails whole: no item, no notification"""
    s = await clients(env)
    d = env.calpubsub
    node = await node_with(s)
    await s.barrier.join(s.carol)
    m = mark(s.carol)
    ok(await publish(s.bob, node, "before"))
    # the item is written first and the change after it, in one transaction
    with database_refuses(env, "calpubsub_change", "NEW.item_id LIKE 'refused%'", "change refused by the test"):
        since = d.log_mark()
        err(await publish(s.bob, node, "refused"), "internal-server-error", "cancel", what="one publish alone")
        assert "change refused by the test" in d.log_text()[since:]
        # and inside a shared transaction: the others are committed, the refused one is not
        since = d.log_mark()
        replies = await d.arriving_together([publish(s.bob, node, "r%02d" % i) for i in range(8)] +
                                            [publish(s.bob, node, "refused-too")] +
                                            [publish(s.bob, node, "r%02d" % i) for i in range(8, 16)])
        failed = re.findall(r"group commit of (\d+) requests? failed", d.log_text()[since:])
        assert failed and int(failed[0]) > 1, "the refused publish did not share a transaction: %s" % failed
    err(replies[8], "internal-server-error", "cancel", what="the refused publish of the burst")
    assert all(r.get("type") == "result" for r in replies[:8] + replies[9:])
    expected = ["before"] + ["r%02d" % i for i in range(16)]
    assert sorted(item_ids(ok(await get_items(s.alice, node)))) == expected
    await s.barrier.wait(s.carol)
    got = [i for x in messages(s.carol, lambda x: notified_items(x, node), m) for i in notified_items(x, node)]
    assert sorted(got) == expected, "notifications: %s" % got
    # the connection and its transactions are sound afterwards
    ok(await publish(s.bob, node, "after"))
    assert "after" in item_ids(ok(await get_items(s.alice, node)))


def main():
    tap.run(lambda server: environment(server=server, users=USERS))


if __name__ == "__main__":
    main()
