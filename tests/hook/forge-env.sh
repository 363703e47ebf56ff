#!/bin/sh
# GitLab and Gitea run the hook with their own variables: who pushes and to
# which project. Under GitLab (GL_ID set) every line the pusher sees carries
# the GL-HOOK-ERR: prefix, which GitLab's web UI needs to show it.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
A=$COMMIT

# hook_lines: the hook's lines as the client shows them, "remote: " removed,
# git's end-of-line padding removed, blank lines dropped.
hook_lines() {
	sed -n 's/^remote: //p' "$OUT" | sed 's/[[:space:]]*$//' | grep -v '^$'
}

# ---- GitLab ----
tok=$(fake_github_token)
commit_file "$T/c" ci.env "GITHUB_TOKEN=$tok" "ci token"
(
	export GL_ID=user-42 GL_USERNAME=alice GL_PROJECT_PATH=acme/web GL_REPOSITORY=project-7 \
		GL_PROTOCOL=ssh
	push "$T/c" origin main
	echo "$rc" >"$T/rc"
)
rc=$(cat "$T/rc")
isnt "$rc" 0 "GitLab: the leaking push is rejected"
contains "$OUT" "remote: GL-HOOK-ERR: leakgate: push rejected: 1 secret" "GitLab: the header line carries GL-HOOK-ERR:"
contains "$OUT" "remote: GL-HOOK-ERR:     where:       ci.env:1" "GitLab: the finding lines carry GL-HOOK-ERR:"
hook_lines >"$T/lines"
grep -v '^GL-HOOK-ERR:' "$T/lines" >"$T/unprefixed"
is "$(wc -l <"$T/unprefixed" | tr -d ' ')" 0 "GitLab: every non-blank line of the message carries GL-HOOK-ERR:" ||
	diag_file "$T/unprefixed"
is "$(ev_last repo)" acme/web "GitLab: event repo is GL_PROJECT_PATH"
is "$(ev_last pusher)" alice "GitLab: event pusher is GL_USERNAME"
is "$(ev_last protocol)" ssh "GitLab: event protocol is GL_PROTOCOL"
is "$(ev_last kind)" rejected "GitLab: event is rejected"

# a GitLab push with maxReport exceeded and a bypass without reason: the
# extra lines are prefixed too
stripe=$(fake_stripe_key)
aws=$(fake_aws_key)
commit_file "$T/c" more.env "STRIPE=$stripe
aws_access_key_id = $aws" "more secrets"
git -C "$SRV" config leakgate.maxReport 1
(
	export GL_ID=user-42 GL_USERNAME=alice GL_PROJECT_PATH=acme/web
	push "$T/c" -o leakgate.bypass origin main
	echo "$rc" >"$T/rc"
)
git -C "$SRV" config --unset leakgate.maxReport
rc=$(cat "$T/rc")
isnt "$rc" 0 "GitLab: a bypass without reason is rejected"
contains "$OUT" "remote: GL-HOOK-ERR: leakgate: leakgate.bypass needs a reason" "GitLab: the reason line carries GL-HOOK-ERR:"
contains "$OUT" "more not shown" "GitLab: the '... more not shown' line is there"
hook_lines >"$T/lines"
grep -v '^GL-HOOK-ERR:' "$T/lines" >"$T/unprefixed"
is "$(wc -l <"$T/unprefixed" | tr -d ' ')" 0 "GitLab: every non-blank line carries GL-HOOK-ERR: (with more findings than shown)" ||
	diag_file "$T/unprefixed"

# GitLab failure line
(
	export GL_ID=user-42 GL_USERNAME=alice GL_PROJECT_PATH=acme/web
	printf 'hello world\n' >"$T/stdin"
	run_in "$SRV" "$T/stdin" env GIT_DIR=. "$HOOK"
	echo "$rc" >"$T/rc"
)
is "$(cat "$T/rc")" 1 "GitLab: malformed input is rejected"
matches "$ERR" "^GL-HOOK-ERR: leakgate: could not check this push" "GitLab: the failure line carries GL-HOOK-ERR:"
is "$(ev_last repo)" acme/web "GitLab: the failed event names the project"

# GitLab bypass (push options reach the hook the same way)
(
	export GL_ID=user-42 GL_USERNAME=alice GL_PROJECT_PATH=acme/web
	push "$T/c" -o "leakgate.bypass=fixture" origin main
	echo "$rc" >"$T/rc"
)
is "$(cat "$T/rc")" 0 "GitLab: bypass with a reason is accepted"
matches "$OUT" "remote: leakgate: [0-9]* secrets* found; push accepted because of leakgate.bypass" "GitLab: an accepted push's lines carry no GL-HOOK-ERR: (GitLab shows those as errors)"
is "$(ev_last pusher)" alice "GitLab: bypass event pusher is GL_USERNAME"
git -C "$T/c" reset -q --hard "$A"
git -C "$SRV" update-ref refs/heads/main "$A"

