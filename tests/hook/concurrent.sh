#!/bin/sh
# 20 pushes at the same time into one repository, half of them leaking:
# each is decided on its own, and each leaves exactly one audit event.
. "$(dirname "$0")/lib.sh"

N=20
SRV=$T/srv.git
make_server "$SRV"
make_client "$T/seed" "$SRV"
commit_file "$T/seed" README.md "hello" "initial"
push "$T/seed" origin main
is "$rc" 0 "initial push accepted"
A=$COMMIT
base_events=$(ev_count)

i=1
while [ $i -le $N ]; do
	make_client "$T/c$i" "$SRV"
	git -C "$T/c$i" checkout -q -b "b$i"
	if [ $((i % 2)) -eq 0 ]; then
		commit_file "$T/c$i" "leak$i.env" "GITHUB_TOKEN=$(fake_github_token)" "leak $i"
	else
		commit_file "$T/c$i" "clean$i.txt" "clean work number $i" "clean $i"
	fi
	git -C "$T/c$i" rev-parse HEAD >"$T/want$i"
	i=$((i + 1))
done

i=1
while [ $i -le $N ]; do
	(git -C "$T/c$i" push origin "b$i" >"$T/out$i" 2>&1; echo $? >"$T/rc$i") &
	i=$((i + 1))
done
wait

i=1
while [ $i -le $N ]; do
	prc=$(cat "$T/rc$i" 2>/dev/null || echo missing)
	srv=$(rev "$SRV" "refs/heads/b$i")
	kind=$(sql "SELECT group_concat(kind) FROM events WHERE refs LIKE '%\"refs/heads/b$i\"%'")
	if [ $((i % 2)) -eq 0 ]; then
		[ "$prc" != 0 ] && [ "$srv" = none ] && [ "$kind" = rejected ] &&
			grep -q "leakgate: push rejected" "$T/out$i"
		ok $? "leaking push b$i was rejected (exit $prc, server ref $srv, events: $kind)" ||
			diag_file "$T/out$i" 20
	else
		[ "$prc" = 0 ] && [ "$srv" = "$(cat "$T/want$i")" ] && [ "$kind" = accepted ]
		ok $? "clean push b$i was accepted (exit $prc, events: $kind)" ||
			diag_file "$T/out$i" 20
	fi
	i=$((i + 1))
done

is "$(($(ev_count) - base_events))" $N "exactly $N events recorded for $N pushes"
is "$(ev_count "kind = 'rejected'")" $((N / 2)) "half of them rejected"
is "$(ev_count "kind = 'accepted' AND id > 1")" $((N / 2)) "half of them accepted"
is "$(ev_count "kind = 'failed'")" 0 "none failed (no database or cache contention failures)"
is "$(git -C "$SRV" for-each-ref refs/heads | wc -l)" $((N / 2 + 1)) "the server has main and the clean branches only"
grep -l "could not check" "$T"/out* >"$T/failed-list" 2>/dev/null
is "$(wc -l <"$T/failed-list")" 0 "no push saw a failure line"

done_testing
