"""harness.py: private, throw-away instances of everything calpubsub talks to, for the
end-to-end tests: a PostgreSQL cluster, a Prosody server, calpubsub itself, and slixmpp
clients. Everything listens on loopback on free ports under one temporary directory and
is stopped afterwards, whatever the outcome."""

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from xml.etree import ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import register_stanza_plugin  # noqa: F401  (re-exported for tests)

SRCDIR = os.environ.get("CALPUBSUB_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
CALPUBSUB_BIN = os.environ.get("CALPUBSUB_BIN", "calpubsub")
CALPUBSUBCTL_BIN = os.environ.get("CALPUBSUBCTL_BIN", "calpubsubctl")


def built_with_sanitizers(program=CALPUBSUBCTL_BIN):
    """True when the program under test links AddressSanitizer, which reserves terabytes of
    address space for its shadow memory and so cannot run under an address-space limit."""
    path = shutil.which(program) or program
    out = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return "libasan" in out.stdout
# Optional wrapper for the daemon, e.g. "valgrind --error-exitcode=99 --leak-check=full"
WRAPPER = os.environ.get("CALPUBSUB_WRAPPER", "").split()
PG_BINDIR = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
KEEP = os.environ.get("CALPUBSUB_KEEP_TMP") == "1"
# The web page as make assembles it in the build tree (src/web/ and the vendored
# Strophe.js): when set, Prosody serves it at WEB_PATH next to its BOSH endpoint.
WEB_DIR = os.environ.get("CALPUBSUB_WEB_DIR", "")
WEB_PATH = "/calendar/"
BOSH_PATH = "/http-bind"

COMPONENT = "pubsub.calendar.localhost"
DOMAIN = "localhost"
PASSWORD = "password"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"

# The slowest machine we run on is a loaded 2-core CI box; with the sanitizers a little
# slower, with valgrind slower still.
SLOW = 4.0 if WRAPPER else 2.0 if built_with_sanitizers(CALPUBSUB_BIN) else 1.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise TimeoutError("timed out after %.1f s waiting for %s" % (timeout * SLOW, what))


async def async_wait_until(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if pred():
            return
        await asyncio.sleep(interval)
    raise TimeoutError("timed out after %.1f s waiting for %s" % (timeout * SLOW, what))


def is_root():
    return os.geteuid() == 0


class Postgres:
    """A private cluster. PostgreSQL refuses to run as root, so as root it runs as the
    'postgres' account that Debian's package creates."""

    def __init__(self, root):
        self.dir = os.path.join(root, "pg")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.log = os.path.join(self.dir, "server.log")
        self.running = False

    def _as_owner(self, argv, **kw):
        if is_root():
            argv = ["runuser", "-u", "postgres", "--"] + argv
        return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)

    def init(self):
        """Creates the cluster unless the directory already holds one."""
        if os.path.exists(os.path.join(self.data, "PG_VERSION")):
            return
        os.makedirs(self.dir, exist_ok=True)
        if is_root():
            shutil.chown(self.dir, "postgres")
        self._as_owner([os.path.join(PG_BINDIR, "initdb"), "-D", self.data, "-A", "trust", "-U", "calpubsub",
                        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])

    def start(self):
        opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off "
                "-c synchronous_commit=off" % (self.port, self.dir))
        self._as_owner([os.path.join(PG_BINDIR, "pg_ctl"), "-D", self.data, "-o", opts, "-l", self.log,
                        "-w", "-t", "60", "start"])
        self.running = True

    def stop(self, mode="fast"):
        if not self.running:
            return
        self._as_owner([os.path.join(PG_BINDIR, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"])
        self.running = False

    def conninfo(self, dbname="calpubsub"):
        return "host=127.0.0.1 port=%d user=calpubsub dbname=%s connect_timeout=5" % (self.port, dbname)

    def psql(self, sql, dbname="calpubsub"):
        out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                              "-p", str(self.port), "-U", "calpubsub", "-d", dbname, "-c", sql],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return out.stdout.strip()

    def createdb(self, name, exist_ok=False):
        if exist_ok and self.psql("SELECT 1 FROM pg_database WHERE datname = '%s'" % name, dbname="postgres"):
            return
        self.psql("CREATE DATABASE \"%s\"" % name, dbname="postgres")


class Prosody:
    """A private Prosody with a c2s port for test clients, a component port, and HTTP:
    BOSH (XEP-0124/0206) at BOSH_PATH and, given a web_dir, the web page at WEB_PATH,
    both on one origin so that the page needs no CORS. Prosody offers no XEP-0033
    service, so there is never multicast."""

    multicast_jid = None

    def __init__(self, root, secret, multicast=False, web_dir=WEB_DIR):
        self.dir = os.path.join(root, "prosody")
        self.c2s_port = free_port()
        self.component_port = free_port()
        self.http_port = free_port()
        self.secret = secret
        self.web_dir = os.path.abspath(web_dir) if web_dir else ""
        self.cfg = os.path.join(self.dir, "prosody.cfg.lua")
        self.log = os.path.join(self.dir, "prosody.log")
        self.proc = None
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "certs"), exist_ok=True)
        self.write_config()

    def write_config(self):
        with open(self.cfg, "w") as f:
            f.write("""-- generated by tests/e2e/harness.py
run_as_root = true
pidfile = "{d}/prosody.pid"
data_path = "{d}/data"
certificates = "{d}/certs"
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{d}/prosody.log" }} }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
component_ports = {{ {comp} }}
component_interfaces = {{ "127.0.0.1" }}
http_ports = {{ {http} }}
http_interfaces = {{ "127.0.0.1" }}
https_ports = {{ }}
s2s_ports = {{ }}
modules_enabled = {{ "roster"; "saslauth"; "disco"; "ping"; "presence"; "message"; "offline"; "bosh";{files_module} }}
modules_disabled = {{ "s2s"; "tls" }}
-- Prosody lists only direct subdomains in its disco#items: name the service so that
-- clients (the web page) find it by service discovery.
disco_items = {{ {{ "{component}", "Calendar PubSub" }} }}
http_default_host = "{domain}"
http_paths = {{ bosh = "{bosh_path}"; files = "{web_path}" }}
{files_dir}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
gc = {{ mode = "incremental"; threshold = 200; speed = 200 }}
VirtualHost "{domain}"
Component "{component}"
    component_secret = "{secret}"
""".format(d=self.dir, c2s=self.c2s_port, comp=self.component_port, http=self.http_port,
           domain=DOMAIN, component=COMPONENT, secret=self.secret, bosh_path=BOSH_PATH,
           web_path=WEB_PATH.rstrip("/"), files_module=' "http_files";' if self.web_dir else "",
           files_dir='http_files_dir = "%s"' % self.web_dir if self.web_dir else ""))

    def web_url(self, **query):
        """The page's URL on this Prosody, with query parameters."""
        url = "http://127.0.0.1:%d%s" % (self.http_port, WEB_PATH)
        if query:
            url += "?" + urllib.parse.urlencode(query, safe="@")
        return url

    def bosh_url(self):
        return "http://127.0.0.1:%d%s" % (self.http_port, BOSH_PATH)

    def add_user(self, user, password=PASSWORD):
        accounts = os.path.join(self.dir, "data", DOMAIN.replace(".", "%2e"), "accounts")
        os.makedirs(accounts, exist_ok=True)
        with open(os.path.join(accounts, user + ".dat"), "w") as f:
            f.write('return {\n\t["password"] = "%s";\n};\n' % password)

    def add_users(self, users, password=PASSWORD):
        for u in users:
            self.add_user(u, password)

    def start(self):
        logf = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen(["prosody", "-F", "--config", self.cfg], stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        logf.close()
        wait_until(lambda: port_open(self.component_port) and port_open(self.c2s_port) and port_open(self.http_port), 20,
                   "Prosody to listen")

    def stop(self):
        if not self.proc:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        self.start()

    def freeze(self):
        """Stops the server process without closing anything: a hung server."""
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def thaw(self):
        os.killpg(self.proc.pid, signal.SIGCONT)


def servers_under_test():
    """The XMPP servers the end-to-end tests run against: $CALPUBSUB_TEST_SERVERS, or
    Prosody and ejabberd (ejabberd when installed)."""
    wanted = os.environ.get("CALPUBSUB_TEST_SERVERS")
    if wanted:
        return [w for w in wanted.split(",") if w]
    return ["prosody", "ejabberd"] if os.path.exists("/usr/sbin/ejabberdctl") else ["prosody"]


class Calpubsub:
    """The daemon under test, with its own config file and log."""

    def __init__(self, env, name="calpubsub", secret=None, settings=None, dbname="calpubsub"):
        self.env = env
        self.name = name
        self.dir = os.path.join(env.root, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "calpubsub.conf")
        self.log = os.path.join(self.dir, "calpubsub.log")
        self.secret_file = os.path.join(self.dir, "secret")
        self.proc = None
        self.detached_pids = []  # daemons started without -f, killed at teardown
        self.dbname = dbname
        with open(self.secret_file, "w") as f:
            f.write((secret or env.secret) + "\n")
        self.settings = {
            "component": {"jid": COMPONENT},
            "server": {"host": "127.0.0.1", "port": env.server.component_port, "domain": DOMAIN,
                       "secret_file": self.secret_file, "reconnect_min": 0.2, "reconnect_max": 2.0,
                       "ping_interval": 5, "ping_timeout": 3},
            "database": {"conninfo": env.postgres.conninfo(dbname)},
            "pubsub": {"admins": ["admin@" + DOMAIN]},
            "log": {"level": "debug"},
        }
        for group, values in (settings or {}).items():
            self.settings.setdefault(group, {}).update(values)
        self.write_config()

    def write_config(self):
        def value(v):
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, (int, float)):
                return repr(v)
            if isinstance(v, (list, tuple)):
                return "[" + ", ".join(value(x) for x in v) + "]"
            return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
        with open(self.conf, "w") as f:
            for group, values in self.settings.items():
                f.write("%s = {\n" % group)
                for k, v in values.items():
                    if v is not None:
                        f.write("  %s = %s;\n" % (k, value(v)))
                f.write("};\n")

    def ctl(self, *args, check=True, input=None):
        out = subprocess.run([CALPUBSUBCTL_BIN, "-c", self.conf] + list(args), input=input,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        if check and out.returncode != 0:
            raise AssertionError("calpubsubctl %s exited %d:\n%s%s" % (" ".join(args), out.returncode, out.stdout,
                                                                     out.stderr))
        return out

    def migrate(self):
        return self.ctl("migrate")

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_mark(self):
        return len(self.log_text())

    def wait_log(self, pattern, timeout=10, since=0):
        rx = re.compile(pattern)
        found = []

        def check():
            m = rx.search(self.log_text(), since)
            if m:
                found.append(m)
                return True
            return False
        wait_until(check, timeout, "log line /%s/ from %s" % (pattern, self.name))
        return found[0]

    async def async_wait_log(self, pattern, timeout=10, since=0):
        rx = re.compile(pattern)
        await async_wait_until(lambda: rx.search(self.log_text(), since) is not None, timeout,
                               "log line /%s/ from %s" % (pattern, self.name))

    def start(self, wait_online=True, extra_args=(), env_vars=None, wait_database=None):
        """Starts the daemon; with wait_online, returns once it is connected to the XMPP
        server and, while PostgreSQL runs (or wait_database says so), to the database, so
        that a test's first request is not answered with the wait error of a daemon still
        connecting. Returns the log mark from before the start."""
        if wait_database is None:
            wait_database = wait_online and self.env.postgres.running
        mark = self.log_mark()
        logf = open(self.log, "ab")
        environ = dict(os.environ)
        environ.update(env_vars or {})
        argv = WRAPPER + [CALPUBSUB_BIN, "-f", "-c", self.conf] + list(extra_args)
        self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, env=environ)
        logf.close()
        if wait_online:
            try:
                self.wait_log(r"connected to 127\.0\.0\.1:\d+ as ", 20, since=mark)
            except TimeoutError:
                state = "exited with %s" % self.proc.poll() if self.proc.poll() is not None else "still running"
                raise TimeoutError("%s did not connect (%s); its log ends with:\n%s"
                                   % (self.name, state, self.log_text()[mark:][-3000:]))
        if wait_database:
            try:
                self.wait_log(r"connected to the database", 20, since=mark)
            except TimeoutError:
                raise TimeoutError("%s did not connect to the database; its log ends with:\n%s"
                                   % (self.name, self.log_text()[mark:][-3000:]))
        return mark

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _bytes_waiting_from_server(self):
        """Bytes the XMPP server has sent that calpubsub has not read yet (the receive
        queue of its component connection, from /proc)."""
        fd_dir = "/proc/%d/fd" % self.proc.pid
        inodes = set()
        for fd in os.listdir(fd_dir):
            with contextlib.suppress(OSError):
                target = os.readlink(os.path.join(fd_dir, fd))
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        waiting = 0
        for table in ("tcp", "tcp6"):
            with contextlib.suppress(FileNotFoundError), open("/proc/%d/net/%s" % (self.proc.pid, table)) as f:
                for row in f.readlines()[1:]:
                    fields = row.split()
                    remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                    if fields[9] in inodes and remote_port == self.env.server.component_port:
                        waiting += int(fields[4].split(":")[1], 16)
        return waiting

    async def arriving_together(self, requests, settle=0.3, longest=2.0):
        """Runs the request coroutines with calpubsub stopped (SIGSTOP) until what the
        server forwards of them has stopped growing in its socket, then lets it go on:
        the requests really arrive together, however busy the machine keeps the server.
        Returns their results in order."""
        self.proc.send_signal(signal.SIGSTOP)
        try:
            burst = asyncio.gather(*requests)
            start = changed = time.monotonic()
            last = -1
            while time.monotonic() - start < longest:
                await asyncio.sleep(0.05)
                now = self._bytes_waiting_from_server()
                if now != last:
                    last, changed = now, time.monotonic()
                elif now and time.monotonic() - changed >= settle:
                    break
        except BaseException:
            burst.cancel()
            raise
        finally:
            self.proc.send_signal(signal.SIGCONT)
        return await burst

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stops the daemon and returns its exit status."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self.proc = None
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def kill_detached(self):
        for pid in self.detached_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.detached_pids = []


