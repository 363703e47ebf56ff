#!/bin/sh
# The hook server: `leakgate-pre-receive --serve` takes pushes from the
# installed hook (leakgate-pre-receive-client) and decides them exactly as
# the hook does in-process; when it is not there, stops, or goes away in
# the middle of a push, no push is ever accepted unchecked.
. "$(dirname "$0")/lib.sh"

CLIENT=$LEAKGATE_BUILD/hooks/leakgate-pre-receive-client
[ -x "$CLIENT" ] || bail "no $CLIENT (build first)"
SOCK=$T/hs/hook.sock
export LEAKGATE_SOCKET="$SOCK"
SLOG=$T/server.log
SPID=""

# start_server [PROGRAM]: the hook program (default $HOOK) serving on $SOCK;
# waits up to 30 s (a sanitizer build loads the rules slowly).
start_server() {
	"${1:-$HOOK}" --serve "$SOCK" 2>>"$SLOG" &
	SPID=$!
	_w=0
	# Ready when it says so: a stale socket file left by a killed server
	# exists before the new one has bound it (under ASan that takes a while).
	while ! grep -q "serving on $SOCK (pid $SPID)" "$SLOG" 2>/dev/null &&
		[ $_w -lt 600 ] && kill -0 "$SPID" 2>/dev/null; do
		sleep 0.05
		_w=$((_w + 1))
	done
	[ -S "$SOCK" ] && grep -q "serving on $SOCK (pid $SPID)" "$SLOG"
}
stop_server() {
	[ -n "$SPID" ] || return 0
	kill "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=""
}
at_exit 'stop_server'
# served: the last push's trace shows it ran in the server.
served() { grep -q "leakgate: trace: hook server" "$OUT"; }
# busy_push OUT: push main from $T/c in the background (traced; output in OUT,
# exit status in OUT.rc, pid in $BIG); returns once the check has walked it.
busy_push() {
	(LEAKGATE_TRACE=1 git -C "$T/c" push origin main >"$1" 2>&1; echo $? >"$1.rc") &
	BIG=$!
	_w=0
	while ! grep -q "trace: walk" "$1" 2>/dev/null && [ $_w -lt 200 ]; do
		sleep 0.05
		_w=$((_w + 1))
	done
}

SRV=$T/srv.git
make_server "$SRV"
head -n 1 "$SRV/hooks/pre-receive" | grep -q "^#!$CLIENT $HOOK\$"
ok $? "leakgate install writes a #! line that runs the client with the hook program"
make_client "$T/c" "$SRV"

start_server
ok $? "leakgate-pre-receive --serve listens on \$LEAKGATE_SOCKET"
is "$(stat -c %a "$SOCK" 2>/dev/null)" 700 "the socket is for its user only (mode 700)"
is "$(stat -c %a "$(dirname "$SOCK")")" 700 "and so is its folder"

# ---- decisions through the server ----
commit_file "$T/c" README.md "hello" "initial"
n0=$(ev_count)
LEAKGATE_TRACE=1 push "$T/c" origin main
is "$rc" 0 "a clean push through the server is accepted"
served
ok $? "it was checked by a process forked by the server"
is "$(rev "$SRV" main)" "$COMMIT" "the server has the commit"
is "$(ev_count)" $((n0 + 1)) "one audit event, in the repository's database"
is "$(ev_last kind)" accepted "kind accepted"

KEY=$(fake_aws_key)
commit_file "$T/c" config/aws.ini "aws_access_key_id = $KEY" "add aws config"
LEAKGATE_TRACE=1 push "$T/c" origin main
isnt "$rc" 0 "a push with an AWS key through the server is rejected"
served
ok $? "checked in the server"
contains "$OUT" "AWS access key ID" "the rejection names the rule"
contains "$OUT" "config/aws.ini:1" "and the place"
lacks "$OUT" "$KEY" "and does not show the key"
is "$(rev "$SRV" main)" "$(git -C "$T/c" rev-parse HEAD~1)" "the server did not take the commit"
is "$(ev_last kind)" rejected "the event: rejected"
not_stored "$KEY" "the key is not in the database"

