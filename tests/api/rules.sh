#!/bin/sh
# leakgated: the rules endpoints (list, one, add, replace, delete, disable,
# enable, test) and POST /api/v1/scan with the live rule set.
. "$(dirname "$0")/lib.sh"

ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"
start_daemon || bail "leakgated did not start"

# scan_json TEXT [PATH]: the body of a scan request.
scan_json() {
	if [ $# -ge 2 ]; then
		jq -cn --arg t "$1" --arg p "$2" '{text: $t, path: $p}'
	else
		jq -cn --arg t "$1" '{text: $t}'
	fi
}
# scan_rules TEXT [PATH]: POST /api/v1/scan (read token); the rule ids found, sorted, one a line.
scan_rules() {
	req POST /api/v1/scan "$READ" "$(scan_json "$@")"
	jr '[.findings[].rule_id] | unique | .[]'
}
# has_rule LIST ID: ID is one of the lines of LIST.
has_rule() {
	printf '%s\n' "$1" | grep -qxF -e "$2"
}
health() {
	req GET /healthz ""
	jr "$1"
}

# ---- list and one ----

aget /api/v1/rules
status_is 200 "GET /api/v1/rules: 200"
jtrue '(.rules | type == "array") and (.rules | length) > 100' "the list has the built-in rules (over 100)"
jtrue 'all(.rules[]; (.id | type == "string") and (.name | type == "string") and
	(.severity | IN("critical", "high", "medium", "low")) and (.source | IN("builtin", "custom")) and
	(.enabled | type == "boolean"))' "every summary has id, name, severity, source, enabled"
jtrue '.rules | map(.id) | length == (unique | length)' "ids in the list are unique"
jtrue 'any(.rules[]; .id == "aws-access-key-id" and .source == "builtin" and .enabled == true)' \
	"aws-access-key-id is listed as a built-in, enabled"
jtrue 'all(.rules[]; .source == "builtin")' "before any change every rule is built-in"
nbuiltin=$(jr '.rules | length')
is "$(health .rules)" "$nbuiltin" "/healthz counts as many rules as the list has"
hash0=$(health .ruleset)

aget /api/v1/rules/aws-access-key-id
status_is 200 "GET /api/v1/rules/aws-access-key-id: 200"
jtrue '.id == "aws-access-key-id" and .source == "builtin" and .enabled == true and .severity == "critical" and
	(.name | length) > 0' "one built-in rule: id, name, severity, source, enabled"
rget /api/v1/rules/aws-access-key-idx
error_is 404 not_found "GET of an unknown rule id: 404"

# ---- scan ----

K=$(fake_aws_key)
scan_rules "config: aws_access_key_id = $K" >/dev/null
status_is 200 "POST /api/v1/scan: 200"
jtrue 'any(.findings[]; .rule_id == "aws-access-key-id")' "the scan finds the fake AWS key"
jtrue 'all(.findings[]; (.fingerprint | test("^[0-9a-f]{32}$")) and (.preview | type == "string"))' \
	"findings carry a 32-hex fingerprint and a preview"
lacks "$RESP" "$K" "the scan answer never contains the raw key"
# The text is scanned as the hook scans a file: its base64 too.
B64=$(printf 'aws_access_key_id = %s\n' "$K" | base64 -w0)
scan_rules "data:
  cfg: $B64" >/dev/null
status_is 200 "POST /api/v1/scan with base64 text: 200"
jtrue 'any(.findings[]; .rule_id == "aws-access-key-id" and .encoding == "base64" and .line == 2)' \
	"the scan decodes base64 and names the encoding and the line"
lacks "$RESP" "$K" "and never shows the raw key"
preview=$(jr '[.findings[] | select(.rule_id == "aws-access-key-id")][0].preview')
fp1=$(jr '[.findings[] | select(.rule_id == "aws-access-key-id")][0].fingerprint')
[ -n "$preview" ] && [ "$preview" != "$K" ] && case "$K" in *"$preview"*) false ;; *) true ;; esac
ok $? "the preview is redacted ($preview)"
scan_rules "another file: $K" >/dev/null
is "$(jr '[.findings[] | select(.rule_id == "aws-access-key-id")][0].fingerprint')" "$fp1" \
	"the same key has the same fingerprint in another text"
