#!/bin/bash
# Data-driven scan tests: every tests/fixtures/<case>/ holds an input/
# folder and the expected findings (relative/path:line:rule_id, sorted; see
# tests/fixtures/README.md). One TAP assertion per case: the findings are
# exactly the expected ones, the exit status agrees (0 none, 1 some), there
# is no error, and the report holds none of the secrets it found.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # make check runs it with $(SHELL)
. "$(dirname "$0")/lib.sh"

export LC_ALL=C
ncases=0
for dir in "$FIXTURES"/*/; do
	dir=${dir%/}
	name=$(basename "$dir")
	[ -d "$dir/input" ] || continue
	ncases=$((ncases + 1))
	if [ ! -f "$dir/expected" ]; then
		fail "$name: no 'expected' file"
		continue
	fi
	grep -v -e '^[[:space:]]*$' -e '^#' "$dir/expected" >"$T/$name.expected"
	if grep -qvE '^[^:]+:[0-9]+:[a-z][a-z0-9.-]+$' "$T/$name.expected" ||
		! sort -c "$T/$name.expected" 2>/dev/null; then
		fail "$name: 'expected' is not sorted path:line:rule_id lines"
		continue
	fi
	pushd "$dir/input" >/dev/null || exit 1
	lg_run "$name" scan --format json .
	popd >/dev/null || exit 1
	problems=()
	if ! jq -e . "$OUT" >/dev/null 2>&1; then
		fail "$name: the report is not JSON (exit status $RC)"
		diag_file "$ERR"
		continue
	fi
	jq -r '.findings[] | "\(.path):\(.line // 0):\(.rule_id)"' "$OUT" | sort >"$T/$name.got"
	missed=$(comm -23 "$T/$name.expected" "$T/$name.got")
	extra=$(comm -13 "$T/$name.expected" "$T/$name.got")
	[ -n "$missed" ] && problems+=("missed (expected, not found): $(printf '%s ' $missed)")
	[ -n "$extra" ] && problems+=("unexpected findings: $(printf '%s ' $extra)")
	want_rc=0
	[ -s "$T/$name.got" ] && want_rc=1
	[ "$RC" = "$want_rc" ] || problems+=("exit status $RC, expected $want_rc")
	nerr=$(jq -r '.summary.errors' "$OUT")
	[ "$nerr" = 0 ] || problems+=("$nerr errors: $(jq -c '.errors' "$OUT")")
	# The secrets found, read back from the input by offset and length; a
	# multi-line one (a private key) is looked for line by line, leaving out
	# its BEGIN/END lines and short ones.
	while IFS=$'\t' read -r path off len; do
		tail -c +$((off + 1)) "$dir/input/$path" | head -c "$len" |
			grep -v -e '^-----' -e '^.\{0,11\}$' >"$T/secret"
		if [ -s "$T/secret" ] && grep -qF -f "$T/secret" "$OUT" "$ERR"; then
			problems+=("the raw secret found in $path is in the report")
		fi
	done < <(jq -r '.findings[] | select(.offset != null) | [.path, .offset, .length] | @tsv' "$OUT")
	kind="nothing found"
	[ -s "$T/$name.expected" ] && kind="$(wc -l <"$T/$name.expected") findings"
	# A known rule problem can be marked with a file 'todo' (its reason) in
	# the case: the case then counts as an expected failure, and as an
	# unexpected pass (XPASS, a failure) once the rule is fixed.
	todo=""
	[ -s "$dir/todo" ] && todo=" # TODO $(head -1 "$dir/todo")"
	if [ ${#problems[@]} -eq 0 ]; then
		_lg_n=$((_lg_n + 1))
		echo "ok $_lg_n - $name: $kind, as expected$todo"
	else
		_lg_n=$((_lg_n + 1))
		[ -z "$todo" ] && _lg_failed=$((_lg_failed + 1))
		echo "not ok $_lg_n - $name: $kind expected$todo"
		for p in "${problems[@]}"; do diag "  $p"; done
	fi
done

[ "$ncases" -ge 25 ]
ok $? "at least 25 fixture cases ($ncases)"

done_testing
