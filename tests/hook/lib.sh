# Shared helpers for the end-to-end tests of the pre-receive hook.
#
# Sourced by every tests/hook/*.sh script (POSIX sh; make check runs them
# with $(SHELL)). Each script gets its own temporary folder ($T), HOME and
# audit database, prints TAP, and removes everything it made on exit.
#
# Environment (exported by make check; defaulted here for a manual run):
#   LEAKGATE_BUILD      build folder (default: <source>/build)
#   LEAKGATE_SRC        source folder (default: two levels above this file)
#   LEAKGATE_CACHE_DIR  compiled rule cache, shared by the tests
#   LEAKGATE_KEY_FILE   fingerprint key, shared by the tests

# ---- where things are ----

_lg_here=$(cd "$(dirname "$0")" && pwd)
: "${LEAKGATE_SRC:=$(cd "$_lg_here/../.." && pwd)}"
: "${LEAKGATE_BUILD:=$LEAKGATE_SRC/build}"
: "${LEAKGATE_CACHE_DIR:=$LEAKGATE_BUILD/tests/cache}"
: "${LEAKGATE_KEY_FILE:=$LEAKGATE_BUILD/tests/fingerprint.key}"
export LEAKGATE_SRC LEAKGATE_BUILD LEAKGATE_CACHE_DIR LEAKGATE_KEY_FILE
mkdir -p "$LEAKGATE_CACHE_DIR" "$(dirname "$LEAKGATE_KEY_FILE")"

LG=$LEAKGATE_BUILD/admin/leakgate
HOOK=$LEAKGATE_BUILD/hooks/leakgate-pre-receive
RULES_DIR=$LEAKGATE_SRC/rules/builtin

# ---- TAP ----

. "$LEAKGATE_SRC/tests/tap.sh"

# ---- the test's own world ----

