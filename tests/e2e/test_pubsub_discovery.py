"""test_pubsub_discovery.py: service discovery of the PubSub service end to end: the exact
feature list (each feature mapped to the test that exercises it), disco#items on the
service (only the nodes the requester may see), disco#info on a node (identity and the
XEP-0128 pubsub#meta-data form with the right values), disco#items on a node (its item
ids); and, with PostgreSQL's auto_explain, that the statements of subscribe and
unsubscribe use index scans whatever the number of subscribers."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import COMPONENT, environment  # noqa: E402
from pubsub_lib import (shared_clients, FORM_META, NS_INFO, NS_ITEMS, NS_PS, NS_XDATA, attr, configure, create, err,  # noqa: E402
                        form_values, jid, ok, ps, publish, retract, service_ready, set_affiliations, subscribe, uid,
                        unsubscribe)

USERS = ("alice", "bob", "carol", "dave", "eve", "admin")

# Every pubsub feature the service advertises, and the test that shows it works. The
# service must advertise exactly these: a feature added without a test, or a tested one
# dropped, fails the feature-list test.
FEATURES = {
    "access-open": "owners: default_configuration (open is the default access model)",
    "auto-create": "publishers: auto_create",
    "config-node": "owners: configure_nodes",
    "config-node-max": "publishers: max_items_and_node_full (max_items=max), auto_create",
    "create-and-configure": "owners: create_nodes",
    "create-nodes": "owners: create_nodes; access: create_policies",
    "delete-items": "publishers: retract_and_notify",
    "delete-nodes": "owners: delete_nodes",
    "get-pending": "access: get_pending",
    "instant-nodes": "owners: create_nodes",
    "item-ids": "publishers: publish_and_notify",
    "manage-subscriptions": "owners: manage_subscriptions",
    "member-affiliation": "owners: manage_affiliations; access: permission_matrix",
    "meta-data": "discovery: node_info_and_metadata",
    "modify-affiliations": "owners: manage_affiliations",
    "multi-items": "subscribers: retrieve_items, rsm_paging",
    "multi-subscribe": "subscribers: multi_subscribe (with SHIM SubID headers)",
    "outcast-affiliation": "owners: manage_affiliations; access: permission_matrix",
    "persistent-items": "publishers: notification_only_and_transient",
    "publish": "publishers: publish_and_notify",
    "publish-node-full": "publishers: max_items_and_node_full",
    "publish-only-affiliation": "publishers: retract_and_notify; access: permission_matrix",
    "publish-options": "publishers: publish_options, auto_create",
    "publisher-affiliation": "owners: manage_affiliations; access: permission_matrix",
    "purge-nodes": "owners: purge_nodes",
    "retract-items": "publishers: retract_and_notify",
    "retrieve-affiliations": "subscribers: own_subscriptions_and_affiliations",
    "retrieve-default": "owners: default_configuration",
    "retrieve-default-sub": "subscribers: subscription_options",
    "retrieve-items": "subscribers: retrieve_items",
    "retrieve-subscriptions": "subscribers: own_subscriptions_and_affiliations",
    "rsm": "subscribers: rsm_paging",
    "subscribe": "subscribers: subscribe_bare_and_full",
    "subscription-notifications": "owners: manage_subscriptions, notify_sub; access: authorize_and_approval_forms",
    "subscription-options": "subscribers: subscription_options",
}
OTHER_FEATURES = {"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
                  "urn:xmpp:ping", "jabber:iq:version", "http://jabber.org/protocol/commands", NS_PS}


async def clients(env):
    return await shared_clients(env, {u: u for u in USERS})


async def disco_items(c, node=None):
    return await c.raw_iq("get", "<query xmlns='%s'%s/>" % (NS_ITEMS, "" if node is None else " node=%s" % attr(node)))


async def disco_info(c, node):
    return await c.raw_iq("get", "<query xmlns='%s' node=%s/>" % (NS_INFO, attr(node)))


@tap.test
async def service_features(env):
    """disco#info on the service: identity pubsub/service and exactly the features that work"""
    s = await clients(env)
    r = ok(await s.carol.raw_iq("get", "<query xmlns='%s'/>" % NS_INFO))
    ids = [(i.get("category"), i.get("type")) for i in r.iter("{%s}identity" % NS_INFO)]
    assert ids == [("pubsub", "service")], ids
    feats = [f.get("var") for f in r.iter("{%s}feature" % NS_INFO)]
    assert len(feats) == len(set(feats)), "a feature is listed twice"
    pubsub = {f[len(NS_PS) + 1:] for f in feats if f.startswith(NS_PS + "#")}
    others = {f for f in feats if not f.startswith(NS_PS + "#")}
    assert pubsub == set(FEATURES), "advertised but untested: %s; tested but not advertised: %s" % (
        sorted(pubsub - set(FEATURES)), sorted(set(FEATURES) - pubsub))
    assert others == OTHER_FEATURES, others
    # only the default access model is advertised (16.3: access-X means X is the default)
    assert not pubsub & {"access-authorize", "access-whitelist", "access-presence", "access-roster"}
    # last-published would make on_sub_and_presence the default, which needs presence (P22)
    assert "last-published" not in pubsub


