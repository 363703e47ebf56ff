#!/bin/bash
# `leakgate scan --format sarif`: valid SARIF 2.1.0, checked against the
# SARIF 2.1.0 JSON schema with Ajv and by Microsoft's SARIF Multitool, and
# consistent in itself and with the JSON report. TAP.
#
# The validators come from the npm registry, pinned in tests/scan/sarif/
# (package.json, package-lock.json), installed with `npm ci` into the build
# folder on the first run (about 45 MB, mostly the Multitool binary):
#   @microsoft/sarif-multitool-linux  Microsoft's SARIF SDK validator, and the
#                                     schema file: sarif-2.1.0.json, the OASIS
#                                     SARIF 2.1.0 schema (declared there as
#                                     JSON Schema 2020-12)
#   ajv, ajv-formats                  JSON schema validation (validate.js)
# Node.js and npm are required: without them this test fails, it does not
# skip.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # make check runs it with $(SHELL)
. "$(dirname "$0")/lib.sh"

for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "Bail out! '$tool' is not installed: the SARIF output cannot be validated (Node.js and npm are required)"
		exit 1
	fi
done

# ---- the validators ----
spec=$LEAKGATE_SRC/tests/scan/sarif
prefix=$LEAKGATE_BUILD/tests/scan-sarif
nm=$prefix/node_modules
stamp=$(cat "$spec/package.json" "$spec/package-lock.json" | sha256sum | cut -c1-16)
if [ ! -f "$nm/.leakgate-stamp" ] || [ "$(cat "$nm/.leakgate-stamp")" != "$stamp" ]; then
	mkdir -p "$prefix"
	cp "$spec/package.json" "$spec/package-lock.json" "$prefix/"
	if ! npm ci --prefix "$prefix" --ignore-scripts --no-audit --no-fund >"$T/npm.log" 2>&1; then
		echo "Bail out! npm ci of tests/scan/sarif failed: $(tail -3 "$T/npm.log" | tr '\n' ' ')"
		exit 1
	fi
	echo "$stamp" >"$nm/.leakgate-stamp"
fi
multitool=$nm/@microsoft/sarif-multitool-linux/Sarif.Multitool
chmod u+x "$multitool" 2>/dev/null # its install script, skipped by --ignore-scripts
pass "validators installed ($(node --version), ajv $(jq -r .version "$nm/ajv/package.json"), sarif-multitool $(jq -r .version "$nm/@microsoft/sarif-multitool-linux/package.json"))"

# ---- what is scanned ----
GHP=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
STRIPE=sk_live_NRB0tR1lirRVzYkBEyhiXUTd
SLACK=xoxb-464979954494-4947495692002-iDvDlr3qBiwBNPBACZMzla6M
PASSWORD=aWPPyOWF74MguQG3JS
ACME=acmelt_Zk3VbH7rMx2PqW9sLd5TfN8cJy4Gh6Rw
ACME_U8=acmeu8_Zk3VbH7rMx2PqW9sLd5TfN8cJy4Gh6Rw
SECRETS="GHP STRIPE SLACK PASSWORD ACME ACME_U8"

W=$T/work
mkdir -p "$W/src" "$W/conf" "$W/infra" "$W/docs" "$W/packs"
cat >"$W/src/app settings.py" <<EOF
import stripe

stripe.api_key = "$STRIPE"
DB_PASSWORD = "$PASSWORD"
EOF
printf 'notify:\n  slack: %s\n' "$SLACK" >"$W/conf/ключи.yml"
printf '{\n  "version": 4,\n  "resources": []\n}\n' >"$W/infra/terraform.tfstate"
# Non-ASCII before the secret: its byte and character columns differ.
printf '# Accès\n\nClé d’accès : %s\n' "$GHP" >"$W/docs/accès.md"
printf 'lookup_token=%s\n' "$ACME" >"$W/src/low.cfg"
cat >"$W/packs/acme.json" <<'EOF'
{
  "pack": "acme",
  "rules": [
    {
      "id": "acme-lookup-token",
      "name": "ACME read-only lookup token",
      "description": "Read-only token of the ACME lookup API.",
      "severity": "low",
      "pattern": "\\b(acmelt_[A-Za-z0-9]{32})\\b",
      "secret_group": 1,
      "remediation": "Rotate the token in the ACME console.",
      "examples": ["t=acmelt_Q3vX9kLm2PzR7tY1wB8nC4dF6gH0jK5s", "acmelt_a8Kd02LmQz71XcVb5NpR3tYw9EfGh4Ju"],
      "negative_examples": ["acmelt_", "acmelt_short"]
    }
  ]
}
EOF

