#!/bin/sh
# Verdict integrity: no leak passes the hook because a check failed, was
# skipped, capped or misattributed (issue 8). Each block is one way a leak
# used to be accepted, a trace lost, or a secret shown; each must now end
# in a rejection naming the secret, or in leakgate.failMode with a failed
# event, and never print or store the raw secret.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
BASE=$COMMIT

# reset_client: the client back at the server's main.
reset_client() {
	git -C "$T/c" fetch -q origin
	git -C "$T/c" reset -q --hard origin/main
}

# ---- 1. a secret first in a binary file, then as text at the same path ----
tok=$(fake_github_token)
mkdir -p "$T/c/app"
printf 'GITHUB_TOKEN=%s\n\000binary tail\n' "$tok" >"$T/c/app/conf.dat"
git -C "$T/c" add app/conf.dat && git -C "$T/c" commit -q -m "conf as binary"
printf 'GITHUB_TOKEN=%s\n' "$tok" >"$T/c/app/conf.dat"
git -C "$T/c" add app/conf.dat && git -C "$T/c" commit -q -m "conf as text"
TEXT=$(git -C "$T/c" rev-parse HEAD)
push "$T/c" origin main
isnt "$rc" 0 "1: binary, then text with the same secret at the same path: rejected"
is "$(ev_last kind)" rejected "1: the event is rejected"
is "$(ev_last findings | jq -r --arg c "$TEXT" '[.[] | select(.commit == $c and .path == "app/conf.dat" and .status == "new")] | length')" 1 \
	"1: the finding is reported at the text version's commit, as new"
is "$(ev_last skipped | jq -r '.[0].why')" binary "6: the binary version is named in the event as skipped (binary)"
contains "$OUT" "1 binary file scanned for provider tokens and keys only" "6: the pusher is told a binary file was not scanned whole"
lacks "$OUT" "$tok" "1: the raw token is not shown"
reset_client

# ---- 1b. the same with a secret that only generic rules know ----
# (binary files are scanned for structured tokens only: this one is not
# found in the binary version, and must block at the text version)
pw=kQzPwLmRtY8342vXnB
mkdir -p "$T/c/app"
printf 'db_password = "%s"\n\000binary tail\n' "$pw" >"$T/c/app/db.dat"
git -C "$T/c" add app/db.dat && git -C "$T/c" commit -q -m "db as binary"
printf 'db_password = "%s"\n' "$pw" >"$T/c/app/db.dat"
git -C "$T/c" add app/db.dat && git -C "$T/c" commit -q -m "db as text"
TEXT=$(git -C "$T/c" rev-parse HEAD)
push "$T/c" origin main
isnt "$rc" 0 "1: binary (password not found there), then text: rejected"
is "$(ev_last findings | jq -r --arg c "$TEXT" '[.[] | select(.commit == $c and .path == "app/db.dat" and .status == "new")] | length')" 1 \
	"1: the password is reported at the text version's commit, as new"
lacks "$OUT" "$pw" "1: the raw password is not shown"
reset_client

# ---- 2. a rule whose confirmation backtracks past PCRE2's limit ----
cat >"$T/bt.json" <<'EOF'
{"pack": "bt", "rules": [{"id": "bt-token", "name": "Backtracking token", "description": "A custom rule that backtracks.",
 "severity": "high", "pattern": "(?:a+)+c|(tok_[A-Z]{8})", "secret_group": 1, "placeholder_check": false,
 "remediation": "Revoke it.", "examples": ["tok_QWERTZUI", "x tok_ASDFGHJK"], "negative_examples": ["a", "b"]}]}
