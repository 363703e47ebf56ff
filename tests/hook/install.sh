#!/bin/sh
# leakgate install: a plain bare repository, a repository with Gitea's hook
# layout, a repository with someone else's pre-receive hook, GitLab's global
# hooks folder, and a whole Gitea repository root (re-run for new ones).
. "$(dirname "$0")/lib.sh"

"$LG" install --help >"$T/help" 2>&1
ok $? "leakgate install exists (--help exits 0)" || { diag_file "$T/help"; done_testing; }

Z=0000000000000000000000000000000000000000

# snapshot DIR: every file and link under DIR's hooks folders, with content
# checksums and link targets, and each repository's push-options setting.
snapshot() {
	find "$1" -path '*/hooks/*' \( -type f -o -type l \) ! -name '*.sample' | sort | while read -r f; do
		if [ -L "$f" ]; then
			echo "$f -> $(readlink "$f")"
		else
			echo "$f $(cksum <"$f") $(stat -c %a "$f")"
		fi
	done
	find "$1" -name config -path '*.git/config' | sort | while read -r c; do
		echo "$c advertisePushOptions=$(git config -f "$c" --get receive.advertisePushOptions)"
	done
}

# leak_and_clean CLIENT REMOTE_BRANCH LABEL: a leaking push is rejected and a
# clean one accepted.
leak_and_clean() {
	_base=$(git -C "$1" rev-parse HEAD)
	commit_file "$1" "leak-$3.env" "GITHUB_TOKEN=$(fake_github_token)" "leak $3"
	push "$1" origin "HEAD:$2"
	isnt "$rc" 0 "$3: a leaking push is rejected"
	contains "$OUT" "leakgate: push rejected" "$3: by leakgate"
	git -C "$1" reset -q --hard "$_base"
	commit_file "$1" "clean-$3.txt" "clean" "clean $3"
	push "$1" origin "HEAD:$2"
	is "$rc" 0 "$3: a clean push is accepted" || diag_file "$OUT"
}

# a repository with content to push from
seed_client() {
	make_client "$1" "$2"
	commit_file "$1" README.md "hello" "initial"
}

# ---- a plain bare repository ----
P=$T/plain.git
git init -q --bare "$P"
srv_config "$P"
run "$LG" install --repo "$P"
is "$rc" 0 "--repo: exit 0" || diag_file "$OUT"
[ -x "$P/hooks/pre-receive" ]
ok $? "--repo: hooks/pre-receive is executable"
[ ! -e "$P/hooks/pre-receive.d" ]
ok $? "--repo: no pre-receive.d folder is made for a plain repository"
is "$(git -C "$P" config --bool receive.advertisePushOptions)" true "--repo: push options are turned on"
seed_client "$T/pc" "$P"
push "$T/pc" origin main
is "$rc" 0 "--repo: the first push is accepted"
leak_and_clean "$T/pc" main plain
before=$(snapshot "$P")
run "$LG" install --repo "$P"
is "$rc" 0 "--repo again: exit 0"
is "$(snapshot "$P")" "$before" "--repo again: nothing changes (idempotent)"

# --dry-run writes nothing
D=$T/dry.git
git init -q --bare "$D"
run "$LG" install --dry-run --repo "$D"
is "$rc" 0 "--dry-run: exit 0"
[ ! -e "$D/hooks/pre-receive" ]
ok $? "--dry-run: no hook written"
contains "$OUT" "$D/hooks/pre-receive" "--dry-run: says where it would install"

# a work tree's repository
git init -q "$T/work"
srv_config "$T/work/.git"
run "$LG" install --repo "$T/work"
is "$rc" 0 "--repo on a work tree: exit 0"
[ -x "$T/work/.git/hooks/pre-receive" ]
ok $? "--repo on a work tree: installed into .git/hooks"

# not a repository
mkdir -p "$T/empty"
run "$LG" install --repo "$T/empty"
isnt "$rc" 0 "--repo on a folder that is not a repository fails"