cd "$W" || exit 1
lg_run findings scan --format sarif --rules packs/acme.json src conf infra docs
is "$RC" 1 "SARIF with findings: exit status 1"
cp "$OUT" "$T/findings.sarif"
lg_run findings_json scan --format json --rules packs/acme.json src conf infra docs
cp "$OUT" "$T/findings.json"
printf 'GITHUB_TOKEN=%s\n' "$GHP" >"$T/stdin.txt"
lg_run_in stdin "$T/stdin.txt" scan --format sarif -
is "$RC" 1 "SARIF of standard input: exit status 1"
cp "$OUT" "$T/stdin.sarif"
lg_run clean scan --format sarif packs
is "$RC" 0 "SARIF without findings: exit status 0"
cp "$OUT" "$T/clean.sarif"
lg_run error scan --format sarif src/nothing-here conf
is "$RC" 2 "SARIF with an unreadable path: exit status 2"
cp "$OUT" "$T/error.sarif"
cd - >/dev/null || exit 1
# A history scan (--git): results carry the commit, object and refs in their properties.
git -c init.defaultBranch=main init -q "$T/repo"
cp "$W/src/app settings.py" "$T/repo/settings.py"
git -C "$T/repo" add settings.py
git -C "$T/repo" -c user.name=t -c user.email=t@example.com commit -q -m "settings ($GHP)"
git -C "$T/repo" -c user.name=t -c user.email=t@example.com tag -a v1 -m "v1"
lg_run history scan --git --format sarif "$T/repo"
is "$RC" 1 "SARIF of a history scan: exit status 1"
cp "$OUT" "$T/history.sarif"
is "$(jq -r '[.runs[0].results[] | .properties.refs | join(",")] | unique | join(" ")' "$T/history.sarif")" "main,v1" \
	"SARIF of a history scan: each result names its refs"

# ---- the schema ----
node "$spec/validate.js" "$nm" "$T/findings.sarif" "$T/stdin.sarif" "$T/clean.sarif" "$T/error.sarif" "$T/history.sarif" >"$T/ajv.out" 2>&1
st=$?
grep -qx 'schema: Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema' "$T/ajv.out"
ok $? "the schema is the SARIF 2.1.0 JSON schema (not a pre-release draft)" || diag_file "$T/ajv.out"
for f in findings stdin clean error history; do
	grep -qx "valid $T/$f.sarif" "$T/ajv.out"
	ok $? "$f.sarif: valid against the SARIF 2.1.0 JSON schema (Ajv)" ||
		sed -n "/^invalid $(printf '%s' "$T/$f.sarif" | sed 's/[\/.]/\\&/g')\$/,/^[a-z]/p" "$T/ajv.out" | head -30 | sed 's/^/#   /'
done
[ "$st" -lt 2 ]
ok $? "Ajv ran (exit $st)" || diag_file "$T/ajv.out"

# Ajv must reject what breaks the schema, or the checks above prove nothing.
jq '.runs[0].results[0].level = "fatal" | .runs[0].results[0].locations[0].physicalLocation.region.startLine = 0' \
	"$T/findings.sarif" >"$T/broken.sarif"
node "$spec/validate.js" "$nm" "$T/broken.sarif" >"$T/ajv-broken.out" 2>&1
grep -q 'level: must be equal to one of the allowed values' "$T/ajv-broken.out" &&
	grep -q 'startLine: must be >= 1' "$T/ajv-broken.out"
ok $? "a broken log (level \"fatal\", startLine 0) is rejected, with both errors" || diag_file "$T/ajv-broken.out"

# Microsoft's validator: no error (schema or SARIF rule), on every log. It
# is a .NET program: invariant globalization spares it a need for libicu.
# It is not enough alone: a log with an unknown enum value ("fatal") passes
# it without a word, hence Ajv above; its control case is startLine 0 only.
jq '.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0' "$T/findings.sarif" >"$T/broken.sarif"
for f in findings stdin clean error history broken; do
	rm -f "$T/$f.mt.sarif"
	DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 timeout 120 "$multitool" validate --log ForceOverwrite -o "$T/$f.mt.sarif" "$T/$f.sarif" >"$T/$f.mt.out" 2>&1
	st=$?
	errs=$(jq -r '[.runs[0].results[]? | select(.level == "error")] | length' "$T/$f.mt.sarif" 2>/dev/null)
	if [ "$f" = broken ]; then
		[ "${errs:-0}" -ge 1 ]
		ok $? "broken.sarif: SARIF Multitool validate reports it (${errs:-?} errors)" || diag_file "$T/$f.mt.out"
		continue
	fi
	[ "$st" = 0 ] && [ "$errs" = 0 ]
	ok $? "$f.sarif: SARIF Multitool validate finds no error (exit $st, ${errs:-?} errors)" ||
		grep -E ': (error|warning) ' "$T/$f.mt.out" | cut -c1-300 | sed 's/^/#   /'