@tap.test
async def service_items_visibility(env):
    """disco#items on the service lists the nodes the requester may see: no whitelist for outsiders, none for outcasts"""
    s = await clients(env)
    tag = uid("vis")
    opn, wl, auth, banned = tag + "-open", tag + "-whitelist", tag + "-authorize", tag + "-banned"
    await create(s.alice, opn, {"pubsub#title": "Open calendar"})
    await create(s.alice, wl, {"pubsub#access_model": "whitelist"})
    await create(s.alice, auth, {"pubsub#access_model": "authorize"})
    await create(s.alice, banned)
    ok(await set_affiliations(s.alice, wl, [(jid("dave"), "member")]))
    ok(await set_affiliations(s.alice, banned, [(jid("eve"), "outcast")]))

    async def seen(c):
        r = ok(await disco_items(c))
        items = [(i.get("jid"), i.get("node"), i.get("name")) for i in r.iter("{%s}item" % NS_ITEMS)]
        assert all(j == COMPONENT for j, _, _ in items)
        return {n: name for _, n, name in items if n.startswith(tag)}
    assert await seen(s.alice) == {opn: "Open calendar", wl: None, auth: None, banned: None}, "the owner sees all"
    assert await seen(s.admin) == {opn: "Open calendar", wl: None, auth: None, banned: None}, "so does an admin"
    assert set(await seen(s.carol)) == {opn, auth, banned}, "outsiders do not see whitelist nodes"
    assert set(await seen(s.dave)) == {opn, wl, auth, banned}, "members do"
    assert set(await seen(s.eve)) == {opn, auth}, "an outcast does not see the node it is banned from"
    # the same rule for disco#info on the node
    err(await disco_info(s.carol, wl), "item-not-found", "cancel", "")
    err(await disco_info(s.eve, banned), "item-not-found", "cancel", "")
    ok(await disco_info(s.dave, wl))
    # deleted nodes disappear at once
    ok(await ps(s.alice, "set", "<delete node=%s/>" % attr(auth), owner=True))
    assert auth not in await seen(s.alice)


