"""test_pubsub_owners.py: the XEP-0060 owner use cases end to end: create (named, instant,
with a configuration), the default configuration, configure (partial submissions,
notify_config notifications, loss of access), delete (with redirect), purge, managing
subscriptions and affiliations (partial failures, the last owner, outcasts), and service
admins acting as owners everywhere."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import environment  # noqa: E402
from pubsub_lib import (shared_clients, FORM_NODE_CONFIG, NS_EVENT, NS_OWNER, NS_PS, NS_XDATA, attr, config_form,  # noqa
                        configure, create, err, event_kind, form, form_values, get_affiliations, get_config,
                        get_items, get_subscriptions, item_ids, jid, mark, messages, notified_items, ok, ps,
                        publish, set_affiliations, set_subscriptions, subscribe, subscription_of, uid, wait_msg)

USERS = ("alice", "bob", "carol", "dave", "eve", "admin")


async def clients(env):
    return await shared_clients(env, {
        "alice": "alice",  # owner
        "bob": "bob",      # publisher, second owner
        "carol": "carol",  # subscriber
        "dave": "dave",    # subscriber
        "eve": "eve",      # the outcast
        "admin": "admin",  # service admin
    }, barrier=True)


def subscription_event(s, node):
    """(jid, state) of a subscription-state notification for node, else None (2.6)."""
    k = event_kind(s, node)
    if not k or k[0] != "subscription":
        return None
    return k[1].get("jid"), k[1].get("subscription")


def affiliation_message(s, node):
    """(jid, affiliation) of an affiliation-change message for node (8.9.4), else None."""
    a = s.xml.find("{%s}pubsub/{%s}affiliations" % (NS_PS, NS_PS))
    if a is None or a.get("node") != node:
        return None
    el = a.find("{%s}affiliation" % NS_PS)
    return el.get("jid"), el.get("affiliation")


@tap.test
async def create_nodes(env):
    """create: named, instant (generated id), with a configuration; conflicts and bad configurations change nothing"""
    s = await clients(env)
    node = uid()
    r = ok(await create(s.alice, node))
    c = r.find(".//{%s}create" % NS_PS)
    assert c is None or c.get("node") == node
    err(await create(s.alice, node, expect_ok=False), "conflict", "cancel", "", "the name is taken")
    err(await create(s.bob, node, expect_ok=False), "conflict", "cancel", "", "for everyone")
    assert await get_affiliations(s.alice, node) == {jid("alice"): "owner"}, "the creator owns the node"
    # instant node: the service makes the id and returns it (8.1)
    r = ok(await create(s.alice, None))
    instant = r.find(".//{%s}create" % NS_PS).get("node")
    assert instant and len(instant) == 32, instant
    ok(await publish(s.alice, instant, "i"))
    r2 = ok(await create(s.alice, None))
    assert r2.find(".//{%s}create" % NS_PS).get("node") != instant
    # create and configure (8.1.3)
    conf = uid()
    ok(await create(s.alice, conf, {"pubsub#title": "Team \u2603", "pubsub#access_model": "authorize",
                                    "pubsub#max_items": "7", "pubsub#notify_config": "1",
                                    "x-unknown#field": "ignored"}))
    cfg = await get_config(s.alice, conf)
    assert (cfg["pubsub#title"], cfg["pubsub#access_model"], cfg["pubsub#max_items"],
            cfg["pubsub#notify_config"]) == ("Team \u2603", "authorize", "7", "true"), cfg
    assert cfg["pubsub#persist_items"] == "true", "fields left out keep their defaults"
    # a refused configuration creates nothing (8.1.2, 8.2.5.2)
    for fields, cond, app in (({"pubsub#access_model": "roster"}, "not-acceptable", "unsupported-access-model"),
                              ({"pubsub#max_items": "zero"}, "not-acceptable", ""),
                              ({"pubsub#deliver_payloads": "maybe"}, "not-acceptable", ""),
                              ({"pubsub#node_type": "collection"}, "not-acceptable", "")):
        name = uid()
        err(await create(s.alice, name, fields, expect_ok=False), cond, "modify", app, str(fields))
        err(await get_items(s.alice, name), "item-not-found", "cancel", "", "nothing was created")
    name = uid()
    err(await ps(s.alice, "set", "<create node=%s/><configure>%s</configure>" % (
        attr(name), form("urn:example:wrong", {"pubsub#title": "x"}))), "bad-request", "modify")
    err(await ps(s.alice, "set", "<create node=%s/><configure node=%s>%s</configure>" % (
        attr(name), attr(name), config_form({}))), "bad-request", "modify", "", "<configure/> with a node (8.1.3)")
    err(await ps(s.alice, "set", "<create node=%s/><configure>%s</configure>" % (
        attr(name), form(FORM_NODE_CONFIG, {}, type_="form"))), "bad-request", "modify", "", "a form, not a submit")
    err(await get_items(s.alice, name), "item-not-found", "cancel", "", "nothing was created")
    # ids: empty is nodeid-required; over 1023 bytes not-acceptable; anything else is kept as is
    err(await ps(s.alice, "set", "<create node=''/>"), "not-acceptable", "modify", "nodeid-required")
    err(await create(s.alice, "x" * 1024, expect_ok=False), "not-acceptable", "modify", "")
    for name in ("x" * 1023, "caf\u00e9/\u65e5\u672c", "it's \"quoted\" <&>", "'; DROP TABLE calpubsub_node; --",
                 "  spaces  "):
        ok(await create(s.alice, name), name[:20])
        ok(await publish(s.alice, name, "i"))
        assert item_ids(ok(await get_items(s.alice, name))) == ["i"], name[:20]
        ok(await ps(s.alice, "set", "<delete node=%s/>" % attr(name), owner=True))
    assert env.postgres.psql("SELECT count(*) FROM calpubsub_node") != "0", "the tables are still there"


@tap.test
async def default_configuration(env):
    """the default node configuration (8.3): a node_config form with the defaults"""
    s = await clients(env)
    r = ok(await ps(s.carol, "get", "<default/>", owner=True))
    x = r.find(".//{%s}default/{%s}x" % (NS_OWNER, NS_XDATA))
    assert x.get("type") == "form"
    v = form_values(x)
    assert v["FORM_TYPE"] == FORM_NODE_CONFIG
    want = {"pubsub#access_model": "open", "pubsub#publish_model": "publishers", "pubsub#max_items": "max",
            "pubsub#persist_items": "true", "pubsub#deliver_payloads": "true", "pubsub#notify_retract": "true",
            "pubsub#notify_delete": "true", "pubsub#notify_config": "false", "pubsub#node_type": "leaf",
            "pubsub#publish_node_full": "retract-oldest", "pubsub#send_last_published_item": "never",
            "pubsub#max_payload_size": "65536", "pubsub#notification_type": "headline"}
    assert {k: v.get(k) for k in want} == want, v
    # and a node created without configuration has exactly that
    node = uid()
    await create(s.carol, node)
    got = await get_config(s.carol, node)
    assert {k: got.get(k) for k in want} == want, got


@tap.test
async def configure_nodes(env):
    """configure: owners only, partial submissions, notify_config with and without payloads, cancel, bad values"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node)
    ok(await subscribe(s.carol, node))
    r = ok(await ps(s.alice, "get", "<configure node=%s/>" % attr(node), owner=True))
    x = r.find(".//{%s}configure/{%s}x" % (NS_OWNER, NS_XDATA))
    assert x.get("type") == "form" and r.find(".//{%s}configure" % NS_OWNER).get("node") == node
    err(await ps(s.carol, "get", "<configure node=%s/>" % attr(node), owner=True), "forbidden", "auth", "")
    err(await configure(s.carol, node, {"pubsub#title": "mine"}), "forbidden", "auth", "")
    err(await ps(s.alice, "get", "<configure/>", owner=True), "bad-request", "modify", "nodeid-required")
    err(await ps(s.alice, "get", "<configure node=%s/>" % attr(uid("missing")), owner=True), "item-not-found",
        "cancel", "")
    err(await ps(s.alice, "set", "<configure node=%s/>" % attr(node), owner=True), "bad-request", "modify", "",
        "a configure set without a form")
    # partial submissions
    ok(await configure(s.alice, node, {"pubsub#title": "First"}))
    ok(await configure(s.alice, node, {"pubsub#max_items": "5"}))
    cfg = await get_config(s.alice, node)
    assert (cfg["pubsub#title"], cfg["pubsub#max_items"]) == ("First", "5"), cfg
    # a bad value refuses the submission and changes nothing, not even the good fields in it
    err(await configure(s.alice, node, {"pubsub#title": "Second", "pubsub#max_items": "-3"}), "not-acceptable",
        "modify", "")
    err(await configure(s.alice, node, {"pubsub#access_model": "roster"}), "not-acceptable", "modify",
        "unsupported-access-model")
    assert (await get_config(s.alice, node))["pubsub#title"] == "First"
    # cancel: the configuration stays (8.2.4)
    ok(await ps(s.alice, "set", "<configure node=%s><x xmlns='jabber:x:data' type='cancel'/></configure>"
                % attr(node), owner=True))
    assert (await get_config(s.alice, node))["pubsub#title"] == "First"
    # no notification while notify_config is off
    m = mark(s.carol)
    ok(await configure(s.alice, node, {"pubsub#title": "Quiet"}))
    await s.barrier.wait(s.carol)
    assert not messages(s.carol, lambda x: event_kind(x, node), m), "notify_config is off by default"
    # notify_config with payloads: the whole configuration in a result form (8.2.5.3)
    m = mark(s.carol)
    ok(await configure(s.alice, node, {"pubsub#notify_config": "1", "pubsub#title": "Loud"}))
    n = await wait_msg(s.carol, lambda x: (event_kind(x, node) or [None])[0] == "configuration", m)
    fx = n.xml.find(".//{%s}configuration/{%s}x" % (NS_EVENT, NS_XDATA))
    assert fx is not None and fx.get("type") == "result"
    assert form_values(fx)["pubsub#title"] == "Loud" and form_values(fx)["FORM_TYPE"] == FORM_NODE_CONFIG
    assert n["type"] == "headline"
    # without payloads: an empty <configuration/>
    m = mark(s.carol)
    ok(await configure(s.alice, node, {"pubsub#deliver_payloads": "0"}))
    n = await wait_msg(s.carol, lambda x: (event_kind(x, node) or [None])[0] == "configuration", m)
    assert len(event_kind(n, node)[1]) == 0, "a notification-only node's configuration event is empty"
    # a stricter access model ends the subscriptions it no longer allows, and says so (12.14)
    ok(await subscribe(s.dave, node))
    ok(await subscribe(s.admin, node))
    ok(await set_affiliations(s.alice, node, [(jid("carol"), "member")]))
    m = mark(s.dave)
    ok(await configure(s.alice, node, {"pubsub#access_model": "whitelist"}))
    n = await wait_msg(s.dave, lambda x: subscription_event(x, node) is not None, m)
    assert subscription_event(n, node) == (jid("dave"), "none")
    subs = await get_subscriptions(s.alice, node)
    assert subs == sorted([(jid("carol"), "subscribed"), (jid("admin"), "subscribed")]), \
        "members and admins keep theirs: %s" % subs


