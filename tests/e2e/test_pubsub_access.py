"""test_pubsub_access.py: who may do what, end to end. The permission matrix (every
affiliation, a service admin and an outsider, on a node of every access model, against
every operation) compared with a table; the authorize model with its approval forms
(XEP-0060 6.1.4, 8.6) and get-pending (8.7, XEP-0050); the presence model through a real
presence subscription; the refused roster model; and the pubsub.create_nodes policies."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import COMPONENT, async_wait_until, environment, error_of  # noqa: E402
from pubsub_lib import (shared_clients, FORM_AUTHORIZATION, NS_COMMANDS, NS_INFO, NS_ITEMS, NS_PS, NS_XDATA, attr,  # noqa: E402
                        create, err, event_kind, form, form_values, get_items, get_subscriptions, item_ids, jid, mark,
                        ok, payload, ps, publish, retract, service_ready, set_affiliations, subscribe,
                        subscription_of, uid, unsubscribe, wait_msg)

USERS = ("alice", "bob", "carol", "dave", "eve", "frank", "admin")


async def clients(env):
    return await shared_clients(env, {u: u for u in USERS})


def subscription_event(s, node):
    k = event_kind(s, node)
    if not k or k[0] != "subscription":
        return None
    return k[1].get("jid"), k[1].get("subscription")


# ---- the permission matrix ----

MODELS = ("open", "whitelist", "authorize", "presence")
# actor -> (user, affiliation on the matrix nodes)
ACTORS = {
    "owner": ("alice", None),
    "publisher": ("bob", "publisher"),
    "publish-only": ("carol", "publish-only"),
    "member": ("dave", "member"),
    "none": ("frank", None),
    "outcast": ("eve", "outcast"),
    "admin": ("admin", None),
}
OK, PENDING, FORB, CLOSED, PRES, NOTSUB, HIDDEN = "ok", "pending", "forbidden", "closed-node", "presence", \
    "not-subscribed", "hidden"
ERRORS = {FORB: ("forbidden", "auth", ""), CLOSED: ("not-allowed", "cancel", "closed-node"),
          PRES: ("not-authorized", "auth", "presence-subscription-required"),
          NOTSUB: ("not-authorized", "auth", "not-subscribed"), HIDDEN: ("item-not-found", "cancel", "")}
ALL = {m: OK for m in MODELS}
NONE = {m: FORB for m in MODELS}
# operation -> actor -> access model -> outcome (XEP-0060 4.1, 4.5, 6.1.3, 6.5.9, 7.1.3.1, 7.2.3.1, 8.x)
MATRIX = {
    "disco#info": dict(owner=ALL, publisher=ALL, member=ALL, admin=ALL, **{"publish-only": ALL},
                       none={"open": OK, "whitelist": HIDDEN, "authorize": OK, "presence": OK},
                       outcast={m: HIDDEN for m in MODELS}),
    "subscribe": dict(owner=ALL, publisher=ALL, member=ALL, admin=ALL, outcast=NONE, **{"publish-only": NONE},
                      none={"open": OK, "whitelist": CLOSED, "authorize": PENDING, "presence": PRES}),
    "retrieve": dict(owner=ALL, publisher=ALL, member=ALL, admin=ALL, outcast=NONE, **{"publish-only": NONE},
                     none={"open": OK, "whitelist": CLOSED, "authorize": NOTSUB, "presence": PRES}),
    "publish": dict(owner=ALL, publisher=ALL, admin=ALL, member=NONE, none=NONE, outcast=NONE,
                    **{"publish-only": ALL}),
    "retract own": dict(owner=ALL, publisher=ALL, admin=ALL, **{"publish-only": ALL}),
    "retract other's": dict(owner=ALL, publisher=ALL, admin=ALL, member=NONE, none=NONE, outcast=NONE,
                            **{"publish-only": NONE}),
    # a missing item: only those who may retract learn that it does not exist
    "retract missing": dict(owner={m: HIDDEN for m in MODELS}, publisher={m: HIDDEN for m in MODELS},
                            admin={m: HIDDEN for m in MODELS}, member=NONE, none=NONE, outcast=NONE,
                            **{"publish-only": {m: HIDDEN for m in MODELS}}),
    "purge": dict(owner=ALL, publisher=ALL, admin=ALL, member=NONE, none=NONE, outcast=NONE, **{"publish-only": NONE}),
    "get configuration": dict(owner=ALL, admin=ALL, publisher=NONE, member=NONE, none=NONE, outcast=NONE,
                              **{"publish-only": NONE}),
    "configure": dict(owner=ALL, admin=ALL, publisher=NONE, member=NONE, none=NONE, outcast=NONE,
                      **{"publish-only": NONE}),
    "get subscriptions": dict(owner=ALL, admin=ALL, publisher=NONE, member=NONE, none=NONE, outcast=NONE,
                              **{"publish-only": NONE}),
    "set affiliations": dict(owner=ALL, admin=ALL, publisher=NONE, member=NONE, none=NONE, outcast=NONE,
                             **{"publish-only": NONE}),
    "delete": dict(owner=ALL, admin=ALL, publisher=NONE, member=NONE, none=NONE, outcast=NONE,
                   **{"publish-only": NONE}),
}


async def matrix_node(s, model):
    node = uid(model)
    await create(s.alice, node, {"pubsub#access_model": model})
    affs = [(jid(user), aff) for user, aff in ACTORS.values() if aff]
    ok(await set_affiliations(s.alice, node, affs))
    return node


def outcome(reply, what):
    """The outcome name of a reply."""
    if reply.get("type") == "result":
        sub = reply.find(".//{%s}subscription" % NS_PS)
        return PENDING if sub is not None and sub.get("subscription") == "pending" else OK
    etype, cond, text, app = error_of(reply)
    for name, (c, t, a) in ERRORS.items():
        want_app = "{http://jabber.org/protocol/pubsub#errors}%s" % a if a else None
        if cond == c and etype == t and app == want_app:
            return name
    return "%s/%s + %s (%s)" % (cond, etype, app, text)


async def run_op(s, op, actor, c, node):
    me = c.boundjid.bare
    if op == "disco#info":
        return await c.raw_iq("get", "<query xmlns='%s' node=%s/>" % (NS_INFO, attr(node)))
    if op == "subscribe":
        r = await subscribe(c, node)
        if r.get("type") == "result":
            ok(await unsubscribe(c, node), "undo the subscription")
        return r
    if op == "retrieve":
        return await get_items(c, node)
    if op == "publish":
        return await publish(c, node, uid("by-" + actor))
    if op == "retract own":
        item = uid("own-" + actor)
        ok(await publish(c, node, item), "publish to retract")
        return await retract(c, node, item)
    if op == "retract other's":
        item = uid("victim")
        ok(await publish(s.alice, node, item))
        return await retract(c, node, item)
    if op == "retract missing":
        return await retract(c, node, uid("missing"))
    if op == "purge":
        return await ps(c, "set", "<purge node=%s/>" % attr(node), owner=True)
    if op == "get configuration":
        return await ps(c, "get", "<configure node=%s/>" % attr(node), owner=True)
    if op == "configure":
        return await ps(c, "set", "<configure node=%s>%s</configure>" % (
            attr(node), form("http://jabber.org/protocol/pubsub#node_config", {"pubsub#title": "by " + me})),
            owner=True)
    if op == "get subscriptions":
        return await ps(c, "get", "<subscriptions node=%s/>" % attr(node), owner=True)
    if op == "set affiliations":
        return await ps(c, "set", "<affiliations node=%s><affiliation jid='someone@localhost' affiliation='member'/>"
                        "</affiliations>" % attr(node), owner=True)
    if op == "delete":
        return await ps(c, "set", "<delete node=%s/>" % attr(node), owner=True)
    raise AssertionError(op)


@tap.test
async def permission_matrix(env):
    """every actor on a node of every access model against every operation: the XEP-0060 answer, exactly"""
    s = await clients(env)
    nodes = {m: await matrix_node(s, m) for m in MODELS}
    mismatches, checked = [], 0
    for op, table in MATRIX.items():
        for actor, per_model in table.items():
            user, _ = ACTORS[actor]
            c = getattr(s, user)
            for model in MODELS:
                node = nodes[model]
                if op == "delete":
                    node = await matrix_node(s, model)  # a fresh node each time
                got = outcome(await run_op(s, op, actor, c, node), op)
                checked += 1
                if got != per_model[model]:
                    mismatches.append("%s by %s on %s: want %s, got %s" % (op, actor, model, per_model[model], got))
    assert not mismatches, "%d of %d cells differ:\n%s" % (len(mismatches), checked, "\n".join(mismatches))
    # nothing the refused requests tried happened: the affiliations are as set up
    for model, node in nodes.items():
        r = ok(await ps(s.alice, "get", "<affiliations node=%s/>" % attr(node), owner=True))
        got = {a.get("jid"): a.get("affiliation") for a in r.iter("{http://jabber.org/protocol/pubsub#owner}"
                                                                 "affiliation")}
        want = {jid(u): a for u, a in ACTORS.values() if a}
        want[jid("alice")] = "owner"
        want["someone@localhost"] = "member"
        assert got == want, (model, got)


# ---- authorize: approval forms and get-pending ----

def approval_form(s, node):
    """The data form of an approval request message for node (8.6), else None."""
    if s.name != "message" or s.get_from().bare != COMPONENT:
        return None
    x = s.xml.find("{%s}x" % NS_XDATA)
    if x is None:
        return None
    v = form_values(x)
    if v.get("FORM_TYPE") != FORM_AUTHORIZATION or v.get("pubsub#node") != node:
        return None
    return x


def answer(c, node, subscriber, allow, subid=None, msg_id=None, type_="submit"):
    fields = {"pubsub#node": node, "pubsub#subscriber_jid": subscriber}
    if allow is not None:
        fields["pubsub#allow"] = allow
    if subid:
        fields["pubsub#subid"] = subid
    c.send_raw("<message to='%s'%s>%s</message>" % (COMPONENT, " id=%s" % attr(msg_id) if msg_id else "",
                                                    form(FORM_AUTHORIZATION, fields, type_)))


@tap.test
async def authorize_and_approval_forms(env):
    """authorize: subscribe is pending, owners get the 8.6 form, answering it approves or denies (and says so)"""
    s = await clients(env)
    node = uid("auth")
    await create(s.alice, node, {"pubsub#access_model": "authorize"})
    ok(await set_affiliations(s.alice, node, [(jid("bob"), "owner")]))
    ok(await publish(s.alice, node, "secret"))
    ma, mb = mark(s.alice), mark(s.bob)
    r = ok(await subscribe(s.frank, node))
    assert subscription_of(r)[2] == "pending", subscription_of(r)
    subid = subscription_of(r)[1]
    # every owner is asked (12.13: first answer wins)
    for c, m in ((s.alice, ma), (s.bob, mb)):
        msg = await wait_msg(c, lambda x: approval_form(x, node) is not None, m, what="the approval form")
        x = approval_form(msg, node)
        assert x.get("type") == "form"
        v = form_values(x)
        assert (v["pubsub#subscriber_jid"], v["pubsub#allow"], v["pubsub#subid"]) == (jid("frank"), "false", subid), v
        types = dict((f.get("var"), f.get("type")) for f in x.findall("{%s}field" % NS_XDATA))
        assert types["pubsub#allow"] == "boolean" and types["pubsub#subscriber_jid"] == "jid-single"
        assert msg["id"] and msg["body"], "an id to correlate, a body for plain clients"
    # while pending: no second request, no items (6.1.3.7, 6.5.9.3)
    err(await subscribe(s.frank, node), "not-authorized", "auth", "pending-subscription")
    err(await get_items(s.frank, node), "not-authorized", "auth", "not-subscribed")
    r = ok(await ps(s.frank, "get", "<subscriptions node=%s/>" % attr(node)))
    assert [x.get("subscription") for x in r.iter("{%s}subscription" % NS_PS)] == ["pending"]
    assert await get_subscriptions(s.alice, node) == [], "owners' lists leave pending requests out (8.8.1)"
    # a cancel answer keeps it pending (8.6)
    answer(s.alice, node, jid("frank"), None, type_="cancel")
    # non-owners cannot answer: a message error comes back
    m = mark(s.dave)
    answer(s.dave, node, jid("frank"), "true", msg_id="fake-approval")
    e = await wait_msg(s.dave, lambda x: x.name == "message" and x["type"] == "error" and x["id"] == "fake-approval",
                       m, what="the error for a non-owner's answer")
    assert e["error"]["condition"] == "forbidden", e
    err(await get_items(s.frank, node), "not-authorized", "auth", "not-subscribed", "still pending")
    # a malformed answer, and an answer about nobody
    m = mark(s.alice)
    answer(s.alice, node, jid("frank"), "perhaps", msg_id="bad-answer")
    e = await wait_msg(s.alice, lambda x: x["type"] == "error" and x["id"] == "bad-answer", m)
    assert e["error"]["condition"] == "bad-request", e
    answer(s.alice, node, jid("dave"), "true", msg_id="nobody")
    e = await wait_msg(s.alice, lambda x: x["type"] == "error" and x["id"] == "nobody", m)
    assert e["error"]["condition"] == "unexpected-request", e
    assert e["error"]["type"] == "cancel", e["error"]["type"]
    # approve: the subscriber is told (8.6, 2.6) and reads the node
    m = mark(s.frank)
    answer(s.alice, node, jid("frank"), "1", subid=subid)
    n = await wait_msg(s.frank, lambda x: subscription_event(x, node) is not None, m)
    assert subscription_event(n, node) == (jid("frank"), "subscribed")
    assert item_ids(ok(await get_items(s.frank, node))) == ["secret"]
    m = mark(s.frank)
    ok(await publish(s.alice, node, "news"))
    await wait_msg(s.frank, lambda x: (event_kind(x, node) or [None])[0] == "items", m)
    # bob's late answer finds nothing pending
    m = mark(s.bob)
    answer(s.bob, node, jid("frank"), "false", msg_id="late")
    e = await wait_msg(s.bob, lambda x: x["type"] == "error" and x["id"] == "late", m)
    assert e["error"]["condition"] == "unexpected-request"
    assert item_ids(ok(await get_items(s.frank, node))) == ["secret", "news"], "frank is still subscribed"
    # deny: the request goes, the subscriber is told
    r = ok(await subscribe(s.dave, node))
    assert subscription_of(r)[2] == "pending"
    m = mark(s.dave)
    answer(s.bob, node, jid("dave"), "false")
    n = await wait_msg(s.dave, lambda x: subscription_event(x, node) is not None, m)
    assert subscription_event(n, node) == (jid("dave"), "none")
    r = ok(await ps(s.dave, "get", "<subscriptions node=%s/>" % attr(node)))
    assert list(r.iter("{%s}subscription" % NS_PS)) == []
    # becoming a member approves a pending request (8.7.4 note)
    ok(await subscribe(s.dave, node))
    m = mark(s.dave)
    ok(await set_affiliations(s.alice, node, [(jid("dave"), "member")]))
    n = await wait_msg(s.dave, lambda x: subscription_event(x, node) is not None, m)
    assert subscription_event(n, node) == (jid("dave"), "subscribed")
    # members skip the approval altogether
    other = uid("auth")
    await create(s.alice, other, {"pubsub#access_model": "authorize"})
    ok(await set_affiliations(s.alice, other, [(jid("dave"), "member")]))
    assert subscription_of(ok(await subscribe(s.dave, other)))[2] == "subscribed"


async def command(c, inner_attrs, payload_xml=""):
    return await c.raw_iq("set", "<command xmlns='%s' node='%s#get-pending' %s>%s</command>"
                          % (NS_COMMANDS, NS_PS, inner_attrs, payload_xml))


@tap.test
async def get_pending(env):
    """get-pending (8.7): discover the command, pick a node, the approval forms arrive again"""
    s = await clients(env)
    node = uid("pending")
    await create(s.bob, node, {"pubsub#access_model": "authorize"})
    ok(await subscribe(s.carol, node))
    ok(await subscribe(s.eve, node, jid("eve", "test")))
    # discovery (XEP-0050 2.2)
    r = ok(await s.bob.raw_iq("get", "<query xmlns='%s' node='%s'/>" % (NS_ITEMS, NS_COMMANDS)))
    items = [(i.get("jid"), i.get("node")) for i in r.iter("{%s}item" % NS_ITEMS)]
    assert (COMPONENT, NS_PS + "#get-pending") in items, items
    r = ok(await s.bob.raw_iq("get", "<query xmlns='%s' node='%s#get-pending'/>" % (NS_INFO, NS_PS)))
    ident = r.find(".//{%s}identity" % NS_INFO)
    assert (ident.get("category"), ident.get("type")) == ("automation", "command-node")
    feats = {f.get("var") for f in r.iter("{%s}feature" % NS_INFO)}
    assert {NS_COMMANDS, "jabber:x:data"} <= feats, feats
    # stage 1: a form listing the nodes with pending requests
    r = ok(await command(s.bob, "action='execute'"))
    cmd = r.find("{%s}command" % NS_COMMANDS)
    assert cmd.get("status") == "executing" and cmd.get("sessionid") and cmd.get("action") is None
    x = cmd.find("{%s}x" % NS_XDATA)
    assert x.get("type") == "form"
    field = [f for f in x.findall("{%s}field" % NS_XDATA) if f.get("var") == "pubsub#node"][0]
    assert field.get("type") == "list-single"
    assert [o.findtext("{%s}value" % NS_XDATA) for o in field.findall("{%s}option" % NS_XDATA)] == [node]
    sid = cmd.get("sessionid")
    # a session is one requester's: alice cannot continue bob's
    err(await command(s.alice, "sessionid=%s" % attr(sid), form(None, {"pubsub#node": node})), "bad-request",
        "modify", "{%s}bad-sessionid" % NS_COMMANDS)
    # stage 2: pick the node; one approval form per pending request follows
    m = mark(s.bob)
    r = ok(await command(s.bob, "sessionid=%s" % attr(sid), form(None, {"pubsub#node": node})))
    assert r.find("{%s}command" % NS_COMMANDS).get("status") == "completed"
    for who in (jid("carol"), jid("eve", "test")):
        await wait_msg(s.bob, lambda x: approval_form(x, node) is not None
                       and form_values(approval_form(x, node))["pubsub#subscriber_jid"] == who, m,
                       what="the approval form for " + who)
    # the session is over
    err(await command(s.bob, "sessionid=%s" % attr(sid), form(None, {"pubsub#node": node})), "bad-request",
        "modify", "{%s}bad-sessionid" % NS_COMMANDS)
    # answering a re-sent form works like the first one
    m = mark(s.carol)
    answer(s.bob, node, jid("carol"), "true")
    n = await wait_msg(s.carol, lambda x: subscription_event(x, node) is not None, m)
    assert subscription_event(n, node) == (jid("carol"), "subscribed")
    # errors: a node that does not exist, one bob does not own, cancel, nobody's nodes
    sid = ok(await command(s.bob, "action='execute'")).find("{%s}command" % NS_COMMANDS).get("sessionid")
    err(await command(s.bob, "sessionid=%s" % attr(sid), form(None, {"pubsub#node": uid("missing")})),
        "item-not-found", "cancel")
    theirs = uid("pending")
    await create(s.alice, theirs, {"pubsub#access_model": "authorize"})
    err(await command(s.bob, "sessionid=%s" % attr(sid), form(None, {"pubsub#node": theirs})), "forbidden")
    err(await command(s.bob, "sessionid=%s" % attr(sid), form(None, {})), "bad-request", "modify",
        "{%s}bad-payload" % NS_COMMANDS)
    r = ok(await command(s.bob, "sessionid=%s action='cancel'" % attr(sid)))
    assert r.find("{%s}command" % NS_COMMANDS).get("status") == "canceled"
    err(await command(s.bob, "action='bogus'"), "bad-request", "modify", "{%s}malformed-action" % NS_COMMANDS)
    err(await command(s.bob, "action='next'"), "bad-request", "modify", "{%s}bad-action" % NS_COMMANDS)
    # frank owns nothing: no approval rights at all (8.7.3.3)
    err(await command(s.frank, "action='execute'"), "forbidden")
    # an owner without pending requests is told so, and the session is complete
    r = ok(await command(s.alice, "action='execute'"))
    cmd = r.find("{%s}command" % NS_COMMANDS)
    assert cmd.get("status") == "completed" and cmd.find("{%s}note" % NS_COMMANDS) is not None
    err(await command(s.alice, "sessionid=%s" % attr(cmd.get("sessionid")), form(None, {"pubsub#node": theirs})),
        "bad-request", "modify", "{%s}bad-sessionid" % NS_COMMANDS, "a completed session cannot go on")
    # the admin may run it for every node
    r = ok(await command(s.admin, "action='execute'"))
    field = [f for f in r.iter("{%s}field" % NS_XDATA) if f.get("var") == "pubsub#node"][0]
    assert node in [o.findtext("{%s}value" % NS_XDATA) for o in field.findall("{%s}option" % NS_XDATA)]
    # the service keeps 256 sessions: when all are open, the oldest gives way, never a newer one
    sids = []
    for _ in range(258):
        r = ok(await command(s.bob, "action='execute'"))
        sids.append(r.find("{%s}command" % NS_COMMANDS).get("sessionid"))
    for sid in sids[:2]:
        err(await command(s.bob, "sessionid=%s action='cancel'" % attr(sid)), "bad-request", "modify",
            "{%s}bad-sessionid" % NS_COMMANDS, "the oldest sessions gave way")
    for sid in sids[2:]:
        r = ok(await command(s.bob, "sessionid=%s action='cancel'" % attr(sid)), "session %s is kept" % sid)
        assert r.find("{%s}command" % NS_COMMANDS).get("status") == "canceled"


# ---- presence ----

@tap.test
async def presence_access(env):
    """presence: items and subscriptions for those who approved the service's presence subscription, and only while"""
    s = await clients(env)
    node = uid("presence")
    await create(s.alice, node, {"pubsub#access_model": "presence"})
    ok(await publish(s.alice, node, "p1"))
    err(await subscribe(s.frank, node), "not-authorized", "auth", "presence-subscription-required")
    err(await get_items(s.frank, node), "not-authorized", "auth", "presence-subscription-required")

    def shares(user):
        return env.postgres.psql("SELECT count(*) FROM calpubsub_presence WHERE jid = '%s'" % jid(user)) == "1"
    # frank subscribes to the service's presence; the service asks back, and slixmpp
    # approves (auto_authorize): from then on frank shares presence with the service
    s.frank.send_presence(pto=COMPONENT, ptype="subscribe")
    await async_wait_until(lambda: shares("frank"), 10, "frank's presence subscription to be recorded")
    ok(await subscribe(s.frank, node))
    assert item_ids(ok(await get_items(s.frank, node))) == ["p1"]
    m = mark(s.frank)
    ok(await publish(s.alice, node, "p2"))
    await wait_msg(s.frank, lambda x: (event_kind(x, node) or [None])[0] == "items", m)
    # the service answers presence probes: it is always available
    # revoking the subscription ends what it granted (12.14)
    m = mark(s.frank)
    s.frank.send_presence(pto=COMPONENT, ptype="unsubscribed")
    n = await wait_msg(s.frank, lambda x: subscription_event(x, node) is not None, m, timeout=10)
    assert subscription_event(n, node) == (jid("frank"), "none")
    assert not shares("frank")
    err(await get_items(s.frank, node), "not-authorized", "auth", "presence-subscription-required")
    err(await subscribe(s.frank, node), "not-authorized", "auth", "presence-subscription-required")
    # members need no presence subscription
    ok(await set_affiliations(s.alice, node, [(jid("dave"), "member")]))
    ok(await subscribe(s.dave, node))


