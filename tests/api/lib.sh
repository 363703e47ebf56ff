# Shared helpers for the HTTP tests of the admin daemon (leakgated).
#
# Sourced by every tests/api/*.sh script. It builds on tests/hook/lib.sh
# (TAP output, the temporary world $T, repositories, fake credentials) and
# adds: a daemon on a free loopback port with its own database, cache and
# key inside $T; tokens; an HTTP client (curl) whose answers are read with jq.
#
# Everything the scripts start is stopped when they end (trap in hook/lib.sh).

# hook/lib.sh finds the source tree from $0 (two levels up), which is the
# same for tests/api/*.sh.
_lg_hooklib=$(cd "$(dirname "$0")/../hook" 2>/dev/null && pwd)/lib.sh
if [ ! -f "$_lg_hooklib" ]; then
	echo "Bail out! tests/hook/lib.sh not found next to $0"
	exit 1
fi
. "$_lg_hooklib"
[ -n "${T:-}" ] && [ -d "$T" ] || { echo "Bail out! no temporary folder"; exit 1; }


LGD=$LEAKGATE_BUILD/server/leakgated
[ -x "$LGD" ] || bail "no daemon at $LGD (build first)"
command -v curl >/dev/null 2>&1 || bail "curl is not installed (setup.sh installs it)"

