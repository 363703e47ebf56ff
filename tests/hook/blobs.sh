#!/bin/sh
# Binary and oversized blobs, submodule entries (gitlinks) and symlinks.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
A=$COMMIT

# ---- 10. a binary blob (NUL bytes) that contains a secret ----
# By default a binary file is scanned for structured tokens only: a NUL
# byte is no way around the gate for an AWS key, while generic rules
# (passwords and the like) wait for leakgate.scanBinary.
key=$(fake_aws_key)
printf 'BIN\000\001\002\003 header\naws_access_key_id = %s\n\000\377trailer' "$key" >"$T/c/blob.bin"
git -C "$T/c" add blob.bin
git -C "$T/c" commit -q -m "add binary"
push "$T/c" origin main
isnt "$rc" 0 "a binary blob with an AWS key is rejected by default"
contains "$OUT" "AWS access key ID" "the AWS rule is named"
contains "$OUT" "where:       blob.bin:2" "path and line are given"
contains "$OUT" "1 binary file scanned for provider tokens and keys only" "the pusher is told how binary files were scanned"
lacks "$OUT" "$key" "the raw key is not shown"
is "$(ev_last kind)" rejected "event is rejected"
is "$(ev_last skipped | jq -r '.[0].why')" binary "the event names the binary file"
is "$(rev "$SRV" refs/heads/main)" "$A" "server main did not move"
git -C "$T/c" reset -q --hard "$A"

pw=Vq7mKz2RtLp9XwNc4s
printf 'BIN\000\001\002\003 header\ndb_password = "%s"\n\000\377trailer' "$pw" >"$T/c/blob.bin"
git -C "$T/c" add blob.bin
git -C "$T/c" commit -q -m "add binary"
BIN=$(git -C "$T/c" rev-parse HEAD)
push "$T/c" origin main
is "$rc" 0 "a binary blob with only a generic password is accepted by default"
is "$(rev "$SRV" refs/heads/main)" "$BIN" "server main moved"
is "$(ev_last kind)" accepted "event is accepted"

git -C "$SRV" config leakgate.scanBinary true
git -C "$T/c" reset -q --hard "$A"
printf 'BIN\000\001\002\003 header\ndb_password = "%s"\n\000\377trailer' "$pw" >"$T/c/blob2.bin"
git -C "$T/c" add blob2.bin
git -C "$T/c" commit -q -m "add binary 2"
push "$T/c" --force origin main
isnt "$rc" 0 "with leakgate.scanBinary=true the binary blob's password is rejected"
contains "$OUT" "Hard-coded password" "the generic rule is named"
contains "$OUT" "where:       blob2.bin:2" "path and line are given"
lacks "$OUT" "$pw" "the raw password is not shown"
lacks "$OUT" "binary file scanned" "no note: it was scanned whole"
is "$(rev "$SRV" refs/heads/main)" "$BIN" "server main did not move"
git -C "$SRV" config --unset leakgate.scanBinary

# ---- a file that is binary only after the first 8000 bytes is text ----
git -C "$T/c" reset -q --hard "$A"
{ head -c 9000 /dev/zero | tr '\000' 'a'; printf '\naws_access_key_id = %s\n\000\000' "$key"; } >"$T/c/late-nul.dat"
git -C "$T/c" add late-nul.dat
git -C "$T/c" commit -q -m "late NUL"
push "$T/c" --force origin main
isnt "$rc" 0 "NUL bytes after the first 8000 bytes do not make a file binary: rejected"
contains "$OUT" "late-nul.dat:2" "the secret is found"

# ---- UTF-16 text (byte-order mark): scanned as text, not skipped as binary ----
git -C "$T/c" reset -q --hard "$A"
printf 'Write-Host "d\303\251ploiement"\r\n# settings\r\n$env:AWS_ACCESS_KEY_ID = "%s"\r\n' "$key" |
	iconv -f UTF-8 -t UTF-16LE | { printf '\377\376'; cat; } >"$T/c/deploy.ps1"
