#!/usr/bin/env bash
# replay-bench.sh: precision of the pre-receive hook on real pushes.
#
#   bench/replay-bench.sh [--points N] [--scratch DIR] [--build DIR]
#                         [--no-plant] REPO...
#
# For each REPO (a local Git repository, bare or not) it picks N points
# (default 200) evenly spaced along the first-parent history of the default
# branch and replays them in order as pushes: push k moves the branch from
# point k-1 to point k (the first one creates it), into
#   (a) a bare repository with the leakgate hook (`leakgate install --repo`,
#       its own leakgate.db / leakgate.cacheDir / leakgate.keyFile), and
#   (b) a plain bare repository.
# A push the hook rejects is counted as blocked and the hook's message (rule
# ids, paths, redacted previews: the hook never prints a secret) is shown;
# then the same push is repeated with `-o leakgate.bypass=replay-bench` so
# that the next push again adds only one step of history. The wall time of
# the first attempt of every push is summed per repository, hooked and plain.
#
# Planted-leak check (unless --no-plant): on top of the last point, one
# commit per secret kind with a freshly generated random value in the
# provider's format (AWS key pair in a config file, GitHub PAT with its
# CRC32 checksum, Slack bot token, a PEM private key made by openssl, a
# Stripe live secret key, a database URL with a password, an AWS key pair
# in base64 in a Kubernetes manifest, a GitHub PAT in a jar inside a zip)
# is pushed to the
# hooked repository; each must be rejected. The branch is not moved.
#
# Output: progress on standard error, the summary on standard output and in
# <scratch>/summary.txt; the messages of blocked pushes in
# <scratch>/<name>/blocked.txt. Exit status 0 when everything ran, 1 when
# something failed to run; 2 when any planted secret was accepted.
# Needs git, python3 (to generate the planted values), openssl.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
points=200 scratch=/tmp/replaybench build=$top/build plant=1
repos=()

die() { echo "replay-bench: $*" >&2; exit 1; }
say() { echo "replay-bench: $*" >&2; }
now_ns() { date +%s%N; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case $1 in
	--points) points=$2; shift 2 ;;
	--scratch) scratch=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--no-plant) plant=0; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) repos+=("$1"); shift ;;
	esac
