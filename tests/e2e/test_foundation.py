"""test_foundation.py: calpubsub as a well-behaved component: the XEP-0114 handshake,
service discovery, ping, version, and exactly one correct reply to every IQ request,
through a real Prosody to real slixmpp clients."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import COMPONENT, environment, error_of  # noqa: E402

NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
FOUNDATION_FEATURES = {NS_INFO, NS_ITEMS, "urn:xmpp:ping", "jabber:iq:version"}


@tap.test
async def handshake(env):
    """the component completes the XEP-0114 handshake and stays up"""
    log = env.calpubsub.log_text()
    assert "connected to 127.0.0.1:%d as %s" % (env.server.component_port, COMPONENT) in log
    assert env.calpubsub.running()
    assert env.secret not in log, "the secret must never be logged"


@tap.test
async def disco_info(env):
    """disco#info: identity pubsub/service with the configured name and the working features"""
    c = await env.client("alice")
    info = await c["xep_0030"].get_info(jid=COMPONENT, timeout=5)
    identities = info["disco_info"]["identities"]
    assert ("pubsub", "service", None, "Calendar PubSub") in identities, identities
    features = set(info["disco_info"]["features"])
    assert FOUNDATION_FEATURES <= features, features
    assert len(info["disco_info"]["features"]) == len(features), "a feature is listed twice"


@tap.test
async def disco_items(env):
    """disco#items answers, listing the nodes in PostgreSQL"""
    c = await env.client("alice")
    env.postgres.psql("INSERT INTO calpubsub_node (name, title) VALUES ('team', 'Team'), ('holidays', '')")
    try:
        items = await c["xep_0030"].get_items(jid=COMPONENT, timeout=5)
        nodes = sorted((node, name) for jid, node, name in items["disco_items"]["items"])
        assert nodes == [("holidays", None), ("team", "Team")], nodes
    finally:
        env.postgres.psql("DELETE FROM calpubsub_node")


@tap.test
async def ping(env):
    """XEP-0199 ping gets an empty result"""
    c = await env.client("alice")
    reply = await c.raw_iq("get", "<ping xmlns='urn:xmpp:ping'/>")
    assert reply.get("type") == "result", reply
    assert len(list(reply)) == 0


@tap.test
async def version(env):
    """XEP-0092 software version names calpubsub and its version"""
    c = await env.client("alice")
    v = await c["xep_0092"].get_version(COMPONENT, timeout=5)
    assert v["software_version"]["name"] == "calpubsub"
    out = env.calpubsub_version
    assert v["software_version"]["version"] == out, (v["software_version"]["version"], out)


async def expect_error(c, iq_type, payload, cond, etype, to=COMPONENT):
    reply = await c.raw_iq(iq_type, payload, to=to)
    got_type, got_cond, text, _ = error_of(reply)
    assert (got_cond, got_type) == (cond, etype), "%s: got %s/%s (%s)" % (payload, got_cond, got_type, text)
    return text


@tap.test
async def unknown_namespace(env):
    """an unknown payload namespace gets service-unavailable (cancel), get and set"""
    c = await env.client("alice")
    await expect_error(c, "get", "<query xmlns='urn:example:unknown'/>", "service-unavailable", "cancel")
    await expect_error(c, "set", "<frob xmlns='urn:example:unknown'><x/></frob>", "service-unavailable", "cancel")


@tap.test
async def unsupported_request(env):
    """a known namespace asked for what it does not do gets feature-not-implemented"""
    c = await env.client("alice")
    for payload in ("<query xmlns='jabber:iq:version'/>", "<ping xmlns='urn:xmpp:ping'/>",
                    "<query xmlns='%s'/>" % NS_INFO, "<query xmlns='%s'/>" % NS_ITEMS):
        await expect_error(c, "set", payload, "feature-not-implemented", "cancel")


@tap.test
async def malformed_requests(env):
    """malformed requests get bad-request (modify)"""
    c = await env.client("alice")
    cases = [
        "<query xmlns='%s'><item/></query>" % NS_INFO,
        "<query xmlns='%s'><junk/></query>" % NS_ITEMS,
        "<info xmlns='%s'/>" % NS_INFO,
        "<query xmlns='jabber:iq:version'><name>x</name></query>",
        "<ping xmlns='urn:xmpp:ping'><extra/></ping>",
        "<ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/>",
        "",
    ]
    for payload in cases:
        await expect_error(c, "get", payload, "bad-request", "modify")


@tap.test
async def unknown_node(env):
    """disco on a node that does not exist gets item-not-found"""
    c = await env.client("alice")
    await expect_error(c, "get", "<query xmlns='%s' node='no-such-node'/>" % NS_INFO, "item-not-found", "cancel")
    await expect_error(c, "get", "<query xmlns='%s' node='no-such-node'/>" % NS_ITEMS, "item-not-found", "cancel")


@tap.test
async def other_addresses(env):
    """an IQ to an entity under the component other than the service gets service-unavailable"""
    c = await env.client("alice")
    await expect_error(c, "get", "<ping xmlns='urn:xmpp:ping'/>", "service-unavailable", "cancel",
                       to="someone@" + COMPONENT)
    await expect_error(c, "get", "<ping xmlns='urn:xmpp:ping'/>", "service-unavailable", "cancel",
                       to=COMPONENT + "/resource")


@tap.test
async def results_and_errors_unanswered(env):
    """IQs of type result or error are never answered"""
    c = await env.client("alice")
    mark = len(c.from_component())
    log_mark = env.calpubsub.log_mark()
    c.send_raw("<iq type='result' id='unsolicited-1' to='%s'/>" % COMPONENT)
    c.send_raw("<iq type='error' id='unsolicited-2' to='%s'><error type='cancel'>"
               "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>" % COMPONENT)
    await env.calpubsub.async_wait_log("ignoring unexpected IQ error unsolicited-2", 5, since=log_mark)
    # a ping after them proves the component processed both before answering it
    reply = await c.raw_iq("get", "<ping xmlns='urn:xmpp:ping'/>")
    assert reply.get("type") == "result"
    extra = [s for s in c.from_component()[mark:] if s["id"] in ("unsolicited-1", "unsolicited-2")]
    assert not extra, "component answered: %s" % extra


@tap.test
async def exactly_one_reply(env):
    """a burst of mixed requests gets exactly one reply each, in order"""
    c = await env.client("bob")
    payloads = ["<ping xmlns='urn:xmpp:ping'/>", "<query xmlns='urn:example:x'/>",
                "<query xmlns='jabber:iq:version'/>", "<query xmlns='%s'/>" % NS_INFO]
    ids = []
    for i in range(200):
        iq_id = "burst-%d" % i
        ids.append(iq_id)
        c.send_raw("<iq type='get' id='%s' to='%s'>%s</iq>" % (iq_id, COMPONENT, payloads[i % len(payloads)]))
    await c.wait_for(lambda s: s.name == "iq" and s["id"] == ids[-1], 10, "the last burst reply")
    await asyncio.sleep(0.3)
    replies = [s["id"] for s in c.from_component("iq") if s["id"].startswith("burst-")]
    assert replies == ids, "replies out of order or duplicated: %d replies" % len(replies)


async def make_env_setup(env):
    out = env.calpubsub.ctl("--version")
    env.calpubsub_version = out.stdout.split()[-1]


def main():
    import contextlib

    @contextlib.asynccontextmanager
    async def env_factory(server):
        async with environment(server=server) as env:
            await make_env_setup(env)
            yield env
    tap.run(env_factory)


if __name__ == "__main__":
    main()