git -C "$T/c" add deploy.ps1
git -C "$T/c" commit -q -m "UTF-16 script"
push "$T/c" --force origin main
isnt "$rc" 0 "a UTF-16LE script (as Windows PowerShell writes them) with a key is rejected"
contains "$OUT" "where:       deploy.ps1:3" "the key is on line 3 of the text"
contains "$OUT" "AWS access key ID" "by the AWS rule"
lacks "$OUT" "$key" "the raw key is not shown"
is "$(rev "$SRV" refs/heads/main)" "$BIN" "server main did not move"
git -C "$T/c" reset -q --hard "$A"
printf 'a = 1\nb = 2\n' | iconv -f UTF-8 -t UTF-16BE | { printf '\376\377'; cat; } >"$T/c/clean16.txt"
git -C "$T/c" add clean16.txt
git -C "$T/c" commit -q -m "clean UTF-16"
push "$T/c" --force origin main
is "$rc" 0 "a clean UTF-16BE file is accepted"
git -C "$T/c" reset -q --hard "$BIN"
git -C "$SRV" update-ref refs/heads/main "$BIN"

# ---- oversized blob, leakgate.maxBlobSize=1k ----
git -C "$SRV" config leakgate.maxBlobSize 1k
git -C "$T/c" reset -q --hard "$A"
{ i=0; while [ $i -lt 40 ]; do echo "filler line $i of a big file, nothing to see here"; i=$((i + 1)); done
  printf 'aws_access_key_id = %s\n' "$key"; } >"$T/c/big.txt"
git -C "$T/c" add big.txt
git -C "$T/c" commit -q -m "big file"
BIG=$(git -C "$T/c" rev-parse HEAD)
push "$T/c" --force origin main
is "$rc" 0 "a blob over leakgate.maxBlobSize with a secret is accepted (not scanned)"
is "$(rev "$SRV" refs/heads/main)" "$BIG" "server main moved"
contains "$OUT" "not scanned" "a note says a file was not scanned"
matches "$OUT" "leakgate: note: 1 file not scanned: over 1024 bytes \\(leakgate.maxBlobSize\\)" "the note gives the count and the limit"
commit_file "$T/c" small.txt "aws_access_key_id = $key" "small file"
push "$T/c" origin main
isnt "$rc" 0 "a small blob with the secret is still scanned and rejected"
git -C "$T/c" reset -q --hard HEAD~1
git -C "$SRV" config --unset leakgate.maxBlobSize

# ---- 16. submodule (gitlink) entries ----
make_server "$T/lib.git"
make_client "$T/libc" "$T/lib.git"
commit_file "$T/libc" lib.c "int lib;" "lib"
push "$T/libc" origin main
git -C "$T/c" -c protocol.file.allow=always submodule -q add "$T/lib.git" vendor/lib 2>/dev/null
git -C "$T/c" commit -q -m "add submodule"
SUB=$(git -C "$T/c" rev-parse HEAD)
is "$(git -C "$T/c" ls-tree HEAD vendor/lib | cut -d' ' -f1)" 160000 "the tree has a gitlink entry"
push "$T/c" origin main
is "$rc" 0 "a clean tree with a submodule is accepted"
is "$(rev "$SRV" refs/heads/main)" "$SUB" "server main moved"
lacks "$OUT" "could not check" "no failure"
is "$(ev_last kind)" accepted "event is accepted"

# a gitlink to a commit that exists nowhere (the hook must not try to read it)
blobid=$(git -C "$T/c" rev-parse HEAD:README.md)
git -C "$T/c" update-index --add --cacheinfo "160000,1234567890123456789012345678901234567890,vendor/ghost"
git -C "$T/c" commit -q -m "gitlink to an unknown commit"
push "$T/c" origin main
is "$rc" 0 "a gitlink to a commit the server does not have is accepted"
lacks "$OUT" "could not check" "no failure"