T=$(mktemp -d "${TMPDIR:-/tmp}/lg-hook.XXXXXX") || bail "mktemp failed"
_lg_cleanup_cmds=""
# at_exit CMD: run CMD (a string for eval) when the script ends.
at_exit() {
	_lg_cleanup_cmds="$1
$_lg_cleanup_cmds"
}
_lg_cleanup() {
	eval "$_lg_cleanup_cmds"
	if [ -n "${LG_KEEP_TMP:-}" ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap _lg_cleanup EXIT
trap 'exit 130' INT TERM HUP

export HOME="$T/home"
mkdir -p "$HOME"
unset XDG_CONFIG_HOME XDG_STATE_HOME LEAKGATE_DB GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE \
	GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_QUARANTINE_PATH \
	GIT_PUSH_OPTION_COUNT GL_ID GL_USERNAME GL_PROJECT_PATH GL_REPOSITORY GL_PROTOCOL \
	GITEA_PUSHER_NAME GITEA_PUSHER_EMAIL GITEA_REPO_USER_NAME GITEA_REPO_NAME \
	SSH_CONNECTION REMOTE_USER REMOTE_ADDR GATEWAY_INTERFACE 2>/dev/null || true
export GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="Test Pusher" GIT_AUTHOR_EMAIL="pusher@example.test"
export GIT_COMMITTER_NAME="Test Pusher" GIT_COMMITTER_EMAIL="pusher@example.test"
export GIT_TERMINAL_PROMPT=0 LC_ALL=C
git config --global init.defaultBranch main
git config --global advice.detachedHead false
git config --global protocol.file.allow always

DB=$T/lg.db

[ -x "$HOOK" ] || bail "no hook binary at $HOOK (build first)"
[ -x "$LG" ] || bail "no leakgate command at $LG (build first)"
command -v sqlite3 >/dev/null 2>&1 || bail "sqlite3 is not installed (setup.sh installs it)"
command -v jq >/dev/null 2>&1 || bail "jq is not installed (setup.sh installs it)"

# ---- running things ----

OUT=$T/out
ERR=$T/err
rc=0

# run CMD...: stdout to $OUT.stdout, stderr to $ERR, both to $OUT; status in $rc.
run() {
	"$@" >"$OUT.stdout" 2>"$ERR"
	rc=$?
	cat "$OUT.stdout" "$ERR" >"$OUT"
	return 0
}

# run_in DIR STDIN_FILE CMD...: like run, in DIR, with STDIN_FILE as input.
run_in() {
	_d=$1
	_in=$2
	shift 2
	(cd "$_d" && "$@") <"$_in" >"$OUT.stdout" 2>"$ERR"
	rc=$?
	cat "$OUT.stdout" "$ERR" >"$OUT"
	return 0
}

# push CLIENT ARGS...: git push from CLIENT; status in $rc, output in $OUT.
push() {
	_c=$1
	shift
	run git -C "$_c" push "$@"
}

# ---- repositories ----

# hook_install_mode: "leakgate install" when the command has it, else "manual".
hook_install_mode() {
	if "$LG" install --help 2>/dev/null | grep -q -- '--repo'; then
		echo install
	else
		echo manual
	fi
}

# install_hook BARE: install the hook into a bare repository, the way an
# administrator would.
install_hook() {
	if [ "$(hook_install_mode)" = install ]; then
		"$LG" install --repo "$1" >/dev/null || return 1
	else
		mkdir -p "$1/hooks"
		printf '#!/bin/sh\nexec %s "$@"\n' "'$HOOK'" >"$1/hooks/pre-receive"
		chmod 755 "$1/hooks/pre-receive"
		git -C "$1" config receive.advertisePushOptions true
	fi
}

# srv_config BARE: the per-test settings every server repository gets.
srv_config() {
	git -C "$1" config leakgate.db "$DB"
	git -C "$1" config leakgate.cacheDir "$LEAKGATE_CACHE_DIR"
	git -C "$1" config leakgate.keyFile "$LEAKGATE_KEY_FILE"
}

# make_server PATH [git init options]: a bare repository with the hook.
make_server() {
	_p=$1
	shift
	mkdir -p "$(dirname "$_p")"
	git init -q --bare "$@" "$_p" || bail "git init $_p failed"
	srv_config "$_p"
	install_hook "$_p" || bail "cannot install the hook into $_p"
}

# make_client PATH SERVER: a clone of SERVER (may be empty).
make_client() {
	git clone -q "$2" "$1" 2>/dev/null || bail "git clone $2 failed"
}

# commit_file CLIENT PATH CONTENT [MESSAGE]: write PATH (a trailing newline is
# added), commit it. The new commit is in $COMMIT.
commit_file() {
	mkdir -p "$(dirname "$1/$2")"
	printf '%s\n' "$3" >"$1/$2"
	git -C "$1" add -- "$2" || bail "git add $2 failed"
	git -C "$1" commit -q -m "${4:-add $2}" || bail "git commit failed"
	COMMIT=$(git -C "$1" rev-parse HEAD)
}

# rev REPO REF: the commit REF names, or "none".
rev() {
	git -C "$1" rev-parse -q --verify "$2^{}" 2>/dev/null || echo none
}

# short REPO REF: the 7-digit id leakgate shows.
short() {
	git -C "$1" rev-parse --short=7 "$2" 2>/dev/null | cut -c1-7
}

# ---- the audit database ----

sql() {
	sqlite3 -batch "$DB" "$1" 2>/dev/null
}

# ev_count [WHERE]: number of events (matching WHERE).
ev_count() {
	if [ -f "$DB" ]; then
		sql "SELECT count(*) FROM events${1:+ WHERE $1}"
	else
		echo 0
	fi
}

# ev_last FIELD: FIELD of the newest event.
ev_last() {
	sql "SELECT $1 FROM events ORDER BY id DESC LIMIT 1"
}

# ev_last_findings_has RULE_ID: the newest event lists a finding of RULE_ID.
ev_last_findings_rules() {
	ev_last findings | jq -r '.[].rule_id' 2>/dev/null
}

# not_stored SECRET DESC: the raw secret appears nowhere in the database files.
not_stored() {
	if cat "$DB" "$DB-wal" "$DB-journal" 2>/dev/null | grep -aqF -e "$1"; then
		fail "$2"
		diag "  the raw secret is in the audit database"
	else
		pass "$2"
	fi
}

# ---- fake credentials (random each run, valid in form) ----

# rand_chars SET N: N random characters from the tr(1) set SET.
rand_chars() {
	LC_ALL=C tr -dc "$1" </dev/urandom 2>/dev/null | head -c "$2"
}

# crc32 STRING: CRC-32 (zlib) of STRING, in decimal. gzip's trailer holds it,
# little-endian; od prints the bytes, so this works on any byte order. (Shell
# arithmetic is 64-bit; mawk's is not exact above 2^31.)
crc32() {
	set -- $(printf %s "$1" | gzip -c | tail -c 8 | head -c 4 | od -An -tu1)
	echo $(($1 + $2 * 256 + $3 * 65536 + $4 * 16777216))
}

# base62 NUMBER WIDTH: digits, upper, lower; zero-padded to WIDTH.
base62() {
	_n=$1
	_s=""
	_a=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
	while [ "$_n" -gt 0 ]; do
		_s=$(printf %s "$_a" | cut -c$((_n % 62 + 1)))$_s
		_n=$((_n / 62))
	done
	while [ ${#_s} -lt "$2" ]; do _s=0$_s; done
	printf '%s\n' "$_s"
}

# github_checksum BODY30: the 6-character checksum of a GitHub token body.
github_checksum() {
	base62 "$(crc32 "$1")" 6
}

# detected TEXT: leakgate scan finds something in TEXT (so a random value did
# not happen to look like a placeholder or fall below a rule's entropy).
detected() {
	printf '%s\n' "$1" | "$LG" scan - >/dev/null 2>&1
	[ $? -eq 1 ]
}

_lg_fake() {
	_i=0
	while :; do
		_v=$("$@")
		_i=$((_i + 1))
		if detected "$_v" || [ "$_i" -ge 20 ]; then
			printf '%s\n' "$_v"
			return 0
		fi
	done
}
_aws_key() { printf 'AKIA%s' "$(rand_chars 'A-Z2-7' 16)"; }
_github_token() {
	_b=$(rand_chars 'A-Za-z0-9' 30)
	printf 'ghp_%s%s' "$_b" "$(github_checksum "$_b")"
}
_stripe_key() { printf 'sk_live_%s' "$(rand_chars 'A-Za-z0-9' 32)"; }
_slack_bot() {
	printf 'xoxb-%s-%s-%s' "$(rand_chars '0-9' 12)" "$(rand_chars '0-9' 13)" \
		"$(rand_chars 'A-Za-z0-9' 24)"
}

# fake_aws_key, fake_github_token, fake_stripe_key, fake_slack_token: print
# a random credential of that kind that leakgate detects.
fake_aws_key() { _lg_fake _aws_key; }
fake_github_token() { _lg_fake _github_token; }
fake_stripe_key() { _lg_fake _stripe_key; }
fake_slack_token() { _lg_fake _slack_bot; }

# rule_name ID: the human name of a built-in rule.
rule_name() {
	jq -r --arg id "$1" '.rules[] | select(.id == $id) | .name' "$RULES_DIR"/*.json
}

# repo_commit REPO PARENT PATH CONTENT MESSAGE: make a commit in REPO (bare or
# not) with plumbing, without touching any ref or work tree: PARENT's tree
# plus PATH holding CONTENT (a trailing newline is added). PARENT may be
# "" for a root commit. The commit is in $COMMIT.
repo_commit() {
	_idx=$T/plumbing.index
	rm -f "$_idx"
	_blob=$(printf '%s\n' "$4" | git -C "$1" hash-object -w --stdin) || return 1
	if [ -n "$2" ]; then
		GIT_INDEX_FILE=$_idx git -C "$1" read-tree "$2" || return 1
	fi
	GIT_INDEX_FILE=$_idx git -C "$1" update-index --add --cacheinfo "100644,$_blob,$3" || return 1
	_tree=$(GIT_INDEX_FILE=$_idx git -C "$1" write-tree) || return 1
	rm -f "$_idx"
	COMMIT=$(git -C "$1" commit-tree "$_tree" ${2:+-p "$2"} -m "$5") || return 1
}
