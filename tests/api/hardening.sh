#!/bin/sh
# The admin side as a careless administrator and an attacker would try it
# (issue 9): changes that would break or blind the server are refused by
# the CLI and the API alike (one operations layer), numbers from requests
# cannot overflow, candidate rules cannot hold the daemon, and a listener
# on the network without TLS is refused on request.
. "$(dirname "$0")/lib.sh"

start_daemon || bail "leakgated does not start"
ADMIN=$(make_token admin ops) || bail "no admin token"
READ=$(make_token read viewer) || bail "no read token"
SRV=$T/srv.git
make_server "$SRV"
git -C "$SRV" config leakgate.cacheDir "$LEAKGATE_CACHE_DIR"
git -C "$SRV" config leakgate.keyFile "$LEAKGATE_KEY_FILE"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main

# ---- 1. a custom rule with a built-in rule's id ----
jq -n '{pack: "mine", rules: [{id: "aws-access-key-id", name: "Mine", description: "d", severity: "low",
	pattern: "mine_[a-z]{8}", remediation: "r", examples: ["mine_kqzvbxtr", "x mine_wpfhjmcy"],
	negative_examples: ["a", "b"]}]}' >"$T/dup.json"
run "$LG" rules add "$T/dup.json" --db "$DB"
isnt "$rc" 0 "1: leakgate rules add with a built-in rule's id is refused"
contains "$ERR" "built-in rule has this id" "1: and says why"
is "$(sql "SELECT count(*) FROM rules")" 0 "1: nothing was stored"
commit_file "$T/c" ok.txt "fine" "clean after the refused rule"
push "$T/c" origin main
is "$rc" 0 "1: pushes still pass (the rule set still loads)"
apost /api/v1/rules "$(jq -c '.rules[0]' "$T/dup.json")"
status_is 409 "1: the API refuses it too (409)"

# exemptions: a fingerprint that is not one, an expired one, an unknown rule
run "$LG" exemptions add --fingerprint NOT-A-FINGERPRINT --reason "x" --db "$DB"
isnt "$rc" 0 "1: exemptions add --fingerprint NOT-A-FINGERPRINT is refused"
run "$LG" exemptions add --rule aws-access-key-id --reason "old" --expires 2001-01-01 --db "$DB"
isnt "$rc" 0 "1: an exemption that has already expired is refused"
contains "$ERR" "in the past" "1: and says so"
run "$LG" exemptions add --rule no-such-rule --reason "x" --db "$DB"
isnt "$rc" 0 "1: an exemption for an unknown rule id is refused"
apost /api/v1/exemptions '{"rule_id": "no-such-rule", "reason": "x"}'
status_is 422 "1: the API refuses the unknown rule id too"
run "$LG" exemptions add --rule aws-access-key-id --reason "fixture keys" --expires 30d --db "$DB"
is "$rc" 0 "1: a valid exemption is taken"
is "$(sql "SELECT created_by FROM exemptions ORDER BY id DESC LIMIT 1" | cut -c1-4)" "cli:" \
	"1: the CLI's exemption names who made it"
is "$(sql "SELECT expires_ms > strftime('%s','now') * 1000 FROM exemptions ORDER BY id DESC LIMIT 1")" 1 \
	"1: --expires 30d is 30 days ahead"
"$LG" events --db "$DB" --since 30d --json >"$T/ev.json" 2>/dev/null
[ "$(jq length "$T/ev.json")" -ge 1 ]
ok $? "1: events --since 30d means the last 30 days (it shows today's pushes)"
"$LG" events --db "$DB" --since 2099-01-01 --json >"$T/ev.json" 2>/dev/null
is "$(jq length "$T/ev.json")" 0 "1: and --since a future date shows none"

# a disabled custom rule stays disabled when it is replaced; a refused update keeps the rule
ACME=$(acme_rule acme-internal)
apost /api/v1/rules "$ACME"
status_is 201 "1: a custom rule is added"
apost /api/v1/rules/acme-internal/disable ""
status_is 200 "1: and disabled"
req PUT /api/v1/rules/acme-internal "$ADMIN" "$(printf '%s' "$ACME" | jq -c '.severity = "critical"')"
status_is 200 "1: PUT on the disabled rule"
is "$(jr .enabled)" false "1: answers enabled: false (it is still disabled)"
req PUT /api/v1/rules/acme-internal "$ADMIN" "$(printf '%s' "$ACME" | jq -c '.pattern = "(?<=x)acme"')"
status_is 422 "1: a PUT with an invalid pattern is refused"
aget /api/v1/rules/acme-internal
status_is 200 "1: and the rule is still there"
is "$(jr .severity)" critical "1: as it was before the refused update"

