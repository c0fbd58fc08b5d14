"""tap.py: runs the test functions of an end-to-end test file and reports them as TAP
for automake's tap-driver. A test is an async function taking the environment; a failed
assertion or any exception is a 'not ok' with the traceback as diagnostics."""

import asyncio
import os
import sys
import time
import traceback

_tests = []


def test(fn):
    """Decorator: registers an async test function, run in file order."""
    _tests.append(fn)
    return fn


def diag(msg):
    for line in str(msg).splitlines() or [""]:
        print("# " + line, flush=True)


def _one_line(exc, limit=400):
    """The failure on the "not ok" line itself: CI summaries often keep only the
    FAIL lines, not the diagnostics below them."""
    text = " ".join(("%s: %s" % (type(exc).__name__, exc)).split())
    text = text.replace("#", "No.")  # a '#' would start a TAP directive
    return text if len(text) <= limit else text[:limit - 3] + "..."


def run(make_env, tests=None):
    """Runs the registered tests against the environment made by make_env (an async
    context manager factory taking server=...), once for each XMPP server under test.
    CALPUBSUB_TEST_ONLY=name1,name2 selects tests; CALPUBSUB_TEST_SERVERS=prosody,ejabberd
    selects servers."""
    from harness import servers_under_test
    selected = tests if tests is not None else list(_tests)
    only = os.environ.get("CALPUBSUB_TEST_ONLY")
    if only:
        names = set(only.split(","))
        selected = [t for t in selected if t.__name__ in names]
    servers = servers_under_test()
    # one more per server than the tests: the daemons' clean exit, where sanitizer and
    # valgrind reports surface
    print("1..%d" % ((len(selected) + 1) * len(servers)), flush=True)
    failures = 0
    number = 0
    for server in servers:
        failures += asyncio.run(_run_all(make_env, selected, server, number))
        number += len(selected) + 1
    sys.exit(1 if failures else 0)


async def _run_all(make_env, selected, server, number):
    failures = 0
    try:
        async with make_env(server=server) as env:
            for fn in selected:
                number += 1
                doc = (fn.__doc__ or fn.__name__).strip().splitlines()[0]
                started = time.monotonic()
                try:
                    await fn(env)
                    print("ok %d - [%s] %s (%.1f s)" % (number, server, doc, time.monotonic() - started), flush=True)
                except Exception as e:  # a failed test must not stop the others
                    failures += 1
                    print("not ok %d - [%s] %s -- %s" % (number, server, doc, _one_line(e)), flush=True)
                    diag(traceback.format_exc())
                    env.dump_logs_on_failure()
            await env.close_clients()
            problems = env.final_check()
            number += 1
            if problems:
                failures += 1
                print("not ok %d - [%s] every calpubsub exits 0 on SIGTERM with a clean log" % (number, server))
                diag("\n".join(problems))
            else:
                print("ok %d - [%s] every calpubsub exits 0 on SIGTERM with a clean log" % (number, server))
    except Exception:
        diag("environment failed:\n" + traceback.format_exc())
        print("Bail out! the test environment (%s) could not be set up or torn down" % server, flush=True)
        return failures + 1
    return failures
