#!/bin/sh
# Clean pushes are accepted: the first push into an empty repository, then
# more commits, and each records an "accepted" event.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"

# 1. initial push of a new repository
commit_file "$T/c" README.md "# demo project" "initial commit"
commit_file "$T/c" src/main.c "int main(void) { return 0; }" "add main"
push "$T/c" origin main
is "$rc" 0 "initial push into an empty repository is accepted"
is "$(rev "$SRV" refs/heads/main)" "$COMMIT" "server main moved to the pushed commit"
lacks "$OUT" "leakgate: push rejected" "no rejection message"
lacks "$OUT" "could not check" "no failure line"
is "$(ev_count)" 1 "one audit event"
is "$(ev_last kind)" accepted "event kind is accepted"
is "$(ev_last findings)" "[]" "event has no findings"
is "$(ev_last protocol)" local "event protocol is local"
is "$(ev_last repo)" "$(cd "$SRV" && pwd -P)" "event repo is the repository path"
is "$(ev_last pusher)" "$(id -un)" "event pusher is the system user"
refs=$(ev_last refs)
is "$(printf %s "$refs" | jq -r '.[0].ref')" refs/heads/main "event refs name refs/heads/main"
is "$(printf %s "$refs" | jq -r '.[0].old')" 0000000000000000000000000000000000000000 "event refs: old id is zero for a new branch"
is "$(printf %s "$refs" | jq -r '.[0].new')" "$COMMIT" "event refs: new id"
objs=$(ev_last objects_scanned)
[ "${objs:-0}" -ge 2 ]
ok $? "event counts the scanned objects (got $objs)"
[ "$(ev_last duration_ms)" -ge 0 ] && [ -n "$(ev_last ruleset)" ]
ok $? "event has a duration and the rule set hash"

# 2. a later push of ordinary changes
commit_file "$T/c" docs/setup.md "Run ./configure and make. Set API_URL in your environment." "docs"
commit_file "$T/c" src/config.c 'const char *password = getenv("DB_PASSWORD");' "read password from env"
push "$T/c" origin main
is "$rc" 0 "second clean push is accepted"
is "$(rev "$SRV" refs/heads/main)" "$COMMIT" "server main moved again"
is "$(ev_count "kind = 'accepted'")" 2 "two accepted events"

# 3. a new branch at a commit the server already has
push "$T/c" origin main:refs/heads/feature
is "$rc" 0 "new branch at an existing commit is accepted"
is "$(rev "$SRV" refs/heads/feature)" "$COMMIT" "server has the new branch"
is "$(ev_last kind)" accepted "event for the new branch is accepted"
is "$(ev_last objects_scanned)" 0 "nothing rescanned for a branch at a known commit"

# 4. lightweight tag at a known commit
git -C "$T/c" tag v0.1
push "$T/c" origin refs/tags/v0.1
is "$rc" 0 "lightweight tag is accepted"
is "$(rev "$SRV" refs/tags/v0.1)" "$COMMIT" "server has the tag"

done_testing
