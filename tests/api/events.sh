#!/bin/sh
# leakgated: GET /api/v1/events (filters repo, pusher, kind, since, until;
# paging with limit and cursor), GET /api/v1/events/{id}, and /metrics.
. "$(dirname "$0")/lib.sh"

ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"
start_daemon || bail "leakgated did not start"

make_server "$T/a.git"
make_server "$T/b.git"
A_REAL=$(cd "$T/a.git" && pwd -P)
B_REAL=$(cd "$T/b.git" && pwd -P)
make_client "$T/ca" "$T/a.git"
make_client "$T/cb" "$T/b.git"

# The pushes made, one line each: "phase repo pusher kind", in order.
LEDGER=$T/ledger
: >"$LEDGER"
SECRETS=$T/secrets
: >"$SECRETS"

# p PHASE REPO(a|b) PUSHER KIND: one push that ends as KIND (accepted,
# rejected or bypassed), by PUSHER (REMOTE_USER is what the hook records).
p() {
	_c=$T/c$2
	_n0=$(ev_count)
	case $4 in
	accepted)
		commit_file "$_c" "f$(rand_chars a-z 8).txt" "plain text $(rand_chars a-z 16)"
		REMOTE_USER=$3 push "$_c" origin HEAD:main
		;;
	rejected | bypassed)
		_k=$(fake_aws_key)
		echo "$_k" >>"$SECRETS"
		commit_file "$_c" "k$(rand_chars a-z 8).env" "AWS_ACCESS_KEY_ID=$_k"
		if [ "$4" = rejected ]; then
			REMOTE_USER=$3 push "$_c" origin HEAD:main
			drop_last "$_c"
		else
			REMOTE_USER=$3 push "$_c" -o "leakgate.bypass=fixture for the events test" origin HEAD:main
		fi
		;;
	esac
	_want=0
	[ "$4" = rejected ] && _want=1
	if { [ "$_want" = 0 ] && [ "$rc" != 0 ]; } || { [ "$_want" = 1 ] && [ "$rc" = 0 ]; }; then
		diag "push ($*) ended with $rc:"
		diag_file "$OUT" 20
	fi
	_n1=$(ev_count)
	if [ "$_n1" != $((_n0 + 1)) ]; then
		diag "push ($*): $_n0 -> $_n1 events, exit $rc:"
		diag_file "$OUT" 30
	fi
	echo "$1 $2 $(echo "$3" | tr ' ' _) $4" >>"$LEDGER"
}

# Phase 1.
p 1 a alice accepted
p 1 a alice rejected
p 1 b bob accepted
p 1 b bob rejected
p 1 a bob bypassed
p 1 a alice accepted
sleep 1.1
BOUNDARY=$(date +%s)
sleep 1.1
# Phase 2.
for i in 1 2 3 4 5; do
	p 2 a alice accepted
	p 2 b carol accepted
done
p 2 b carol rejected
p 2 a alice rejected
p 2 b bob bypassed
p 2 a carol accepted
NTOTAL=$(grep -c . "$LEDGER")
n_where() { awk "$1" "$LEDGER" | grep -c .; }

is "$(sql 'SELECT count(*) FROM events')" "$NTOTAL" "the hook recorded one event per push ($NTOTAL)"

# ---- the whole list ----

rget /api/v1/events
status_is 200 "GET /api/v1/events: 200"
jtrue '(.events | type == "array") and has("next_cursor")' "the answer has events and next_cursor"
jis '.events | length' "$NTOTAL" "all $NTOTAL events fit the default page of 50"
jtrue '.next_cursor == null' "next_cursor is null on the last page"
jtrue '[.events[].id] as $i | $i == ($i | sort | reverse) and ($i | unique | length) == ($i | length)' \
	"newest first, ids distinct"
jtrue 'all(.events[]; (.id | type == "number") and (.kind | type == "string") and (.repo | type == "string")
	and (.pusher | type == "string"))' "each event has id, kind, repo, pusher"
jis '[.events[].kind] | reverse | join(" ")' "$(awk '{print $4}' "$LEDGER" | tr '\n' ' ' | sed 's/ $//')" \
	"the kinds are those of the pushes, in order"
bad=0
while read -r k; do
	grep -qF -e "$k" "$RESP" && bad=1