class Client(slixmpp.ClientXMPP):
    """A test client: records every stanza it receives so that tests can wait for
    notifications or check that nothing arrived."""

    def __init__(self, jid, password):
        super().__init__(jid, password)
        for plugin in ("xep_0004", "xep_0030", "xep_0059", "xep_0060", "xep_0092", "xep_0199"):
            self.register_plugin(plugin)
        self["feature_mechanisms"].unencrypted_plain = True
        self.received = []
        self.received_event = asyncio.Event()
        self.session_started = asyncio.Event()
        self.add_event_handler("session_start", self._on_session_start)
        self.add_filter("in", self._record)

    async def _on_session_start(self, event):
        # available, so that messages to the bare JID reach this resource
        self.send_presence()
        self.session_started.set()

    def _record(self, stanza):
        self.received.append(stanza)
        self.received_event.set()
        return stanza

    def from_component(self, name=None):
        return [s for s in self.received
                if s.get_from().bare == COMPONENT and (name is None or s.name == name)]

    async def wait_for(self, pred, timeout=5, what="a stanza"):
        """Waits for a received stanza for which pred() is true and returns it."""
        deadline = time.monotonic() + timeout * SLOW
        seen = 0
        while True:
            for s in self.received[seen:]:
                if pred(s):
                    return s
            seen = len(self.received)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("%s did not receive %s within %.1f s" % (self.boundjid, what, timeout * SLOW))
            self.received_event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.received_event.wait(), left)

    async def raw_iq(self, iq_type, payload_xml, to=COMPONENT, timeout=5, iq_id=None):
        """Sends an IQ with a hand-written payload and returns the reply (result or error)
        as an ElementTree element, without slixmpp interpreting it."""
        iq_id = iq_id or "t-" + uuid.uuid4().hex[:12]
        self.send_raw("<iq type='%s' id='%s' to='%s'>%s</iq>" % (iq_type, iq_id, to, payload_xml))
        reply = await self.wait_for(lambda s: s.name == "iq" and s["id"] == iq_id, timeout,
                                    "the reply to IQ %s" % iq_id)
        return reply.xml