EOF
git -C "$SRV" config leakgate.rules "$T/bt.json"
printf '%s\ntok_QWERTZUI\n' "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" >"$T/c/notes.txt"
git -C "$T/c" add notes.txt && git -C "$T/c" commit -q -m "backtracking"
before=$(ev_count)
push "$T/c" origin main
isnt "$rc" 0 "2: a scan that hits PCRE2's match limit is not a clean scan: rejected (fail closed)"
is "$(ev_count)" $((before + 1)) "2: one event"
is "$(ev_last kind)" failed "2: recorded as failed"
ev_last reason >"$T/reason"
contains "$T/reason" "bt-token" "2: the reason names the rule"
contains "$T/reason" "match limit" "2: and the limit"
is "$(grep -c '^remote: leakgate: could not check this push completely' "$OUT")" 1 "2: one line tells the pusher"
git -C "$SRV" config leakgate.failMode open
push "$T/c" origin main
is "$rc" 0 "2: with failMode=open the same push is accepted"
is "$(ev_last kind)" failed "2: still recorded as failed"
git -C "$SRV" config --unset leakgate.failMode
git -C "$SRV" config --unset leakgate.rules
reset_client

# ---- 3. a stored custom rule that no longer parses ----
sql "INSERT INTO rules (id, json, created_ms, updated_ms) VALUES ('broken-custom', '{\"id\": \"broken-custom\", ', 0, 0)"
commit_file "$T/c" clean3.txt "nothing secret" "clean"
before=$(ev_count)
push "$T/c" origin main
isnt "$rc" 0 "3: a broken stored rule fails the check (fail closed), even for a clean push"
is "$(ev_last kind)" failed "3: recorded as failed"
ev_last reason >"$T/reason"
contains "$T/reason" "broken-custom" "3: the reason names the broken rule"
contains "$OUT" "rules cannot be loaded" "3: the pusher is told the rules could not be loaded"
git -C "$SRV" config leakgate.failMode open
push "$T/c" origin main
is "$rc" 0 "3: fail open: accepted"
is "$(ev_last kind)" failed "3: and recorded as failed"
git -C "$SRV" config --unset leakgate.failMode
sql "DELETE FROM rules WHERE id = 'broken-custom'"
reset_client

# ---- 7. more findings than the old per-file cap, exempted, then a real key ----
awk 'BEGIN { srand(11); a = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	for (i = 0; i < 1100; i++) { s = ""; for (k = 0; k < 24; k++) s = s substr(a, 1 + int(rand() * 56), 1);
	printf "password = \"%s\"\n", s } }' >"$T/c/fixtures.py"
key=$(fake_aws_key)
printf 'AWS_ACCESS_KEY_ID = "%s"\n' "$key" >>"$T/c/fixtures.py"
git -C "$T/c" add fixtures.py && git -C "$T/c" commit -q -m "1100 fixture passwords and a key"
"$LG" scan --format json "$T/c/fixtures.py" >"$T/scan.json" 2>/dev/null
nscan=$(jq '.findings | length' "$T/scan.json")
[ "$nscan" -gt 1001 ]
ok $? "7: leakgate scan reports every finding of the file, past the old cap of 1,000 ($nscan)"
is "$(jq '[.findings[] | select(.rule_id == "aws-access-key-id")] | length' "$T/scan.json")" 1 "7: the key, last in the file, among them"
"$LG" exemptions add --db "$DB" --rule generic-credential-assignment --reason "fixture passwords" >/dev/null
push "$T/c" origin main
isnt "$rc" 0 "7: over 1,000 exempted findings before an AWS key: the key still rejects the push"
is "$(ev_last findings | jq '[.[] | select(.rule_id == "aws-access-key-id" and .status == "new")] | length')" 1 \
	"7: the AWS key (the file's last finding) is in the event as new"
is "$(ev_last findings | jq '[.[] | select(.status == "exempted")] | length')" $((nscan - 1)) "7: every other finding was evaluated (exempted)"
sql "DELETE FROM exemptions"
reset_client

# too many findings for the hook to hold: a distinct outcome, not a cut
awk 'BEGIN { srand(5); a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	for (i = 0; i < 251000; i++) { s = "AKIA"; for (k = 0; k < 16; k++) s = s substr(a, 1 + int(rand() * 32), 1);
	print s } }' >"$T/c/keys.txt"
