#!/bin/sh
# deps.sh: installs the Debian 12 packages that building, running and testing calpubsub
# need, and only those that are missing (apt-get update first when anything is). Run as
# root; used by scripts/demo.sh and scripts/test.sh. The README's dependency list says
# why each package is here.
set -eu

BUILD="gcc make autoconf automake pkgconf libc6-dev \
libstrophe-dev libpq-dev libical-dev libjansson-dev libconfig-dev"
RUN="postgresql prosody python3 python3-slixmpp"
TEST="cppcheck valgrind python3-recurring-ical-events ejabberd"

case "${1:-all}" in
	build) wanted="$BUILD" ;;
	run) wanted="$BUILD $RUN" ;;
	all) wanted="$BUILD $RUN $TEST" ;;
	*) echo "usage: deps.sh [build|run|all]" >&2; exit 64 ;;
esac

missing=""
for pkg in $wanted; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
		"install ok installed") ;;
		*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: run this script as root (or install them) and try again" >&2
	exit 69
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # the list is meant to be split into words
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The packages' own system services are not ours: stop them so that nothing but the
# private, loopback-only instances run (a container has no init to start them anyway).
for svc in prosody postgresql ejabberd; do
	if command -v service >/dev/null 2>&1; then
		service "$svc" stop >/dev/null 2>&1 || true
	fi
done
