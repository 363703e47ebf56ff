#!/bin/sh
# One operations layer (issue 9): the same sequence of changes made through
# the CLI (leakgate, on one database) and through the API (leakgated, on
# another) leaves the same state: custom rules, rule states, exemptions and
# tokens, row for row. Refused changes are refused by both, and change
# nothing in either.
. "$(dirname "$0")/lib.sh"

start_daemon || bail "leakgated does not start"
ADMIN=$(make_token admin ops) || bail "no admin token"
CDB=$T/cli.db
"$LG" token create --role admin --name ops --db "$CDB" >/dev/null 2>&1 || bail "no CLI database"

# cli ARGS...: leakgate ARGS on the CLI's database; status in $rc.
cli() {
	run "$LG" "$@" --db "$CDB"
}

RA=$(acme_rule acme-internal)
RB=$(rule_json acme-other '\b(acmo_[a-z0-9]{20})\b' "k = acmo_q8x2m4k9z7w3v5t1r6y0" "acmo_7h3k9m2q5w8z1x4c6v0b" \
	"acmo_short" "acmo_Q8X2M4K9Z7W3V5T1R6Y0")
pack() {
	printf '{"pack": "custom", "rules": [%s]}\n' "$(printf '%s\n' "$@" | paste -sd, -)"
}

# 1. two custom rules
pack "$RA" "$RB" >"$T/p1.json"
cli rules add "$T/p1.json"
is "$rc" 0 "CLI: rules add of two rules"
apost /api/v1/rules "$RA"
status_is 201 "API: POST the first"
apost /api/v1/rules "$RB"
status_is 201 "API: POST the second"

# 2. one of them replaced
RA2=$(printf '%s' "$RA" | jq -c '.severity = "critical" | .description = "Replaced."')
pack "$RA2" >"$T/p2.json"
cli rules add "$T/p2.json"
is "$rc" 0 "CLI: rules add replaces a rule"
req PUT /api/v1/rules/acme-internal "$ADMIN" "$RA2"
status_is 200 "API: PUT replaces it"

# 3. refused changes: a built-in rule's id, a pattern Hyperscan refuses
BAD_ID=$(printf '%s' "$RB" | jq -c '.id = "github-pat-classic"')
pack "$BAD_ID" >"$T/p3.json"
cli rules add "$T/p3.json"
isnt "$rc" 0 "CLI: a built-in rule's id is refused"
apost /api/v1/rules "$BAD_ID"
status_is 409 "API: refused too (409)"
BAD_PAT=$(printf '%s' "$RB" | jq -c '.pattern = "(?<=x)acmo_[a-z0-9]{20}"')
pack "$BAD_PAT" >"$T/p4.json"
cli rules add "$T/p4.json"
isnt "$rc" 0 "CLI: a replacement with an invalid pattern is refused"
req PUT /api/v1/rules/acme-other "$ADMIN" "$BAD_PAT"
status_is 422 "API: refused too (422)"

# 4. states
cli rules disable acme-other
is "$rc" 0 "CLI: disable a custom rule"
apost /api/v1/rules/acme-other/disable ""
status_is 200 "API: disable it"
cli rules disable aws-access-key-id
is "$rc" 0 "CLI: disable a built-in rule"
apost /api/v1/rules/aws-access-key-id/disable ""
status_is 200 "API: disable it"
cli rules disable slack-bot-token
apost /api/v1/rules/slack-bot-token/disable ""
cli rules enable slack-bot-token
is "$rc" 0 "CLI: enable it again"
apost /api/v1/rules/slack-bot-token/enable ""
status_is 200 "API: enable it again"
cli rules disable no-such-rule
isnt "$rc" 0 "CLI: disabling an unknown rule is refused"
apost /api/v1/rules/no-such-rule/disable ""
status_is 404 "API: refused too (404)"

# 5. a rule removed
cli rules remove acme-internal
is "$rc" 0 "CLI: remove a custom rule"
adel /api/v1/rules/acme-internal
status_is 200 "API: remove it"
cli rules remove github-pat-classic
isnt "$rc" 0 "CLI: a built-in rule cannot be removed"
adel /api/v1/rules/github-pat-classic
status_is 409 "API: refused too (409)"