# ---- 5. a custom rule that backtracks badly is refused ----
BT='{"id": "bt-rule", "name": "Backtracking", "description": "d", "severity": "high",
	"pattern": "(?:a+)+c|(tok_[A-Z]{8})", "secret_group": 1, "placeholder_check": false,
	"remediation": "r", "examples": ["tok_QWERTZUI", "x tok_ASDFGHJK"], "negative_examples": ["a", "b"]}'
apost /api/v1/rules "$BT"
status_is 422 "5: a rule that backtracks badly is refused"
jtrue 'any(.error.details[]; .field == "pattern" and (.message | test("backtracks")))' "5: naming the field and why"
printf '{"pack": "bt", "rules": [%s]}' "$BT" >"$T/bt.json"
run "$LG" rules add "$T/bt.json" --db "$DB"
isnt "$rc" 0 "5: the CLI refuses it too"
run "$LG" rules check "$T/bt.json"
isnt "$rc" 0 "5: and so does leakgate rules check"

# ---- 4. a slow-compiling candidate does not hold the daemon ----
# A daemon of its own, with 2 s of CPU for each candidate's check.
MAIN_BASE=$BASE
start_daemon --rule-check-seconds 2 || bail "leakgated --rule-check-seconds 2 does not start"
SLOW='{"rule": {"id": "slow-rule", "name": "Slow", "description": "d", "severity": "low",
	"pattern": "(?:a|ab|abc|abcd|abcde|abcdef){800}z", "remediation": "r", "examples": ["a", "b"],
	"negative_examples": ["c", "d"]}, "text": "x"}'
pids=""
for i in 1 2 3 4; do
	curl -s -m 90 -o "$T/slow.$i" -w '%{http_code}\n' -H "Authorization: Bearer $READ" \
		-H 'Content-Type: application/json' --data-binary "$SLOW" "$BASE/api/v1/rules/test" >"$T/slow.$i.code" &
	pids="$pids $!"
done
sleep 1
t0=$(date +%s%N)
hz=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/healthz")
hz_ms=$((($(date +%s%N) - t0) / 1000000))
is "$hz" 200 "4: /healthz answers while four slow rule checks run (${hz_ms} ms)"
t0=$(date +%s%N)
req GET /api/v1/rules/aws-access-key-id "$READ"
status_is 200 "4: and so does a read of a rule ($((($(date +%s%N) - t0) / 1000000)) ms)"
for p in $pids; do
	wait "$p"
done
timed=0 busy=0 other=0
for i in 1 2 3 4; do
	c=$(cat "$T/slow.$i.code")
	if [ "$c" = 200 ] && jq_ok '.valid == false and any(.problems[]; .rule_id == "slow-rule" and .field == "pattern"
		and (.message | test("took more than 2 s")))' "$T/slow.$i"; then
		timed=$((timed + 1))
	elif [ "$c" = 503 ]; then
		busy=$((busy + 1))
	else
		other=$((other + 1))
		diag "  check $i: status $c: $(head -c 300 "$T/slow.$i")"
	fi
done
is "$other" 0 "4: each slow check ends as invalid for its time, or 503 (busy), never a hang ($timed timed out, $busy busy)"
[ "$timed" -ge 1 ]
ok $? "4: at least one was checked, and refused for its time, naming the rule and field"
# POST /api/v1/scan runs off the request threads too: eight scans of about
# 900 kB with thousands of findings each, at once, while /healthz is probed.
awk 'BEGIN { srand(7); a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; n = 0
	while (n < 900000) { k = ""; for (i = 0; i < 16; i++) k = k substr(a, int(rand() * 32) + 1, 1)
		l = sprintf("node%d.key = AKIA%s", n, k); print l; n += length(l) + 1 } }' >"$T/many.txt"
jq -Rs '{text: ., path: "deploy/keys.txt"}' "$T/many.txt" >"$T/many.json"
"$LG" scan --format json "$T/many.txt" >"$T/many.cli.json" 2>/dev/null
want=$(jq '.findings | length' "$T/many.cli.json")
pids=""
for i in 1 2 3 4 5 6 7 8; do
	curl -s -m 90 -o "$T/scan.$i" -w '%{http_code}\n' -H "Authorization: Bearer $READ" \
		-H 'Content-Type: application/json' --data-binary @"$T/many.json" "$BASE/api/v1/scan" >"$T/scan.$i.code" &
	pids="$pids $!"
done
hz_bad=0
for k in 1 2 3 4 5; do
	c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/healthz")
	[ "$c" = 200 ] || hz_bad=$((hz_bad + 1))
	sleep 0.2
done
for p in $pids; do
	wait "$p"
