#!/bin/sh
# Settings from git config at every level: extra rule packs, disabled rules,
# global (user) config, and the database path from the environment.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
A=$COMMIT

# ---- an extra rule pack (leakgate.rules) ----
cat >"$T/acme.json" <<'PACK'
{
  "pack": "acme",
  "rules": [
    {
      "id": "acme-internal-token",
      "name": "ACME internal service token",
      "description": "Token for ACME's internal service mesh.",
      "severity": "high",
      "pattern": "\\b(acmetok_[a-z0-9]{24})\\b",
      "secret_group": 1,
      "min_entropy": 3.0,
      "remediation": "Revoke the token in the ACME console, then remove it from the history.",
      "examples": ["token = acmetok_q8w7e6r5t4y3u2i1o9p8a7s6", "acmetok_z1x2c3v4b5n6m7l8k9j0h1g2\n"],
      "negative_examples": ["acmetok_short", "token = acmetok_<your-token-here>"]
    }
  ]
}
PACK
acme="acmetok_$(rand_chars 'a-z0-9' 24)"
commit_file "$T/c" mesh.conf "service_token $acme" "mesh config"
push "$T/c" origin HEAD:refs/heads/probe1
is "$rc" 0 "without the extra pack, a custom token is accepted"
git -C "$T/c" reset -q --hard "$A"
commit_file "$T/c" mesh2.conf "service_token $acme" "mesh config again"
git -C "$SRV" config --add leakgate.rules "$T/acme.json"
push "$T/c" origin HEAD:refs/heads/probe2
isnt "$rc" 0 "with leakgate.rules, the custom token is rejected"
contains "$OUT" "] ACME internal service token (high)" "the custom rule is named"
contains "$OUT" "Revoke the token in the ACME console" "the custom remediation is shown"
is "$(ev_last findings | jq -r '.[0].rule_id')" acme-internal-token "the event records the custom rule"
# the built-in rules still apply alongside the extra pack
git -C "$T/c" reset -q --hard "$A"
commit_file "$T/c" gh.env "GITHUB_TOKEN=$(fake_github_token)" "github token"
push "$T/c" origin main
isnt "$rc" 0 "with an extra pack, built-in rules still apply"
git -C "$SRV" config --unset-all leakgate.rules
git -C "$T/c" reset -q --hard "$A"

# ---- leakgate.disableRule ----
key=$(fake_aws_key)
commit_file "$T/c" ids.txt "the id is $key" "aws id"
push "$T/c" origin main
isnt "$rc" 0 "an AWS key id is rejected"
contains "$OUT" "AWS access key ID" "by the AWS rule"
git -C "$SRV" config --add leakgate.disableRule aws-access-key-id
git -C "$SRV" config --add leakgate.disableRule github-pat-classic
push "$T/c" origin HEAD:refs/heads/probe5
is "$rc" 0 "with leakgate.disableRule=aws-access-key-id it is accepted" || diag_file "$OUT"
git -C "$T/c" reset -q --hard "$A"
commit_file "$T/c" gh.env "GITHUB_TOKEN_VALUE $(fake_github_token)" "github token"
push "$T/c" origin HEAD:refs/heads/probe3
is "$rc" 0 "a second disabled rule (multi-valued setting) is disabled too" || diag_file "$OUT"
git -C "$T/c" reset -q --hard "$A"
git -C "$SRV" config --unset-all leakgate.disableRule
stripe=$(fake_stripe_key)
commit_file "$T/c" s.env "STRIPE_SECRET_KEY=$stripe" "stripe"
push "$T/c" origin HEAD:refs/heads/probe4
isnt "$rc" 0 "other rules are unaffected"
git -C "$T/c" reset -q --hard "$A"

# ---- global (user-level) config applies to every repository ----
git config --global leakgate.maxReport 1
i=1
: >"$T/c/many.env"
while [ $i -le 3 ]; do
	printf 'TOKEN_%s=%s\n' "$i" "$(fake_github_token)" >>"$T/c/many.env"
	i=$((i + 1))
done
git -C "$T/c" add many.env
git -C "$T/c" commit -q -m "many"
push "$T/c" origin main
isnt "$rc" 0 "three tokens rejected"
is "$(grep -c '^remote: \[[0-9]*\] ' "$OUT")" 1 "leakgate.maxReport from the global config applies"
git -C "$SRV" config leakgate.maxReport 2
push "$T/c" origin main
is "$(grep -c '^remote: \[[0-9]*\] ' "$OUT")" 2 "the repository's setting overrides the global one"
git -C "$SRV" config --unset leakgate.maxReport
git config --global --unset leakgate.maxReport
git -C "$T/c" reset -q --hard "$A"

# ---- LEAKGATE_DB overrides leakgate.db (local pushes carry the environment) ----
commit_file "$T/c" ok.txt "ok" "ok"
before=$(ev_count)
run env LEAKGATE_DB="$T/env.db" git -C "$T/c" push origin HEAD:refs/heads/probe6
is "$rc" 0 "clean push with LEAKGATE_DB set"
is "$(sqlite3 "$T/env.db" 'SELECT kind FROM events' 2>/dev/null)" accepted "the event went to LEAKGATE_DB"
is "$(ev_count)" "$before" "and not to leakgate.db"

done_testing
