#!/bin/bash
# `leakgate scan --git`: a repository's whole history, made with git in a
# temporary folder: secrets added and removed again, in commit and tag
# messages, on a branch that is not the default, one blob under two paths
# and on two branches, an unreachable object (--all-objects), bare and
# non-bare, loose and packed, a corrupt object, not a repository, SHA-256.
# Text, JSON and SARIF reports. TAP.
#
# The credentials are random each run (lib.sh fake_*); no output of any run
# may contain one.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # make check runs it with $(SHELL)
. "$(dirname "$0")/lib.sh"

export GIT_CONFIG_NOSYSTEM=1 HOME=$T/home GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@example.com \
	GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@example.com
mkdir -p "$HOME"

# ---- the planted secrets ----
KEY_A=$(fake_aws_key) SECRET_A=$(fake_aws_secret) # added in commit 2, removed in commit 3
KEY_B=$(fake_aws_key) # a commit message only
KEY_C=$(fake_aws_key) # an annotated tag's message only
KEY_D=$(fake_aws_key) # a branch that is not the default only
KEY_E=$(fake_aws_key) # one blob, two paths, two branches
KEY_F=$(fake_aws_key) # an unreachable blob only
KEY_G=$(fake_aws_key) # inside a binary file
KEY_H=$(fake_aws_key) # in a zip member, in another repository
KEY_I=$(fake_aws_key) # in base64, in that repository
SECRETS="KEY_A SECRET_A KEY_B KEY_C KEY_D KEY_E KEY_F KEY_G KEY_H KEY_I"

# ---- the repository ----
W=$T/work
git -c init.defaultBranch=main init -q "$W"
g() { git -C "$W" "$@"; }
commit_file() { # commit_file PATH CONTENT MESSAGE
	mkdir -p "$(dirname "$W/$1")" && printf '%s\n' "$2" >"$W/$1" && g add "$1" && g commit -q -m "$3"
}
commit_file README.md "# Demo" "first"
C1=$(g rev-parse HEAD)
commit_file config/aws.ini "[default]
aws_access_key_id = $KEY_A
aws_secret_access_key = $SECRET_A" "add the AWS settings"
C2=$(g rev-parse HEAD)
g rm -q config/aws.ini && g commit -q -m "remove the AWS settings"
C3=$(g rev-parse HEAD)
g commit -q --allow-empty -m "rotate the deploy key

The old one was $KEY_B."
C4=$(g rev-parse HEAD)
g tag -a v1.0 -m "Release 1.0 (built with $KEY_C)"
TAG=$(g rev-parse v1.0)
mkdir -p "$W/a" "$W/b"
printf 'key=%s\n' "$KEY_E" >"$W/a/e.txt" && cp "$W/a/e.txt" "$W/b/e.txt"
g add a b && g commit -q -m "two copies"
C5=$(g rev-parse HEAD)
BLOB_E=$(g rev-parse HEAD:a/e.txt)
g branch release
g checkout -q -b feature "$C1"
commit_file notes/dev.txt "dev key $KEY_D" "notes"
CD=$(g rev-parse HEAD)
g checkout -q main
BLOB_F=$(printf 'leftover %s\n' "$KEY_F" | g hash-object -w --stdin)

# ========================================================== the history ==

lg_run hist scan --git --format json "$W"
is "$RC" 1 "secrets in the history: exit status 1"
J=$T/hist.json
cp "$OUT" "$J"
q() { jq -r "$@" "$J"; }

# A secret added in commit 2 and removed in commit 3.
is "$(q '[.findings[] | select(.rule_id == "aws-access-key-id" and .path == "config/aws.ini")] | length')" 1 \
	"the key removed again is found, once"
is "$(q '.findings[] | select(.rule_id == "aws-access-key-id" and .path == "config/aws.ini") | "\(.commit) \(.line) \(.column) \(.object.type)"')" \
	"$C2 2 21 blob" "it names commit 2 (which added it), its line and column, and the blob"
is "$(q '[.findings[] | select(.path == "config/aws.ini") | .rule_id] | sort | join(" ")')" \
	"aws-access-key-id aws-secret-access-key" "the secret access key next to it is found too"
is "$(q '.findings[] | select(.path == "config/aws.ini" and .rule_id == "aws-access-key-id") | .refs | join(" ")')" \
	"main release v1.0" "the refs that contain commit 2: branches, then tags (not feature, which forked before it)" ||
	diag "$(q -c '.findings[] | {path, refs}')"

# Commit and tag messages: the whole object is scanned (lines count from its first header).
is "$(q '.findings[] | select(.object.type == "commit") | "\(.path) \(.commit) \(.rule_id)"')" \
	"(commit $C4) $C4 aws-access-key-id" "a secret only in a commit message: found, naming the commit"
