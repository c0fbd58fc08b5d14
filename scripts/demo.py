"""demo.py: the main job, once scripts/demo.sh has installed and built everything: a
private PostgreSQL and Prosody on loopback under .state/, calpubsub connected to them,
and a client showing what the service answers. Ctrl-C stops everything it started."""

import argparse
import asyncio
import os
import signal
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

import harness  # noqa: E402

USERS = ("admin", "alice", "bob")


def banner(env):
    d = env.calpubsub
    print("""
calpubsub is running.
  XMPP server   Prosody, c2s on 127.0.0.1:{c2s}, component port {comp}
  PubSub service {component}
  accounts      {users} (password '{password}'; admin@{domain} is a service admin)
  database      {conninfo}
  logs          {log}
                {prosody_log}
Press Ctrl-C to stop calpubsub, Prosody and PostgreSQL.
""".format(c2s=env.prosody.c2s_port, comp=env.prosody.component_port, component=harness.COMPONENT,
           users=", ".join("%s@%s" % (u, harness.DOMAIN) for u in USERS), password=harness.PASSWORD,
           domain=harness.DOMAIN, conninfo=env.postgres.conninfo(), log=d.log, prosody_log=env.prosody.log))


async def show_service(env):
    """What a client sees: the service's disco#info answer."""
    c = await env.client("alice", resource="demo")
    info = await c["xep_0030"].get_info(jid=harness.COMPONENT, timeout=10)
    print("alice@%s asks %s what it is (XEP-0030 disco#info):" % (harness.DOMAIN, harness.COMPONENT))
    for cat, typ, _lang, name in info["disco_info"]["identities"]:
        print("  identity  %s/%s  %s" % (cat, typ, name))
    for feature in sorted(info["disco_info"]["features"]):
        print("  feature   %s" % feature)
    version = await c["xep_0092"].get_version(harness.COMPONENT, timeout=10)
    print("  software  %s %s" % (version["software_version"]["name"], version["software_version"]["version"]))


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", default=os.path.join(TOP, ".state"), help="state directory (default .state)")
    args = parser.parse_args()
    env = harness.Env(root=args.state)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print("starting PostgreSQL and Prosody under %s ..." % env.root)
        env.setup(users=USERS, daemon_settings={"log": {"level": "info"}})
        banner(env)
        await show_service(env)
        await stop.wait()
    finally:
        print("\nstopping calpubsub, Prosody and PostgreSQL ...")
        await env.close_clients()
        statuses = env.teardown()
        print("stopped (calpubsub exit status %s)" % ", ".join(str(s) for s in statuses))


if __name__ == "__main__":
    asyncio.run(main())
