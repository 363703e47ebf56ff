#!/bin/sh
# kill -9 of the hook in the middle of a push leaves the database
# consistent: integrity check ok, later pushes checked and recorded, the
# API keeps answering. The hook is killed at several points of a long push
# (a commit full of candidate keys, so that scanning and recording take a
# while), with the daemon running.
. "$(dirname "$0")/lib.sh"
# The hook runs in-process here, so that the process killed is the one
# writing to the database (tests/hook/server.sh kills checks in the server).
export LEAKGATE_SOCKET=""

ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"
start_daemon || bail "leakgated did not start"

SRV=$T/srv.git
make_server "$SRV"
SRV_REAL=$(cd "$SRV" && pwd -P)
make_client "$T/c" "$SRV"
push_file "$T/c" README.md "hello"
BASE_REV=$(rev "$SRV" main)

# A big commit: many files, each with many distinct AWS-like keys.
mkdir -p "$T/c/keys"
i=0
while [ $i -lt 8 ]; do
	LC_ALL=C tr -dc 'A-Z2-7' </dev/urandom | head -c $((16 * 20000)) | fold -w 16 |
		awk '{print "key" NR " = AKIA" $0}' >"$T/c/keys/k$i.txt"
	i=$((i + 1))
done
git -C "$T/c" add keys && git -C "$T/c" commit -q -m "many keys" || bail "commit failed"
BIG=$(git -C "$T/c" rev-parse HEAD)

# descends PID ANCESTOR: PID is ANCESTOR or one of its descendants.
descends() {
	_p=$1
	while [ -n "$_p" ] && [ "$_p" -gt 1 ]; do
		[ "$_p" = "$2" ] && return 0
		_p=$(ps -o ppid= -p "$_p" 2>/dev/null | tr -d ' ')
	done
	return 1
}
# hook_of PUSH_PID: the pid of the leakgate-pre-receive running for that push,
# searched downwards from the push (other tests' hooks and hook servers
# running at the same time are not looked at).
hook_of() {
	_q=$1
	while [ -n "$_q" ]; do
		_next=""
		for _h in $_q; do
			if [ "$_h" != "$1" ] && grep -q leakgate-pre-receive "/proc/$_h/cmdline" 2>/dev/null; then
				echo "$_h"
				return 0
			fi
			_next="$_next $(pgrep -P "$_h" 2>/dev/null | tr '\n' ' ')"
		done
		_q=$(echo $_next)
	done
	return 1
}

# crash_push DELAY: push the big commit, kill -9 its hook DELAY seconds
# after it started (DELAY "trace:PHASE": once the trace shows PHASE).
# Sets killed=1 when the hook was killed while it ran.
crash_push() {
	killed=0
	: >"$T/push.out"
	(LEAKGATE_TRACE=1 exec git -C "$T/c" push origin HEAD:main >"$T/push.out" 2>&1) &
	_push=$!
	_hook=""
	_w=0
	while [ -z "$_hook" ] && [ $_w -lt 600 ] && kill -0 "$_push" 2>/dev/null; do
		_hook=$(hook_of "$_push")
		[ -n "$_hook" ] || sleep 0.02
		_w=$((_w + 1))
	done
	if [ -n "$_hook" ]; then
		case $1 in
		trace:*)
			_w=0
			while ! grep -q "trace: ${1#trace:}" "$T/push.out" && [ $_w -lt 1000 ] &&
				kill -0 "$_hook" 2>/dev/null; do
				sleep 0.005
				_w=$((_w + 1))
			done
			;;
		*) sleep "$1" ;;
		esac
		if kill -0 "$_hook" 2>/dev/null && descends "$_hook" "$_push"; then
			kill -KILL "$_hook" 2>/dev/null && killed=1
		fi
	fi
	wait "$_push"
	push_rc=$?
}

check_db() {
	sqlite3 "$DB" 'PRAGMA integrity_check' >"$T/ic" 2>&1
	is "$(cat "$T/ic")" ok "$1: PRAGMA integrity_check says ok"
}

n=0
for d in 0 0.1 trace:scan trace:attribute; do
	n=$((n + 1))
	ev0=$(ev_count)
	crash_push "$d"
	case $d in
	trace:*)
		# Late in the hook's run: it may finish first on a fast machine.
		[ "$killed" = 1 ] || diag "kill #$n: the hook finished before it could be killed at $d"
		;;
	*) is "$killed" 1 "kill #$n (${d} s after it started): the hook was killed while it ran" ;;
	esac
	if [ "$killed" = 1 ]; then
		isnt "$push_rc" 0 "kill #$n: the push failed"
	else
		isnt "$push_rc" 0 "kill #$n: the push was rejected"
	fi
	is "$(rev "$SRV" main)" "$BASE_REV" "kill #$n: the server ref did not move"
	check_db "kill #$n"
	ev1=$(ev_count)
	[ "$ev1" -ge "$ev0" ] && [ "$ev1" -le $((ev0 + 1)) ]
	ok $? "kill #$n: at most one event for the killed push ($ev0 -> $ev1)"
	rget "/api/v1/events?limit=500"
	[ "$code" = 200 ] && [ "$(jr '.events | length')" = "$ev1" ]
	ok $? "kill #$n: the API lists every recorded event ($code, $(jr '.events | length') of $ev1)"
done
sleep 0.5
for h in $(pgrep -f leakgate-pre-receive 2>/dev/null); do
	[ "$(readlink "/proc/$h/cwd" 2>/dev/null)" = "$SRV_REAL" ] && diag "left over hook $h"
done

# The same big push, not killed: it completes and is recorded.
ev0=$(ev_count)
push "$T/c" origin HEAD:main
isnt "$rc" 0 "the big push, not killed, is rejected"
is "$(ev_count)" $((ev0 + 1)) "and recorded"
rget "/api/v1/events?limit=1"
jtrue '.events[0].kind == "rejected" and (.events[0].findings | length) > 0' "the API shows it with its findings"

# Later pushes work.
git -C "$T/c" reset -q --hard "$BASE_REV"
push_file "$T/c" after.txt "clean after the crashes"
is "$rc" 0 "a clean push afterwards is accepted" || diag_file "$OUT" 20
push_file "$T/c" after.env "AWS_ACCESS_KEY_ID=$(fake_aws_key)"
isnt "$rc" 0 "a leaking push afterwards is rejected"
rget "/api/v1/events?limit=2"
is "$(jr '[.events[].kind] | join(",")')" "rejected,accepted" "both recorded, the API shows them"
apost /api/v1/exemptions "{\"fingerprint\": \"$(fingerprint_of "$OUT")\", \"reason\": \"after the crash\"}"
status_is 201 "the API can still write the database"
push "$T/c" origin HEAD:main
is "$rc" 0 "and the hook reads what it wrote"
check_db "at the end"

api_done