def error_of(iq_xml):
    """(type, condition, text, application condition) of an IQ error reply."""
    assert iq_xml.get("type") == "error", "expected an error reply, got " + ET.tostring(iq_xml, "unicode")
    err = iq_xml.find("{jabber:client}error")
    cond = text = app = None
    for child in err:
        ns, _, name = child.tag[1:].partition("}")
        if ns == NS_STANZAS and name != "text":
            cond = name
        elif ns == NS_STANZAS:
            text = child.text
        else:
            app = child.tag
    return err.get("type"), cond, text, app


class Env:
    """One PostgreSQL, one Prosody and (usually) one calpubsub, plus clients."""

    def __init__(self, root=None, server="prosody", **server_options):
        """root: a directory to keep (the demo's state); by default a temporary one that
        is removed afterwards. server: "prosody" or "ejabberd"."""
        self.keep = KEEP or root is not None
        if root:
            os.makedirs(root, exist_ok=True)
            self.root = os.path.abspath(root)
        else:
            self.root = tempfile.mkdtemp(prefix="calpubsub-e2e-")
        os.chmod(self.root, 0o755)  # PostgreSQL runs as another user
        self.secret = uuid.uuid4().hex
        self.postgres = Postgres(self.root)
        self.server_kind = server
        if server == "ejabberd":
            # imported here: ejabberd_server imports this module
            from ejabberd_server import Ejabberd
            self.server = Ejabberd(self.root, self.secret, **server_options)
        else:
            self.server = Prosody(self.root, self.secret, **server_options)
        self.daemons = []
        self.clients = []
        self.component = COMPONENT
        self.domain = DOMAIN

    def setup(self, users=("alice", "bob", "carol", "admin"), start_daemon=True, daemon_settings=None):
        self.postgres.init()
        self.postgres.start()
        self.postgres.createdb("calpubsub", exist_ok=True)
        for u in users:
            self.server.add_user(u)
        if self.server_kind == "ejabberd":
            self.server.start_retrying()
        else:
            self.server.start()
        if start_daemon:
            self.calpubsub = self.new_daemon(settings=daemon_settings)
            self.calpubsub.migrate()
            self.calpubsub.start()

    def new_daemon(self, **kw):
        d = Calpubsub(self, name="calpubsub-%d" % len(self.daemons) if self.daemons else "calpubsub", **kw)
        self.daemons.append(d)
        return d

    async def client(self, user, resource="test", timeout=15):
        c = Client("%s@%s/%s" % (user, DOMAIN, resource), PASSWORD)
        c.connect(address=("127.0.0.1", self.server.c2s_port), force_starttls=False, disable_starttls=True)
        try:
            await asyncio.wait_for(c.session_started.wait(), timeout * SLOW)
        except asyncio.TimeoutError:
            raise TimeoutError("client %s could not log in" % user)
        self.clients.append(c)
        return c

    async def close_clients(self):
        for c in self.clients:
            c.disconnect()
        if self.clients:
            await asyncio.sleep(0.1)
        self.clients = []

    def dump_logs_on_failure(self):
        for d in self.daemons:
            text = d.log_text()
            print("# --- last lines of %s ---" % d.log)
            for line in text.splitlines()[-25:]:
                print("# " + line[:300])
        print("# (everything is under %s%s)" % (self.root, "" if self.keep else ", removed at the end"), flush=True)

    def final_check(self):
        """Stops every daemon still running with SIGTERM and returns what went wrong: an
        exit status other than 0 (LeakSanitizer and valgrind report through it) or a
        sanitizer report in a log."""
        problems = []
        for d in self.daemons:
            if d.running():
                rc = d.stop()
                if rc != 0:
                    problems.append("%s exited with status %s on SIGTERM" % (d.name, rc))
            text = d.log_text()
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                           "Invalid read", "Invalid write", "uninitialised value", "definitely lost: [1-9]"):
                for m in re.finditer(marker, text):
                    problems.append("%s: %s" % (d.log, text[m.start():m.start() + 300]))
        return problems

    def teardown(self):
        statuses = []
        for d in self.daemons:
            with contextlib.suppress(Exception):
                statuses.append(d.stop())
            d.kill_detached()
        with contextlib.suppress(Exception):
            self.server.stop()
        with contextlib.suppress(Exception):
            self.postgres.stop("immediate")
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        return statuses


@contextlib.asynccontextmanager
async def environment(server="prosody", **kw):
    env = Env(server=server)
    try:
        env.setup(**kw)
        yield env
    finally:
        await env.close_clients()
        env.teardown()


async def expect_iq_error(coro, condition, etype=None):
    """Awaits a slixmpp IQ send and checks that it failed with condition."""
    try:
        await coro
    except IqError as e:
        got = e.iq["error"]["condition"]
        assert got == condition, "expected %s, got %s (%s)" % (condition, got, e.iq["error"]["text"])
        if etype:
            assert e.iq["error"]["type"] == etype, "expected type %s, got %s" % (etype, e.iq["error"]["type"])
        return e.iq
    raise AssertionError("expected an IQ error %s, got a result" % condition)


__all__ = ["IqError", "IqTimeout", "ET", "Env", "environment", "error_of", "expect_iq_error", "COMPONENT",
           "DOMAIN", "SLOW", "async_wait_until", "wait_until", "free_port", "servers_under_test"]