@tap.test
async def notify_sub(env):
    """pubsub#notify_sub: owners hear of new subscribers and of unsubscribes; without it they hear nothing"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node, {"pubsub#notify_sub": "1"})
    ok(await set_affiliations(s.alice, node, [(jid("bob"), "owner")]))
    ma, mb = mark(s.alice), mark(s.bob)
    ok(await subscribe(s.carol, node))
    for c, m in ((s.alice, ma), (s.bob, mb)):
        n = await wait_msg(c, lambda x: subscription_event(x, node) is not None, m)
        assert subscription_event(n, node) == (jid("carol"), "subscribed")
    ma = mark(s.alice)
    ok(await ps(s.carol, "set", "<unsubscribe node=%s jid=%s/>" % (attr(node), attr(jid("carol")))))
    n = await wait_msg(s.alice, lambda x: subscription_event(x, node) is not None, ma)
    assert subscription_event(n, node) == (jid("carol"), "none")
    quiet = uid()
    await create(s.alice, quiet)
    ma = mark(s.alice)
    ok(await subscribe(s.carol, quiet))
    await s.barrier.wait(s.alice)
    assert not messages(s.alice, lambda x: subscription_event(x, quiet) is not None, ma)


@tap.test
async def delete_nodes(env):
    """delete: subscribers (pending ones too) are told, with the redirect; the name is free again"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node, {"pubsub#access_model": "authorize"})
    ok(await set_affiliations(s.alice, node, [(jid("carol"), "member")]))
    ok(await subscribe(s.carol, node))
    r = ok(await subscribe(s.dave, node))
    assert subscription_of(r)[2] == "pending"
    ok(await publish(s.alice, node, "gone"))
    err(await ps(s.carol, "set", "<delete node=%s/>" % attr(node), owner=True), "forbidden", "auth", "")
    err(await ps(s.alice, "set", "<delete node=%s/>" % attr(uid("missing")), owner=True), "item-not-found", "cancel")
    err(await ps(s.alice, "set", "<delete node=%s><redirect/></delete>" % attr(node), owner=True), "bad-request",
        "modify")
    err(await ps(s.alice, "set", "<delete node=%s><redirect uri='not a uri'/></delete>" % attr(node), owner=True),
        "bad-request", "modify")
    m1, m2 = mark(s.carol), mark(s.dave)
    uri = "xmpp:pubsub.calendar.localhost?;node=%s-new" % node
    ok(await ps(s.alice, "set", "<delete node=%s><redirect uri=%s/></delete>" % (attr(node), attr(uri)), owner=True))
    for c, m in ((s.carol, m1), (s.dave, m2)):
        n = await wait_msg(c, lambda x: (event_kind(x, node) or [None])[0] == "delete", m)
        red = event_kind(n, node)[1].find("{%s}redirect" % NS_EVENT)
        assert red is not None and red.get("uri") == uri
    err(await get_items(s.carol, node), "item-not-found", "cancel", "", "the node is gone")
    err(await subscribe(s.carol, node), "item-not-found", "cancel", "")
    r = ok(await ps(s.carol, "get", "<subscriptions/>"))
    assert node not in [x.get("node") for x in r.iter("{%s}subscription" % NS_PS)]
    # the name can be taken again at once; the new node starts empty, without subscribers
    await create(s.bob, node)
    assert item_ids(ok(await get_items(s.bob, node))) == []
    assert await get_subscriptions(s.bob, node) == []
    assert await get_affiliations(s.bob, node) == {jid("bob"): "owner"}
    # notify_delete=false: deleted without a word
    quiet = uid()
    await create(s.alice, quiet, {"pubsub#notify_delete": "0"})
    ok(await subscribe(s.carol, quiet))
    m = mark(s.carol)
    ok(await ps(s.alice, "set", "<delete node=%s/>" % attr(quiet), owner=True))
    await s.barrier.wait(s.carol)
    assert not messages(s.carol, lambda x: event_kind(x, quiet), m)


