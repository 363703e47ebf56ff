#!/bin/sh
# A SHA-256 repository, which libgit2 1.5 cannot read: never accepted
# silently. Fail closed: rejected with one clear line; fail open: accepted
# with that line. Either way a "failed" event.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV" --object-format=sha256
is "$(git -C "$SRV" rev-parse --show-object-format)" sha256 "the server repository is SHA-256"
git init -q --object-format=sha256 "$T/c"
git -C "$T/c" remote add origin "$SRV"
commit_file "$T/c" README.md "hello" "initial"
C1=$COMMIT
is "${#C1}" 64 "the client makes SHA-256 commits"

before=$(ev_count)
push "$T/c" origin main
isnt "$rc" 0 "a push into a SHA-256 repository is rejected (fail closed)"
is "$(rev "$SRV" refs/heads/main)" none "the branch was not created"
is "$(grep -c 'leakgate: could not check this push completely: ' "$OUT")" 1 "exactly one 'could not check' line"
matches "$OUT" "could not check this push completely: .*SHA-256" "the line mentions SHA-256"
is "$(grep -c '^remote: .*[a-z]' "$OUT")" 1 "nothing else from the hook" || diag_file "$OUT"
is "$(ev_count)" $((before + 1)) "one event"
is "$(ev_last kind)" failed "event kind is failed"
contains "$OUT" "rejected because leakgate.failMode is closed" "the line says it was rejected"

# a leaking push is of course rejected too
tok=$(fake_github_token)
commit_file "$T/c" t.txt "GITHUB_TOKEN=$tok" "token"
push "$T/c" origin main
isnt "$rc" 0 "a leaking push into a SHA-256 repository is rejected"
lacks "$OUT" "$tok" "the raw token is not shown"
git -C "$T/c" reset -q --hard "$C1"

git -C "$SRV" config leakgate.failMode open
before=$(ev_count)
push "$T/c" origin main
is "$rc" 0 "with leakgate.failMode=open the push is accepted"
is "$(rev "$SRV" refs/heads/main)" "$C1" "the branch was created"
is "$(grep -c 'leakgate: could not check this push completely: ' "$OUT")" 1 "with exactly one 'could not check' line"
matches "$OUT" "could not check this push completely: .*SHA-256" "that mentions SHA-256"
contains "$OUT" "accepted unchecked" "and says the push was accepted unchecked"
is "$(ev_last kind)" failed "event kind is failed"
is "$(ev_count)" $((before + 1)) "one event"

# a deletion in a SHA-256 repository (64 zeros): still no silent acceptance
git -C "$SRV" config leakgate.failMode closed
push "$T/c" origin :main
isnt "$rc" 0 "a deletion in a SHA-256 repository is not accepted silently (fail closed)"
matches "$OUT" "could not check this push completely: .*SHA-256" "the line mentions SHA-256"

# the hook run directly with 64-hex ids on stdin, in a SHA-1 repository
# config (the ids alone tell)
make_server "$T/sha1.git"
z64=$(printf '%064d' 0)
printf '%s %s refs/heads/main\n' "$z64" "$(printf '%064d' 1)" >"$T/stdin"
run_in "$T/sha1.git" "$T/stdin" env GIT_DIR=. "$HOOK"
is "$rc" 1 "64-hex ids on stdin: rejected"
matches "$ERR" "could not check this push completely: .*SHA-256" "the line mentions SHA-256"

done_testing