is "$(q '.findings[] | select(.object.type == "commit") | .line')" \
	"$(git -C "$W" cat-file commit "$C4" | grep -n "$KEY_B" | cut -d: -f1)" \
	"its line is the line in 'git cat-file commit'"
is "$(q '.findings[] | select(.object.type == "tag") | "\(.path) \(.object.id) \(.refs | join(","))"')" \
	"(tag v1.0) $TAG v1.0" "a secret only in an annotated tag's message: found, naming the tag"

# A branch that is not the default.
is "$(q '.findings[] | select(.path == "notes/dev.txt") | "\(.commit) \(.refs | join(","))"')" "$CD feature" \
	"a secret only on another branch: found, with that branch as its only ref"

# One blob under two paths, on two branches: reported once, at the first path, with the other.
is "$(q --arg b "$BLOB_E" '[.findings[] | select(.object.id == $b)] | length')" 1 \
	"one blob under two paths on two branches: reported once"
is "$(q --arg b "$BLOB_E" '.findings[] | select(.object.id == $b) | "\(.path) \(.also_at | join(",")) \(.commit) \(.refs | join(","))"')" \
	"a/e.txt b/e.txt $C5 main,release" "it names the first path, the other path, the commit, both branches"

# Unreachable objects: only with --all-objects.
is "$(q --arg b "$BLOB_F" '[.findings[] | select(.object.id == $b)] | length')" 0 \
	"a secret only in an unreachable blob: not found without --all-objects"
is "$(q '[.findings[] | .unreachable] | any')" false "no finding is marked unreachable without --all-objects"
lg_run all scan --git --all-objects --format json "$W"
is "$RC" 1 "--all-objects: exit status 1"
is "$(jq -r --arg b "$BLOB_F" '.findings[] | select(.object.id == $b) | "\(.path) \(.unreachable) \(.commit) \(.refs | length)"' "$OUT")" \
	"(unreachable blob ${BLOB_F:0:12}) true null 0" "--all-objects: the unreachable blob's secret is found, marked unreachable"
is "$(jq '.findings | length' "$OUT")" "$(($(q '.findings | length') + 1))" "--all-objects: everything else is the same, found once"

# Text: where, the commit, the refs.
lg_run text scan --git "$W"
is "$RC" 1 "text: exit status 1"
contains "$OUT" "config/aws.ini:2:21: " "text: path:line:column of the removed key"
contains "$OUT" "    commit       $C2" "text: the commit that introduced it"
contains "$OUT" "    refs         main, release, v1.0" "text: the refs that contain it"
contains "$OUT" "    also at      b/e.txt" "text: the blob's other path"
contains "$OUT" "leakgate: 6 secrets found in 5 paths" "text: the summary counts secrets and paths"
contains "$OUT" "objects scanned" "text: the summary counts objects"

# Threads: the same report with one thread and with several.
lg_run t1 scan --git --threads 1 --format json "$W"
cp "$OUT" "$T/t1.json"
lg_run t4 scan --git --threads 4 --format json "$W"
is "$(jq -c .findings "$OUT")" "$(jq -c .findings "$T/t1.json")" "--threads 1 and --threads 4: the same findings, in the same order"
is "$(jq -c .findings "$OUT")" "$(q -c .findings)" "the default thread count: the same findings"

# ================================================= bare, packed, .git ==

git clone -q --bare "$W" "$T/bare.git"
lg_run bare scan --git --format json "$T/bare.git"
is "$RC" 1 "a bare clone: exit status 1"
is "$(jq -c '[.findings[] | {path, commit, line, rule_id}]' "$OUT")" "$(q -c '[.findings[] | {path, commit, line, rule_id}]')" \
	"a bare clone: the same findings (its refs are the same branches and tags)"
lg_run dotgit scan --git --format json "$W/.git"
is "$(jq -c '.findings | map(del(.repository))' "$OUT")" "$(q -c '.findings | map(del(.repository))')" \
	"the .git folder of a work tree: the same report"
cp -r "$W" "$T/packed" && git -C "$T/packed" gc -q --prune=now 2>/dev/null
[ -n "$(ls "$T/packed/.git/objects/pack/"*.pack 2>/dev/null)" ]
ok $? "a packed copy (git gc) has a pack"
lg_run packed scan --git --format json "$T/packed"
is "$(jq -c '[.findings[] | {path, commit, line, rule_id}]' "$OUT")" "$(q -c '[.findings[] | {path, commit, line, rule_id}]')" \
	"packed (read in pack order): the same findings"