# ---- Gitea's layout: hooks/pre-receive dispatcher + pre-receive.d/gitea ----
G=$T/gitea-style.git
make_gitea_repo "$G"
cp "$G/hooks/pre-receive" "$T/gitea-dispatcher.orig"
cp "$G/hooks/pre-receive.d/gitea" "$T/gitea-hook.orig"
run "$LG" install --repo "$G"
is "$rc" 0 "Gitea layout: exit 0" || diag_file "$OUT"
[ -x "$G/hooks/pre-receive.d/leakgate" ]
ok $? "Gitea layout: installed as hooks/pre-receive.d/leakgate"
cmp -s "$G/hooks/pre-receive" "$T/gitea-dispatcher.orig" && [ ! -L "$G/hooks/pre-receive" ]
ok $? "Gitea layout: Gitea's dispatcher is untouched"
cmp -s "$G/hooks/pre-receive.d/gitea" "$T/gitea-hook.orig"
ok $? "Gitea layout: Gitea's own hook is untouched"
is "$(git -C "$G" config --bool receive.advertisePushOptions)" true "Gitea layout: push options on"
seed_client "$T/gc" "$G"
push "$T/gc" origin main
is "$rc" 0 "Gitea layout: first push accepted" || diag_file "$OUT"
grep -q " refs/heads/main$" "$G.log"
ok $? "Gitea layout: Gitea's hook still runs and gets the ref updates"
leak_and_clean "$T/gc" main gitea-layout
is "$(wc -l <"$G.log" | tr -d ' ')" 3 "Gitea layout: Gitea's hook ran for every push"

# ---- someone else's pre-receive hook ----
F=$T/foreign.git
git init -q --bare "$F"
srv_config "$F"
cat >"$F/hooks/pre-receive" <<FOREIGN
#!/bin/sh
# corporate policy hook
while read -r old new ref; do
	echo "\$ref" >>"$F.log"
	case \$ref in
	refs/heads/forbidden) echo "policy: pushing to forbidden is not allowed" >&2; exit 1 ;;
	esac