done <"$SECRETS"
is "$bad" 0 "no event in the list contains a raw key"
ALL_IDS=$(jr '.events[].id' | tr '\n' ' ')

# ---- filters ----

# count_is QUERY EXPECTED DESC [JQ_CHECK]: GET /api/v1/events?QUERY&limit=500 has EXPECTED events.
count_is() {
	rget "/api/v1/events?$1&limit=500"
	if [ "$code" = 200 ] && [ "$(jr '.events | length')" = "$2" ] &&
		{ [ -z "${4:-}" ] || jq_ok "$4" "$RESP"; }; then
		pass "$3"
	else
		fail "$3"
		diag "  $1: status $code, $(jr '.events | length') events, expected $2${4:+ with $4}"
	fi
}
for k in accepted rejected bypassed; do
	count_is "kind=$k" "$(n_where "\$4 == \"$k\"")" "kind=$k" "all(.events[]; .kind == \"$k\")"
done
count_is "kind=exempted" 0 "kind=exempted: none"
count_is "repo=$A_REAL" "$(n_where '$2 == "a"')" "repo=<a.git>" "all(.events[]; .repo == \"$A_REAL\")"
count_is "repo=$B_REAL" "$(n_where '$2 == "b"')" "repo=<b.git>" "all(.events[]; .repo == \"$B_REAL\")"
count_is "repo=/nowhere.git" 0 "repo=<unknown>: none"
for u in alice bob carol; do
	count_is "pusher=$u" "$(n_where "\$3 == \"$u\"")" "pusher=$u" "all(.events[]; .pusher == \"$u\")"
done
count_is "pusher=bob&kind=bypassed&repo=$A_REAL" "$(n_where '$3 == "bob" && $4 == "bypassed" && $2 == "a"')" \
	"pusher, kind and repo combined"
N1=$(n_where '$1 == 1')
N2=$(n_where '$1 == 2')
count_is "since=$BOUNDARY" "$N2" "since=<Unix seconds>: only the later pushes"
count_is "until=$BOUNDARY" "$N1" "until=<Unix seconds>: only the earlier pushes"
RFC=$(date -u -d "@$BOUNDARY" +%Y-%m-%dT%H:%M:%SZ)
count_is "since=$RFC" "$N2" "since=<RFC 3339, Z>: the same"
count_is "until=$RFC" "$N1" "until=<RFC 3339, Z>: the same"
RFC2=$(TZ=Etc/GMT-2 date -d "@$BOUNDARY" +%Y-%m-%dT%H:%M:%S+02:00)
count_is "since=$(printf %s "$RFC2" | sed 's/+/%2B/')" "$N2" "since=<RFC 3339 with +02:00> ($RFC2): the same"
count_is "since=$BOUNDARY&until=$((BOUNDARY + 3600))" "$N2" "since and until together"
count_is "since=$((BOUNDARY + 3600))&until=$BOUNDARY" 0 "since after until: none"
count_is "since=$BOUNDARY&kind=rejected" "$(n_where '$1 == 2 && $4 == "rejected"')" "since with kind"

# ---- paging ----

# walk QUERY: follow next_cursor from the first page; ids into $T/walk,
# page sizes into $T/pages; returns 1 on an error answer or too many pages.
walk() {
	: >"$T/walk"
	: >"$T/pages"
	_cur=""
	_n=0
	while :; do
		rget "/api/v1/events?$1${_cur:+&cursor=$_cur}"
		[ "$code" = 200 ] || return 1
		jr '.events[].id' >>"$T/walk"
		jr '.events | length' >>"$T/pages"
		_cur=$(jr '.next_cursor // empty')
		[ -z "$_cur" ] && return 0
		_n=$((_n + 1))
		[ $_n -gt 100 ] && return 1
	done
}
walk "limit=5"
ok $? "walking all pages with limit=5"
is "$(grep -c . "$T/pages")" "$(((NTOTAL + 4) / 5))" "ceil($NTOTAL/5) pages"
is "$(sort -n "$T/pages" | tail -n 1)" 5 "no page has more than 5"
is "$(sort -n "$T/walk" | uniq -d | grep -c .)" 0 "no event twice"
is "$(tr '\n' ' ' <"$T/walk")" "$ALL_IDS" "every event once, newest first, no gaps"
walk "limit=1"
is "$(tr '\n' ' ' <"$T/walk")" "$ALL_IDS" "the same with limit=1"
walk "limit=$NTOTAL"
is "$(grep -c . "$T/pages")" 1 "limit=$NTOTAL: one page (next_cursor null when nothing is left)"
walk "kind=accepted&limit=3"
is "$(grep -c . "$T/walk")" "$(n_where '$4 == "accepted"')" "walking kind=accepted by 3: all accepted events"
is "$(sort -n "$T/walk" | uniq -d | grep -c .)" 0 "no event twice"
walk "repo=$B_REAL&since=$BOUNDARY&limit=4"
is "$(grep -c . "$T/walk")" "$(n_where '$1 == 2 && $2 == "b"')" "walking repo+since by 4: all of them"

# A cursor stays valid when newer events arrive.
rget "/api/v1/events?limit=5"
first=$(jr '.events[].id' | tr '\n' ' ')
cur=$(jr .next_cursor)
p 3 a alice accepted
p 3 b bob rejected
rget "/api/v1/events?limit=5&cursor=$cur"
second=$(jr '.events[].id' | tr '\n' ' ')
is "$first$second" "$(echo "$ALL_IDS" | cut -d' ' -f1-10) " \
	"new events do not shift a page taken with a cursor (no duplicates, no gaps)"
rget "/api/v1/events?limit=2"
jtrue '[.events[].kind] == ["rejected", "accepted"]' "the new events are on top of the first page"

# Query values are URL-decoded: a pusher name with a space.
p 3 b "Jane Doe" accepted
rget "/api/v1/events?pusher=Jane%20Doe"
jtrue '(.events | length) == 1 and .events[0].pusher == "Jane Doe"' "pusher=Jane%20Doe finds the push by 'Jane Doe'"
rget "/api/v1/events?pusher=Jane+Doe"
jtrue '(.events | length) == 1' "pusher=Jane+Doe (form encoding) too"

# ---- one event ----

REJ=$(sql "SELECT id FROM events WHERE kind = 'rejected' ORDER BY id DESC LIMIT 1")
rget "/api/v1/events/$REJ"
status_is 200 "GET /api/v1/events/$REJ: 200"
jtrue ".id == $REJ and .kind == \"rejected\" and .repo == \"$B_REAL\" and .pusher == \"bob\"" \
	"the event: id, kind, repo, pusher"
jtrue '(.findings | length) > 0 and all(.findings[]; (.fingerprint | test("^[0-9a-f]{32}$")) and
	.rule_id == "aws-access-key-id" and (.preview | type == "string"))' \
	"its findings: rule, fingerprint, redacted preview"
