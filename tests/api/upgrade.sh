#!/bin/sh
# A state database written by an earlier leakgate (schema version 2,
# tests/api/state-v2.sql) is migrated when leakgated opens it: nothing is
# lost, event pages and filters read the old events, /metrics reports the
# old events through the totals that migration 3 computes, and new pushes
# keep those totals up to date. A database newer than this leakgate is
# refused, not touched.
. "$(dirname "$0")/lib.sh"

sqlite3 "$DB" <"$LEAKGATE_SRC/tests/api/state-v2.sql"
is "$(sql 'PRAGMA user_version')" 2 "the old database is at schema version 2"
is "$(sql 'SELECT count(*) FROM events')" 5 "with 5 events"

start_daemon || bail "leakgated did not start on the old database"
is "$(sql 'PRAGMA user_version')" 4 "leakgated migrated it to the current version (4) at start"
is "$(sql 'PRAGMA integrity_check')" ok "the migrated database is intact"
is "$(sql 'SELECT count(*) FROM events')" 5 "all 5 events are kept"

ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"

# ---- events: pages and filters over the old rows ----
rget "/api/v1/events?limit=2"
is "$(jr '[.events[].id] | join(",")')" "5,4" "page 1: the two newest events"
cur=$(jr .next_cursor)
rget "/api/v1/events?limit=2&cursor=$cur"
is "$(jr '[.events[].id] | join(",")')" "3,2" "page 2 from its cursor"
cur=$(jr .next_cursor)
rget "/api/v1/events?limit=2&cursor=$cur"
is "$(jr '[.events[].id] | join(",")') $(jr .next_cursor)" "1 null" "page 3: the oldest event, no next cursor"
rget "/api/v1/events?pusher=carol"
is "$(jr '[.events[].id] | join(",")')" "4,3" "pusher filter"
rget "/api/v1/events?repo=/srv/git/b.git&kind=accepted"
is "$(jr '[.events[].id] | join(",")')" "5" "repo and kind filters together"
rget "/api/v1/events?repo=/srv/git/a.git&limit=1&cursor=2"
is "$(jr '[.events[].id] | join(",")') $(jr .next_cursor)" "1 null" "repo filter with a cursor"
rget "/api/v1/events/2"
jtrue '.kind == "rejected" and .findings[0].fingerprint == "00112233445566778899aabbccddeeff" and .refs[0].ref == "refs/heads/dev"' \
	"an old event keeps its findings and refs"

# ---- /metrics from the totals computed by the migration ----
metrics() {
	curl -s -m 10 -H "Authorization: Bearer $READ" "$BASE/metrics" >"$T/metrics"
}
metric() {
	awk -v m="$1" '$1 == m {print $2}' "$T/metrics"
}
metrics
is "$(metric 'leakgate_pushes_total{kind="accepted"}') $(metric 'leakgate_pushes_total{kind="rejected"}') $(metric 'leakgate_pushes_total{kind="warned"}') $(metric 'leakgate_pushes_total{kind="failed"}') $(metric 'leakgate_pushes_total{kind="bypassed"}')" \
	"2 1 1 1 0" "pushes_total by kind counts the old events"
# durations 8, 40, 300, 61000, 2 ms
is "$(metric 'leakgate_push_duration_seconds_bucket{le="0.01"}') $(metric 'leakgate_push_duration_seconds_bucket{le="0.05"}') $(metric 'leakgate_push_duration_seconds_bucket{le="0.5"}') $(metric 'leakgate_push_duration_seconds_bucket{le="60"}') $(metric 'leakgate_push_duration_seconds_bucket{le="+Inf"}')" \
	"2 3 4 4 5" "duration buckets are cumulative counts of the old events"
is "$(metric leakgate_push_duration_seconds_sum) $(metric leakgate_push_duration_seconds_count)" "61.350 5" \
	"duration sum and count"
# bytes 1200, 52000, 2000000, 20000000, 500
is "$(metric 'leakgate_scan_bytes_bucket{le="1000"}') $(metric 'leakgate_scan_bytes_bucket{le="10000"}') $(metric 'leakgate_scan_bytes_bucket{le="1e+06"}') $(metric 'leakgate_scan_bytes_bucket{le="1e+07"}') $(metric 'leakgate_scan_bytes_bucket{le="1e+08"}')" \
	"1 2 3 4 5" "scan bytes buckets"
is "$(metric leakgate_scan_bytes_sum)" 22053700 "scan bytes sum"

# ---- new pushes after the upgrade are counted ----
SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
push_file "$T/c" README.md "hello"
is "$rc" 0 "a clean push is accepted"
push_file "$T/c" app.env "AWS_ACCESS_KEY_ID=$(fake_aws_key)"
isnt "$rc" 0 "a leaking push is rejected"
metrics
is "$(metric 'leakgate_pushes_total{kind="accepted"}') $(metric 'leakgate_pushes_total{kind="rejected"}') $(metric leakgate_push_duration_seconds_count) $(metric 'leakgate_scan_bytes_bucket{le="+Inf"}')" \
	"3 2 7 7" "the new pushes are added to the totals"
is "$(metric leakgate_push_duration_seconds_count)" "$(sql 'SELECT count(*) FROM events')" \
	"the histogram count equals the number of events"
rget "/api/v1/events?limit=1"
jtrue '.events[0].kind == "rejected" and .events[0].id == 7' "the newest event is the rejected push (id 7)"

# ---- restart: no second migration ----
stop_daemon TERM
is "$stop_rc" 0 "leakgated stops"
start_daemon || bail "leakgated did not start again"
metrics
is "$(metric 'leakgate_pushes_total{kind="accepted"}') $(metric leakgate_push_duration_seconds_count)" "3 7" \
	"after a restart the totals are the same (not computed twice)"
stop_daemon TERM

# ---- a database from a newer leakgate is refused and left alone ----
sqlite3 "$T/new.db" <"$LEAKGATE_SRC/tests/api/state-v2.sql"
sqlite3 "$T/new.db" 'PRAGMA user_version = 99'
cksum <"$T/new.db" >"$T/new.sum"
refuses "$T/new.out" "leakgated refuses a database of schema version 99" \
	--listen "127.0.0.1:$(random_port)" --db "$T/new.db" --cache-dir "$LEAKGATE_CACHE_DIR" \
	--key-file "$LEAKGATE_KEY_FILE" --no-hook-server
grep -q "schema version 99 is newer" "$T/new.out"
ok $? "and says why" || diag_file "$T/new.out" 5
cksum <"$T/new.db" | cmp -s - "$T/new.sum"
ok $? "the newer database is left unchanged"

api_done