@tap.test
async def purge_nodes(env):
    """purge: every item goes, subscribers get one <purge/>; owners and publishers only"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node)
    ok(await set_affiliations(s.alice, node, [(jid("bob"), "publisher"), (jid("dave"), "member")]))
    ok(await subscribe(s.carol, node))
    for i in range(3):
        ok(await publish(s.alice, node, "p%d" % i))
    err(await ps(s.carol, "set", "<purge node=%s/>" % attr(node), owner=True), "forbidden", "auth", "")
    err(await ps(s.dave, "set", "<purge node=%s/>" % attr(node), owner=True), "forbidden", "auth", "", "a member")
    err(await ps(s.alice, "set", "<purge node=%s/>" % attr(uid("missing")), owner=True), "item-not-found", "cancel")
    # a publish is answered before its fan-out: the last one's notification may still be
    # on its way, and must not be counted after the mark
    await s.barrier.wait(s.carol)
    m = mark(s.carol)
    ok(await ps(s.bob, "set", "<purge node=%s/>" % attr(node), owner=True), "a publisher purges (4.1)")
    n = await wait_msg(s.carol, lambda x: (event_kind(x, node) or [None])[0] == "purge", m)
    assert n["type"] == "headline"
    assert item_ids(ok(await get_items(s.carol, node))) == []
    await s.barrier.wait(s.carol)
    assert len(messages(s.carol, lambda x: event_kind(x, node), m)) == 1, "one <purge/>, no per-item retracts"
    # without notify_retract, no purge notification (checklist P12)
    ok(await configure(s.alice, node, {"pubsub#notify_retract": "0"}))
    ok(await publish(s.alice, node, "again"))
    m = mark(s.carol)
    ok(await ps(s.alice, "set", "<purge node=%s/>" % attr(node), owner=True))
    await s.barrier.wait(s.carol)
    assert not messages(s.carol, lambda x: (event_kind(x, node) or [None])[0] == "purge", m)


@tap.test
async def manage_subscriptions(env):
    """owner subscriptions: list, subscribe someone, remove someone (who is told), partial failures echoed"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node)
    ok(await subscribe(s.carol, node))
    assert await get_subscriptions(s.alice, node) == [(jid("carol"), "subscribed")]
    err(await ps(s.carol, "get", "<subscriptions node=%s/>" % attr(node), owner=True), "forbidden", "auth", "")
    err(await set_subscriptions(s.carol, node, [(jid("dave"), "subscribed", None)]), "forbidden", "auth", "")
    err(await ps(s.alice, "get", "<subscriptions/>", owner=True), "bad-request", "modify", "nodeid-required")
    err(await ps(s.alice, "get", "<subscriptions node=%s/>" % attr(uid("missing")), owner=True), "item-not-found",
        "cancel")
    # the owner subscribes dave and removes carol: both are told (8.8.4)
    m1, m2 = mark(s.carol), mark(s.dave)
    ok(await set_subscriptions(s.alice, node, [(jid("dave"), "subscribed", None), (jid("carol"), "none", None)]))
    n = await wait_msg(s.dave, lambda x: subscription_event(x, node) is not None, m2)
    assert subscription_event(n, node) == (jid("dave"), "subscribed")
    n = await wait_msg(s.carol, lambda x: subscription_event(x, node) is not None, m1)
    assert subscription_event(n, node) == (jid("carol"), "none")
    assert await get_subscriptions(s.alice, node) == [(jid("dave"), "subscribed")]
    m2 = mark(s.dave)
    ok(await publish(s.alice, node, "for-dave"))
    await wait_msg(s.dave, lambda x: notified_items(x, node) == ["for-dave"], m2)
    # several entries, some invalid: the valid ones apply, the others come back with their
    # unchanged state (8.8.2.4)
    r = await set_subscriptions(s.alice, node, [(jid("carol"), "subscribed", None),
                                                (jid("dave"), "bogus", None),
                                                (jid("dave"), "none", "no-such-subid"),
                                                ("not a jid@@", "subscribed", None),
                                                (jid("bob"), "pending", None)])
    err(r, "not-acceptable", "modify", "")
    echoed = sorted((x.get("jid"), x.get("subscription"))
                    for x in r.findall(".//{%s}subscriptions/{%s}subscription" % (NS_OWNER, NS_OWNER)))
    # a bad state keeps dave's subscribed; a subid that names nothing is none
    assert echoed == sorted([(jid("dave"), "subscribed"), (jid("dave"), "none"), ("not a jid@@", "none"),
                             (jid("bob"), "none")]), echoed
    assert r.find(".//{%s}subscriptions" % NS_OWNER).get("node") == node
    assert await get_subscriptions(s.alice, node) == sorted([(jid("carol"), "subscribed"),
                                                             (jid("dave"), "subscribed")])
    # an entry without a subscription attribute changes nothing; removing a non-subscriber is fine
    ok(await set_subscriptions(s.alice, node, [(jid("carol"), None, None), (jid("eve"), "none", None)]))
    assert await get_subscriptions(s.alice, node) == sorted([(jid("carol"), "subscribed"),
                                                             (jid("dave"), "subscribed")])
    # an outcast cannot be subscribed by anyone
    ok(await set_affiliations(s.alice, node, [(jid("eve"), "outcast")]))
    r = await set_subscriptions(s.alice, node, [(jid("eve"), "subscribed", None)])
    err(r, "not-acceptable", "modify", "")
    assert (jid("eve"), "subscribed") not in await get_subscriptions(s.alice, node)


