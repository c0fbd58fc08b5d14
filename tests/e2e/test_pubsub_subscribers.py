"""test_pubsub_subscribers.py: the XEP-0060 subscriber use cases end to end: subscribe and
unsubscribe (bare and full JIDs, someone else's JID), multiple subscriptions with SubIDs
and SHIM headers, subscription options (deliver, include_body, subscribe-with-options,
defaults), item retrieval (all, max_items, by id, RSM forwards and backwards over 25
items, index, count, unknown anchors), one's own subscriptions and affiliations, and the
fan-out's kept subscriber list, which follows every write to a node's subscriptions."""

import asyncio
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import environment  # noqa: E402
from pubsub_lib import (shared_clients, FORM_SUB_OPTIONS, NS_PS, NS_RSM, NS_XDATA, attr, create, err, form,  # noqa: E402
                        form_values, get_items, item_ids, jid, mark, messages, notified_items, notified_retracts, ok, ps, publish,
                        rsm_of, set_affiliations, shim_subids, subscribe, subscription_of, uid, unsubscribe,
                        wait_msg)

USERS = ("alice", "bob", "carol", "dave", "eve", "admin")


async def clients(env):
    return await shared_clients(env, {
        "alice": "alice",               # owner of the nodes
        "carol": ("carol", "phone"),    # subscriber
        "carol2": ("carol", "laptop"),  # the same subscriber, another resource
        "dave": "dave",                 # another subscriber
        "admin": "admin",               # subscribes other JIDs (group commit)
    }, barrier=True)


@tap.test
async def subscribe_bare_and_full(env):
    """subscribe with a bare JID reaches every resource, with a full JID that resource only"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node)
    r = ok(await subscribe(s.carol, node, jid("carol")), "bare subscribe")
    sub_jid, subid, state = subscription_of(r)
    assert (sub_jid, state) == (jid("carol"), "subscribed") and subid, subscription_of(r)
    assert r.find(".//{%s}subscription/{%s}subscribe-options" % (NS_PS, NS_PS)) is not None, \
        "options are supported but not required (6.1.5)"
    r = ok(await subscribe(s.dave, node, jid("dave", "test")), "full subscribe")
    assert subscription_of(r)[:3:2] == (jid("dave", "test"), "subscribed")
    m1, m2, m3 = mark(s.carol), mark(s.carol2), mark(s.dave)
    ok(await publish(s.alice, node, "i1"), "publish")
    for c, m in ((s.carol, m1), (s.carol2, m2), (s.dave, m3)):
        n = await wait_msg(c, lambda x: notified_items(x, node) == ["i1"], m)
        assert n["type"] == "headline", "notifications default to headline (P15)"
        assert n["id"], "every notification has an id (12.4)"
    # dave's notification was addressed to his full JID
    n = await wait_msg(s.dave, lambda x: notified_items(x, node) == ["i1"], m3)
    assert n["to"] == jid("dave", "test"), n["to"]
    # subscribing again is idempotent: the same subscription comes back (6.1.6)
    r = ok(await subscribe(s.carol, node, jid("carol")), "re-subscribe")
    assert subscription_of(r) == (jid("carol"), subid, "subscribed"), subscription_of(r)
    # a full JID of one's own is fine from another resource too
    r = ok(await subscribe(s.carol, node, jid("carol", "laptop")), "subscribe another resource of mine")
    # unsubscribe the bare subscription: the full one stays
    r = ok(await unsubscribe(s.carol, node, jid("carol")), "unsubscribe")
    assert subscription_of(r) == (jid("carol"), subid, "none"), subscription_of(r)
    m1, m2 = mark(s.carol), mark(s.carol2)
    ok(await publish(s.alice, node, "i2"), "publish")
    await wait_msg(s.carol2, lambda x: notified_items(x, node) == ["i2"], m2)
    await s.barrier.wait(s.carol)
    assert not messages(s.carol, lambda x: notified_items(x, node) == ["i2"], m1), \
        "the phone resource is no longer subscribed"
    # unsubscribing what is not subscribed: unexpected-request (cancel) + not-subscribed (6.2.3.2)
    err(await unsubscribe(s.carol, node, jid("carol")), "unexpected-request", "cancel", "not-subscribed")
    # the bare JID does not name the full JID's subscription (checklist P34)
    err(await unsubscribe(s.dave, node, jid("dave")), "unexpected-request", "cancel", "not-subscribed")
    ok(await unsubscribe(s.dave, node, jid("dave", "test")), "unsubscribe full")


@tap.test
async def someone_elses_jid(env):
    """a JID that is not the sender's: subscribe is bad-request + invalid-jid, unsubscribe and options forbidden"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node)
    err(await subscribe(s.carol, node, jid("dave")), "bad-request", "modify", "invalid-jid", "subscribe dave")
    err(await subscribe(s.carol, node, "dave@localhost/carol"), "bad-request", "modify", "invalid-jid")
    err(await subscribe(s.carol, node, "not a jid@@"), "bad-request", "modify", "invalid-jid", "malformed jid")
    err(await unsubscribe(s.carol, node, "not a jid@@"), "jid-malformed", "modify", "", "malformed jid")
    ok(await subscribe(s.dave, node), "dave subscribes")
    err(await unsubscribe(s.carol, node, jid("dave")), "forbidden", "auth", "", "unsubscribe dave (6.2.3.3)")
    err(await ps(s.carol, "get", "<options node=%s jid=%s/>" % (attr(node), attr(jid("dave")))), "forbidden", "auth",
        "", "options of dave (6.3.4.1)")
    # nothing happened to dave's subscription
    r = ok(await ps(s.dave, "get", "<subscriptions node=%s/>" % attr(node)))
    assert [x.get("subscription") for x in r.iter("{%s}subscription" % NS_PS)] == ["subscribed"]
    # the node must exist (6.1.3.12) and be named (checklist P30)
    err(await subscribe(s.carol, uid("missing")), "item-not-found", "cancel", "")
    err(await ps(s.carol, "set", "<subscribe jid=%s/>" % attr(jid("carol"))), "bad-request", "modify",
        "nodeid-required")
    err(await unsubscribe(s.carol, uid("missing")), "item-not-found", "cancel", "")
    # a subscribe without jid is the sender's bare JID (XEP-0060 16.6 URIs, checklist P21)
    r = ok(await ps(s.carol, "set", "<subscribe node=%s/>" % attr(node)))
    assert subscription_of(r)[0] == jid("carol"), subscription_of(r)


