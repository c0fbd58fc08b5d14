"""test_resilience.py: calpubsub survives what happens to a real deployment: a wrong
secret, a restarted or frozen XMPP server, PostgreSQL stopped and started, a schema that
does not match, a bad configuration, signals."""

import asyncio
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tap  # noqa: E402
from harness import (CALPUBSUB_BIN, CALPUBSUBCTL_BIN, COMPONENT, SLOW, WRAPPER,  # noqa: E402
                     async_wait_until, environment, error_of)

NS_ITEMS = "http://jabber.org/protocol/disco#items"


async def disco_items(c):
    return await c.raw_iq("get", "<query xmlns='%s'/>" % NS_ITEMS)


async def responsive(env, user="alice", timeout=10):
    """A fresh client gets a ping answer from the component (within timeout seconds:
    after a reconnect the server answers for a missing component until it is back)."""
    c = await env.client(user, resource="probe-%d" % len(env.clients))
    deadline = time.monotonic() + timeout * SLOW
    while True:
        reply = await c.raw_iq("get", "<ping xmlns='urn:xmpp:ping'/>", timeout=5)
        if reply.get("type") == "result":
            return c
        if time.monotonic() > deadline:
            raise AssertionError("no ping answer from the component: %s" % (error_of(reply),))
        await asyncio.sleep(0.2)


@tap.test
async def wrong_secret(env):
    """a wrong secret is reported with the server's text and retried at the capped rate"""
    env.calpubsub.stop()
    bad = env.new_daemon(secret="not-the-secret")
    bad.start(wait_online=False)
    try:
        await refused_at_capped_rate(env, bad)
    finally:
        assert bad.stop() == 0, "SIGTERM while disconnected must still exit 0"
        env.calpubsub.start()


async def refused_at_capped_rate(env, bad):
    """The refusals in the log of a daemon with a wrong secret."""
    bad.wait_log(r"refused the component handshake for %s: not-authorized" % re.escape(COMPONENT), 10)
    time.sleep(5 * SLOW)
    text = bad.log_text()
    refusals = [m.start() for m in re.finditer("refused the component handshake", text)]
    stamps = re.findall(r"^(\S+)Z .*refused the component handshake", text, re.M)
    assert "not-authorized" in text
    # the server's own explanation is passed on
    line = re.search(r"refused the component handshake.*", text).group(0)
    if env.server_kind == "prosody":  # ejabberd's stream error carries no text
        assert ": not-authorized: Given token does not match" in line, line
    assert "not-the-secret" not in text and env.secret not in text, "a secret was logged"
    # reconnect_max is 2 s: with jitter every delay is in [1, 2] s
    assert len(refusals) >= 2, "%d attempts" % len(refusals)
    times = [time.mktime(time.strptime(s.split(".")[0], "%Y-%m-%dT%H:%M:%S")) + float("0." + s.split(".")[1])
             for s in stamps]
    gaps = [b - a for a, b in zip(times, times[1:])]
    delays = [float(d) for d in re.findall(r"reconnecting to the XMPP server in ([\d.]+) s", text)]
    assert delays and all(1.0 <= d <= 2.0 for d in delays), "delays outside the cap: %s" % delays
    # each gap is a delay plus a connection and a refused handshake, which a busy server
    # may take its time over
    assert all(0.95 <= g <= 2.0 + 1.5 * SLOW for g in gaps), "not retried at the capped rate: %s" % gaps


@tap.test
async def prosody_restart(env):
    """after the XMPP server restarts, calpubsub reconnects on its own"""
    await responsive(env)
    mark = env.calpubsub.log_mark()
    env.server.restart()
    await env.calpubsub.async_wait_log("disconnected from the XMPP server", 10, since=mark)
    await env.calpubsub.async_wait_log(r"connected to 127\.0\.0\.1:\d+ as ", 15, since=mark)
    env.clients = []  # their connections died with Prosody
    await responsive(env)


@tap.test
async def prosody_down_for_a_while(env):
    """with the XMPP server down, refused connections back off; when it returns calpubsub connects"""
    mark = env.calpubsub.log_mark()
    env.server.stop()
    try:
        window = 4 * SLOW
        await asyncio.sleep(window)
        text = env.calpubsub.log_text()[mark:]
        attempts = len(re.findall("cannot connect to the XMPP server at .*: Connection refused", text))
        # delays from 0.1 s doubling to [1, 2] s: a few quick retries, then at most one a second
        assert 1 <= attempts <= 4 + window, "%d refused connection attempts in %.0f s" % (attempts, window)
    finally:
        env.server.start()
    await env.calpubsub.async_wait_log(r"connected to 127\.0\.0\.1:\d+ as ", 15, since=mark)
    env.clients = []
    await responsive(env)


