#!/bin/sh
# Every built-in rule finds its first positive example when it is pushed:
# one commit per rule, each on its own branch of one server repository.
# With leakgate.block = all each one blocks; then, at the default level,
# each rule of low confidence (test-mode keys and the like) warns instead.
# Rules with a path (files that are secrets by name, or content rules that
# apply to some files only) use the example's path; others a neutral one.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
git -C "$SRV" config leakgate.block all
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "rule fixtures" "base"
push "$T/c" origin main
is "$rc" 0 "base commit accepted" || diag_file "$OUT"
base=$COMMIT

# id, name, path (or ""), text (base64), confidence: one line per rule.
jq -r '.rules[] | [.id, .name,
	(if (.examples[0] | type) == "object" then .examples[0].path else "" end),
	((if (.examples[0] | type) == "object" then .examples[0].text else .examples[0] end) | @base64),
	(.confidence // (if .generic then "low" else "high" end))]
	| join("\u001f")' "$RULES_DIR"/*.json >"$T/rules.tsv"
nrules=$(wc -l <"$T/rules.tsv")
[ "$nrules" -gt 100 ]
ok $? "the built-in packs have rules ($nrules)"
cut -d "$(printf '\037')" -f1 "$T/rules.tsv" | sort >"$T/ids.packs"
"$LG" rules list --json | jq -r '.[].id' | sort >"$T/ids.listed"
cmp -s "$T/ids.packs" "$T/ids.listed"
ok $? "the rules in use are exactly the rules in rules/builtin/*.json"

# example_commit ID TEXT64 PATH: a commit on top of base that adds the
# rule's example at PATH; its id in $commit.
example_commit() {
	printf %s "$2" | base64 -d >"$T/example"
	blob=$(git -C "$T/c" hash-object -w "$T/example")
	git -C "$T/c" read-tree "$base"
	git -C "$T/c" update-index --add --cacheinfo "100644,$blob,$3"
	tree=$(git -C "$T/c" write-tree)
	commit=$(git -C "$T/c" commit-tree "$tree" -p "$base" -m "add $3 ($1)")
}

export GIT_INDEX_FILE="$T/rule.index"
failed_rules=""
us=$(printf '\037')
while IFS="$us" read -r id name path text64 conf; do
	[ -n "$path" ] || path="notes/$id.txt"
	example_commit "$id" "$text64" "$path"
	before=$(ev_count)
	push "$T/c" origin "$commit:refs/heads/rule/$id"
	why=""
	[ "$rc" -ne 0 ] || why="$why push exited 0;"
	grep -qF "leakgate: push rejected" "$OUT" || why="$why no 'push rejected' line;"
	grep -qF "] $name (" "$OUT" || why="$why rule name '$name' not in the message;"
	grep -qF "where:       $path" "$OUT" || why="$why path $path not in the message;"
	[ "$(rev "$SRV" "refs/heads/rule/$id")" = none ] || why="$why the branch was created;"
	[ "$(ev_count)" = $((before + 1)) ] || why="$why no new event;"
	[ "$(ev_last kind)" = rejected ] || why="$why event is not 'rejected';"
	ev_last findings | jq -e --arg id "$id" --arg c "$commit" --arg p "$path" \
		'any(.[]; .rule_id == $id and .commit == $c and .path == $p and .status == "new")' \
		>/dev/null || why="$why the event has no finding of $id at $path;"
	if [ -z "$why" ]; then
		pass "rule $id blocks its example ($path)"
	else
		fail "rule $id blocks its example ($path)"
		diag "  $why"
		diag_file "$OUT" 20
		failed_rules="$failed_rules $id"
	fi
done <"$T/rules.tsv"
unset GIT_INDEX_FILE
[ -z "$failed_rules" ] || diag "rules that did not block:$failed_rules"

is "$(git -C "$SRV" for-each-ref refs/heads/rule | wc -l)" 0 "no rule branch reached the server"
is "$(ev_count "kind = 'rejected'")" "$nrules" "one rejected event per rule"

# At the default level (medium), a rule of low confidence warns: the push is
# accepted, the pusher is told, the event is 'warned' with a 'warning' finding.
git -C "$SRV" config --unset leakgate.block
export GIT_INDEX_FILE="$T/rule.index"
nlow=0 failed_rules=""
while IFS="$us" read -r id name path text64 conf; do
	[ "$conf" = low ] || continue
	nlow=$((nlow + 1))
	[ -n "$path" ] || path="notes/$id.txt"
	example_commit "$id" "$text64" "$path"
	push "$T/c" origin "$commit:refs/heads/warn/$id"
	why=""
	[ "$rc" -eq 0 ] || why="$why push rejected;"
	grep -qF "possible secret" "$OUT" || why="$why no warning line;"
	grep -qF "$name in $path" "$OUT" || why="$why rule name and path not in the warning;"
	[ "$(ev_last kind)" = warned ] || why="$why event is not 'warned';"
	ev_last findings | jq -e --arg id "$id" 'any(.[]; .rule_id == $id and .status == "warning")' \
		>/dev/null || why="$why the event has no warning of $id;"
	if [ -z "$why" ]; then
		pass "rule $id (low confidence) warns on its example at the default level"
	else
		fail "rule $id (low confidence) warns on its example at the default level"
		diag "  $why"
		diag_file "$OUT" 20
	fi
done <"$T/rules.tsv"
unset GIT_INDEX_FILE
[ "$nlow" -gt 0 ]
ok $? "there are rules of low confidence ($nlow)"

done_testing