done
warns=$(jq -r '[.runs[0].results[]? | .ruleId] | unique | join(" ")' "$T/findings.mt.sarif" 2>/dev/null)
[ -n "$warns" ] && diag "SARIF Multitool warnings on findings.sarif: $warns"

# ---- the structure ----
S=$T/findings.sarif
jq -e '.version == "2.1.0" and (.runs | length) == 1 and .runs[0].tool.driver.name == "leakgate"
	and (.runs[0].tool.driver.version | type) == "string"' "$S" >/dev/null
ok $? "version 2.1.0, one run, tool.driver leakgate with a version"
jq -e '.runs[0] as $r | ($r.results | length) > 0 and all($r.results[];
	(.ruleIndex | type) == "number" and .ruleIndex >= 0 and .ruleIndex < ($r.tool.driver.rules | length)
	and $r.tool.driver.rules[.ruleIndex].id == .ruleId)' "$S" >/dev/null
ok $? "every result's ruleIndex points at an existing rule with its ruleId"
jq -e '.runs[0] | ([.tool.driver.rules[].id] | length == (unique | length))
	and ([.tool.driver.rules[].id] | sort) == ([.results[].ruleId] | unique)' "$S" >/dev/null
ok $? "rules: each once, exactly the rules that have results"
jq -e 'all(.runs[0].tool.driver.rules[]; (.shortDescription.text | length) > 0
	and (.fullDescription.text | length) > 0 and (.help.text | length) > 0
	and (.defaultConfiguration.level | IN("error", "warning", "note")))' "$S" >/dev/null
ok $? "rules: short and full description, help (the remediation), default level"
jq -e 'all(.runs[0].results[]; .locations[0].physicalLocation.region as $g | $g == null or
	($g.startLine >= 1 and $g.startColumn >= 1 and $g.endLine >= $g.startLine
	and ($g.endLine > $g.startLine or $g.endColumn > $g.startColumn)))' "$S" >/dev/null
ok $? "regions are 1-based and end after they start"
jq -e 'all(.runs[0].results[]; .partialFingerprints["leakgate/v1"] | test("^[0-9a-f]{32}$"))' "$S" >/dev/null
ok $? "every result has partialFingerprints[\"leakgate/v1\"]"
is "$(jq -r '.runs[0].invocations[0].executionSuccessful' "$S")" true "invocations: executionSuccessful true"
is "$(jq -r '.runs[0].invocations[0].executionSuccessful' "$T/error.sarif")" false "invocations: executionSuccessful false when a path could not be scanned"
is "$(jq -c '.runs[0] | [(.results | length), (.tool.driver.rules | length)]' "$T/clean.sarif")" "[0,0]" "no findings: empty results and rules"

# Against the JSON report of the same scan.
is "$(jq -r '.runs[0].results | length' "$S")" "$(jq -r '.findings | length' "$T/findings.json")" "as many results as the JSON report has findings"
# SARIF columns count characters and the JSON report's count bytes (checked
# below); the lines must agree.
jq -e --slurpfile j "$T/findings.json" '[.runs[0].results[] | {id: .ruleId, fp: .partialFingerprints["leakgate/v1"],
	r: (.locations[0].physicalLocation.region | if . == null then null else {startLine, endLine} end)}]
	== [$j[0].findings[] | {id: .rule_id, fp: .fingerprint,
	r: (if .line == null then null else {startLine: .line, endLine: .end_line} end)}]' "$S" >/dev/null
ok $? "results match the JSON findings: rule, fingerprint, lines" ||
	diag "$(jq -c '.runs[0].results[] | [.ruleId, .locations[0].physicalLocation.region]' "$S")"
jq -e --slurpfile j "$T/findings.json" '[.runs[0].results[] | .level] == [$j[0].findings[]
	| {critical: "error", high: "error", medium: "warning", low: "note"}[.severity]]' "$S" >/dev/null
ok $? "levels: critical and high are errors, medium warnings, low notes"
uris=$(jq -r '.runs[0].results[].locations[0].physicalLocation.artifactLocation.uri' "$S" |
	node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
		s.trim().split("\n").forEach(u => console.log(decodeURIComponent(u))))')
