"""check_ejabberd.py: a runnable check that the private ejabberd of ejabberd_server.py
works for calpubsub's tests, without calpubsub itself: the server starts, slixmpp users
log in, a raw XEP-0114 component authenticates (and a wrong secret is refused), its
message reaches a user, mod_multicast (XEP-0033) delivers one copy to each addressee, and
after stop() no ejabberd, beam, epmd or erl_child_setup process is left. Prints TAP and
the timings (start, stop, registering 10 and 5,000 users).

Run it with /usr/bin/python3 tests/e2e/check_ejabberd.py (as root or as 'ejabberd')."""

import asyncio
import hashlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from xml.etree import ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import COMPONENT, DOMAIN, KEEP, PASSWORD, SLOW, Client  # noqa: E402
from ejabberd_server import Ejabberd, _proc_table  # noqa: E402

NS_COMPONENT = "jabber:component:accept"
NS_STREAM = "http://etherx.jabber.org/streams"
NS_ADDRESS = "http://jabber.org/protocol/address"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"


class RawComponent:
    """A bare XEP-0114 component over asyncio: the handshake, sending raw XML, and every
    stanza received kept both parsed and as raw text (raw_log) for inspection."""

    def __init__(self, port, domain=COMPONENT, secret=""):
        self.port = port
        self.domain = domain
        self.secret = secret
        self.stanzas = []
        self.raw_log = []
        self.stream_id = None
        self.closed = asyncio.Event()
        self._arrived = asyncio.Event()
        self._header = asyncio.Event()

    async def connect(self):
        """Opens the stream and does the handshake; returns the element that answered it
        (<handshake/> on success, <stream:error/> on failure)."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._task = asyncio.ensure_future(self._read())
        self.send("<?xml version='1.0'?><stream:stream xmlns='%s' xmlns:stream='%s' to='%s'>"
                  % (NS_COMPONENT, NS_STREAM, self.domain))
        await asyncio.wait_for(self._header.wait(), 5 * SLOW)
        digest = hashlib.sha1((self.stream_id + self.secret).encode()).hexdigest()
        self.send("<handshake>%s</handshake>" % digest)
        return await self.wait_for(lambda e: e.tag in ("{%s}handshake" % NS_COMPONENT, "{%s}error" % NS_STREAM),
                                   what="the handshake answer")

    def send(self, xml):
        self.writer.write(xml.encode())

    async def _read(self):
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.raw_log.append(data.decode(errors="replace"))
                self._parser.feed(data)
                for event, elem in self._parser.read_events():
                    if event == "start":
                        self._depth += 1
                        if self._depth == 1:
                            self.stream_id = elem.get("id")
                            self._root = elem
                            self._header.set()
                    else:
                        self._depth -= 1
                        if self._depth == 1:
                            self.stanzas.append(elem)
                            self._root.remove(elem)
                            self._arrived.set()
        except (ConnectionError, ET.ParseError):
            pass
        finally:
            self.closed.set()
            self._arrived.set()

    async def wait_for(self, pred, timeout=5, what="a stanza"):
        deadline = time.monotonic() + timeout * SLOW
        seen = 0
        while True:
            for e in self.stanzas[seen:]:
                if pred(e):
                    return e
            seen = len(self.stanzas)
            left = deadline - time.monotonic()
            if left <= 0 or (self.closed.is_set() and seen == len(self.stanzas)):
                raise TimeoutError("the component did not receive %s" % what)
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def iq(self, iq_type, to, payload):
        iq_id = "c-" + uuid.uuid4().hex[:10]
        self.send("<iq type='%s' id='%s' from='%s' to='%s'>%s</iq>" % (iq_type, iq_id, self.domain, to, payload))
        return await self.wait_for(lambda e: e.tag == "{%s}iq" % NS_COMPONENT and e.get("id") == iq_id,
                                   what="the reply to IQ " + iq_id)

    async def close(self):
        if hasattr(self, "writer"):
            self.writer.close()
            self._task.cancel()


class Check:
    """TAP output: numbered ok/not ok lines, diagnostics, and the count at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=""):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, what), flush=True)
        if detail and not cond:
            self.diag(detail)

    @staticmethod
    def diag(text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)