# The daemon and the hooks of this script share one database, one compiled
# rule cache and one fingerprint key, all inside $T.
DB=$T/lg.db
_lg_shared_cache=$LEAKGATE_CACHE_DIR
_lg_shared_key=$LEAKGATE_KEY_FILE
LEAKGATE_CACHE_DIR=$T/cache
LEAKGATE_KEY_FILE=$T/fingerprint.key
export LEAKGATE_CACHE_DIR LEAKGATE_KEY_FILE
mkdir -p -m 700 "$LEAKGATE_CACHE_DIR"
# The built-in rule set compiled by earlier tests is the same for everyone
# (cache entries are named by the hash of the rules, and authenticated with
# the key): start from a copy of both, to save a compilation per script.
# Rule changes made here stay in $T.
cp -p "$_lg_shared_key" "$LEAKGATE_KEY_FILE" 2>/dev/null || true
cp -p "$_lg_shared_cache"/*.hsdb "$LEAKGATE_CACHE_DIR"/ 2>/dev/null || true

# ---- the daemon ----

PORT=""
LGD_PID=""
SCHEME=http
BASE=""
LGD_LOG=$T/leakgated.log
_lg_daemons=""

_lg_stop_daemons() {
	for _p in $_lg_daemons; do
		kill -TERM "$_p" 2>/dev/null
	done
	for _p in $_lg_daemons; do
		_i=0
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 50 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -KILL "$_p" 2>/dev/null
	done
	_lg_daemons=""
}
at_exit _lg_stop_daemons

# random_port: a port number in 20000-32767, below Linux's range of
# ephemeral ports (32768-60999, taken by outgoing connections of every test
# running at the same time).
random_port() {
	echo $((20000 + $(od -An -tu4 -N4 /dev/urandom | tr -d ' ') % 12768))
}

# healthz_ok URL_BASE [curl options]: /healthz answers 200 with status ok.
healthz_ok() {
	_b=$1
	shift
	[ "$(curl -s -m 2 "$@" "$_b/healthz" 2>/dev/null | jq -r .status 2>/dev/null)" = ok ]
}

# start_daemon [leakgated options]: start leakgated on a free loopback port
# over $DB, $LEAKGATE_CACHE_DIR and $LEAKGATE_KEY_FILE; sets PORT, LGD_PID,
# BASE. Tries other ports when one is taken; returns 1 when it cannot start.
# With --tls-cert, set SCHEME=https first.
start_daemon() {
	_try=0
	while [ $_try -lt 10 ]; do
		_try=$((_try + 1))
		PORT=$(random_port)
		BASE=$SCHEME://127.0.0.1:$PORT
		echo "# start: leakgated --listen 127.0.0.1:$PORT $*" >>"$LGD_LOG"
		"$LGD" --listen "127.0.0.1:$PORT" --db "$DB" --cache-dir "$LEAKGATE_CACHE_DIR" \
			--key-file "$LEAKGATE_KEY_FILE" "$@" 2>>"$LGD_LOG" &
		LGD_PID=$!
		_lg_daemons="$_lg_daemons $LGD_PID"
		_w=0
		# Up to 10 s for it to answer, as long as it is alive.
		while [ $_w -lt 100 ] && kill -0 "$LGD_PID" 2>/dev/null; do
			if healthz_ok "$BASE" -k; then
				# Answered: make sure it is our process that holds the port
				# (another one could have answered while ours failed to bind).
				sleep 0.1
				if kill -0 "$LGD_PID" 2>/dev/null && healthz_ok "$BASE" -k; then
					return 0
				fi
				break
			fi
			sleep 0.1
			_w=$((_w + 1))
		done
		if kill -0 "$LGD_PID" 2>/dev/null; then
			# Alive but not answering in time: not a port problem; give up.
			kill -KILL "$LGD_PID" 2>/dev/null
			wait "$LGD_PID" 2>/dev/null
			diag "leakgated did not answer /healthz within 10 s:"
			diag_file "$LGD_LOG" 30
			return 1
		fi
		# It exited: it is not running, so it is not one of the daemons to
		# stop at the end. Another port only helps when this one was taken.
		wait "$LGD_PID" 2>/dev/null
		_st=$?
		_lg_daemons=$(echo "$_lg_daemons" | tr ' ' '\n' | grep -vx "$LGD_PID" | tr '\n' ' ')
		if ! tail -n 3 "$LGD_LOG" | grep -q "cannot listen"; then
			diag "leakgated exited at start (status $_st):"
			diag_file "$LGD_LOG" 5
			return 1
		fi
		diag "leakgated on port $PORT exited at start (status $_st, the port is taken); trying another port"
	done
	diag "leakgated could not be started (10 ports tried):"
	diag_file "$LGD_LOG" 30
	return 1
}

# refuses OUT DESC ARGS...: leakgated ARGS must exit with an error status
# within 10 s (its output in OUT); one assertion named DESC.
refuses() {
	_out=$1
	_desc=$2
	shift 2
	"$LGD" "$@" >"$_out" 2>&1 &
	_p=$!
	_w=0
	while kill -0 "$_p" 2>/dev/null && [ $_w -lt 100 ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
	if kill -0 "$_p" 2>/dev/null; then
		kill "$_p"
		wait "$_p"
		fail "$_desc (it kept running)"
	else
		wait "$_p"
		isnt "$?" 0 "$_desc"
	fi
}

# stop_daemon [SIGNAL]: stop the daemon started last; its exit status in
# $stop_rc ("timeout" when it was still alive after 10 s and had to be killed),
# the time it took in $stop_ms.
stop_daemon() {
	_sig=${1:-TERM}
	_t0=$(date +%s%N)
	kill -"$_sig" "$LGD_PID" 2>/dev/null
	_w=0
	while kill -0 "$LGD_PID" 2>/dev/null && [ $_w -lt 100 ]; do
		# A zombie counts as gone: wait reaps it below.
		[ "$(ps -o stat= -p "$LGD_PID" 2>/dev/null | cut -c1)" = Z ] && break
		sleep 0.05
		_w=$((_w + 1))
	done
	if kill -0 "$LGD_PID" 2>/dev/null && [ "$(ps -o stat= -p "$LGD_PID" 2>/dev/null | cut -c1)" != Z ]; then
		kill -KILL "$LGD_PID" 2>/dev/null
		wait "$LGD_PID" 2>/dev/null
		stop_rc=timeout
	else
		wait "$LGD_PID" 2>/dev/null
		stop_rc=$?
	fi
	stop_ms=$((($(date +%s%N) - _t0) / 1000000))
	_lg_daemons=$(echo "$_lg_daemons" | tr ' ' '\n' | grep -vx "$LGD_PID" | tr '\n' ' ')
}

# api_done: stop the daemons still running (SIGTERM: each must exit 0
# promptly), check that none of them reported a sanitizer error (ASan,
# LeakSanitizer, UBSan builds), then end the TAP output.
api_done() {
	_bad=""
	for _p in $_lg_daemons; do
		LGD_PID=$_p
		stop_daemon TERM
		[ "$stop_rc" = 0 ] || _bad="$_bad $_p:$stop_rc"
	done
	is "${_bad:-none}" none "every leakgated still running stops on SIGTERM with status 0"
	if grep -qE 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:' "$LGD_LOG" 2>/dev/null; then
		fail "leakgated reported no sanitizer error"
		grep -E -A12 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:' "$LGD_LOG" | head -40 |
			awk '{print "#   " $0}'
	else
		pass "leakgated reported no sanitizer error"
	fi
	done_testing
}

# ---- tokens ----

# make_token ROLE [NAME]: create a token; prints it (the last line of the output).
make_token() {
	"$LG" token create --role "$1" ${2:+--name "$2"} --db "$DB" >"$T/token.out" 2>&1 ||
		{ diag_file "$T/token.out"; return 1; }
	tail -n 1 "$T/token.out"
}

# token_id TOKEN: the number `leakgate token list --json` gives the token
# (matched by the prefix it shows).
token_id() {
	"$LG" token list --db "$DB" --json 2>/dev/null |
		jq -r --arg t "$1" '.[] | select(.prefix as $p | $p != null and ($t | startswith($p))) | .id' | tail -n 1
}

# ---- HTTP ----

RESP=$T/resp
HDRS=$T/resp.headers
code=""

# req METHOD PATH TOKEN [BODY] [curl options...]: one request. TOKEN "" sends
# no Authorization header; BODY "" sends none; BODY @FILE sends a file.
# The status is in $code ("000" when there was no HTTP answer), the body in
# $RESP, the headers in $HDRS.
req() {
	_m=$1
	_p=$2
	_tok=$3
	_body=${4:-}
	shift 3
	[ $# -gt 0 ] && shift
	set -- -s -m 30 -k -X "$_m" -o "$RESP" -D "$HDRS" -w '%{http_code}' "$@"
	[ -n "$_tok" ] && set -- "$@" -H "Authorization: Bearer $_tok"
	if [ -n "$_body" ]; then
		set -- "$@" -H 'Content-Type: application/json' --data-binary "$_body"
	fi
	: >"$RESP"
	code=$(curl "$@" "$BASE$_p" 2>/dev/null | tail -c 3)
	[ -n "$code" ] || code=000
	return 0
}

# Shorthands with the admin token ($ADMIN) and the read token ($READ).
aget() {
	_a=$1
	shift
	req GET "$_a" "$ADMIN" "" "$@"
}
rget() {
	_a=$1
	shift
	req GET "$_a" "$READ" "" "$@"
}
apost() { req POST "$1" "$ADMIN" "$2"; }
adel() { req DELETE "$1" "$ADMIN"; }

# jr FILTER: jq -r FILTER over the last answer ("" when it is not JSON).
jr() {
	jq -r "$1" "$RESP" 2>/dev/null
}

# status_is EXPECTED DESC: the last answer had status EXPECTED (a list such
# as "400|422" allows several).
status_is() {
	case "|$1|" in
	*"|$code|"*)
		pass "$2"
		;;
	*)
		fail "$2"
		diag "  status $code, expected $1; body:"
		diag_file "$RESP" 20
		return 1
		;;
	esac
}

# jis FILTER EXPECTED DESC: jq -r FILTER over the last answer is EXPECTED.
jis() {
	_got=$(jr "$1")
	if [ "$_got" = "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "  $1: got '$_got', expected '$2'; body:"
		diag_file "$RESP" 20
		return 1
	fi
}

# jq_ok [jq options] FILTER FILE: the last value FILTER gives over FILE is
# neither false nor null (jq -e, except that an empty or unreadable file
# fails: jq 1.6 -e succeeds on empty input).
jq_ok() {
	_v=$(jq -c "$@" 2>/dev/null) || return 1
	_v=$(printf '%s\n' "$_v" | tail -n 1)
	[ -n "$_v" ] && [ "$_v" != false ] && [ "$_v" != null ]
}

# jtrue FILTER DESC: FILTER over the last answer holds (see jq_ok).
jtrue() {
	if jq_ok "$1" "$RESP"; then
		pass "$2"
	else
		fail "$2"
		diag "  not true: $1; body:"
		diag_file "$RESP" 20
		return 1
	fi
}

# error_is STATUS CODE DESC: status STATUS and {"error": {"code": CODE, "message": "..."}}.
error_is() {
	if [ "$code" = "$1" ] && [ "$(jr .error.code)" = "$2" ] &&
		[ -n "$(jr '.error.message // empty')" ]; then
		pass "$3"
	else
		fail "$3"
		diag "  expected $1 with error code '$2', got $code; body:"
		diag_file "$RESP" 20
		return 1
	fi
}

# ---- rules and pushes ----

# rule_json ID PATTERN EX1 EX2 NEG1 NEG2: a complete custom rule object.
rule_json() {
	jq -cn --arg id "$1" --arg p "$2" --arg e1 "$3" --arg e2 "$4" --arg n1 "$5" --arg n2 "$6" '{
		id: $id, name: ("Test rule " + $id),
		description: "A credential format made up for the API tests.",
		severity: "high", pattern: $p,
		remediation: "Revoke the token in the issuing console, then rewrite the commits.",
		examples: [$e1, $e2], negative_examples: [$n1, $n2]
	}'
}

# acme_token: an internal-format token that the acme rule below finds.
acme_token() {
	printf 'acme_%s\n' "$(rand_chars 'a-z0-9' 24)"
}

# acme_rule ID: a custom rule for acme_ tokens (24 lower-case letters/digits).
acme_rule() {
	rule_json "$1" '\b(acme_[a-z0-9]{24})\b' \
		"token = acme_q8x2m4k9z7w3v5t1r6y0p2n8" \
		"ACME_TOKEN=acme_7h3k9m2q5w8z1x4c6v0b3n7m" \
		"acme_short123" \
		"token = acme_Q8X2M4K9Z7W3V5T1R6Y0P2N8"
}

# push_file CLIENT PATH CONTENT [MESSAGE]: commit and push to origin main;
# status in $rc, output in $OUT.
push_file() {
	commit_file "$1" "$2" "$3" "${4:-add $2}"
	push "$1" origin HEAD:main
}

# drop_last CLIENT: forget the last commit (after a rejected push).
drop_last() {
	git -C "$1" reset -q --hard HEAD~1
}

# fingerprint_of FILE: the first "fingerprint: <32 hex>" in a rejection.
fingerprint_of() {
	sed -n 's/.*fingerprint: \([0-9a-f]\{32\}\).*/\1/p' "$1" | head -n 1
}
