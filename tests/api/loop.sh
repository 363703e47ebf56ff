#!/bin/sh
# The full loop: a push is rejected by the hook, an administrator exempts
# the finding through the API, the same push then goes through, and the
# audit trail shows both. Custom rules added through the API are enforced
# by the next push, without restarting anything. Exemption scope: repo
# glob, rule, path glob, expiry.
. "$(dirname "$0")/lib.sh"

ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"
start_daemon || bail "leakgated did not start"

SRV=$T/srv.git
git init -q --bare "$SRV" || bail "git init failed"
"$LG" install --repo "$SRV" >"$T/install.out" 2>&1
is "$?" 0 "leakgate install --repo srv.git" || diag_file "$T/install.out"
git -C "$SRV" config leakgate.db "$DB"
git -C "$SRV" config leakgate.cacheDir "$LEAKGATE_CACHE_DIR"
git -C "$SRV" config leakgate.keyFile "$LEAKGATE_KEY_FILE"
SRV_REAL=$(cd "$SRV" && pwd -P)
make_client "$T/c" "$SRV"
push_file "$T/c" README.md "hello"
is "$rc" 0 "a clean first push is accepted"

# names_exemption ID DESC: the event in $RESP names exemption ID (in its
# list of exemptions or on the finding it covered).
names_exemption() {
	case $1 in
	"" | *[!0-9]*)
		fail "$2 (no exemption id: '$1')"
		;;
	*)
		jtrue "([.exemptions[]?] | index($1) != null) or any(.findings[]?; .exemption_id? == $1) or
			.exemption_id? == $1 or .exemption? == $1" "$2"
		;;
	esac
}

# newest_kinds N: the kinds of the N newest events, newest first, from the API.
newest_kinds() {
	rget "/api/v1/events?limit=$1"
	jr '[.events[].kind] | join(",")'
}

# ---- rejected, exempted through the API, accepted ----

