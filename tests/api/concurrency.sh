#!/bin/sh
# 20 hooks pushing at once while the daemon serves reads and writes: every
# push is decided and recorded, the API answers every request, nothing is
# lost or doubled.
. "$(dirname "$0")/lib.sh"

N=20
ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"
start_daemon || bail "leakgated did not start"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/seed" "$SRV"
push_file "$T/seed" README.md "hello"
is "$rc" 0 "initial push accepted"

i=1
while [ $i -le $N ]; do
	make_client "$T/c$i" "$SRV"
	git -C "$T/c$i" checkout -q -b "b$i"
	if [ $((i % 2)) -eq 0 ]; then
		commit_file "$T/c$i" "leak$i.env" "AWS_ACCESS_KEY_ID=$(fake_aws_key)" "leak $i"
	else
		commit_file "$T/c$i" "clean$i.txt" "clean work number $i" "clean $i"
	fi
	i=$((i + 1))
done

rget "/api/v1/events?limit=500"
base=$(jr '.events | length')
base_max=$(jr '[.events[].id] | max // 0')

# The API under load while the pushes run: reads and writes, in parallel,
# until the pushes are done. Each request's status goes to $T/api.codes.
: >"$T/api.codes"
: >"$T/stop"
rm -f "$T/stop"
hammer() {
	_j=0
	# At least 5 rounds, then until told to stop.
	while { [ ! -f "$T/stop" ] || [ $_j -lt 5 ]; } && [ $_j -lt 400 ]; do
		_j=$((_j + 1))
		curl -s -m 20 -o /dev/null -w "events %{http_code}\n" -H "Authorization: Bearer $READ" \
			"$BASE/api/v1/events?limit=100" >>"$T/api.codes$1"
		curl -s -m 20 -o /dev/null -w "scan %{http_code}\n" -H "Authorization: Bearer $READ" \
			--data-binary '{"text": "nothing to see"}' "$BASE/api/v1/scan" >>"$T/api.codes$1"
		curl -s -m 20 -o /dev/null -w "metrics %{http_code}\n" -H "Authorization: Bearer $READ" \
			"$BASE/metrics" >>"$T/api.codes$1"
		curl -s -m 20 -o /dev/null -w "exemption %{http_code}\n" -H "Authorization: Bearer $ADMIN" \
			--data-binary "{\"rule_id\": \"aws-access-key-id\", \"path\": \"load/$1-$_j/*\", \"reason\": \"load\"}" \
			"$BASE/api/v1/exemptions" >>"$T/api.codes$1"
	done
}
hammer 1 &
H1=$!
hammer 2 &
H2=$!
# The pushes start once both are sending requests.
_w=0
while { [ ! -s "$T/api.codes1" ] || [ ! -s "$T/api.codes2" ]; } && [ $_w -lt 200 ]; do
	sleep 0.05
	_w=$((_w + 1))
done

i=1
pids=""
while [ $i -le $N ]; do
	(git -C "$T/c$i" push origin "b$i" >"$T/out$i" 2>&1; echo $? >"$T/rc$i") &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
during=$(cat "$T/api.codes1" "$T/api.codes2" | grep -c .)
# A few more rounds of requests after the pushes, then stop.
sleep 0.5
touch "$T/stop"
wait "$H1" "$H2"
cat "$T/api.codes1" "$T/api.codes2" >"$T/api.codes"

i=1
nok=0
while [ $i -le $N ]; do
	want=0
	[ $((i % 2)) -eq 0 ] && want=1
	got=$(cat "$T/rc$i" 2>/dev/null || echo missing)
	if { [ $want = 0 ] && [ "$got" = 0 ]; } || { [ $want = 1 ] && [ "$got" != 0 ] && [ "$got" != missing ]; }; then
		nok=$((nok + 1))
	else
		diag "push b$i: exit $got"
		diag_file "$T/out$i" 10
	fi
	i=$((i + 1))
done
is "$nok" "$N" "all $N concurrent pushes were decided as expected (leaks rejected, clean accepted)"

is "$(sql 'SELECT count(*) FROM events')" "$((base + N))" "the database has exactly $N new events"
rget "/api/v1/events?limit=500"
is "$(jr '.events | length')" "$((base + N))" "GET /api/v1/events lists exactly $N new events"
jtrue "[.events[] | select(.id > $base_max)] | (map(.kind) | map(select(. == \"rejected\")) | length) == $((N / 2))" \
	"$((N / 2)) of them rejected"
jtrue "[.events[] | select(.id > $base_max)] | (map(.kind) | map(select(. == \"accepted\")) | length) == $((N / 2))" \
	"$((N / 2)) of them accepted"
jtrue 'all(.events[]; .kind != "failed")' "no push failed (no database or cache contention)"
i=1
nref=0
while [ $i -le $N ]; do
	jq_ok --arg r "refs/heads/b$i" '[.events[] | select(any(.refs[]?; .ref == $r))] | length == 1' "$RESP" &&
		nref=$((nref + 1))
	i=$((i + 1))
done
is "$nref" "$N" "each branch's push has exactly one event"

total=$(grep -c . "$T/api.codes")
[ "$during" -ge 2 ] && [ "$total" -ge 40 ]
ok $? "the API was used while the pushes ran ($during requests answered by the time they ended, $total in all)"
grep -vE '^(events|scan|metrics) 200$|^exemption 201$' "$T/api.codes" | sort | uniq -c >"$T/api.bad"
is "$(grep -c . "$T/api.bad")" 0 "every API request during the pushes succeeded" || diag_file "$T/api.bad"
nex=$(grep -c '^exemption 201$' "$T/api.codes")
aget /api/v1/exemptions
[ "$nex" -gt 0 ] && [ "$(jr '.exemptions | length')" = "$nex" ]
ok $? "every exemption created under load is stored ($nex created, $(jr '.exemptions | length') listed)"
sqlite3 "$DB" 'PRAGMA integrity_check' >"$T/ic" 2>&1
is "$(cat "$T/ic")" ok "the database is intact"

api_done
