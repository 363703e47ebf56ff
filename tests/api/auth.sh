#!/bin/sh
# leakgated: authentication and roles, tokens on the host, and the HTTP
# basics every endpoint shares: error bodies, malformed and oversized
# bodies, bad parameters, unknown paths, wrong methods, the request log.
. "$(dirname "$0")/lib.sh"

ADMIN=$(make_token admin "api admin") || bail "leakgate token create --role admin failed"
READ=$(make_token read "api reader") || bail "leakgate token create --role read failed"
start_daemon || bail "leakgated did not start"

# ---- tokens on the host ----

case "$ADMIN" in
*" "* | *"	"* | "") fail "token create prints the token alone on the last line (got '$ADMIN')" ;;
*) [ ${#ADMIN} -ge 16 ]; ok $? "token create prints the token alone on the last line" ;;
esac
isnt "$ADMIN" "$READ" "two tokens differ"
"$LG" token list --db "$DB" >"$T/list.txt" 2>&1
is "$?" 0 "leakgate token list succeeds"
lacks "$T/list.txt" "$ADMIN" "token list does not show the admin token itself"
lacks "$T/list.txt" "$READ" "token list does not show the read token itself"
"$LG" token list --db "$DB" --json >"$T/list.json" 2>&1
jq_ok 'length == 2' "$T/list.json"
ok $? "token list --json is JSON with both tokens" || diag_file "$T/list.json"
lacks "$T/list.json" "$ADMIN" "token list --json does not show the token itself"
ADMIN_ID=$(token_id "$ADMIN")
READ_ID=$(token_id "$READ")
[ -n "$ADMIN_ID" ] && [ -n "$READ_ID" ] && [ "$ADMIN_ID" != "$READ_ID" ]
ok $? "token list gives each token its number ($ADMIN_ID, $READ_ID)"
cat "$DB" "$DB-wal" 2>/dev/null | grep -aqF -e "$ADMIN"
is "$?" 1 "the database does not hold the token itself (only its hash)"

# ---- /healthz needs no token ----

req GET /healthz ""
status_is 200 "GET /healthz without a token: 200"
jis .status ok "/healthz says status ok"
jtrue '(.rules | type == "number") and .rules > 100' "/healthz counts the rules (built-in pack: over 100)"
jtrue '(.ruleset | type == "string") and (.ruleset | length) > 0' "/healthz names the rule set hash"
grep -qi '^content-type: *application/json' "$HDRS"
ok $? "JSON answers say Content-Type: application/json" || diag_file "$HDRS"

# ---- every other endpoint: 401 without a valid token ----

# METHOD PATH BODY, one a line; {id} endpoints get ids that exist or not:
# authentication comes first either way.
EX='{"fingerprint": "0123456789abcdef0123456789abcdef", "reason": "auth test"}'
RULE=$(acme_rule acme-auth)
cat >"$T/endpoints" <<EOF
GET /metrics -
GET /api/v1/rules -
GET /api/v1/rules/aws-access-key-id -
POST /api/v1/rules $RULE
PUT /api/v1/rules/acme-auth $RULE
DELETE /api/v1/rules/acme-auth -
POST /api/v1/rules/aws-access-key-id/disable -
POST /api/v1/rules/aws-access-key-id/enable -
POST /api/v1/rules/test {"rule": $RULE, "text": "x"}
POST /api/v1/scan {"text": "hello"}
GET /api/v1/exemptions -
POST /api/v1/exemptions $EX
GET /api/v1/exemptions/1 -
DELETE /api/v1/exemptions/1 -
GET /api/v1/events -
GET /api/v1/events/1 -
EOF

while read -r m p b; do
	[ "$b" = - ] && b=""
	req "$m" "$p" "" "$b"
	error_is 401 unauthorized "$m $p without a token: 401 unauthorized"
done <"$T/endpoints"

# Malformed Authorization headers, on a read endpoint and an admin one.
for p in /api/v1/events /api/v1/rules/aws-access-key-id/disable; do
	m=GET
	[ "$p" = /api/v1/events ] || m=POST
	req "$m" "$p" "" "" -H "Authorization: $ADMIN"
	error_is 401 unauthorized "$m $p, Authorization without 'Bearer': 401"
	req "$m" "$p" "" "" -H "Authorization: Basic $(printf 'admin:%s' "$ADMIN" | base64 -w0)"
	error_is 401 unauthorized "$m $p, Authorization: Basic: 401"
	req "$m" "$p" "" "" -H "Authorization: Bearer"
	error_is 401 unauthorized "$m $p, 'Bearer' with no token: 401"
	req "$m" "$p" "" "" -H "Authorization: Bearer $ADMIN $ADMIN"
	error_is 401 unauthorized "$m $p, 'Bearer TOKEN TOKEN': 401"
	req "$m" "$p" "" "" -H "Authorization: Token $ADMIN"
	error_is 401 unauthorized "$m $p, 'Token TOKEN' scheme: 401"
done
req GET "/api/v1/events?token=$ADMIN" ""
error_is 401 unauthorized "a token in the query string does not authenticate"
req GET "/api/v1/events" "" "" -H "X-Token: $ADMIN"
error_is 401 unauthorized "a token in another header does not authenticate"

# Unknown tokens.
req GET /api/v1/events "${ADMIN}x"
error_is 401 unauthorized "a token with one character more: 401"
req GET /api/v1/events "$(printf %s "$ADMIN" | sed 's/.$//')"
error_is 401 unauthorized "a token with one character less: 401"
req GET /api/v1/events "lgt_$(rand_chars 'a-f0-9' 48)"
error_is 401 unauthorized "a well-formed but unknown token: 401"
prefix=$("$LG" token list --db "$DB" --json | jq -r --arg id "$ADMIN_ID" '.[] | select((.id|tostring) == $id) | .prefix // empty')
if [ -n "$prefix" ]; then
	req GET /api/v1/events "$prefix"
	error_is 401 unauthorized "the prefix token list shows does not authenticate"
fi

# ---- revoked tokens ----

SOON=$(make_token admin "to revoke") || bail "token create failed"
req GET /api/v1/events "$SOON"
status_is 200 "a new admin token works at once (no restart)"
SOON_ID=$(token_id "$SOON")
"$LG" token revoke "$SOON_ID" --db "$DB" >"$T/revoke.out" 2>&1
is "$?" 0 "leakgate token revoke $SOON_ID succeeds" || diag_file "$T/revoke.out"
req GET /api/v1/events "$SOON"
error_is 401 unauthorized "a revoked token: 401 on GET"
req POST /api/v1/exemptions "$SOON" "$EX"
error_is 401 unauthorized "a revoked token: 401 on an admin endpoint"
req GET /api/v1/events "$ADMIN"
status_is 200 "revoking one token leaves the others working"
"$LG" token revoke 999999 --db "$DB" >"$T/revoke2.out" 2>&1
isnt "$?" 0 "token revoke of an unknown number fails"

# ---- read and admin roles ----

rget /api/v1/rules
status_is 200 "read token: GET /api/v1/rules 200"
rget /api/v1/rules/aws-access-key-id
status_is 200 "read token: GET /api/v1/rules/{id} 200"
rget /api/v1/exemptions
status_is 200 "read token: GET /api/v1/exemptions 200"
rget /api/v1/events
status_is 200 "read token: GET /api/v1/events 200"
rget /metrics
status_is 200 "read token: GET /metrics 200"
req POST /api/v1/scan "$READ" '{"text": "nothing here"}'
status_is 200 "read token: POST /api/v1/scan 200"
req POST /api/v1/rules/test "$READ" "{\"rule\": $RULE, \"text\": \"x\"}"
status_is 200 "read token: POST /api/v1/rules/test 200"

# An exemption to try to delete with the read token.
apost /api/v1/exemptions "$EX"
status_is 201 "admin token: POST /api/v1/exemptions 201"
EXID=$(jr .id)
rget "/api/v1/exemptions/$EXID"
status_is 200 "read token: GET /api/v1/exemptions/{id} 200"
apost /api/v1/rules "$RULE"
status_is 201 "admin token: POST /api/v1/rules 201"

while read -r m p b; do
	case "$m $p" in
	GET* | "POST /api/v1/scan" | "POST /api/v1/rules/test") continue ;;
	esac
	[ "$b" = - ] && b=""
	p=$(echo "$p" | sed "s|/exemptions/1|/exemptions/$EXID|")
	req "$m" "$p" "$READ" "$b"
	error_is 403 forbidden "read token: $m $p 403 forbidden"
done <"$T/endpoints"
aget "/api/v1/exemptions/$EXID"
status_is 200 "the exemption survived the read token's DELETE"
aget /api/v1/rules/aws-access-key-id
jis .enabled true "the rule is still enabled after the read token's disable"
aget /api/v1/rules/acme-auth
status_is 200 "the custom rule survived the read token's DELETE"

# ---- bodies ----

for p in /api/v1/scan /api/v1/exemptions /api/v1/rules /api/v1/rules/test; do
	apost "$p" '{"text": "abc"'
	error_is 400 bad_request "POST $p, truncated JSON: 400 bad_request"
	apost "$p" 'text=abc'
	error_is 400 bad_request "POST $p, not JSON: 400 bad_request"
done
apost /api/v1/scan '{"text": "a", "text": "b", }'
error_is 400 bad_request "POST /api/v1/scan, trailing comma: 400"
req POST /api/v1/scan "$ADMIN" "" -H 'Content-Type: application/json'
error_is 400 bad_request "POST /api/v1/scan with no body: 400"
apost /api/v1/scan '["text", "abc"]'
status_is "400|422" "POST /api/v1/scan, a JSON array instead of an object: 400/422"
apost /api/v1/scan '{"text": 42}'
status_is "400|422" "POST /api/v1/scan, text is a number: 400/422"
apost /api/v1/scan '{"text": "abc", "path": 7}'
status_is "400|422" "POST /api/v1/scan, path is a number: 400/422"
apost /api/v1/scan '{}'
status_is "400|422" "POST /api/v1/scan without text: 400/422"
apost /api/v1/rules/test '{"rule": "aws-access-key-id", "text": "x"}'
status_is "400|422" "POST /api/v1/rules/test, rule is a string: 400/422"
apost /api/v1/exemptions '{"fingerprint": "0123456789abcdef0123456789abcdef", "reason": 5}'
status_is "400|422" "POST /api/v1/exemptions, reason is a number: 400/422"
apost /api/v1/exemptions '{"fingerprint": ["0123456789abcdef0123456789abcdef"], "reason": "r"}'
status_is "400|422" "POST /api/v1/exemptions, fingerprint is a list: 400/422"

# Bad query parameters.
for q in "limit=abc" "limit=0" "limit=501" "limit=-1" "since=yesterday" "until=2026-13-45T99:00:00Z" \
	"cursor=not-a-cursor" "cursor=99999999999999999999999" "limit=99999999999999999999999" "kind=exploded"; do
	aget "/api/v1/events?$q"
	error_is 400 bad_request "GET /api/v1/events?$q: 400 bad_request"
done
aget "/api/v1/events?limit=500"
status_is 200 "GET /api/v1/events?limit=500: 200 (upper bound)"
aget "/api/v1/events?limit=1"
status_is 200 "GET /api/v1/events?limit=1: 200 (lower bound)"
aget "/api/v1/exemptions?expired=maybe"
error_is 400 bad_request "GET /api/v1/exemptions?expired=maybe: 400"

# Size limit: 1 MiB.
MIB=1048576
# Just under: a scan of almost 1 MiB of text is served.
{
	printf '{"text": "'
	head -c $((MIB - 200)) /dev/zero | tr '\0' 'a'
	printf '"}'
} >"$T/under.json"
apost /api/v1/scan "@$T/under.json"
status_is 200 "a body just under 1 MiB ($(wc -c <"$T/under.json") bytes) is accepted"
{
	printf '{"text": "'
	head -c "$MIB" /dev/zero | tr '\0' 'a'
	printf '"}'
} >"$T/over.json"
apost /api/v1/scan "@$T/over.json"
error_is 413 too_large "a body over 1 MiB ($(wc -c <"$T/over.json") bytes): 413 too_large"
req GET /healthz ""
status_is 200 "the daemon keeps serving after a 413"
req POST /api/v1/scan "$ADMIN" "@$T/over.json" -H 'Transfer-Encoding: chunked'
error_is 413 too_large "a chunked body over 1 MiB (no Content-Length): 413 too_large"
head -c $((8 * MIB)) /dev/zero | tr '\0' 'b' >"$T/big.bin"
apost /api/v1/rules "@$T/big.bin"
error_is 413 too_large "an 8 MiB body: 413 too_large"
req POST /api/v1/exemptions "$ADMIN" "@$T/big.bin" -H 'Transfer-Encoding: chunked'
error_is 413 too_large "an 8 MiB chunked body: 413 too_large"
aget /api/v1/events
status_is 200 "the daemon keeps serving authenticated requests after 413s"
req POST /api/v1/scan "$READ" "@$T/over.json"
error_is 413 too_large "an oversized body from a read token: 413 too"

# ---- unknown paths ----

for p in / /api /api/v1 /api/v1/ /api/v2/rules /api/v1/nothing /api/v1/rule /api/v1/Rules \
	/api/v1/rules/aws-access-key-id/frobnicate /api/v1/events/1/findings /api/v1/exemptions/1/x \
	/healthz/x /metrics/x /api/v1/scan/x /index.html; do
	aget "$p"
	error_is 404 not_found "GET $p: 404 not_found"
done
aget /api/v1/rules/no-such-rule
error_is 404 not_found "GET /api/v1/rules/no-such-rule: 404"

# ---- wrong methods ----

cat >"$T/methods" <<'EOF'
POST /healthz
DELETE /healthz
POST /metrics
DELETE /api/v1/rules
PATCH /api/v1/rules
PATCH /api/v1/rules/aws-access-key-id
POST /api/v1/rules/aws-access-key-id
GET /api/v1/rules/aws-access-key-id/disable
DELETE /api/v1/rules/aws-access-key-id/enable
GET /api/v1/scan
PUT /api/v1/scan
PUT /api/v1/exemptions
DELETE /api/v1/exemptions
POST /api/v1/exemptions/1
PUT /api/v1/exemptions/1
POST /api/v1/events
DELETE /api/v1/events
PUT /api/v1/events/1
DELETE /api/v1/events/1
EOF
while read -r m p; do
	req "$m" "$p" "$ADMIN" '{}'
	error_is 405 method_not_allowed "$m $p: 405 method_not_allowed"
done <"$T/methods"
req POST /healthz "" "{}"
grep -qiE '^allow: *GET' "$HDRS"
ok $? "a 405 answer says which methods are allowed (Allow: GET; RFC 9110 requires it)" || diag_file "$HDRS"
req GET /healthz ""
status_is 200 "still serving after all that"

# Several requests on one kept-alive connection.
codes=$(curl -s -m 10 -H "Authorization: Bearer $READ" -o /dev/null -o /dev/null -o /dev/null \
	-w '%{http_code} %{num_connects}\n' "$BASE/api/v1/events" "$BASE/api/v1/rules" "$BASE/healthz" 2>/dev/null |
	tr '\n' ' ')
is "$codes" "200 1 200 0 200 0 " "three requests on one connection (keep-alive) are all answered"
codes=$(curl -s -m 10 -H "Authorization: Bearer $READ" -o /dev/null -w '%{http_code} ' \
	--data-binary '{"text": "x"}' "$BASE/api/v1/scan" --next -H "Authorization: Bearer $READ" -o /dev/null \
	-w '%{http_code} ' "$BASE/api/v1/events" 2>/dev/null)
is "$codes" "200 200 " "a POST and then a GET on one connection"

# ---- the request log: one line per request, no tokens ----

marker="/api/v1/marker-$(rand_chars a-z 12)"
aget "$marker"
sleep 0.3
is "$(grep -cF -e "$marker" "$LGD_LOG")" 1 "one log line on standard error for one request"
lacks "$LGD_LOG" "$ADMIN" "the log never shows the admin token"
lacks "$LGD_LOG" "$READ" "the log never shows the read token"

api_done