# ---- Gitea / Forgejo ----
tok2=$(fake_github_token)
commit_file "$T/c" deploy.env "GITHUB_TOKEN=$tok2" "deploy token"
(
	export GITEA_PUSHER_NAME=bob GITEA_PUSHER_EMAIL=bob@example.test \
		GITEA_REPO_USER_NAME=acme GITEA_REPO_NAME=api
	push "$T/c" origin main
	echo "$rc" >"$T/rc"
)
isnt "$(cat "$T/rc")" 0 "Gitea: the leaking push is rejected"
contains "$OUT" "remote: leakgate: push rejected: 1 secret" "Gitea: the header line is plain"
lacks "$OUT" "GL-HOOK-ERR" "Gitea: no GitLab prefix"
is "$(ev_last repo)" acme/api "Gitea: event repo is owner/name"
is "$(ev_last pusher)" bob "Gitea: event pusher is GITEA_PUSHER_NAME"
is "$(ev_last kind)" rejected "Gitea: event is rejected"
git -C "$T/c" reset -q --hard "$A"
commit_file "$T/c" ok.txt "fine" "fine"
(
	export GITEA_PUSHER_NAME=bob GITEA_REPO_USER_NAME=acme GITEA_REPO_NAME=api
	push "$T/c" origin main
	echo "$rc" >"$T/rc"
)
is "$(cat "$T/rc")" 0 "Gitea: a clean push is accepted"
is "$(ev_last repo)" acme/api "Gitea: accepted event repo is owner/name"
is "$(ev_last pusher)" bob "Gitea: accepted event pusher is GITEA_PUSHER_NAME"

# ---- plain git over HTTP with authentication: REMOTE_USER ----
printf '%s %s refs/heads/x\n' 0000000000000000000000000000000000000000 "$A" >"$T/stdin"
run_in "$SRV" "$T/stdin" env GIT_DIR=. REMOTE_USER=carol REMOTE_ADDR=127.0.0.1 "$HOOK"
is "$rc" 0 "REMOTE_USER: a known commit is accepted"
is "$(ev_last pusher)" carol "REMOTE_USER: event pusher is REMOTE_USER"
is "$(ev_last protocol)" http "REMOTE_USER: event protocol is http"

# ---- gitolite over SSH: GL_USER and GL_REPO, not the Unix account ----
printf '%s %s refs/heads/y\n' 0000000000000000000000000000000000000000 "$A" >"$T/stdin"
run_in "$SRV" "$T/stdin" env GIT_DIR=. GL_USER=dave GL_REPO=team/tools GL_BYPASS_ACCESS_CHECKS= \
	SSH_CONNECTION="192.0.2.7 50022 192.0.2.1 22" "$HOOK"
is "$rc" 0 "gitolite: a known commit is accepted"
is "$(ev_last pusher)" dave "gitolite: event pusher is GL_USER"
is "$(ev_last repo)" team/tools "gitolite: event repo is GL_REPO"
is "$(ev_last protocol)" ssh "gitolite: event protocol is ssh"
run_in "$SRV" "$T/stdin" env GIT_DIR=. GL_USER=dave GL_REPO=team/tools "$HOOK"
lacks "$ERR" "GL-HOOK-ERR" "gitolite is not GitLab: no GitLab prefix"

# ---- git daemon (git://): REMOTE_ADDR without CGI is not http ----
printf '%s %s refs/heads/z\n' 0000000000000000000000000000000000000000 "$A" >"$T/stdin"
run_in "$SRV" "$T/stdin" env GIT_DIR=. REMOTE_ADDR=192.0.2.9 REMOTE_PORT=41000 "$HOOK"
is "$rc" 0 "git daemon: a known commit is accepted"
is "$(ev_last protocol)" git "git daemon: event protocol is git, not http"

# ---- plain SSH: the account, and ssh ----
printf '%s %s refs/heads/w\n' 0000000000000000000000000000000000000000 "$A" >"$T/stdin"
run_in "$SRV" "$T/stdin" env GIT_DIR=. SSH_CONNECTION="192.0.2.8 50000 192.0.2.1 22" "$HOOK"
is "$(ev_last pusher)" "$(id -un)" "SSH: event pusher is the account"
is "$(ev_last protocol)" ssh "SSH: event protocol is ssh"

done_testing
