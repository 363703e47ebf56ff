#!/bin/sh
# Several refs in one push, and several commits in one push.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
A=$COMMIT
push "$T/c" origin main main:refs/heads/one main:refs/heads/two
is "$rc" 0 "three refs created in one push"
is "$(rev "$SRV" refs/heads/two)" "$A" "server has all three"
is "$(ev_last refs | jq length)" 3 "the event lists three ref updates"

# ---- 7. only the second ref leaks: the whole push is rejected ----
git -C "$T/c" checkout -q -b one
commit_file "$T/c" one.txt "clean change" "clean change on one"
ONE=$COMMIT
git -C "$T/c" checkout -q -b two main
key=$(fake_aws_key)
commit_file "$T/c" two.cfg "aws_access_key_id=$key" "leaky change on two"
TWO=$COMMIT
git -C "$T/c" checkout -q -b three main
commit_file "$T/c" three.txt "clean too" "clean change on three"
push "$T/c" origin one two three
isnt "$rc" 0 "a push where only the second of three refs leaks is rejected"
is "$(rev "$SRV" refs/heads/one)" "$A" "ref one did not move"
is "$(rev "$SRV" refs/heads/two)" "$A" "ref two did not move"
is "$(rev "$SRV" refs/heads/three)" none "ref three was not created"
contains "$OUT" "commit:      $(short "$T/c" "$TWO") leaky change on two" "the leaking commit is named"
contains "$OUT" "ref:         refs/heads/two" "and the ref that would publish it"
is "$(ev_last findings | jq -r '.[0].ref')" refs/heads/two "the event's finding names the ref too"
is "$(ev_last kind)" rejected "event is rejected"
is "$(ev_last refs | jq length)" 3 "the event lists all three ref updates"
is "$(ev_last findings | jq -r '.[].commit' | sort -u)" "$TWO" "the only finding is in the second ref's commit"
push "$T/c" origin one three
is "$rc" 0 "the clean refs alone are accepted"
is "$(rev "$SRV" refs/heads/one)" "$ONE" "ref one moved"

# ---- 8. a secret added and removed again within one push ----
git -C "$T/c" checkout -q main
tok=$(fake_github_token)
commit_file "$T/c" settings.py "GITHUB_TOKEN = '$tok'" "add settings"
ADD=$COMMIT
commit_file "$T/c" settings.py "GITHUB_TOKEN = os.environ['GITHUB_TOKEN']" "read token from the environment"
DEL=$COMMIT
commit_file "$T/c" notes.txt "done" "notes"
push "$T/c" origin main
isnt "$rc" 0 "a secret added and removed in the same push is rejected"
is "$(rev "$SRV" refs/heads/main)" "$A" "server main did not move"
contains "$OUT" "commit:      $(short "$T/c" "$ADD") add settings" "the message names the commit that added it"
contains "$OUT" "where:       settings.py:1" "the message gives the path and line"
contains "$OUT" "The first commit with a secret is $(short "$T/c" "$ADD")" "the advice starts from that commit"
contains "$OUT" "git rebase -i $(short "$T/c" "$ADD")~1" "the advice gives the rebase command"
lacks "$OUT" "git commit --amend --no-edit && git push" "no amend-only advice (the secret is not in the tip)"
lacks "$OUT" "$tok" "the raw token is not shown"

# ---- a secret carried through later edits of the same file, in one push ----
git -C "$T/c" reset -q --hard "$A"
stripe=$(fake_stripe_key)
commit_file "$T/c" billing.env "STRIPE_KEY=$stripe" "billing config"
FIRST=$COMMIT
printf 'STRIPE_KEY=%s\nCURRENCY=EUR\n' "$stripe" >"$T/c/billing.env"
git -C "$T/c" commit -q -am "billing currency"
printf 'STRIPE_KEY=%s\nCURRENCY=EUR\nVAT=1\n' "$stripe" >"$T/c/billing.env"
git -C "$T/c" commit -q -am "billing vat"
push "$T/c" origin main
isnt "$rc" 0 "a secret added then carried through two edits is rejected"
contains "$OUT" "leakgate: push rejected: 1 secret" "it is counted once"
contains "$OUT" "commit:      $(short "$T/c" "$FIRST") billing config" "the commit that added it is named"
is "$(ev_last findings | jq length)" 1 "one finding recorded"
is "$(ev_last findings | jq -r '.[0].commit')" "$FIRST" "the finding is the first commit's"

# ---- the same secret in two files of one commit: two findings ----
git -C "$T/c" reset -q --hard "$A"
mkdir -p "$T/c/a" "$T/c/b"
printf 'key=%s\n' "$stripe" >"$T/c/a/x.env"
printf 'key=%s\n' "$stripe" >"$T/c/b/y.env"
git -C "$T/c" add a b
git -C "$T/c" commit -q -m "two copies"
push "$T/c" origin main
isnt "$rc" 0 "the same secret in two files is rejected"
contains "$OUT" "leakgate: push rejected: 2 secrets" "both places are counted"
contains "$OUT" "where:       a/x.env:1" "first place shown"
contains "$OUT" "where:       b/y.env:1" "second place shown"
contains "$OUT" "git add -A && git commit --amend --no-edit && git push" "tip-commit advice is given"

done_testing
