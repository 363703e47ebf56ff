#!/bin/sh
# Secrets in commit messages and in annotated tag messages are found.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
is "$rc" 0 "initial push accepted"
base=$COMMIT

# 1. a commit message with a credential in its body
tok=$(fake_github_token)
commit_file "$T/c" app.txt "version 2" "Update deployment

The CI token is $tok for now."
leak=$COMMIT
push "$T/c" origin main
isnt "$rc" 0 "push of a commit whose message holds a token is rejected"
is "$(rev "$SRV" refs/heads/main)" "$base" "server main did not move"
contains "$OUT" "leakgate: push rejected: 1 secret" "rejection header counts one secret"
contains "$OUT" "GitHub personal access token (classic)" "the rule is named"
contains "$OUT" "where:       (commit message), line 3" "the finding is placed in the commit message, line 3"
contains "$OUT" "commit:      $(short "$T/c" "$leak") Update deployment" "the commit is named"
lacks "$OUT" "$tok" "the raw token is not in the message"
is "$(ev_last kind)" rejected "event kind is rejected"
is "$(ev_last findings | jq -r '.[0].path')" "(commit message)" "event finding path is (commit message)"
is "$(ev_last findings | jq -r '.[0].commit')" "$leak" "event finding names the commit"
not_stored "$tok" "the raw token is not in the audit database"
# the message is rewritten: accepted
git -C "$T/c" commit -q --amend -m "Update deployment"
push "$T/c" origin main
is "$rc" 0 "after rewording, the push is accepted"

# 2. an annotated tag with a credential in its message, on a known commit
key=$(fake_aws_key)
git -C "$T/c" tag -a v1.0 -m "Release 1.0

deploy with aws_access_key_id = $key"
tagid=$(git -C "$T/c" rev-parse refs/tags/v1.0)
before=$(ev_count)
push "$T/c" origin refs/tags/v1.0
isnt "$rc" 0 "push of an annotated tag whose message holds a key is rejected"
is "$(rev "$SRV" refs/tags/v1.0)" none "the tag was not created on the server"
contains "$OUT" "AWS access key ID" "the AWS rule is named"
contains "$OUT" "tag:         refs/tags/v1.0" "the tag is named"
contains "$OUT" "(tag message), line 3" "the finding is placed in the tag message, line 3"
contains "$OUT" "git tag -d" "the advice says how to recreate the tag"
lacks "$OUT" "$key" "the raw key is not in the message"
is "$(ev_count)" $((before + 1)) "one event for the tag push"
is "$(ev_last kind)" rejected "event kind is rejected"
is "$(ev_last findings | jq -r '.[0].path')" "(tag message)" "event finding path is (tag message)"
is "$(ev_last findings | jq -r '.[0].commit')" "$tagid" "event finding names the tag object"
not_stored "$key" "the raw key is not in the audit database"

# 3. the same tag, retagged with a clean message, is accepted
git -C "$T/c" tag -d v1.0 >/dev/null
git -C "$T/c" tag -a v1.0 -m "Release 1.0"
push "$T/c" origin refs/tags/v1.0
is "$rc" 0 "a clean annotated tag is accepted"
is "$(rev "$SRV" refs/tags/v1.0)" "$(rev "$T/c" refs/tags/v1.0)" "the server has the tag"

# 4. a tag of a tag: the inner tag's message holds the secret
tok2=$(fake_stripe_key)
git -C "$T/c" tag -a inner -m "inner tag, key $tok2"
git -C "$T/c" tag -a outer -m "outer tag" inner 2>/dev/null
push "$T/c" origin refs/tags/outer
isnt "$rc" 0 "a tag of a tag whose inner message holds a key is rejected"
contains "$OUT" "Stripe" "the Stripe rule is named"
is "$(rev "$SRV" refs/tags/outer)" none "the outer tag was not created"

# 5. a secret in a new commit and pushed with a tag pointing at it
tok3=$(fake_slack_token)
commit_file "$T/c" b.txt "b" "add b with $tok3"
git -C "$T/c" tag -a v2.0 -m "Release 2.0"
push "$T/c" origin main refs/tags/v2.0
isnt "$rc" 0 "branch and tag pushed together with a secret in a commit subject are rejected"
is "$(rev "$SRV" refs/tags/v2.0)" none "the tag was not created"
contains "$OUT" "Slack" "the Slack rule is named"
contains "$OUT" "where:       (commit message), line 1" "the finding is in the subject line"

done_testing
