#!/bin/sh
# leakgated stops cleanly on SIGTERM and SIGINT, and a new daemon on the
# same database has all the state: rules, rule states, exemptions, tokens,
# events. Pushes are checked while the daemon is down.
. "$(dirname "$0")/lib.sh"

ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"
GONE=$(make_token read "revoked before the restart") || bail "token create failed"
start_daemon || bail "leakgated did not start"
PID1=$LGD_PID

make_server "$T/srv.git"
make_client "$T/c" "$T/srv.git"
push_file "$T/c" README.md "hello"

# State made through the API.
apost /api/v1/rules "$(acme_rule acme-internal)"
status_is 201 "a custom rule"
apost /api/v1/rules/github-pat-classic/disable ""
status_is 200 "a built-in rule disabled"
FPX=$(rand_chars a-f0-9 32)
apost /api/v1/exemptions "{\"fingerprint\": \"$FPX\", \"repo\": \"team/*\", \"reason\": \"kept across restarts\"}"
status_is 201 "an exemption"
EXID=$(jr .id)
K=$(fake_aws_key)
push_file "$T/c" a.env "AWS_ACCESS_KEY_ID=$K"
isnt "$rc" 0 "a rejected push"
drop_last "$T/c"
"$LG" token revoke "$(token_id "$GONE")" --db "$DB" >/dev/null 2>&1
req GET /api/v1/events "$GONE"
status_is 401 "a revoked token is refused"

snapshot() {
	aget /api/v1/rules
	jq -S '.rules' "$RESP" >"$T/$1.rules"
	aget /api/v1/rules/acme-internal
	jq -S . "$RESP" >"$T/$1.acme"
	aget /api/v1/exemptions
	jq -S '.exemptions' "$RESP" >"$T/$1.exemptions"
	aget "/api/v1/events?limit=500"
	jq -S '.events' "$RESP" >"$T/$1.events"
	req GET /healthz ""
	jq -S . "$RESP" >"$T/$1.health"
}
snapshot before
jq_ok 'length > 100' "$T/before.rules" && jq_ok 'length >= 1' "$T/before.exemptions" &&
	jq_ok 'length >= 2' "$T/before.events" && jq_ok '.source == "custom"' "$T/before.acme"
ok $? "the state before the restart: rules, the custom rule, an exemption, events"

# ---- SIGTERM ----

req GET /healthz ""
status_is 200 "the daemon answers before SIGTERM"
stop_daemon TERM
is "$stop_rc" 0 "SIGTERM: leakgated exits with status 0"
[ "$stop_ms" -lt 5000 ]
ok $? "promptly (${stop_ms} ms)"
req GET /healthz ""
is "$code" 000 "nothing answers on the port any more"

# ---- while it is down ----

push_file "$T/c" b.env "AWS_ACCESS_KEY_ID=$(fake_aws_key)"
isnt "$rc" 0 "with the daemon down, a leaking push is still rejected"
drop_last "$T/c"
push_file "$T/c" ok.txt "clean"
is "$rc" 0 "and a clean one accepted"
A=$(acme_token)
push_file "$T/c" acme.conf "token = $A"
isnt "$rc" 0 "the custom rule is enforced with the daemon down"
drop_last "$T/c"
DOWN_EVENTS=3

# ---- again, on the same database ----

start_daemon || bail "leakgated did not start again"
isnt "$LGD_PID" "$PID1" "a new daemon process"
snapshot after
cmp -s "$T/before.rules" "$T/after.rules"
ok $? "the rules list is the same (custom rule, disabled built-in)"
jq_ok '.source == "custom"' "$T/after.acme"
ok $? "the custom rule survived"
cmp -s "$T/before.acme" "$T/after.acme"
ok $? "with the same JSON"
jq_ok 'any(.[]; .id == "github-pat-classic" and .enabled == false)' "$T/after.rules"
ok $? "github-pat-classic is still disabled"
cmp -s "$T/before.exemptions" "$T/after.exemptions"
ok $? "the exemptions are the same"
jq_ok "any(.[]; .id == $EXID and .reason == \"kept across restarts\")" "$T/after.exemptions"
ok $? "exemption $EXID is there"
is "$(jq length "$T/after.events")" "$(($(jq length "$T/before.events") + DOWN_EVENTS))" \
	"the events: all the old ones and the $DOWN_EVENTS made while the daemon was down"