@tap.test
async def manage_affiliations(env):
    """owner affiliations: every affiliation, the entity is told, the last owner stays, duplicates refused"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node)
    ok(await subscribe(s.eve, node))
    ok(await subscribe(s.dave, node))
    err(await ps(s.carol, "get", "<affiliations node=%s/>" % attr(node), owner=True), "forbidden", "auth", "")
    err(await set_affiliations(s.carol, node, [(jid("carol"), "owner")]), "forbidden", "auth", "")
    err(await ps(s.alice, "get", "<affiliations node=%s/>" % attr(uid("missing")), owner=True), "item-not-found",
        "cancel")
    m = mark(s.bob)
    ok(await set_affiliations(s.alice, node, [(jid("bob"), "publisher"), (jid("carol"), "publish-only"),
                                              (jid("dave", "res"), "member"), (jid("eve"), "outcast")]))
    assert await get_affiliations(s.alice, node) == {
        jid("alice"): "owner", jid("bob"): "publisher", jid("carol"): "publish-only", jid("dave"): "member",
        jid("eve"): "outcast"}, "full JIDs are stored as bare JIDs; none is never listed"
    n = await wait_msg(s.bob, lambda x: affiliation_message(x, node) is not None, m)
    assert affiliation_message(n, node) == (jid("bob"), "publisher"), "the entity is told (8.9.4)"
    # the outcast lost its subscription and was told so; it can do nothing more
    assert (jid("eve"), "subscribed") not in await get_subscriptions(s.alice, node)
    err(await subscribe(s.eve, node), "forbidden", "auth", "")
    err(await get_items(s.eve, node), "forbidden", "auth", "")
    err(await publish(s.eve, node, "x"), "forbidden", "auth", "")
    # the publisher publishes; publish-only publishes but may not subscribe or read (4.1)
    ok(await publish(s.bob, node, "b1"))
    ok(await publish(s.carol, node, "c1"))
    err(await subscribe(s.carol, node), "forbidden", "auth", "")
    err(await get_items(s.carol, node), "forbidden", "auth", "")
    # the last owner can never be removed (8.9.2.4): the entry comes back with its current value
    for target in ("none", "member", "outcast", "publisher"):
        r = await set_affiliations(s.alice, node, [(jid("alice"), target)])
        err(r, "not-acceptable", "modify", "", "the last owner to %s" % target)
        echoed = [(a.get("jid"), a.get("affiliation")) for a in r.iter("{%s}affiliation" % NS_OWNER)]
        assert echoed == [(jid("alice"), "owner")], echoed
    # with a second owner in the same request, the first may leave
    ok(await set_affiliations(s.alice, node, [(jid("bob"), "owner"), (jid("alice"), "none")]))
    assert await get_affiliations(s.bob, node) == {jid("bob"): "owner", jid("carol"): "publish-only",
                                                   jid("dave"): "member", jid("eve"): "outcast"}
    err(await ps(s.alice, "get", "<affiliations node=%s/>" % attr(node), owner=True), "forbidden", "auth", "",
        "alice is no longer an owner")
    # duplicates: bad-request, nothing applied
    err(await set_affiliations(s.bob, node, [(jid("carol"), "member"), (jid("carol", "x"), "publisher")]),
        "bad-request", "modify", "")
    assert (await get_affiliations(s.bob, node))[jid("carol")] == "publish-only"
    # partial failure: valid entries apply, invalid ones come back with their current value
    r = await set_affiliations(s.bob, node, [(jid("carol"), "member"), (jid("dave"), "emperor"),
                                             ("@@bad", "member")])
    err(r, "not-acceptable", "modify", "")
    echoed = sorted((a.get("jid"), a.get("affiliation")) for a in r.iter("{%s}affiliation" % NS_OWNER))
    assert echoed == sorted([(jid("dave"), "member"), ("@@bad", "none")]), echoed
    got = await get_affiliations(s.bob, node)
    assert got[jid("carol")] == "member" and got[jid("dave")] == "member", got
    # the outcast is let back in by setting none
    ok(await set_affiliations(s.bob, node, [(jid("eve"), "none")]))
    ok(await subscribe(s.eve, node))


@tap.test
async def loss_of_access_by_affiliation(env):
    """a member taken off a whitelist, or made publish-only, loses its subscription and is told"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node, {"pubsub#access_model": "whitelist"})
    ok(await set_affiliations(s.alice, node, [(jid("carol"), "member"), (jid("dave"), "member")]))
    ok(await subscribe(s.carol, node))
    ok(await subscribe(s.dave, node))
    m1, m2 = mark(s.carol), mark(s.dave)
    ok(await set_affiliations(s.alice, node, [(jid("carol"), "none"), (jid("dave"), "publish-only")]))
    for c, m, who in ((s.carol, m1, "carol"), (s.dave, m2, "dave")):
        n = await wait_msg(c, lambda x: subscription_event(x, node) is not None, m)
        assert subscription_event(n, node) == (jid(who), "none")
    assert await get_subscriptions(s.alice, node) == []
    m1 = mark(s.carol)
    ok(await publish(s.alice, node, "secret"))
    await s.barrier.wait(s.carol)
    assert not messages(s.carol, lambda x: notified_items(x, node), m1), "no more notifications"
    err(await get_items(s.carol, node), "not-allowed", "cancel", "closed-node")


