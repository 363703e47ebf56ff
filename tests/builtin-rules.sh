#!/bin/sh
# Every built-in rule's examples and negative examples, through the real
# CLI: `leakgate rules check rules/builtin`. One TAP line per rule.
build=${LEAKGATE_BUILD:-$(dirname "$0")/../build}
src=${LEAKGATE_SRC:-$(dirname "$0")/..}
lg="$build/admin/leakgate"
out=$("$lg" rules check "$src/rules/builtin" 2>&1)
status=$?
n=0
for id in $("$lg" rules list --no-builtin --rules "$src/rules/builtin" --json | jq -r '.[].id'); do
	n=$((n + 1))
	if printf '%s\n' "$out" | grep -q "rule '$id':"; then
		echo "not ok $n - $id: its examples fail"
		printf '%s\n' "$out" | grep "rule '$id':" | sed 's/^/# /'
	else
		echo "ok $n - $id: examples and negative examples hold"
	fi
done
n=$((n + 1))
if [ "$status" = 0 ]; then
	echo "ok $n - leakgate rules check exits 0 ($(printf '%s\n' "$out" | tail -1))"
else
	echo "not ok $n - leakgate rules check exits $status"
	printf '%s\n' "$out" | head -20 | sed 's/^/# /'
fi
count=$(printf '%s\n' "$out" | sed -n 's/^ok: \([0-9]*\) rules.*/\1/p')
n=$((n + 1))
if [ "${count:-0}" -ge 60 ]; then
	echo "ok $n - the built-in pack has $count rules (at least 60)"
else
	echo "not ok $n - the built-in pack has ${count:-?} rules, fewer than 60"
fi
n=$((n + 1))
if sh "$src/rules/builtin/readme.sh" | cmp -s - "$src/rules/builtin/README.md"; then
	echo "ok $n - rules/builtin/README.md lists every rule (as rules/builtin/readme.sh prints it)"
else
	echo "not ok $n - rules/builtin/README.md is out of date: run sh rules/builtin/readme.sh >rules/builtin/README.md"
fi
echo "1..$n"
