#!/bin/sh
# leakgated --gitea ROOT keeps the hook installed in every repository under
# a Gitea repository root: the ones there at start, and the ones created
# (or moved in) while it runs, beside Gitea's own hooks, so that the first
# push into a new repository is already checked.
. "$(dirname "$0")/lib.sh"

R=$T/gitea-root
make_gitea_repo "$R/alice/one.git"
mkdir -p "$R/alice/notes"
mkdir -p "$R/alice/not-a-repo.git"

# seed_client PATH SERVER: a clone of SERVER with one commit to push.
seed_client() {
	make_client "$1" "$2"
	commit_file "$1" README.md "hello" "initial"
}

# wait_for FILE [SECONDS]: until FILE exists (default 10 s); 1 when it never does.
wait_for() {
	_n=$((${2:-10} * 20))
	while [ ! -e "$1" ] && [ "$_n" -gt 0 ]; do
		sleep 0.05
		_n=$((_n - 1))
	done
	[ -e "$1" ]
}

"$LGD" --gitea "$T/no-such-root" --listen "127.0.0.1:$(random_port)" --db "$DB" >"$T/bad.out" 2>&1
is "$?" 2 "--gitea with a folder that does not exist: exit 2"
contains "$T/bad.out" "no-such-root" "and the message names it"

start_daemon --gitea "$R" || bail "leakgated did not start"
wait_for "$R/alice/one.git/hooks/pre-receive.d/leakgate"
ok $? "a repository there at start gets the hook"
is "$(git -C "$R/alice/one.git" config --bool receive.advertisePushOptions)" true "and push options"

# A repository created the way Gitea does it, under an existing owner.
make_gitea_repo "$R/alice/new.git"
wait_for "$R/alice/new.git/hooks/pre-receive.d/leakgate"
ok $? "a repository created while leakgated runs gets the hook"
seed_client "$T/c1" "$R/alice/new.git"
push "$T/c1" origin main
is "$rc" 0 "its first (clean) push is accepted"
commit_file "$T/c1" deploy.env "AWS_ACCESS_KEY_ID=$(fake_aws_key)" "leak"
push "$T/c1" origin main
isnt "$rc" 0 "a leaking push into it is rejected"
contains "$OUT" "AWS access key ID" "by leakgate"
grep -q " refs/heads/main$" "$R/alice/new.git.log"
ok $? "Gitea's own hook still runs"

# A new owner with a new repository.
make_gitea_repo "$R/bob/project.git"
wait_for "$R/bob/project.git/hooks/pre-receive.d/leakgate"
ok $? "a repository of a new owner gets the hook"

# A repository moved in (adopted, transferred).
make_gitea_repo "$T/elsewhere/moved.git"
mv "$T/elsewhere/moved.git" "$R/bob/moved.git"
wait_for "$R/bob/moved.git/hooks/pre-receive.d/leakgate"
ok $? "a repository moved in gets the hook"

# A bare repository made by hand (no pre-receive.d): the hook after a pause.
git init -q --bare "$R/bob/plain.git"
srv_config "$R/bob/plain.git"
wait_for "$R/bob/plain.git/hooks/pre-receive" 20 && grep -q "installed by leakgate" "$R/bob/plain.git/hooks/pre-receive"
ok $? "a plain bare repository gets the hook as hooks/pre-receive"
seed_client "$T/c2" "$R/bob/plain.git"
commit_file "$T/c2" app.env "STRIPE=$(fake_stripe_key)" "leak"
push "$T/c2" origin main
isnt "$rc" 0 "and a leaking push into it is rejected"

[ ! -e "$R/alice/notes/hooks" ] && [ ! -e "$R/alice/not-a-repo.git/hooks" ]
ok $? "folders that are not repositories are left alone"
is "$(grep -c 'hook installed' "$LGD_LOG")" 4 "the log has a line for each new repository" ||
	diag_file "$LGD_LOG" 20
grep "failed" "$LGD_LOG" | grep -v "not-a-repo.git\|install --gitea $R failed\|1 repository failed" >"$T/failures"
is "$(cat "$T/failures")" "" "no failure but the folder that is not a repository"
contains "$LGD_LOG" "not-a-repo.git is not a git repository" "which the start-up install names"

api_done
