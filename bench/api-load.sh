#!/usr/bin/env bash
# api-load.sh: how leakgated's JSON API holds up under concurrent load while
# pre-receive hooks write audit events into the same database.
#
#   bench/api-load.sh [options]
#
# One run, all traffic on 127.0.0.1:
#   1. starts build/server/leakgated on a free loopback port with a fresh
#      database, cache and fingerprint key in the scratch folder; seeds the
#      database with --events audit events (inserted with sqlite3 into the
#      events table, with the hook's column formats: a realistic mix of
#      kinds, repositories, pushers, refs and findings over the last 30
#      days) and some exemptions made through POST /api/v1/exemptions;
#      makes an admin and a read token with `leakgate token create`.
#   2. runs wrk (-c CONN -t THREADS -d DURATION --latency), read token, on
#        a) GET /api/v1/events?limit=50
#        b) GET /api/v1/rules
#        c) POST /api/v1/scan with a ~4 KB text holding one random fake AWS
#           access key ID (checked beforehand to give exactly one finding)
#        d) GET /api/v1/events?limit=50&cursor=<random>: a different page
#           each request, so the daemon's reply cache (a read is served
#           again while the database and rule set are unchanged) almost
#           never answers: the cost of reading the pages from SQLite
#      and reports requests/s, p50/p99 latency, non-2xx responses and socket
#      errors (wrk prints those lines only when they happen: absent = 0),
#      plus the daemon's own view from its one-line-per-request log: status
#      codes and the p50/p99 of the time it logged.
#   3. during run (a), --pushers clients push --pushes times each over
#      local transport into a bare repository with the hook installed by
#      `leakgate install` and pointed at the daemon's database, cache and
#      key (git config leakgate.db / leakgate.cacheDir / leakgate.keyFile);
#      every other push carries a fresh fake AWS key and must be rejected,
#      the rest are clean and must be accepted. Afterwards the events with
#      repo = the bare repository's absolute path are counted with sqlite3
#      and compared with the pushes made.
#   4. a long history (--history N, 0 to skip): times single requests
#      (curl, median of 5, each a different URL so the reply cache does not
#      answer) for the newest page, a page near the oldest event, a filter
#      that matches nothing, a kind filter deep in the history and /metrics;
#      then copies the events table into itself until it holds N events and
#      times the same requests again: the ratio shows whether a request's
#      cost grows with the history.
#   5. slow clients (--slow N, 0 to skip): /healthz and one API read
#      (GET /api/v1/rules/aws-access-key-id, read token) are probed one
#      after another for --slow-seconds, first with nothing else connected,
#      then while N slow-loris connections (tests/slowclients: a request
#      line, then a header line every 3 s, never the end of the headers;
#      reopened at once when cut) come from 127.0.0.2-127.0.0.9 in turn, so
#      that no address is over --max-connections-per-ip: probes answered,
#      median, p99 and slowest answer time of each, and how many slow
#      connections the daemon cut.
#   6. prints a summary block (also written to <scratch>/summary.txt).
# Targets, reported and never asserted: no errors, p99 under 50 ms for the
# reads. The exit status is 0 unless something fails to run (the daemon does
# not start or dies, wrk or the set-up fails); the daemon is stopped on exit.
#
# Options:
#   --duration D     wrk duration per endpoint (default 15s)
#   --connections N  wrk connections (default 100)
#   --threads N      wrk threads (default 2)
#   --events N       audit events seeded into the database (default 2000)
#   --history N      grow the events to N for step 4 (default 250000; 0: skip)
#   --pushers N      parallel push clients during the events run (default 4)
#   --pushes N       pushes per client (default 10)
#   --slow N         slow clients for step 5 (default 1000; 0: skip)
#   --slow-seconds S probing time of step 5, each half (default 15)
#   --slowclients P  the slowclients program (default <build>/tests/slowclients,
#                    built with make when missing; give one for an older build)
#   --port N         listen on this loopback port (default: a free one)
#   --scratch DIR    scratch folder, emptied first (default /tmp/apiload)
#   --build DIR      leakgate build folder (default <source>/build)
#
# Needs wrk (installed with apt-get when missing and run as root), curl,
# jq, sqlite3 and git. Everything it makes stays under the scratch folder;
# the daemon's log is <scratch>/leakgated.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
duration=15s conns=100 wthreads=2 nevents=2000 nhistory=250000 npushers=4 npushes=10 port=""
scratch=/tmp/apiload build="$top/build" nslow=1000 slow_s=15 slowprog=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "api-load: $*" >&2; exit 1; }
say() { echo "api-load: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=${2:?}; shift 2 ;;
	--connections) conns=${2:?}; shift 2 ;;
	--threads) wthreads=${2:?}; shift 2 ;;
	--events) nevents=${2:?}; shift 2 ;;
	--history) nhistory=${2:?}; shift 2 ;;
	--pushers) npushers=${2:?}; shift 2 ;;
	--pushes) npushes=${2:?}; shift 2 ;;
	--port) port=${2:?}; shift 2 ;;
	--slow) nslow=${2:?}; shift 2 ;;
	--slow-seconds) slow_s=${2:?}; shift 2 ;;
	--slowclients) slowprog=${2:?}; shift 2 ;;
	--scratch) scratch=${2:?}; shift 2 ;;
	--build) build=${2:?}; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $scratch in /|"") die "refusing --scratch '$scratch'" ;; esac
