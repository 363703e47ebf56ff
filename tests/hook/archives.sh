#!/bin/sh
# Archives pushed as files (zip, jar, tar.gz, .gz), nested archives, the
# limits (depth, inflated size, members, member size), damaged and
# encrypted archives, and secrets hidden in encodings (base64,
# percent-encoding, escaped and concatenated string literals).
. "$(dirname "$0")/lib.sh"

command -v zip >/dev/null 2>&1 || bail "zip is needed (Debian package zip)"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
A=$COMMIT
W=$T/work
mkdir -p "$W"

key=$(fake_aws_key)
tok=$(fake_github_token)

# commit_paths MSG PATH...: add and commit PATHs of the client.
commit_paths() {
	_m=$1
	shift
	git -C "$T/c" add -- "$@" || bail "git add failed"
	git -C "$T/c" commit -q -m "$_m" || bail "git commit failed"
	COMMIT=$(git -C "$T/c" rev-parse HEAD)
}

# reset: the client and the server back at A.
reset() {
	git -C "$T/c" reset -q --hard "$A"
	git -C "$T/c" clean -q -fdx
	git -C "$SRV" update-ref refs/heads/main "$A"
}

# ---- a zip with a key in a member ----
mkdir -p "$W/z/conf"
printf 'app.name = shop\naws_access_key_id = %s\n' "$key" >"$W/z/conf/app.properties"
printf 'hello\n' >"$W/z/readme.txt"
(cd "$W/z" && zip -q -r "$T/c/bundle.zip" conf readme.txt)
commit_paths "add bundle" bundle.zip
push "$T/c" origin main
isnt "$rc" 0 "a zip with an AWS key in a member is rejected"
contains "$OUT" "AWS access key ID" "the rule is named"
contains "$OUT" "where:       bundle.zip!conf/app.properties:2" "the member and its line are named"
lacks "$OUT" "$key" "the raw key is not shown"
is "$(ev_last kind)" rejected "the event is a rejection"
is "$(ev_last findings | jq -r '.[0].member')" "conf/app.properties" "the event names the member"
is "$(ev_last findings | jq -r '.[0].path')" "bundle.zip" "and the file"
not_stored "$key" "the key is not stored"
is "$(rev "$SRV" refs/heads/main)" "$A" "server main did not move"
reset

# ---- a jar in a zip (depth 2) ----
mkdir -p "$W/j"
# Long enough to be deflated (zip stores a tiny file as it is, and the raw bytes would show the token).
{ for i in 1 2 3 4 5 6 7 8 9 10; do printf '# the settings of the service, section %s\n' "$i"; done
  printf 'github.token=%s\n' "$tok"; } >"$W/j/settings.properties"
(cd "$W/j" && zip -q "$W/lib.jar" settings.properties)
mkdir -p "$W/o/lib" && cp "$W/lib.jar" "$W/o/lib/"
(cd "$W/o" && zip -q -r "$T/c/dist.zip" lib)
commit_paths "add dist" dist.zip
push "$T/c" origin main
isnt "$rc" 0 "a token in a jar inside a zip is rejected"
contains "$OUT" "dist.zip!lib/lib.jar!settings.properties:11" "the member chain is named"
lacks "$OUT" "$tok" "the raw token is not shown"
reset

# ---- depth 3 is past the default depth: noted, scanned as a file ----
(cd "$W/o" && zip -q "$W/mid.zip" lib/lib.jar)
mkdir -p "$W/d3" && cp "$W/mid.zip" "$W/d3/"
(cd "$W/d3" && zip -q "$T/c/deep.zip" mid.zip)
commit_paths "add deep" deep.zip
D3=$COMMIT
push "$T/c" origin main
is "$rc" 0 "an archive nested three deep is not opened by default (archiveDepth 2): accepted"
contains "$OUT" "not opened whole" "the pusher is told"
contains "$OUT" "nested deeper than 2" "and why"
is "$(ev_last skipped | jq -r '.[0].why')" "archive nested too deep" "the event says so"
git -C "$SRV" update-ref refs/heads/main "$A"
git -C "$SRV" config leakgate.archiveDepth 3
push "$T/c" --force origin main
isnt "$rc" 0 "with leakgate.archiveDepth 3 the token is found"
contains "$OUT" "deep.zip!mid.zip!lib/lib.jar!settings.properties:11" "three levels named"
git -C "$SRV" config --unset leakgate.archiveDepth
reset

# ---- tar.gz with a .env, and a lone .gz ----
mkdir -p "$W/t/app"
printf 'DEBUG=false\nDB_PASSWORD=Vq7mKz2RtLp9XwNc4s\n' >"$W/t/app/.env"
tar -C "$W/t" -czf "$T/c/release.tar.gz" app
printf 'aws_access_key_id = %s\n' "$key" | gzip -c >"$T/c/creds.txt.gz"
commit_paths "add release" release.tar.gz creds.txt.gz
push "$T/c" origin main
isnt "$rc" 0 "a password in a .env inside a tar.gz is rejected"
contains "$OUT" "release.tar.gz!app/.env:2" "the tar member is named"
contains "$OUT" "creds.txt.gz!creds.txt:1" "the content of a .gz is named after it"
lacks "$OUT" "Vq7mKz2RtLp9XwNc4s" "the raw password is not shown"
reset