is "$uris" "$(jq -r '.findings[].path' "$T/findings.json")" "artifact URIs decode to the reported paths (spaces and unicode)"
jq -e 'all(.runs[0].results[].locations[0].physicalLocation.artifactLocation.uri; test("^[A-Za-z0-9._~/%-]+$"))' "$S" >/dev/null
ok $? "artifact URIs are percent-encoded (no space, no raw non-ASCII)"
is "$(jq -r '.runs[0].results[] | select(.ruleId == "terraform-state-file") | .locations[0].physicalLocation | has("region")' "$S")" false \
	"a path rule's result has a location without a region"
is "$(jq -r '.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri' "$T/stdin.sarif")" "-" \
	"standard input: the artifact URI is '-'"

# Columns: SARIF counts characters (UTF-16 code units unless the run says
# columnKind unicodeCodePoints), not bytes.
line=$(sed -n 3p "$W/docs/accès.md")
bytecol=$(jq -r '.findings[] | select(.rule_id == "github-pat-classic") | .column' "$T/findings.json")
charcol=$(($(printf '%s' "$line" | head -c $((bytecol - 1)) | LC_ALL=C.UTF-8 wc -m) + 1))
got=$(jq -r '.runs[0].results[] | select(.ruleId == "github-pat-classic") | .locations[0].physicalLocation.region.startColumn' "$S")
if [ "$got" = "$charcol" ]; then
	pass "a line with non-ASCII text before the secret: startColumn $got counts characters"
else
	fail "a line with non-ASCII text before the secret: startColumn $got, expected $charcol characters"
fi

# SARIF 3.49.7: a rule's name, when present, must differ from its id.
if jq -e 'all(.runs[0].tool.driver.rules[]; .name == null or .name != .id)' "$S" >/dev/null; then
	pass "rules: no 'name' identical to the 'id' (SARIF1001)"
else
	fail "rules: 'name' is identical to 'id' (SARIF 3.49.7, Multitool SARIF1001)"
fi

# Every built-in rule's examples: as many SARIF results as JSON findings.
node -e '
const fs = require("fs"), path = require("path");
const [rules, out] = process.argv.slice(1);
for (const f of fs.readdirSync(rules).filter(f => f.endsWith(".json")).sort())
	for (const r of JSON.parse(fs.readFileSync(path.join(rules, f), "utf8")).rules)
		r.examples.forEach((e, i) => {
			const p = path.join(out, `${r.id}-${i}`, typeof e === "string" ? "example.txt" : e.path);
			fs.mkdirSync(path.dirname(p), { recursive: true });
			fs.writeFileSync(p, typeof e === "string" ? e : e.text);
		});
' "$RULES_DIR" "$T/examples"
cd "$T/examples" || exit 1
lg_run examples_json scan --format json .
lg_run examples_sarif scan --format sarif .
cd - >/dev/null || exit 1
n_json=$(jq '.findings | length' "$T/log/examples_json.out")
n_sarif=$(jq '.runs[0].results | length' "$T/log/examples_sarif.out")
[ "$n_json" -gt 100 ] && [ "$n_sarif" = "$n_json" ]
ok $? "the built-in rules' examples: $n_sarif SARIF results for $n_json JSON findings"

# A message is cut at 512 bytes; a cut inside a UTF-8 character must not
# lose the result (two rule names, one byte apart, so that one cut lands
# inside a two-byte character).
for nm in "ACME token" "ACME tokens"; do
	jq -n --arg nm "$nm" --arg rem "Révoquez le jeton dans la console ACME, puis $(printf 'é%.0s' $(seq 300))" '{pack: "u8", rules: [{
		id: "acme-u8-token", name: $nm, description: "ACME token.", severity: "high",
		pattern: "\\b(acmeu8_[A-Za-z0-9]{32})\\b", secret_group: 1, remediation: $rem,
		examples: ["acmeu8_Q3vX9kLm2PzR7tY1wB8nC4dF6gH0jK5s", "k=acmeu8_a8Kd02LmQz71XcVb5NpR3tYw9EfGh4Ju"],
		negative_examples: ["acmeu8_", "acmeu8_short"]}]}' >"$T/u8.json"
	printf 'k=%s\n' "$ACME_U8" >"$T/u8.txt"
	lg_run "u8-${#nm}" scan --no-builtin --rules "$T/u8.json" --format sarif "$T/u8.txt"
	is "$RC:$(jq '.runs[0].results | length' "$OUT")" "1:1" \
		"a long non-ASCII remediation (rule name '$nm'): the result is in the SARIF log"
done

# ---- no raw secret ----
for s in $SECRETS; do
	no_secret_in_logs "${!s}" "no SARIF or JSON output holds the raw $s secret"
done

done_testing
