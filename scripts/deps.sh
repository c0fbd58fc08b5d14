#!/bin/sh
# deps.sh: installs the Debian 12 packages that building, running and testing calpubsub
# need, and only those that are missing (apt-get update first when anything is), then
# the npm packages that package-lock.json pins (Strophe.js for the web page,
# playwright-core for its browser test) into node_modules/ with npm ci, unless they are
# already there. Run as root; used by scripts/demo.sh and scripts/test.sh. The README's
# dependency list says why each package is here.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

BUILD="gcc make autoconf automake pkgconf libc6-dev \
libstrophe-dev libpq-dev libical-dev libjansson-dev libconfig-dev"
RUN="postgresql prosody python3 python3-slixmpp"
TEST="cppcheck valgrind python3-recurring-ical-events python3-dateutil ejabberd chromium"
# Node.js and npm: machines that have a node of their own keep it.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || BUILD="$BUILD nodejs npm"

case "${1:-all}" in
	build) wanted="$BUILD" ;;
	run) wanted="$BUILD $RUN" ;;
	all) wanted="$BUILD $RUN $TEST" ;;
	*) echo "usage: deps.sh [build|run|all]" >&2; exit 64 ;;
esac

# npm ci, when node_modules/ does not hold exactly what package-lock.json pins. npm
# keeps its own copy of the lock file in node_modules/.package-lock.json; the stamp
# records which lock file the last npm ci installed.
npm_packages() {
	stamp="$top/node_modules/.calpubsub-lock"
	if [ -f "$stamp" ] && cmp -s "$stamp" "$top/package-lock.json"; then
		return 0
	fi
	echo "deps.sh: npm ci (Strophe.js, playwright-core: package-lock.json)"
	# --ignore-scripts: nothing of these packages runs at install time, and in
	# particular no browser is downloaded: the tests use Debian's chromium.
	(cd "$top" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
	cp "$top/package-lock.json" "$stamp"
}

missing=""
for pkg in $wanted; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
		"install ok installed") ;;
		*) missing="$missing $pkg" ;;
	esac
done
if [ -z "$missing" ]; then
	npm_packages
	exit 0
fi

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
npm_packages
