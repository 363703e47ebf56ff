#!/bin/sh
# Settings that do not parse, and a state database that is unusable,
# locked, missing or replaced (issue 8, cases 4, 5, 9, 10): each is a
# failure that follows leakgate.failMode, says so in one line, and still
# leaves a trace: the event goes to the spool beside the database when the
# database cannot take it, the next writer moves it in exactly once, and
# every decision has a system-log line.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
A=$COMMIT
Z=0000000000000000000000000000000000000000

# hook_with INPUT: the hook run as git runs it, in the bare repository.
hook_with() {
	printf '%s' "$1" >"$T/stdin"
	run_in "$SRV" "$T/stdin" env GIT_DIR=. "$HOOK"
}
one_line() {
	is "$(grep -c '^leakgate: could not check this push completely: ' "$ERR")" 1 "$1: one 'could not check' line"
}

# ---- 4. invalid settings are failures, never a silent default ----
tok=$(fake_github_token)
repo_commit "$SRV" "$A" fixture.txt "GITHUB_TOKEN=$tok" "a fixture with a token"
LEAK=$COMMIT
git -C "$SRV" config leakgate.allowBypass flase
printf '%s %s refs/heads/b\n' "$A" "$LEAK" >"$T/stdin"
(cd "$SRV" && GIT_PUSH_OPTION_COUNT=1 GIT_PUSH_OPTION_0="leakgate.bypass=it is a fixture" GIT_DIR=. "$HOOK") \
	<"$T/stdin" >"$OUT" 2>"$ERR"
rc=$?
isnt "$rc" 0 "4: allowBypass=flase: the bypass is not honoured (the push is rejected)"
contains "$ERR" "leakgate.allowBypass" "4: the line names the key"
contains "$ERR" "'flase'" "4: and the value"
lacks "$ERR" "push accepted because of leakgate.bypass" "4: no bypass happened"
is "$(ev_last kind)" rejected "4: recorded as rejected (the token blocks)"
git -C "$SRV" config --unset leakgate.allowBypass

