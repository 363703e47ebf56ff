#!/bin/sh
# leakgated: the exemptions endpoints (create, list with filters, one,
# delete) and their validation. Whether the hook honours them is in loop.sh.
. "$(dirname "$0")/lib.sh"

ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"
start_daemon || bail "leakgated did not start"

fp() { rand_chars 'a-f0-9' 32; }
now=$(date +%s)
FP1=$(fp)
FP2=$(fp)
FP3=$(fp)

aget /api/v1/exemptions
status_is 200 "GET /api/v1/exemptions on a new database: 200"
jis '.exemptions | length' 0 "no exemptions yet"

# ---- create ----

apost /api/v1/exemptions "{\"fingerprint\": \"$FP1\", \"reason\": \"test fixture, not a real key\"}"
status_is 201 "POST with fingerprint and reason: 201"
E1=$(jr .id)
jtrue '(.id | type == "number") and .fingerprint == "'"$FP1"'" and .reason == "test fixture, not a real key"' \
	"the answer is the exemption: id, fingerprint, reason"
jis .repo "*" "the repository glob defaults to *"
jtrue '.expires == null' "no expiry unless given"

future=$((now + 30 * 86400))
future_rfc=$(date -u -d "@$future" +%Y-%m-%dT%H:%M:%SZ)
apost /api/v1/exemptions "{\"rule_id\": \"aws-access-key-id\", \"path\": \"docs/*.md\", \"repo\": \"other/*\",
	\"reason\": \"sample keys in the docs\", \"expires\": \"$future_rfc\"}"
status_is 201 "POST with rule_id, path, repo and an RFC 3339 expiry: 201"
E2=$(jr .id)
jtrue '.rule_id == "aws-access-key-id" and .path == "docs/*.md" and .repo == "other/*" and .expires != null' \
	"the answer has rule_id, path glob, repo glob and the expiry"

apost /api/v1/exemptions "{\"path\": \"fixtures/**\", \"repo\": \"team/*\", \"reason\": \"fixtures\", \"expires\": $future}"
status_is 201 "POST with a path only and Unix-seconds expiry: 201"
E3=$(jr .id)
e3_expires=$(jr .expires)

past=$((now - 3600))
apost /api/v1/exemptions "{\"fingerprint\": \"$FP2\", \"reason\": \"old\", \"expires\": $past}"
status_is 422 "POST with an expiry in the past: 422 (it would never apply)"
jtrue 'any(.error.details[]; .field == "expires")' "naming the field expires"
past_rfc=$(date -u -d "@$((now - 7200))" +%Y-%m-%dT%H:%M:%S+00:00)
apost /api/v1/exemptions "{\"fingerprint\": \"$FP3\", \"reason\": \"old\", \"expires\": \"$past_rfc\"}"
status_is 422 "the same with an RFC 3339 expiry in the past"
# Two that expire later; then their time passes (the database is moved on).
soon=$((now + 3600))
apost /api/v1/exemptions "{\"fingerprint\": \"$FP2\", \"reason\": \"old\", \"expires\": $soon}"
status_is 201 "POST with an expiry an hour ahead: 201"
E4=$(jr .id)
later=$((now + 3 * 3600))
soon_rfc=$(date -u -d "@$later" +%Y-%m-%dT%H:%M:%S+02:00)
apost /api/v1/exemptions "{\"fingerprint\": \"$FP3\", \"rule_id\": \"github-pat-classic\", \"reason\": \"old too\",
	\"expires\": \"$soon_rfc\"}"
status_is 201 "POST with an RFC 3339 expiry with an offset: 201"
jis .expires "$(date -u -d "@$((later - 7200))" +%Y-%m-%dT%H:%M:%SZ)" "the offset is applied (+02:00 is two hours earlier in UTC)"
E5=$(jr .id)
sqlite3 "$DB" "UPDATE exemptions SET expires_ms = $(((now - 3600) * 1000)) WHERE id IN ($E4, $E5)"