# ---- a clean jar is accepted without notes ----
mkdir -p "$W/clean"
printf 'version=1.2.3\nname=demo\n' >"$W/clean/app.properties"
head -c 3000 /dev/urandom >"$W/clean/Main.class"
(cd "$W/clean" && zip -q "$T/c/demo.jar" app.properties Main.class)
commit_paths "add jar" demo.jar
push "$T/c" origin main
is "$rc" 0 "a clean jar is accepted"
lacks "$OUT" "not opened whole" "no note"
lacks "$OUT" "binary file" "an archive is not counted as a binary file"
A=$COMMIT

# ---- a secret already in an archive on the server is pre-existing ----
mkdir -p "$W/pre"
printf 'aws_access_key_id = %s\n' "$key" >"$W/pre/old.cfg"
(cd "$W/pre" && zip -q "$W/pre.zip" old.cfg)
cp "$W/pre.zip" "$T/c/pack.zip"
commit_paths "add pack" pack.zip
git -C "$SRV" config leakgate.allowBypass true
push "$T/c" -o "leakgate.bypass=test fixture, revoked" origin main
is "$rc" 0 "(setup: pushed with a bypass)"
A=$COMMIT
printf 'more = 1\n' >"$W/pre/new.cfg"
cp "$W/pre.zip" "$W/pre2.zip" && (cd "$W/pre" && zip -q "$W/pre2.zip" new.cfg)
cp "$W/pre2.zip" "$T/c/pack.zip"
commit_paths "update pack" pack.zip
push "$T/c" origin main
is "$rc" 0 "adding a member to an archive whose other member holds a known secret is accepted"
contains "$OUT" "already on the server" "the secret is reported as pre-existing"
contains "$OUT" "pack.zip!old.cfg:1" "with its member"
A=$COMMIT

# ---- a zip bomb: over leakgate.maxArchiveSize is not checked whole ----
git -C "$SRV" config leakgate.maxArchiveSize 1m
head -c 3000000 /dev/zero >"$W/zeros.bin"
(cd "$W" && zip -q "$T/c/bomb.zip" zeros.bin)
commit_paths "add bomb" bomb.zip
push "$T/c" origin main
isnt "$rc" 0 "an archive that inflates past maxArchiveSize fails the check (failMode closed): rejected"
contains "$OUT" "leakgate.maxArchiveSize" "the pusher is told which limit"
contains "$OUT" "zip bomb" "and what it may be"
is "$(ev_last kind)" failed "the event records a failed check"
ev_last reason >"$T/reason"
contains "$T/reason" "maxArchiveSize" "the event says why"
git -C "$SRV" config leakgate.failMode open
push "$T/c" origin main
is "$rc" 0 "with failMode open the same push is accepted"
contains "$OUT" "leakgate.maxArchiveSize" "and the pusher still hears why"
git -C "$SRV" config --unset leakgate.failMode
git -C "$SRV" update-ref refs/heads/main "$A"
git -C "$SRV" config --unset leakgate.maxArchiveSize
push "$T/c" origin main
is "$rc" 0 "under the default limit the same archive is checked and accepted"
A=$COMMIT
reset

# ---- too many members ----
mkdir -p "$W/many"
for i in 1 2 3 4 5 6; do printf 'x%s\n' "$i" >"$W/many/f$i.txt"; done
(cd "$W/many" && zip -q "$T/c/many.zip" f1.txt f2.txt f3.txt f4.txt f5.txt f6.txt)
commit_paths "add many" many.zip
git -C "$SRV" config leakgate.maxArchiveMembers 5
push "$T/c" origin main
isnt "$rc" 0 "an archive over maxArchiveMembers is not checked whole: rejected (failMode closed)"
contains "$OUT" "leakgate.maxArchiveMembers" "the limit is named"
git -C "$SRV" config --unset leakgate.maxArchiveMembers
reset

# ---- a member over maxBlobSize is noted, as a file over it is ----
git -C "$SRV" config leakgate.maxBlobSize 100k
mkdir -p "$W/big"
head -c 200000 /dev/zero | tr '\000' 'a' >"$W/big/big.txt"
(cd "$W/big" && zip -q "$T/c/big.zip" big.txt)
commit_paths "add big" big.zip
push "$T/c" origin main
is "$rc" 0 "a member over maxBlobSize is not scanned, like a file over it: accepted"
contains "$OUT" "big.zip!big.txt: over 102400 bytes, not scanned" "the pusher is told"
is "$(ev_last skipped | jq -r '.[0].why')" "member too large" "the event says so"
git -C "$SRV" config --unset leakgate.maxBlobSize
reset