done
is "$hz_bad" 0 "4: /healthz answers while eight large scans are queued or running"
full=0 busy=0 other=0
for i in 1 2 3 4 5 6 7 8; do
	c=$(cat "$T/scan.$i.code")
	if [ "$c" = 200 ] && [ "$(jq '.count' "$T/scan.$i")" = "$want" ]; then
		full=$((full + 1))
	elif [ "$c" = 422 ] && jq_ok '.error.code == "scan_incomplete" and (.error.message | test("took more than 2 s"))' "$T/scan.$i"; then
		full=$((full + 1)) # stopped for its time, and says so
	elif [ "$c" = 503 ] && jq_ok '.error.code == "busy"' "$T/scan.$i"; then
		busy=$((busy + 1))
	else
		other=$((other + 1))
		diag "  scan $i: status $c: $(head -c 300 "$T/scan.$i")"
	fi
done
[ "$want" -gt 1000 ]
ok $? "4: the text has thousands of findings for the CLI ($want)"
is "$other" 0 "4: each scan is complete ($want findings) or says why not, or is 503 busy ($full answered, $busy busy)"
[ "$full" -ge 2 ]
ok $? "4: at least two scans were answered"
# A burst of small scans is queued, not refused: scans have a queue of
# their own (64 waiting). Two slow rule checks hold both workers; forty
# small scans sent meanwhile wait for them and are all answered.
awk 'BEGIN { for (i = 0; i < 120; i++) printf "setting_%03d = \"value number %d of the service\"\n", i, i
	print "aws_access_key_id = \"AKIAQYLPMN5HFIQR7XQZ\"" }' >"$T/small.txt"
jq -Rs '{text: ., path: "settings.py"}' "$T/small.txt" >"$T/small.json"
pids=""
for i in 1 2; do
	curl -s -m 90 -o /dev/null -H "Authorization: Bearer $READ" -H 'Content-Type: application/json' \
		--data-binary "$SLOW" "$BASE/api/v1/rules/test" &
	pids="$pids $!"
done
sleep 0.5
seq 40 | xargs -P 40 -I{} sh -c 'curl -s -m 60 -o "$1/small.{}" -w "%{http_code}\n" -H "Authorization: Bearer $2" \
	-H "Content-Type: application/json" --data-binary @"$1/small.json" "$3/api/v1/scan" >"$1/small.{}.code"' _ "$T" "$READ" "$BASE"
for p in $pids; do
	wait "$p"
done
small_ok=0
for i in $(seq 40); do
	[ "$(cat "$T/small.$i.code")" = 200 ] && [ "$(jq '.count' "$T/small.$i" 2>/dev/null)" = 1 ] && small_ok=$((small_ok + 1))
done
[ "$small_ok" = 40 ] || diag "  codes: $(cat "$T"/small.*.code | sort | uniq -c | tr '\n' ' ')"
is "$small_ok" 40 "4: forty small scans sent while two slow rule checks run are all answered with their finding, none refused as busy"
apost_slow=$(printf '%s' "$SLOW" | jq -c '.rule')
req POST /api/v1/rules "$ADMIN" "$apost_slow"
status_is 422 "4: POST /api/v1/rules with it is refused (422) within the limit"
stop_daemon
BASE=$MAIN_BASE

# ---- 6. numbers from requests ----
aget "/api/v1/events?since=9223372036854775807"
status_is 400 "6: since=9223372036854775807 is a 400, not an overflow"
aget "/api/v1/events?until=-9223372036854775808"
status_is 400 "6: until=-9223372036854775808 is a 400"
aget "/api/v1/events?limit=99999999999999999999"
status_is 400 "6: a limit too large for a number is a 400"
apost /api/v1/exemptions '{"rule_id": "aws-access-key-id", "reason": "x", "expires": 9223372036854775807}'
status_is 422 "6: expires=9223372036854775807 is refused (422)"
apost /api/v1/exemptions '{"rule_id": "aws-access-key-id", "reason": "x", "expires": "99999999999d"}'
status_is 422 "6: an expiry of 99999999999 days is refused"

# ---- 7. a listener on the network without TLS ----
refuses "$T/rt.out" "7: --require-tls refuses a non-loopback --listen without TLS" \
	--listen 0.0.0.0:1 --require-tls --db "$DB" --key-file "$LEAKGATE_KEY_FILE"
contains "$T/rt.out" "require-tls" "7: and says why"
"$LGD" --listen "0.0.0.0:$(random_port)" --db "$DB" --key-file "$LEAKGATE_KEY_FILE" \
	--cache-dir "$LEAKGATE_CACHE_DIR" --no-hook-server >"$T/warn.out" 2>&1 &
WP=$!
sleep 2
kill "$WP" 2>/dev/null
wait "$WP" 2>/dev/null
contains "$T/warn.out" "without TLS" "7: without --require-tls it starts, with a warning"

api_done
