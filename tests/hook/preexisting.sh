#!/bin/sh
# A secret already on the server in the previous version of the same file
# is reported as pre-existing (warning, accepted), not blocked; new secrets
# next to it, or copies of it in other files, still block.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
key=$(fake_aws_key)
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
commit_file "$T/c" config/settings.ini "[aws]
aws_access_key_id = $key
region = eu-west-1" "settings with a key"
push "$T/c" -o "leakgate.bypass=fixture: legacy key, rotation planned" origin main
is "$rc" 0 "file with a secret set up on the server (bypass)"
OLD=$COMMIT

# ---- edit the file, keeping the old secret ----
commit_file "$T/c" config/settings.ini "[aws]
aws_access_key_id = $key
region = eu-central-1
output = json" "change region"
EDIT=$COMMIT
push "$T/c" origin main
is "$rc" 0 "an edit of a file whose old version already held the secret is accepted"
is "$(rev "$SRV" refs/heads/main)" "$EDIT" "server main moved"
contains "$OUT" "leakgate: warning: 1 secret is already on the server" "a warning line is shown"
contains "$OUT" "config/settings.ini:2" "the warning names path and line"
lacks "$OUT" "push rejected" "no rejection"
lacks "$OUT" "$key" "the raw key is not shown"
is "$(ev_last kind)" warned "event kind is warned"
is "$(ev_last findings | jq -r '.[0].status')" pre-existing "the finding is recorded as pre-existing"
is "$(ev_last findings | jq -r '.[0].rule_id')" aws-access-key-id "the finding's rule is recorded"
not_stored "$key" "the raw key is not in the audit database"

# ---- a second edit: still pre-existing ----
commit_file "$T/c" config/settings.ini "# settings
[aws]
aws_access_key_id = $key
region = eu-central-1
output = json" "add a comment"
push "$T/c" origin main
is "$rc" 0 "a further edit is accepted too"
contains "$OUT" "config/settings.ini:3" "the warning follows the moved line"
is "$(ev_last kind)" warned "event kind is warned"

# ---- the same file gets a new secret besides the old one ----
tok=$(fake_github_token)
commit_file "$T/c" config/settings.ini "# settings
[aws]
aws_access_key_id = $key
region = eu-central-1
output = json
github_token = $tok" "add github token"
push "$T/c" origin main
isnt "$rc" 0 "a new secret in the same file is rejected"
contains "$OUT" "leakgate: push rejected: 1 secret" "only the new secret blocks"
contains "$OUT" "GitHub personal access token" "the new secret's rule is named"
contains "$OUT" "where:       config/settings.ini:6" "the new secret's line is given"
is "$(ev_last kind)" rejected "event kind is rejected"
is "$(ev_last findings | jq -r '[.[] | select(.status == "new") | .rule_id] | join(",")')" \
	github-pat-classic "the new finding is the GitHub token"
git -C "$T/c" reset -q --hard HEAD~1

# ---- the old secret copied into another file: new there ----
commit_file "$T/c" deploy/env.sh "export AWS_ACCESS_KEY_ID=$key" "copy the key"
push "$T/c" origin main
isnt "$rc" 0 "the old secret copied into another file is rejected"
contains "$OUT" "where:       deploy/env.sh:1" "the copy is reported"
git -C "$T/c" reset -q --hard HEAD~1

# ---- the file renamed with the secret: a new path, so it blocks ----
git -C "$T/c" mv config/settings.ini config/settings.old.ini
git -C "$T/c" commit -q -m "rename settings"
push "$T/c" origin main
isnt "$rc" 0 "the file moved to a new path is rejected (the rule is per path)"
git -C "$T/c" reset -q --hard HEAD~1

# ---- removing the secret from the file is accepted, nothing to warn ----
commit_file "$T/c" config/settings.ini "# settings
[aws]
region = eu-central-1" "remove key"
push "$T/c" origin main
is "$rc" 0 "removing the old secret is accepted"
is "$(ev_last kind)" accepted "event kind is accepted"
lacks "$OUT" "warning" "no warning"

done_testing
