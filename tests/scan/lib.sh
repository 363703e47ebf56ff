# Shared helpers for the tests of `leakgate scan` (tests/scan/*.sh, bash).
#
# Each script gets its own temporary folder ($T, removed on exit) and prints
# TAP. Every leakgate run goes through lg_run, which keeps its output under
# $T/log, so that a script can check at the end that no output of any run
# ever held a raw secret.
#
# Environment (exported by make check; defaulted here for a manual run):
#   LEAKGATE_BUILD      build folder (default: <source>/build)
#   LEAKGATE_SRC        source folder (default: two levels above this file)
#   LEAKGATE_CACHE_DIR  compiled rule cache, shared by the tests
#   LEAKGATE_KEY_FILE   fingerprint key, shared by the tests

_lg_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${LEAKGATE_SRC:=$(cd "$_lg_here/../.." && pwd)}"
: "${LEAKGATE_BUILD:=$LEAKGATE_SRC/build}"
: "${LEAKGATE_CACHE_DIR:=$LEAKGATE_BUILD/tests/cache}"
: "${LEAKGATE_KEY_FILE:=$LEAKGATE_BUILD/tests/fingerprint.key}"
export LEAKGATE_SRC LEAKGATE_BUILD LEAKGATE_CACHE_DIR LEAKGATE_KEY_FILE
mkdir -p "$LEAKGATE_CACHE_DIR" "$(dirname "$LEAKGATE_KEY_FILE")"

LG=$LEAKGATE_BUILD/admin/leakgate
RULES_DIR=$LEAKGATE_SRC/rules/builtin
FIXTURES=$LEAKGATE_SRC/tests/fixtures

if [ ! -x "$LG" ]; then
	echo "Bail out! $LG is not built"
	exit 1
fi
for _tool in jq timeout; do
	if ! command -v "$_tool" >/dev/null 2>&1; then
		echo "Bail out! '$_tool' is needed (Debian packages jq, coreutils: ./setup.sh installs them)"
		exit 1
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/leakgate-scan.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/log"

# ---- TAP ----

. "$LEAKGATE_SRC/tests/tap.sh"

# ---- running leakgate ----

# lg_run NAME ARGS...: runs leakgate with ARGS (standard input from
# /dev/null), keeps stdout in $T/log/NAME.out and stderr in $T/log/NAME.err,
# and sets RC, OUT and ERR. A run that takes more than two minutes is killed
# (a hang is a failure, not a stuck test suite).
lg_run() {
	local name=$1
	shift
	OUT=$T/log/$name.out
	ERR=$T/log/$name.err
	timeout 120 "$LG" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# lg_run_in NAME INPUT ARGS...: the same with INPUT as standard input.
lg_run_in() {
	local name=$1 input=$2
	shift 2
	OUT=$T/log/$name.out
	ERR=$T/log/$name.err
	timeout 120 "$LG" "$@" >"$OUT" 2>"$ERR" <"$input"
	RC=$?
}

# rule_field ID FIELD: a field of a built-in rule, from the packs' sources.
rule_field() {
	jq -r --arg id "$1" --arg f "$2" '.rules[] | select(.id == $id) | .[$f]' "$RULES_DIR"/*.json
}

# no_secret_in_logs SECRET DESC: no output of any run so far holds SECRET.
no_secret_in_logs() {
	local hits
	hits=$(grep -rlF -- "$1" "$T/log" 2>/dev/null)
	if [ -z "$hits" ]; then
		pass "$2"
	else
		fail "$2"
		diag "  the raw secret is in: $(printf '%s ' $hits)"
		return 1
	fi
}

# ---- fake credentials (random each run, valid in form) ----

# rand_chars SET N: N random characters from the tr(1) set SET.
rand_chars() {
	LC_ALL=C tr -dc "$1" </dev/urandom 2>/dev/null | head -c "$2"
}

# detected TEXT: leakgate scan finds something in TEXT (so a random value did
# not happen to look like a placeholder or fall below a rule's entropy).
detected() {
	printf '%s\n' "$1" | "$LG" scan - >/dev/null 2>&1
	[ $? -eq 1 ]
}

# fake_aws_key: a random AWS access key id that leakgate detects;
# fake_aws_secret: a random 40-character secret access key.
fake_aws_key() {
	local v i=0
	while :; do
		v=AKIA$(rand_chars 'A-Z2-7' 16)
		i=$((i + 1))
		if detected "$v" || [ "$i" -ge 20 ]; then
			printf '%s\n' "$v"
			return 0
		fi
	done
}
fake_aws_secret() { rand_chars 'A-Za-z0-9/+' 40; echo; }