# The pusher's environment reaches the check: push options and GitLab's GL_ID.
push "$T/c" -o "leakgate.bypass=fixture key, revoked" origin main
is "$rc" 0 "push options reach the server's check: the bypass with a reason is accepted"
is "$(ev_last kind)" bypassed "recorded as bypassed"
is "$(ev_last reason)" "fixture key, revoked" "with the reason"
git -C "$T/c" reset -q --hard HEAD~1
git -C "$T/c" push -q -f origin main 2>/dev/null
KEY2=$(fake_aws_key)
commit_file "$T/c" deploy.env "AWS_ACCESS_KEY_ID=$KEY2" "deploy env"
GL_ID=user-7 GL_USERNAME=alice push "$T/c" origin main
isnt "$rc" 0 "with GL_ID set: rejected"
contains "$OUT" "GL-HOOK-ERR: " "and the key lines carry GL-HOOK-ERR: (the GitLab environment reached the check)"
is "$(ev_last pusher)" alice "the pusher is GL_USERNAME"
git -C "$T/c" reset -q --hard HEAD~1

# The repository's own configuration is read in the check (cwd is the repository).
git -C "$SRV" config leakgate.allowBypass false
commit_file "$T/c" deploy.env "AWS_ACCESS_KEY_ID=$(fake_aws_key)" "deploy env"
push "$T/c" -o "leakgate.bypass=please" origin main
git -C "$SRV" config --unset leakgate.allowBypass
isnt "$rc" 0 "the repository's leakgate.allowBypass=false applies in the server: bypass refused"
contains "$OUT" "does not allow bypasses" "and the message says so"
git -C "$T/c" reset -q --hard HEAD~1

# ---- many at once ----
N=12
i=1
while [ $i -le $N ]; do
	make_client "$T/p$i" "$SRV"
	git -C "$T/p$i" checkout -q -b "b$i"
	if [ $((i % 2)) -eq 0 ]; then
		commit_file "$T/p$i" "leak$i.env" "GITHUB_TOKEN=$(fake_github_token)" "leak $i"
	else
		commit_file "$T/p$i" "clean$i.txt" "clean work $i" "clean $i"
	fi
	i=$((i + 1))
done
i=1
pids=""
while [ $i -le $N ]; do
	(git -C "$T/p$i" push origin "b$i" >"$T/pout$i" 2>&1; echo $? >"$T/prc$i") &
	pids="$pids $!"
	i=$((i + 1))
done
# (a plain wait would wait for the server too)
for p in $pids; do wait "$p"; done
bad=0
i=1
while [ $i -le $N ]; do
	want=0
	[ $((i % 2)) -eq 0 ] && want=nonzero
	got=$(cat "$T/prc$i")
	if [ "$want" = 0 ] && { [ "$got" != 0 ] || [ "$(rev "$SRV" "refs/heads/b$i")" = none ]; }; then
		bad=$((bad + 1))
		diag "clean push $i: exit $got"
		diag_file "$T/pout$i" 10
	elif [ "$want" != 0 ] && { [ "$got" = 0 ] || [ "$(rev "$SRV" "refs/heads/b$i")" != none ]; }; then
		bad=$((bad + 1))
		diag "leaking push $i: exit $got"
	fi
	i=$((i + 1))
done
is "$bad" 0 "$N pushes at once through the server: each decided correctly"
is "$(ev_count "refs LIKE '%refs/heads/b%'")" "$N" "one event each"

# ---- a check whose client goes away ----
# A commit with many candidate keys keeps the check busy for a while.
i=0
mkdir -p "$T/c/keys"
while [ $i -lt 6 ]; do
	LC_ALL=C tr -dc 'A-Z2-7' </dev/urandom | head -c $((16 * 20000)) | fold -w 16 |
		awk '{print "key" NR " = AKIA" $0}' >"$T/c/keys/k$i.txt"
	i=$((i + 1))