def epmd_pids():
    return {pid for pid, (ppid, state, comm) in _proc_table().items() if comm == "epmd" and state != "Z"}


def left_behind(pids):
    """Those of pids (processes seen while the servers ran) still alive."""
    table = _proc_table()
    return sorted("%d:%s" % (p, table[p][2]) for p in pids if p in table and table[p][1] != "Z")


async def login(server, user):
    c = Client("%s@%s/check" % (user, DOMAIN), PASSWORD)
    c.connect(address=("127.0.0.1", server.c2s_port), force_starttls=False, disable_starttls=True)
    await asyncio.wait_for(c.session_started.wait(), 15 * SLOW)
    return c


async def exercise(t, server):
    """Clients and a component against a started server."""
    users = ["alice", "bob", "carol"]
    clients = [await login(server, u) for u in users]
    t.ok(True, "three slixmpp users log in over c2s with PLAIN")

    bad = RawComponent(server.component_port, secret="wrong-" + server.secret)
    answer = await bad.connect()
    t.ok(answer.tag == "{%s}error" % NS_STREAM and answer.find("{urn:ietf:params:xml:ns:xmpp-streams}not-authorized")
         is not None, "a wrong component secret is refused with not-authorized", "".join(bad.raw_log))
    await bad.close()

    comp = RawComponent(server.component_port, secret=server.secret)
    answer = await comp.connect()
    t.ok(answer.tag == "{%s}handshake" % NS_COMPONENT, "the component handshake succeeds", "".join(comp.raw_log))

    reply = await comp.iq("get", DOMAIN, "<ping xmlns='urn:xmpp:ping'/>")
    t.ok(reply.get("type") == "result", "the server answers the component's ping", ET.tostring(reply, "unicode"))

    alice = clients[0]
    comp.send("<message from='%s' to='alice@%s/check' id='direct-1'><body>hello</body></message>"
              % (COMPONENT, DOMAIN))
    m = await alice.wait_for(lambda s: s.name == "message" and s["id"] == "direct-1", 5, "the direct message")
    t.ok(m["body"] == "hello" and m["from"] == COMPONENT, "a message from the component reaches a user")

    if not server.multicast:
        items = await comp.iq("get", DOMAIN, "<query xmlns='%s'/>" % NS_DISCO_ITEMS)
        jids = [i.get("jid") for i in items.iter("{%s}item" % NS_DISCO_ITEMS)]
        t.ok(server.multicast_jid is None and "multicast." + DOMAIN not in jids,
             "without mod_multicast no multicast service is listed", ET.tostring(items, "unicode"))
        return clients, comp

    items = await comp.iq("get", DOMAIN, "<query xmlns='%s'/>" % NS_DISCO_ITEMS)
    jids = [i.get("jid") for i in items.iter("{%s}item" % NS_DISCO_ITEMS)]
    t.ok(server.multicast_jid in jids, "disco#items on the server lists " + server.multicast_jid,
         ET.tostring(items, "unicode"))
    info = await comp.iq("get", server.multicast_jid, "<query xmlns='%s'/>" % NS_DISCO_INFO)
    features = [f.get("var") for f in info.iter("{%s}feature" % NS_DISCO_INFO)]
    limits = {f.get("var"): f.findtext("{jabber:x:data}value") for f in info.iter("{jabber:x:data}field")}
    t.ok(NS_ADDRESS in features and limits.get("message") == "100000",
         "the multicast service advertises XEP-0033 and a message limit of 100000 to the component",
         ET.tostring(info, "unicode"))

    for c in clients:
        c.received.clear()
    addresses = "".join("<address type='bcc' jid='%s@%s/check'/>" % (u, DOMAIN) for u in users)
    comp.send("<message from='%s' to='%s' id='mc-1'><addresses xmlns='%s'>%s</addresses><body>to all</body>"
              "</message>" % (COMPONENT, server.multicast_jid, NS_ADDRESS, addresses))
    for c in clients:
        await c.wait_for(lambda s: s.name == "message" and s["id"] == "mc-1", 5, "the multicast message")
    await asyncio.sleep(0.5)
    copies = [len([s for s in c.received if s.name == "message" and s["id"] == "mc-1"]) for c in clients]
    t.ok(copies == [1, 1, 1], "a multicast message reaches each of three users exactly once", repr(copies))
    got = [s for s in clients[1].received if s["id"] == "mc-1"][0]
    t.ok(got["from"] == COMPONENT and got["to"] == "bob@%s/check" % DOMAIN and got["body"] == "to all"
         and got.xml.find("{%s}addresses" % NS_ADDRESS) is None,
         "each copy comes from the component, to the addressee, without the bcc addresses", str(got))
    errors = [e for e in comp.stanzas if e.get("type") == "error"]
    t.ok(not errors, "the multicast service sent the component no error",
         "\n".join(ET.tostring(e, "unicode") for e in errors))
    return clients, comp