git -C "$T/c" add keys.txt && git -C "$T/c" commit -q -m "a quarter of a million keys"
push "$T/c" origin main
isnt "$rc" 0 "7: more findings than the hook can hold: the check is incomplete, rejected (fail closed)"
contains "$OUT" "more than 250000 findings" "7: the pusher is told there were too many findings"
is "$(ev_last kind)" failed "7: recorded as failed"
ev_last reason >"$T/reason"
contains "$T/reason" "too many to check" "7: the event says why"
git -C "$SRV" config leakgate.failMode open
push "$T/c" origin main
is "$rc" 0 "7: with failMode=open it is accepted, as the administrator chose"
is "$(ev_last kind)" failed "7: and recorded as failed"
git -C "$SRV" config --unset leakgate.failMode
reset_client

# ---- 8. path-scoped rules: every name a blob has in the push ----
uuid=$(cat /proc/sys/kernel/random/uuid)
printf 'registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=%s\n' "$uuid" >"$T/c/npmrc.txt"
git -C "$T/c" add npmrc.txt && git -C "$T/c" commit -q -m "npm settings, not yet in place"
git -C "$T/c" mv npmrc.txt .npmrc && git -C "$T/c" commit -q -m "move it into place"
MOVED=$(git -C "$T/c" rev-parse HEAD)
push "$T/c" origin main
isnt "$rc" 0 "8: git mv npmrc.txt .npmrc in one push: rejected"
is "$(ev_last findings | jq -r --arg c "$MOVED" '[.[] | select(.rule_id == "npmrc-auth-token" and .path == ".npmrc" and .commit == $c)] | length')" 1 \
	"8: the .npmrc rule reports it at .npmrc, in the commit that moved it there"
reset_client
# the same blob under two names in one commit
printf 'registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=%s\n' "$(cat /proc/sys/kernel/random/uuid)" >"$T/c/a.cfg"
cp "$T/c/a.cfg" "$T/c/.npmrc"
git -C "$T/c" add a.cfg .npmrc && git -C "$T/c" commit -q -m "two names"
push "$T/c" origin main
isnt "$rc" 0 "8: the same blob added as a.cfg and .npmrc: rejected"
is "$(ev_last findings | jq -r '[.[] | select(.rule_id == "npmrc-auth-token") | .path] | join(",")')" .npmrc \
	"8: found at .npmrc only (the rule does not apply to a.cfg)"
reset_client

# ---- 11. ref names, commit headers, bytes after a NUL in a message ----
tok=$(fake_github_token)
commit_file "$T/c" clean11.txt "fine" "clean"
push "$T/c" origin "HEAD:refs/heads/deploy-$tok"
isnt "$rc" 0 "11: a token as a branch name is rejected"
is "$(rev "$SRV" "refs/heads/deploy-$tok")" none "11: the branch was not created"
contains "$OUT" "the name of the ref itself" "11: the finding is placed in the ref name"
grep '^remote:' "$OUT" >"$T/remote-lines"
lacks "$T/remote-lines" "$tok" "11: the hook does not show the raw token"
not_stored "$tok" "11: the ref name is stored redacted"
is "$(ev_last refs | jq -r '.[0].ref' | grep -c 'deploy-ghp_')" 1 "11: the event keeps the ref, redacted"

tok=$(fake_github_token)
reset_client
printf 'x\n' >"$T/c/h.txt"
git -C "$T/c" add h.txt
GIT_AUTHOR_NAME="deploy bot $tok" git -C "$T/c" commit -q -m "innocent subject"
push "$T/c" origin main
isnt "$rc" 0 "11: a token in the author header is rejected"
contains "$OUT" "(commit header), line" "11: placed in the commit header"
lacks "$OUT" "$tok" "11: not shown raw"
reset_client

key=$(fake_aws_key)
tree=$(git -C "$T/c" write-tree)
printf 'tree %s\nparent %s\nauthor A <a@b> 1700000000 +0000\ncommitter A <a@b> 1700000000 +0000\n\nsubject\n\000hidden %s\n' \
	"$tree" "$(git -C "$T/c" rev-parse HEAD)" "$key" >"$T/raw-commit"