# ---- encrypted members cannot be read: noted ----
(cd "$W/z" && zip -q -P hunter22 "$T/c/locked.zip" readme.txt)
commit_paths "add locked" locked.zip
push "$T/c" origin main
is "$rc" 0 "an encrypted zip is accepted"
contains "$OUT" "locked.zip!readme.txt: encrypted, cannot be read" "with a note"
is "$(ev_last skipped | jq -r '.[0].why')" "encrypted members" "the event says so"
reset

# ---- a damaged archive: what can be read is scanned, the rest noted ----
head -c 60000 /dev/urandom >"$W/z/noise.bin"
rm -f "$W/cut.zip"
(cd "$W/z" && zip -q -0 "$W/cut.zip" conf/app.properties noise.bin)
head -c 30000 "$W/cut.zip" >"$T/c/cut.zip"
commit_paths "add cut" cut.zip
push "$T/c" origin main
isnt "$rc" 0 "a truncated zip: the key in its first member is still found"
contains "$OUT" "cut.zip!conf/app.properties:2" "in that member"
contains "$OUT" "damaged" "and the damage is noted"
reset

# ---- settings that do not parse are configuration failures ----
git -C "$SRV" config leakgate.archiveDepth deep
commit_file "$T/c" ok.txt "fine"
push "$T/c" origin main
isnt "$rc" 0 "an unreadable archiveDepth is a configuration failure (failMode closed)"
contains "$OUT" "leakgate.archiveDepth" "the key is named"
git -C "$SRV" config --unset leakgate.archiveDepth
reset

# ---- encodings ----
b64=$(printf 'aws_access_key_id = %s\n' "$key" | base64 -w0)
printf 'apiVersion: v1\nkind: ConfigMap\ndata:\n  settings: %s\n' "$b64" >"$T/c/config.yaml"
commit_paths "add config" config.yaml
push "$T/c" origin main
isnt "$rc" 0 "an AWS key in base64 is rejected"
contains "$OUT" "where:       config.yaml:4" "the line of the encoded text is named"
contains "$OUT" "encoded:     base64" "the encoding is named"
lacks "$OUT" "$key" "the raw key is not shown"
lacks "$OUT" "$b64" "nor its encoding"
is "$(ev_last findings | jq -r '.[0].encoding')" base64 "the event names the encoding"
reset

printf '{\n  "service": "billing",\n  "settings": "{\\"db\\": {\\"password\\": \\"Vq7mKz2RtLp9XwNc4s\\"}}"\n}\n' >"$T/c/service.json"
commit_paths "add service" service.json
push "$T/c" origin main
isnt "$rc" 0 "a password in JSON escaped inside a JSON string is rejected"
contains "$OUT" "service.json:3" "on its line"
contains "$OUT" "escaped string" "found in the escaped string"
reset

printf 'KEY = ("-----BEGIN RSA PRIVATE KEY-----\\n"\n       "%s\\n"\n       "%s\\n"\n       "-----END RSA PRIVATE KEY-----\\n")\n' \
	"$(rand_chars 'A-Za-z0-9+/' 64)" "$(rand_chars 'A-Za-z0-9+/' 40)" >"$T/c/keys.py"
commit_paths "add keys" keys.py
push "$T/c" origin main
isnt "$rc" 0 "a private key split over concatenated string literals is rejected"
contains "$OUT" "keys.py:1" "where its first literal is"
reset

pw=$(printf '{"user":"svc","password":"Vq7mKz2RtLp9XwNc4s"}' | sed 's/{/%7B/g; s/}/%7D/g; s/"/%22/g; s/:/%3A/g; s/,/%2C/g')
printf 'curl "https://hooks.internal.test/deploy?payload=%s"\n' "$pw" >"$T/c/deploy.sh"
commit_paths "add deploy" deploy.sh
push "$T/c" origin main
isnt "$rc" 0 "a password in percent-encoded JSON is rejected"
contains "$OUT" "percent-encoding" "the encoding is named"
reset

# Encoded text that holds no secret is accepted: a sentence, an image, identifiers.
{
	printf 'greeting: %s\n' "$(printf 'Hello, this is only a friendly sentence about nothing.' | base64 -w0)"
	printf 'logo: data:image/png;base64,%s\n' "$(head -c 600 /dev/urandom | base64 -w0)"
	printf 'name: this_is_a_rather_long_identifier_name_for_testing\n'
	printf 'url: https://example.com/search?q=hello%%20world%%21%%20again\n'
	printf 'msg: "line one\\nline two\\n"\n'
} >"$T/c/clean.yaml"
commit_paths "add clean" clean.yaml
push "$T/c" origin main
is "$rc" 0 "encoded text without secrets is accepted"
lacks "$OUT" "encoded:" "nothing is reported"

git -C "$SRV" config leakgate.decode false
git -C "$T/c" reset -q --hard "$A"
printf 'data:\n  settings: %s\n' "$b64" >"$T/c/config.yaml"
commit_paths "add config again" config.yaml
git -C "$SRV" update-ref refs/heads/main "$A"
push "$T/c" origin main
is "$rc" 0 "with leakgate.decode false, encodings are not decoded"
git -C "$SRV" config --unset leakgate.decode

done_testing
