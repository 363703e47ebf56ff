#!/bin/sh
# Slow clients cannot starve the API (issue 9, case 3): 1,100 connections
# that each send a request line and then one header line every few seconds,
# never finishing, from four client addresses, and that reconnect as soon as
# they are cut. Meanwhile health checks and API reads from another address
# are answered, the slow connections are cut (header deadline, per-address
# limit), and once they stop the daemon is as it was.
. "$(dirname "$0")/lib.sh"

SLOW=$LEAKGATE_BUILD/tests/slowclients
[ -x "$SLOW" ] || bail "no $SLOW (make check builds it)"
# 127.0.0.2-5 are loopback addresses on Linux without any set-up.
curl -s -m 2 --interface 127.0.0.2 -o /dev/null "http://127.0.0.1:1/" 2>/dev/null
[ $? = 45 ] && bail "cannot send from 127.0.0.2 here"

start_daemon || bail "leakgated does not start"
READ=$(make_token read viewer) || bail "no read token"

"$SLOW" "127.0.0.1:$PORT" 1100 16 3 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 >"$T/slow.out" 2>&1 &
SP=$!
sleep 2
# Probes, one after another, while the slow clients hold on.
probes=0 good=0 reads=0 good_reads=0 worst=0
t_end=$(($(date +%s) + 12))
while [ "$(date +%s)" -lt "$t_end" ]; do
	t0=$(date +%s%N)
	c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/healthz")
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -gt "$worst" ] && worst=$ms
	probes=$((probes + 1))
	[ "$c" = 200 ] && good=$((good + 1))
	c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $READ" "$BASE/api/v1/rules/aws-access-key-id")
	reads=$((reads + 1))
	[ "$c" = 200 ] && good_reads=$((good_reads + 1))
	sleep 0.3
done
wait "$SP"
diag "slow clients: $(cat "$T/slow.out"); health checks: $good of $probes answered, the slowest in $worst ms"
is "$good" "$probes" "every health check is answered while 1,100 slow clients are connected ($probes)"
is "$good_reads" "$reads" "and every API read ($reads)"
set -- $(cat "$T/slow.out")
[ "${2:-0}" -ge 1100 ] && [ "${4:-0}" -ge 1 ]
ok $? "the slow connections were opened ($2) and the daemon cut them ($4 cut)"
sleep 1
healthz_ok "$BASE"
ok $? "afterwards /healthz still answers"
grep -c ' 200 ' "$LGD_LOG" >"$T/n200"
[ "$(cat "$T/n200")" -ge "$probes" ]
ok $? "the daemon logged the answered requests"

api_done