lacks "$RESP" "$(tail -n 1 "$SECRETS")" "it does not contain the key"
cp "$RESP" "$T/one.json"
rget "/api/v1/events?limit=500"
jq_ok --slurpfile one "$T/one.json" --argjson id "$REJ" '(.events[] | select(.id == $id)) == $one[0]' \
	"$RESP"
ok $? "GET of one event gives the same object as the list"
BYP=$(sql "SELECT id FROM events WHERE kind = 'bypassed' LIMIT 1")
rget "/api/v1/events/$BYP"
jtrue '.kind == "bypassed"' "a bypassed event"
contains "$RESP" "fixture for the events test" "it records the bypass reason"
rget /api/v1/events/999999
error_is 404 not_found "GET /api/v1/events/999999: 404"
rget /api/v1/events/0
status_is "400|404" "GET /api/v1/events/0: 400/404"
rget /api/v1/events/abc
status_is "400|404" "GET /api/v1/events/abc: 400/404"

# ---- the reply cache ----
# The daemon serves a read again while the database is unchanged; a change
# made through any other connection (here sqlite3) must be seen by the next
# read, whichever of the daemon's threads answers it.
TOP=$(sql "SELECT max(id) FROM events")
stale=0
for i in $(seq 16); do
	rget "/api/v1/events?limit=1"
	[ "$(jr '.events[0].pusher')" = "Jane Doe" ] || stale=$((stale + 1))
