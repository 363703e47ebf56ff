#!/bin/sh
# Prints README.md of the built-in rule packs from the packs themselves:
#   sh rules/builtin/readme.sh >rules/builtin/README.md
# (tests/builtin-rules.sh checks that README.md is up to date).
set -eu
export LC_ALL=C
dir=$(dirname "$0")
n=$(cat "$dir"/*.json | jq -s '[.[].rules | length] | add')
cat <<END
# Built-in rules

Generated from the packs in this directory ($n rules) by \`sh rules/builtin/readme.sh\`. The format is described in [docs/rule-format.md](../../docs/rule-format.md); check changes with \`leakgate rules check rules/builtin\`.

| pack | id | name | severity |
|---|---|---|---|
END
for f in "$dir"/*.json; do
	jq -r '.pack as $p | .rules[] | "| \($p) | `\(.id)` | \(.name) | \(.severity) |"' "$f"
done
