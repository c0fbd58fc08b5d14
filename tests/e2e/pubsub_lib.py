"""pubsub_lib.py: helpers shared by the test_pubsub_*.py files: hand-written XEP-0060
requests (so that the exact wire format is what is tested, not slixmpp's idea of it),
reply checks with the exact error condition, type and pubsub#errors element, and waiting
for notifications in order."""

import asyncio
import time
import uuid
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from harness import COMPONENT, DOMAIN, SLOW, error_of

NS_PS = "http://jabber.org/protocol/pubsub"
NS_OWNER = NS_PS + "#owner"
NS_EVENT = NS_PS + "#event"
NS_ERRORS = NS_PS + "#errors"
NS_XDATA = "jabber:x:data"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_SHIM = "http://jabber.org/protocol/shim"
NS_DELAY = "urn:xmpp:delay"
NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_CLIENT = "jabber:client"
FORM_NODE_CONFIG = NS_PS + "#node_config"
FORM_PUBLISH_OPTIONS = NS_PS + "#publish-options"
FORM_SUB_OPTIONS = NS_PS + "#subscribe_options"
FORM_AUTHORIZATION = NS_PS + "#subscribe_authorization"
FORM_META = NS_PS + "#meta-data"
PAYLOAD_NS = "urn:example:payload"


def jid(user, resource=None):
    return "%s@%s%s" % (user, DOMAIN, "/" + resource if resource else "")


def attr(s):
    """An XML attribute value in single quotes."""
    return "'" + escape(str(s), {"'": "&apos;", '"': "&quot;"}) + "'"