@tap.test
async def roster_refused(env):
    """roster needs the owner's roster groups, which a component does not have: not-acceptable + unsupported-access-model"""
    s = await clients(env)
    node = uid()
    err(await create(s.alice, node, {"pubsub#access_model": "roster"}, expect_ok=False), "not-acceptable", "modify",
        "unsupported-access-model")
    await create(s.alice, node)
    err(await ps(s.alice, "set", "<configure node=%s>%s</configure>" % (attr(node), form(
        "http://jabber.org/protocol/pubsub#node_config", {"pubsub#access_model": "roster"})), owner=True),
        "not-acceptable", "modify", "unsupported-access-model")
    r = ok(await ps(s.alice, "get", "<configure node=%s/>" % attr(node), owner=True))
    field = [f for f in r.iter("{%s}field" % NS_XDATA) if f.get("var") == "pubsub#access_model"][0]
    offered = sorted(o.findtext("{%s}value" % NS_XDATA) for o in field.findall("{%s}option" % NS_XDATA))
    assert offered == ["authorize", "open", "presence", "whitelist"], offered


# ---- pubsub.create_nodes ----

async def with_daemon(env, settings, check):
    """Runs check() against a calpubsub started with settings, then restores the usual one."""
    env.calpubsub.stop()
    d = env.new_daemon(settings=settings)
    d.start()
    try:
        await check()
    finally:
        rc = d.stop()
        env.calpubsub.start()
    assert rc == 0, "the policy daemon exited with %s" % rc