done
is "$stale" 0 "16 reads of the first page, each on a new connection: all show the newest event"
sql "UPDATE events SET pusher = 'cache-probe' WHERE id = $TOP" >/dev/null
stale=0
for i in $(seq 16); do
	rget "/api/v1/events?limit=1"
	[ "$(jr '.events[0].pusher')" = "cache-probe" ] || stale=$((stale + 1))
	rget "/api/v1/events/$TOP"
	[ "$(jr '.pusher')" = "cache-probe" ] || stale=$((stale + 1))
done
is "$stale" 0 "after a change through another connection, no read (32, page and single event) is stale"
sql "UPDATE events SET pusher = 'Jane Doe' WHERE id = $TOP" >/dev/null
rget "/api/v1/events?limit=1"
jis '.events[0].pusher' "Jane Doe" "and the change back is seen too"

# ---- metrics ----

metric() {
	# metric NAME_WITH_LABELS: its value in $T/metrics ("" when absent).
	awk -v m="$1" '$1 == m {print $2}' "$T/metrics"
}
scrape() {
	rget /metrics
	cp "$RESP" "$T/metrics"
}
scrape
status_is 200 "GET /metrics: 200"
grep -qi '^content-type: *text/plain' "$HDRS"
ok $? "/metrics is text/plain" || diag_file "$HDRS"
for name in leakgate_pushes_total leakgate_scan_bytes leakgate_push_duration_seconds \
	leakgate_ruleset_info leakgate_http_requests_total; do
	grep -q "^# TYPE $name " "$T/metrics"
	ok $? "/metrics declares # TYPE $name"
done
grep -q '^# TYPE leakgate_scan_bytes histogram' "$T/metrics" &&
	grep -q '^# TYPE leakgate_push_duration_seconds histogram' "$T/metrics"
ok $? "scan_bytes and push_duration_seconds are histograms"
grep -q '^# TYPE leakgate_pushes_total counter' "$T/metrics"
ok $? "pushes_total is a counter"
for s in _bucket _sum _count; do
	grep -q "^leakgate_scan_bytes$s" "$T/metrics" && grep -q "^leakgate_push_duration_seconds$s" "$T/metrics"
	ok $? "both histograms have $s"
done
grep -q '^leakgate_push_duration_seconds_bucket{le="+Inf"}' "$T/metrics"
ok $? "the duration histogram has an le=\"+Inf\" bucket"
bad=$(grep -v '^#' "$T/metrics" | grep -v '^$' |
	grep -cvE '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*,?)?\})? [-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN)( [0-9]+)?$')
is "$bad" 0 "every sample line is valid Prometheus text"
req GET /healthz ""
h=$(jr .ruleset)
grep -q "^leakgate_ruleset_info{.*hash=\"$h\"" "$T/metrics"
ok $? "leakgate_ruleset_info carries the live hash ($h)"
total_pushes() {
	grep '^leakgate_pushes_total{' "$T/metrics" | awk '{s += $2} END {print s + 0}'
}
is "$(total_pushes)" "$(sql 'SELECT count(*) FROM events')" "pushes_total sums to the number of pushes"
rej0=$(metric 'leakgate_pushes_total{kind="rejected"}')
cnt0=$(metric leakgate_push_duration_seconds_count)
sb0=$(metric leakgate_scan_bytes_count)
tot0=$(total_pushes)
http0=$(grep '^leakgate_http_requests_total' "$T/metrics" | awk '{s += $2} END {print s + 0}')
p 4 a alice rejected
scrape
is "$(metric 'leakgate_pushes_total{kind="rejected"}')" "$((rej0 + 1))" \
	"a rejected push: pushes_total{kind=\"rejected\"} grows by one"
is "$(total_pushes)" "$((tot0 + 1))" "and pushes_total in all by one"
is "$(metric leakgate_push_duration_seconds_count)" "$((cnt0 + 1))" "push_duration_seconds_count grows by one"
is "$(metric leakgate_scan_bytes_count)" "$((sb0 + 1))" "scan_bytes_count grows by one"
http1=$(grep '^leakgate_http_requests_total' "$T/metrics" | awk '{s += $2} END {print s + 0}')
[ "$http1" -gt "$http0" ] 2>/dev/null
ok $? "http_requests_total grows ($http0 -> $http1)"
req GET /metrics ""
error_is 401 unauthorized "/metrics without a token: 401"

api_done