@tap.test
async def frozen_server(env):
    """a server that stops answering is noticed by the application ping and reconnected"""
    await responsive(env)
    mark = env.calpubsub.log_mark()
    env.server.freeze()
    try:
        # ping_interval 5 s + ping_timeout 3 s
        await env.calpubsub.async_wait_log("has not answered a ping", 15, since=mark)
    finally:
        env.server.thaw()
    await env.calpubsub.async_wait_log(r"connected to 127\.0\.0\.1:\d+ as ", 30, since=mark)
    env.clients = []
    await responsive(env)


@tap.test
async def database_stopped(env):
    """with PostgreSQL stopped, database requests get a wait error; it recovers on its own"""
    c = await responsive(env)
    mark = env.calpubsub.log_mark()
    env.postgres.stop()
    await env.calpubsub.async_wait_log("database unavailable", 10, since=mark)
    reply = await disco_items(c)
    etype, cond, text, _ = error_of(reply)
    assert (etype, cond) == ("wait", "resource-constraint"), (etype, cond, text)
    assert "database" in text
    # what does not need the database still works, and the XMPP link stays up
    assert (await c.raw_iq("get", "<ping xmlns='urn:xmpp:ping'/>")).get("type") == "result"
    info = await c.raw_iq("get", "<query xmlns='http://jabber.org/protocol/disco#info'/>")
    assert info.get("type") == "result"
    env.postgres.start()
    await env.calpubsub.async_wait_log("database connection restored", 15, since=mark)
    reply = await disco_items(c)
    assert reply.get("type") == "result", reply
    assert "disconnected from the XMPP server" not in env.calpubsub.log_text()[mark:]


@tap.test
async def database_down_at_start(env):
    """PostgreSQL unreachable at start: a clear error, retries, and service once it is up"""
    env.calpubsub.stop()
    env.postgres.stop()
    mark = env.calpubsub.start(wait_online=True)
    await env.calpubsub.async_wait_log(r"database unavailable: .*retrying in", 10, since=mark)
    c = await responsive(env)
    _, cond, _, _ = error_of(await disco_items(c))
    assert cond == "resource-constraint"
    env.postgres.start()
    await env.calpubsub.async_wait_log("database connection restored", 15, since=mark)
    assert (await disco_items(c)).get("type") == "result"


@tap.test
async def schema_mismatch(env):
    """calpubsub refuses a database whose schema it does not match, naming the command to run"""
    env.postgres.createdb("unmigrated")
    d = env.new_daemon(dbname="unmigrated")
    d.start(wait_online=False)
    rc = d.proc.wait(20 * SLOW)
    assert rc == 1, "exit status %s" % rc
    assert "run 'calpubsubctl migrate'" in d.log_text(), d.log_text()[-500:]
    out = d.ctl("schema-version", check=False)
    assert out.returncode == 1 and "database 0" in out.stdout, out
    # a database from a newer calpubsub is refused too
    env.postgres.psql("CREATE TABLE calpubsub_schema (version integer PRIMARY KEY, name text NOT NULL, "
                      "applied_at timestamptz NOT NULL DEFAULT now()); "
                      "INSERT INTO calpubsub_schema VALUES (999, 'future', now())", dbname="unmigrated")
    d.start(wait_online=False)
    assert d.proc.wait(20 * SLOW) == 1
    assert "newer than this calpubsub" in d.log_text()
    out = d.ctl("migrate", check=False)
    assert out.returncode == 1 and "newer than this calpubsubctl" in out.stderr, out


@tap.test
async def migrate_is_idempotent(env):
    """calpubsubctl migrate on an up-to-date schema does nothing"""
    out = env.calpubsub.ctl("migrate")
    assert "nothing to do" in out.stdout, out.stdout
    out = env.calpubsub.ctl("schema-version")
    assert out.returncode == 0


@tap.test
async def bad_configuration(env):
    """a bad configuration stops calpubsub before it connects, naming file, line and key"""
    d = env.new_daemon()
    d.settings["server"]["colour"] = "red"
    d.write_config()
    lines = open(d.conf).read().splitlines()
    lineno = next(i for i, l in enumerate(lines, 1) if "colour" in l)
    for argv in ([CALPUBSUB_BIN, "-f", "-c", d.conf], [CALPUBSUBCTL_BIN, "-c", d.conf, "check-config"]):
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=10)
        assert out.returncode == 78, (argv, out.returncode, out.stderr)
        err = out.stderr.strip().splitlines()
        assert len(err) == 1, err
        assert "%s:%d: server.colour: unknown key" % (d.conf, lineno) in err[0], err[0]
    del d.settings["server"]["colour"]
    d.settings["server"]["port"] = "5347"
    d.write_config()
    out = subprocess.run([CALPUBSUB_BIN, "-f", "-c", d.conf], stderr=subprocess.PIPE, text=True, timeout=10)
    assert out.returncode == 78 and "server.port: expected an integer, found a string" in out.stderr, out.stderr
    out = subprocess.run([CALPUBSUB_BIN, "-f", "-c", "/nonexistent/calpubsub.conf"], stderr=subprocess.PIPE,
                         text=True, timeout=10)
    assert out.returncode == 78 and "/nonexistent/calpubsub.conf:0: cannot read" in out.stderr, out.stderr
    out = subprocess.run([CALPUBSUB_BIN, "--bogus"], stderr=subprocess.PIPE, text=True, timeout=10)
    assert out.returncode == 64
    for prog in (CALPUBSUB_BIN, CALPUBSUBCTL_BIN):
        out = subprocess.run([prog, "--version"], stdout=subprocess.PIPE, text=True, timeout=10)
        assert out.returncode == 0 and re.match(r"calpubsub(ctl)? \d+\.\d+\.\d+$", out.stdout.strip()), out.stdout
        out = subprocess.run([prog, "--help"], stdout=subprocess.PIPE, text=True, timeout=10)
        assert out.returncode == 0 and "Usage:" in out.stdout


