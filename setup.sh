#!/bin/sh
# leakgate set-up on a Debian machine.
#
#   ./setup.sh          install what is missing, build, run the demo
#   ./setup.sh check    install what is missing, build, run the whole test suite
#   ./setup.sh asan     the test suite again under AddressSanitizer and UBSan
#   ./setup.sh build    install what is missing and build only
#
# Builds go to build/ (and build-asan/), so the source tree stays clean.
set -eu

cd "$(dirname "$0")"
top=$(pwd)
what=${1:-demo}
jobs=$(nproc 2>/dev/null || echo 2)

packages="autoconf automake pkg-config make gcc git jq ripgrep ca-certificates
libhyperscan-dev libpcre2-dev libjansson-dev libgit2-dev libmicrohttpd-dev
libsqlite3-dev libgnutls28-dev zlib1g-dev libcurl4-gnutls-dev libarchive-dev curl
sqlite3 lighttpd time nodejs socat gnutls-bin procps zip"
# nodejs: tests/scan/sarif.sh validates the SARIF output with npm packages.
# npm itself is not listed: the machines' Node.js (NodeSource's nodejs
# package) ships npm and conflicts with Debian's separate npm package.

install_packages() {
	missing=""
	for p in $packages; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "setup: installing Debian packages:$missing"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
	# The tests run their own lighttpd on 127.0.0.1; Debian would also start
	# the system one on port 80. Stop and disable that one.
	case " $missing " in
	*" lighttpd "*)
		if command -v systemctl >/dev/null 2>&1; then
			$sudo systemctl disable --now lighttpd >/dev/null 2>&1 || true
		fi
		;;
	esac
}

build() {
	dir=$1
	shift
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
		echo "setup: autoreconf"
		autoreconf -fi
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$top/configure" --enable-werror "$@")
	fi
	make -C "$dir" -j"$jobs"
}

run_check() {
	dir=$1
	status=0
	make -C "$dir" -j"$jobs" check || status=$?
	# One line that says what ran, counted over every TAP assertion.
	if [ -f "$dir/test-suite.log" ]; then
		pass=$(sed -n 's/^# PASS: *//p' "$dir/test-suite.log" | head -1)
		fail=$(sed -n 's/^# FAIL: *//p' "$dir/test-suite.log" | head -1)
		xpass=$(sed -n 's/^# XPASS: *//p' "$dir/test-suite.log" | head -1)
		err=$(sed -n 's/^# ERROR: *//p' "$dir/test-suite.log" | head -1)
		skip=$(sed -n 's/^# SKIP: *//p' "$dir/test-suite.log" | head -1)
		echo "tests: ${pass:-0} passed, $(( ${fail:-0} + ${xpass:-0} + ${err:-0} )) failed, ${skip:-0} skipped"
		[ "$status" = 0 ] || grep -E "^(FAIL|ERROR|XPASS)" "$dir/test-suite.log" || true
	fi
	return $status
}

install_packages
case "$what" in
build)
	build build
	;;
demo)
	build build
	sh admin/demo.sh build
	;;
check)
	build build
	run_check build
	;;
asan)
	build build-asan --with-sanitizer=address,undefined
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_check build-asan
	;;
*)
	echo "usage: ./setup.sh [demo|check|asan|build]" >&2
	exit 2
	;;
esac