build=$(cd "$build" && pwd) || die "no build folder $build"

daemon=$build/server/leakgated
admin=$build/admin/leakgate
hookbin=$build/hooks/leakgate-pre-receive
for b in "$daemon" "$admin" "$hookbin"; do
	[ -x "$b" ] || die "$b is missing: run ./setup.sh build"
done
for t in curl jq sqlite3 git awk timeout; do
	command -v "$t" >/dev/null || die "$t is needed"
done
case $nslow$slow_s in *[!0-9]*) die "--slow and --slow-seconds take whole numbers" ;; esac
if [ "$nslow" -gt 0 ]; then
	slowprog=${slowprog:-$build/tests/slowclients}
	if [ ! -x "$slowprog" ]; then
		say "building $slowprog"
		make -C "$build" tests/slowclients >/dev/null || die "cannot build tests/slowclients in $build (or give --slowclients)"
	fi
	[ -x "$slowprog" ] || die "$slowprog is missing"
	curl -s -m 2 --interface 127.0.0.2 -o /dev/null "http://127.0.0.1:1/" 2>/dev/null && :
	[ $? = 45 ] && die "cannot send from 127.0.0.2 here (step 5 needs 127.0.0.2-9; --slow 0 skips it)"
fi
if ! command -v wrk >/dev/null; then
	[ "$(id -u)" = 0 ] || die "wrk is needed (apt-get install wrk)"
	say "installing wrk"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } ||
		die "cannot install wrk"
fi

rm -rf "$scratch"
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
db=$scratch/state/leakgate.db cache=$scratch/cache key=$scratch/fingerprint.key
log=$scratch/leakgated.log
dpid=""
# Every program (daemon, CLI, hooks) uses the scratch key, so the marker of
# the database it makes (kept beside the key) goes with the scratch folder.
export LEAKGATE_KEY_FILE=$key LEAKGATE_CACHE_DIR=$cache