done
exit 0
FOREIGN
chmod 755 "$F/hooks/pre-receive"
cp "$F/hooks/pre-receive" "$T/foreign.orig"
run "$LG" install --repo "$F"
is "$rc" 0 "foreign hook: exit 0" || diag_file "$OUT"
kept=""
for f in "$F"/hooks/pre-receive.d/* "$F/hooks/pre-receive"; do
	cmp -s "$f" "$T/foreign.orig" && kept=$f
done
isnt "$kept" "" "foreign hook: the previous hook is kept unchanged ($kept)"
[ -x "$kept" ]
ok $? "foreign hook: and is still executable"
seed_client "$T/fc" "$F"
push "$T/fc" origin main main:refs/heads/second
is "$rc" 0 "foreign hook: a clean push is accepted" || diag_file "$OUT"
grep -q '^refs/heads/main$' "$F.log" && grep -q '^refs/heads/second$' "$F.log"
ok $? "foreign hook: the previous hook still runs and gets every ref line"
push "$T/fc" origin main:refs/heads/forbidden
isnt "$rc" 0 "foreign hook: the previous hook still rejects what it rejects"
contains "$OUT" "policy: pushing to forbidden is not allowed" "foreign hook: with its own message"
is "$(rev "$F" refs/heads/forbidden)" none "foreign hook: the forbidden branch was not created"
leak_and_clean "$T/fc" main foreign
before=$(snapshot "$F")
run "$LG" install --repo "$F"
is "$rc" 0 "foreign hook, install again: exit 0"
is "$(snapshot "$F")" "$before" "foreign hook, install again: nothing changes"
push "$T/fc" origin main:refs/heads/forbidden
isnt "$rc" 0 "foreign hook, after the second install: the previous hook still rejects"

# ---- the hook binary goes missing: pushes must not be let through ----
mkdir -p "$T/bin"
cp "$HOOK" "$T/bin/leakgate-pre-receive"
M=$T/missing.git
git init -q --bare "$M"
srv_config "$M"
run "$LG" install --hook-binary "$T/bin/leakgate-pre-receive" --repo "$M"
is "$rc" 0 "--hook-binary: exit 0"
seed_client "$T/mc" "$M"
push "$T/mc" origin main
is "$rc" 0 "--hook-binary: the hook works"
rm -f "$T/bin/leakgate-pre-receive"
commit_file "$T/mc" t.env "GITHUB_TOKEN=$(fake_github_token)" "leak while the binary is gone"
push "$T/mc" origin main
isnt "$rc" 0 "a leaking push is not accepted when the hook binary has gone missing" || diag_file "$OUT"

# ---- GitLab: global server hooks ----
GL=$T/gitlab-hooks
mkdir -p "$GL"
run "$LG" install --gitlab "$GL"
is "$rc" 0 "--gitlab: exit 0" || diag_file "$OUT"
[ -x "$GL/pre-receive.d/leakgate" ]
ok $? "--gitlab: DIR/pre-receive.d/leakgate is executable"
run "$LG" install --gitlab "$GL"
is "$rc" 0 "--gitlab again: exit 0"
run "$LG" install --gitlab "$T/no-such-dir"
isnt "$rc" 0 "--gitlab on a missing folder fails"
# a repository whose hook runs the global hooks the way Gitaly does
GR=$T/gitlab-repo.git
git init -q --bare "$GR"
srv_config "$GR"
git -C "$GR" config receive.advertisePushOptions true
cat >"$GR/hooks/pre-receive" <<GITALY
#!/bin/sh
# stands in for Gitaly: run every global pre-receive hook with the same input
input=\$(mktemp) || exit 1
cat >"\$input"
for h in "$GL"/pre-receive.d/*; do
	[ -x "\$h" ] || continue
	"\$h" <"\$input" || { rm -f "\$input"; exit 1; }
done
rm -f "\$input"
GITALY
chmod 755 "$GR/hooks/pre-receive"
seed_client "$T/glc" "$GR"
(
	export GL_ID=user-1 GL_USERNAME=dana GL_PROJECT_PATH=group/project GL_PROTOCOL=web
	push "$T/glc" origin main
	echo "$rc" >"$T/rc"
	commit_file "$T/glc" leak.env "GITHUB_TOKEN=$(fake_github_token)" "leak under gitlab"
	push "$T/glc" origin main
	echo "$rc" >"$T/rc2"
)
is "$(cat "$T/rc")" 0 "--gitlab: a clean push through the global hook is accepted"
isnt "$(cat "$T/rc2")" 0 "--gitlab: a leaking push through the global hook is rejected"
contains "$OUT" "remote: GL-HOOK-ERR: leakgate: push rejected" "--gitlab: the message carries GL-HOOK-ERR:"
is "$(ev_last pusher)" dana "--gitlab: the event names the GitLab user"

# ---- Gitea: every repository under the root ----
R=$T/gitea-root
make_gitea_repo "$R/alice/one.git"
make_gitea_repo "$R/alice/two.git"
make_gitea_repo "$R/org/three.git"
mkdir -p "$R/alice/notes"
echo "not a repository" >"$R/alice/notes/readme"
echo "top-level file" >"$R/README"
run "$LG" install --gitea "$R"
is "$rc" 0 "--gitea: exit 0" || diag_file "$OUT"
for r in alice/one alice/two org/three; do
	[ -x "$R/$r.git/hooks/pre-receive.d/leakgate" ] &&
		[ "$(git -C "$R/$r.git" config --bool receive.advertisePushOptions)" = true ]
	ok $? "--gitea: $r has the hook and push options"
	cmp -s "$R/$r.git/hooks/pre-receive" "$T/gitea-dispatcher.orig"
	ok $? "--gitea: $r keeps Gitea's dispatcher"
done
[ ! -e "$R/alice/notes/hooks" ]
ok $? "--gitea: a folder that is not a repository is left alone"
first=$(snapshot "$R")

make_gitea_repo "$R/org/four.git"
run "$LG" install --gitea "$R"
is "$rc" 0 "--gitea re-run: exit 0" || diag_file "$OUT"
[ -x "$R/org/four.git/hooks/pre-receive.d/leakgate" ]
ok $? "--gitea re-run: the new repository gets the hook"
is "$(git -C "$R/org/four.git" config --bool receive.advertisePushOptions)" true "--gitea re-run: and push options"
snapshot "$R" | grep -v '/org/four\.git/' >"$T/second.others"
printf '%s\n' "$first" >"$T/first"
cmp -s "$T/first" "$T/second.others"
ok $? "--gitea re-run: the other repositories are unchanged" || diff "$T/first" "$T/second.others" | sed 's/^/#   /'
second=$(snapshot "$R")
run "$LG" install --gitea "$R"
is "$rc" 0 "--gitea third run: exit 0"
is "$(snapshot "$R")" "$second" "--gitea third run: nothing changes (idempotent)"

seed_client "$T/g4" "$R/org/four.git"
(
	export GITEA_PUSHER_NAME=erin GITEA_REPO_USER_NAME=org GITEA_REPO_NAME=four
	push "$T/g4" origin main
	echo "$rc" >"$T/rc"
	commit_file "$T/g4" leak.env "GITHUB_TOKEN=$(fake_github_token)" "leak under gitea"
	push "$T/g4" origin main
	echo "$rc" >"$T/rc2"
)
is "$(cat "$T/rc")" 0 "--gitea: a clean push into the new repository is accepted"
isnt "$(cat "$T/rc2")" 0 "--gitea: a leaking push into the new repository is rejected"
is "$(ev_last repo)" org/four "--gitea: the event names the Gitea repository"
grep -q " refs/heads/main$" "$R/org/four.git.log"
ok $? "--gitea: Gitea's own hook still ran"

run "$LG" install --gitea "$T/no-such-root"
isnt "$rc" 0 "--gitea on a missing folder fails"
run "$LG" install --repo "$P" --gitlab "$GL"
isnt "$rc" 0 "two modes at once are refused"

done_testing
