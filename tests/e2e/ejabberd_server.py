"""ejabberd_server.py: a private, throw-away ejabberd (Debian 12's 23.01) for the
end-to-end tests, with the same interface as harness.Prosody, so that every test can run
against either server.

The instance has its own config, spool (Mnesia) and log directories under the test's
temporary directory, and listens on loopback only: c2s without TLS (PLAIN allowed), the
XEP-0114 component port for COMPONENT, HTTP on http_port (BOSH at harness.BOSH_PATH and,
given a web_dir, the web page at harness.WEB_PATH, as the harness's Prosody does), and
the Erlang distribution port that ejabberdctl talks to. The distribution runs without
epmd (ERL_DIST_PORT), with a unique node name and cookie, so that several instances can
run at once and nothing system-wide is left behind. mod_multicast (XEP-0033) is on
unless multicast=False.

ejabberdctl only runs as root or as the 'ejabberd' account; as root the server runs as
'ejabberd' (through runuser, like PostgreSQL in the harness), so its directory is handed
over to that account."""

import atexit
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import uuid
from xml.sax.saxutils import quoteattr

from harness import BOSH_PATH, COMPONENT, DOMAIN, PASSWORD, SLOW, WEB_DIR, WEB_PATH, free_port, port_open

EJABBERDCTL = os.environ.get("EJABBERDCTL", "/usr/sbin/ejabberdctl")
EJABBERD_ACCOUNT = "ejabberd"
# The XEP-0033 service ejabberd's mod_multicast serves for DOMAIN.
MULTICAST_JID = "multicast." + DOMAIN
# ejabberd writes this once its modules are up; the listeners open right after it.
STARTED_RE = re.compile(r"ejabberd \S+ is started in the node")