for kv in "failMode opne" "timeout 0" "maxBlobSize -1" "timeout ten" "scanBinary maybe" "maxReport 0" "threads 999" "failmod open"; do
	key=${kv% *}
	val=${kv#* }
	git -C "$SRV" config "leakgate.$key" "$val"
	before=$(ev_count)
	hook_with "$Z $A refs/heads/clean-$key
"
	is "$rc" 1 "4: leakgate.$key=$val: a clean push fails the check (fail closed)"
	one_line "4: leakgate.$key=$val"
	contains "$ERR" "$key" "4: leakgate.$key=$val: the line names the key"
	is "$(ev_last kind)" failed "4: leakgate.$key=$val: recorded as failed"
	lacks "$ERR" "Try again" "4: leakgate.$key=$val: no 'try again' (a retry cannot fix a setting)"
	contains "$ERR" "leakgate config check" "4: leakgate.$key=$val: it points at leakgate config check"
	"$LG" config check --repo "$SRV" >"$T/check" 2>&1
	is "$?" 1 "4: leakgate config check --repo exits 1 for leakgate.$key=$val"
	contains "$T/check" "INVALID" "4: and marks it invalid"
	git -C "$SRV" config --unset "leakgate.$key"
done
# with failMode=open an invalid setting is still a failure, and the push passes as chosen
git -C "$SRV" config leakgate.failMode open
git -C "$SRV" config leakgate.timeout 0
hook_with "$Z $A refs/heads/open-case
"
is "$rc" 0 "4: failMode=open and timeout=0: accepted unchecked"
contains "$ERR" "accepted unchecked because leakgate.failMode is open" "4: and says so"
is "$(ev_last kind)" failed "4: recorded as failed"
git -C "$SRV" config --unset leakgate.timeout
git -C "$SRV" config --unset leakgate.failMode
"$LG" config check --repo "$SRV" >"$T/check" 2>&1
is "$?" 0 "4: leakgate config check: 0 with valid settings"
contains "$T/check" "leakgate.db" "4: it lists the database setting"
contains "$T/check" "repository ($SRV/config)" "4: and where it came from"
"$LG" config check --repo "$SRV" --json >"$T/check.json" 2>/dev/null
is "$(jq -r '.settings["leakgate.failMode"].value' "$T/check.json")" closed "4: --json gives the effective values"
git -C "$SRV" config leakgate.allowBypass flase
"$LG" config check --repo "$SRV" --json >"$T/check.json" 2>/dev/null
is "$(jq -r '.settings["leakgate.allowBypass"].value' "$T/check.json")" false "4: an unreadable allowBypass means no bypass"
git -C "$SRV" config --unset leakgate.allowBypass

# ---- 5. an unusable database: the event goes to the spool, nothing is lost ----
GOOD=$DB
BAD=$T/garbage.db
head -c 4096 /dev/urandom >"$BAD"
git -C "$SRV" config leakgate.db "$BAD"
hook_with "$Z $A refs/heads/g1
"
is "$rc" 1 "5: a garbage database: fail closed"
one_line "5: garbage database"
contains "$ERR" "audit database is not usable" "5: the line says what is wrong"
contains "$ERR" "kept in the spool" "5: and that the event was spooled"
is "$(wc -l <"$BAD.spool" | tr -d ' ')" 1 "5: one event in the spool beside the database"
is "$(jq -r .kind "$BAD.spool")" failed "5: the spooled event is the failed decision"
git -C "$SRV" config leakgate.failMode open
hook_with "$Z $A refs/heads/g2
"
is "$rc" 0 "5: fail open: accepted"
is "$(wc -l <"$BAD.spool" | tr -d ' ')" 2 "5: its event is spooled too (fail open leaves a trace)"
git -C "$SRV" config --unset leakgate.failMode
"$LG" events --db "$BAD" >"$T/evout" 2>&1
contains "$T/evout" "2 events wait in the spool" "5: leakgate events says events wait in the spool"
# the administrator replaces the damaged file with a working database: the next writer moves them in
rm -f "$BAD"
"$LG" db init --db "$BAD" >/dev/null 2>&1
is "$(sqlite3 "$BAD" "SELECT count(*) FROM events")" 2 "5: the next writer moved both spooled events in"
is "$(wc -c <"$BAD.spool" | tr -d ' ')" 0 "5: and emptied the spool"
"$LG" db init --db "$BAD" >/dev/null 2>&1
is "$(sqlite3 "$BAD" "SELECT count(*) FROM events")" 2 "5: moving is done once"
git -C "$SRV" config leakgate.db "$GOOD"

# ---- 9. a database locked beyond the busy timeout: decided within the budget ----
git -C "$SRV" config leakgate.timeout 3
mkfifo "$T/lock.fifo"
(
	exec 3<"$T/lock.fifo"
	{ echo "BEGIN EXCLUSIVE;"; echo "INSERT INTO meta VALUES ('lock', 'x');"; cat <&3; echo "COMMIT;"; } | sqlite3 "$GOOD"
) &
LOCKER=$!
exec 4>"$T/lock.fifo"
sleep 0.5
repo_commit "$SRV" "$A" clean.txt "nothing" "clean"
CLEAN=$COMMIT
start=$(date +%s%N)
hook_with "$A $CLEAN refs/heads/locked
"
took=$((($(date +%s%N) - start) / 1000000))
is "$rc" 0 "9: a clean push while the database is locked is still decided (accepted)"
[ "$took" -lt 8000 ]
ok $? "9: within the budget and its grace ($took ms for leakgate.timeout=3), not after the lock"
contains "$ERR" "kept in the spool" "9: the event went to the spool"
exec 4>&-
wait "$LOCKER"
git -C "$SRV" config --unset leakgate.timeout
before=$(ev_count)
"$LG" events --db "$GOOD" --limit 1 >/dev/null 2>&1
is "$(sql "SELECT count(*) FROM events WHERE refs LIKE '%refs/heads/locked%'")" 1 \
	"9: once the lock is gone the next writer moves it in, exactly once"

# ---- 10. a database that vanished is not silently started afresh ----
hook_with "$Z $A refs/heads/before-vanish
"
is "$rc" 0 "10: a push with the database in place"
mv "$GOOD" "$T/backup.db"
rm -f "$GOOD-wal" "$GOOD-shm"
hook_with "$Z $A refs/heads/after-vanish
"
is "$rc" 1 "10: the database is gone: the check fails (fail closed)"
contains "$ERR" "leakgate created it before" "10: the line says the database that leakgate made is missing"
[ ! -e "$GOOD" ]
ok $? "10: no empty database was created in its place"
: >"$GOOD"
hook_with "$Z $A refs/heads/after-empty
"
is "$rc" 1 "10: an emptied database: the check fails too"
contains "$ERR" "empty" "10: and says it is empty"
rm -f "$GOOD"
mv "$T/backup.db" "$GOOD"
hook_with "$Z $A refs/heads/restored
"
is "$rc" 0 "10: with the database restored, pushes pass again"
is "$(sql "SELECT count(*) FROM events WHERE refs LIKE '%after-vanish%'")" 1 \
	"10: the failed push's event (spooled meanwhile) is in the restored database"
# another database put in its place
mv "$GOOD" "$T/backup.db"
"$LG" db init --db "$T/other.db" >/dev/null 2>&1
cp "$T/other.db" "$GOOD"
hook_with "$Z $A refs/heads/replaced
"
is "$rc" 1 "10: a different database in its place: the check fails"
contains "$ERR" "not the database leakgate created here" "10: and says it was replaced"
"$LG" db init --force --db "$GOOD" >"$T/init" 2>&1
is "$?" 0 "10: leakgate db init --force starts over on purpose"
hook_with "$Z $A refs/heads/fresh
"
is "$rc" 0 "10: then pushes pass"
rm -f "$GOOD" "$GOOD-wal" "$GOOD-shm"
mv "$T/backup.db" "$GOOD"
"$LG" db init --force --db "$GOOD" >/dev/null 2>&1

# ---- 9. a full disk: the database and the spool cannot be written; still decided, and said ----
if unshare -m true 2>/dev/null; then
	mkdir -p "$T/full"
	cat >"$T/full.sh" <<'FULL'
set -u
mount -t tmpfs -o size=2m,mode=700 tmpfs "$T/full" || exit 97
"$LG" db init --db "$T/full/lg.db" >"$T/full.init" 2>&1 || exit 96
git -C "$SRV" config leakgate.db "$T/full/lg.db"
dd if=/dev/zero of="$T/full/fill" bs=64k 2>/dev/null
printf '%s %s refs/heads/full\n' "$A" "$CLEAN" >"$T/full.in"
(cd "$SRV" && GIT_DIR=. "$HOOK") <"$T/full.in" >"$T/full.out" 2>"$T/full.err"
echo $? >"$T/full.rc"
git -C "$SRV" config leakgate.db "$DB"
FULL
	env T="$T" SRV="$SRV" A="$A" CLEAN="$CLEAN" HOOK="$HOOK" LG="$LG" DB="$DB" unshare -m sh "$T/full.sh"
	_full=$?
	[ "$_full" = 0 ] || diag "the full-disk script ended with status $_full: $(cat "$T/full.init" 2>/dev/null)"
	is "$(cat "$T/full.rc" 2>/dev/null)" 1 "9: a full disk: the database cannot be read or written, the push is decided by failMode (closed)"
	contains "$T/full.err" "audit database is not usable" "9: the line says why"
	contains "$T/full.err" "could not be recorded" "9: and that its event could not be kept (the system log has it)"
	git -C "$SRV" config leakgate.db "$GOOD"
else
	skip "9: no mount namespace for a full disk here"
fi

# ---- every decision has a system-log line (when this machine has none, the test makes one) ----
if [ ! -e /dev/log ] && [ "$(id -u)" = 0 ] && command -v socat >/dev/null 2>&1; then
	socat -u UNIX-RECV:/dev/log,unlink-early OPEN:"$T/syslog",creat,append &
	SOCAT=$!
	at_exit "kill $SOCAT 2>/dev/null; rm -f /dev/log"
	sleep 0.3
	key=$(fake_aws_key)
	repo_commit "$SRV" "$A" k.txt "aws_access_key_id = $key" "a key"
	hook_with "$A $COMMIT refs/heads/logged
"
	sleep 0.3
	contains "$T/syslog" "leakgate[" "syslog: a line from leakgate"
	contains "$T/syslog" "rejected repo=" "syslog: with the kind and the repository"
	contains "$T/syslog" "fingerprints=" "syslog: and the fingerprints"
	lacks "$T/syslog" "$key" "syslog: never the secret"
	lacks "$T/syslog" "${key%????????????}****" "syslog: nor its preview"
else
	skip "syslog: /dev/log exists or the test is not root: not checked here"
fi

done_testing
