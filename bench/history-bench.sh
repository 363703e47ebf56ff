#!/bin/bash
# history-bench.sh: what `leakgate scan --git` costs next to reading every
# object of the repository with git itself.
#
#   bench/history-bench.sh [--commits N] [--files N] [--runs N] [--threads N]
#                          [--keep] [REPO]
#
# REPO: a repository (bare or not), e.g. one of the bare mirrors under
# /work/.mirror/*/repo. Without it a history is generated with git
# fast-import in a temp folder: --commits commits (default 3000) over
# --files files (default 400), about 13 kB each, with a few fake secrets.
#
# Prints the wall and CPU (user + sys) time of
#   git cat-file --batch-all-objects --unordered --batch >/dev/null
#   leakgate scan --git --threads 1
#   leakgate scan --git --threads N   (N: --threads, default the cores)
# the best of --runs runs each (default 1), the ratios, and leakgate's own
# phases (LEAKGATE_TRACE=1: the walk, the blobs, the refs).
#
# Environment: LEAKGATE (the binary; default build/admin/leakgate of this
# repository), TMPDIR.
#
# Exit status: 0 when everything ran (whatever the figures; a leakgate exit
# status of 1 or 2 is shown, not a failure of the bench), 1 when a step
# failed to run, 2 on bad usage.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
LEAKGATE=${LEAKGATE:-$top/build/admin/leakgate}
commits=3000
files=400
runs=1
threads=$(nproc 2>/dev/null || echo 2)
keep=0
repo=

usage() {
	sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--commits) commits=$2; shift ;;
	--files) files=$2; shift ;;
	--runs) runs=$2; shift ;;
	--threads) threads=$2; shift ;;
	--keep) keep=1 ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "history-bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
	*) repo=$1 ;;
	esac
	shift
done
for v in "$commits" "$files" "$runs" "$threads"; do
	case $v in '' | *[!0-9]* | 0) echo "history-bench: counts must be positive numbers" >&2; exit 2 ;; esac