cleanup() {
	if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
		kill -TERM "$dpid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$dpid" 2>/dev/null && { say "daemon did not stop on SIGTERM in 5 s; SIGKILL"; kill -KILL "$dpid" 2>/dev/null || true; }
		wait "$dpid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'say "failed at line $LINENO: $BASH_COMMAND"' ERR

alive() { [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; }
need_alive() {
	alive && return 0
	wait "$dpid" 2>/dev/null && st=0 || st=$?
	say "leakgated (pid $dpid) is gone ($1), exit status $st; the last lines of its log:"
	tail -n 20 "$log" >&2
	dpid=""
	exit 1
}
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$dpid/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$dpid/status" 2>/dev/null || echo "?"; }
# machine-wide busy CPU seconds so far (all cores; /proc/stat, idle and iowait excluded)
machine_busy_s() { awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz; exit}' /proc/stat; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- the daemon
start_daemon() {
	local p=$1
	: >"$log"
	"$daemon" --listen "127.0.0.1:$p" --db "$db" --cache-dir "$cache" --key-file "$key" 2>>"$log" &
	dpid=$!
	local t0=$SECONDS
	while [ $((SECONDS - t0)) -lt 30 ]; do
		alive || return 1
		curl -sf --max-time 2 "http://127.0.0.1:$p/healthz" >"$scratch/healthz.json" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
tries=0
while :; do
	tries=$((tries + 1))
	p=${port:-$((20000 + RANDOM % 40000))}
	if [ -z "$port" ] && port_busy "$p"; then
		[ $tries -lt 20 ] || die "no free port found"
		continue
	fi
	if start_daemon "$p"; then
		port=$p
		break
	fi
	if alive; then
		say "leakgated did not answer /healthz in 30 s:"; tail -n 20 "$log" >&2; exit 1
	fi
	wait "$dpid" 2>/dev/null || true
	dpid=""
	if [ -n "$port" ] || [ $tries -ge 5 ]; then
		say "leakgated did not start:"; tail -n 20 "$log" >&2; exit 1
	fi
done
base=http://127.0.0.1:$port
ruleset=$(jq -r .ruleset "$scratch/healthz.json")
nrules=$(jq -r .rules "$scratch/healthz.json")
say "leakgated pid $dpid on 127.0.0.1:$port ($nrules rules), scratch $scratch"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
m0=$(machine_busy_s); sleep 1; busy0=$(awk -v a="$m0" -v b="$(machine_busy_s)" 'BEGIN {printf "%.1f", b - a}')
awk -v b="$busy0" 'BEGIN {exit !(b > 0.3)}' && say "warning: the machine is busy before the load ($busy0 cores in use, load average $load0): the numbers will be lower than on an idle machine"

atok=$("$admin" token create --role admin --name api-load-admin --db "$db" | tail -n 1)
rtok=$("$admin" token create --role read --name api-load-read --db "$db" | tail -n 1)
[ -n "$atok" ] && [ -n "$rtok" ] || die "token create printed no token"

# ---------------------------------------------------------------- seed data
# Events in the hook's formats (hooks/pre-receive.c record()): refs
# [{"ref","old","new"}], findings [{"rule_id","severity","fingerprint",
# "preview","path","commit","line","status"}], exemptions [ids].
say "seeding $nevents events"
awk -v q="'" -v n="$nevents" -v now="$(date +%s)000" -v rs="$ruleset" -v seed=7 '
function hex(k,   s, i) { s = ""; for (i = 0; i < k; i++) s = s substr("0123456789abcdef", int(rand() * 16) + 1, 1); return s }
function pick(a, m) { return a[int(rand() * m) + 1] }
function sq(s) { gsub(q, q q, s); return q s q }
BEGIN {
	srand(seed)
	nr = split("platform/api platform/web platform/billing infra/terraform infra/helm-charts data/etl data/notebooks mobile/ios mobile/android tools/ci-scripts security/policies docs/handbook", repos, " ")
	np = split("alice bob carol dave erin frank grace heidi ivan judy mallory oscar peggy trent victor walter", pushers, " ")
	nb = split("main main main develop release/2.4 feature/login feature/search fix/timeout hotfix/cve renovate/deps", branches, " ")
	nl = split("aws-access-key-id:critical:AKIA github-pat:high:ghp_ slack-bot-token:high:xoxb- stripe-secret-key:critical:sk_live_ private-key-pem:critical:-----BEGIN gcp-service-account:critical:{\"type google-api-key:medium:AIza", rules, " ")
	nf = split("config/settings.py .env deploy/values.yaml src/main/resources/application.properties scripts/deploy.sh terraform/prod.tfvars notebooks/explore.ipynb README.md docker-compose.yml", paths, " ")
	print ".timeout 10000"
	print "BEGIN;"
	for (i = 0; i < n; i++) {
		t = now - int((n - i) * (30 * 86400000 / n)) - int(rand() * 60000)
		r = rand()
		kind = r < 0.80 ? "accepted" : r < 0.88 ? "rejected" : r < 0.93 ? "warned" : r < 0.97 ? "exempted" : r < 0.99 ? "bypassed" : "failed"
		repo = "/srv/git/" pick(repos, nr) ".git"
		nref = rand() < 0.9 ? 1 : 2 + int(rand() * 3)
		refs = "["
		for (k = 0; k < nref; k++)
			refs = refs (k ? "," : "") "{\"ref\":\"refs/heads/" pick(branches, nb) "\",\"old\":\"" (rand() < 0.1 ? "0000000000000000000000000000000000000000" : hex(40)) "\",\"new\":\"" hex(40) "\"}"
		refs = refs "]"
		findings = "[]"; exs = "[]"; reason = ""
		if (kind != "accepted" && kind != "failed") {
			nfd = 1 + (rand() < 0.25 ? int(rand() * 4) : 0)
			findings = "["
			for (k = 0; k < nfd; k++) {
				split(pick(rules, nl), ru, ":")
				st = kind == "exempted" ? "exempted" : kind == "warned" ? "new" : (rand() < 0.8 ? "new" : "pre-existing")
				findings = findings (k ? "," : "") "{\"rule_id\":\"" ru[1] "\",\"severity\":\"" ru[2] "\",\"fingerprint\":\"" hex(32) "\",\"preview\":\"" ru[3] "************\",\"path\":\"" pick(paths, nf) "\",\"commit\":\"" hex(40) "\",\"line\":" 1 + int(rand() * 400) ",\"status\":\"" st "\"" (st == "exempted" ? ",\"exemption_id\":" 1 + int(rand() * 20) : "") "}"
			}
			findings = findings "]"
			if (kind == "exempted") exs = "[" 1 + int(rand() * 20) "]"
		}
		if (kind == "bypassed") reason = "test fixture, key already revoked (INC-" 1000 + int(rand() * 9000) ")"
		if (kind == "failed") reason = "time budget of 60 s exceeded while scanning"
		bytes = int(rand() * rand() * 5000000); objs = 1 + int(bytes / 9000)
		printf "INSERT INTO events (time_ms,kind,repo,pusher,protocol,refs,findings,reason,exemptions,duration_ms,bytes_scanned,objects_scanned,ruleset) VALUES (%.0f,%s,%s,%s,%s,%s,%s,%s,%s,%d,%d,%d,%s);\n", t, sq(kind), sq(repo), sq(pick(pushers, np)), sq(rand() < 0.7 ? "ssh" : "http"), sq(refs), sq(findings), sq(reason), sq(exs), 5 + int(bytes / 40000 + rand() * 40), bytes, objs, sq(rs)
	}
	print "COMMIT;"
}' >"$scratch/seed.sql"
sqlite3 "$db" <"$scratch/seed.sql" >/dev/null || die "seeding the events failed"
seeded=$(sqlite3 "$db" "SELECT count(*) FROM events")
[ "$seeded" -eq "$nevents" ] || die "seeded $seeded events, wanted $nevents"

say "creating exemptions through the API"
nex=0 exfail=0
mkex() {
	local code
	code=$(curl -s -o "$scratch/exemption.out" -w '%{http_code}' --max-time 5 -X POST \
		-H "Authorization: Bearer $atok" -H 'Content-Type: application/json' -d "$1" "$base/api/v1/exemptions") || code=000
	if [ "$code" = 201 ]; then nex=$((nex + 1)); else exfail=$((exfail + 1)); say "POST /api/v1/exemptions: $code $(head -c 300 "$scratch/exemption.out")"; fi
}
for i in $(seq 12); do
	fp=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	mkex "{\"repo\":\"/srv/git/platform/*\",\"fingerprint\":\"$fp\",\"reason\":\"revoked key kept in a test fixture (SEC-$((4000 + i)))\"}"
done
mkex '{"repo":"*","rule_id":"aws-access-key-id","path":"tests/fixtures/**","reason":"fixtures use AWS documentation keys"}'
mkex '{"repo":"/srv/git/docs/*","path":"**/*.md","reason":"documentation examples"}'
mkex '{"repo":"/srv/git/data/notebooks.git","rule_id":"google-api-key","reason":"maps key restricted by referrer","expires":"2030-01-01T00:00:00Z"}'
mkex "{\"repo\":\"*\",\"rule_id\":\"slack-bot-token\",\"path\":\"examples/**\",\"reason\":\"trial workspace\",\"expires\":$(( $(date +%s) + 86400 ))}"
for i in $(seq 4); do
	mkex "{\"repo\":\"/srv/git/infra/*\",\"rule_id\":\"private-key-rsa\",\"path\":\"ci/test-certs-$i/**\",\"reason\":\"throwaway CA for integration tests\",\"expires\":$(( $(date +%s) + 86400 * 90 ))}"
done
[ "$exfail" -eq 0 ] || die "$exfail exemption(s) could not be created"

# ---------------------------------------------------------------- scan body
b32() { local s; s=$(head -c 1024 /dev/urandom | LC_ALL=C tr -dc "A-Z2-7"); printf "%s" "${s:0:$1}"; }
akid=AKIA$(b32 16)
{
	cat <<'EOF'
"""Settings for the order service (loaded by service/app.py)."""
import os
from datetime import timedelta

SERVICE_NAME = "orders"
ENVIRONMENT = os.environ.get("ENVIRONMENT", "staging")
DEBUG = ENVIRONMENT != "production"
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

DATABASE = {
    "host": os.environ.get("DB_HOST", "orders-db.internal"),
    "port": int(os.environ.get("DB_PORT", "5432")),
    "name": "orders",
    "user": "orders_app",
    "password": os.environ["DB_PASSWORD"],
    "pool_size": 20,
    "pool_timeout": 30,
}

EOF
	echo "AWS_REGION = \"eu-west-1\""
	echo "AWS_ACCESS_KEY_ID = \"$akid\"  # TODO move to the vault before merging"
	echo "AWS_SECRET_NAME = \"orders/s3-uploader\""
	echo "S3_BUCKET = \"acme-orders-invoices-\" + ENVIRONMENT"
	echo
	for i in $(seq 1 40); do
		printf 'FEATURE_%02d_ENABLED = os.environ.get("FEATURE_%02d", "false") == "true"  # rollout step %d\n' "$i" "$i" "$i"
	done
	cat <<'EOF'

RETRY_POLICY = {"attempts": 5, "backoff": timedelta(seconds=2), "max_backoff": timedelta(minutes=1)}
CACHE_TTL = timedelta(minutes=15)
ALLOWED_HOSTS = ["orders.acme.example", "orders.internal", "localhost"]
EOF
} >"$scratch/scan.txt"
jq -Rs '{text: ., path: "service/settings.py"}' "$scratch/scan.txt" >"$scratch/scan.json"
scanbytes=$(wc -c <"$scratch/scan.json")
nfind=$(curl -sf --max-time 5 -X POST -H "Authorization: Bearer $rtok" -H 'Content-Type: application/json' \
	--data-binary @"$scratch/scan.json" "$base/api/v1/scan" | jq '.findings | length') || die "POST /api/v1/scan failed before the load"
[ "$nfind" = 1 ] || say "warning: the scan body gives $nfind findings, expected 1"
cat >"$scratch/scan.lua" <<EOF
local f = assert(io.open("$scratch/scan.json", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $rtok"
EOF

# ---------------------------------------------------------------- push set-up
export GIT_AUTHOR_NAME="Load Tester" GIT_AUTHOR_EMAIL=load@example.test
export GIT_COMMITTER_NAME="Load Tester" GIT_COMMITTER_EMAIL=load@example.test
srv=$scratch/srv.git
git init -q --bare "$srv"
"$admin" install --repo "$srv" >/dev/null
git -C "$srv" config leakgate.db "$db"
git -C "$srv" config leakgate.cacheDir "$cache"
git -C "$srv" config leakgate.keyFile "$key"
srv=$(cd "$srv" && pwd -P)
seedc=$scratch/clients/seed
git init -q -b main "$seedc"
mkdir -p "$seedc/src" "$seedc/config"
for i in $(seq 8); do
	for l in $(seq 60); do echo "def handler_${i}_$l(request):  # route /v1/items/$l"; echo "    return respond(request, status=200)"; done >"$seedc/src/mod$i.py"
done
echo "# orders service" >"$seedc/README.md"
git -C "$seedc" add -A && git -C "$seedc" commit -qm "initial import"
git -C "$seedc" push -q "$srv" HEAD:refs/heads/main 2>"$scratch/seed-push.log" || { cat "$scratch/seed-push.log" >&2; die "the initial push was rejected"; }
for c in $(seq "$npushers"); do
	git clone -q -b main "$srv" "$scratch/clients/c$c"
done
ev_before=$(sqlite3 "$db" ".timeout 10000" "SELECT coalesce(max(id),0) FROM events")

# client C: NPUSHES pushes to its own branch; leak when (C + i) is even
push_client() {
	local c=$1 dir=$scratch/clients/c$1 i kind t0 t1 rc out
	cd "$dir"
	for i in $(seq "$npushes"); do
		if [ $(((c + i) % 2)) = 0 ]; then
			kind=leak
			mkdir -p config
			printf '[default]\naws_access_key_id = AKIA%s\nregion = eu-central-1\n' "$(b32 16)" >config/aws-$c-$i.ini
		else
			kind=clean
		fi
		echo "def added_${c}_$i(request):  # client $c push $i" >>src/mod$(((i % 8) + 1)).py
		echo "- client $c push $i" >>README.md
		git add -A && git commit -qm "client $c change $i ($kind)"
		t0=$(date +%s%N)
		out=$(timeout 60 git push origin "HEAD:refs/heads/load-$c" 2>&1) && rc=0 || rc=$?
		t1=$(date +%s%N)
		printf '%s\n' "$out" >"$scratch/push-logs/c$c-$i.log"
		echo "$c $i $kind $rc $(((t1 - t0) / 1000000)) $t0 $t1"
		[ "$kind" = leak ] && git reset -q --hard HEAD~1
	done
}
mkdir -p "$scratch/push-logs"

# ---------------------------------------------------------------- wrk runs
# parse wrk output -> "rps p50ms p99ms non2xx sockerr requests bytesread sockdetail"
tomsec() { awk -v v="$1" 'BEGIN { u = v; sub(/^[0-9.]+/, "", u); n = v + 0; if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; printf "%.2f", n }'; }
parse_wrk() {
	local f=$1 rps p50 p99 non2xx sock req bytes detail
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
	p50=$(awk '$1 == "50%" {print $2}' "$f")
	p99=$(awk '$1 == "99%" {print $2}' "$f")
	non2xx=$(awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2}' "$f")
	detail=$(sed -n 's/^ *Socket errors: *//p' "$f")
	sock=$(echo "$detail" | tr ',' '\n' | awk '{s += $2} END {print s + 0}')
	req=$(awk '/requests in/ {print $1}' "$f")
	bytes=$(awk '/requests in/ {v = $5; u = v; sub(/^[0-9.]+/, "", u); n = v + 0; if (u == "KB") n *= 1024; else if (u == "MB") n *= 1048576; else if (u == "GB") n *= 1073741824; printf "%.0f", n}' "$f")
	echo "${rps:-nan} $(tomsec "${p50:-0}") $(tomsec "${p99:-0}") ${non2xx:-0} ${sock:-0} ${req:-0} ${bytes:-0} ${detail:-none}"
}
# the daemon's own log lines between two line numbers, for one method and
# path: "code x count,..." and the p50/p99 of the times it logged, in ms
server_view() {
	local from=$1 to=$2 method=$3 path=$4 lines codes pct
	lines=$(sed -n "$((from + 1)),${to}p" "$log" | awk -v m="$method" -v p="$path" '$2 == m && $3 == p')
	[ -n "$lines" ] || { echo "none - -"; return; }
	codes=$(echo "$lines" | awk '{c[$4]++} END {for (k in c) s = s (s ? "," : "") k "x" c[k]; print s}')
	pct=$(echo "$lines" | awk '{t = $5; sub(/ms$/, "", t); print t + 0}' | sort -g |
		awk '{v[NR] = $1} END {a = int(NR * 0.50); b = int(NR * 0.99); if (a < 1) a = 1; if (b < 1) b = 1; printf "%.2f %.2f", v[a], v[b]}')
	echo "$codes $pct"
}
other_lines() { sed -n "$(($1 + 1)),${2}p" "$log" | grep -Ev '^[0-9T:-]+Z (GET|POST|PUT|DELETE) /' || true; }

results=()
run_wrk() {
	local name=$1 method=$2 path=$3 url=$4 out=$5
	shift 5
	local l0 l1 rss0 cpu0 cpu1 t0 t1 m0 m1
	need_alive "before $name"
	rss0=$(rss_kb) cpu0=$(cpu_s) m0=$(machine_busy_s) t0=$(date +%s%N)
	l0=$(wc -l <"$log")
	say "wrk -c$conns -t$wthreads -d$duration --latency: $name"
	timeout 120 wrk -c"$conns" -t"$wthreads" -d"$duration" --latency "$@" "$url" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "wrk failed on $name"; }
	t1=$(date +%s%N) cpu1=$(cpu_s) m1=$(machine_busy_s)
	need_alive "after $name"
	sleep 0.3
	l1=$(wc -l <"$log")
	results+=("$name|$(parse_wrk "$out")|$(server_view "$l0" "$l1" "$method" "$path")|$rss0|$(rss_kb)|$(awk -v a="$cpu0" -v b="$cpu1" -v ma="$m0" -v mb="$m1" -v t=$(((t1 - t0) / 1000000)) 'BEGIN {printf "%.1f %.0f %.1f %.1f", b - a, 100 * (b - a) / (t / 1000), (mb - ma) / (t / 1000), (mb - ma - (b - a)) / (t / 1000)}')")
	local other nother=0
	other=$(other_lines "$l0" "$l1")
	if [ -n "$other" ]; then
		nother=$(echo "$other" | wc -l)
		say "daemon log lines during $name that are not request lines ($nother; up to 10 distinct shown):"
		echo "$other" | sort | uniq -c | sort -rn | head -n 10 >&2
	fi
	results[${#results[@]} - 1]+="|$nother $(echo "$other" | sort | uniq -c | sort -rn | head -n 1 | sed 's/^ *[0-9]* //')"
}

auth=(-H "Authorization: Bearer $rtok")

# (a) events, with the push clients running alongside
(sleep 1; for c in $(seq "$npushers"); do push_client "$c" & done; wait) >"$scratch/pushes.txt" 2>"$scratch/pushes.err" &
pushers_pid=$!
wrk_t0=$(date +%s%N)
run_wrk "GET /api/v1/events?limit=50" GET /api/v1/events "$base/api/v1/events?limit=50" "$scratch/wrk-events.txt" "${auth[@]}"
wrk_t1=$(date +%s%N)
t0=$SECONDS
while kill -0 "$pushers_pid" 2>/dev/null && [ $((SECONDS - t0)) -lt 120 ]; do sleep 0.5; done
if kill -0 "$pushers_pid" 2>/dev/null; then
	say "push clients still running after 120 s; stopping them"
	kill -- "$pushers_pid" 2>/dev/null || true
fi
wait "$pushers_pid" 2>/dev/null || true

# (b) rules, (c) scan
run_wrk "GET /api/v1/rules" GET /api/v1/rules "$base/api/v1/rules" "$scratch/wrk-rules.txt" "${auth[@]}"
run_wrk "POST /api/v1/scan ($((scanbytes / 1024)) KB)" POST /api/v1/scan "$base/api/v1/scan" "$scratch/wrk-scan.txt" -s "$scratch/scan.lua"
# (d) events again, a random page each time: past the reply cache
cat >"$scratch/pages.lua" <<EOF
math.randomseed(7)
wrk.headers["Authorization"] = "Bearer $rtok"
request = function()
  return wrk.format("GET", "/api/v1/events?limit=50&cursor=" .. math.random(51, $nevents))
end
EOF
run_wrk "GET /api/v1/events (random pages)" GET /api/v1/events "$base/api/v1/events" "$scratch/wrk-pages.txt" -s "$scratch/pages.lua"

# ---------------------------------------------------------------- hook accounting
pushed=$(wc -l <"$scratch/pushes.txt")
expected=$((npushers * npushes))
read -r leaks_ok leaks_bad clean_ok clean_bad during < <(awk -v a="$wrk_t0" -v b="$wrk_t1" '
	$3 == "leak" { if ($4 != 0) lo++; else lb++ }
	$3 == "clean" { if ($4 == 0) co++; else cb++ }
	$6 >= a && $7 <= b { d++ }
	END { print lo + 0, lb + 0, co + 0, cb + 0, d + 0 }' "$scratch/pushes.txt")
read -r push_p50 push_max < <(awk '{print $5}' "$scratch/pushes.txt" | sort -n | awk '{v[NR] = $1} END {if (!NR) {print "- -"; exit} print v[int((NR + 1) / 2)], v[NR]}')
q="SELECT count(*) FROM events WHERE repo = '$srv' AND id > $ev_before"
recorded=$(sqlite3 "$db" ".timeout 10000" "$q")
kinds=$(sqlite3 "$db" ".timeout 10000" "SELECT group_concat(kind || ' ' || n, ', ') FROM (SELECT kind, count(*) n FROM events WHERE repo = '$srv' AND id > $ev_before GROUP BY kind ORDER BY kind)")
lost=$((pushed - recorded))
api_count=$(curl -sf --max-time 5 "${auth[@]}" "$base/api/v1/events?limit=500&repo=$(jq -rn --arg r "$srv" '$r|@uri')" | jq '.events | length' || echo "?")
total_events=$(sqlite3 "$db" ".timeout 10000" "SELECT count(*) FROM events")
need_alive "at the end"
curl -sf --max-time 5 "$base/healthz" >/dev/null || say "warning: /healthz did not answer at the end"

# ---------------------------------------------------------------- slow clients
# probe SECONDS OUT: /healthz then one API read, one after the other, until
# SECONDS have passed; one line per probe: "healthz CODE MS" / "read CODE MS"
probe() {
	local t_end=$((SECONDS + $1)) c
	: >"$2"
	while [ $SECONDS -lt $t_end ]; do
		c=$(curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}' "$base/healthz") || true
		echo "healthz ${c:-000 10}" >>"$2"
		c=$(curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}' "${auth[@]}" "$base/api/v1/rules/aws-access-key-id") || true
		echo "read ${c:-000 10}" >>"$2"
		sleep 0.1
	done
}
# probe_view FILE WHAT: "answered/probes p50ms p99ms maxms" over every probe
# of that kind (one that got no 200 counts with the time it took to fail)
probe_view() {
	local answered
	answered=$(awk -v w="$2" '$1 == w && $2 == 200' "$1" | wc -l)
	awk -v w="$2" '$1 == w {print $3 * 1000}' "$1" | sort -g |
		awk -v a="$answered" '{v[NR] = $1} END {
			if (!NR) {print "0/0 - - -"; exit}
			i = int(NR * 0.5); j = int(NR * 0.99); if (i < 1) i = 1; if (j < 1) j = 1
			printf "%d/%d %.1f %.1f %.1f", a, NR, v[i], v[j], v[NR] }'
}
slow_quiet="" slow_loaded="" slow_line=""
if [ "$nslow" -gt 0 ]; then
	need_alive "before the slow clients"
	say "probing /healthz and an API read for ${slow_s} s, nothing else connected"
	probe "$slow_s" "$scratch/probe-quiet.txt"
	say "probing again while $nslow slow clients are connected"
	"$slowprog" "127.0.0.1:$port" "$nslow" $((slow_s + 4)) 3 \
		127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9 >"$scratch/slowclients.txt" 2>&1 &
	slow_pid=$!
	sleep 2
	probe "$slow_s" "$scratch/probe-slow.txt"
	wait "$slow_pid" || say "slowclients exited with status $?"
	slow_line=$(tail -n 1 "$scratch/slowclients.txt")
	need_alive "after the slow clients"
	for w in healthz read; do
		slow_quiet+="$(probe_view "$scratch/probe-quiet.txt" $w)|"
		slow_loaded+="$(probe_view "$scratch/probe-slow.txt" $w)|"
	done
fi

# ---------------------------------------------------------------- a long history
# hist_time PATH: median of 5 requests in ms; "{i}" in PATH becomes 1..5 so
# that each request is a different URL (past the reply cache).
hist_time() {
	local i
	for i in 1 2 3 4 5; do
		curl -s -o /dev/null --max-time 60 -w '%{time_total}\n' "${auth[@]}" "$base${1//\{i\}/$i}"
	done | sort -n | awk 'NR == 3 {printf "%.2f", $1 * 1000}'
}
hist_names=("newest page" "a page near the oldest event" "filter matching nothing" "kind=failed, deep" "/metrics")
hist_paths=("/api/v1/events?limit=5{i}" "/api/v1/events?limit=50&cursor=6{i}" "/api/v1/events?limit=50&pusher=nobody-{i}"
	"/api/v1/events?limit=50&kind=failed&cursor=6{i}0" "/metrics?{i}")
hist_before=() hist_after=() hist_n0=0 hist_n1=0 hist_grow_s=0
if [ "$nhistory" -gt 0 ]; then
	hist_n0=$(sqlite3 "$db" ".timeout 10000" "SELECT count(*) FROM events")
	for i in "${!hist_paths[@]}"; do hist_before+=("$(hist_time "${hist_paths[$i]}")"); done
	say "growing the events to $nhistory (copies of the rows already there)"
	cols="time_ms, kind, repo, pusher, protocol, refs, findings, reason, exemptions, duration_ms, bytes_scanned, objects_scanned, ruleset"
	t0=$(date +%s.%N)
	n=$hist_n0
	while [ "$n" -lt "$nhistory" ]; do
		sqlite3 "$db" ".timeout 30000" "INSERT INTO events ($cols) SELECT $cols FROM events ORDER BY id LIMIT $((nhistory - n))" >/dev/null
		n=$(sqlite3 "$db" ".timeout 10000" "SELECT count(*) FROM events")
	done
	hist_grow_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
	hist_n1=$n
	need_alive "after growing the history"
	for i in "${!hist_paths[@]}"; do hist_after+=("$(hist_time "${hist_paths[$i]}")"); done
fi

# ---------------------------------------------------------------- summary
{
	echo "leakgated load, 127.0.0.1:$port: wrk -c$conns -t$wthreads -d$duration --latency; $(nproc) CPUs"
	echo "db: $nevents seeded events, $nex exemptions via the API, $nrules rules; before the load: $busy0 cores busy, load average $load0"
	echo
	for r in "${results[@]}"; do
		IFS='|' read -r name w s r0 r1 cpu oth <<<"$r"
		read -r rps p50 p99 non2xx sock req bytes detail <<<"$w"
		printf '%-34s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d\n' "$name" "$rps" "$p50" "$p99" $((non2xx + sock))
	done
	printf '%-34s %d pushes, %d events recorded, %d lost\n' "hooks during the load" "$pushed" "$recorded" "$lost"
	if [ "$nhistory" -gt 0 ]; then
		echo
		echo "a long history: one request at a time, median of 5 (ms), at $hist_n0 events and at $hist_n1 (grown in ${hist_grow_s} s)"
		for i in "${!hist_paths[@]}"; do
			printf '  %-30s %8s ms -> %8s ms  x%s\n' "${hist_names[$i]}" "${hist_before[$i]}" "${hist_after[$i]}" \
				"$(awk -v a="${hist_before[$i]}" -v b="${hist_after[$i]}" 'BEGIN {printf "%.1f", (a > 0 ? b / a : 0)}')"
		done
	fi
	if [ "$nslow" -gt 0 ]; then
		echo
		echo "slow clients: probes one after another for ${slow_s} s each (answered/sent, p50/p99/slowest in ms)"
		IFS='|' read -r qh qr _ <<<"$slow_quiet"
		IFS='|' read -r lh lr _ <<<"$slow_loaded"
		for pair in "/healthz|$qh|$lh" "GET /api/v1/rules/{id}|$qr|$lr"; do
			IFS='|' read -r what q l <<<"$pair"
			read -r qa q50 q99 qmax <<<"$q"
			read -r la l50 l99 lmax <<<"$l"
			printf '  %-24s alone %9s  %6s / %6s / %6s   with %d slow clients %9s  %6s / %6s / %6s\n' \
				"$what" "$qa" "$q50" "$q99" "$qmax" "$nslow" "$la" "$l50" "$l99" "$lmax"
		done
		echo "  slowclients: ${slow_line:-no output} (opened in all, cut by the daemon, open at the end, connects that failed)"
	fi
	echo
	echo "details:"
	for r in "${results[@]}"; do
		IFS='|' read -r name w s r0 r1 cpu oth <<<"$r"
		read -r rps p50 p99 non2xx sock req bytes detail <<<"$w"
		read -r codes sp50 sp99 <<<"$s"
		read -r cpus cpupct mcores ocores <<<"$cpu"
		echo "  $name: $req requests, $((bytes / (req > 0 ? req : 1))) bytes per response (headers included); non-2xx $non2xx; socket errors $sock ($detail)"
		echo "    daemon: log status ${codes//x/ x}; logged time p50 $sp50 ms p99 $sp99 ms; CPU ${cpus} s (${cpupct}% of one core, $(awk -v c="$cpus" -v n="$req" 'BEGIN {printf "%.2f", n ? 1000 * c / n : 0}') ms per request); RSS ${r0} -> ${r1} kB"
		read -r nother firstother <<<"$oth"
		[ "$nother" = 0 ] || echo "    daemon log: $nother lines that are not request lines, most frequent: $firstother"
		echo "    machine: $mcores of $(nproc) cores busy on average, $ocores of them outside leakgated (wrk, hooks, other processes)"
	done
	echo "  hooks: $pushed of $expected pushes ran ($during entirely inside the events run), push time p50 ${push_p50} ms max ${push_max} ms"
	echo "    leaking pushes rejected $leaks_ok, accepted $leaks_bad; clean pushes accepted $clean_ok, rejected $clean_bad"
	echo "    events with repo = $srv after the set-up push: $recorded (${kinds:-none}); GET /api/v1/events?repo=...: $api_count (set-up push included)"
	echo "  events in the db after the load runs (before the long history): $total_events"
	echo "  artefacts: $scratch (leakgated.log, wrk-*.txt, pushes.txt, push-logs/)"
} | tee "$scratch/summary.txt"
[ -s "$scratch/pushes.err" ] && { say "push client stderr:"; head -n 20 "$scratch/pushes.err" >&2; }
exit 0