done
[ ${#repos[@]} -gt 0 ] || die "no repository given (see --help)"
case $points in '' | *[!0-9]*) die "--points needs a number" ;; esac
[ "$points" -ge 2 ] || die "--points needs at least 2"
[ -x "$build/admin/leakgate" ] && [ -x "$build/hooks/leakgate-pre-receive" ] ||
	die "no leakgate build in $build (./setup.sh build)"
command -v python3 >/dev/null || die "python3 is needed to generate the planted secrets"
command -v openssl >/dev/null || die "openssl is needed to generate the planted private key"

mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
# A copy of what is measured, so that a rebuild during the run does not mix
# versions (`leakgate install` links the hook next to the admin binary).
rm -rf "${scratch:?}/bin"
mkdir -p "$scratch/bin/hooks" "$scratch/bin/admin"
cp "$build/hooks/leakgate-pre-receive" "$scratch/bin/hooks/"
[ -x "$build/hooks/leakgate-pre-receive-client" ] && cp "$build/hooks/leakgate-pre-receive-client" "$scratch/bin/hooks/"
cp "$build/admin/leakgate" "$scratch/bin/admin/"
admin_bin=$scratch/bin/admin/leakgate
# The hook reads its settings from the repository's git config only.
unset LEAKGATE_DB LEAKGATE_CACHE_DIR LEAKGATE_KEY_FILE LEAKGATE_TRACE LEAKGATE_SOCKET
export GIT_AUTHOR_NAME="replay bench" GIT_AUTHOR_EMAIL="bench@replay.invalid"
export GIT_COMMITTER_NAME="replay bench" GIT_COMMITTER_EMAIL="bench@replay.invalid"
export GIT_TERMINAL_PROMPT=0

summary=$scratch/summary.txt
: > "$summary"
out() { echo "$*" | tee -a "$summary"; }
ms() { awk -v n="$1" 'BEGIN {printf "%.1f", n / 1e6}'; }

out "leakgate replay bench, $(date -u +%Y-%m-%dT%H:%MZ), $points points per repository, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- planted secrets ----
# plant_values DIR: writes one file per kind into DIR/<kind>/<path> with a
# fresh random value in the provider's format.
plant_values() {
	python3 - "$1" <<'PY'
import base64, io, os, random, secrets, string, sys, zipfile, zlib
root = sys.argv[1]
rng = secrets.SystemRandom()
def pick(alphabet, n): return ''.join(rng.choice(alphabet) for _ in range(n))
b62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
def base62(n, width):
    s = ''
    while n:
        n, r = divmod(n, 62)
        s = b62[r] + s
    return s.rjust(width, '0')
def ghp():
    body = pick(string.ascii_letters + string.digits, 30)
    return 'ghp_' + body + base62(zlib.crc32(body.encode()), 6)
aws_id = 'AKIA' + pick(string.ascii_uppercase + '234567', 16)
aws_secret = pick(string.ascii_letters + string.digits + '+/', 40)
slack = 'xoxb-%d-%d-%s' % (rng.randrange(10**11, 10**12), rng.randrange(10**12, 10**13),
                           pick(string.ascii_letters + string.digits, 24))
stripe = 'sk_live_' + pick(string.ascii_letters + string.digits, 99)
dbpw = pick(string.ascii_letters + string.digits, 20)
files = {
    'aws-key-pair': ('deploy/aws.ini',
        '[default]\nregion = eu-west-1\naws_access_key_id = %s\naws_secret_access_key = %s\n' % (aws_id, aws_secret)),
    'github-pat': ('scripts/release.sh',
        '#!/bin/sh\nset -e\nGITHUB_TOKEN=%s\ncurl -H "Authorization: token $GITHUB_TOKEN" https://api.github.com/user\n' % ghp()),
    'slack-bot-token': ('config/notify.yml',
        'slack:\n  channel: "#releases"\n  bot_token: %s\n' % slack),
    'stripe-live-key': ('src/billing_settings.py',
        'import stripe\n\nstripe.api_key = "%s"\n' % stripe),
    'database-url': ('config/database.env',
        'DATABASE_URL=postgres://app_owner:%s@db.internal.corp:5432/production\n' % dbpw),
}
# Encoded: an AWS key pair in base64 in a Kubernetes manifest.
aws_id2 = 'AKIA' + pick(string.ascii_uppercase + '234567', 16)
creds = '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' % (
    aws_id2, pick(string.ascii_letters + string.digits + '+/', 40))
files['base64-in-manifest'] = ('k8s/credentials.yaml',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  credentials: %s\n'
    % base64.b64encode(creds.encode()).decode())
for kind, (path, text) in files.items():
    p = os.path.join(root, kind, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'w') as f:
        f.write(text)
# Archived: a GitHub token in a properties file, in a jar, in a zip (deflated).
inner = io.BytesIO()
with zipfile.ZipFile(inner, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('config/app.properties', '# build settings\n' * 8 + 'github.token=%s\n' % ghp())
outer = io.BytesIO()
with zipfile.ZipFile(outer, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('lib/app.jar', inner.getvalue())
p = os.path.join(root, 'token-in-jar-in-zip', 'dist', 'release.zip')
os.makedirs(os.path.dirname(p), exist_ok=True)
with open(p, 'wb') as f:
    f.write(outer.getvalue())
PY
	mkdir -p "$1/private-key/deploy"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1/private-key/deploy/server.key" 2>/dev/null ||
		die "openssl genpkey failed"
}

# ---- one repository ----
total_blocked=0 total_pushes=0 total_planted=0 total_planted_blocked=0
replay_one() {
	local src=$1 name dir branch n i k idx prev sha rc t0 t1
	src=$(cd "$src" && git rev-parse --absolute-git-dir) || die "$1 is not a git repository"
	name=$(basename "$(dirname "$src")")
	[ "$name" = . ] || [ "$name" = / ] && name=$(basename "$src")
	case $(basename "$src") in repo | .git) ;; *) name=$(basename "$src" .git) ;; esac
	name=${name//+/-}
	dir=$scratch/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	branch=$(git -C "$src" symbolic-ref -q --short HEAD 2>/dev/null || true)
	git -C "$src" rev-parse -q --verify "refs/heads/$branch^{commit}" >/dev/null 2>&1 ||
		die "$src: no default branch (HEAD)"

	# The points: N evenly spaced first-parent commits, oldest first, last = tip.
	git -C "$src" rev-list --first-parent --reverse "refs/heads/$branch" > "$dir/first-parent"
	n=$(wc -l < "$dir/first-parent")
	awk -v n="$n" -v p="$points" 'BEGIN {
		if (p > n) p = n
		for (k = 0; k < p; k++) {
			i = (p == 1) ? n : 1 + int(k * (n - 1) / (p - 1) + 0.5)
			if (i != last) print i
			last = i
		}
	}' > "$dir/indices"
	awk 'NR == FNR {want[$1] = 1; next} want[FNR]' "$dir/indices" "$dir/first-parent" > "$dir/points"
	local npoints
	npoints=$(wc -l < "$dir/points")
	say "$name: $n first-parent commits on $branch, replaying $npoints points"

	git init -q --bare "$dir/hooked.git"
	git init -q --bare "$dir/plain.git"
	"$admin_bin" install --repo "$dir/hooked.git" >/dev/null || die "leakgate install failed"
	mkdir -p "$dir/state"
	git -C "$dir/hooked.git" config leakgate.db "$dir/state/leakgate.db"
	git -C "$dir/hooked.git" config leakgate.cacheDir "$dir/state/cache"
	git -C "$dir/hooked.git" config leakgate.keyFile "$dir/state/fingerprint.key"
	git -C "$dir/hooked.git" config receive.advertisePushOptions true

	# Warm-up: compile the rules into this cache, outside the timings.
	git init -q "$dir/warm"
	echo "replay-bench warm-up" > "$dir/warm/README"
	git -C "$dir/warm" add README
	git -C "$dir/warm" commit -q -m warm-up
	git -C "$dir/warm" push -q "file://$dir/hooked.git" HEAD:refs/heads/replay-warm-up 2>"$dir/warm.err" ||
		{ cat "$dir/warm.err" >&2; die "$name: the warm-up push was rejected"; }
	git -C "$dir/hooked.git" update-ref -d refs/heads/replay-warm-up

	local blocked=0 pushes=0 hooked_ns=0 plain_ns=0 first_hooked=0 first_plain=0
	: > "$dir/blocked.txt"
	k=0
	while read -r sha; do
		k=$((k + 1))
		t0=$(now_ns)
		git -C "$src" push -q "file://$dir/plain.git" "$sha:refs/heads/$branch" 2>"$dir/push.err" ||
			{ cat "$dir/push.err" >&2; die "$name: push $k into the plain repository failed"; }
		t1=$(now_ns)
		[ $k = 1 ] && first_plain=$((t1 - t0)) || plain_ns=$((plain_ns + t1 - t0))
		rc=0
		t0=$(now_ns)
		git -C "$src" push -q "file://$dir/hooked.git" "$sha:refs/heads/$branch" 2>"$dir/push.err" || rc=$?
		t1=$(now_ns)
		[ $k = 1 ] && first_hooked=$((t1 - t0)) || hooked_ns=$((hooked_ns + t1 - t0))
		pushes=$((pushes + 1))
		if [ $rc != 0 ]; then
			grep -q 'pre-receive hook declined' "$dir/push.err" ||
				{ cat "$dir/push.err" >&2; die "$name: push $k failed for another reason than the hook"; }
			blocked=$((blocked + 1))
			{
				echo "== $name push $k/$npoints -> $sha ($(git -C "$src" log -1 --format='%cs %s' "$sha" | cut -c1-80))"
				sed -n 's/^remote: //p' "$dir/push.err"
				echo
			} >> "$dir/blocked.txt"
			say "$name: push $k/$npoints blocked"
			git -C "$src" push -q -o leakgate.bypass=replay-bench "file://$dir/hooked.git" "$sha:refs/heads/$branch" 2>"$dir/push.err" ||
				{ cat "$dir/push.err" >&2; die "$name: the bypass push $k failed"; }
		fi
		[ $((k % 50)) = 0 ] && say "$name: $k/$npoints pushes, $blocked blocked"
	done < "$dir/points"

	local tip_desc
	tip_desc=$(git -C "$src" log -1 --format='%h %cs' "refs/heads/$branch")
	out ""
	out "$name ($src, $branch at $tip_desc; $n first-parent commits)"
	out "  pushes           $pushes, blocked $blocked"
	out "  first push       hooked $(ms $first_hooked) ms, plain $(ms $first_plain) ms"
	if [ "$plain_ns" -gt 0 ]; then
		out "  later pushes     hooked $(ms $hooked_ns) ms, plain $(ms $plain_ns) ms, ratio $(awk -v a="$hooked_ns" -v b="$plain_ns" 'BEGIN {printf "%.2f", a / b}')"
	fi
	out "  all pushes       hooked $(ms $((hooked_ns + first_hooked))) ms, plain $(ms $((plain_ns + first_plain))) ms, ratio $(awk -v a="$((hooked_ns + first_hooked))" -v b="$((plain_ns + first_plain))" 'BEGIN {printf "%.2f", a / b}')"
	if [ "$blocked" -gt 0 ]; then
		out "  blocked pushes (hook messages, redacted by the hook; all in $dir/blocked.txt):"
		# The finding lines: rule id, path and redacted preview.
		grep -E '^(==|  )' "$dir/blocked.txt" | sed 's/^/    /' | tee -a "$summary"
	fi
	total_blocked=$((total_blocked + blocked)) total_pushes=$((total_pushes + pushes))

	[ "$plant" = 1 ] || return 0
	local pdir=$dir/plant kind accepted="" pb=0 pt=0
	plant_values "$pdir/values"
	git clone -q --no-checkout "file://$dir/hooked.git" "$pdir/work" 2>/dev/null
	git -C "$pdir/work" checkout -q -B "$branch" "origin/$branch"
	for kind in $(ls "$pdir/values"); do
		pt=$((pt + 1))
		git -C "$pdir/work" reset -q --hard "origin/$branch"
		cp -r "$pdir/values/$kind/." "$pdir/work/"
		# -f: a repository may ignore the planted path (dist/, *.zip).
		git -C "$pdir/work" add -A -f
		git -C "$pdir/work" commit -q -m "Add $kind configuration"
		if git -C "$pdir/work" push -q origin "HEAD:refs/heads/$branch" 2>"$pdir/$kind.err"; then
			accepted="$accepted $kind"
			# Put the branch back for the next plant.
			git -C "$pdir/work" push -q -f -o leakgate.bypass=replay-bench origin "origin/$branch:refs/heads/$branch" 2>/dev/null || true
		elif grep -q 'pre-receive hook declined' "$pdir/$kind.err"; then
			pb=$((pb + 1))
		else
			cat "$pdir/$kind.err" >&2
			die "$name: the $kind plant failed for another reason than the hook"
		fi
	done
	rm -rf "$pdir/values"
	out "  planted          $pb/$pt blocked${accepted:+ (accepted:$accepted)}"
	total_planted=$((total_planted + pt)) total_planted_blocked=$((total_planted_blocked + pb))
}

for r in "${repos[@]}"; do
	replay_one "$r"
done
out ""
out "total: $total_pushes pushes, $total_blocked blocked; planted $total_planted_blocked/$total_planted blocked"
[ "$total_planted_blocked" = "$total_planted" ] || exit 2
exit 0
