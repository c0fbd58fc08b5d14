#!/bin/sh
# demo.sh: the main job, for a fresh Debian 12 machine, as root: installs what is
# missing, builds calpubsub, starts a private PostgreSQL and Prosody on loopback under
# .state/, starts calpubsub and shows a client talking to it; Prosody also serves the
# web page (src/web, as built in build/demo/web) next to its BOSH endpoint. Ctrl-C
# stops everything.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh run
[ -x configure ] || autoreconf -fi
mkdir -p build/demo
cd build/demo
[ -f Makefile ] || ../../configure --quiet --disable-browser-test
make -j"$(nproc)" --quiet
export CALPUBSUB_BIN="$top/build/demo/src/calpubsub"
export CALPUBSUBCTL_BIN="$top/build/demo/src/calpubsubctl"
export CALPUBSUB_SRCDIR="$top"
export CALPUBSUB_WEB_DIR="$top/build/demo/web"
# Debian's interpreter: it has slixmpp; a python3 earlier on PATH may not
exec /usr/bin/python3 "$top/scripts/demo.py" "$@"