@tap.test
async def multi_subscribe(env):
    """x-calpubsub#multi_subscribe: several SubIDs per JID, subid-required, invalid-subid, SHIM SubID headers"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node, {"x-calpubsub#multi_subscribe": "1"})
    r1 = ok(await subscribe(s.carol, node), "first")
    r2 = ok(await subscribe(s.carol, node), "second")
    sub1, sub2 = subscription_of(r1)[1], subscription_of(r2)[1]
    assert sub1 and sub2 and sub1 != sub2, (sub1, sub2)
    m = mark(s.carol)
    ok(await publish(s.alice, node, "x"), "publish")
    n = await wait_msg(s.carol, lambda x: notified_items(x, node) == ["x"], m)
    assert shim_subids(n) == sorted([sub1, sub2]), shim_subids(n)
    assert n.xml[-1].tag == "{http://jabber.org/protocol/shim}headers", "SHIM headers come last (12.16)"
    await s.barrier.wait(s.carol)
    assert len(messages(s.carol, lambda x: notified_items(x, node) == ["x"], m)) == 1, \
        "one notification per JID, whatever its subscriptions (6.1.6)"
    # retract notifications carry the headers too (7.2.2.2)
    m = mark(s.carol)
    ok(await ps(s.alice, "set", "<retract node=%s notify='1'><item id='x'/></retract>" % attr(node)))
    n = await wait_msg(s.carol, lambda x: notified_retracts(x, node) == ["x"], m)
    assert shim_subids(n) == sorted([sub1, sub2]), shim_subids(n)
    # which subscription? (6.2.3.1, 6.3.4.4)
    err(await unsubscribe(s.carol, node), "bad-request", "modify", "subid-required")
    err(await ps(s.carol, "get", "<options node=%s jid=%s/>" % (attr(node), attr(jid("carol")))), "bad-request",
        "modify", "subid-required")
    err(await unsubscribe(s.carol, node, subid="bogus"), "not-acceptable", "modify", "invalid-subid")
    err(await ps(s.carol, "get", "<options node=%s jid=%s subid='bogus'/>" % (attr(node), attr(jid("carol")))),
        "not-acceptable", "modify", "invalid-subid")
    # one subscription's options, by subid
    r = ok(await ps(s.carol, "get", "<options node=%s jid=%s subid=%s/>" % (attr(node), attr(jid("carol")),
                                                                            attr(sub1))))
    assert r.find(".//{%s}options" % NS_PS).get("subid") == sub1
    # own subscriptions list both, with subids
    r = ok(await ps(s.carol, "get", "<subscriptions node=%s/>" % attr(node)))
    assert sorted(x.get("subid") for x in r.iter("{%s}subscription" % NS_PS)) == sorted([sub1, sub2])
    # pause one subscription: still one notification, listing only the other in SHIM
    ok(await ps(s.carol, "set", "<options node=%s jid=%s subid=%s>%s</options>"
                % (attr(node), attr(jid("carol")), attr(sub1), form(FORM_SUB_OPTIONS, {"pubsub#deliver": "0"}))))
    r = ok(await unsubscribe(s.carol, node, subid=sub2), "unsubscribe one")
    assert subscription_of(r) == (jid("carol"), sub2, "none"), subscription_of(r)
    m = mark(s.carol)
    ok(await publish(s.alice, node, "y"), "publish")
    await s.barrier.wait(s.carol)
    assert not messages(s.carol, lambda x: notified_items(x, node) == ["y"], m), "the only delivering one is gone"
    ok(await ps(s.carol, "set", "<options node=%s jid=%s subid=%s>%s</options>"
                % (attr(node), attr(jid("carol")), attr(sub1), form(FORM_SUB_OPTIONS, {"pubsub#deliver": "1"}))))
    m = mark(s.carol)
    ok(await publish(s.alice, node, "z"), "publish")
    n = await wait_msg(s.carol, lambda x: notified_items(x, node) == ["z"], m)
    assert shim_subids(n) == [], "a single matching subscription needs no SHIM header"
    # subscribing again makes another one, up to a limit (6.1.3.9: policy-violation, type wait)
    r3 = ok(await subscribe(s.carol, node))
    assert subscription_of(r3)[1] not in (sub1, sub2)
    for _ in range(14):
        ok(await subscribe(s.carol, node))
    err(await subscribe(s.carol, node), "policy-violation", "wait", "too-many-subscriptions")
    # on a node without multi_subscribe, a subid that does not match is invalid-subid
    single = uid()
    await create(s.alice, single)
    r = ok(await subscribe(s.dave, single))
    err(await unsubscribe(s.dave, single, subid="nope"), "not-acceptable", "modify", "invalid-subid")
    ok(await unsubscribe(s.dave, single, subid=subscription_of(r)[1]))


@tap.test
async def subscription_options(env):
    """options: get, submit, pubsub#deliver pauses and resumes, pubsub#include_body adds a <body/>, defaults"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node)
    ok(await subscribe(s.carol, node))
    r = ok(await ps(s.carol, "get", "<options node=%s jid=%s/>" % (attr(node), attr(jid("carol")))), "get options")
    opts = r.find(".//{%s}options" % NS_PS)
    assert opts.get("node") == node and opts.get("jid") == jid("carol")
    x = opts.find("{%s}x" % NS_XDATA)
    assert x.get("type") == "form"
    assert form_values(x) == {"FORM_TYPE": FORM_SUB_OPTIONS, "pubsub#deliver": "true",
                              "pubsub#include_body": "false"}, form_values(x)

    async def set_opts(fields, c=s.carol):
        return await ps(c, "set", "<options node=%s jid=%s>%s</options>" % (attr(node), attr(jid("carol")),
                                                                            form(FORM_SUB_OPTIONS, fields)))
    # pause
    ok(await set_opts({"pubsub#deliver": "false"}), "pause")
    m = mark(s.carol)
    ok(await publish(s.alice, node, "paused"))
    await s.barrier.wait(s.carol)
    assert not messages(s.carol, lambda x: notified_items(x, node) == ["paused"], m), "delivery is paused"
    # the subscription itself stays: items and own subscriptions show it
    r = ok(await ps(s.carol, "get", "<subscriptions node=%s/>" % attr(node)))
    assert [x.get("subscription") for x in r.iter("{%s}subscription" % NS_PS)] == ["subscribed"]
    # resume, with a body
    ok(await set_opts({"pubsub#deliver": "1", "pubsub#include_body": "true"}), "resume with body")
    m = mark(s.carol)
    ok(await publish(s.alice, node, "resumed", "<entry xmlns='urn:example:payload'><title>Team lunch</title>"
                     "<summary>Friday at noon</summary></entry>"))
    n = await wait_msg(s.carol, lambda x: notified_items(x, node) == ["resumed"], m)
    assert n["body"] == "Team lunch", "the body is the payload's title: %r" % n["body"]
    assert n.xml.find(".//{urn:example:payload}entry") is not None, "the payload is still there"
    # without include_body: no body
    ok(await set_opts({"pubsub#include_body": "0"}), "no body")
    m = mark(s.carol)
    ok(await publish(s.alice, node, "plain"))
    n = await wait_msg(s.carol, lambda x: notified_items(x, node) == ["plain"], m)
    assert not n["body"], "no body without include_body"
    # a partial submission keeps the other option
    r = ok(await ps(s.carol, "get", "<options node=%s jid=%s/>" % (attr(node), attr(jid("carol")))))
    assert form_values(r.find(".//{%s}x" % NS_XDATA))["pubsub#deliver"] == "true"
    # errors (6.3.4, 6.3.6.2)
    err(await set_opts({"pubsub#deliver": "maybe"}), "bad-request", "modify", "invalid-options")
    err(await ps(s.carol, "set", "<options node=%s jid=%s>%s</options>"
                 % (attr(node), attr(jid("carol")), form("urn:example:other", {"pubsub#deliver": "1"}))),
        "bad-request", "modify", "invalid-options", "wrong FORM_TYPE")
    err(await ps(s.carol, "get", "<options node=%s/>" % attr(node)), "bad-request", "modify", "jid-required")
    err(await ps(s.carol, "get", "<options jid=%s/>" % attr(jid("carol"))), "bad-request", "modify",
        "nodeid-required")
    err(await ps(s.dave, "get", "<options node=%s jid=%s/>" % (attr(node), attr(jid("dave")))),
        "unexpected-request", "modify", "not-subscribed")
    err(await ps(s.carol, "get", "<options node=%s jid=%s/>" % (attr(uid("missing")), attr(jid("carol")))),
        "item-not-found", "cancel")
    # subscribe with options in one request (6.3.7)
    r = ok(await subscribe(s.dave, node, options={"pubsub#include_body": "1"}), "subscribe with options")
    assert subscription_of(r)[2] == "subscribed"
    x = r.find(".//{%s}options/{%s}x" % (NS_PS, NS_XDATA))
    assert x is not None and x.get("type") == "result", "the reply carries the options as a result form"
    assert form_values(x)["pubsub#include_body"] == "true"
    m = mark(s.dave)
    ok(await publish(s.alice, node, "for-dave"))
    n = await wait_msg(s.dave, lambda x: notified_items(x, node) == ["for-dave"], m)
    assert n["body"], "dave asked for a body when subscribing"
    # <options/> in a subscribe request must not carry node or jid (6.3.7)
    err(await ps(s.dave, "set", "<subscribe node=%s jid=%s/><options node=%s>%s</options>"
                 % (attr(node), attr(jid("dave")), attr(node), form(FORM_SUB_OPTIONS, {}))), "bad-request", "modify")
    # default subscription options (6.4), service-wide and per node
    for inner in ("<default/>", "<default node=%s/>" % attr(node)):
        r = ok(await ps(s.dave, "get", inner), inner)
        x = r.find(".//{%s}default/{%s}x" % (NS_PS, NS_XDATA))
        assert x.get("type") == "result"
        assert form_values(x) == {"FORM_TYPE": FORM_SUB_OPTIONS, "pubsub#deliver": "true",
                                  "pubsub#include_body": "false"}, form_values(x)
    err(await ps(s.dave, "get", "<default node=%s/>" % attr(uid("missing"))), "item-not-found", "cancel")


