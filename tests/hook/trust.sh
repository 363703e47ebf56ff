#!/bin/sh
# What the hook trusts on disk (issue 9, case 2): the compiled-rule cache,
# the state database and the fingerprint key. A cache entry is accepted
# only under the machine key's MAC (a genuine entry compiled elsewhere and
# renamed is refused); a folder or file another account can write is
# refused with a line that says what to fix; a database another user owns
# (say, pre-created with a '*' exemption) is refused; cache files and the
# database are private whatever the umask; symbolic links are not written
# through; old cache entries are pruned.
. "$(dirname "$0")/lib.sh"

# A cache and key of this script's own (the shared ones are copied in).
CACHE=$T/cache
KEY=$T/fingerprint.key
mkdir -m 700 "$CACHE"
cp -p "$LEAKGATE_KEY_FILE" "$KEY"
cp -p "$LEAKGATE_CACHE_DIR"/*.hsdb "$CACHE"/ 2>/dev/null || true
# (the environment wins over the repository's settings)
LEAKGATE_CACHE_DIR=$CACHE LEAKGATE_KEY_FILE=$KEY
export LEAKGATE_CACHE_DIR LEAKGATE_KEY_FILE

SRV=$T/srv.git
make_server "$SRV"
git -C "$SRV" config leakgate.cacheDir "$CACHE"
git -C "$SRV" config leakgate.keyFile "$KEY"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
is "$rc" 0 "a clean push is accepted"
A=$COMMIT

# A custom pack, so that one layer of the rule set is small and quick to rebuild.
cat >"$T/acme.json" <<'EOF'
{"pack": "acme", "rules": [{"id": "acme-internal", "name": "Acme internal token",
 "description": "Acme's internal service token.", "severity": "high",
 "pattern": "\\b(acme_[a-z0-9]{24})\\b", "remediation": "Revoke it in the Acme console.",
 "examples": ["token = acme_q8x2m4k9z7w3v5t1r6y0p2n8", "ACME=acme_7h3k9m2q5w8z1x4c6v0b3n7m"],
 "negative_examples": ["acme_short123", "acme_Q8X2M4K9Z7W3V5T1R6Y0P2N8"]}]}
EOF
git -C "$SRV" config leakgate.rules "$T/acme.json"

# hook_with INPUT: the hook as git runs it, in the bare repository.
hook_with() {
	printf '%s' "$1" >"$T/stdin"
	run_in "$SRV" "$T/stdin" env GIT_DIR=. "$HOOK"
}
acme=$(printf 'acme_%s' "$(rand_chars 'a-z0-9' 24)")
repo_commit "$SRV" "$A" acme.conf "internal_token = $acme" "an acme token"
LEAK=$COMMIT

touch "$T/t0"
sleep 1
hook_with "$A $LEAK refs/heads/leak
"
isnt "$rc" 0 "a push with an acme token is rejected (the custom pack is in use)"
ENTRY=$(find "$CACHE" -name '*.hsdb' -newer "$T/t0" | head -n 1)
[ -n "$ENTRY" ]
ok $? "the pack's layer was compiled into the cache"
is "$(stat -c %a "$ENTRY" 2>/dev/null)" 600 "the cache entry is private (0600)"

# ---- a genuine entry, compiled elsewhere under another key, renamed ----
# What an account that can write the cache would do: compile a rule set
# that finds nothing and put it under the name the hook looks for.
mkdir -m 700 "$T/evil" "$T/evil/cache"
cat >"$T/evil/nothing.json" <<'EOF'
{"pack": "acme", "rules": [{"id": "acme-internal", "name": "Acme internal token",
 "description": "Finds nothing.", "severity": "low",
 "pattern": "\\b(zzqx_never_[a-z]{30})\\b", "remediation": "None.",
 "examples": ["zzqx_never_abcdefghijklmnopqrstuvwxyzabcd", "x zzqx_never_qwertyuiopasdfghjklzxcvbnmqwer"],
 "negative_examples": ["a", "b"]}]}
EOF
: >"$T/evil/empty.txt"
LEAKGATE_KEY_FILE=$T/evil/key LEAKGATE_CACHE_DIR=$T/evil/cache \
	"$LG" scan --no-builtin --rules "$T/evil/nothing.json" --cache-dir "$T/evil/cache" "$T/evil/empty.txt" \
	>/dev/null 2>&1
FORGED=$(find "$T/evil/cache" -name '*.hsdb' | head -n 1)
# Its header names the rule set it was compiled from (8 bytes of magic,
# then 64 hex digits): name the one the hook wants, so that only the MAC
# under this machine's key tells the entry apart.
[ -n "$FORGED" ] && [ -n "$ENTRY" ] && cp "$FORGED" "$ENTRY" &&
	basename "$ENTRY" .hsdb | tr -d '\n' | dd of="$ENTRY" bs=1 seek=8 conv=notrunc 2>/dev/null
ok $? "a forged entry is in place"
cp "$ENTRY" "$T/forged"
hook_with "$A $LEAK refs/heads/leak
"
isnt "$rc" 0 "with the forged entry the acme token is still rejected"
contains "$ERR" "Acme internal token" "by the real rule (the entry was refused and rebuilt)"
cmp -s "$T/forged" "$ENTRY"
isnt "$?" 0 "the forged entry was replaced"
# The same entry with one byte changed.
cp "$ENTRY" "$T/entry.good"
printf 'X' | dd of="$ENTRY" bs=1 seek=200 conv=notrunc 2>/dev/null
hook_with "$A $LEAK refs/heads/leak
"
isnt "$rc" 0 "with one byte of the entry changed the token is still rejected"
cmp -s "$T/entry.good" "$ENTRY"
is "$?" 0 "and the entry was rebuilt as it was"

# ---- a cache folder others can write ----
chmod 770 "$CACHE"
hook_with "$A $LEAK refs/heads/leak
"
isnt "$rc" 0 "a group-writable cache folder: the push is not accepted"
contains "$ERR" "not trusted" "the line says the cache is not trusted"
contains "$ERR" "chmod g-w" "and what to do"
hook_with "$A $A refs/heads/clean
"
isnt "$rc" 0 "failMode closed: a clean push is refused too (nothing could be checked)"
git -C "$SRV" config leakgate.failMode open
hook_with "$A $A refs/heads/clean2
"
is "$rc" 0 "failMode open: the administrator's choice"
is "$(ev_last kind)" failed "and it is recorded as failed"
git -C "$SRV" config --unset leakgate.failMode
chmod 700 "$CACHE"

# ---- a cache file another user owns ----
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$ENTRY"
	hook_with "$A $LEAK refs/heads/leak
"
	isnt "$rc" 0 "a cache entry owned by another user is not used: the token is rejected"
	is "$(stat -c %U "$ENTRY")" "$(id -un)" "the entry was rebuilt as this user's"
else
	skip "not root: cannot give a file to another user" 2
fi

# ---- a symbolic link in the cache is not written through ----
echo "precious" >"$T/victim"
rm -f "$ENTRY"
ln -s "$T/victim" "$ENTRY"
hook_with "$A $LEAK refs/heads/leak
"
isnt "$rc" 0 "a symbolic link in the entry's place: the token is still rejected"
is "$(cat "$T/victim")" precious "the file it pointed to is untouched"
[ -f "$ENTRY" ] && [ ! -L "$ENTRY" ]
ok $? "the link was replaced by a real entry"

# ---- old entries are pruned ----
i=0
while [ $i -lt 30 ]; do
	printf 'old entry %d' $i >"$CACHE/$(printf '%064d' $i).hsdb"
	touch -d '2020-01-01' "$CACHE/$(printf '%064d' $i).hsdb"
	i=$((i + 1))
done
# A changed pack: a new entry is written, and the cache pruned.
jq '.rules[0].severity = "critical"' "$T/acme.json" >"$T/acme2.json"
git -C "$SRV" config leakgate.rules "$T/acme2.json"
hook_with "$A $A refs/heads/prune
"
is "$rc" 0 "a push after the rule set changed"
n=$(find "$CACHE" -name '*.hsdb' | grep -c .)
[ "$n" -le 16 ]
ok $? "the cache keeps at most 16 entries ($n left of 30 old ones and the live ones)"
nfake=$(find "$CACHE" -name '00000000000000000000000000000000000000000000000000000000000000[0-9][0-9].hsdb' | grep -c .)
nlive=$(find "$CACHE" -name '*.hsdb' -newer "$T/t0" | grep -c .)
[ "$nfake" -lt 30 ] && [ "$nlive" -ge 2 ]
ok $? "the oldest were the ones pruned ($nfake of the 30 old ones left; the $nlive written by this script kept)"
git -C "$SRV" config leakgate.rules "$T/acme.json"

# ---- the key ----
chmod 660 "$KEY"
hook_with "$A $LEAK refs/heads/leak
"
isnt "$rc" 0 "a group-writable fingerprint key: the push is not accepted"
contains "$ERR" "fingerprint key is not trusted" "the line says so"
chmod 600 "$KEY"

# ---- the database ----
umask 000
"$LG" db init --db "$T/open.db" >/dev/null 2>&1
is "$(stat -c %a "$T/open.db" 2>/dev/null)" 600 "a database made under umask 000 is still private (0600)"
umask 022
git -C "$SRV" config leakgate.db "$T/open.db"
hook_with "$A $A refs/heads/private
"
is "$rc" 0 "and it is used"
chmod 660 "$T/open.db"
hook_with "$A $LEAK refs/heads/leak
"
isnt "$rc" 0 "a group-writable database: the push is not accepted"
contains "$ERR" "not trusted" "the line says why"
chmod 600 "$T/open.db"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	# Another user's database that lets everything through.
	"$LG" db init --db "$T/theirs.db" >/dev/null 2>&1
	"$LG" exemptions add --path '*' --reason "let everything through" --db "$T/theirs.db" >/dev/null 2>&1
	is "$(sqlite3 "$T/theirs.db" "SELECT count(*) FROM exemptions WHERE path_glob = '*'")" 1 \
		"a database with a '*' exemption"
	chown nobody "$T/theirs.db"
	git -C "$SRV" config leakgate.db "$T/theirs.db"
	hook_with "$A $LEAK refs/heads/leak
"
	isnt "$rc" 0 "owned by another user: the push is not let through by its exemption"
	contains "$ERR" "belongs to user" "the line says whose it is"
	lacks "$OUT" "push accepted" "nothing was let through"
else
	skip "not root: cannot give a database to another user" 4
fi
git -C "$SRV" config leakgate.db "$DB"

done_testing