def uid(prefix="n"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def payload(text="hello", ns=PAYLOAD_NS):
    return "<entry xmlns=%s><title>%s</title></entry>" % (attr(ns), escape(text))


def form(form_type, fields=None, type_="submit"):
    """A data form; fields maps var to a value, a list of values, or None (no value)."""
    out = ["<x xmlns='%s' type=%s>" % (NS_XDATA, attr(type_))]
    if form_type is not None:
        out.append("<field var='FORM_TYPE' type='hidden'><value>%s</value></field>" % escape(form_type))
    for var, value in (fields or {}).items():
        values = value if isinstance(value, (list, tuple)) else ([] if value is None else [value])
        out.append("<field var=%s>%s</field>" % (attr(var), "".join("<value>%s</value>" % escape(str(v))
                                                                   for v in values)))
    out.append("</x>")
    return "".join(out)


def config_form(fields):
    return form(FORM_NODE_CONFIG, fields)


async def ps(c, iq_type, inner, owner=False, timeout=5):
    """An IQ with <pubsub/> (or <pubsub xmlns=...#owner/>) around inner; the reply."""
    return await c.raw_iq(iq_type, "<pubsub xmlns='%s'>%s</pubsub>" % (NS_OWNER if owner else NS_PS, inner),
                          timeout=timeout)


def show(el):
    return ET.tostring(el, "unicode")


def is_result(reply):
    return reply.get("type") == "result"


def ok(reply, what=""):
    assert reply.get("type") == "result", "%s: expected a result, got %s" % (what, show(reply))
    return reply


def err(reply, cond, etype=None, app=None, what=""):
    """Checks an error reply: RFC 6120 condition, type, and pubsub#errors element (app,
    a bare name; '' for none; None for don't care). Returns the text."""
    assert reply.get("type") == "error", "%s: expected %s, got a result: %s" % (what, cond, show(reply))
    got_type, got_cond, text, got_app = error_of(reply)
    want_app = None if app in (None, "") else (app if app.startswith("{") else "{%s}%s" % (NS_ERRORS, app))
    problems = []
    if got_cond != cond:
        problems.append("condition %s" % got_cond)
    if etype and got_type != etype:
        problems.append("type %s" % got_type)
    if app is not None and got_app != want_app:
        problems.append("app condition %s" % got_app)
    assert not problems, "%s: expected %s/%s + %s, got %s (%s)" % (what, cond, etype, app, ", ".join(problems), text)
    return text


def app_feature(reply):
    """The feature attribute of <unsupported/>."""
    for el in reply.iter("{%s}unsupported" % NS_ERRORS):
        return el.get("feature")
    return None


def child(el, name, ns=NS_PS):
    return el.find("{%s}%s" % (ns, name)) if el is not None else None


def pubsub_of(reply, ns=NS_PS):
    return reply.find("{%s}pubsub" % ns)


# ---- requests ----

async def create(c, node, config=None, expect_ok=True):
    inner = "<create%s/>" % ("" if node is None else " node=%s" % attr(node))
    if config is not None:
        inner += "<configure>%s</configure>" % config_form(config)
    reply = await ps(c, "set", inner)
    if expect_ok:
        ok(reply, "create %s" % node)
    return reply


async def configure(c, node, fields):
    return await ps(c, "set", "<configure node=%s>%s</configure>" % (attr(node), config_form(fields)), owner=True)


async def get_config(c, node):
    reply = ok(await ps(c, "get", "<configure node=%s/>" % attr(node), owner=True), "get config")
    return form_values(reply.find(".//{%s}x" % NS_XDATA))


def form_values(x):
    """{var: value or [values]} of a data form element."""
    out = {}
    for f in x.findall("{%s}field" % NS_XDATA):
        values = [v.text or "" for v in f.findall("{%s}value" % NS_XDATA)]
        out[f.get("var")] = values[0] if len(values) == 1 else values
    return out


def form_fields(x):
    """[(var, type)] of a data form element, in order."""
    return [(f.get("var"), f.get("type")) for f in x.findall("{%s}field" % NS_XDATA)]


async def publish(c, node, item_id=None, body=None, options=None, raw_item=None):
    """Publishes one item (body: payload XML; raw_item: the whole <item/> or '' for none)."""
    if raw_item is None:
        raw_item = "<item%s>%s</item>" % ("" if item_id is None else " id=%s" % attr(item_id),
                                         payload() if body is None else body)
    inner = "<publish node=%s>%s</publish>" % (attr(node), raw_item)
    if options is not None:
        inner += "<publish-options>%s</publish-options>" % form(FORM_PUBLISH_OPTIONS, options)
    return await ps(c, "set", inner)


def published_id(reply):
    item = reply.find(".//{%s}publish/{%s}item" % (NS_PS, NS_PS))
    return item.get("id") if item is not None else None


async def retract(c, node, item_id, notify=None):
    return await ps(c, "set", "<retract node=%s%s><item id=%s/></retract>"
                    % (attr(node), "" if notify is None else " notify=%s" % attr(notify), attr(item_id)))


async def subscribe(c, node, sub_jid=None, options=None):
    inner = "<subscribe node=%s jid=%s/>" % (attr(node), attr(sub_jid or c.boundjid.bare))
    if options is not None:
        inner += "<options>%s</options>" % form(FORM_SUB_OPTIONS, options)
    return await ps(c, "set", inner)


def subscription_of(reply):
    """(jid, subid, state) of the <subscription/> in a subscribe/unsubscribe reply."""
    s = reply.find(".//{%s}subscription" % NS_PS)
    return s.get("jid"), s.get("subid"), s.get("subscription")


async def unsubscribe(c, node, sub_jid=None, subid=None):
    return await ps(c, "set", "<unsubscribe node=%s jid=%s%s/>" % (
        attr(node), attr(sub_jid or c.boundjid.bare), "" if subid is None else " subid=%s" % attr(subid)))


async def get_items(c, node, max_items=None, ids=None, rsm=None, subid=None):
    inner = "<items node=%s%s%s>" % (attr(node), "" if max_items is None else " max_items=%s" % attr(max_items),
                                     "" if subid is None else " subid=%s" % attr(subid))
    inner += "".join("<item id=%s/>" % attr(i) for i in (ids or [])) + "</items>"
    if rsm is not None:
        inner += "<set xmlns='%s'>%s</set>" % (NS_RSM, rsm)
    return await ps(c, "get", inner)


def item_ids(reply):
    return [i.get("id") for i in reply.findall(".//{%s}items/{%s}item" % (NS_PS, NS_PS))]


def rsm_of(reply):
    """(first, first index, last, count) of the RSM <set/> in a reply, or None."""
    s = reply.find(".//{%s}set" % NS_RSM)
    if s is None:
        return None
    first = s.find("{%s}first" % NS_RSM)
    last = s.find("{%s}last" % NS_RSM)
    count = s.find("{%s}count" % NS_RSM)
    return (first.text if first is not None else None,
            int(first.get("index")) if first is not None and first.get("index") is not None else None,
            last.text if last is not None else None,
            int(count.text) if count is not None else None)


async def set_affiliations(c, node, affs):
    inner = "".join("<affiliation jid=%s affiliation=%s/>" % (attr(j), attr(a)) for j, a in affs)
    return await ps(c, "set", "<affiliations node=%s>%s</affiliations>" % (attr(node), inner), owner=True)


async def get_affiliations(c, node):
    reply = ok(await ps(c, "get", "<affiliations node=%s/>" % attr(node), owner=True), "get affiliations")
    return {a.get("jid"): a.get("affiliation") for a in reply.iter("{%s}affiliation" % NS_OWNER)}


async def set_subscriptions(c, node, subs):
    """subs: (jid, state or None, subid or None)."""
    inner = "".join("<subscription jid=%s%s%s/>" % (attr(j), "" if s is None else " subscription=%s" % attr(s),
                                                    "" if i is None else " subid=%s" % attr(i)) for j, s, i in subs)
    return await ps(c, "set", "<subscriptions node=%s>%s</subscriptions>" % (attr(node), inner), owner=True)


async def get_subscriptions(c, node):
    reply = ok(await ps(c, "get", "<subscriptions node=%s/>" % attr(node), owner=True), "get subscriptions")
    return sorted((s.get("jid"), s.get("subscription")) for s in reply.iter("{%s}subscription" % NS_OWNER))


async def service_ready(c, timeout=10):
    """Waits until a (re)started calpubsub answers a request that needs its database: it
    connects to the XMPP server and to PostgreSQL independently, and answers pings before
    it has the database."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        r = await ps(c, "get", "<subscriptions/>")
        if r.get("type") == "result":
            return
        if time.monotonic() > deadline:
            raise TimeoutError("calpubsub is not ready: %s" % show(r))
        await asyncio.sleep(0.05)


# ---- notifications ----

def from_service(s):
    return s.name == "message" and s.get_from().bare == COMPONENT and s.get_from().resource == ""


def event_of(s):
    return s.xml.find("{%s}event" % NS_EVENT)


def event_kind(s, node=None):
    """('items'|'purge'|'delete'|'configuration'|'subscription', element) of a pubsub
    notification for node (any node when None), else None."""
    if not from_service(s):
        return None
    ev = event_of(s)
    if ev is None or not len(ev):
        return None
    el = ev[0]
    if node is not None and el.get("node") != node:
        return None
    return el.tag.split("}")[1], el


def notified_items(s, node):
    """[item ids] published in a notification for node, or None."""
    k = event_kind(s, node)
    if not k or k[0] != "items":
        return None
    return [i.get("id") for i in k[1].findall("{%s}item" % NS_EVENT)]


def notified_retracts(s, node):
    k = event_kind(s, node)
    if not k or k[0] != "items":
        return None
    return [i.get("id") for i in k[1].findall("{%s}retract" % NS_EVENT)]


def shim_subids(s):
    h = s.xml.find("{%s}headers" % NS_SHIM)
    if h is None:
        return []
    return sorted(x.text for x in h.findall("{%s}header" % NS_SHIM) if x.get("name") == "SubID")


def mark(c):
    return len(c.received)


async def wait_msg(c, pred, since=0, timeout=5, what="a notification"):
    """The first stanza received at or after index since for which pred is true."""
    deadline = time.monotonic() + timeout * SLOW
    seen = since
    while True:
        for s in c.received[seen:]:
            if pred(s):
                return s
        seen = max(seen, len(c.received))
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("%s did not receive %s within %.1f s" % (c.boundjid, what, timeout * SLOW))
        c.received_event.clear()
        try:
            await asyncio.wait_for(c.received_event.wait(), min(left, 0.5))
        except asyncio.TimeoutError:
            pass


def messages(c, pred, since=0):
    return [s for s in c.received[since:] if pred(s)]


class Barrier:
    """Proves that the fan-out has handled every change made so far: it publishes to a
    node the given clients are subscribed to and waits until each has the notification.
    The fan-out sends changes in log order, so whatever a client has not received by
    then, it will not receive."""

    def __init__(self, owner):
        self.owner = owner
        self.node = uid("barrier")
        self.members = set()

    async def setup(self):
        await create(self.owner, self.node)

    async def join(self, c):
        key = str(c.boundjid)
        if key not in self.members:
            ok(await subscribe(c, self.node, str(c.boundjid)), "barrier subscribe")
            self.members.add(key)

    async def wait(self, *clients, timeout=10):
        for c in clients:
            await self.join(c)
        item = uid("b")
        ok(await publish(self.owner, self.node, item), "barrier publish")
        for c in clients:
            await wait_msg(c, lambda s: notified_items(s, self.node) == [item], 0, timeout, "the barrier " + item)


class SharedClients:
    """The clients the tests of one file share, one set per environment (XMPP server)."""


async def shared_clients(env, logins, barrier=False):
    """The file's clients, logged in on first use: logins maps an attribute name to a user
    or to (user, resource). With barrier, s.barrier is a Barrier owned by s.alice."""
    s = getattr(env, "pubsub_clients", None)
    if s is None:
        s = env.pubsub_clients = SharedClients()
        for name, login in logins.items():
            user, resource = login if isinstance(login, tuple) else (login, "test")
            setattr(s, name, await env.client(user, resource))
        if barrier:
            s.barrier = Barrier(s.alice)
            await s.barrier.setup()
    return s