done
git -C "$T/c" add keys && git -C "$T/c" commit -q -m "many keys"
busy_push "$T/big.out"
CHILD=$(pgrep -P "$SPID" | head -n 1)
CL=$(pgrep -f "leakgate-pre-receive-client" | while read -r p; do
	[ "$(readlink "/proc/$p/cwd")" = "$(cd "$SRV" && pwd -P)" ] && echo "$p"; done | head -n 1)
if [ -n "$CHILD" ] && [ -n "$CL" ]; then
	kill -KILL "$CL"
	wait "$BIG" 2>/dev/null
	_w=0
	while kill -0 "$CHILD" 2>/dev/null && [ $_w -lt 100 ]; do
		sleep 0.05
		_w=$((_w + 1))
	done
	! kill -0 "$CHILD" 2>/dev/null
	ok $? "killing the client (as git does) ends the check it started in the server"
else
	skip 1 "the big push finished before it could be interrupted"
	wait "$BIG" 2>/dev/null
fi
is "$(rev "$SRV" main)" "$(git -C "$T/c" rev-parse HEAD~1)" "the interrupted push was not accepted"
git -C "$T/c" reset -q --hard HEAD~1

# ---- a server that dies in the middle of a check ----
commit_file "$T/c" keys2/k.txt "$(LC_ALL=C tr -dc 'A-Z2-7' </dev/urandom | head -c 480000 | fold -w 16 | sed 's/^/k = AKIA/')" "keys 2"
n3=$(ev_count)
busy_push "$T/big3.out"
if grep -q "trace: recorded" "$T/big3.out" 2>/dev/null; then
	wait "$BIG"
	skip 5 "the push finished before the server could be killed"
else
	kill -KILL "$SPID"
	wait "$BIG"
	isnt "$(cat "$T/big3.out.rc")" 0 "kill -9 of the server during a check: the push is rejected (fail closed)"
	is "$(rev "$SRV" main)" "$(git -C "$T/c" rev-parse HEAD~1)" "and not taken"
	is "$(ev_count)" $((n3 + 1)) "the lost check leaves one event"
	is "$(ev_last kind)" failed "recorded as failed"
	contains "$T/big3.out" "hook server stopped before deciding" "the pusher is told why, in one line"
fi
wait "$SPID" 2>/dev/null
SPID=""
git -C "$T/c" reset -q --hard HEAD~1

# ---- without a server ----
[ -S "$SOCK" ]
ok $? "the dead server left its socket file behind"

# The hook run in-process by the client, killed: recorded, and failMode decides.
commit_file "$T/c" keys4/k.txt "$(LC_ALL=C tr -dc 'A-Z2-7' </dev/urandom | head -c 480000 | fold -w 16 | sed 's/^/k = AKIA/')" "keys 4"
git -C "$SRV" config leakgate.failMode open
n4=$(ev_count)
LEAKGATE_SOCKET="" busy_push "$T/big5.out"
HK=$(pgrep -f "leakgate-pre-receive\$" | while read -r p; do
	[ "$(readlink "/proc/$p/cwd")" = "$(cd "$SRV" && pwd -P)" ] && echo "$p"; done | head -n 1)
if [ -n "$HK" ] && ! grep -q "trace: recorded" "$T/big5.out" 2>/dev/null; then
	kill -KILL "$HK"
	wait "$BIG"
	is "$(ev_count)" $((n4 + 1)) "the in-process hook killed by signal 9 leaves one event"
	is "$(ev_last kind)" failed "recorded as failed"
	ev_last reason >"$T/reason5"
	contains "$T/reason5" "signal 9" "naming the signal"
	is "$(cat "$T/big5.out.rc")" 0 "and failMode=open decides: accepted unchecked"
	contains "$T/big5.out" "accepted unchecked because leakgate.failMode is open" "as the pusher is told"
else
	wait "$BIG"
	skip 5 "the in-process check finished before it could be killed"