def _proc_table():
    """{pid: (ppid, state, command name)} of every process, read from /proc."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(name)] = (int(fields[1]), fields[0], comm)
    return table


def _descendants(pid):
    """{pid: command name} of pid and every live process below it: runuser, ejabberdctl's
    shell, beam.smp, and erl_child_setup (in a session of its own, but beam's child)."""
    table = _proc_table()
    found, todo = {}, [pid]
    while todo:
        p = todo.pop()
        if p in table and table[p][1] != "Z":
            found[p] = table[p][2]
        todo.extend(c for c, (pp, _, _) in table.items() if pp == p)
    return found


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


class Ejabberd:
    """A private ejabberd with a c2s port for test clients, a component port, and HTTP:
    BOSH (mod_bosh) at BOSH_PATH and, given a web_dir (default $CALPUBSUB_WEB_DIR), the
    web page (mod_http_fileserver) at WEB_PATH, both on one origin so that the page needs
    no CORS."""

    def __init__(self, root, secret, multicast=True, name="ejabberd", web_dir=WEB_DIR):
        if os.geteuid() == 0 and not os.stat(root).st_mode & 0o001:
            raise ValueError("%s must be searchable by others: ejabberd runs as '%s'" % (root, EJABBERD_ACCOUNT))
        self.dir = os.path.join(root, name)
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.logs = os.path.join(self.dir, "logs")
        self.c2s_port = free_port()
        self.component_port = free_port()
        self.http_port = free_port()
        self.dist_port = free_port()
        self.secret = secret
        self.web_dir = os.path.abspath(web_dir) if web_dir else ""
        self.multicast = multicast
        self.multicast_jid = MULTICAST_JID if multicast else None
        self.node = "calpubsub-%s@localhost" % uuid.uuid4().hex[:12]
        self.cookie = uuid.uuid4().hex
        self.cfg = os.path.join(self.etc, "ejabberd.yml")
        self.ctl_cfg = os.path.join(self.etc, "ejabberdctl.cfg")
        self.log = os.path.join(self.logs, "ejabberd.log")
        self.stdout_log = os.path.join(self.dir, "stdout.log")
        self.proc = None
        self.users = {}     # registered in Mnesia: user -> password
        self.pending = {}   # added while stopped, registered by the next start()
        for d in (self.etc, self.spool, self.logs):
            os.makedirs(d)
        if self.web_dir and os.geteuid() == 0:
            index = os.path.join(self.web_dir, "index.html")
            if subprocess.run(["runuser", "-u", EJABBERD_ACCOUNT, "--", "test", "-r", index]).returncode != 0:
                raise ValueError("%s must be readable by '%s', the account ejabberd runs as"
                                 % (index, EJABBERD_ACCOUNT))
        self.write_config()
        self._hand_over(self.dir)
        atexit.register(self.stop)

    # --- configuration -------------------------------------------------------------

    def write_config(self):
        multicast = ""
        if self.multicast:
            # The component is a "remote" sender for mod_multicast (its domain is not in
            # hosts): without remote limits it may address at most 20 recipients.
            multicast = """  mod_multicast:
    host: "{mc}"
    access: multicast
    limits:
      local:
        message: 100000
        presence: 100000
      remote:
        message: 100000
        presence: 100000
""".format(mc=MULTICAST_JID)
        files_handler = files_module = ""
        if self.web_dir:
            files_handler = "      %s: mod_http_fileserver\n" % WEB_PATH.rstrip("/")
            files_module = """  mod_http_fileserver:
    docroot: {docroot}
    directory_indices: [index.html]
""".format(docroot=json.dumps(self.web_dir))
        with open(self.cfg, "w") as f:
            f.write("""# generated by tests/e2e/ejabberd_server.py
hosts:
  - "{domain}"
loglevel: info
log_rotate_count: 0
auth_method: internal
auth_password_format: plain
# PLAIN only, as in the Prosody harness: SCRAM costs clients CPU at every login.
disable_sasl_mechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "DIGEST-MD5", "X-OAUTH2"]
cache_size: 100000
max_fsm_queue: 1000000
s2s_access: none
acl:
  calpubsub:
    server: "{component}"
access_rules:
  multicast:
    allow: calpubsub
shaper_rules:
  max_user_offline_messages: 100000
listen:
  -
    port: {c2s}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    shaper: none
    starttls: false
    max_stanza_size: 10485760
    max_fsm_queue: 1000000
  -
    port: {comp}
    ip: "127.0.0.1"
    module: ejabberd_service
    shaper: none
    max_stanza_size: 10485760
    max_fsm_queue: 1000000
    hosts:
      "{component}":
        password: "{secret}"
  -
    port: {http}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      {bosh_path}: mod_bosh
{files_handler}modules:
  mod_admin_extra: {{}}
  mod_bosh: {{}}
  mod_disco: {{}}
{files_module}  mod_offline: {{}}
  mod_ping: {{}}
  mod_roster: {{}}
{multicast}""".format(domain=DOMAIN, component=COMPONENT, secret=self.secret, c2s=self.c2s_port,
                      comp=self.component_port, http=self.http_port, multicast=multicast,
                      bosh_path=BOSH_PATH, files_handler=files_handler, files_module=files_module))
        # ejabberdctl.cfg is sourced by the ejabberdctl shell script. ERL_DIST_PORT makes
        # it run the node and every ctl client with "-erl_epmd_port PORT -start_epmd
        # false": no epmd at all.
        with open(self.ctl_cfg, "w") as f:
            f.write("""# generated by tests/e2e/ejabberd_server.py
ERLANG_NODE={node}
ERL_DIST_PORT={dist}
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
CONTRIB_MODULES_PATH={d}/contrib
EJABBERD_BYPASS_WARNINGS=true
""".format(node=self.node, dist=self.dist_port, d=self.dir))
        # Read by ejabberdctl (as $CONFIG_DIR/vm.args) for the node and every ctl client:
        # a private cookie (so no ~/.erlang.cookie is read or written), and the
        # distribution port on loopback only.
        with open(os.path.join(self.etc, "vm.args"), "w") as f:
            f.write("-setcookie %s\n-kernel inet_dist_use_interface {127,0,0,1}\n" % self.cookie)
        os.chmod(os.path.join(self.etc, "vm.args"), 0o600)
        # ERL_INETRC: resolve localhost (the node's host) without DNS
        with open(os.path.join(self.etc, "inetrc"), "w") as f:
            f.write('{lookup, ["file", "native"]}.\n{host, {127,0,0,1}, ["localhost"]}.\n')

    def _hand_over(self, path):
        """As root, ejabberd runs as its own account, which must own its files."""
        if os.geteuid() != 0:
            return
        account = pwd.getpwnam(EJABBERD_ACCOUNT)
        for base, dirs, files in os.walk(path):
            for n in [base] + [os.path.join(base, x) for x in dirs + files]:
                os.chown(n, account.pw_uid, account.pw_gid)

    # mod_http_fileserver serves a request only when its Host header names one of the
    # server's virtual hosts (any other name, 127.0.0.1 included, gets "410 Gone"; the
    # listener's default_host option is not used by 23.01): the page is at the XMPP
    # domain, which resolves to loopback here. BOSH answers under any name.

    def web_url(self, **query):
        """The page's URL on this ejabberd, with query parameters."""
        url = "http://%s:%d%s" % (DOMAIN, self.http_port, WEB_PATH)
        if query:
            url += "?" + urllib.parse.urlencode(query, safe="@")
        return url

    def bosh_url(self):
        """The BOSH endpoint, on the page's origin."""
        return "http://%s:%d%s" % (DOMAIN, self.http_port, BOSH_PATH)

    # --- ejabberdctl -----------------------------------------------------------------

    def _argv(self, *args):
        argv = [EJABBERDCTL, "--config-dir", self.etc, "--config", self.cfg, "--ctl-config", self.ctl_cfg,
                "--logs", self.logs, "--spool", self.spool] + list(args)
        if os.geteuid() == 0:
            argv = ["runuser", "-u", EJABBERD_ACCOUNT, "--"] + argv
        elif pwd.getpwuid(os.geteuid()).pw_name != EJABBERD_ACCOUNT:
            raise RuntimeError("ejabberdctl only runs as root or as the '%s' account" % EJABBERD_ACCOUNT)
        return argv

    def ctl(self, *args, check=True, timeout=60):
        """Runs an ejabberdctl command against the running node; returns its output. Each
        call starts a small Erlang node (about 0.2 s)."""
        proc = subprocess.Popen(self._argv(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                cwd=self.spool, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self._kill_tree(proc.pid)
            proc.communicate()
            raise
        if check and proc.returncode != 0:
            raise RuntimeError("ejabberdctl %s failed (%d): %s" % (" ".join(args), proc.returncode, out.strip()))
        return out

    # --- users ---------------------------------------------------------------------

    def add_user(self, user, password=PASSWORD):
        self.add_users([user], password)

    def add_users(self, users, password=PASSWORD):
        """Registers many accounts at once: one ejabberdctl import_piefxis (XEP-0227) call
        registers 5,000 users in well under a second, where one 'ejabberdctl register' per
        user costs about 0.2 s each. Users added while stopped are registered by start()."""
        wanted = {u: password for u in users}
        if not self.running():
            self.pending.update(wanted)
            return
        self._register(wanted)

    def _register(self, wanted):
        new = {u: p for u, p in wanted.items() if u not in self.users}
        for u, p in wanted.items():
            if u in self.users and self.users[u] != p:
                self.ctl("change_password", u, DOMAIN, p)
                self.users[u] = p
        if not new:
            return
        path = os.path.join(self.dir, "users-%s.xml" % uuid.uuid4().hex[:8])
        with open(path, "w") as f:
            f.write("<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'>\n")
            f.write("<host jid=%s>\n" % quoteattr(DOMAIN))
            for u, p in new.items():
                f.write("<user name=%s password=%s/>\n" % (quoteattr(u), quoteattr(p)))
            f.write("</host>\n</server-data>\n")
        self._hand_over(path)
        try:
            self.ctl("import_piefxis", path, timeout=120)
        finally:
            os.unlink(path)
        self.users.update(new)

    # --- life cycle ------------------------------------------------------------------

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def processes(self):
        """{pid: command name} of the running instance (empty when stopped)."""
        return _descendants(self.proc.pid) if self.proc else {}

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self, timeout=30):
        """Starts the node and returns once it is started, its listeners accept connections
        and the pending users are registered. On failure, nothing is left running."""
        mark = len(self.log_text())
        logf = open(self.stdout_log, "ab")
        # foreground-quiet: the node stays our child (no -detached), and only critical
        # messages go to stdout; the full log is self.log
        self.proc = subprocess.Popen(self._argv("foreground-quiet"), stdout=logf, stderr=subprocess.STDOUT,
                                     cwd=self.spool, start_new_session=True)
        logf.close()
        try:
            deadline = time.monotonic() + timeout * SLOW
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError("ejabberd exited with status %d during start-up:\n%s"
                                       % (self.proc.returncode, self._tail()))
                if (STARTED_RE.search(self.log_text(), mark) and port_open(self.c2s_port)
                        and port_open(self.component_port) and port_open(self.http_port)):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError("ejabberd did not start within %.0f s:\n%s" % (timeout * SLOW, self._tail()))
                time.sleep(0.05)
            if self.pending:
                pending, self.pending = self.pending, {}
                self._register(pending)
        except BaseException:
            self.stop()
            raise

    def start_retrying(self, attempts=3):
        """start(), choosing new ports after a failed start: a port picked free can be
        taken by another process before the Erlang VM binds it."""
        for attempt in range(attempts):
            try:
                return self.start()
            except (RuntimeError, TimeoutError):
                if attempt + 1 == attempts:
                    raise
                self.c2s_port, self.component_port = free_port(), free_port()
                self.http_port, self.dist_port = free_port(), free_port()
                self.write_config()
                self._hand_over(self.dir)

    def _tail(self, lines=15):
        text = ""
        for path in (self.stdout_log, self.log):
            with contextlib.suppress(OSError), open(path, errors="replace") as f:
                text += "".join(f.readlines()[-lines:])
        return text

    def stop(self, timeout=8):
        """Stops the node and waits until no process of it is left: runuser, ejabberdctl's
        shell, beam.smp and erl_child_setup. SIGTERM makes the Erlang VM shut down cleanly
        (about 1 s); the shell and runuser then exit by themselves. Anything still there
        after timeout seconds is killed."""
        if self.proc is None:
            return
        seen = {}
        signalled = set()
        deadline = time.monotonic() + timeout
        while True:
            self.proc.poll()
            seen.update(_descendants(self.proc.pid))
            # Only beam.smp: killing erl_child_setup first would make the VM abort, and
            # the shell must stay to wait for the VM. Before the VM exists, the group.
            beams = [p for p, comm in seen.items() if comm == "beam.smp"]
            targets = beams or ([self.proc.pid] if self.proc.returncode is None else [])
            for pid in set(targets) - signalled:
                with contextlib.suppress(ProcessLookupError):
                    if pid == self.proc.pid:
                        os.killpg(pid, signal.SIGTERM)
                    else:
                        os.kill(pid, signal.SIGTERM)
                signalled.add(pid)
            if self.proc.returncode is not None and not any(_alive(p) for p in seen):
                break
            if time.monotonic() > deadline:
                self._kill_tree(self.proc.pid, seen)
                break
            time.sleep(0.02)
        self.proc.wait()
        self.proc = None

    @staticmethod
    def _kill_tree(root, known=()):
        pids = set(known) | set(_descendants(root))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.02)

    def restart(self):
        self.stop()
        self.start()

    def freeze(self):
        """Stops the Erlang VM without closing anything: a hung server."""
        for pid, comm in self.processes().items():
            if comm == "beam.smp":
                os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid, comm in self.processes().items():
            if comm == "beam.smp":
                os.kill(pid, signal.SIGCONT)

    def remove(self):
        """Deletes the instance's directory (the harness removes the whole root instead)."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
