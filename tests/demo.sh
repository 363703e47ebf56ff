#!/bin/sh
# The README's first command (./setup.sh) builds and runs admin/demo.sh: it
# must do the whole main job and exit 0, leaving nothing behind.
src=${LEAKGATE_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
build=${LEAKGATE_BUILD:-$src/build}
. "$src/tests/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lg-demo-test.XXXXXX") || bail "no temporary folder"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/t"
TMPDIR=$tmp/t sh "$src/admin/demo.sh" "$build" >"$tmp/out" 2>&1
rc=$?
is "$rc" 0 "admin/demo.sh exits 0" || diag_file "$tmp/out" 30
contains "$tmp/out" "== exit status 1 (0 nothing found" "the scan of the sample tree finds its secrets"
contains "$tmp/out" "== accepted, as it should be" "the clean push is accepted"
contains "$tmp/out" "push rejected" "the leaking push is rejected with the message"
contains "$tmp/out" "== rejected: the server still has" "and the server did not take it"
contains "$tmp/out" '"status": "ok"' "the admin API answers /healthz"
contains "$tmp/out" '"kind": "rejected"' "and lists the rejection"
contains "$tmp/out" "demo: ok" "the demo says it is done"
is "$(ls -A "$tmp/t" | wc -l | tr -d ' ')" 0 "it leaves nothing behind"
done_testing
