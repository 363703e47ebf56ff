#!/bin/sh
# A repository under a folder whose name has a colon and spaces: git C-quotes
# such paths in GIT_ALTERNATE_OBJECT_DIRECTORIES; the hook must still see the
# objects the server already has (the parent of the pushed commit).
. "$(dirname "$0")/lib.sh"

DIR="$T/odd: name dir"
SRV="$DIR/srv.git"
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
A=$COMMIT
push "$T/c" origin main
is "$rc" 0 "initial push into the odd path is accepted"
is "$(rev "$SRV" refs/heads/main)" "$A" "server main moved"

commit_file "$T/c" src/a.c "int a;" "clean change on top of a known parent"
B=$COMMIT
push "$T/c" origin main
is "$rc" 0 "a clean commit whose parent is on the server is accepted"
lacks "$OUT" "could not check" "no failure line"
is "$(rev "$SRV" refs/heads/main)" "$B" "server main moved"
is "$(ev_last kind)" accepted "event is accepted"
is "$(ev_last repo)" "$(cd "$SRV" && pwd -P)" "event records the odd repository path"

key=$(fake_aws_key)
commit_file "$T/c" src/b.cfg "aws_access_key_id = $key" "leaky change on top of a known parent"
push "$T/c" origin main
isnt "$rc" 0 "a leaking commit whose parent is on the server is rejected"
lacks "$OUT" "could not check" "no failure line (the parent was found)"
contains "$OUT" "where:       src/b.cfg:1" "the finding is reported"
is "$(rev "$SRV" refs/heads/main)" "$B" "server main did not move"
is "$(ev_last kind)" rejected "event is rejected"

# an edit of a file with a pre-existing secret needs the old blob from the
# main object store, too
push "$T/c" -o "leakgate.bypass=fixture" origin main
is "$rc" 0 "the secret pushed with a bypass (setting up a pre-existing secret)"
commit_file "$T/c" src/b.cfg "aws_access_key_id = $key
region = x" "edit"
push "$T/c" origin main
is "$rc" 0 "an edit next to a pre-existing secret is accepted in the odd path"
is "$(ev_last kind)" warned "event is warned (the old blob was read)"

# the same over a file:// URL (git runs receive-pack the same way)
make_client "$T/c2" "file://$SRV"
commit_file "$T/c2" c.txt "c" "clean via file://"
push "$T/c2" origin main
is "$rc" 0 "a clean push over file:// is accepted"
lacks "$OUT" "could not check" "no failure line"
tok=$(fake_github_token)
commit_file "$T/c2" d.txt "GITHUB_TOKEN=$tok" "leak via file://"
push "$T/c2" origin main
isnt "$rc" 0 "a leaking push over file:// is rejected"
contains "$OUT" "where:       d.txt:1" "the finding is reported"

done_testing