jq -S --slurpfile b "$T/before.events" '.[-($b[0] | length):] == $b[0]' "$T/after.events" | grep -qx true
ok $? "the old events are unchanged"
jq_ok '[.[0:3][].kind] == ["rejected", "accepted", "rejected"]' "$T/after.events"
ok $? "the pushes made while it was down are the newest events"
jq_ok --slurpfile b "$T/before.health" '.ruleset == $b[0].ruleset and .rules == $b[0].rules' "$T/after.health"
ok $? "/healthz: the same rule set hash and count"
rget /api/v1/events
status_is 200 "the read token still works"
req POST /api/v1/scan "$READ" "$(jq -cn --arg t "token = $(acme_token)" '{text: $t}')"
jtrue 'any(.findings[]; .rule_id == "acme-internal")' "/scan uses the custom rule"
req POST /api/v1/scan "$READ" "$(jq -cn --arg t "The bot uses $(fake_github_token) here." '{text: $t}')"
jtrue 'all(.findings[]; .rule_id != "github-pat-classic")' "/scan leaves out the disabled rule"
req GET /api/v1/events "$GONE"
error_is 401 unauthorized "the revoked token is still refused"
apost /api/v1/exemptions "{\"rule_id\": \"acme-internal\", \"reason\": \"after restart\"}"
status_is 201 "the admin token still works for changes"
isnt "$(jr .id)" "$EXID" "a new exemption gets a new id"

# ---- SIGINT ----

stop_daemon INT
is "$stop_rc" 0 "SIGINT: leakgated exits with status 0"
[ "$stop_ms" -lt 5000 ]
ok $? "promptly (${stop_ms} ms)"
start_daemon --max-connections 16 || bail "leakgated did not start a third time"
aget "/api/v1/exemptions?rule=acme-internal"
jis '.exemptions | length' 1 "the exemption made before SIGINT is there"
i=0
n200=0
while [ $i -lt 40 ]; do
	rget "/api/v1/events?limit=1"
	[ "$code" = 200 ] && n200=$((n200 + 1))
	i=$((i + 1))
done
is "$n200" 40 "with --max-connections 16 (the least), 40 requests one after another are all served"
refuses "$T/few.log" "--max-connections 4 is refused (16 at least: some are kept for health checks)" \
	--max-connections 4 --db "$T/other.db"
contains "$T/few.log" "16 to 65536" "and the line says the range"

# A second daemon on a port that is taken must not pretend to run.
refuses "$T/second.log" "a second leakgated on a port in use exits with an error" \
	--listen "127.0.0.1:$PORT" --db "$T/other.db" --cache-dir "$LEAKGATE_CACHE_DIR" \
	--key-file "$LEAKGATE_KEY_FILE"
req GET /healthz ""
status_is 200 "the first one still serves"
refuses "$T/bad.log" "--listen 127.0.0.1:notaport is refused" \
	--listen 127.0.0.1:notaport --db "$T/other.db"

# SIGTERM while requests are being served: still a clean exit.
i=0
while [ $i -lt 20 ]; do
	curl -s -m 5 -o /dev/null -H "Authorization: Bearer $READ" "$BASE/api/v1/events?limit=500" &
	i=$((i + 1))
done
stop_daemon TERM
wait
is "$stop_rc" 0 "SIGTERM during requests: status 0"
sqlite3 "$DB" 'PRAGMA integrity_check' >"$T/ic" 2>&1
is "$(cat "$T/ic")" ok "the database is intact"

api_done