# ---- symlinks ----
ln -s ../README.md "$T/c/link-to-readme"
git -C "$T/c" add link-to-readme
git -C "$T/c" commit -q -m "plain symlink"
push "$T/c" origin main
is "$rc" 0 "a plain symlink is accepted"
tok=$(fake_github_token)
ln -s "$tok" "$T/c/token-link"
git -C "$T/c" add token-link
git -C "$T/c" commit -q -m "symlink with a token as its target"
is "$(git -C "$T/c" ls-tree HEAD token-link | cut -d' ' -f1)" 120000 "the tree has a symlink entry"
push "$T/c" origin main
isnt "$rc" 0 "a symlink whose target text is a token is rejected"
contains "$OUT" "GitHub personal access token" "the GitHub rule is named"
contains "$OUT" "where:       token-link:1" "the symlink is named"
lacks "$OUT" "$tok" "the raw token is not shown"
git -C "$T/c" reset -q --hard HEAD~1

# ---- a typechange: file -> symlink with a secret target ----
ln -sf "$tok" "$T/c/lib-link"
rm -f "$T/c/README.md"
ln -s "$tok" "$T/c/README.md"
git -C "$T/c" add -A
git -C "$T/c" commit -q -m "README becomes a symlink"
push "$T/c" origin main
isnt "$rc" 0 "a file turned into a symlink to a token is rejected"
contains "$OUT" "README.md:1" "the typechanged path is named"

# ---- refs that point straight at a blob or a tree ----
git -C "$T/c" reset -q --hard "$A" 2>/dev/null
git -C "$T/c" push -q --force origin main 2>/dev/null
stripe=$(fake_stripe_key)
rawblob=$(printf 'STRIPE_SECRET_KEY=%s\n' "$stripe" | git -C "$T/c" hash-object -w --stdin)
push "$T/c" origin "$rawblob:refs/tags/raw-blob"
isnt "$rc" 0 "a tag that points straight at a blob with a secret is rejected"
contains "$OUT" "Stripe" "the Stripe rule is named"
is "$(rev "$SRV" refs/tags/raw-blob)" none "the tag was not created"
rawtree=$(printf '100644 blob %s\tbilling.env\n' "$rawblob" | git -C "$T/c" mktree)
push "$T/c" origin "$rawtree:refs/tags/raw-tree"
isnt "$rc" 0 "a tag that points straight at a tree with a secret is rejected"
contains "$OUT" "billing.env" "the file in the tree is named"
cleanblob=$(printf 'nothing\n' | git -C "$T/c" hash-object -w --stdin)
push "$T/c" origin "$cleanblob:refs/tags/clean-blob"
is "$rc" 0 "a tag that points at a clean blob is accepted"

# ---- git notes ----
tok2=$(fake_github_token)
git -C "$T/c" notes add -m "deploy token: $tok2" "$A"
push "$T/c" origin refs/notes/commits
isnt "$rc" 0 "a note holding a token is rejected"
contains "$OUT" "GitHub personal access token" "the GitHub rule is named"
is "$(rev "$SRV" refs/notes/commits)" none "the notes ref was not created"
git -C "$T/c" notes remove "$A" 2>/dev/null
git -C "$T/c" update-ref -d refs/notes/commits

# ---- unusual path names ----
uni="donn$(printf '\303\251')es/cl$(printf '\303\251') priv$(printf '\303\251')e.txt"
commit_file "$T/c" "$uni" "aws_access_key_id = $key" "non-ASCII path"
push "$T/c" origin main
isnt "$rc" 0 "a secret under a non-ASCII path with spaces is rejected"
contains "$OUT" "where:       $uni:1" "the path is shown as it is"
git -C "$T/c" reset -q --hard "$A"
nlpath="odd
name.txt"
commit_file "$T/c" "$nlpath" "aws_access_key_id = $key" "newline in a path"
push "$T/c" origin main
isnt "$rc" 0 "a secret in a file whose name holds a newline is rejected"
lacks "$OUT" "could not check" "no failure"
is "$(ev_last kind)" rejected "event is rejected"
is "$(ev_last findings | jq -r '.[0].path')" "$nlpath" "the event records the exact path"
git -C "$T/c" reset -q --hard "$A"

done_testing
