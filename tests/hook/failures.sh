#!/bin/sh
# The hook run directly, as git would run it, with bad input, bad settings,
# and without the quarantine variables. Anything that keeps the check from
# completing gives exactly one "could not check this push" line, a "failed"
# event, and follows leakgate.failMode.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
A=$COMMIT
Z=0000000000000000000000000000000000000000

# hook_with INPUT_TEXT: run the hook in the bare repository (GIT_DIR=.).
hook_with() {
	printf '%s' "$1" >"$T/stdin"
	run_in "$SRV" "$T/stdin" env GIT_DIR=. "$HOOK"
}

# expect_failed RC_WANTED DESC: one failure line, a failed event.
expect_failed() {
	is "$rc" "$1" "$2: exit $1"
	is "$(grep -c '^leakgate: could not check this push completely: ' "$ERR")" 1 "$2: one 'could not check' line"
	is "$(wc -l <"$ERR" | tr -d ' ')" 1 "$2: nothing else on stderr" || diag_file "$ERR"
	is "$(ev_count)" $((before + 1)) "$2: one event"
	is "$(ev_last kind)" failed "$2: event kind is failed"
}

# ---- 14. malformed input ----
h65=$(printf '%065d' 0 | tr 0 a)
h40=$(printf '%040d' 7)
for case in "garbage:hello world
" "no spaces:garbage
" "65-hex ids:$h65 $h65 refs/heads/main
" "missing ref:$Z $A
" "empty ref:$Z $A 
" "non-hex id:$Z ${A%?}g refs/heads/main
" "old id too short:${A%?} $A refs/heads/main
" "control character in ref:$Z $A refs/heads/a$(printf '\001')b
" "good line then a bad one:$Z $A refs/heads/x
$Z $A
"; do
	name=${case%%:*}
	input=${case#*:}
	before=$(ev_count)
	hook_with "$input"
	expect_failed 1 "$name"
	contains "$ERR" "rejected because leakgate.failMode is closed" "$name: says it was rejected (fail closed)"
done

# a well-formed line naming an object the repository does not have
before=$(ev_count)
hook_with "$Z $h40 refs/heads/ghost
"
expect_failed 1 "missing object"

# ---- the same with leakgate.failMode=open ----
git -C "$SRV" config leakgate.failMode open
before=$(ev_count)
hook_with "hello world
"
expect_failed 0 "garbage, fail open"
contains "$ERR" "accepted unchecked because leakgate.failMode is open" "fail open says the push was accepted unchecked"
before=$(ev_count)
hook_with "$Z $A
"
expect_failed 0 "missing field, fail open"
git -C "$SRV" config leakgate.failMode closed

# an unknown fail mode falls back to closed
git -C "$SRV" config leakgate.failMode sometimes
before=$(ev_count)
hook_with "hello world
"
is "$rc" 1 "an unknown leakgate.failMode behaves as closed"
git -C "$SRV" config --unset leakgate.failMode

# empty input: nothing to check
before=$(ev_count)
hook_with ""
is "$rc" 0 "empty input is accepted"
is "$(grep -c 'could not check' "$ERR")" 0 "empty input is no failure"

# ---- broken settings ----
printf '{"pack": "broken", "rules": [' >"$T/broken.json"
git -C "$SRV" config leakgate.rules "$T/broken.json"
before=$(ev_count)
hook_with "$Z $A refs/heads/copy
"
expect_failed 1 "broken rule pack"
contains "$ERR" "rules" "the line says the rules could not be loaded"
git -C "$SRV" config --unset leakgate.rules

git -C "$SRV" config leakgate.rules "$T/no-such-pack.json"
before=$(ev_count)
hook_with "$Z $A refs/heads/copy
"
expect_failed 1 "missing rule pack"
git -C "$SRV" config --unset leakgate.rules

# an unusable audit database (a directory): cannot be recorded, still one line
mkdir -p "$T/db-is-a-dir"
git -C "$SRV" config leakgate.db "$T/db-is-a-dir"
hook_with "$Z $A refs/heads/copy
"
is "$rc" 1 "unusable database: rejected (fail closed)"
is "$(grep -c '^leakgate: could not check this push completely: ' "$ERR")" 1 "unusable database: one 'could not check' line"
contains "$ERR" "audit database" "the line says the audit database is the problem"
git -C "$SRV" config leakgate.failMode open
hook_with "$Z $A refs/heads/copy
"
is "$rc" 0 "unusable database, fail open: accepted"
git -C "$SRV" config --unset leakgate.failMode
git -C "$SRV" config leakgate.db "$DB"

# a folder that is not a repository
mkdir -p "$T/not-a-repo"
before=$(ev_count)
printf '%s %s refs/heads/main\n' "$Z" "$A" >"$T/stdin"
run_in "$T/not-a-repo" "$T/stdin" env GIT_DIR=. LEAKGATE_DB="$DB" "$HOOK"
expect_failed 1 "not a repository"

# ---- 15. no quarantine variables: objects already in the repository ----
tok=$(fake_github_token)
repo_commit "$SRV" "$A" app/token.txt "GITHUB_TOKEN=$tok" "token in the repository"
LEAK=$COMMIT
repo_commit "$SRV" "$A" app/clean.txt "nothing here" "clean in the repository"
CLEAN=$COMMIT
before=$(ev_count)
hook_with "$A $LEAK refs/heads/main
"
is "$rc" 1 "no quarantine: a commit with a secret is rejected"
contains "$ERR" "leakgate: push rejected: 1 secret" "the rejection message is shown"
contains "$ERR" "where:       app/token.txt:1" "the finding is placed"
lacks "$ERR" "could not check" "no failure line"
lacks "$ERR" "$tok" "the raw token is not shown"
is "$(ev_last kind)" rejected "event is rejected"
hook_with "$A $CLEAN refs/heads/main
"
is "$rc" 0 "no quarantine: a clean commit is accepted"
is "$(ev_last kind)" accepted "event is accepted"
# GIT_DIR unset: the current directory is the repository
printf '%s %s refs/heads/main\n' "$A" "$LEAK" >"$T/stdin"
run_in "$SRV" "$T/stdin" env -u GIT_DIR "$HOOK"
is "$rc" 1 "no GIT_DIR either: the commit with a secret is rejected"
contains "$ERR" "app/token.txt" "the finding is placed"
# both updates in one input: the second leaks
hook_with "$A $CLEAN refs/heads/main
$Z $LEAK refs/heads/other
"
is "$rc" 1 "two updates, the second leaking: rejected"
is "$(ev_last refs | jq length)" 2 "both updates are in the event"

done_testing