@tap.test
async def secret_sources(env):
    """the secret is taken from the environment or a file, never needed on the command line"""
    env.calpubsub.stop()
    d = env.calpubsub
    d.settings["server"]["secret_file"] = "/nonexistent/secret"
    d.write_config()
    try:
        mark = d.start(env_vars={"CALPUBSUB_SECRET": env.secret})
        assert "secret from environment" in d.log_text()[mark:]
        assert env.secret not in d.log_text()
        if not WRAPPER:  # under valgrind, /proc/PID/environ is valgrind's own copy
            with open("/proc/%d/environ" % d.proc.pid, "rb") as f:
                assert env.secret.encode() not in f.read(), "the secret stays readable in /proc/PID/environ"
        d.stop()
    finally:
        d.settings["server"]["secret_file"] = d.secret_file
        d.write_config()
    mark = d.start()
    assert "secret from file" in d.log_text()[mark:]


@tap.test
async def sighup_log_level(env):
    """SIGHUP re-reads the log level"""
    c = await responsive(env)
    d = env.calpubsub
    d.settings["log"]["level"] = "warn"
    d.write_config()
    mark = d.log_mark()
    d.send_signal(signal.SIGHUP)
    await d.async_wait_log("SIGHUP: configuration re-read; log level warn", 5, since=mark)
    mark = d.log_mark()
    await c.raw_iq("get", "<query xmlns='urn:example:nothing'/>")  # logged at debug level
    await asyncio.sleep(0.3)
    assert "debug:" not in d.log_text()[mark:], "debug lines after switching to warn"
    d.settings["log"]["level"] = "debug"
    d.write_config()
    d.send_signal(signal.SIGHUP)
    await d.async_wait_log("SIGHUP: configuration re-read; log level debug", 5, since=mark)
    mark = d.log_mark()
    await c.raw_iq("get", "<query xmlns='urn:example:nothing'/>")
    await d.async_wait_log("debug: IQ .*service-unavailable", 5, since=mark)
    # a broken file on SIGHUP keeps the running configuration
    d.settings["log"]["level"] = "loud"
    d.write_config()
    d.send_signal(signal.SIGHUP)
    await d.async_wait_log("SIGHUP: keeping the running configuration: .*log.level", 5, since=mark)
    d.settings["log"]["level"] = "debug"
    d.write_config()
    assert d.running()


@tap.test
async def clean_shutdown(env):
    """SIGTERM and SIGINT close the stream cleanly and exit 0"""
    for sig in (signal.SIGTERM, signal.SIGINT):
        await responsive(env)
        d = env.calpubsub
        mark = d.log_mark()
        rc = d.stop(sig)
        assert rc == 0, "exit status %s after %s" % (rc, sig)
        text = d.log_text()[mark:]
        assert "shutting down" in text and "stream to the XMPP server closed" in text, text
        assert "did not close the stream in time" not in text
        d.start()


@tap.test
async def daemon_mode(env):
    """without -f calpubsub detaches, writes its pid file and reports start-up failures"""
    d = env.calpubsub
    d.stop()
    pidfile = os.path.join(d.dir, "calpubsub.pid")
    d.settings["log"]["destination"] = d.log
    d.write_config()
    try:
        mark = d.log_mark()
        out = subprocess.run([CALPUBSUB_BIN, "-c", d.conf, "-p", pidfile], timeout=20)
        assert out.returncode == 0
        await async_wait_until(lambda: os.path.exists(pidfile), 5, "the pid file")
        pid = int(open(pidfile).read())
        d.detached_pids.append(pid)
        await d.async_wait_log(r"connected to 127\.0\.0\.1:\d+ as ", 15, since=mark)
        os.kill(pid, signal.SIGTERM)
        await async_wait_until(lambda: not os.path.exists("/proc/%d" % pid), 10, "the daemon to exit")
        assert not os.path.exists(pidfile), "pid file left behind"
        bad = subprocess.run([CALPUBSUB_BIN, "-c", "/nonexistent.conf"], stderr=subprocess.PIPE, timeout=10)
        assert bad.returncode == 78
    finally:
        d.settings["log"]["destination"] = None
        d.write_config()
    d.start()


def main():
    tap.run(environment)


if __name__ == "__main__":
    main()
