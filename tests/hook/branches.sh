#!/bin/sh
# New branches do not rescan history the server already has; deletions and
# force pushes: only what a push adds is scanned.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
is "$rc" 0 "initial push accepted"
A=$COMMIT

# ---- 4a. history with a secret that reached the server with a bypass ----
key=$(fake_aws_key)
commit_file "$T/c" deploy/aws.cfg "aws_access_key_id = $key" "add deploy config"
S=$COMMIT
push "$T/c" -o "leakgate.bypass=test fixture: key is revoked" origin main
is "$rc" 0 "secret pushed with a bypass reason (setting up old history)"
is "$(ev_last kind)" bypassed "that event is bypassed"

push "$T/c" origin main:refs/heads/release
is "$rc" 0 "a new branch at a commit with an old secret is accepted"
is "$(rev "$SRV" refs/heads/release)" "$S" "server has the new branch"
is "$(ev_last kind)" accepted "its event is accepted"
is "$(ev_last objects_scanned)" 0 "nothing was scanned for it"
is "$(ev_last findings)" "[]" "no findings recorded"

git -C "$T/c" checkout -q -b feature main
commit_file "$T/c" feature.txt "new feature" "feature work"
F=$COMMIT
push "$T/c" origin feature
is "$rc" 0 "a new branch with a clean commit on top of the old secret is accepted"
is "$(rev "$SRV" refs/heads/feature)" "$F" "server has the feature branch"
is "$(ev_last kind)" accepted "its event is accepted (not warned, not rejected)"
is "$(ev_last objects_scanned)" 2 "only the one new blob (and its commit) was scanned"
lacks "$OUT" "AWS" "the old secret is not mentioned"

# ---- 4b. history with a secret committed straight into the server ----
key2=$(fake_github_token)
repo_commit "$SRV" "$A" legacy/token.txt "token: $key2" "legacy import"
L=$COMMIT
git -C "$SRV" update-ref refs/heads/legacy "$L"
git -C "$T/c" fetch -q origin
git -C "$T/c" checkout -q -b legacy-fix origin/legacy
commit_file "$T/c" fix.txt "fixed" "fix on legacy"
push "$T/c" origin legacy-fix
is "$rc" 0 "a new branch from server-side history with a secret is accepted"
is "$(ev_last objects_scanned)" 2 "only the new blob (and its commit) was scanned"
is "$(ev_last findings)" "[]" "no findings recorded"
push "$T/c" origin origin/legacy:refs/heads/legacy-copy
is "$rc" 0 "a copy of that branch is accepted"
is "$(rev "$SRV" refs/heads/legacy-copy)" "$L" "server has the copy"

# ---- 5. deletions ----
push "$T/c" origin :refs/heads/legacy-copy
is "$rc" 0 "branch deletion is accepted"
is "$(rev "$SRV" refs/heads/legacy-copy)" none "the branch is gone"
is "$(ev_last kind)" accepted "deletion event is accepted"
is "$(ev_last refs | jq -r '.[0].new')" 0000000000000000000000000000000000000000 "deletion event records a zero new id"
push "$T/c" origin :refs/heads/release
is "$rc" 0 "deleting a branch whose tip holds a secret is accepted"
is "$(rev "$SRV" refs/heads/release)" none "the release branch is gone"

# ---- 5. force pushes ----
# main: A - S. Put a clean commit B on a branch topic, then drop it.
git -C "$T/c" checkout -q -b topic "$A"
commit_file "$T/c" topic.txt "first idea" "first idea"
B=$COMMIT
push "$T/c" origin topic
is "$rc" 0 "topic branch accepted"
git -C "$T/c" reset -q --hard "$A"
commit_file "$T/c" topic.txt "second idea" "second idea"
C=$COMMIT
push "$T/c" --force origin topic
is "$rc" 0 "force push replacing a clean commit with a clean one is accepted"
is "$(rev "$SRV" refs/heads/topic)" "$C" "server topic is the new commit"
is "$(ev_last objects_scanned)" 2 "only the new commit and its blob were scanned"

git -C "$T/c" reset -q --hard "$A"
tok=$(fake_stripe_key)
commit_file "$T/c" topic.txt "STRIPE_KEY=$tok" "third idea"
D=$COMMIT
push "$T/c" --force origin topic
isnt "$rc" 0 "force push that adds a secret is rejected"
is "$(rev "$SRV" refs/heads/topic)" "$C" "server topic did not move"
contains "$OUT" "Stripe" "the Stripe rule is named"
is "$(ev_last kind)" rejected "event is rejected"

# main is A - S (S holds a secret). Rewrite main without S: the dropped
# history is not rescanned, so nothing is found.
git -C "$T/c" checkout -q main
git -C "$T/c" reset -q --hard "$A"
commit_file "$T/c" deploy/aws.cfg "aws_access_key_id = (from the vault)" "deploy config without the key"
E=$COMMIT
push "$T/c" --force origin main
is "$rc" 0 "force push that drops the old secret is accepted"
is "$(rev "$SRV" refs/heads/main)" "$E" "server main is the rewritten commit"
is "$(ev_last kind)" accepted "event is accepted"
is "$(ev_last findings)" "[]" "the overwritten secret is not reported"
lacks "$OUT" "AWS" "the overwritten secret is not mentioned"

# a force push that moves main back to the old commit with the secret: the
# server still has it (on feature), so it is not new and not rescanned.
push "$T/c" --force origin "$S:refs/heads/main"
is "$rc" 0 "force push back to a known commit (reachable from another branch) is accepted"
is "$(ev_last objects_scanned)" 0 "nothing rescanned"

done_testing