async def main_async(t):
    root = tempfile.mkdtemp(prefix="calpubsub-ejabberd-check-")
    os.chmod(root, 0o755)
    secret = uuid.uuid4().hex
    servers = []
    seen = {}
    epmd_before = epmd_pids()
    try:
        a = Ejabberd(root, secret, name="ejabberd-a")
        b = Ejabberd(root, secret, multicast=False, name="ejabberd-b")
        servers = [a, b]
        for u in ("alice", "bob", "carol"):
            a.add_user(u)
            b.add_user(u)
        started = time.monotonic()
        a.start()
        t.diag("start with 3 users to register: %.2f s" % (time.monotonic() - started))
        started = time.monotonic()
        b.start()
        t.diag("start of a second instance without mod_multicast: %.2f s" % (time.monotonic() - started))
        t.ok(a.running() and b.running(), "two instances run at once")
        for server in servers:
            seen.update(server.processes())
        t.diag("processes: " + " ".join("%d:%s" % p for p in sorted(seen.items())))
        kinds = [sorted(server.processes().values()) for server in servers]
        t.ok(all(k.count("beam.smp") == 1 and k.count("erl_child_setup") == 1 and "epmd" not in k for k in kinds),
             "each instance runs one Erlang VM, without epmd", repr(kinds))
        t.ok(epmd_pids() <= epmd_before, "no epmd is started")

        started = time.monotonic()
        for i in range(10):
            a.add_user("single%d" % i)
        t.diag("registering 10 users one by one: %.2f s" % (time.monotonic() - started))
        started = time.monotonic()
        a.add_users(["bulk%d" % i for i in range(5000)])
        t.diag("registering 5,000 users at once: %.2f s" % (time.monotonic() - started))
        count = len(a.ctl("registered_users", DOMAIN).split())
        t.ok(count == 5013, "all 5,013 accounts are registered", "registered: %d" % count)

        for server in (a, b):
            clients, comp = await exercise(t, server)
            bulk = await login(server, "bulk4999") if server is a else None
            if server is a:
                t.ok(True, "a bulk-registered user logs in")
                clients.append(bulk)
            for c in clients:
                c.disconnect()
            await comp.close()
            await asyncio.sleep(0.2)

        started = time.monotonic()
        a.restart()
        t.diag("restart: %.2f s" % (time.monotonic() - started))
        seen.update(a.processes())
        c = await login(a, "bulk17")
        t.ok(True, "accounts survive a restart")
        c.disconnect()
        await asyncio.sleep(0.2)
    finally:
        for server in servers:
            started = time.monotonic()
            server.stop()
            t.diag("stop: %.2f s" % (time.monotonic() - started))
        if KEEP:
            t.diag("logs kept under " + root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    t.ok(not left_behind(seen), "nothing is left running after stop()", " ".join(left_behind(seen)))
    t.ok(epmd_pids() <= epmd_before, "no epmd is left behind")


def main():
    t = Check()
    try:
        asyncio.run(main_async(t))
    except Exception as e:  # report, then still print the plan
        t.ok(False, "the check ran to the end", "%s: %s" % (type(e).__name__, e))
    print("1..%d" % t.n)
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()
