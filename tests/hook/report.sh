#!/bin/sh
# What the pusher is told: rule, commit, place, a redacted preview (never
# the secret), the fingerprint, and how to fix it. Fingerprints are stable
# across repositories of one server.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
A=$COMMIT

# ---- a secret in the tip commit ----
tok=$(fake_github_token)
commit_file "$T/c" config/app.env "APP_NAME=demo
APP_ENV=production
GITHUB_TOKEN=$tok
LOG_LEVEL=info" "Configure the deployment"
TIP=$COMMIT
push "$T/c" origin main
isnt "$rc" 0 "the push is rejected"
contains "$OUT" "leakgate: push rejected: 1 secret in the commits you pushed" "header line"
contains "$OUT" "] GitHub personal access token (classic) (high)" "rule name and severity"
contains "$OUT" "commit:      $(short "$T/c" "$TIP") Configure the deployment" "short commit id and subject"
contains "$OUT" "where:       config/app.env:3" "path:line"
lacks "$OUT" "$tok" "the raw secret is not in the message"
preview=$(sed -n 's/^remote: *secret: *\([^ ]*\).*/\1/p' "$OUT" | head -1)
isnt "$preview" "" "a preview is shown"
case $preview in
*'*'*) pass "the preview is redacted ($preview)" ;;
*) fail "the preview is redacted ($preview)" ;;
esac
[ "${#preview}" -le "${#tok}" ] && [ "$preview" != "$tok" ]
ok $? "the preview is not the secret"
case $preview in
"$(printf %s "$tok" | cut -c1-4)"*) pass "the preview keeps the token's prefix" ;;
*) fail "the preview keeps the token's prefix (got $preview)" ;;
esac
fp=$(sed -n 's/^remote: *fingerprint: *\([^ ]*\).*/\1/p' "$OUT" | head -1)
printf %s "$fp" | grep -qE '^[0-9a-f]{32}$'
ok $? "a 32-hex fingerprint is shown ($fp)"
contains "$OUT" "what to do:" "remediation is given"
contains "$OUT" "How to fix" "the How to fix section is there"
contains "$OUT" "git add -A && git commit --amend --no-edit && git push" "a secret in the tip commit: amend"
lacks "$OUT" "git rebase -i" "no rebase advice for a tip commit"
contains "$OUT" 'git push -o leakgate.bypass="<why this is safe>"' "the bypass hint"
is "$(ev_last findings | jq -r '.[0].fingerprint')" "$fp" "the event records the same fingerprint"
is "$(ev_last findings | jq -r '.[0].preview')" "$preview" "the event records the same preview"
is "$(ev_last findings | jq -r '.[0].line')" 3 "the event records the line"
is "$(ev_last findings | jq -r '.[0].severity')" high "the event records the severity"
not_stored "$tok" "the raw secret is not in the audit database"

# ---- a secret in an older commit ----
git -C "$T/c" reset -q --hard "$A"
key=$(fake_aws_key)
commit_file "$T/c" deploy/aws.ini "aws_access_key_id = $key" "Add AWS deploy settings"
OLDER=$COMMIT
commit_file "$T/c" docs.md "docs" "Write docs"
push "$T/c" origin main
isnt "$rc" 0 "a secret in an older commit is rejected"
contains "$OUT" "commit:      $(short "$T/c" "$OLDER") Add AWS deploy settings" "the older commit is named"
contains "$OUT" "The first commit with a secret is $(short "$T/c" "$OLDER")" "the first commit is named in the advice"
contains "$OUT" "git rebase -i $(short "$T/c" "$OLDER")~1" "a secret in an older commit: rebase from its parent"
lacks "$OUT" "git commit --amend --no-edit && git push" "no amend-only advice"
lacks "$OUT" "$key" "the raw key is not in the message"

# ---- a secret in a root commit (new repository) ----
make_server "$T/fresh.git"
make_client "$T/f" "$T/fresh.git"
commit_file "$T/f" aws.ini "aws_access_key_id = $key" "first commit with a key"
commit_file "$T/f" b.txt "b" "second"
push "$T/f" origin main
isnt "$rc" 0 "a secret in the root commit of a new repository is rejected"
contains "$OUT" "git rebase -i --root" "a secret in the root commit: rebase --root"

# ---- a secret in a commit message at the tip: amend without --no-edit ----
git -C "$T/c" reset -q --hard "$A"
commit_file "$T/c" x.txt "x" "use token $tok"
push "$T/c" origin main
isnt "$rc" 0 "a secret in the tip commit's message is rejected"
contains "$OUT" "git add -A && git commit --amend && git push" "the advice lets the pusher edit the message"

# ---- maxReport ----
git -C "$T/c" reset -q --hard "$A"
i=1
: >"$T/c/many.env"
while [ $i -le 4 ]; do
	printf 'TOKEN_%s=%s\n' "$i" "$(fake_github_token)" >>"$T/c/many.env"
	i=$((i + 1))
done
git -C "$T/c" add many.env
git -C "$T/c" commit -q -m "many tokens"
git -C "$SRV" config leakgate.maxReport 2
push "$T/c" origin main
git -C "$SRV" config --unset leakgate.maxReport
isnt "$rc" 0 "four secrets are rejected"
contains "$OUT" "push rejected: 4 secrets" "all four are counted"
is "$(grep -c '^remote: \[[0-9]*\] ' "$OUT")" 2 "leakgate.maxReport=2 shows two"
contains "$OUT" "... and 2 more not shown (leakgate.maxReport)" "and says how many more"
is "$(ev_last findings | jq length)" 4 "the event records all four"

# ---- fingerprints are stable across repositories on one server ----
make_server "$T/other.git"
make_client "$T/o" "$T/other.git"
commit_file "$T/o" README.md "other" "initial"
push "$T/o" origin main
commit_file "$T/o" elsewhere/creds.txt "token=$tok" "same token elsewhere"
push "$T/o" origin main
isnt "$rc" 0 "the same secret pushed to another repository is rejected"
fp2=$(sed -n 's/^remote: *fingerprint: *\([^ ]*\).*/\1/p' "$OUT" | head -1)
is "$fp2" "$fp" "the same secret gives the same fingerprint in another repository"
other=$(fake_github_token)
git -C "$T/o" reset -q --hard HEAD~1
commit_file "$T/o" elsewhere/creds.txt "token=$other" "another token"
push "$T/o" origin main
fp3=$(sed -n 's/^remote: *fingerprint: *\([^ ]*\).*/\1/p' "$OUT" | head -1)
isnt "$fp3" "$fp" "a different secret gives a different fingerprint"
lacks "$DB" "$tok" "the audit database file does not hold the first token"
not_stored "$tok" "no raw secret in the audit database (with WAL)"
not_stored "$key" "no raw AWS key in the audit database (with WAL)"

done_testing