@tap.test
async def node_info_and_metadata(env):
    """disco#info on a node: identity pubsub/leaf, the pubsub feature, and a pubsub#meta-data form with true values"""
    s = await clients(env)
    node = uid("meta")
    await create(s.alice, node, {"pubsub#title": "Team <calendar>", "pubsub#description": "Who is where",
                                 "pubsub#type": "urn:ietf:params:xml:ns:icalendar-2.0", "pubsub#max_items": "50",
                                 "pubsub#access_model": "authorize", "pubsub#publish_model": "subscribers"})
    ok(await set_affiliations(s.alice, node, [(jid("bob"), "owner"), (jid("carol"), "publisher"),
                                              (jid("dave"), "member")]))
    ok(await subscribe(s.dave, node))            # subscribed (a member)
    ok(await subscribe(s.eve, node))             # pending: not counted
    ok(await subscribe(s.carol, node, jid("carol", "x")))
    r = ok(await disco_info(s.eve, node))
    q = r.find("{%s}query" % NS_INFO)
    assert q.get("node") == node
    ids = [(i.get("category"), i.get("type"), i.get("name")) for i in q.iter("{%s}identity" % NS_INFO)]
    assert ids == [("pubsub", "leaf", "Team <calendar>")], ids
    assert [f.get("var") for f in q.iter("{%s}feature" % NS_INFO)] == [NS_PS]
    xs = q.findall("{%s}x" % NS_XDATA)
    assert len(xs) == 1 and xs[0].get("type") == "result"
    fields = xs[0].findall("{%s}field" % NS_XDATA)
    assert (fields[0].get("var"), fields[0].get("type")) == ("FORM_TYPE", "hidden"), "FORM_TYPE first (XEP-0128)"
    v = form_values(xs[0])
    assert v["FORM_TYPE"] == FORM_META, "meta-data, with a hyphen"
    want = {"pubsub#title": "Team <calendar>", "pubsub#description": "Who is where",
            "pubsub#type": "urn:ietf:params:xml:ns:icalendar-2.0", "pubsub#access_model": "authorize",
            "pubsub#publish_model": "subscribers", "pubsub#max_items": "50", "pubsub#num_subscribers": "2",
            "pubsub#creator": jid("alice"), "pubsub#publisher": jid("carol")}
    assert {k: v.get(k) for k in want} == want, v
    assert sorted(v["pubsub#owner"]) == [jid("alice"), jid("bob")], v["pubsub#owner"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", v["pubsub#creation_date"]), v["pubsub#creation_date"]
    types = dict((f.get("var"), f.get("type")) for f in fields)
    assert types["pubsub#owner"] == "jid-multi" and types["pubsub#creator"] == "jid-single"
    # the values follow changes
    ok(await configure(s.alice, node, {"pubsub#title": "Renamed", "pubsub#max_items": "max"}))
    ok(await unsubscribe(s.dave, node))
    v = form_values(ok(await disco_info(s.alice, node)).find(".//{%s}x" % NS_XDATA))
    assert (v["pubsub#title"], v["pubsub#max_items"], v["pubsub#num_subscribers"]) == ("Renamed", "max", "1"), v
    # a node without a title has an identity without a name
    plain = uid("meta")
    await create(s.alice, plain)
    i = ok(await disco_info(s.alice, plain)).find(".//{%s}identity" % NS_INFO)
    assert i.get("name") is None
    err(await disco_info(s.alice, uid("missing")), "item-not-found", "cancel", "")


@tap.test
async def node_items(env):
    """disco#items on a node: its items, name = item id, no node attribute, with the retrieval access rules"""
    s = await clients(env)
    node = uid("items")
    await create(s.alice, node)
    for i in ("b", "a", "c"):
        ok(await publish(s.alice, node, i))
    ok(await retract(s.alice, node, "a"))
    ok(await publish(s.alice, node, "b"))
    r = ok(await disco_items(s.carol, node))
    q = r.find("{%s}query" % NS_ITEMS)
    assert q.get("node") == node
    items = [(i.get("jid"), i.get("name"), i.get("node")) for i in q.iter("{%s}item" % NS_ITEMS)]
    assert items == [(COMPONENT, "c", None), (COMPONENT, "b", None)], "publication order, no node: %s" % items
    assert q.find("{%s}x" % NS_XDATA) is None, "no forms on disco#items"
    empty = uid("items")
    await create(s.alice, empty)
    assert list(ok(await disco_items(s.carol, empty)).iter("{%s}item" % NS_ITEMS)) == []
    wl = uid("items")
    await create(s.alice, wl, {"pubsub#access_model": "whitelist"})
    err(await disco_items(s.carol, wl), "not-allowed", "cancel", "closed-node")
    err(await disco_items(s.carol, uid("missing")), "item-not-found", "cancel", "")


@tap.test
async def subscribe_path_uses_indexes(env):
    """with 20,000 subscribers, every statement of subscribe and unsubscribe is an index scan (auto_explain)"""
    s = await clients(env)
    node = uid("big")
    await create(s.alice, node)
    pg = env.postgres
    pg.psql("INSERT INTO calpubsub_node (name) SELECT 'filler-' || g FROM generate_series(1, 2000) g")
    pg.psql("INSERT INTO calpubsub_subscription (node_id, jid, bare_jid, subid, state) "
            "SELECT n.id, 'user' || g || '@example.org', 'user' || g || '@example.org', md5(g::text), 'subscribed' "
            "FROM calpubsub_node n, generate_series(1, 20000) g WHERE n.name = '%s'" % node)
    pg.psql("INSERT INTO calpubsub_affiliation (node_id, jid, affiliation) "
            "SELECT id, 'owner' || id || '@example.org', 'owner' FROM calpubsub_node WHERE name LIKE 'filler-%'")
    pg.psql("INSERT INTO calpubsub_presence (jid) SELECT 'user' || g || '@example.org' FROM generate_series(1, 20000) g")
    pg.psql("ANALYZE")
    # calpubsub's own session logs the plan of every statement it runs
    for setting in ("session_preload_libraries = 'auto_explain'", "auto_explain.log_min_duration = 0",
                    "auto_explain.log_nested_statements = on"):
        pg.psql("ALTER DATABASE calpubsub SET %s" % setting)
    try:
        env.calpubsub.stop()
        env.calpubsub.start()
        with open(pg.log, errors="replace") as f:
            f.seek(0, 2)
            start = f.tell()
        await service_ready(s.carol)
        ok(await subscribe(s.carol, node))
        ok(await subscribe(s.dave, node, jid("dave", "r")))
        ok(await subscribe(s.carol, node))  # again: the idempotent path
        ok(await unsubscribe(s.carol, node))
        ok(await unsubscribe(s.dave, node, jid("dave", "r")))
        with open(pg.log, errors="replace") as f:
            f.seek(start)
            log = f.read()
    finally:
        for setting in ("session_preload_libraries", "auto_explain.log_min_duration",
                        "auto_explain.log_nested_statements"):
            pg.psql("ALTER DATABASE calpubsub RESET %s" % setting)
        env.calpubsub.stop()
        env.calpubsub.start()
        await service_ready(s.carol)
    plans = re.split(r"LOG:\s+duration: [\d.]+ ms\s+plan:", log)[1:]
    # the statements of the subscribe path (the timers' housekeeping runs meanwhile and is
    # left out: the expiry sweep on an almost empty item table may well scan it)
    path = ("calpubsub_subscription", "calpubsub_affiliation", "calpubsub_presence", "WHERE name = $1",
            'FROM ONLY "public"."calpubsub_node"')
    # (the fan-out's keyset page over a node's subscribers is not part of it either, nor is
    # the cascade that removes a reaped node's subscriptions: the fan-out reaps deleted nodes
    # with its pruning, which runs when it starts)
    ours = [p for p in plans if any(k in p.split("\n")[1] for k in path) and "ORDER BY s.jid, s.id LIMIT" not in p
            and 'calpubsub_subscription" WHERE $1 OPERATOR(pg_catalog.=) "node_id"' not in p.split("\n")[1]]
    texts = "\n".join(ours)
    for statement in ("INSERT INTO calpubsub_subscription", "DELETE FROM calpubsub_subscription WHERE id",
                      "UPDATE calpubsub_subscription SET state", "FROM calpubsub_subscription s JOIN calpubsub_node",
                      "FROM calpubsub_affiliation a WHERE a.node_id", "FROM calpubsub_presence pr WHERE pr.jid",
                      "FROM calpubsub_node n LEFT JOIN calpubsub_subscription s"):
        assert statement in texts, "auto_explain did not log '%s'" % statement
    big_tables = ("calpubsub_subscription", "calpubsub_node", "calpubsub_affiliation", "calpubsub_presence")
    seq = [p.strip()[:600] for p in ours if any(re.search(r"Seq Scan on %s\b" % t, p) for t in big_tables)]
    assert not seq, "sequential scans in the subscribe path:\n%s" % "\n---\n".join(seq)
    for t in ("calpubsub_subscription", "calpubsub_node", "calpubsub_affiliation"):
        assert re.search(r"Index (Only )?Scan[^\n]* on %s\b" % t, texts), "no index scan on %s at all" % t
    # and no index scan that walks all of a node's subscribers: each one looks up a JID,
    # a bare JID or a row id, not just the node
    for p in ours:
        lines = p.split("\n")
        for i, line in enumerate(lines):
            if re.search(r"Scan[^\n]* on calpubsub_subscription\b", line):
                cond = next((x for x in lines[i + 1:i + 3] if "Index Cond:" in x), "")
                assert re.search(r"(?<![\w])(bare_jid|jid|id) = ", cond), \
                    "a subscription scan without a selective condition:\n%s" % p.strip()[:800]
    pg.psql("DELETE FROM calpubsub_subscription WHERE jid LIKE '%@example.org'")
    pg.psql("DELETE FROM calpubsub_presence WHERE jid LIKE '%@example.org'")
    pg.psql("DELETE FROM calpubsub_node WHERE name LIKE 'filler-%'")


def main():
    tap.run(lambda server: environment(server=server, users=USERS))


if __name__ == "__main__":
    main()