K2=$(fake_aws_key)
scan_rules "aws_access_key_id = $K2" >/dev/null
isnt "$(jr '[.findings[] | select(.rule_id == "aws-access-key-id")][0].fingerprint')" "$fp1" \
	"another key has another fingerprint"
found=$(scan_rules "the docs use aws_access_key_id = AKIAIOSFODNN7EXAMPLE as their sample")
has_rule "$found" aws-access-key-id
is "$?" 1 "the documented sample key is not reported"
req POST /api/v1/scan "$READ" '{"text": "just some ordinary prose, nothing secret"}'
jis '.findings | length' 0 "a clean text has no findings"
# path: a path rule fires on the path given.
sshkey=$(jq -r '.rules[] | select(.id == "ssh-private-key-file") | .examples[0].text' "$RULES_DIR"/*.json)
has_rule "$(scan_rules "$sshkey" "deploy/.ssh/id_rsa")" ssh-private-key-file
ok $? "scan with path deploy/.ssh/id_rsa: the path rule ssh-private-key-file fires"
has_rule "$(scan_rules "$sshkey" "deploy/.ssh/id_rsa.pub")" ssh-private-key-file
is "$?" 1 "scan with path id_rsa.pub: the path rule does not fire"

# ---- add a custom rule ----

ACME=$(acme_rule acme-internal)
A1=$(acme_token)
has_rule "$(scan_rules "key = $A1")" acme-internal
is "$?" 1 "before the rule exists, an acme token is not found"
apost /api/v1/rules "$ACME"
status_is 201 "POST /api/v1/rules with a valid rule: 201"
jtrue '.. | objects | select(.id? == "acme-internal")' "the 201 answer has the rule"
aget /api/v1/rules/acme-internal
status_is 200 "GET /api/v1/rules/acme-internal: 200"
jtrue '.id == "acme-internal" and .source == "custom" and .enabled == true and .severity == "high"' \
	"the custom rule: source custom, enabled"
jq -S . >"$T/want.json" <<EOF
$ACME
EOF
jq -S .rule "$RESP" >"$T/got.json" 2>/dev/null
cmp -s "$T/want.json" "$T/got.json"
ok $? "GET of a custom rule includes its full JSON under \"rule\"" || {
	diag "  sent:"
	diag_file "$T/want.json"
	diag "  got:"
	diag_file "$T/got.json"
}
aget /api/v1/rules
jtrue 'any(.rules[]; .id == "acme-internal" and .source == "custom" and .enabled == true)' \
	"the list has the custom rule"
is "$(jr '.rules | length')" "$((nbuiltin + 1))" "the list grew by one"
is "$(health .rules)" "$((nbuiltin + 1))" "/healthz counts one more rule"
hash1=$(health .ruleset)
isnt "$hash1" "$hash0" "the rule set hash changed"
found=$(scan_rules "key = $A1")
has_rule "$found" acme-internal
ok $? "the new rule is live at once: /scan finds an acme token"
lacks "$RESP" "$A1" "the answer does not contain the acme token"

apost /api/v1/rules "$ACME"
error_is 409 conflict "POST of the same id again: 409 conflict"
BUILTIN_ID=$(acme_rule aws-access-key-id)
apost /api/v1/rules "$BUILTIN_ID"
error_is 409 conflict "POST of a rule with a built-in id: 409 conflict"
aget /api/v1/rules/aws-access-key-id
jis .source builtin "the built-in rule is untouched"

# ---- invalid rules: 422 with every problem, naming rule and field ----

# bad_rule DESC FIELD JQ_EDIT: POST the acme rule (id acme-bad) changed by
# JQ_EDIT; expect 422 invalid_rule with a detail for acme-bad and FIELD
# (or an element of it: "examples[1]").
bad_rule() {
	_body=$(printf '%s' "$(acme_rule acme-bad)" | jq -c "$3")
	apost /api/v1/rules "$_body"
	if [ "$code" = 422 ] && [ "$(jr .error.code)" = invalid_rule ] &&
		jq_ok --arg f "$2" 'any(.error.details[]; .rule_id == "acme-bad" and (.field == $f or (.field | startswith($f + "["))) and
			(.message | type == "string") and (.message | length) > 0)' "$RESP"; then
		pass "$1: 422 invalid_rule naming acme-bad and field $2"
	else
		fail "$1: 422 invalid_rule naming acme-bad and field $2"
		diag "  status $code; body:"
		diag_file "$RESP" 20
	fi
}
bad_rule "a pattern that is not a regular expression" pattern '.pattern = "\\b(acme_[a-z0-9]{24}\\b"'
bad_rule "an unterminated class" pattern '.pattern = "acme_[a-z0-9"'
bad_rule "a look-behind (PCRE has it, Hyperscan does not)" pattern '.pattern = "(?<=token=)acme_[a-z0-9]{24}"'
bad_rule "a back-reference" pattern '.pattern = "(acme)_[a-z0-9]{24}\\1"'
bad_rule "a positive example that does not match" examples \
	'.examples[1] = "nothing that looks like the token at all"'
bad_rule "a negative example that matches" negative_examples \
	'.negative_examples[0] = "token = acme_z8x2m4k9q7w3v5t1r6y0p2n8"'
bad_rule "one example only" examples '.examples = [.examples[0]]'
bad_rule "no remediation" remediation 'del(.remediation)'
bad_rule "no name" name 'del(.name)'
bad_rule "an unknown severity" severity '.severity = "urgent"'
bad_rule "a severity that is a number" severity '.severity = 5'
bad_rule "a misspelt field (min_entopy)" min_entopy '.min_entopy = 3.0'
bad_rule "a secret_group beyond the groups" secret_group '.secret_group = 4'

# Every problem, not just the first.
body=$(printf '%s' "$(acme_rule acme-bad)" | jq -c 'del(.description) | del(.remediation)')
apost /api/v1/rules "$body"
status_is 422 "a rule missing two fields: 422"
jtrue '([.error.details[].field] | index("description") != null) and
	([.error.details[].field] | index("remediation") != null)' "the details list both missing fields"
body=$(printf '%s' "$(acme_rule acme-bad)" | jq -c 'del(.pattern)')
apost /api/v1/rules "$body"
error_is 422 invalid_rule "a rule with neither pattern nor path: 422"
body=$(printf '%s' "$(acme_rule Acme_Bad)" | jq -c .)
apost /api/v1/rules "$body"
error_is 422 invalid_rule "an id with capitals and '_': 422"
jtrue 'any(.error.details[]; .field == "id")' "the detail names the field id"
apost /api/v1/rules '{"id": "acme-bad"}'
error_is 422 invalid_rule "a rule with only an id: 422"
apost /api/v1/rules '{"id": "acme-bad", "name": 7, "description": [], "severity": "low", "pattern": 5,
	"remediation": "x", "examples": "a", "negative_examples": {}}'
status_is "400|422" "a rule with wrong types everywhere: 400/422"
aget /api/v1/rules
jtrue 'all(.rules[]; .id != "acme-bad" and .id != "Acme_Bad")' "no invalid rule was stored"
is "$(jr '.rules | length')" "$((nbuiltin + 1))" "the list still has one custom rule"
is "$(health .ruleset)" "$hash1" "the rule set hash is unchanged by rejected rules"

# ---- replace ----

NEW=$(printf '%s' "$ACME" | jq -c '.name = "ACME internal token v2" | .severity = "critical"')
req PUT /api/v1/rules/acme-internal "$ADMIN" "$NEW"
status_is 200 "PUT /api/v1/rules/acme-internal: 200"
aget /api/v1/rules/acme-internal
jtrue '.name == "ACME internal token v2" and .severity == "critical" and .rule.name == "ACME internal token v2"' \
	"GET shows the replaced rule"
BAD=$(printf '%s' "$ACME" | jq -c '.pattern = "(?<=x)acme_[a-z0-9]{24}"')
req PUT /api/v1/rules/acme-internal "$ADMIN" "$BAD"
status_is 422 "PUT with a look-behind: 422"
jtrue 'any(.error.details[]; .rule_id == "acme-internal" and .field == "pattern")' \
	"the detail names acme-internal and pattern"
aget /api/v1/rules/acme-internal
jis .name "ACME internal token v2" "a rejected PUT leaves the rule as it was"
has_rule "$(scan_rules "key = $A1")" acme-internal
ok $? "and still enforced"
req PUT /api/v1/rules/acme-nothing "$ADMIN" "$(acme_rule acme-nothing)"
error_is 404 not_found "PUT of an unknown id: 404"
aget /api/v1/rules/acme-nothing
status_is 404 "a PUT of an unknown id creates nothing"
req PUT /api/v1/rules/aws-access-key-id "$ADMIN" "$(acme_rule aws-access-key-id)"
case $code in
2??) fail "PUT over a built-in rule is refused (got $code)" ;;
*) pass "PUT over a built-in rule is refused ($code)" ;;
esac
aget /api/v1/rules/aws-access-key-id
jtrue '.source == "builtin" and .severity == "critical"' "the built-in rule is unchanged"

# ---- disable and enable ----

apost /api/v1/rules/aws-access-key-id/disable ""
status_is 200 "POST /api/v1/rules/aws-access-key-id/disable: 200"
aget /api/v1/rules/aws-access-key-id
jis .enabled false "GET shows the built-in rule disabled"
aget /api/v1/rules
jtrue 'any(.rules[]; .id == "aws-access-key-id" and .enabled == false)' "the list shows it disabled"
has_rule "$(scan_rules "aws_access_key_id = $K")" aws-access-key-id
is "$?" 1 "/scan no longer reports aws-access-key-id"
isnt "$(health .ruleset)" "$hash1" "disabling changes the rule set hash"
apost /api/v1/rules/aws-access-key-id/disable ""
status_is 200 "disabling it twice: 200"
apost /api/v1/rules/aws-access-key-id/enable ""
status_is 200 "POST /api/v1/rules/aws-access-key-id/enable: 200"
aget /api/v1/rules/aws-access-key-id
jis .enabled true "GET shows it enabled again"
has_rule "$(scan_rules "aws_access_key_id = $K")" aws-access-key-id
ok $? "/scan reports aws-access-key-id again"
apost /api/v1/rules/acme-internal/disable ""
status_is 200 "a custom rule can be disabled"
has_rule "$(scan_rules "key = $A1")" acme-internal
is "$?" 1 "/scan no longer finds acme tokens"
apost /api/v1/rules/acme-internal/enable ""
has_rule "$(scan_rules "key = $A1")" acme-internal
ok $? "enabled again, /scan finds them"
apost /api/v1/rules/no-such-rule/disable ""
error_is 404 not_found "disabling an unknown rule: 404"
apost /api/v1/rules/no-such-rule/enable ""
error_is 404 not_found "enabling an unknown rule: 404"

# PUT with another pattern: enforcement follows at once.
V2=$(rule_json acme-internal '\b(acme2_[a-z0-9]{24})\b' \
	"token = acme2_q8x2m4k9z7w3v5t1r6y0p2n8" "ACME_TOKEN=acme2_7h3k9m2q5w8z1x4c6v0b3n7m" \
	"acme2_short123" "token = acme_q8x2m4k9z7w3v5t1r6y0p2n8")
req PUT /api/v1/rules/acme-internal "$ADMIN" "$V2"
status_is 200 "PUT with a new pattern (acme2_...): 200"
has_rule "$(scan_rules "key = $A1")" acme-internal
is "$?" 1 "the old pattern is gone: acme_ tokens are not found"
has_rule "$(scan_rules "key = acme2_$(rand_chars 'a-z0-9' 24)")" acme-internal
ok $? "the new pattern is live: acme2_ tokens are found"
req PUT /api/v1/rules/acme-internal "$ADMIN" "$ACME"
status_is 200 "PUT back the first version"

# ---- delete ----

adel /api/v1/rules/aws-access-key-id
error_is 409 conflict "DELETE of a built-in rule: 409 conflict"
aget /api/v1/rules/aws-access-key-id
jtrue '.id == "aws-access-key-id" and .enabled == true' "the built-in rule is still there and enabled"
adel /api/v1/rules/acme-internal
status_is "200|204" "DELETE of the custom rule: 200/204"
aget /api/v1/rules/acme-internal
error_is 404 not_found "GET after DELETE: 404"
has_rule "$(scan_rules "key = $A1")" acme-internal
is "$?" 1 "/scan no longer finds acme tokens"
is "$(health .rules)" "$nbuiltin" "/healthz is back to the built-in count"
adel /api/v1/rules/acme-internal
error_is 404 not_found "DELETE again: 404"
apost /api/v1/rules "$ACME"
status_is 201 "the deleted id can be created again"
apost /api/v1/rules/acme-internal/disable ""
adel /api/v1/rules/acme-internal
apost /api/v1/rules "$ACME"
status_is 201 "a custom rule deleted while disabled can be created again"
aget /api/v1/rules/acme-internal
jis .enabled true "and the new rule is enabled (no state left from the old one)"
has_rule "$(scan_rules "key = $A1")" acme-internal
ok $? "and enforced"
adel /api/v1/rules/acme-internal

# ---- test a rule: nothing is saved ----

T1=$(acme_token)
body=$(jq -cn --argjson r "$(acme_rule acme-trial)" --arg t "line one
token: $T1" '{rule: $r, text: $t}')
req POST /api/v1/rules/test "$READ" "$body"
status_is 200 "POST /api/v1/rules/test: 200"
jtrue '.valid == true and (.problems | length) == 0' "a valid rule: valid true, no problems"
jtrue 'any(.findings[]; .rule_id == "acme-trial" and (.fingerprint | test("^[0-9a-f]{32}$")))' \
	"the text is scanned with the rule"
jtrue 'all(.findings[]; .rule_id == "acme-trial")' "with that rule alone"
lacks "$RESP" "$T1" "the answer does not contain the token"
aget /api/v1/rules/acme-trial
error_is 404 not_found "the tested rule was not saved (GET: 404)"
has_rule "$(scan_rules "token: $T1")" acme-trial
is "$?" 1 "the tested rule is not live"
body=$(jq -cn --argjson r "$(acme_rule acme-trial)" '{rule: $r}')
apost /api/v1/rules/test "$body"
jtrue '.valid == true and (.findings | length) == 0' "without text: valid, no findings"
body=$(jq -cn --argjson r "$(acme_rule acme-trial | jq -c '.pattern = "(?<=x)acme_[a-z0-9]{24}"')" \
	--arg t "token: $T1" '{rule: $r, text: $t}')
apost /api/v1/rules/test "$body"
status_is 200 "rules/test of an invalid rule: 200"
jtrue '.valid == false and any(.problems[]; .field == "pattern")' "valid false, the problem is in pattern"
body=$(jq -cn --argjson r "$(acme_rule acme-trial | jq -c '.examples[0] = "no token here"')" \
	'{rule: $r, text: "x"}')
apost /api/v1/rules/test "$body"
jtrue '.valid == false and any(.problems[]; .field | test("^examples(\\[|$)"))' \
	"a failing example: valid false, the problem is in examples"
aget /api/v1/rules/acme-trial
error_is 404 not_found "still nothing saved"
# A path rule, with the optional path.
PR=$(jq -cn '{id: "acme-secret-file", name: "ACME secret file", description: "A file of ACME secrets.",
	severity: "medium", path: "\\.acmesecret$", remediation: "Remove the file and rotate what is in it.",
	examples: [{path: "a/b.acmesecret", text: "x"}, {path: "c.acmesecret", text: "y"}],
	negative_examples: [{path: "a/b.txt", text: "x"}, {path: "acmesecret.md", text: "y"}]}')
apost /api/v1/rules/test "$(jq -cn --argjson r "$PR" '{rule: $r, text: "k=v", path: "deploy/prod.acmesecret"}')"
jtrue '.valid == true and any(.findings[]; .rule_id == "acme-secret-file")' "rules/test honours path (match)"
apost /api/v1/rules/test "$(jq -cn --argjson r "$PR" '{rule: $r, text: "k=v", path: "deploy/prod.txt"}')"
jtrue '.valid == true and (.findings | length) == 0' "rules/test honours path (no match)"

# ---- an id that is also a path word ----

# "test" is a valid rule id; /api/v1/rules/test is also the test endpoint.
apost /api/v1/rules "$(acme_rule test)"
case $code in
201)
	aget /api/v1/rules/test
	jtrue '.id == "test" and .source == "custom"' "a rule accepted with the id 'test' can be read at /api/v1/rules/test"
	adel /api/v1/rules/test
	status_is "200|204" "and deleted at /api/v1/rules/test"
	;;
4??)
	pass "the id 'test' is refused ($code)"
	jtrue '.error.code | type == "string"' "with an error body"
	;;
*)
	fail "POST of a rule with the id 'test': 201 or a refusal (got $code)"
	fail "(no second check)"
	;;
esac

api_done
