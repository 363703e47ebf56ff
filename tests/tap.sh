# TAP helpers shared by the shell tests (tests/hook, tests/scan, tests/api):
# pass/fail/ok/is/isnt/contains/lacks/matches/skip, diag, bail, done_testing.
# POSIX sh; sourced by each suite's lib.sh.

_lg_n=0
_lg_failed=0

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# diag_file FILE: show a file as TAP comments (for failures).
diag_file() {
	[ -f "$1" ] || return 0
	# awk ends every line, the last one too, so no TAP line is swallowed.
	awk '{print "#   " $0}' "$1" | head -n "${2:-60}"
}

pass() {
	_lg_n=$((_lg_n + 1))
	echo "ok $_lg_n - $*"
}

fail() {
	_lg_n=$((_lg_n + 1))
	_lg_failed=$((_lg_failed + 1))
	echo "not ok $_lg_n - $*"
}

# ok STATUS DESC: passes when STATUS is 0. Usage: [ "$a" = "$b" ]; ok $? "desc"
ok() {
	_st=$1
	shift
	if [ "$_st" -eq 0 ]; then pass "$@"; else fail "$@"; fi
	return "$_st"
}

# is GOT EXPECTED DESC
is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "  got:      '$1'"
		diag "  expected: '$2'"
		return 1
	fi
}

# isnt GOT UNEXPECTED DESC
isnt() {
	if [ "$1" != "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "  got '$1', which it must not be"
		return 1
	fi
}

# contains FILE STRING DESC: FILE has STRING (fixed string).
contains() {
	if grep -qF -e "$2" "$1"; then
		pass "$3"
	else
		fail "$3"
		diag "  '$2' not found in:"
		diag_file "$1"
		return 1
	fi
}

# lacks FILE STRING DESC: FILE does not have STRING.
lacks() {
	if ! grep -qF -e "$2" "$1"; then
		pass "$3"
	else
		fail "$3"
		diag "  '$2' found in:"
		grep -nF -e "$2" "$1" | head -5 | sed 's/^/#   /'
		return 1
	fi
}

# matches FILE ERE DESC: some line of FILE matches the extended regexp.
matches() {
	if grep -qE -e "$2" "$1"; then
		pass "$3"
	else
		fail "$3"
		diag "  /$2/ not found in:"
		diag_file "$1"
		return 1
	fi
}

bail() {
	echo "Bail out! $*"
	exit 1
}

done_testing() {
	echo "1..$_lg_n"
	[ "$_lg_failed" = 0 ] || diag "$_lg_failed of $_lg_n assertions failed"
	exit 0
}

skip() {
	_lg_n=$((_lg_n + 1))
	echo "ok $_lg_n # SKIP $*"
}