@tap.test
async def retrieve_items(env):
    """items: all, max_items (the newest), by id (in request order), an empty node, errors"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node)
    empty = ok(await get_items(s.carol, node), "empty node")
    assert item_ids(empty) == [] and empty.find(".//{%s}items" % NS_PS).get("node") == node, \
        "an empty <items node/> (6.5.9.12)"
    for i in range(5):
        ok(await publish(s.alice, node, "i%d" % i))
    r = ok(await get_items(s.carol, node))
    assert item_ids(r) == ["i0", "i1", "i2", "i3", "i4"], item_ids(r)
    assert rsm_of(r) is None, "nothing left out, no <set/>"
    assert r.find(".//{urn:example:payload}entry") is not None, "items carry their payload"
    assert r.find(".//{%s}item" % NS_PS).get("publisher") is None, "no publisher unless itemreply=publisher"
    r = ok(await get_items(s.carol, node, max_items=2))
    assert item_ids(r) == ["i3", "i4"], "max_items gives the most recent, oldest first: %s" % item_ids(r)
    r = ok(await get_items(s.carol, node, max_items=50))
    assert item_ids(r) == ["i0", "i1", "i2", "i3", "i4"]
    r = ok(await get_items(s.carol, node, ids=["i3", "nope", "i1"]))
    assert item_ids(r) == ["i3", "i1"], "named items in request order, unknown ones left out: %s" % item_ids(r)
    r = ok(await get_items(s.carol, node, ids=["nope"]))
    assert item_ids(r) == []
    # re-publishing moves an item to the end (12.1)
    ok(await publish(s.alice, node, "i1", "<entry xmlns='urn:example:payload'><title>v2</title></entry>"))
    r = ok(await get_items(s.carol, node))
    assert item_ids(r) == ["i0", "i2", "i3", "i4", "i1"], item_ids(r)
    assert r.findall(".//{urn:example:payload}title")[-1].text == "v2"
    # itemreply=publisher shows who published, in retrieval as in notifications (7.1.2.3)
    ok(await ps(s.alice, "set", "<configure node=%s>%s</configure>" % (attr(node), form(
        "http://jabber.org/protocol/pubsub#node_config", {"pubsub#itemreply": "publisher"})), owner=True))
    r = ok(await get_items(s.carol, node, ids=["i0"]))
    assert r.find(".//{%s}item" % NS_PS).get("publisher") == jid("alice")
    # errors
    err(await get_items(s.carol, uid("missing")), "item-not-found", "cancel", "")
    err(await ps(s.carol, "get", "<items/>"), "bad-request", "modify", "nodeid-required")
    for bad in ("0", "-1", "x", "1.5"):
        err(await get_items(s.carol, node, max_items=bad), "bad-request", "modify", "", "max_items=%s" % bad)
    err(await ps(s.carol, "get", "<items node=%s><item/></items>" % attr(node)), "bad-request", "modify")


@tap.test
async def rsm_paging(env):
    """RSM over 25 items: forwards with <after/>, backwards with <before/>, <index/>, <count/>, max=0"""
    s = await clients(env)
    node = uid()
    await create(s.alice, node)
    ids = ["it%02d" % i for i in range(25)]
    for i in ids:
        ok(await publish(s.alice, node, i))

    async def page(rsm, max_items=None):
        r = ok(await get_items(s.carol, node, rsm=rsm, max_items=max_items), rsm)
        return item_ids(r), rsm_of(r)

    # forwards
    got, st = await page("<max>10</max>")
    assert got == ids[0:10] and st == (ids[0], 0, ids[9], 25), (got, st)
    got, st = await page("<max>10</max><after>%s</after>" % ids[9])
    assert got == ids[10:20] and st == (ids[10], 10, ids[19], 25), (got, st)
    got, st = await page("<max>10</max><after>%s</after>" % ids[19])
    assert got == ids[20:25] and st == (ids[20], 20, ids[24], 25), (got, st)
    got, st = await page("<max>10</max><after>%s</after>" % ids[24])
    assert got == [] and st == (None, None, None, 25), "past the end: an empty page, no first/last: %s" % (st,)
    # backwards: the empty <before/> is the last page (XEP-0059 2.5)
    got, st = await page("<max>10</max><before/>")
    assert got == ids[15:25] and st == (ids[15], 15, ids[24], 25), (got, st)
    got, st = await page("<max>10</max><before>%s</before>" % ids[15])
    assert got == ids[5:15] and st == (ids[5], 5, ids[14], 25), (got, st)
    got, st = await page("<max>10</max><before>%s</before>" % ids[5])
    assert got == ids[0:5] and st == (ids[0], 0, ids[4], 25), (got, st)
    got, st = await page("<max>10</max><before>%s</before>" % ids[0])
    assert got == [] and st == (None, None, None, 25), (got, st)
    # index (2.6)
    got, st = await page("<max>4</max><index>7</index>")
    assert got == ids[7:11] and st == (ids[7], 7, ids[10], 25), (got, st)
    got, st = await page("<max>10</max><index>20</index>")
    assert got == ids[20:25] and st[1] == 20, (got, st)
    got, st = await page("<max>10</max><index>25</index>")
    assert got == [] and st[3] == 25, (got, st)
    got, st = await page("<max>10</max><index>99999999999</index>")
    assert got == [] and st[3] == 25, "a huge index is an empty page: %s" % (st,)
    # count only (2.7)
    got, st = await page("<max>0</max>")
    assert got == [] and st == (None, None, None, 25), (got, st)
    # <set/> without <max/>: everything, from the start, with a <set/>
    got, st = await page("")
    assert got == ids and st == (ids[0], 0, ids[24], 25), (got, st)
    # RSM governs over max_items
    got, st = await page("<max>3</max>", max_items=10)
    assert got == ids[0:3], got
    # a huge <max/> is capped, not refused
    got, st = await page("<max>99999999999</max>")
    assert got == ids, got
    # a page through a re-publish: the item moves to the end and is not seen twice
    got1, st = await page("<max>10</max>")
    ok(await publish(s.alice, node, ids[3]))
    got2, st = await page("<max>20</max><after>%s</after>" % got1[-1])
    assert got2 == ids[10:25] + [ids[3]], got2
    # unknown anchors: item-not-found (XEP-0059 2.4)
    for rsm in ("<max>5</max><after>nope</after>", "<max>5</max><before>nope</before>"):
        got = await get_items(s.carol, node, rsm=rsm)
        err(got, "item-not-found", "cancel", "", rsm)
    # bogus values and conflicting anchors: bad-request
    for rsm in ("<max>-1</max>", "<max>ten</max>", "<max>1.5</max>", "<index>-2</index>", "<index>x</index>",
                "<max>99999999999999999999999</max>", "<after>a</after><before>b</before>",
                "<after>a</after><index>1</index>", "<after/>"):
        err(await get_items(s.carol, node, rsm=rsm), "bad-request", "modify", "", rsm)
    # the <set/> may also sit inside <items/> (checklist §5: be lenient)
    r = ok(await ps(s.carol, "get", "<items node=%s><set xmlns='%s'><max>2</max></set></items>" % (attr(node),
                                                                                                   NS_RSM)))
    assert len(item_ids(r)) == 2, item_ids(r)


@tap.test
async def own_subscriptions_and_affiliations(env):
    """one's own subscriptions and affiliations, service-wide and per node (5.6, 5.7)"""
    s = await clients(env)
    dave = s.dave
    n1, n2, n3 = uid(), uid(), uid()
    for n in (n1, n2, n3):
        await create(s.alice, n)
    # an empty list is an empty element, never an error
    bob = await env.client("bob")
    r = ok(await ps(bob, "get", "<subscriptions/>"))
    subs = r.find(".//{%s}subscriptions" % NS_PS)
    assert subs is not None and len(subs) == 0
    r = ok(await ps(bob, "get", "<affiliations/>"))
    affs = r.find(".//{%s}affiliations" % NS_PS)
    assert affs is not None and len(affs) == 0
    ok(await subscribe(bob, n1))
    ok(await subscribe(bob, n2, jid("bob", "test")))
    ok(await set_affiliations(s.alice, n2, [(jid("bob"), "publisher")]))
    ok(await set_affiliations(s.alice, n3, [(jid("bob"), "outcast")]))
    ok(await subscribe(dave, n1))
    r = ok(await ps(bob, "get", "<subscriptions/>"))
    got = sorted((x.get("node"), x.get("jid"), x.get("subscription"), bool(x.get("subid")))
                 for x in r.iter("{%s}subscription" % NS_PS) if x.get("node") in (n1, n2, n3))
    assert got == sorted([(n1, jid("bob"), "subscribed", True), (n2, jid("bob", "test"), "subscribed", True)]), got
    r = ok(await ps(bob, "get", "<subscriptions node=%s/>" % attr(n2)))
    assert r.find(".//{%s}subscriptions" % NS_PS).get("node") == n2
    assert [x.get("node") for x in r.iter("{%s}subscription" % NS_PS)] == [n2]
    r = ok(await ps(bob, "get", "<affiliations/>"))
    got = sorted((x.get("node"), x.get("affiliation")) for x in r.iter("{%s}affiliation" % NS_PS)
                 if x.get("node") in (n1, n2, n3))
    assert got == sorted([(n2, "publisher"), (n3, "outcast")]), "never 'none': %s" % got
    assert all(x.get("jid") is None for x in r.iter("{%s}affiliation" % NS_PS)), "no jid in the ps namespace"
    r = ok(await ps(bob, "get", "<affiliations node=%s/>" % attr(n3)))
    assert [(x.get("node"), x.get("affiliation")) for x in r.iter("{%s}affiliation" % NS_PS)] == [(n3, "outcast")]
    r = ok(await ps(s.alice, "get", "<affiliations/>"))
    owned = {x.get("node") for x in r.iter("{%s}affiliation" % NS_PS) if x.get("affiliation") == "owner"}
    assert {n1, n2, n3} <= owned
    for inner in ("<subscriptions node=%s/>", "<affiliations node=%s/>"):
        err(await ps(bob, "get", inner % attr(uid("missing"))), "item-not-found", "cancel", "", inner)


