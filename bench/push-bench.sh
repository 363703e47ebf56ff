#!/usr/bin/env bash
# push-bench.sh: what leakgate's pre-receive hook costs on a real `git push`.
#
#   bench/push-bench.sh [--repo PATH] [options]
#
# One run measures, over local transport (file://) into fresh bare repositories:
#   1. the INITIAL push of a whole history: push with no hook, push with the
#      hook installed by `leakgate install`, the hook alone (a wrapper times
#      it with /usr/bin/time: wall time and peak RSS), and
#      `git cat-file --batch-all-objects --unordered --batch` in the pushed
#      repository (every object read once, in pack order: the floor the
#      hook is compared with). Each --reps times; medians are reported.
#   2. SMALL pushes: --small commits that each change 3 small files, pushed
#      one by one on top of that history to a repository with the hook, one
#      without, one with the timing wrapper, and one with the hook but no
#      hook server (LEAKGATE_SOCKET=""); the added time per push (hook minus
#      no hook) as median and p90, and the hook's peak RSS.
# Steps 1 and 2 run with a hook server (`leakgate-pre-receive --serve`, as
# leakgated starts it) on a socket in the scratch folder: the installed hook
# hands pushes to it. "hook alone" (the timing wrapper) is always in-process.
#   3. MEMORY by push size: the first 1/8, 1/4, 1/2 and all of the main
#      branch's first-parent history, each pushed as one initial push into a
#      fresh repository with the timing wrapper: the hook's peak RSS against
#      the blob text it read (a bounded hook stays nearly flat).
# Also: the hook's phases (LEAKGATE_TRACE=1: start-up, walk, read+scan), its
# CPU time, its time by its own clock (duration_ms of its audit events, read
# with sqlite3 when installed), what the wrapper itself costs, the machine's
# load average, and the first hook run after a rule change (rules compiled
# into an empty cache; kept out of the other measurements).
# Everything is also written to <scratch>/summary.txt.
#
# The history: with --repo PATH, all branches of that repository (it is only
# read: small-push commits are made in a scratch clone). Without it, a
# synthetic history is generated with git fast-import (deterministic for a
# seed; no credentials in it): --commits commits (default 2400) over a source
# tree of several languages that grows to --tree-mb MB (default 50), with
# big files, edits, renames, folder renames, deletions, feature branches and
# merges; about 140 MB of blob text. It is kept in the scratch folder and
# reused by later runs with the same parameters.
#
# Options:
#   --repo PATH      push this repository's branches instead of a generated history
#   --commits N      commits of the generated history (default 2400)
#   --tree-mb MB     final size of the generated tree (default 50)
#   --seed N         generator seed (default 42)
#   --reps N         repetitions of each initial-push measurement (default 3)
#   --small N        small pushes per target (default 30)
#   --bypass         push to hooked repositories with -o leakgate.bypass=push-bench
#                    (for a --repo history that contains secrets: still fully scanned)
#   --scratch DIR    scratch folder (default /tmp/pushbench)
#   --build DIR      leakgate build folder (default <source>/build)
#   --keep           keep the pushed bare repositories
#
# Timings are printed, never judged: the exit status is 0 unless something
# fails to run (including a push the hook rejects). Needs git and GNU time
# (/usr/bin/time; installed with apt-get when missing and run as root), and a
# C compiler for the generator. Keeps the hook binary it measures as a copy
# (scratch/bin), so that a rebuild during the run does not mix versions.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
repo="" commits=2400 tree_mb=50 seed=42 reps=3 nsmall=30 bypass=0 keep=0
scratch=/tmp/pushbench build="$top/build"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "push-bench: $*" >&2; exit 1; }
say() { echo "push-bench: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--repo) repo=${2:?}; shift 2 ;;
	--commits) commits=${2:?}; shift 2 ;;
	--tree-mb) tree_mb=${2:?}; shift 2 ;;
	--seed) seed=${2:?}; shift 2 ;;
	--reps) reps=${2:?}; shift 2 ;;
	--small) nsmall=${2:?}; shift 2 ;;
	--bypass) bypass=1; shift ;;
	--scratch) scratch=${2:?}; shift 2 ;;
	--build) build=${2:?}; shift 2 ;;
	--keep) keep=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

now_ns() { date +%s%N; }
# median and nearest-rank p90 of numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END {if (!NR) {print "nan"; exit} print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
p90() { sort -g | awk '{v[NR]=$1} END {if (!NR) {print "nan"; exit} i=int(NR*0.9); if (i<NR*0.9) i++; print v[i]}'; }