# The work tree is not what is scanned: a secret only there is not in the history.
printf 'k=%s\n' "$KEY_F" >"$W/uncommitted.txt"
lg_run worktree scan --git --format json "$W"
is "$(jq -r '[.findings[] | select(.path == "uncommitted.txt")] | length' "$OUT")" 0 "an uncommitted file is not part of the history"
rm -f "$W/uncommitted.txt"

# ============================================================== binary ==

B=$T/binrepo
git -c init.defaultBranch=main init -q "$B"
printf 'GIF89a\0\0\0\1key=%s\0\n' "$KEY_G" >"$B/logo.gif"
git -C "$B" add logo.gif && git -C "$B" commit -q -m "logo"
lg_run bin scan --git --format json "$B"
is "$RC" 1 "a binary blob with a provider key: found (structured tokens are scanned in binaries)"
is "$(jq -r '.findings[0].path' "$OUT")" "logo.gif" "the binary blob's finding names its path"
contains "$OUT" "binary file" "the binary blob is listed as not scanned whole"
lg_run maxsize scan --git --max-size 8 --format json "$B"
is "$RC" 0 "--max-size 8: the blob is larger, so nothing is found"
is "$(jq -r '.skipped[0].path' "$OUT")" "logo.gif" "--max-size: the larger blob is listed as skipped, by path"
contains "$OUT" "larger than --max-size" "--max-size: says why"

# ============================================ several repositories ==

lg_run several scan --git --format json "$W" "$B"
is "$RC" 1 "two repositories at once: exit status 1"
is "$(jq -r '[.findings[] | .repository] | unique | join(" ")' "$OUT")" "$(printf '%s\n' "$W" "$B" | sort | paste -sd' ')" \
	"two repositories: each finding names its repository"
is "$(jq '.findings | length' "$OUT")" "$(($(q '.findings | length') + 1))" "two repositories: the findings of both"
lg_run several_text scan --git "$W" "$B"
contains "$OUT" "    repository   $B" "two repositories, text: each finding names its repository"
lg_run one_text scan --git "$B"
lacks "$OUT" "    repository   " "one repository, text: no repository line"

# =========================================================== clean =====

CL=$T/clean
git -c init.defaultBranch=main init -q "$CL"
printf 'int main(void) { return 0; }\n' >"$CL/main.c"
git -C "$CL" add main.c && git -C "$CL" commit -q -m "main" && git -C "$CL" tag -a v0 -m "first release"
lg_run clean scan --git "$CL"
is "$RC" 0 "a clean history: exit status 0"
contains "$OUT" "leakgate: 0 secrets found in 0 paths (3 objects scanned" "a clean history: the blob, the commit and the tag were scanned"
git -c init.defaultBranch=main init -q "$T/empty"
lg_run empty scan --git "$T/empty"
is "$RC" 0 "a repository without commits: exit status 0 (nothing to scan)"

# ============================================================== errors ==

# A corrupt object: an error, never a clean result.
cp -r "$W" "$T/corrupt"
BLOB_A=$(git -C "$W" rev-parse "$C2:config/aws.ini")
obj=$T/corrupt/.git/objects/${BLOB_A:0:2}/${BLOB_A:2}
chmod u+w "$obj" && truncate -s 12 "$obj"
lg_run corrupt scan --git --format json "$T/corrupt"
is "$RC" 2 "a truncated object: exit status 2"
is "$(jq -r '.errors[0].path' "$OUT")" "config/aws.ini" "the error names the path"
contains "$OUT" "cannot read blob $BLOB_A" "the error names the object"
is "$(jq -r '[.findings[] | select(.path == "notes/dev.txt")] | length' "$OUT")" 1 "the rest of the history is still scanned"
# A truncated commit (libgit2 1.5 would never return from reading it): an error, no hang.
cp -r "$W" "$T/badcommit"
obj=$T/badcommit/.git/objects/${C3:0:2}/${C3:2}
chmod u+w "$obj" && truncate -s 30 "$obj"
lg_run badcommit scan --git "$T/badcommit"
is "$RC" 2 "a truncated commit: exit status 2 (not a hang: lg_run gives up after 120 s)"
contains "$OUT" "cannot read object $C3" "a truncated commit: the error names it"
# A missing tree: the commit is named.
cp -r "$W" "$T/notree"
tree=$(git -C "$W" rev-parse "$C2^{tree}")
rm -f "$T/notree/.git/objects/${tree:0:2}/${tree:2}"
lg_run notree scan --git "$T/notree"
is "$RC" 2 "a missing tree: exit status 2"
contains "$OUT" "commit $C2: cannot read its tree" "a missing tree: the error names the commit"

