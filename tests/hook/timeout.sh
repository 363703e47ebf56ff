#!/bin/sh
# The time budget (leakgate.timeout): a push the hook cannot check in time
# follows leakgate.failMode, with one line and a "failed" event.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
A=$COMMIT

# About 50 MB of assignments that the generic rule has to confirm one by
# one: far more than one second of work for the hook.
awk 'BEGIN { srand(7); a = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	for (i = 0; i < 1000000; i++) {
	s = ""; for (k = 0; k < 20; k++) s = s substr(a, 1 + int(rand() * 62), 1);
	printf "password = \"%s\"\n", s } }' >"$T/c/big.txt"
git -C "$T/c" add big.txt && git -C "$T/c" commit -q -m "big" || bail "commit failed"
git -C "$SRV" config leakgate.timeout 1
git -C "$SRV" config leakgate.maxBlobSize 1g

before=$(ev_count)
push "$T/c" origin main
isnt "$rc" 0 "fail closed: the push that cannot be checked in time is rejected"
is "$(grep -c 'could not check this push' "$OUT")" 1 "exactly one line says why"
contains "$OUT" "did not finish within 1 s (leakgate.timeout)" "the line names the setting"
is "$(rev "$SRV" refs/heads/main)" "$A" "main did not move"
is "$(ev_count)" "$((before + 1))" "one event"
is "$(ev_last kind)" failed "the event is 'failed'"
ev_last reason >"$T/reason"
contains "$T/reason" "leakgate.timeout" "its reason names the time-out"
dur=$(ev_last duration_ms)
[ "${dur:-0}" -lt 10000 ]
ok $? "the hook stopped near its budget (${dur} ms), not at the end of the scan"
[ "${dur:-0}" -lt 2500 ]
ok $? "the scan of a single large file is interrupted too (${dur} ms for a 1 s budget)"

git -C "$SRV" config leakgate.failMode open
push "$T/c" origin main
is "$rc" 0 "fail open: the same push is accepted"
contains "$OUT" "accepted unchecked because leakgate.failMode is open" "and says so"
is "$(ev_last kind)" failed "still recorded as 'failed'"

done_testing