# 6. exemptions
FP=0123456789abcdef0123456789abcdef
cli exemptions add --rule acme-other --repo 'team/*' --path 'test/**' --reason "fixtures" \
	--expires 2031-05-01T00:00:00Z
is "$rc" 0 "CLI: exemption by rule, repository and path"
apost /api/v1/exemptions '{"rule_id": "acme-other", "repo": "team/*", "path": "test/**", "reason": "fixtures",
	"expires": "2031-05-01T00:00:00Z"}'
status_is 201 "API: the same"
cli exemptions add --fingerprint "$FP" --reason "known test key"
is "$rc" 0 "CLI: exemption by fingerprint"
apost /api/v1/exemptions "{\"fingerprint\": \"$FP\", \"reason\": \"known test key\"}"
status_is 201 "API: the same"
cli exemptions add --fingerprint "XYZ$FP" --reason "bad"
isnt "$rc" 0 "CLI: a malformed fingerprint is refused"
apost /api/v1/exemptions "{\"fingerprint\": \"XYZ$FP\", \"reason\": \"bad\"}"
status_is 422 "API: refused too"
cli exemptions add --rule acme-other --reason "old" --expires 2020-01-01
isnt "$rc" 0 "CLI: an expiry in the past is refused"
apost /api/v1/exemptions '{"rule_id": "acme-other", "reason": "old", "expires": "2020-01-01"}'
status_is 422 "API: refused too"
cli exemptions add --rule acme-internal --reason "gone"
isnt "$rc" 0 "CLI: an exemption for a removed rule is refused"
apost /api/v1/exemptions '{"rule_id": "acme-internal", "reason": "gone"}'
status_is 422 "API: refused too"
cli exemptions remove 1
is "$rc" 0 "CLI: remove the first exemption"
adel /api/v1/exemptions/1
status_is 200 "API: remove it"

# 7. tokens
cli token create --role read --name viewer
is "$rc" 0 "CLI: a read token"
apost /api/v1/tokens '{"role": "read", "name": "viewer"}'
if [ "$code" = 404 ]; then
	# Tokens are made on the host only (the API does not hand them out).
	"$LG" token create --role read --name viewer --db "$DB" >/dev/null 2>&1
fi
cli token revoke 2
is "$rc" 0 "CLI: revoke it"
"$LG" token revoke 2 --db "$DB" >/dev/null 2>&1

# The state, row for row, without times and who made each change.
state() {
	_tab=$(printf '\t')
	sqlite3 -separator "$_tab" "$1" "SELECT 'rule', id, json FROM rules ORDER BY id" | while IFS=$_tab read -r kind id json; do
		printf '%s %s %s\n' "$kind" "$id" "$(printf '%s' "$json" | jq -cS .)"
	done
	sqlite3 "$1" "SELECT 'state', id, enabled FROM rule_states ORDER BY id;
		SELECT 'exemption', id, repo_glob, fingerprint, rule_id, path_glob, reason, expires_ms,
			created_by <> '' FROM exemptions ORDER BY id;
		SELECT 'token', id, name, role, revoked_ms IS NULL FROM tokens ORDER BY id"
}
state "$CDB" >"$T/cli.state"
state "$DB" >"$T/api.state"
if cmp -s "$T/cli.state" "$T/api.state"; then
	pass "the CLI and the API leave the same state ($(wc -l <"$T/cli.state") rows)"
else
	fail "the CLI and the API leave the same state"
	diff "$T/cli.state" "$T/api.state" | head -20 | awk '{print "#   " $0}'
fi
grep -c '^rule ' "$T/cli.state" >"$T/n"
is "$(cat "$T/n")" 1 "one custom rule is left"
is "$(grep "^state|" "$T/cli.state" | tr '\n' ' ')" \
	"state|acme-other|0 state|aws-access-key-id|0 state|slack-bot-token|1 " "the rule states are as changed"
is "$(grep -c "^exemption|" "$T/cli.state")" 1 "one exemption is left"
grep '^rule ' "$T/cli.state" | grep -q '"acmo_' 
ok $? "the rule left is acme-other, as first added"

api_done
