#!/bin/sh
# leakgated --webhook: rejected and bypassed events are POSTed as
# {"event": {...}}, in order, retried until the receiver answers 2xx, and
# delivery state survives a restart. The receivers are socat on loopback.
. "$(dirname "$0")/lib.sh"

command -v socat >/dev/null 2>&1 || bail "socat is not installed (setup.sh installs it)"

ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"

# ---- the receiver ----

# One connection: read the request, keep it as DIR/N.head and DIR/N.body,
# answer with the status in DIR/status (default 200); DIR/fail holding a
# number K > 0 makes the next K requests get 500. DIR/log gets one line per
# request: "N STATUS METHOD PATH TIME".
cat >"$T/receiver.sh" <<'EOF'
dir=$1
cr=$(printf '\r')
n=$(($(cat "$dir/count" 2>/dev/null || echo 0) + 1))
echo "$n" >"$dir/count"
IFS= read -r line
line=${line%"$cr"}
len=0
expect=""
: >"$dir/$n.head"
while IFS= read -r h; do
	h=${h%"$cr"}
	[ -z "$h" ] && break
	echo "$h" >>"$dir/$n.head"
	case $h in
	[Cc]ontent-[Ll]ength:*) len=$(echo "${h#*:}" | tr -dc 0-9) ;;
	[Ee]xpect:*100-continue*) expect=1 ;;
	esac
done
[ -n "$expect" ] && printf 'HTTP/1.1 100 Continue\r\n\r\n'
if [ "${len:-0}" -gt 0 ]; then
	head -c "$len" >"$dir/$n.body"
else
	: >"$dir/$n.body"
fi
status=200
k=$(cat "$dir/fail" 2>/dev/null || echo 0)
if [ "${k:-0}" -gt 0 ]; then
	echo $((k - 1)) >"$dir/fail"
	status=500
fi
set -- $line
echo "$n $status $1 $2 $(date +%s.%N)" >>"$dir/log"
printf 'HTTP/1.1 %s X\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n' "$status"
EOF