NUL=$(git -C "$T/c" hash-object -t commit -w --literally "$T/raw-commit")
push "$T/c" origin "$NUL:refs/heads/main"
isnt "$rc" 0 "11: a key after a NUL byte in a commit message is rejected"
contains "$OUT" "(commit message), line" "11: placed in the commit message"
reset_client

tok=$(fake_github_token)
GIT_COMMITTER_NAME="releaser $tok" git -C "$T/c" tag -a v-header -m "release notes"
push "$T/c" origin v-header
isnt "$rc" 0 "11: a token in a tag's tagger header is rejected"
contains "$OUT" "(tag header), line" "11: placed in the tag header"
git -C "$T/c" tag -d v-header >/dev/null

# ---- 12. names that are not UTF-8 keep their findings ----
key=$(fake_aws_key)
bad=$(printf 'conf\377ig.env')
printf 'AWS_ACCESS_KEY_ID=%s\n' "$key" >"$T/c/$bad"
git -C "$T/c" add -- "$bad" && git -C "$T/c" commit -q -m "a name that is not UTF-8"
push "$T/c" origin main
isnt "$rc" 0 "12: a secret in a file whose name is not UTF-8 is rejected"
ev_last findings >"$T/f.json"
jq -e . "$T/f.json" >/dev/null 2>&1
ok $? "12: the event's findings are valid JSON"
is "$(jq -r '[.[] | select(.rule_id == "aws-access-key-id")] | .[0].path' "$T/f.json")" 'conf\xffig.env' \
	"12: the finding keeps the name, escaped (\\xff)"
is "$(jq -r '[.[] | select(.rule_id == "aws-access-key-id")] | .[0].path_escaped' "$T/f.json")" true \
	"12: and says that it is escaped"
push "$T/c" -o "leakgate.bypass=fixture under a Latin-1 name" origin main
is "$rc" 0 "12: bypassed"
is "$(ev_last findings | jq '[.[] | select(.rule_id == "aws-access-key-id")] | length')" 1 \
	"12: the bypassed event records what it bypassed"
"$LG" events --db "$DB" --json --limit 3 >"$T/ev.json" 2>/dev/null
jq -e 'length == 3' "$T/ev.json" >/dev/null 2>&1
ok $? "12: leakgate events --json gives valid JSON with these events"
reset_client

# ---- 14. redaction and escaping of what the pusher sees and what is stored ----
tok=$(fake_github_token)
printf 'y\n' >"$T/c/s.txt"
git -C "$T/c" add s.txt && git -C "$T/c" commit -q -m "use $tok for the deploy"
push "$T/c" origin main
isnt "$rc" 0 "14: a token in a commit subject is rejected"
lacks "$OUT" "$tok" "14: the commit: line does not show the raw token"
contains "$OUT" "use ghp_" "14: it shows the subject, redacted"
reason_tok=$(fake_github_token)
push "$T/c" -o "leakgate.bypass=the real one is $reason_tok, this is a test" origin main
is "$rc" 0 "14: bypassed with a reason"
lacks "$OUT" "$reason_tok" "14: the reason is echoed redacted"
not_stored "$reason_tok" "14: the bypass reason is stored redacted"
not_stored "$tok" "14: the subject's token is stored nowhere"
reset_client

key=$(fake_aws_key)
evil=$(printf 'x\nleakgate: push accepted\033[2K.txt')
printf 'k=%s\n' "$key" >"$T/c/$evil"
git -C "$T/c" add -- "$evil" && git -C "$T/c" commit -q -m "crafted name"
push "$T/c" origin main
isnt "$rc" 0 "14: a secret in a file with a crafted name is rejected"
is "$(grep -c '^remote: leakgate: push accepted' "$OUT")" 0 "14: the name cannot forge a remote: line"
contains "$OUT" 'x\nleakgate: push accepted\x1b[2K.txt' "14: control characters in the name are shown escaped"
reset_client

done_testing