async def may_create(c, expect):
    node = uid("policy")
    r = await create(c, node, expect_ok=False)
    if expect:
        ok(r, "%s creates" % c.boundjid.bare)
        r = await publish(c, uid("policy-auto"), "x")
        ok(r, "%s auto-creates" % c.boundjid.bare)
    else:
        err(r, "forbidden", "auth", "", "%s may not create" % c.boundjid.bare)
        # publishing to a missing node it may not create: item-not-found (7.1.3.3)
        err(await publish(c, uid("policy-auto"), "x"), "item-not-found", "cancel", "")


@tap.test
async def create_policies(env):
    """pubsub.create_nodes: everyone, local, admins, a list of domains; admins may always create"""
    s = await clients(env)
    for policy, alice_may in (("admins", False), ("everyone", True), ("local", True), (["example.org"], False),
                              (["example.org", "localhost"], True)):
        async def check():
            await service_ready(s.alice)
            await may_create(s.alice, alice_may)
            await may_create(s.admin, True)
        await with_daemon(env, {"pubsub": {"create_nodes": policy, "admins": ["admin@localhost"]}}, check)
    await service_ready(s.alice)


@tap.test
async def service_payload_limit(env):
    """pubsub.max_payload_size bounds node defaults and every node, whatever it was configured with"""
    s = await clients(env)

    async def check():
        await service_ready(s.alice)
        r = ok(await ps(s.alice, "get", "<default/>", owner=True))
        assert form_values(r.find(".//{%s}x" % NS_XDATA))["pubsub#max_payload_size"] == "1000"
        node = uid()
        await create(s.alice, node)
        ok(await publish(s.alice, node, "fits", payload("x" * 800)))
        err(await publish(s.alice, node, "big", payload("x" * 1100)), "not-acceptable", "modify", "payload-too-big")
        auto = uid()
        ok(await publish(s.alice, auto, "fits", payload("x" * 800)))
        err(await publish(s.alice, auto, "big", payload("x" * 1100)), "not-acceptable", "modify", "payload-too-big")
        err(await ps(s.alice, "set", "<configure node=%s>%s</configure>" % (attr(node), form(
            "http://jabber.org/protocol/pubsub#node_config", {"pubsub#max_payload_size": "5000"})), owner=True),
            "not-acceptable", "modify", "")
        # a node configured before the limit was lowered
        env.postgres.psql("UPDATE calpubsub_node SET max_payload_size = 100000 WHERE name = '%s'" % node)
        err(await publish(s.alice, node, "big", payload("x" * 2000)), "not-acceptable", "modify", "payload-too-big")
    await with_daemon(env, {"pubsub": {"max_payload_size": 1000}}, check)
    await service_ready(s.alice)


def main():
    tap.run(lambda server: environment(server=server, users=USERS))


if __name__ == "__main__":
    main()
