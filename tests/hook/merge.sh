#!/bin/sh
# Merge commits: what the server already has in another parent is not new;
# a merge that brings new commits with a secret, or an evil merge that adds
# one itself, is rejected.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
I=$COMMIT
push "$T/c" origin main
is "$rc" 0 "initial push accepted"

# a branch "vendor" on the server holds an old secret (pushed with a bypass)
git -C "$T/c" checkout -q -b vendor
key=$(fake_aws_key)
commit_file "$T/c" vendor/creds.ini "aws_access_key_id = $key" "vendor drop with credentials"
push "$T/c" -o "leakgate.bypass=fixture" origin vendor
is "$rc" 0 "vendor branch with an old secret set up (bypass)"

# main moves on, then merges vendor
git -C "$T/c" checkout -q main
commit_file "$T/c" main.txt "main work" "main work"
git -C "$T/c" merge -q --no-ff -m "Merge branch vendor" vendor
M=$(git -C "$T/c" rev-parse HEAD)
is "$(git -C "$T/c" rev-list --parents -n1 HEAD | wc -w)" 3 "HEAD is a merge commit"
push "$T/c" origin main
is "$rc" 0 "merging a branch the server already has (old secret inside) is accepted"
is "$(rev "$SRV" refs/heads/main)" "$M" "server main is the merge"
is "$(ev_last kind)" accepted "event is accepted"
is "$(ev_last findings)" "[]" "no findings"
lacks "$OUT" "AWS" "the old secret is not mentioned"

# a topic branch the server has never seen, with a new secret, merged in
git -C "$T/c" checkout -q -b topic
tok=$(fake_github_token)
commit_file "$T/c" ci/token.env "GITHUB_TOKEN=$tok" "ci token"
leak=$COMMIT
commit_file "$T/c" ci/readme.md "ci notes" "ci notes"
git -C "$T/c" checkout -q main
commit_file "$T/c" main2.txt "more main work" "more main work"
git -C "$T/c" merge -q --no-ff -m "Merge branch topic" topic
push "$T/c" origin main
isnt "$rc" 0 "a merge that brings a new secret is rejected"
is "$(rev "$SRV" refs/heads/main)" "$M" "server main did not move"
contains "$OUT" "GitHub personal access token" "the GitHub rule is named"
contains "$OUT" "commit:      $(short "$T/c" "$leak") ci token" "the commit on the merged branch is named"
contains "$OUT" "where:       ci/token.env:1" "path and line are given"
contains "$OUT" "leakgate: push rejected: 1 secret" "the secret is counted once (not again for the merge)"
is "$(ev_last findings | jq 'length')" 1 "one finding recorded"

# drop that; an evil merge: the merge commit itself adds a secret that is in
# neither parent
git -C "$T/c" reset -q --hard "$M"
git -C "$T/c" checkout -q -b side
commit_file "$T/c" side.txt "side work" "side work"
git -C "$T/c" checkout -q main
git -C "$T/c" merge -q --no-ff --no-commit side >/dev/null 2>&1
stripe=$(fake_stripe_key)
printf 'STRIPE_SECRET_KEY=%s\n' "$stripe" >"$T/c/billing.env"
git -C "$T/c" add billing.env
git -C "$T/c" commit -q -m "Merge branch side"
EM=$(git -C "$T/c" rev-parse HEAD)
push "$T/c" origin main
isnt "$rc" 0 "a merge commit that adds a secret itself is rejected"
contains "$OUT" "commit:      $(short "$T/c" "$EM") Merge branch side" "the merge commit is named"
contains "$OUT" "where:       billing.env:1" "path and line are given"
is "$(rev "$SRV" refs/heads/main)" "$M" "server main did not move"

# the same merge without the secret is accepted
git -C "$T/c" reset -q --hard "$M"
git -C "$T/c" merge -q --no-ff -m "Merge branch side" side
push "$T/c" origin main
is "$rc" 0 "a clean merge of a new branch is accepted"
is "$(rev "$SRV" refs/heads/main)" "$(rev "$T/c" HEAD)" "server main is the merge"

# a new commit on the initial one, then vendor (known, with the old secret)
# merged into it: the first parent is new and lacks the file, the second
# parent has the same blob at the same path, so it is not new
git -C "$T/c" checkout -q -b vendor-update "$I"
commit_file "$T/c" vendor/VERSION "2" "vendor version 2"
git -C "$T/c" merge -q --no-ff -m "Merge vendor again" vendor
is "$(git -C "$T/c" rev-list --parents -n1 HEAD | wc -w)" 3 "HEAD is a merge commit"
push "$T/c" origin vendor-update
is "$rc" 0 "another merge of known history is accepted"
is "$(ev_last findings)" "[]" "no findings"

done_testing