lg_run notrepo scan --git "$T/home"
is "$RC" 2 "--git on a folder that is not a repository: exit status 2"
contains "$OUT" "is not a Git repository" "--git on a folder that is not a repository: says so"
lg_run nopath scan --git "$T/no-such-folder"
is "$RC" 2 "--git on a path that does not exist: exit status 2"
lg_run stdin scan --git -
is "$RC" 2 "--git with '-': exit status 2"
lg_run threads0 scan --git --threads 0 "$W"
is "$RC" 2 "--threads 0: exit status 2"
lg_run nogit scan --all-objects "$CL"
is "$RC" 2 "--all-objects without --git: exit status 2"

# Without --git, a repository is still an error, and says how to scan it.
lg_run plain scan "$T/bare.git"
is "$RC" 2 "a bare repository without --git: exit status 2"
contains "$OUT" "to scan its history, run: leakgate scan --git $T/bare.git" "without --git: the message says how to scan the history"

if git init -q --object-format=sha256 "$T/sha256" 2>/dev/null; then
	printf 'k=%s\n' "$KEY_A" >"$T/sha256/k.txt"
	git -C "$T/sha256" add k.txt && git -C "$T/sha256" commit -q -m k
	lg_run sha256 scan --git "$T/sha256"
	if [ "$RC" = 1 ]; then
		pass "a SHA-256 repository: scanned (this libgit2 reads it)"
	else
		is "$RC" 2 "a SHA-256 repository this libgit2 cannot read: exit status 2"
		is "$(grep -c '^error: ' "$OUT")" 1 "a SHA-256 repository: one error line"
		contains "$OUT" "$T/sha256: is a SHA-256 repository" "a SHA-256 repository: the error names it and says why"
	fi
else
	skip "git cannot make SHA-256 repositories here"
fi

# ================================================================ SARIF ==

lg_run sarif scan --git --format sarif "$W"
is "$RC" 1 "SARIF: exit status 1"
S=$OUT
jq -e '.version == "2.1.0" and (.runs | length) == 1' "$S" >/dev/null
ok $? "SARIF: version 2.1.0, one run"
is "$(jq '.runs[0].results | length' "$S")" "$(q '.findings | length')" "SARIF: as many results as the JSON report has findings"
is "$(jq -c '[.runs[0].results[] | .properties | {commit, refs}]' "$S")" "$(q -c '[.findings[] | {commit, refs}]')" \
	"SARIF: each result's properties carry the commit and the refs"
is "$(jq -c '[.runs[0].results[] | .partialFingerprints["leakgate/v1"]]' "$S")" "$(q -c '[.findings[] | .fingerprint]')" \
	"SARIF: the same fingerprints as the JSON report"
is "$(jq -r '.runs[0].results[] | select(.properties.object.type == "blob" and .properties.commit == "'"$C2"'") | .locations[0].physicalLocation.artifactLocation.uri' "$S" | sort -u)" \
	"config/aws.ini" "SARIF: the artifact is the blob's path"
lg_run sarif_err scan --git --format sarif "$T/corrupt"
is "$(jq -r '.runs[0].invocations[0].executionSuccessful' "$OUT")" false "SARIF: executionSuccessful false when an object could not be read"

# ============================================== archives and encodings ==
# A history is scanned as files are: archive members and decoded text.
if command -v zip >/dev/null 2>&1; then
	W2=$T/work2
	git -c init.defaultBranch=main init -q "$W2"
	mkdir -p "$T/z/conf"
	{ for i in 1 2 3 4 5 6 7 8; do printf '# settings, part %s\n' "$i"; done
	  printf 'aws_access_key_id = %s\n' "$KEY_H"; } >"$T/z/conf/app.properties"
	(cd "$T/z" && zip -q -r "$W2/bundle.zip" conf)
	printf 'data:\n  cfg: %s\n' "$(printf 'aws_access_key_id = %s\n' "$KEY_I" | base64 -w0)" >"$W2/cm.yaml"
	git -C "$W2" add bundle.zip cm.yaml && git -C "$W2" commit -q -m "bundle"
	lg_run arch scan --git --format json "$W2"
	is "$RC" 1 "archives in a history: exit status 1"
	is "$(jq -r '.findings[] | select(.path == "bundle.zip") | .member' "$OUT")" "conf/app.properties" \
		"a zip member in a history is named"
	is "$(jq -r '.findings[] | select(.path == "cm.yaml") | .encoding' "$OUT")" base64 "base64 in a history is decoded"
	is "$(jq -r '[.findings[].commit] | unique | length' "$OUT")" 1 "both name the commit that added them"
else
	for i in 1 2 3 4; do skip "zip is not installed"; done
fi

# ========================================================= no raw secret ==
for s in $SECRETS; do
	no_secret_in_logs "${!s}" "no output holds the raw $s"
done

done_testing