# ---- prerequisites ----
prerequisites() {
	command -v git >/dev/null || die "git is missing"
	if [ ! -x /usr/bin/time ]; then
		if [ "$(id -u)" = 0 ]; then
			say "installing GNU time"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null ||
				{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
		fi
		[ -x /usr/bin/time ] || die "/usr/bin/time (Debian package 'time') is missing"
	fi
	if [ ! -x "$build/hooks/leakgate-pre-receive" ] || [ ! -x "$build/admin/leakgate" ]; then
		[ "$build" = "$top/build" ] || die "no leakgate build in $build"
		say "building leakgate (./setup.sh build)"
		"$top/setup.sh" build >&2
	fi
	mkdir -p "$scratch"
	scratch=$(cd "$scratch" && pwd)
	# A copy of what is measured: `leakgate install` links the hook that sits
	# next to the admin binary (bin/hooks/ from bin/admin/).
	rm -rf "${scratch:?}/bin"
	mkdir -p "$scratch/bin/hooks" "$scratch/bin/admin"
	cp "$build/hooks/leakgate-pre-receive" "$build/hooks/leakgate-pre-receive-client" "$scratch/bin/hooks/"
	cp "$build/admin/leakgate" "$scratch/bin/admin/"
	hook_bin=$scratch/bin/hooks/leakgate-pre-receive
	admin_bin=$scratch/bin/admin/leakgate
	export LEAKGATE_CACHE_DIR=$scratch/cache LEAKGATE_KEY_FILE=$scratch/fingerprint.key
	# No hook server until start_hook_server: the warm-up runs in-process.
	export LEAKGATE_SOCKET=""
	unset LEAKGATE_DB LEAKGATE_TRACE
	export GIT_AUTHOR_NAME="push bench" GIT_AUTHOR_EMAIL="bench@example.com"
	export GIT_COMMITTER_NAME="push bench" GIT_COMMITTER_EMAIL="bench@example.com"
}

# ---- the history ----
make_history() {
	if [ -n "$repo" ]; then
		src=$(cd "$repo" && git rev-parse --absolute-git-dir) || die "$repo is not a git repository"
		say "history: $src (all branches)"
		return
	fi
	local dir=$scratch/gen stamp
	mkdir -p "$dir"
	genhist_source > "$dir/genhist.c"
	stamp="$(cksum < "$dir/genhist.c") $commits $tree_mb $seed"
	src=$dir/src.git
	if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && [ -d "$src" ]; then
		say "history: reusing $src"
		return
	fi
	cc -O2 -o "$dir/genhist" "$dir/genhist.c" -lm || die "cannot compile the history generator"
	rm -rf "$src" "$dir/stamp"
	git init -q --bare "$src"
	say "history: generating $commits commits, tree of about $tree_mb MB (git fast-import)"
	local t0
	t0=$(now_ns)
	"$dir/genhist" --commits "$commits" --tree-mb "$tree_mb" --seed "$seed" 2>"$dir/genhist.log" |
		git -C "$src" fast-import --quiet || die "fast-import failed"
	git -C "$src" symbolic-ref HEAD refs/heads/main
	# fast-import's deltas are poor; pack like a real repository
	git -C "$src" repack -adf -q
	say "history: $(sed 's/^genhist: //' "$dir/genhist.log") ($(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN {printf "%.1f", (b-a)/1e9}') s)"
	echo "$stamp" > "$dir/stamp"
}

history_stats() {
	local s
	s=$(git -C "$src" rev-list --objects --all | git -C "$src" cat-file --batch-check='%(objecttype) %(objectsize) %(rest)' |
		awk '{n[$1]++; b[$1]+=$2} END {printf "%d %d %.1f %d %.1f", n["commit"], n["blob"], b["blob"]/1e6, n["tree"], b["tree"]/1e6}')
	read -r h_commits h_blobs h_blob_mb h_trees h_tree_mb <<<"$s"
	h_refs=$(git -C "$src" for-each-ref refs/heads | wc -l)
	h_pack_mb=$(git -C "$src" count-objects -v | awk '/^size-pack:/ {printf "%.1f", $2/1024}')
	branch=$(git -C "$src" symbolic-ref -q --short HEAD 2>/dev/null || true)
	git -C "$src" rev-parse -q --verify "refs/heads/$branch" >/dev/null 2>&1 ||
		branch=$(git -C "$src" for-each-ref --count=1 --format='%(refname:short)' refs/heads)
	[ -n "$branch" ] || die "the history has no branch"
	say "history: $h_commits commits, $h_blobs blobs ($h_blob_mb MB), $h_trees trees ($h_tree_mb MB), $h_refs branches, pack $h_pack_mb MB"
}

# ---- servers ----
# new_server DIR none|hook|wrap LOG
new_server() {
	local dir=$1 kind=$2 log=${3:-}
	rm -rf "$dir"
	git init -q --bare "$dir"
	[ "$kind" = none ] && return
	"$admin_bin" install --repo "$dir" >/dev/null || die "leakgate install failed for $dir"
	git -C "$dir" config leakgate.db "$scratch/leakgate.db"
	[ "$kind" = hook ] && return
	# The timing wrapper: wall time in microseconds, then /usr/bin/time's
	# elapsed s, peak RSS KiB, user and system CPU s; then the exit status.
	rm -f "$dir/hooks/pre-receive"
	cat > "$dir/hooks/pre-receive" <<WRAP
#!/bin/sh
t0=\$(date +%s%N)
/usr/bin/time -o "$log.t" -f '%e %M %U %S' "$hook_bin"
rc=\$?
t1=\$(date +%s%N)
echo "\$(( (t1 - t0) / 1000 )) \$(tail -n 1 "$log.t") \$rc" >> "$log"
exit \$rc
WRAP
	chmod +x "$dir/hooks/pre-receive"
}

# push_timed OUTVAR ERRFILE git-push-args...: wall ns of `git push -q`
push_timed() {
	local __var=$1 err=$2 t0 t1
	shift 2
	t0=$(now_ns)
	if ! git "$@" 2>"$err"; then
		cat "$err" >&2
		grep -q 'pre-receive hook declined' "$err" &&
			say "the hook rejected the push: a history with secrets needs --bypass"
		die "git $* failed (see above)"
	fi
	t1=$(now_ns)
	printf -v "$__var" '%s' "$(( t1 - t0 ))"
}

# ---- 1. the initial push ----
warm_up() {
	# The first hook run after a rule change compiles the rules into the
	# cache; keep that out of the measurements, and check the hook works.
	local w=$scratch/warm
	warm_ns=0 warm2_ns=0
	# A fresh database: its marker (beside the key) goes too, or the hook
	# rightly reports the database of the last run as vanished.
	rm -rf "$w" "$LEAKGATE_CACHE_DIR" "$scratch"/leakgate.db* "$scratch/databases"
	git init -q "$w/client"
	echo "push-bench warm-up" > "$w/client/README"
	git -C "$w/client" add README
	git -C "$w/client" commit -q -m "warm-up"
	new_server "$w/srv.git" hook
	push_timed warm_ns "$w/err" -C "$w/client" push -q "file://$w/srv.git" HEAD:refs/heads/main
	push_timed warm2_ns "$w/err" -C "$w/client" push -q -f "file://$w/srv.git" HEAD:refs/heads/again
}

# The hook server (leakgated starts one; here it runs alone): pushes to
# repositories installed by `leakgate install` go through it from now on.
start_hook_server() {
	export LEAKGATE_SOCKET=$scratch/hook.sock
	"$hook_bin" --serve "$LEAKGATE_SOCKET" 2>"$scratch/hook-server.log" &
	hook_server_pid=$!
	local i
	for i in $(seq 50); do
		[ -S "$LEAKGATE_SOCKET" ] && return 0
		kill -0 "$hook_server_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$scratch/hook-server.log" >&2
	die "the hook server did not start"
}
stop_hook_server() {
	[ -n "${hook_server_pid:-}" ] || return 0
	kill "$hook_server_pid" 2>/dev/null || true
	wait "$hook_server_pid" 2>/dev/null || true
	hook_server_pid=""
}

initial_push() {
	local r ns popts=()
	[ "$bypass" = 1 ] && popts=(-o leakgate.bypass=push-bench)
	rm -f "$scratch/large-hook.log"
	for r in $(seq 1 "$reps"); do
		new_server "$scratch/srv-none-$r.git" none
		push_timed ns "$scratch/err" -C "$src" push -q "file://$scratch/srv-none-$r.git" --all
		echo "$ns" >> "$scratch/large-none.ns"

		new_server "$scratch/srv-hook-$r.git" hook
		push_timed ns "$scratch/err" -C "$src" push -q "${popts[@]}" "file://$scratch/srv-hook-$r.git" --all
		echo "$ns" >> "$scratch/large-hook.ns"

		new_server "$scratch/srv-wrap-$r.git" wrap "$scratch/large-hook.log"
		LEAKGATE_TRACE=1 push_timed ns "$scratch/large-trace-$r.txt" -C "$src" push -q "${popts[@]}" \
			"file://$scratch/srv-wrap-$r.git" --all
		echo "$ns" >> "$scratch/large-wrap.ns"

		local t0
		t0=$(now_ns)
		/usr/bin/time -o "$scratch/catfile.t" -f '%U %S' \
			git -C "$scratch/srv-hook-$r.git" cat-file --batch-all-objects --unordered --batch >/dev/null
		echo "$(( $(now_ns) - t0 ))" >> "$scratch/catfile.ns"
		awk '{print $1 + $2}' "$scratch/catfile.t" >> "$scratch/catfile.cpu"
		say "initial push $r/$reps: no hook $(tail -n1 "$scratch/large-none.ns" | ms) ms," \
			"hook $(tail -n1 "$scratch/large-hook.ns" | ms) ms," \
			"hook alone $(tail -n1 "$scratch/large-hook.log" | awk '{printf "%.0f", $1/1e3}') ms," \
			"cat-file $(tail -n1 "$scratch/catfile.ns" | ms) ms"
		if [ "$r" -lt "$reps" ] && [ "$keep" = 0 ]; then
			rm -rf "$scratch/srv-none-$r.git" "$scratch/srv-hook-$r.git" "$scratch/srv-wrap-$r.git"
		fi
	done
}
ms() { awk '{printf "%.1f\n", $1/1e6}'; }

# ---- 2. small pushes ----
small_pushes() {
	local client=$scratch/client.git r=$reps i ns parent tree blob k
	local -a files modes commits picked
	rm -rf "$client" "$scratch"/small-*.ns "$scratch/small-hook.log" "$scratch/small-trace.ms"
	# a fourth target: the same hook without the hook server (in-process)
	rm -rf "$scratch/srv-local.git"
	git clone -q --bare "$scratch/srv-hook-$r.git" "$scratch/srv-local.git"
	"$admin_bin" install --repo "$scratch/srv-local.git" >/dev/null
	git -C "$scratch/srv-local.git" config leakgate.db "$scratch/leakgate.db"
	# A scratch clone sharing the pushed objects: the source is never written to.
	git clone -q --bare --shared "$scratch/srv-none-$r.git" "$client"
	parent=$(git -C "$client" rev-parse "refs/heads/$branch")
	# Three small text files, spread over the tree.
	mapfile -t picked < <(git -C "$client" ls-tree -r -l "$parent" |
		awk -F'\t' '{split($1, a, " "); if ((a[1] == "100644" || a[1] == "100755") && a[4] >= 500 && a[4] <= 8000) print a[1] " " $2}' |
		awk '{l[NR]=$0} END {if (NR >= 3) {print l[int(NR/4)+1]; print l[int(NR/2)+1]; print l[int(3*NR/4)]}}')
	[ "${#picked[@]}" = 3 ] || die "no three small files (500 to 8000 bytes) in $branch"
	for k in 0 1 2; do modes[k]=${picked[k]%% *}; files[k]=${picked[k]#* }; done
	export GIT_INDEX_FILE=$scratch/small.index
	git -C "$client" read-tree "$parent"
	for i in $(seq 1 "$nsmall"); do
		for k in 0 1 2; do
			blob=$({ git -C "$client" cat-file blob "$parent:${files[k]}"; echo "small push benchmark edit $i"; } |
				git -C "$client" hash-object -w --stdin)
			git -C "$client" update-index --cacheinfo "${modes[k]},$blob,${files[k]}"
		done
		tree=$(git -C "$client" write-tree)
		parent=$(git -C "$client" commit-tree "$tree" -p "$parent" -m "Small push $i: touch three files")
		commits+=("$parent")
	done
	unset GIT_INDEX_FILE
	local popts=()
	[ "$bypass" = 1 ] && popts=(-o leakgate.bypass=push-bench)
	# The three servers have the same history (from the last initial push);
	# the order rotates so that no target always goes first.
	for i in $(seq 0 $(( nsmall - 1 ))); do
		for k in 0 1 2 3; do
			case $(( (i + k) % 4 )) in
			0) push_timed ns "$scratch/err" -C "$client" push -q "file://$scratch/srv-none-$r.git" \
				"${commits[i]}:refs/heads/$branch"; echo "$ns" >> "$scratch/small-none.ns" ;;
			1) push_timed ns "$scratch/err" -C "$client" push -q "${popts[@]}" "file://$scratch/srv-hook-$r.git" \
				"${commits[i]}:refs/heads/$branch"; echo "$ns" >> "$scratch/small-hook.ns" ;;
			2) LEAKGATE_TRACE=1 push_timed ns "$scratch/small-trace.txt" -C "$client" push -q "${popts[@]}" \
				"file://$scratch/srv-wrap-$r.git" "${commits[i]}:refs/heads/$branch"
			   echo "$ns" >> "$scratch/small-wrap.ns"
			   awk '/leakgate: trace:/ {sub(/ +peak [0-9]+ KiB.*/, ""); t[$(NF-2)]=$(NF-1); if ($(NF-1) > end) end = $(NF-1)} END {print end+0, t["key"]+0, t["walk"]+0, t["scan"]+0}' \
				"$scratch/small-trace.txt" >> "$scratch/small-trace.ms" ;;
			3) LEAKGATE_SOCKET="" push_timed ns "$scratch/err" -C "$client" push -q "${popts[@]}" \
				"file://$scratch/srv-local.git" "${commits[i]}:refs/heads/$branch"; echo "$ns" >> "$scratch/small-local.ns" ;;
			esac
		done
	done
	# which log the wrapper of srv-wrap-$r writes: the large one; split off the small runs
	tail -n "$nsmall" "$scratch/large-hook.log" > "$scratch/small-hook.log"
	# what the wrapper itself costs: the same wrapper around /bin/true
	new_server "$scratch/calib.git" wrap "$scratch/calib.log"
	sed -i "s|$hook_bin|/bin/true|" "$scratch/calib.git/hooks/pre-receive"
	rm -f "$scratch/calib.log"
	for i in $(seq 1 10); do "$scratch/calib.git/hooks/pre-receive" </dev/null; done
	wrap_ms=$(awk '{print $1/1e3}' "$scratch/calib.log" | median)
	small_files="${files[*]}"
}