K=$(fake_aws_key)
push_file "$T/c" config/app.env "AWS_ACCESS_KEY_ID=$K"
isnt "$rc" 0 "a push with an AWS key is rejected"
LEAK=$COMMIT
contains "$OUT" "fingerprint:" "the rejection shows a fingerprint"
FP=$(fingerprint_of "$OUT")
[ ${#FP} = 32 ]
ok $? "a 32-hex fingerprint can be read from the rejection ($FP)" || diag_file "$OUT" 30
isnt "$(rev "$SRV" main)" "$LEAK" "the server did not take the commit"

req POST /api/v1/scan "$READ" "$(jq -cn --arg t "AWS_ACCESS_KEY_ID=$K" '{text: $t}')"
jis '[.findings[] | select(.rule_id == "aws-access-key-id")][0].fingerprint' "$FP" \
	"/api/v1/scan gives the same fingerprint as the hook (same key file)"

rget "/api/v1/events?limit=1"
jtrue '.events[0].kind == "rejected"' "GET /api/v1/events: the newest event is the rejection"
REJ_ID=$(jr '.events[0].id')
jtrue 'any(.events[0].findings[]; .fingerprint == "'"$FP"'")' "the rejected event has the fingerprint"
lacks "$RESP" "$K" "the event does not contain the key"

apost /api/v1/exemptions "$(jq -cn --arg fp "$FP" '{fingerprint: $fp, reason: "fake key in a test fixture"}')"
status_is 201 "POST /api/v1/exemptions for that fingerprint: 201"
EX=$(jr .id)

push "$T/c" origin HEAD:main
is "$rc" 0 "the same push is now accepted" || diag_file "$OUT" 30
is "$(rev "$SRV" main)" "$LEAK" "the server has the commit"
matches "$OUT" "exemption #?$EX" "the pusher is told which exemption let it through"

is "$(newest_kinds 2)" "exempted,rejected" "GET /api/v1/events: exempted, then (older) rejected"
EXE_ID=$(jr '.events[0].id')
jtrue "(.events[0].id > .events[1].id) and .events[1].id == $REJ_ID" "newest first, the same rejection as before"
rget "/api/v1/events/$EXE_ID"
status_is 200 "GET /api/v1/events/$EXE_ID: 200"
names_exemption "$EX" "the exempted event names exemption $EX"
jtrue "any(.findings[]; .fingerprint == \"$FP\")" "the exempted event lists the finding's fingerprint"
lacks "$RESP" "$K" "and not the key"
rget "/api/v1/events?kind=exempted"
jtrue "[.events[].id] == [$EXE_ID]" "kind=exempted finds exactly that event"

# ---- a custom rule is enforced by the very next push ----

A=$(acme_token)
push_file "$T/c" src/acme.conf "internal_token = $A"
is "$rc" 0 "before the custom rule exists, an acme token goes through"
touch "$T/before-post"
sleep 1
apost /api/v1/rules "$(acme_rule acme-internal)"
status_is 201 "POST /api/v1/rules acme-internal: 201"
[ -n "$(find "$LEAKGATE_CACHE_DIR" -name '*.hsdb' -newer "$T/before-post")" ]
ok $? "the new rule set is published into the shared cache before the answer"
A2=$(acme_token)
push_file "$T/c" src/acme2.conf "internal_token = $A2"
isnt "$rc" 0 "the very next push with an acme token is rejected (no restart)"
contains "$OUT" "Test rule acme-internal" "the rejection names the custom rule"
lacks "$OUT" "$A2" "the rejection does not show the token"
ACME_COMMIT=$COMMIT
rget "/api/v1/events?limit=1"
jtrue '.events[0].kind == "rejected" and any(.events[0].findings[]; .rule_id == "acme-internal")' \
	"the rejected event names rule acme-internal"

apost /api/v1/rules/acme-internal/disable ""
status_is 200 "POST /api/v1/rules/acme-internal/disable: 200"
push "$T/c" origin HEAD:main
is "$rc" 0 "with the rule disabled the same push goes through" || diag_file "$OUT" 20
is "$(rev "$SRV" main)" "$ACME_COMMIT" "the server has the commit"

apost /api/v1/rules/acme-internal/enable ""
status_is 200 "POST /api/v1/rules/acme-internal/enable: 200"
push_file "$T/c" src/acme3.conf "internal_token = $(acme_token)"
isnt "$rc" 0 "enabled again: the next acme token is rejected"
drop_last "$T/c"
adel /api/v1/rules/acme-internal
status_is "200|204" "DELETE /api/v1/rules/acme-internal"
push_file "$T/c" src/acme4.conf "internal_token = $(acme_token)"
is "$rc" 0 "deleted: acme tokens go through again"
[ "$rc" = 0 ] || drop_last "$T/c"

# A built-in rule disabled through the API. (In prose, so that the generic
# "credential assignment" rule has nothing to say.)
apost /api/v1/rules/github-pat-classic/disable ""
push_file "$T/c" docs/ci.md "The CI bot uses $(fake_github_token) (rotated monthly)."
is "$rc" 0 "a built-in rule disabled through the API lets its tokens through" || diag_file "$OUT" 20
[ "$rc" = 0 ] || drop_last "$T/c"
apost /api/v1/rules/github-pat-classic/enable ""
push_file "$T/c" docs/ci2.md "The CI bot uses $(fake_github_token) (rotated monthly)."
isnt "$rc" 0 "enabled again, it blocks"
[ "$rc" = 0 ] || drop_last "$T/c"

# ---- exemption scope ----

K2=$(fake_aws_key)
push_file "$T/c" deploy/prod.env "AWS_ACCESS_KEY_ID=$K2"
isnt "$rc" 0 "a second key is rejected"
FP2=$(fingerprint_of "$OUT")
K2_COMMIT=$COMMIT

exempt() {
	apost /api/v1/exemptions "$1"
	[ "$code" = 201 ] || {
		diag "exemption not created ($code):"
		diag_file "$RESP"
	}
	jr .id
}
exempt "{\"fingerprint\": \"$FP2\", \"repo\": \"other/*\", \"reason\": \"another repository\"}" >/dev/null
push "$T/c" origin HEAD:main
isnt "$rc" 0 "an exemption for repo glob other/* does not apply to $SRV_REAL"
exempt "{\"fingerprint\": \"$FP2\", \"reason\": \"expired\", \"expires\": $(($(date +%s) - 60))}" >/dev/null
push "$T/c" origin HEAD:main
isnt "$rc" 0 "an expired exemption does not apply"
exempt "{\"fingerprint\": \"$FP2\", \"rule_id\": \"github-pat-classic\", \"reason\": \"wrong rule\"}" >/dev/null
push "$T/c" origin HEAD:main
isnt "$rc" 0 "fingerprint right but rule wrong: all given must match, so it does not apply"
exempt "{\"fingerprint\": \"$FP2\", \"path\": \"docs/*\", \"reason\": \"wrong path\"}" >/dev/null
push "$T/c" origin HEAD:main
isnt "$rc" 0 "fingerprint right but path glob wrong: does not apply"
rget "/api/v1/events?limit=4"
is "$(jr '[.events[].kind] | join(",")')" "rejected,rejected,rejected,rejected" \
	"each of those pushes is recorded as rejected"

SCOPED=$(exempt "$(jq -cn --arg fp "$FP2" --arg r "*/$(basename "$SRV")" \
	'{fingerprint: $fp, repo: $r, rule_id: "aws-access-key-id", path: "deploy/*", reason: "all of them match",
	  expires: (now + 3600 | floor)}')")
push "$T/c" origin HEAD:main
is "$rc" 0 "repo glob, fingerprint, rule and path glob all matching, not expired: accepted" || diag_file "$OUT" 20
is "$(rev "$SRV" main)" "$K2_COMMIT" "the server has the commit"
rget "/api/v1/events?limit=1"
jq '.events[0]' "$RESP" >"$T/ev.json" 2>/dev/null && cp "$T/ev.json" "$RESP"
jtrue '.kind == "exempted"' "the newest event is exempted"
names_exemption "$SCOPED" "the exempted event names exemption $SCOPED"

# By rule and path glob, without a fingerprint.
exempt '{"rule_id": "aws-access-key-id", "path": "fixtures/*", "reason": "fixtures hold fake keys"}' >/dev/null
push_file "$T/c" fixtures/keys.txt "aws_access_key_id = $(fake_aws_key)"
is "$rc" 0 "rule_id + path glob exemption: a new key under fixtures/ goes through" || diag_file "$OUT" 20
push_file "$T/c" src/keys.txt "aws_access_key_id = $(fake_aws_key)"
isnt "$rc" 0 "the same rule elsewhere is still rejected"
drop_last "$T/c"

# An exemption that expires in a few seconds: applies now, not later.
K3=$(fake_aws_key)
push_file "$T/c" a.env "K=$K3"
FP3=$(fingerprint_of "$OUT")
exp=$(($(date +%s) + 4))
exempt "{\"fingerprint\": \"$FP3\", \"reason\": \"short\", \"expires\": $exp}" >/dev/null
push "$T/c" origin HEAD:main
is "$rc" 0 "an exemption that has not expired yet applies"
while [ "$(date +%s)" -le "$exp" ]; do sleep 0.2; done
push_file "$T/c" b.env "K=$K3"
isnt "$rc" 0 "once it has expired the same secret is rejected again"
drop_last "$T/c"

# Deleting an exemption makes the secret blocked again.
adel "/api/v1/exemptions/$EX"
status_is "200|204" "DELETE the first exemption"
push_file "$T/c" again.env "AWS_ACCESS_KEY_ID=$K"
isnt "$rc" 0 "with the exemption deleted, the first key is rejected again"
is "$(fingerprint_of "$OUT")" "$FP" "(same fingerprint as before)"

# The hook recorded everything in the database the API reads.
rget "/api/v1/events?limit=500"
is "$(jr '.events | length')" "$(sql 'SELECT count(*) FROM events')" "the API lists every event the hook recorded"
lacks "$RESP" "$K" "no event shows the first key"
lacks "$RESP" "$K2" "no event shows the second key"
lacks "$RESP" "$A2" "no event shows the acme token"

# leakgated runs the hook server; the installed hook hands pushes to it.
_w=0
while [ ! -S "$HOME/.local/state/leakgate/hook.sock" ] && [ $_w -lt 600 ]; do sleep 0.05; _w=$((_w + 1)); done
[ -S "$HOME/.local/state/leakgate/hook.sock" ]
ok $? "leakgated started the hook server on the default socket"
git -C "$T/c" fetch -q origin main && git -C "$T/c" reset -q --hard FETCH_HEAD
export LEAKGATE_TRACE=1
push_file "$T/c" NOTES.md "notes"
unset LEAKGATE_TRACE
is "$rc" 0 "a clean push through leakgated's hook server is accepted"
contains "$OUT" "leakgate: trace: hook server" "it was checked in the hook server"

api_done