def subscribers_in_db(env, node):
    return env.postgres.psql(
        "SELECT coalesce(string_agg(s.jid, ',' ORDER BY s.jid), '') FROM calpubsub_subscription s "
        "JOIN calpubsub_node n ON n.id = s.node_id WHERE n.name = '%s' AND n.deleted_at IS NULL "
        "AND s.state = 'subscribed'" % node, dbname=env.calpubsub.dbname)


@tap.test
async def subscriptions_arriving_together(env):
    """subscriptions that arrive together share one commit; when one fails in the database the others are kept"""
    s = await clients(env)
    d = env.calpubsub
    node = uid()
    await create(s.alice, node)
    users = [jid("burst%02d" % i) for i in range(60)]
    since = d.log_mark()
    replies = await d.arriving_together([subscribe(s.admin, node, u) for u in users])
    for u, r in zip(users, replies):
        assert subscription_of(ok(r, "subscribe " + u))[::2] == (u, "subscribed"), subscription_of(r)
    assert subscribers_in_db(env, node) == ",".join(sorted(users))
    batches = [int(n) for n in re.findall(r"group commit: (\d+) requests? in one transaction", d.log_text()[since:])]
    assert max(batches, default=0) > 1, "60 subscriptions sent at once were committed one by one: %s" % batches
    # a subscription the database refuses (a trigger, standing for any failed statement):
    # it gets an error, the requests that shared its transaction are run again and kept
    poison = jid("poison")
    env.postgres.psql(
        "CREATE FUNCTION test_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.jid = '%s' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$; "
        "CREATE TRIGGER test_refuse_poison BEFORE INSERT ON calpubsub_subscription FOR EACH ROW "
        "EXECUTE FUNCTION test_refuse_poison()" % poison, dbname=d.dbname)
    try:
        node2 = uid()
        await create(s.alice, node2)
        more = [jid("late%02d" % i) for i in range(30)]
        asked = more[:15] + [poison] + more[15:]
        since = d.log_mark()
        replies = await d.arriving_together([subscribe(s.admin, node2, u) for u in asked])
        for u, r in zip(asked, replies):
            if u == poison:
                err(r, "internal-server-error", "cancel", what="the refused subscription")
            else:
                assert subscription_of(ok(r, "subscribe " + u))[::2] == (u, "subscribed"), subscription_of(r)
        assert subscribers_in_db(env, node2) == ",".join(sorted(more))
        failed = [int(n) for n in re.findall(r"group commit of (\d+) requests? failed; running each on its own",
                                             d.log_text()[since:])]
        assert failed and failed[0] > 1, "the refused subscription's batch was not rolled back and run again: %s" % failed
    finally:
        env.postgres.psql("DROP TRIGGER test_refuse_poison ON calpubsub_subscription; "
                          "DROP FUNCTION test_refuse_poison()", dbname=d.dbname)