# ---- 3. peak memory by push size ----
memory_by_size() {
	local -a chain
	local n f c mb popts=() ns
	[ "$bypass" = 1 ] && popts=(-o leakgate.bypass=push-bench)
	mapfile -t chain < <(git -C "$src" rev-list --first-parent --reverse "refs/heads/$branch")
	n=${#chain[@]}
	rm -f "$scratch/mem.log" "$scratch/mem.txt"
	for f in 8 4 2 1; do
		c=${chain[$(( n / f - 1 ))]}
		mb=$(git -C "$src" rev-list --objects "$c" | cut -d' ' -f1 | git -C "$src" cat-file --batch-check='%(objecttype) %(objectsize)' |
			awk '$1 == "blob" {s += $2} END {printf "%.1f", s / 1048576}')
		new_server "$scratch/srv-mem.git" wrap "$scratch/mem.log"
		push_timed ns "$scratch/err" -C "$src" push -q "${popts[@]}" "file://$scratch/srv-mem.git" "$c:refs/heads/$branch"
		echo "$f $mb $(tail -n 1 "$scratch/mem.log" | awk '{printf "%.0f", $3 / 1024}')" >> "$scratch/mem.txt"
		say "memory: 1/$f of $branch ($mb MB of blobs): peak RSS $(tail -n 1 "$scratch/mem.txt" | cut -d' ' -f3) MB"
	done
	rm -rf "$scratch/srv-mem.git"
}

# ---- summary ----
summary() {
	local local_med local_p90 served audit none hook wrap cat catcpu alone rss cpu scpu smain swalk sstart trace added_med added_p90 sn sh salone srss srss_max
	none=$(awk '{print $1/1e9}' "$scratch/large-none.ns" | median)
	hook=$(awk '{print $1/1e9}' "$scratch/large-hook.ns" | median)
	wrap=$(awk '{print $1/1e9}' "$scratch/large-wrap.ns" | median)
	cat=$(awk '{print $1/1e9}' "$scratch/catfile.ns" | median)
	catcpu=$(median < "$scratch/catfile.cpu")
	head -n "$reps" "$scratch/large-hook.log" > "$scratch/large-only.log"
	alone=$(awk '{print $1/1e6}' "$scratch/large-only.log" | median)
	rss=$(awk '{print $3/1024}' "$scratch/large-only.log" | median)
	cpu=$(awk '{print $4+$5}' "$scratch/large-only.log" | median)
	awk '$6 != 0 {bad=1} END {exit bad}' "$scratch/large-only.log" "$scratch/small-hook.log" ||
		die "the hook exited non-zero in a measured run"
	# per-commit added time: with hook minus without, same commit
	paste "$scratch/small-hook.ns" "$scratch/small-none.ns" | awk '{print ($1-$2)/1e6}' > "$scratch/small-added.ms"
	added_med=$(median < "$scratch/small-added.ms")
	added_p90=$(p90 < "$scratch/small-added.ms")
	paste "$scratch/small-local.ns" "$scratch/small-none.ns" | awk '{print ($1-$2)/1e6}' > "$scratch/small-added-local.ms"
	local_med=$(median < "$scratch/small-added-local.ms")
	local_p90=$(p90 < "$scratch/small-added-local.ms")
	served=$(grep -c 'leakgate-pre-receive --serve: stopped after' "$scratch/hook-server.log" || true)
	sn=$(awk '{print $1/1e6}' "$scratch/small-none.ns" | median)
	sh=$(awk '{print $1/1e6}' "$scratch/small-hook.ns" | median)
	salone=$(awk '{print $1/1e3}' "$scratch/small-hook.log" | median)
	srss=$(awk '{print $3/1024}' "$scratch/small-hook.log" | median)
	srss_max=$(awk '{print $3/1024}' "$scratch/small-hook.log" | sort -g | tail -n1)
	scpu=$(awk '{s += ($4+$5)*1e3} END {print NR ? s/NR : 0}' "$scratch/small-hook.log")
	smain=$(awk '{print $1}' "$scratch/small-trace.ms" | median)
	swalk=$(awk '{print $3-$2}' "$scratch/small-trace.ms" | median)
	sstart=$(awk '{print $2}' "$scratch/small-trace.ms" | median)
	# phases of the hook from LEAKGATE_TRACE (cumulative ms since start), last large run
	trace=$(awk '/leakgate: trace:/ {sub(/ +peak [0-9]+ KiB.*/, ""); t[$(NF-2)]=$(NF-1); if ($(NF-1) > end) end = $(NF-1)} END {
			if (!("walk" in t)) {print "n/a"; exit}
			printf "start-up %.0f ms, walk %.0f ms (%.2f ms per commit), read+scan %.0f ms, rest %.0f ms",
				t["key"], t["walk"]-t["key"], (t["walk"]-t["key"])/c, t["scan"]-t["walk"], end-t["scan"]}' c="$h_commits" \
		"$scratch/large-trace-$reps.txt")
	# the hook's own duration_ms in its audit events, for the runs installed by `leakgate install`
	audit="n/a"
	if command -v sqlite3 >/dev/null; then
		# the first event of each srv-hook repository is its initial push
		audit=$(sqlite3 "$scratch/leakgate.db" "SELECT repo, duration_ms FROM events
			WHERE repo LIKE '%/srv-hook-%' AND kind IN ('accepted', 'warned', 'bypassed') ORDER BY id" 2>/dev/null |
			awk -F'|' '{k = ($1 in seen) ? 0 : 1; seen[$1] = 1; v[k] = v[k] " " $2} END {print v[1] "|" v[0]}') || audit="n/a"
		if [ "$audit" != "n/a" ]; then
			audit=$(printf 'large push %s ms, small push %s ms (median duration_ms of the audit events, symlink-installed hook)' \
				"$(tr ' ' '\n' <<<"${audit%%|*}" | grep . | median)" "$(tr ' ' '\n' <<<"${audit#*|}" | grep . | median)")
		fi
	fi
	{
		echo "leakgate push benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, git $(git --version | awk '{print $3}'), $reps reps, medians)"
		printf 'history              %s commits, %s blobs, %.1f MB inflated (%s trees %.1f MB; %s branches; pack %.1f MB)\n' \
			"$h_commits" "$h_blobs" "$h_blob_mb" "$h_trees" "$h_tree_mb" "$h_refs" "$h_pack_mb"
		printf 'initial push         no hook %.2f s, with hook %.2f s (+%.2f s); with timing wrapper %.2f s\n' \
			"$none" "$hook" "$(awk -v a="$hook" -v b="$none" 'BEGIN {print a-b}')" "$wrap"
		printf 'hook alone           %.2f s (peak RSS %.0f MB), %.0f MB/s of blob text; CPU %.2f s (user+sys)\n' \
			"$alone" "$rss" "$(awk -v m="$h_blob_mb" -v s="$alone" 'BEGIN {print m/s}')" "$cpu"
		printf 'hook phases          %s (LEAKGATE_TRACE, last run)\n' "$trace"
		printf 'cat-file all objects %.2f s  -> hook/cat-file %.2f (target <= 1.5)\n' \
			"$cat" "$(awk -v a="$alone" -v b="$cat" 'BEGIN {print a/b}')"
		printf 'CPU time (less load-sensitive) hook %.2f s, cat-file %.2f s -> %.2f\n' \
			"$cpu" "$catcpu" "$(awk -v a="$cpu" -v b="$catcpu" 'BEGIN {print b ? a/b : 0}')"
		printf 'small push (3 files) no hook %.1f ms, with hook %.1f ms, added median %.1f ms, p90 %.1f ms (target < 10 ms); %s pushes each\n' \
			"$sn" "$sh" "$added_med" "$added_p90" "$nsmall"
		printf 'small push, no server added median %.1f ms, p90 %.1f ms (the hook run in-process: LEAKGATE_SOCKET="", no hook server)\n' \
			"$local_med" "$local_p90"
		printf 'hook server          %s\n' "$(sed -n 's/.*--serve: //p' "$scratch/hook-server.log" | tail -n 1)"
		printf 'small push files     %s\n' "$small_files"
		printf 'small push hook      alone %.1f ms (wrapper), CPU %.1f ms (mean, 10 ms ticks), peak RSS median %.0f MB, max %.0f MB\n' \
			"$salone" "$scpu" "$srss" "$srss_max"
		printf 'small push phases    in main() %.1f ms (start-up to key %.1f ms, walk %.1f ms); outside main() (exec, loader, exit) %.1f ms; the wrapper itself %.1f ms\n' \
			"$smain" "$sstart" "$swalk" "$(awk -v a="$salone" -v b="$smain" -v c="$wrap_ms" 'BEGIN {print a-b-c}')" "$wrap_ms"
		printf 'hook by its own clock %s\n' "$audit"
		printf 'peak RSS by push size %s\n' "$(awk '{printf "%s%s MB of blobs -> %s MB", (NR > 1 ? "; " : ""), $2, $3}' "$scratch/mem.txt")"
		printf 'machine load         1-min load average %s at start, %s at the end (other work on the machine skews timings)\n' \
			"$load_start" "$(cut -d' ' -f1 /proc/loadavg)"
		printf 'rules compile        first hook run after a rule change (cold cache): warm-up push %.2f s, next %.3f s\n' \
			"$(awk -v n="$warm_ns" 'BEGIN {print n/1e9}')" "$(awk -v n="$warm2_ns" 'BEGIN {print n/1e9}')"
	} > "$scratch/summary.txt"
	echo
	cat "$scratch/summary.txt"
}

main() {
	local t_start
	t_start=$(now_ns)
	load_start=$(cut -d' ' -f1 /proc/loadavg)
	if awk -v l="$load_start" -v n="$(nproc)" 'BEGIN {exit !(l > n / 2)}'; then
		say "warning: load average $load_start on $(nproc) cores: other work will skew the timings"
	fi
	prerequisites
	make_history
	history_stats
	rm -f "$scratch"/large-*.ns "$scratch/catfile.ns" "$scratch/catfile.cpu" "$scratch"/large-trace-*.txt
	warm_up
	trap stop_hook_server EXIT
	start_hook_server
	initial_push
	small_pushes
	stop_hook_server
	memory_by_size
	summary
	if [ "$keep" = 0 ]; then
		rm -rf "$scratch"/srv-*.git "$scratch/client.git" "$scratch/warm" "$scratch/calib.git" "$scratch/srv-local.git"
	fi
	say "done in $(awk -v a="$t_start" -v b="$(now_ns)" 'BEGIN {printf "%.0f", (b-a)/1e9}') s; files in $scratch (summary.txt)"
}

genhist_source() {
	cat <<'GENHIST_C'
/*
 * genhist: write a git fast-import stream of a synthetic but realistic
 * project history to standard output (deterministic for a given seed).
 *
 *   genhist [--commits N] [--tree-mb MB] [--seed S]
 *
 * Several languages (C, headers, Python, JavaScript, Go, Java, Markdown,
 * JSON, YAML, shell, SQL, CSS, HTML), a few big files (a 3 MB vendored C
 * file, a JSON fixture, a long reference manual, a growing changelog),
 * edits to existing files (insert, replace, delete lines), file renames,
 * directory renames, deletions, feature branches that merge back (and a
 * few that stay unmerged). No credentials: identifiers come from a word
 * list without any credential-like word, numbers are small.
 * Statistics go to standard error.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

static uint64_t rs;
static uint64_t rnd(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static unsigned ru(unsigned n) { return n ? (unsigned)(rnd() % n) : 0; }
static double rf(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }

struct sb { char *p; size_t n, cap; };
static void sb_grow(struct sb *b, size_t add)
{
	if (b->n + add + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 256;
		while (c < b->n + add + 1) c *= 2;
		b->p = realloc(b->p, c);
		if (!b->p) { perror("realloc"); exit(2); }
		b->cap = c;
	}
}
static void sb_put(struct sb *b, const char *s, size_t n)
{
	sb_grow(b, n);
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}
static void sb_puts(struct sb *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[4096];
	int n;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_put(b, tmp, (size_t)n);
}

/* ---- words ---- */
static const char *RAW[] = {
	"buffer", "count", "node", "list", "index", "value", "item", "parse", "render", "queue",
	"state", "frame", "layer", "user", "order", "price", "route", "cache", "config", "event",
	"handler", "stream", "reader", "writer", "table", "row", "column", "schema", "field", "record",
	"widget", "panel", "button", "label", "image", "color", "style", "theme", "font", "width",
	"height", "offset", "length", "size", "limit", "range", "start", "end", "begin", "finish",
	"total", "sum", "average", "median", "score", "rank", "level", "depth", "path", "file",
	"folder", "name", "title", "author", "date", "time", "clock", "timer", "delay", "retry",
	"request", "response", "message", "reply", "status", "error", "warning", "notice", "report", "summary",
	"invoice", "customer", "product", "catalog", "cart", "payment", "ship", "address", "city", "country",
	"region", "zone", "cluster", "server", "worker", "job", "task", "batch", "pool", "thread",
	"lock", "mutex", "signal", "channel", "pipe", "socket", "packet", "header", "body", "footer",
	"page", "view", "model", "store", "action", "reducer", "effect", "hook", "component", "module",
	"package", "bundle", "asset", "source", "target", "output", "input", "format", "encode", "decode",
	"compress", "inflate", "merge", "split", "join", "filter", "map", "reduce", "sort", "search",
	"match", "pattern", "rule", "policy", "plan", "step", "stage", "phase", "round", "cycle",
	"graph", "edge", "vertex", "tree", "branch", "leaf", "root", "parent", "child", "sibling",
	"matrix", "vector", "point", "line", "shape", "circle", "square", "polygon", "area", "volume",
	"audio", "video", "track", "album", "artist", "playlist", "sample", "rate", "pitch", "tempo",
	"weather", "forecast", "sensor", "reading", "metric", "gauge", "counter", "histogram", "bucket", "window",
	"account", "profile", "avatar", "group", "member", "role", "team", "project", "issue", "comment",
	"review", "change", "commit", "version", "release", "build", "test", "check", "verify", "report",
	"printer", "scanner", "device", "driver", "port", "serial", "network", "route", "gateway", "proxy",
	"shelf", "book", "chapter", "section", "paragraph", "word", "letter", "glyph", "cursor", "selection",
	"undo", "redo", "history", "snapshot", "backup", "restore", "archive", "extract", "upload", "download",
	"query", "result", "answer", "option", "choice", "flag", "mode", "kind", "type", "class",
	"green", "blue", "red", "yellow", "orange", "purple", "silver", "golden", "bright", "dark",
	"quick", "slow", "early", "late", "small", "large", "empty", "full", "simple", "complex",
	"north", "south", "east", "west", "river", "mountain", "forest", "garden", "harbor", "island",
	"apple", "banana", "cherry", "lemon", "mango", "olive", "pepper", "tomato", "walnut", "carrot",
	"engine", "wheel", "motor", "gear", "piston", "valve", "pump", "tank", "fuel", "brake",
};
#define NRAW (sizeof(RAW) / sizeof(RAW[0]))
static const char *W[NRAW];
static unsigned NW;
static const char *BAD[] = {"key", "token", "secret", "pass", "pwd", "auth", "cred", "priv",
			    "sess", "bearer", "api", "access", "env", "sign", "master", "client",
			    "encrypt", "salt", "dsn", "bot", "deploy", "refresh", "oauth", NULL};
static void init_words(void)
{
	for (unsigned i = 0; i < NRAW; i++) {
		int bad = 0;
		for (int j = 0; BAD[j]; j++)
			if (strstr(RAW[i], BAD[j]))
				bad = 1;
		if (!bad)
			W[NW++] = RAW[i];
	}
}
static const char *w(void) { return W[ru(NW)]; }

/* Identifiers. */
static void id_snake(struct sb *b, int nw)
{
	for (int i = 0; i < nw; i++) { if (i) sb_puts(b, "_"); sb_puts(b, w()); }
}
static void id_camel(struct sb *b, int nw, int pascal)
{
	for (int i = 0; i < nw; i++) {
		const char *s = w();
		char c = (i || pascal) ? (char)toupper((unsigned char)s[0]) : s[0];
		sb_put(b, &c, 1);
		sb_puts(b, s + 1);
	}
}
static void id_upper(struct sb *b, int nw)
{
	for (int i = 0; i < nw; i++) {
		const char *s = w();
		if (i) sb_puts(b, "_");
		for (; *s; s++) { char c = (char)toupper((unsigned char)*s); sb_put(b, &c, 1); }
	}
}
static void sentence(struct sb *b, int cap)
{
	int n = 4 + (int)ru(8);
	for (int i = 0; i < n; i++) {
		const char *s = w();
		if (i) sb_puts(b, " ");
		if (i == 0 && cap) { char c = (char)toupper((unsigned char)s[0]); sb_put(b, &c, 1); sb_puts(b, s + 1); }
		else sb_puts(b, s);
	}
}
static void paragraph(struct sb *b)
{
	int n = 2 + (int)ru(5), col = 0;
	for (int i = 0; i < n; i++) {
		int m = 5 + (int)ru(10);
		for (int j = 0; j < m; j++) {
			const char *s = w();
			size_t l = strlen(s);
			if (col + (int)l + 1 > 76) { sb_puts(b, "\n"); col = 0; }
			else if (col) { sb_puts(b, " "); col++; }
			if (j == 0) { char c = (char)toupper((unsigned char)s[0]); sb_put(b, &c, 1); sb_puts(b, s + 1); }
			else sb_puts(b, s);
			col += (int)l;
		}
		sb_puts(b, ".");
		col++;
	}
	sb_puts(b, "\n");
}

/* Template expansion: @a snake, @c camel, @A Pascal, @U UPPER, @n number, @s sentence, @S Sentence, @w word, @P paragraph, @@ '@'. */
static void expand(struct sb *b, const char *t)
{
	for (; *t; t++) {
		if (*t != '@') { sb_put(b, t, 1); continue; }
		t++;
		switch (*t) {
		case 'a': id_snake(b, 1 + (int)ru(2)); break;
		case 'c': id_camel(b, 1 + (int)ru(2), 0); break;
		case 'A': id_camel(b, 1 + (int)ru(2), 1); break;
		case 'U': id_upper(b, 1 + (int)ru(2)); break;
		case 'n': sb_printf(b, "%u", ru(10) < 7 ? ru(16) : ru(1000)); break;
		case 's': sentence(b, 0); break;
		case 'S': sentence(b, 1); break;
		case 'w': sb_puts(b, w()); break;
		case 'P': paragraph(b); break;
		case '@': sb_puts(b, "@"); break;
		default: sb_put(b, t - 1, 2); break;
		}
	}
}
#define PICK(arr) (arr[ru(sizeof(arr) / sizeof(arr[0]))])

/* ---- languages ---- */
enum lang { L_C, L_H, L_PY, L_JS, L_GO, L_JAVA, L_MD, L_JSON, L_YAML, L_SH, L_SQL, L_CSS, L_HTML, NLANG };
static const unsigned LWEIGHT[NLANG] = {18, 7, 15, 14, 10, 10, 6, 4, 4, 3, 2, 3, 4};
static const char *LEXT[NLANG] = {".c", ".h", ".py", ".js", ".go", ".java", ".md", ".json", ".yaml", ".sh", ".sql", ".css", ".html"};

struct syntax {
	const char *head;       /* file header */
	const char *open[3];    /* block openers */
	const char *stmt[10];   /* statements */
	const char *close;      /* block closer */
	const char *tail;       /* file end */
};
static const struct syntax SYN[NLANG] = {
	[L_C] = {"/*\n * @S.\n *\n * Copyright (c) 2019 The Example Project contributors\n * SPDX-License-Identifier: MIT\n */\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n#include \"@a.h\"\n\n",
		 {"/* @S. */\nstatic int @a(struct @a *@a, size_t @a)\n{\n\tint i, @a = 0;\n\n",
		  "int @a_@a(const char *@a, unsigned @a)\n{\n\tsize_t @a = 0;\n\n",
		  "/*\n * @S.\n * @S.\n */\nvoid @a(struct @a *@a)\n{\n"},
		 {"\t@a = @a(@a, @n);\n", "\tif (@a->@a > @n)\n\t\t@a += @a;\n",
		  "\tfor (i = 0; i < @n; i++)\n\t\t@a[i] = @a[i] * @n;\n", "\t/* @s. */\n",
		  "\tmemset(&@a, 0, sizeof(@a));\n",
		  "\tif (!@a) {\n\t\tfprintf(stderr, \"@s: %s\\n\", @a);\n\t\treturn -@n;\n\t}\n",
		  "\twhile (@a < @a)\n\t\t@a = @a->@a;\n", "\t@a->@a = @a_@a(@a);\n",
		  "\tswitch (@a) {\n\tcase @n:\n\t\t@a++;\n\t\tbreak;\n\tdefault:\n\t\tbreak;\n\t}\n",
		  "\t@a[@n] = (@a + @n) / @n;\n"},
		 "\treturn @n;\n}\n\n", ""},
	[L_H] = {"/* @S. */\n#ifndef @U_H\n#define @U_H\n\n#include <stddef.h>\n\n",
		 {"/* @S. */\nstruct @a {\n", "enum @a {\n", "/*\n * @S.\n */\nstruct @a {\n"},
		 {"\tint @a;\n", "\tsize_t @a;\n", "\tconst char *@a;\n", "\tstruct @a *@a;\n",
		  "\tunsigned @a : @n;\n", "\t/* @s */\n", "\tdouble @a[@n];\n", "\tint (*@a)(void *, int);\n",
		  "\tuint32_t @a;\n", "\tchar @a[@n];\n"},
		 "};\n\nint @a(struct @a *, size_t);\nvoid @a(const struct @a *);\n\n", "#endif\n"},
	[L_PY] = {"\"\"\"@S.\"\"\"\n\nimport os\nimport sys\nfrom collections import defaultdict\n\nfrom .@a import @A\n\n\n",
		  {"def @a(@a, @a=None):\n    \"\"\"@S.\"\"\"\n", "class @A(@A):\n    \"\"\"@S.\"\"\"\n\n    def __init__(self, @a):\n        self.@a = @a\n\n    def @a(self, @a):\n",
		   "async def @a(@a, *@a):\n"},
		  {"    @a = @a.@a(@a, @n)\n", "    if @a > @n:\n        @a += @a\n",
		   "    for @a in @a:\n        @a.append(@a.@a)\n", "    # @s\n", "    @a = [@a for @a in @a if @a]\n",
		   "    @a[\"@a\"] = @n\n", "    with open(@a) as @a:\n        @a = @a.read()\n",
		   "    try:\n        @a(@a)\n    except ValueError:\n        @a = None\n",
		   "    logger.info(\"@s %s\", @a)\n", "    @a = dict(@a=@n, @a=\"@s\")\n"},
		  "    return @a\n\n\n", ""},
	[L_JS] = {"// @S.\n'use strict';\n\nimport { @c, @c } from './@c.js';\nimport @A from '../@c/@c.js';\n\n",
		  {"export function @c(@c, @c) {\n", "const @c = async (@c) => {\n", "/**\n * @S.\n * @@param {Object} @c\n */\nfunction @c(@c, @c = {}) {\n"},
		  {"  const @c = @c.@c(@n);\n", "  if (@c > @n) {\n    @c.push(@c);\n  }\n", "  // @s\n",
		   "  @c.forEach((@c) => @c.@c(@c));\n", "  let @c = @c.length - @n;\n",
		   "  const { @c, @c } = @c;\n", "  @c = @c.filter((x) => x.@c !== @n);\n",
		   "  await @c.@c('@s');\n", "  console.log('@s', @c);\n", "  @c.@c = { @c: @n, @c: '@w' };\n"},
		  "  return @c;\n}\n\n", "export default @A;\n"},
	[L_GO] = {"// Package @w @s.\npackage @w\n\nimport (\n\t\"errors\"\n\t\"fmt\"\n\t\"strings\"\n)\n\n",
		  {"// @A @s.\nfunc @A(@c int, @c string) (int, error) {\n", "func (@c *@A) @A(@c []string) (int, error) {\n",
		   "// @A @s.\nfunc @c(@c map[string]int) (int, error) {\n"},
		  {"\t@c := @c.@A(@n)\n", "\tif err != nil {\n\t\treturn 0, fmt.Errorf(\"@s: %w\", err)\n\t}\n",
		   "\tfor i := 0; i < @n; i++ {\n\t\t@c += i\n\t}\n", "\t// @s\n", "\t@c = strings.TrimSpace(@c)\n",
		   "\tif @c == nil {\n\t\treturn 0, errors.New(\"@s\")\n\t}\n", "\t@c, err := @c(@c, @n)\n",
		   "\tdefer @c.Close()\n", "\t@c = append(@c, @c...)\n", "\tswitch @c {\n\tcase @n:\n\t\t@c++\n\tdefault:\n\t}\n"},
		  "\treturn @c, nil\n}\n\n", ""},
	[L_JAVA] = {"/*\n * @S.\n */\npackage org.example.@w;\n\nimport java.util.ArrayList;\nimport java.util.List;\nimport java.util.Map;\n\npublic class @A {\n\n",
		    {"    public int @c(int @c, String @c) {\n", "    @@Override\n    public String @c() {\n",
		     "    /**\n     * @S.\n     */\n    private static List<@A> @c(Map<String, @A> @c) {\n"},
		    {"        int @c = @c.@c(@n);\n", "        if (@c > @n) {\n            @c.add(@c);\n        }\n",
		     "        // @s\n", "        for (@A @c : @c) {\n            @c.@c(@c);\n        }\n",
		     "        @c = new ArrayList<>();\n", "        String @c = String.format(\"@s %d\", @c);\n",
		     "        try {\n            @c.@c();\n        } catch (IllegalStateException e) {\n            @c = null;\n        }\n",
		     "        this.@c = @c;\n", "        @c.put(\"@c\", @n);\n", "        assert @c != null : \"@s\";\n"},
		    "        return @c;\n    }\n\n", "}\n"},
	[L_MD] = {"# @S\n\n@P\n", {"## @S\n\n", "### @S\n\n", "## @S\n\n@P\n"},
		  {"@P\n", "- @s\n", "- `@a`: @s\n", "```sh\n@a --@a @n\n```\n\n", "@P\n",
		   "1. @S.\n2. @S.\n\n", "| @w | @w |\n|---|---|\n| @a | @n |\n\n", "> @S.\n\n", "@P\n", "See `@a` for @s.\n\n"},
		  "\n", ""},
	[L_JSON] = {"{\n  \"name\": \"@a\",\n  \"version\": \"@n.@n.@n\",\n  \"items\": [\n",
		    {"    {\n      \"id\": @n,\n      \"name\": \"@s\",\n", "    {\n      \"id\": @n,\n      \"title\": \"@S\",\n", "    {\n      \"id\": @n,\n"},
		    {"      \"@c\": @n,\n", "      \"@c\": \"@s\",\n", "      \"@c\": true,\n", "      \"@c\": [\"@w\", \"@w\"],\n",
		     "      \"@c\": null,\n", "      \"@c\": @n.@n,\n", "      \"@c\": \"@w\",\n", "      \"@c\": false,\n",
		     "      \"@c\": \"@a\",\n", "      \"@c\": {\"@c\": @n},\n"},
		    "      \"done\": false\n    },\n", "    {\"id\": 0}\n  ]\n}\n"},
	[L_YAML] = {"# @S.\nversion: @n\n", {"@a:\n", "@a:\n  # @s\n", "- name: @a\n"},
		    {"  @a: @n\n", "  @a: \"@s\"\n", "  @a:\n    - @a\n    - @a\n", "  # @s\n", "  @a: true\n",
		     "  @a: @w\n", "  @a: [@w, @w]\n", "  @a: @n.@n\n", "  @a:\n    @a: @n\n", "  @a: false\n"},
		    "\n", ""},
	[L_SH] = {"#!/bin/sh\n# @S.\nset -eu\n\n", {"@a() {\n", "# @S.\n@a() {\n", "@a() {\n  # @s\n"},
		  {"  local @a=\"$1\"\n", "  if [ -z \"$@a\" ]; then\n    echo \"@s\" >&2\n    return 1\n  fi\n",
		   "  for @a in @a @a @a; do\n    echo \"$@a\"\n  done\n", "  # @s\n", "  @a=$(( @a + @n ))\n",
		   "  mkdir -p \"@a/@a\"\n", "  cp \"$@a\" \"$@a.@w\"\n", "  grep -q '@w' \"$@a\" || true\n",
		   "  @a=\"${@a:-@w}\"\n", "  printf '%s\\n' \"@s\"\n"},
		  "}\n\n", "@a \"$@@\"\n"},
	[L_SQL] = {"-- @S.\nBEGIN;\n\n", {"CREATE TABLE @a (\n  id INTEGER PRIMARY KEY,\n", "-- @S.\nCREATE TABLE IF NOT EXISTS @a (\n  id BIGSERIAL PRIMARY KEY,\n", "CREATE TABLE @a_@a (\n  id INTEGER PRIMARY KEY,\n"},
		   {"  @a TEXT NOT NULL,\n", "  @a INTEGER DEFAULT @n,\n", "  @a VARCHAR(@n),\n", "  @a BOOLEAN DEFAULT FALSE,\n",
		    "  @a TIMESTAMP,\n", "  -- @s\n", "  @a REAL,\n", "  @a_id INTEGER REFERENCES @a(id),\n", "  @a TEXT,\n", "  @a SMALLINT,\n"},
		   "  created_at TIMESTAMP NOT NULL\n);\nINSERT INTO @a (@a, @a) VALUES ('@s', @n);\n\n", "COMMIT;\n"},
	[L_CSS] = {"/* @S. */\n\n", {".@a {\n", ".@a .@a-@w {\n", "#@a > .@a {\n"},
		   {"  margin: @npx;\n", "  padding: @npx @npx;\n", "  color: #333;\n", "  display: flex;\n", "  /* @s */\n",
		    "  font-size: @npx;\n", "  border: 1px solid #ccc;\n", "  width: @n%;\n", "  line-height: 1.@n;\n", "  background: white;\n"},
		   "}\n\n", ""},
	[L_HTML] = {"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n  <title>@S</title>\n</head>\n<body>\n",
		    {"<section class=\"@a\">\n", "<div id=\"@a\" class=\"@a\">\n", "<article>\n  <h2>@S</h2>\n"},
		    {"  <p>@S.</p>\n", "  <a href=\"/@w/@w\">@s</a>\n", "  <ul>\n    <li>@s</li>\n    <li>@s</li>\n  </ul>\n",
		     "  <!-- @s -->\n", "  <span class=\"@a\">@w</span>\n", "  <img src=\"/img/@w.png\" alt=\"@s\">\n",
		     "  <button type=\"button\">@S</button>\n", "  <p>@P</p>\n", "  <h3>@S</h3>\n", "  <input name=\"@a\" value=\"@w\">\n"},
		    "</section>\n", "</body>\n</html>\n"},
};

static void gen_stmt(struct sb *b, int lang) { expand(b, SYN[lang].stmt[ru(10)]); }
static void gen_block(struct sb *b, int lang)
{
	int n = 3 + (int)ru(lang == L_MD ? 6 : 18);
	expand(b, SYN[lang].open[ru(3)]);
	for (int i = 0; i < n; i++) gen_stmt(b, lang);
	expand(b, SYN[lang].close);
}
static void gen_file(struct sb *b, int lang, size_t target)
{
	b->n = 0;
	expand(b, SYN[lang].head);
	while (b->n < target) gen_block(b, lang);
	expand(b, SYN[lang].tail);
}

/* ---- files ---- */
struct file {
	char *path;
	struct sb c;
	int lang, mark, alive, lock, feature, big, exec;
	unsigned touched;  /* commit index of last change */
};
static struct file *F;
static size_t NF, CAPF;
static int next_mark = 1;
static uint64_t n_blobs, n_blob_bytes, n_commits, n_merges, n_renames, n_dirrenames, n_deletes;

/* Path set (open addressing). */
static char **PS; static size_t PSCAP = 1 << 16;
static uint64_t hstr(const char *s) { uint64_t h = 1469598103934665603ULL; for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL; return h; }
static int ps_has(const char *p) { for (size_t i = hstr(p) & (PSCAP - 1); PS[i]; i = (i + 1) & (PSCAP - 1)) if (!strcmp(PS[i], p)) return 1; return 0; }
static void ps_add(const char *p) { size_t i = hstr(p) & (PSCAP - 1); while (PS[i]) i = (i + 1) & (PSCAP - 1); PS[i] = strdup(p); }

static char MODS[48][32];
static char *make_path(int lang, const char *mod)
{
	struct sb b = {0};
	for (;;) {
		b.n = 0;
		const char *m = mod ? mod : MODS[ru(48)];
		switch (lang) {
		case L_C: sb_printf(&b, "src/%s/", m); id_snake(&b, 1 + (int)ru(2)); break;
		case L_H: sb_printf(&b, "include/example/%s_", m); id_snake(&b, 1); break;
		case L_PY: sb_printf(&b, "python/example/%s/", m); id_snake(&b, 1 + (int)ru(2)); break;
		case L_JS: sb_printf(&b, "web/src/%s/", m); id_camel(&b, 1 + (int)ru(2), ru(2)); break;
		case L_GO: sb_printf(&b, "go/pkg/%s/", m); id_snake(&b, 1 + (int)ru(2)); break;
		case L_JAVA: sb_printf(&b, "java/src/main/java/org/example/%s/", m); id_camel(&b, 2, 1); break;
		case L_MD: sb_printf(&b, "docs/%s/", m); id_snake(&b, 1 + (int)ru(2)); break;
		case L_JSON: sb_printf(&b, "web/fixtures/%s_", m); id_snake(&b, 1); break;
		case L_YAML: sb_printf(&b, "ops/%s/", m); id_snake(&b, 1); break;
		case L_SH: sb_printf(&b, "scripts/%s_", m); id_snake(&b, 1); break;
		case L_SQL: sb_printf(&b, "db/migrations/%04u_", ru(10000)); id_snake(&b, 2); break;
		case L_CSS: sb_printf(&b, "web/static/css/%s_", m); id_snake(&b, 1); break;
		case L_HTML: sb_printf(&b, "web/static/%s/", m); id_snake(&b, 1); break;
		}
		sb_puts(&b, LEXT[lang]);
		if (!ps_has(b.p)) { ps_add(b.p); return b.p; }
	}
}
static int pick_lang(void)
{
	unsigned tot = 0, r;
	for (int i = 0; i < NLANG; i++) tot += LWEIGHT[i];
	r = ru(tot);
	for (int i = 0; i < NLANG; i++) { if (r < LWEIGHT[i]) return i; r -= LWEIGHT[i]; }
	return 0;
}
static size_t pick_size(void)
{
	/* log-normal-ish around 8 KB, mean about 12 KB */
	double g = 0; for (int i = 0; i < 6; i++) g += rf(); g = (g - 3.0) / 0.7071; /* ~N(0,1) */
	double s = 8000.0 * __builtin_exp(0.9 * g);
	if (s < 300)
		s = 300;
	if (s > 300000)
		s = 300000;
	return (size_t)s;
}
static struct file *new_file(const char *path, int lang)
{
	if (NF == CAPF) { CAPF = CAPF ? CAPF * 2 : 1024; F = realloc(F, CAPF * sizeof(*F)); }
	struct file *f = &F[NF++];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	f->lang = lang;
	f->alive = 1;
	f->exec = lang == L_SH;
	return f;
}

/* ---- edits ---- */
static size_t line_start(const struct sb *c, size_t off)
{
	if (off >= c->n) return c->n;
	while (off > 0 && c->p[off - 1] != '\n') off--;
	return off;
}
static size_t skip_lines(const struct sb *c, size_t off, int n)
{
	while (n-- > 0 && off < c->n) { char *nl = memchr(c->p + off, '\n', c->n - off); off = nl ? (size_t)(nl - c->p) + 1 : c->n; }
	return off;
}
static void splice(struct sb *c, size_t at, size_t del, const struct sb *ins)
{
	sb_grow(c, ins->n);
	memmove(c->p + at + ins->n, c->p + at + del, c->n - at - del);
	memcpy(c->p + at, ins->p, ins->n);
	c->n = c->n - del + ins->n;
	c->p[c->n] = 0;
}
static void edit_file(struct file *f, int nedits)
{
	struct sb ins = {0};
	for (int e = 0; e < nedits; e++) {
		size_t at = line_start(&f->c, f->c.n ? (size_t)(rf() * (double)f->c.n) : 0), del = 0;
		unsigned op = ru(100);
		ins.n = 0;
		if (f->lang == L_JSON && f->big) { /* records */
			at = line_start(&f->c, at);
			gen_block(&ins, L_JSON);
		} else if (op < 45) {
			gen_block(&ins, f->lang);
		} else if (op < 85) {
			del = skip_lines(&f->c, at, 1 + (int)ru(6)) - at;
			int n = 1 + (int)ru(8);
			for (int i = 0; i < n; i++) gen_stmt(&ins, f->lang);
		} else {
			del = skip_lines(&f->c, at, 2 + (int)ru(14)) - at;
		}
		splice(&f->c, at, del, &ins);
	}
	free(ins.p);
}

/* ---- output ---- */
static FILE *out;
static void emit_blob(struct file *f)
{
	f->mark = next_mark++;
	fprintf(out, "blob\nmark :%d\ndata %zu\n", f->mark, f->c.n);
	fwrite(f->c.p, 1, f->c.n, out);
	fputc('\n', out);
	n_blobs++;
	n_blob_bytes += f->c.n;
}

static const char *AUTHORS[] = {"Alice Martin <alice@example.com>", "Bob Chen <bob.chen@example.org>",
	"Carla Gomez <carla@example.net>", "Dmitri Ivanov <dmitri@example.com>", "Emma Schulz <emma.s@example.de>",
	"Farid Haddad <farid@example.com>", "Grace Okafor <grace@example.org>", "Hiro Tanaka <hiro@example.jp>",
	"Ines Costa <ines@example.pt>", "Jonas Berg <jonas@example.se>", "Kim Park <kim.park@example.kr>",
	"Lena Novak <lena@example.cz>"};
static uint64_t now_ts = 1546300800; /* 2019-01-01 */

static void commit_header(const char *ref, const char *msg, int from, int merge)
{
	const char *a = PICK(AUTHORS);
	int m = next_mark++;
	now_ts += 300 + ru(30000);
	fprintf(out, "commit %s\nmark :%d\nauthor %s %llu +0000\ncommitter %s %llu +0000\ndata %zu\n%s\n",
		ref, m, a, (unsigned long long)now_ts, a, (unsigned long long)now_ts, strlen(msg), msg);
	if (from) fprintf(out, "from :%d\n", from);
	if (merge) fprintf(out, "merge :%d\n", merge);
	n_commits++;
	if (merge) n_merges++;
}
static void commit_message(struct sb *m)
{
	static const char *SUBJ[] = {"Fix @s", "Add @w support to @a", "Refactor @a", "Update @w docs",
		"Handle empty @a in @a", "Speed up @a", "Remove unused @a", "Rename @a to @a", "Test @a with @w input",
		"Improve @w error messages", "@S", "Bump @w to @n.@n", "Clean up @a", "Split @a into @a and @a"};
	m->n = 0;
	expand(m, PICK(SUBJ));
	sb_puts(m, "\n");
	if (ru(100) < 45) { sb_puts(m, "\n"); paragraph(m); }
	if (ru(100) < 10) { sb_puts(m, "\n"); paragraph(m); }
	if (ru(100) < 15) sb_printf(m, "\nSigned-off-by: %s\n", PICK(AUTHORS));
}

/* Files changed in the current commit: M lines are written after the blobs. */
static int *chg; static size_t nchg, capchg;
static void changed(int i) { for (size_t k = 0; k < nchg; k++) if (chg[k] == i) return; if (nchg == capchg) { capchg = capchg ? capchg * 2 : 64; chg = realloc(chg, capchg * sizeof(int)); } chg[nchg++] = i; }
static void emit_changes(void)
{
	for (size_t k = 0; k < nchg; k++) {
		struct file *f = &F[chg[k]];
		fprintf(out, "M %s :%d %s\n", f->exec ? "100755" : "100644", f->mark, f->path);
	}
	nchg = 0;
}

/* ---- feature branches ---- */
struct feature {
	int active, done_commits, planned, last, ncommits;
	char name[64], dir[128];
	int lang;
	int *files; size_t nfiles; /* indices of files it touched */
	int merge_at;
};
static struct feature FEAT[4];

static int pick_file_main(unsigned cidx)
{
	for (int tries = 0; tries < 200; tries++) {
		size_t i;
		if (ru(100) < 60) { /* hot: recently touched */
			i = NF - 1 - ru(NF < 80 ? (unsigned)NF : 80);
		} else i = ru((unsigned)NF);
		struct file *f = &F[i];
		if (!f->alive || f->lock || f->feature || f->big) continue;
		(void)cidx;
		return (int)i;
	}
	return -1;
}

int main(int argc, char **argv)
{
	unsigned ncommits = 2400, seed = 42;
	double tree_mb = 50;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--commits") && i + 1 < argc) ncommits = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tree-mb") && i + 1 < argc) tree_mb = atof(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = (unsigned)atoi(argv[++i]);
		else { fprintf(stderr, "usage: genhist [--commits N] [--tree-mb MB] [--seed S] | git fast-import\n"); return 2; }
	}
	rs = seed * 0x2545F4914F6CDD1DULL + 1;
	init_words();
	PS = calloc(PSCAP, sizeof(*PS));
	out = stdout;
	static char obuf[1 << 20];
	setvbuf(out, obuf, _IOFBF, sizeof(obuf));
	for (int i = 0; i < 48; i++) {
		const char *a = w();
		snprintf(MODS[i], sizeof(MODS[i]), "%s", a);
		for (int j = 0; j < i; j++) if (!strcmp(MODS[j], MODS[i])) { snprintf(MODS[i], sizeof(MODS[i]), "%s%d", a, i); break; }
	}

	double scale = tree_mb / 50.0;
	/* Big files: path, lang, size, first commit fraction, number of versions. */
	struct { const char *path; int lang; size_t size; double at; int versions; int idx; } BIG[] = {
		{"third_party/minisql/minisql.c", L_C, (size_t)(3.0e6 * scale), 0.15, 3, -1},
		{"web/fixtures/catalog.json", L_JSON, (size_t)(2.5e6 * scale), 0.30, 4, -1},
		{"docs/reference/full-reference.md", L_MD, (size_t)(1.5e6 * scale), 0.50, 3, -1},
	};
	const int NBIG = 3;
	size_t big_total = 0; for (int i = 0; i < NBIG; i++) big_total += BIG[i].size;
	double regular_target = tree_mb * 1e6 - (double)big_total - 300e3 * scale; /* changelog */
	if (regular_target < 1e6) regular_target = 1e6;
	struct sb msg = {0};
	int main_last = 0, changelog = -1, nfeat = 0;
	unsigned c = 0;
	double regular_bytes = 0;

	while (n_commits < ncommits) {
		double prog = (double)n_commits / ncommits;
		/* feature branch commit? */
		int fi = -1;
		for (int k = 0; k < 4; k++) if (FEAT[k].active && FEAT[k].done_commits < FEAT[k].planned && ru(100) < 30) { fi = k; break; }
		if (fi >= 0 && main_last) {
			struct feature *ft = &FEAT[fi];
			int adds = ft->done_commits == 0 ? 2 + (int)ru(3) : (int)ru(2);
			for (int a = 0; a < adds; a++) {
				char *p = make_path(ft->lang, NULL);
				/* move it into the feature's folder */
				const char *base = strrchr(p, '/') + 1;
				char path[512]; snprintf(path, sizeof(path), "%s/%s", ft->dir, base);
				free(p);
				if (ps_has(path)) continue;
				ps_add(path);
				struct file *f = new_file(path, ft->lang);
				f->feature = 1;
				gen_file(&f->c, f->lang, pick_size() / 2);
				regular_bytes += (double)f->c.n;
				emit_blob(f);
				changed((int)(f - F));
				ft->files = realloc(ft->files, (ft->nfiles + 1) * sizeof(int)); ft->files[ft->nfiles++] = (int)(f - F);
			}
			int mods = 1 + (int)ru(3);
			for (int m = 0; m < mods && ft->nfiles; m++) {
				struct file *f = &F[ft->files[ru((unsigned)ft->nfiles)]];
				size_t before = f->c.n;
				edit_file(f, 1 + (int)ru(3));
				regular_bytes += (double)f->c.n - (double)before;
				emit_blob(f);
				changed((int)(f - F));
			}
			commit_message(&msg);
			char ref[128]; snprintf(ref, sizeof(ref), "refs/heads/%s", ft->name);
			commit_header(ref, msg.p, ft->last ? ft->last : main_last, 0);
			ft->last = next_mark - 1;
			emit_changes();
			fputc('\n', out);
			ft->done_commits++;
			if (ft->done_commits == ft->planned) ft->merge_at = (int)n_commits + 2 + (int)ru(20);
			continue;
		}
		/* merge a finished feature? */
		for (int k = 0; k < 4; k++) {
			struct feature *ft = &FEAT[k];
			if (!ft->active || ft->done_commits < ft->planned || (int)n_commits < ft->merge_at) continue;
			if (ft->merge_at >= 0 && ru(100) < 85) {
				sb_printf(&msg, "%s", ""); msg.n = 0;
				sb_printf(&msg, "Merge branch '%s'\n", ft->name);
				if (ru(2)) { sb_puts(&msg, "\n"); paragraph(&msg); }
				commit_header("refs/heads/main", msg.p, main_last, ft->last);
				main_last = next_mark - 1;
				for (size_t j = 0; j < ft->nfiles; j++) {
					struct file *f = &F[ft->files[j]];
					fprintf(out, "M %s :%d %s\n", f->exec ? "100755" : "100644", f->mark, f->path);
					f->feature = 0; f->lock = 0;
				}
				fputc('\n', out);
			} else {
				/* left unmerged: its files stay out of main */
				for (size_t j = 0; j < ft->nfiles; j++) { F[ft->files[j]].alive = 0; F[ft->files[j]].lock = 0;
					regular_bytes -= (double)F[ft->files[j]].c.n; }
			}
			free(ft->files); ft->files = NULL; ft->nfiles = 0; ft->active = 0;
			goto next;
		}
		/* start a feature? */
		if (main_last && n_commits > 50 && prog < 0.97 && ru(1000) < 25) {
			for (int k = 0; k < 4; k++) {
				struct feature *ft = &FEAT[k];
				if (ft->active) continue;
				memset(ft, 0, sizeof(*ft));
				ft->active = 1;
				ft->planned = 3 + (int)ru(10);
				ft->lang = pick_lang();
				if (ft->lang == L_SQL) ft->lang = L_PY;
				nfeat++;
				snprintf(ft->name, sizeof(ft->name), "feature/%s-%s-%d", w(), w(), nfeat);
				char *p = make_path(ft->lang, NULL);
				char *slash = strrchr(p, '/'); *slash = 0;
				snprintf(ft->dir, sizeof(ft->dir), "%s/%s_%d", p, w(), nfeat);
				free(p);
				/* lock a couple of main files the feature also edits */
				for (int l = 0; l < 2; l++) {
					int i = pick_file_main(0);
					if (i < 0) continue;
					F[i].lock = 1;
					ft->files = realloc(ft->files, (ft->nfiles + 1) * sizeof(int)); ft->files[ft->nfiles++] = i;
				}
				break;
			}
		}
		/* ordinary commit on main */
		{
			int first = main_last == 0;
			double want = regular_target * (first ? 0.06 : (0.06 + 0.94 * prog));
			int adds = 0;
			while (regular_bytes < want && adds < (first ? 100000 : 8)) {
				int lang = pick_lang();
				char *p = make_path(lang, NULL);
				struct file *f = new_file(p, lang);
				free(p);
				gen_file(&f->c, lang, pick_size());
				regular_bytes += (double)f->c.n;
				emit_blob(f);
				changed((int)(f - F));
				adds++;
			}
			if (!first) {
				int mods = 1 + (int)ru(3) + (ru(100) < 20 ? (int)ru(6) : 0);
				for (int m = 0; m < mods; m++) {
					int i = pick_file_main(c);
					if (i < 0) break;
					struct file *f = &F[i];
					size_t before = f->c.n;
					edit_file(f, 1 + (int)ru(4));
					regular_bytes += (double)f->c.n - (double)before;
					emit_blob(f);
					changed(i);
				}
			}
			/* big files */
			for (int b = 0; b < NBIG; b++) {
				int due = 0;
				if (BIG[b].idx < 0 && prog >= BIG[b].at) due = 1;
				else if (BIG[b].idx >= 0) {
					double span = (1.0 - BIG[b].at) / BIG[b].versions;
					int ver = (int)((prog - BIG[b].at) / span) + 1;
					if (ver > (int)F[BIG[b].idx].touched && ver < BIG[b].versions + 1) due = 2;
				}
				if (due == 1) {
					struct file *f = new_file(BIG[b].path, BIG[b].lang);
					ps_add(BIG[b].path);
					f->big = 1;
					gen_file(&f->c, f->lang, BIG[b].size);
					f->touched = 1;
					BIG[b].idx = (int)(f - F);
					emit_blob(f);
					changed(BIG[b].idx);
				} else if (due == 2) {
					struct file *f = &F[BIG[b].idx];
					edit_file(f, 20 + (int)ru(40));
					f->touched++;
					emit_blob(f);
					changed(BIG[b].idx);
				}
			}
			/* changelog every ~30 commits */
			if (first || ru(30) == 0) {
				if (changelog < 0) {
					struct file *f = new_file("CHANGELOG.md", L_MD);
					ps_add("CHANGELOG.md");
					f->big = 1;
					sb_puts(&f->c, "# Changes\n\n");
					changelog = (int)(f - F);
				}
				struct file *f = &F[changelog];
				struct sb e = {0};
				sb_printf(&e, "## %u.%u.%u\n\n", 1 + (unsigned)(prog * 4), ru(20), ru(10));
				int n = 3 + (int)ru(10);
				for (int i = 0; i < n; i++) { sb_puts(&e, "- "); sentence(&e, 1); sb_puts(&e, ".\n"); }
				sb_puts(&e, "\n");
				splice(&f->c, 11 > f->c.n ? f->c.n : 11, 0, &e);
				free(e.p);
				emit_blob(f);
				changed(changelog);
			}
			if (first) { msg.n = 0; sb_puts(&msg, "Initial import\n"); }
			else commit_message(&msg);
			commit_header("refs/heads/main", msg.p, main_last, 0);
			main_last = next_mark - 1;
			/* renames and deletions (on paths not changed in this commit) */
			if (!first && ru(1000) < 15) {
				int i = pick_file_main(c);
				int already = 0; for (size_t k = 0; k < nchg; k++) if (chg[k] == i) already = 1;
				if (i >= 0 && !already) {
					struct file *f = &F[i];
					char *p = make_path(f->lang, NULL);
					fprintf(out, "R %s %s\n", f->path, p);
					free(f->path); f->path = p;
					n_renames++;
				}
			}
			if (!first && ru(1000) < 3 && n_dirrenames < 4) {
				/* rename a whole module folder under src/ or python/ */
				const char *roots[] = {"src/", "python/example/", "web/src/", "go/pkg/"};
				const char *root = roots[ru(4)];
				const char *m = MODS[ru(48)];
				char from[256], to[256];
				snprintf(from, sizeof(from), "%s%s/", root, m);
				snprintf(to, sizeof(to), "%s%s_%s/", root, m, w());
				int ok = 1, any = 0;
				for (size_t j = 0; j < NF; j++)
					if (F[j].alive && !strncmp(F[j].path, from, strlen(from))) {
						any = 1;
						if (F[j].lock || F[j].feature) ok = 0;
						for (size_t k = 0; k < nchg; k++) if (chg[k] == (int)j) ok = 0;
					}
				if (ok && any) {
					fprintf(out, "R %.*s %.*s\n", (int)strlen(from) - 1, from, (int)strlen(to) - 1, to);
					for (size_t j = 0; j < NF; j++)
						if (F[j].alive && !strncmp(F[j].path, from, strlen(from))) {
							char np[1024]; snprintf(np, sizeof(np), "%s%s", to, F[j].path + strlen(from));
							free(F[j].path); F[j].path = strdup(np); ps_add(np);
						}
					n_dirrenames++;
				}
			}
			if (!first && ru(1000) < 7) {
				int i = pick_file_main(c);
				int already = 0; for (size_t k = 0; k < nchg; k++) if (chg[k] == i) already = 1;
				if (i >= 0 && !already) {
					fprintf(out, "D %s\n", F[i].path);
					F[i].alive = 0;
					regular_bytes -= (double)F[i].c.n;
					n_deletes++;
				}
			}
			emit_changes();
			fputc('\n', out);
			c++;
		}
	next:;
	}
	fflush(out);
	{
		size_t files = 0; double tree = 0;
		for (size_t i = 0; i < NF; i++) if (F[i].alive && !F[i].feature) { files++; tree += (double)F[i].c.n; }
		fprintf(stderr, "genhist: %llu commits (%llu merges), %llu blobs written, %.1f MB of blob text, "
			"final tree %zu files %.1f MB, %llu renames, %llu folder renames, %llu deletions\n",
			(unsigned long long)n_commits, (unsigned long long)n_merges, (unsigned long long)n_blobs,
			n_blob_bytes / 1e6, files, tree / 1e6, (unsigned long long)n_renames,
			(unsigned long long)n_dirrenames, (unsigned long long)n_deletes);
	}
	return 0;
}
GENHIST_C
}

main "$@"