# start_receiver NAME [PORT]: a receiver with its folder $T/NAME; its port
# in $RPORT (a free one unless PORT is given), its pid in $RPID.
start_receiver() {
	mkdir -p "$T/$1"
	: >>"$T/$1/log"
	_try=0
	while [ $_try -lt 10 ]; do
		_try=$((_try + 1))
		RPORT=${2:-$(random_port)}
		socat "TCP-LISTEN:$RPORT,bind=127.0.0.1,reuseaddr,fork" \
			"EXEC:sh $T/receiver.sh $T/$1" 2>>"$T/$1.socat.log" &
		RPID=$!
		_w=0
		while [ $_w -lt 30 ] && kill -0 "$RPID" 2>/dev/null; do
			if [ "$(curl -s -m 2 "http://127.0.0.1:$RPORT/probe" 2>/dev/null)" = ok ] &&
				kill -0 "$RPID" 2>/dev/null; then
				at_exit "kill $RPID 2>/dev/null"
				return 0
			fi
			sleep 0.1
			_w=$((_w + 1))
		done
		kill "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
		[ -n "${2:-}" ] && sleep 0.5
	done
	return 1
}

# posts NAME: the event ids POSTed to receiver NAME, in arrival order, one a
# line, with the status answered: "ID STATUS".
posts() {
	awk '$3 == "POST" {print $1, $2}' "$T/$1/log" | while read -r n st; do
		printf '%s %s\n' "$(jq -r '.event.id // "none"' "$T/$1/$n.body" 2>/dev/null)" "$st"
	done
}
# wait_for NAME ID [STATUS]: until receiver NAME got a POST of event ID
# (answered with STATUS when given); at most 15 s. 0 when it did.
wait_for() {
	_w=0
	while [ $_w -lt 150 ]; do
		posts "$1" | grep -q "^$2 ${3:-}" && return 0
		sleep 0.1
		_w=$((_w + 1))
	done
	return 1
}
# body_of NAME ID: the file with the first body of event ID at receiver NAME.
body_of() {
	for _n in $(awk '$3 == "POST" {print $1}' "$T/$1/log"); do
		if [ "$(jq -r '.event.id' "$T/$1/$_n.body" 2>/dev/null)" = "$2" ]; then
			echo "$T/$1/$_n.body"
			return 0
		fi
	done
	echo "$T/no-such-body"
}
newest_event() {
	sql "SELECT id FROM events ORDER BY id DESC LIMIT 1"
}
# leak FILE: commit and push an AWS key in FILE, forget the commit; the
# new event's id in $EV.
leak() {
	_before=$(newest_event)
	push_file "$T/c" "$1" "AWS_ACCESS_KEY_ID=$(fake_aws_key)"
	drop_last "$T/c"
	EV=$(newest_event)
	if [ "$rc" = 0 ] || [ "$EV" = "$_before" ]; then
		diag "the push of $1 was not rejected and recorded (exit $rc, newest event $_before -> $EV):"
		diag_file "$OUT" 30
	fi
}

start_receiver r1 || bail "cannot start the first receiver"
R1=$RPORT
R1PID=$RPID
start_receiver r2 || bail "cannot start the second receiver"
R2=$RPORT
URL1=http://127.0.0.1:$R1/hook
URL2=http://127.0.0.1:$R2/other/path

start_daemon --webhook "$URL1" --webhook "$URL2" || bail "leakgated did not start"

make_server "$T/srv.git"
make_client "$T/c" "$T/srv.git"
push_file "$T/c" README.md "hello"
is "$rc" 0 "a clean push"
ACC=$(newest_event)

# ---- a rejected push is delivered ----

K=$(fake_aws_key)
push_file "$T/c" app.env "AWS_ACCESS_KEY_ID=$K"
isnt "$rc" 0 "a rejected push"
drop_last "$T/c"
FP=$(fingerprint_of "$OUT")
REJ=$(newest_event)
wait_for r1 "$REJ"
ok $? "within 15 s the receiver got a POST for the rejected event $REJ" || {
	diag_file "$T/r1/log"
	diag_file "$LGD_LOG"
}
B=$(body_of r1 "$REJ")
jq_ok '.event.kind == "rejected"' "$B"
ok $? "the body is JSON {\"event\": {...}} with kind rejected" || diag_file "$B"
jq_ok --arg fp "$FP" 'any(.event.findings[]; .fingerprint == $fp)' "$B"
ok $? "the event has the finding's fingerprint ($FP)"
lacks "$B" "$K" "the body does not contain the key"
n=$(awk -v id="$REJ" '$3 == "POST" {print $1}' "$T/r1/log" | head -n 1)
grep -qx "POST /hook" <<EOF
$(awk '$3 == "POST" {print $3, $4}' "$T/r1/log" | head -n 1)
EOF
ok $? "POST to the URL's path (/hook)"
grep -qi '^content-type: *application/json' "$T/r1/$n.head"
ok $? "Content-Type: application/json" || diag_file "$T/r1/$n.head"
wait_for r2 "$REJ"
ok $? "the second --webhook got it too"
grep -q "POST /other/path" "$T/r2/log"
ok $? "at its own path"

# ---- bypassed: delivered; accepted: not ----

commit_file "$T/c" by.env "AWS_ACCESS_KEY_ID=$(fake_aws_key)"
push "$T/c" -o "leakgate.bypass=fixture for the webhook test" origin HEAD:main
is "$rc" 0 "a bypassed push"
BYP=$(newest_event)
wait_for r1 "$BYP"
ok $? "the bypassed event $BYP is delivered"
jq_ok '.event.kind == "bypassed"' "$(body_of r1 "$BYP")"
ok $? "with kind bypassed"
push_file "$T/c" clean2.txt "clean again"
ACC2=$(newest_event)
# Two rejections in a row: delivered in order.
leak r1.env
E1=$EV
leak r2.env
E2=$EV
wait_for r1 "$E2"
ok $? "two more rejections are delivered"
is "$(posts r1 | awk '{print $1}' | tr '\n' ' ')" "$REJ $BYP $E1 $E2 " \
	"the receiver got exactly the rejected and bypassed events, in order, once each"
posts r1 | grep -qE "^($ACC|$ACC2) "
is "$?" 1 "accepted events are not sent"

# ---- retry: 500 first, 200 later ----

echo 2 >"$T/r1/fail"
leak r3.env
E3=$EV
wait_for r1 "$E3" 500
ok $? "the receiver answered 500 to event $E3"
wait_for r1 "$E3" 200
ok $? "the event was sent again until it was answered 200 (retry)"
is "$(posts r1 | grep -c "^$E3 ")" 3 "exactly three attempts for it (500, 500, 200)"
# The times of the attempts: the second delay is longer than the first.
awk '$3 == "POST" {print $1, $5}' "$T/r1/log" | while read -r n t; do
	[ "$(jq -r '.event.id' "$T/r1/$n.body" 2>/dev/null)" = "$E3" ] && echo "$t"
done >"$T/attempts"
gaps=$(awk 'NR > 1 {printf "%.2f ", $1 - p} {p = $1}' "$T/attempts")
set -- $gaps
[ $# = 2 ] && awk -v a="$1" -v b="$2" 'BEGIN {exit !(b > a && a > 0)}'
ok $? "retries come after growing delays ($gaps s)"
jq_ok '.event.kind == "rejected"' "$(body_of r1 "$E3")"
ok $? "the retried body is the same event"
wait_for r2 "$E3"
ok $? "the other receiver got it (once)"
is "$(posts r2 | awk '{print $1}' | tr '\n' ' ')" "$REJ $BYP $E1 $E2 $E3 " \
	"the other receiver got every event once, in order, unaffected by the retry"

# ---- delivery state survives a restart ----

kill "$R1PID" 2>/dev/null
wait "$R1PID" 2>/dev/null
leak r4.env
E4=$EV
wait_for r2 "$E4"
ok $? "with the first receiver down, the second still gets event $E4"
sleep 1
stop_daemon TERM
is "$stop_rc" 0 "the daemon stops (SIGTERM) with a delivery pending"
start_receiver r1 "$R1" || bail "cannot restart the first receiver on port $R1"
start_daemon --webhook "$URL1" --webhook "$URL2" || bail "leakgated did not start again"
wait_for r1 "$E4" 200
ok $? "after the restart the pending event $E4 is delivered"
sleep 2
is "$(posts r1 | awk '$2 == 200 {print $1}' | tr '\n' ' ')" "$REJ $BYP $E1 $E2 $E3 $E4 " \
	"nothing delivered before the restart is sent again"
is "$(posts r2 | awk '{print $1}' | tr '\n' ' ')" "$REJ $BYP $E1 $E2 $E3 $E4 " \
	"nor to the other receiver"

# The bodies never hold a raw key.
cat "$T"/r1/*.body "$T"/r2/*.body >"$T/all.bodies"
bad=0
nb=0
for f in "$T"/r1/*.body; do
	[ -s "$f" ] || continue
	nb=$((nb + 1))
	jq_ok '(.event.findings | length) > 0 and
		all(.event.findings[]; (.preview | type == "string") and (.preview | test("^AKIA[A-Z2-7]{16}$") | not))' \
		"$f" || bad=1
done
[ "$bad" = 0 ] && [ "$nb" -ge 6 ]
ok $? "every delivered body ($nb) has findings with redacted previews"
lacks "$T/all.bodies" "$K" "no body has the first key"

api_done