apost /api/v1/exemptions "{\"path\": \"x/*\", \"reason\": \"fractions\", \"expires\": \"$(date -u -d "@$future" +%Y-%m-%dT%H:%M:%S).250Z\"}"
status_is 201 "an RFC 3339 expiry with fractional seconds: 201"
[ "$code" = 201 ] && adel "/api/v1/exemptions/$(jr .id)"
REASON='Testdaten – kein echter Schlüssel ✓ "quoted" \\ back'
apost /api/v1/exemptions "$(jq -cn --arg r "$REASON" '{path: "unicode/*", reason: $r}')"
status_is 201 "a reason with non-ASCII characters, quotes and a backslash: 201"
EU=$(jr .id)
aget "/api/v1/exemptions/$EU"
is "$(jr .reason)" "$REASON" "the reason comes back exactly"
adel "/api/v1/exemptions/$EU"

ids="$E1 $E2 $E3 $E4 $E5"
[ "$(printf '%s\n' $ids | sort -u | grep -c .)" = 5 ]
ok $? "five distinct ids ($ids)"

# The two forms of the same instant are the same expiry.
apost /api/v1/exemptions "{\"path\": \"fixtures/**\", \"repo\": \"team/*\", \"reason\": \"same\", \"expires\": \"$(date -u -d "@$future" +%Y-%m-%dT%H:%M:%SZ)\"}"
[ -n "$e3_expires" ] && [ "$e3_expires" != null ] && [ "$(jr .expires)" = "$e3_expires" ]
ok $? "Unix seconds and RFC 3339 give the same expiry ($e3_expires, $(jr .expires))"
adel "/api/v1/exemptions/$(jr .id)"

# ---- one ----

rget "/api/v1/exemptions/$E2"
status_is 200 "GET /api/v1/exemptions/$E2 (read token): 200"
jtrue ".id == $E2 and .rule_id == \"aws-access-key-id\" and .path == \"docs/*.md\" and .repo == \"other/*\" and
	.reason == \"sample keys in the docs\"" "GET of one gives what was created"
aget /api/v1/exemptions/999999
error_is 404 not_found "GET of an unknown exemption: 404"
aget /api/v1/exemptions/abc
status_is "400|404" "GET /api/v1/exemptions/abc: 400/404"

# ---- list and filters ----

# ids_are FILTER_DESC EXPECTED_IDS...: the last list holds exactly these ids.
ids_are() {
	_desc=$1
	shift
	_want=$(printf '%s\n' "$@" | sort -n | tr '\n' ' ')
	_got=$(jr '.exemptions[].id' | sort -n | tr '\n' ' ')
	is "$_got" "$_want" "$_desc"
}
rget /api/v1/exemptions
status_is 200 "GET /api/v1/exemptions (read token): 200"
ids_are "the list has all five" $ids
rget "/api/v1/exemptions?rule=aws-access-key-id"
ids_are "rule=aws-access-key-id: only that rule's exemption" "$E2"
rget "/api/v1/exemptions?rule=github-pat-classic"
ids_are "rule=github-pat-classic: only that one" "$E5"
rget "/api/v1/exemptions?expired=true"
ids_are "expired=true: the two past ones" "$E4" "$E5"
rget "/api/v1/exemptions?expired=false"
ids_are "expired=false: the three in force" "$E1" "$E2" "$E3"
jtrue 'all(.exemptions[]; .expired != true)' "none of those is marked expired"
rget "/api/v1/exemptions?expired=true&rule=github-pat-classic"
ids_are "expired=true&rule=github-pat-classic: filters combine" "$E5"
rget "/api/v1/exemptions?repo=other/*"
jtrue "any(.exemptions[]; .id == $E2)" "repo=other/*: has the other/* exemption"
jtrue "all(.exemptions[]; .id != $E3)" "repo=other/*: not the team/* one"
rget "/api/v1/exemptions?repo=team/*"
jtrue "any(.exemptions[]; .id == $E3) and all(.exemptions[]; .id != $E2)" "repo=team/*: the team/* one, not other/*"

# ---- validation ----

# bad DESC BODY [FIELD]: 422 invalid (a detail for FIELD when given).
bad() {
	apost /api/v1/exemptions "$2"
	if [ "$code" = 422 ] && [ "$(jr .error.code)" = invalid ] &&
		{ [ -z "${3:-}" ] || jq_ok --arg f "$3" 'any(.error.details[]; .field == $f)' "$RESP"; }; then
		pass "$1: 422 invalid${3:+ naming $3}"
	else
		fail "$1: 422 invalid${3:+ naming $3}"
		diag "  status $code; body:"
		diag_file "$RESP" 20
	fi
}
bad "no reason" "{\"fingerprint\": \"$FP1\"}" reason
bad "an empty reason" "{\"fingerprint\": \"$FP1\", \"reason\": \"\"}" reason
bad "none of fingerprint, rule_id, path" '{"repo": "*", "reason": "everything"}'
bad "an expiry that is not a time" "{\"fingerprint\": \"$FP1\", \"reason\": \"r\", \"expires\": \"next tuesday\"}" expires
apost /api/v1/exemptions "{\"fingerprint\": \"$FP1\", \"reason\": \"r\", \"expires\": true}"
status_is "400|422" "an expiry that is a boolean: 400/422"
apost /api/v1/exemptions "{\"fingerprint\": \"$FP1\", \"reason\": \"r\", \"repo\": 5}"
status_is "400|422" "a repo that is a number: 400/422"
apost /api/v1/exemptions '{"rule_id": {"id": "x"}, "reason": "r"}'
status_is "400|422" "a rule_id that is an object: 400/422"
aget /api/v1/exemptions
ids_are "nothing invalid was stored" $ids

# ---- delete ----

adel "/api/v1/exemptions/$E1"
status_is "200|204" "DELETE /api/v1/exemptions/$E1: 200/204"
aget "/api/v1/exemptions/$E1"
error_is 404 not_found "GET after DELETE: 404"
adel "/api/v1/exemptions/$E1"
error_is 404 not_found "DELETE again: 404"
adel /api/v1/exemptions/999999
error_is 404 not_found "DELETE of an unknown id: 404"
aget /api/v1/exemptions
ids_are "the list lost exactly that one" "$E2" "$E3" "$E4" "$E5"

# The CLI sees the same exemptions.
"$LG" exemptions list --db "$DB" >"$T/cli.txt" 2>&1
contains "$T/cli.txt" "docs/*.md" "leakgate exemptions list shows an exemption made through the API"

api_done
