#!/bin/sh
# test.sh: the whole test suite, for a fresh Debian 12 machine, as root (CI runs it
# through .ci/run): installs what is missing, builds with warnings as errors, runs
# cppcheck, runs 'make check' (unit tests, the end-to-end tests against private
# PostgreSQL and Prosody instances, and the web page's test in headless Chromium),
# runs the same suite again in a sanitizer build (ASan + UBSan), the end-to-end tests
# once more under valgrind, and 'make distcheck'.
# The full suite of the -Werror build runs last, so the output ends with its summary.
# Any failure fails the command. Builds go to build/ci, build/asan and build/distcheck.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)

step() { printf '\n==> %s\n' "$*"; }

step "Debian packages"
scripts/deps.sh all

step "autoreconf"
autoreconf -fi

build() { # build DIR CONFIGURE-ARGS...
	dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" --quiet --enable-werror "$@" && make -j"$jobs" --quiet)
}

check() { # check DIR [MAKE-ARGS...]
	dir=$1
	shift
	if ! (cd "$dir" && make -j"$jobs" check "$@"); then
		find "$dir/tests" -name '*.log' -exec grep -l '^not ok\|^Bail out' {} + | while read -r log; do
			printf '\n---- %s ----\n' "$log"
			cat "$log"
		done
		exit 1
	fi
}

# --enable-browser-test: a missing Chromium or playwright-core fails the build instead
# of leaving the web page untested.
step "build with -Werror"
build build/ci --enable-browser-test

step "cppcheck"
cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	--std=c11 --inline-suppr -I src -I build/ci -D_GNU_SOURCE src

step "make distcheck (the tarball builds, installs and passes its unit tests)"
(cd build/ci && make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror --disable-e2e" >distcheck.log 2>&1) ||
	{ tail -50 build/ci/distcheck.log; exit 1; }
echo "distcheck passed"

step "sanitizer build (ASan + UBSan): unit and end-to-end tests"
build build/asan --enable-sanitizers --enable-browser-test
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 check build/asan

step "end-to-end tests with calpubsub under valgrind"
check build/ci TESTS="$(cd build/ci && make -s print-e2e-tests)" \
	CALPUBSUB_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=yes"

# Last, so that the output ends with automake's summary of the whole suite.
step "unit and end-to-end tests"
check build/ci
