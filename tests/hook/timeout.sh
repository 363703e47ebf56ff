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

# 136 MB of one assignment that the generic rule has to confirm line by
# line and then drops (too little entropy to be a password): seconds of
# work for the hook, nothing found that would decide the push by itself,
# and cheap for git to compress.
yes 'password = "abababababababababab"' | head -n 4000000 >"$T/c/big.txt"
git -C "$T/c" add big.txt && git -C "$T/c" commit -q -m "big" || bail "commit failed"
git -C "$SRV" config leakgate.timeout 1
git -C "$SRV" config leakgate.maxBlobSize 1g

before=$(ev_count)
push "$T/c" origin main
isnt "$rc" 0 "fail closed: the push that cannot be checked in time is rejected"
is "$(grep -c 'could not check this push' "$OUT")" 1 "exactly one line says why"
contains "$OUT" "did not finish within 1 s (leakgate.timeout)" "the line names the setting"
contains "$OUT" "Try again" "a time-out may pass another time: the line says to try again"
is "$(rev "$SRV" refs/heads/main)" "$A" "main did not move"
is "$(ev_count)" "$((before + 1))" "one event"
is "$(ev_last kind)" failed "the event is 'failed'"
ev_last reason >"$T/reason"
contains "$T/reason" "leakgate.timeout" "its reason names the time-out"
dur=$(ev_last duration_ms)
[ "${dur:-0}" -lt 10000 ]
ok $? "the hook stopped near its budget (${dur} ms), not at the end of the scan"
[ "${dur:-0}" -lt 3500 ]
ok $? "the scan of a single large file is interrupted too (${dur} ms for a 1 s budget and 2 s of grace)"

git -C "$SRV" config leakgate.failMode open
push "$T/c" origin main
is "$rc" 0 "fail open: the same push is accepted"
contains "$OUT" "accepted unchecked because leakgate.failMode is open" "and says so"
is "$(ev_last kind)" failed "still recorded as 'failed'"

done_testing