@tap.test
async def admins_act_as_owners(env):
    """a service admin configures, manages, purges and deletes any node, and reads whitelist nodes"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node, {"pubsub#access_model": "whitelist"})
    ok(await publish(s.alice, node, "x"))
    assert item_ids(ok(await get_items(s.admin, node))) == ["x"]
    ok(await subscribe(s.admin, node))
    ok(await configure(s.admin, node, {"pubsub#title": "by admin"}))
    assert (await get_config(s.alice, node))["pubsub#title"] == "by admin"
    ok(await set_affiliations(s.admin, node, [(jid("carol"), "member")]))
    assert (await get_affiliations(s.admin, node))[jid("carol")] == "member"
    ok(await set_subscriptions(s.admin, node, [(jid("carol"), "subscribed", None)]))
    assert (jid("carol"), "subscribed") in await get_subscriptions(s.admin, node)
    ok(await publish(s.admin, node, "y"))
    ok(await ps(s.admin, "set", "<retract node=%s><item id='x'/></retract>" % attr(node)))
    ok(await ps(s.admin, "set", "<purge node=%s/>" % attr(node), owner=True))
    # an admin can even make itself an outcast without losing its powers
    ok(await set_affiliations(s.admin, node, [(jid("admin"), "outcast")]))
    ok(await configure(s.admin, node, {"pubsub#title": "still admin"}))
    ok(await ps(s.admin, "set", "<delete node=%s/>" % attr(node), owner=True))
    err(await get_items(s.alice, node), "item-not-found", "cancel")


def main():
    tap.run(lambda server: environment(server=server, users=USERS))


if __name__ == "__main__":
    main()