fi
git -C "$SRV" config --unset leakgate.failMode
git -C "$T/c" fetch -q origin && git -C "$T/c" reset -q --hard origin/main
commit_file "$T/c" after.txt "plain text" "after the server died"
LEAKGATE_TRACE=1 push "$T/c" origin main
is "$rc" 0 "with a stale socket the client runs the hook in-process: clean push accepted"
served
isnt $? 0 "not through a server"
KEY3=$(fake_aws_key)
commit_file "$T/c" aws3.ini "aws_access_key_id = $KEY3" "key 3"
push "$T/c" origin main
isnt "$rc" 0 "and a leaking push rejected"
git -C "$T/c" reset -q --hard HEAD~1

start_server
ok $? "a new server replaces the stale socket"
LEAKGATE_SOCKET="" LEAKGATE_TRACE=1 push "$T/c" origin main
served
isnt $? 0 "LEAKGATE_SOCKET=\"\" turns the server off for a push"
commit_file "$T/c" again.txt "plain" "again"
LEAKGATE_TRACE=1 push "$T/c" origin main
served
ok $? "and the next push uses the new server"

run "$HOOK" --serve "$SOCK"
isnt "$rc" 0 "a second server on the same socket refuses to start"
contains "$ERR" "already serves" "and says why"

# SIGTERM: the server lets a running check finish, then stops.
commit_file "$T/c" keys3/k.txt "$(LC_ALL=C tr -dc 'A-Z2-7' </dev/urandom | head -c 480000 | fold -w 16 | sed 's/^/k = AKIA/')" "keys 3"
busy_push "$T/big4.out"
kill -TERM "$SPID"
wait "$BIG"
wait "$SPID"
is "$?" 0 "SIGTERM: the server exits with status 0"
SPID=""
contains "$T/big4.out" "leakgate: push rejected" "the check it was running finished with its full verdict"
[ ! -e "$SOCK" ]
ok $? "and removed its socket"

# ---- the hook program replaced by a new version while the server runs ----
stop_server
mkdir -p "$T/bin"
cp "$HOOK" "$T/bin/leakgate-pre-receive"
start_server "$T/bin/leakgate-pre-receive" || bail "the copied hook program does not serve"
UP=$T/up.git
make_server "$UP"
printf '#!%s %s\n' "$CLIENT" "$T/bin/leakgate-pre-receive" >"$UP/hooks/pre-receive"
make_client "$T/uc" "$UP"
commit_file "$T/uc" README.md "hello" "initial"
LEAKGATE_TRACE=1 push "$T/uc" origin main
is "$rc" 0 "(upgrade) a clean push is accepted"
served
ok $? "(upgrade) and checked in the server"
# A package manager installs the new file and renames it over the old one.
cp "$T/bin/leakgate-pre-receive" "$T/bin/.new" && mv "$T/bin/.new" "$T/bin/leakgate-pre-receive"
KEY3=$(fake_aws_key)
commit_file "$T/uc" aws.env "AWS_ACCESS_KEY_ID=$KEY3" "key after the upgrade"
LEAKGATE_TRACE=1 push "$T/uc" origin main
isnt "$rc" 0 "after the program is replaced, a leaking push is still rejected"
served
isnt "$?" 0 "by the new program run in-process, not by the old server"
_w=0
while kill -0 "$SPID" 2>/dev/null && [ $_w -lt 200 ]; do
	sleep 0.05
	_w=$((_w + 1))
done
! kill -0 "$SPID" 2>/dev/null
ok $? "the old server stops (leakgated then starts the new one)"
wait "$SPID" 2>/dev/null
SPID=""
contains "$SLOG" "was replaced" "its log says why"
[ ! -e "$SOCK" ]
ok $? "and removes its socket"

# ---- the client alone ----
run "$CLIENT"
isnt "$rc" 0 "the client without the hook program's path rejects"
mkdir -p "$T/x.git"
LEAKGATE_SOCKET="" run_in "$T/x.git" /dev/null "$CLIENT" "$T/no-such-hook"
isnt "$rc" 0 "the client with a missing hook program (and no server) rejects"
contains "$ERR" "push rejected" "and says so"

done_testing
