#!/bin/sh
# The hook with no configuration and no HOME, as git http-backend runs it
# under a web server's CGI (issue 8, case 15): it must find its database,
# key and cache through the account's home in the password database, and
# decide clean and leaking pushes as anywhere else. Run in a private mount
# namespace whose home folder is an empty tmpfs, so that nothing outside
# the test is touched.
. "$(dirname "$0")/lib.sh"

if ! unshare -m true 2>/dev/null && ! unshare -rm true 2>/dev/null; then
	skip "no mount namespaces here (unshare): the fallback cannot be tried without touching the real home"
	done_testing
	exit 0
fi
UNSHARE="unshare -m"
unshare -m true 2>/dev/null || UNSHARE="unshare -rm"

# A repository with the hook and no leakgate settings at all.
SRV=$T/plain.git
git init -q --bare "$SRV"
install_hook "$SRV" || bail "cannot install the hook"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
A=$COMMIT
git -C "$SRV" fetch -q "$T/c" main:refs/heads/main 2>/dev/null || bail "cannot seed the repository"
key=$(fake_aws_key)
repo_commit "$SRV" "$A" deploy.env "AWS_ACCESS_KEY_ID=$key" "a key"
LEAK=$COMMIT
repo_commit "$SRV" "$A" notes.txt "nothing secret" "clean"
CLEAN=$COMMIT

cat >"$T/inner.sh" <<'INNER'
# In the namespace: the account's home (from the password database) is an empty tmpfs.
set -u
home=$(getent passwd "$(id -u)" | cut -d: -f6)
mount -t tmpfs tmpfs "$home" || exit 97
cd "$SRV" || exit 98
for what in clean leak; do
	if [ "$what" = clean ]; then new=$CLEAN; else new=$LEAK; fi
	printf '%s %s refs/heads/main\n' "$A" "$new" |
		env -i PATH=/usr/bin:/bin GIT_DIR=. GATEWAY_INTERFACE=CGI/1.1 REMOTE_USER=carol \
			REQUEST_METHOD=POST REMOTE_ADDR=127.0.0.1 "$HOOK" >"$T/$what.out" 2>"$T/$what.err"
	echo $? >"$T/$what.rc"
done
db=$home/.local/state/leakgate/leakgate.db
[ -f "$db" ] && echo yes >"$T/db.there"
[ -f "$home/.local/share/leakgate/fingerprint.key" ] && echo yes >"$T/key.there"
sqlite3 -batch "$db" "SELECT kind || ' ' || pusher || ' ' || protocol FROM events ORDER BY id" >"$T/events" 2>&1
INNER
env T="$T" SRV="$SRV" A="$A" LEAK="$LEAK" CLEAN="$CLEAN" HOOK="$HOOK" $UNSHARE sh "$T/inner.sh"
st=$?
is "$st" 0 "the namespace with an empty home ran (status $st)"
is "$(cat "$T/clean.rc" 2>/dev/null)" 0 "no HOME, no settings: a clean push is accepted"
lacks "$T/clean.err" "could not check" "without any failure"
is "$(cat "$T/leak.rc" 2>/dev/null)" 1 "and a leaking push is rejected"
contains "$T/leak.err" "AWS access key ID" "naming the secret"
is "$(cat "$T/db.there" 2>/dev/null)" yes "the database is in the account's home (from the password database)"
is "$(cat "$T/key.there" 2>/dev/null)" yes "and so is the fingerprint key"
is "$(head -n 1 "$T/events")" "accepted carol http" "the events name the web server's user and http"
is "$(sed -n 2p "$T/events")" "rejected carol http" "for both pushes"

done_testing