done
[ -x "$LEAKGATE" ] || { echo "history-bench: $LEAKGATE is not built (./setup.sh build)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "history-bench: GNU time is needed (Debian: time)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/history-bench.XXXXXX") || exit 1
if [ "$keep" = 1 ]; then
	echo "keeping $T"
else
	trap 'rm -rf "$T"' EXIT
fi
export LEAKGATE_CACHE_DIR=$T/cache LEAKGATE_KEY_FILE=$T/key

# ---- the repository ----
if [ -z "$repo" ]; then
	repo=$T/gen.git
	git init -q --bare "$repo" || exit 1
	# A fast-import stream: each commit rewrites three files (one line
	# changed in about 13 kB), so that the pack holds delta chains as real
	# ones do; a fake AWS key id every 997 commits.
	awk -v commits="$commits" -v files="$files" -v seed="$RANDOM" '
	function body(f, c,   s, i) {
		s = sprintf("/* file %d, version %d */\n", f, c)
		for (i = 0; i < 150; i++)
			s = s sprintf("static int value_%d_%d = %d; /* %s */\n", f, i, (f * 7919 + i * 104729 + (i == c % 150 ? c : 0)) % 1000003, "padding text that makes lines look like code")
		return s
	}
	function key(   s, i, a) {
		a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
		s = "AKIA"
		for (i = 0; i < 16; i++) s = s substr(a, int(rand() * 32) + 1, 1)
		return s
	}
	BEGIN {
		srand(seed)
		for (c = 1; c <= commits; c++) {
			printf "commit refs/heads/main\nmark :%d\ncommitter Bench <bench@example.com> %d +0000\n", c, 1600000000 + c * 60
			msg = sprintf("change %d", c)
			printf "data %d\n%s\n", length(msg), msg
			if (c > 1) printf "from :%d\n", c - 1
			for (k = 0; k < (c == 1 ? files : 3); k++) {
				f = (c == 1) ? k : int(rand() * files)
				b = body(f, c)
				if (c % 997 == 0 && k == 0) b = b sprintf("aws_access_key_id = %s\n", key())
				printf "M 100644 inline src/dir%d/file%d.c\ndata %d\n%s\n", f % 20, f, length(b), b
			}
		}
	}' | git -C "$repo" fast-import --quiet || { echo "history-bench: fast-import failed" >&2; exit 1; }
	git -C "$repo" gc -q || exit 1
fi
[ -d "$repo" ] || { echo "history-bench: $repo: no such folder" >&2; exit 2; }
gd=$(git -C "$repo" rev-parse --git-dir 2>/dev/null) || { echo "history-bench: $repo is not a Git repository" >&2; exit 2; }
case $gd in /*) ;; *) gd=$repo/$gd ;; esac

# Warm the page cache and the compiled rules, so that the runs compare reading and scanning.
git -C "$repo" cat-file --batch-all-objects --unordered --batch >/dev/null 2>&1
"$LEAKGATE" scan --git --threads 1 --format json "$T" >/dev/null 2>&1 # compiles the rules (the folder is no repository)

objects=$(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype)' 2>/dev/null | sort | uniq -c | awk '{printf "%s%s %s", n++ ? ", " : "", $1, $2}')
echo "repository  $repo"
echo "objects     $objects; $(du -sh "$gd/objects" | cut -f1) on disk"
echo "machine     $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# best_of NAME CMD...: the run with the least wall time; sets WALL, CPU, RC.
best_of() {
	local name=$1 i w c
	shift
	WALL= CPU=
	for i in $(seq "$runs"); do
		/usr/bin/time -f '%e %U %S' -o "$T/$name.time" "$@" >"$T/$name.out" 2>"$T/$name.err"
		RC=$?
		# GNU time puts "Command exited with non-zero status N" first when N is not 0.
		read -r w u s < <(tail -n 1 "$T/$name.time") || { echo "history-bench: $name did not run" >&2; exit 1; }
		c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
		if [ -z "$WALL" ] || awk -v a="$w" -v b="$WALL" 'BEGIN { exit !(a < b) }'; then
			WALL=$w CPU=$c
			cp "$T/$name.err" "$T/$name.best.err" # the phases of the run shown
		fi
	done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }'; }

best_of catfile git -C "$repo" cat-file --batch-all-objects --unordered --batch
cat_wall=$WALL cat_cpu=$CPU
printf '%-48s wall %7.2f s  cpu %7.2f s\n' "git cat-file --batch-all-objects --unordered" "$cat_wall" "$cat_cpu"

best_of t1 env LEAKGATE_TRACE=1 "$LEAKGATE" scan --git --threads 1 --format json "$repo"
t1_wall=$WALL t1_cpu=$CPU t1_rc=$RC
printf '%-48s wall %7.2f s  cpu %7.2f s  (exit %s)\n' "leakgate scan --git --threads 1" "$t1_wall" "$t1_cpu" "$t1_rc"
best_of tn env LEAKGATE_TRACE=1 "$LEAKGATE" scan --git --threads "$threads" --format json "$repo"
tn_wall=$WALL tn_cpu=$CPU tn_rc=$RC
printf '%-48s wall %7.2f s  cpu %7.2f s  (exit %s)\n' "leakgate scan --git --threads $threads" "$tn_wall" "$tn_cpu" "$tn_rc"
echo
echo "leakgate --threads 1 / cat-file:         wall $(ratio "$t1_wall" "$cat_wall")x, cpu $(ratio "$t1_cpu" "$cat_cpu")x"
echo "leakgate --threads $threads / cat-file:         wall $(ratio "$tn_wall" "$cat_wall")x, cpu $(ratio "$tn_cpu" "$cat_cpu")x"
echo "leakgate --threads 1 / --threads $threads:      wall $(ratio "$t1_wall" "$tn_wall")x (speed-up)"
echo
for n in t1 tn; do
	echo "phases ($n): $(grep -o 'trace: [a-z]* [0-9.]* s' "$T/$n.best.err" | sed 's/trace: //' | paste -sd, - | sed 's/,/, /g')"
done
if command -v jq >/dev/null; then
	jq -r '"report      \(.summary.findings) findings, \(.summary.files_scanned) objects, \(.summary.bytes_scanned) bytes scanned, \(.summary.skipped) skipped, \(.summary.errors) errors"' "$T/tn.out" 2>/dev/null
	jq -r '.errors[:3][] | "  error: \(.path): \(.message)"' "$T/tn.out" 2>/dev/null
fi
exit 0