@tap.test
async def subscriber_list_follows_every_write(env):
    """publishes to one node in a row see every write to its subscriptions in between, calpubsub's and another program's"""
    s = await clients(env)
    d = env.calpubsub
    node = uid()
    await create(s.alice, node)
    ok(await subscribe(s.carol, node, jid("carol")))
    await s.barrier.join(s.carol)
    await s.barrier.join(s.dave)

    async def receivers(item):
        m = {name: mark(getattr(s, name)) for name in ("carol", "dave")}
        ok(await publish(s.alice, node, item), "publish " + item)
        await s.barrier.wait(s.carol, s.dave)
        return sorted(name for name in m if messages(getattr(s, name), lambda x: notified_items(x, node) == [item], m[name]))

    def sql(statement):
        env.postgres.psql(statement % {"node": node.replace("'", "''"), "dave": jid("dave")}, dbname=d.dbname)

    assert await receivers("a") == ["carol"]
    assert await receivers("b") == ["carol"], "the same list twice"
    ok(await subscribe(s.dave, node, jid("dave")))
    assert await receivers("c") == ["carol", "dave"], "a new subscriber"
    ok(await ps(s.dave, "set", "<options node=%s jid=%s>%s</options>" % (
        attr(node), attr(jid("dave")), form(FORM_SUB_OPTIONS, {"pubsub#deliver": "0"}))))
    assert await receivers("d") == ["carol"], "a paused subscriber"
    ok(await unsubscribe(s.carol, node, jid("carol")))
    assert await receivers("e") == [], "an unsubscribed one"
    # another program's writes count as much (the trigger of sql/008 sees them)
    sql("UPDATE calpubsub_subscription SET deliver = true WHERE jid = '%(dave)s' "
        "AND node_id = (SELECT id FROM calpubsub_node WHERE name = '%(node)s')")
    assert await receivers("f") == ["dave"], "resumed by SQL"
    sql("DELETE FROM calpubsub_subscription WHERE jid = '%(dave)s' "
        "AND node_id = (SELECT id FROM calpubsub_node WHERE name = '%(node)s')")
    assert await receivers("g") == [], "removed by SQL"
    # a burst with a subscribe in the middle: it gets what was published after it
    ok(await subscribe(s.carol, node, jid("carol")))
    m = mark(s.carol)
    first = await asyncio.gather(*(publish(s.alice, node, "h%02d" % i) for i in range(10)))
    # an unsubscribe before the fan-out has reached a change takes that change away too
    await s.barrier.wait(s.carol)
    ok(await unsubscribe(s.carol, node, jid("carol")))
    later = await asyncio.gather(*(publish(s.alice, node, "i%02d" % i) for i in range(10)))
    for r in first + later:
        ok(r, "burst publish")
    await s.barrier.wait(s.carol)
    got = sorted(i for x in messages(s.carol, lambda x: notified_items(x, node), m) for i in notified_items(x, node))
    assert got == ["h%02d" % i for i in range(10)], got


def main():
    tap.run(lambda server: environment(server=server, users=USERS))


if __name__ == "__main__":
    main()
