#!/bin/bash
# scan-bench.sh: throughput, memory and accuracy of `leakgate scan`.
#
# Generates a synthetic source tree with planted fake secrets (gencorpus.c),
# scans it with leakgate pinned to one core, compares the findings with the
# plant manifest, runs ripgrep over the same tree with the same patterns as
# a baseline, and checks that memory does not grow with file size.
#
#   bench/scan-bench.sh [--size MB] [--seed N] [--secrets N] [--runs N]
#                       [--big MB] [--cpu N] [--keep] [--no-rg] [--rg-multiline]
#
# Environment: LEAKGATE (the binary; default build/admin/leakgate of this
# repository), LEAKGATE_SCAN_ARGS (extra arguments for `leakgate scan`, e.g.
# "--no-builtin --rules /tmp/pack.json"), BENCH_SIZE_MB, BENCH_SEED,
# BENCH_RUNS, BENCH_BIG_MB, BENCH_CPU, TMPDIR.
#
# Exit status: 0 when everything ran (whatever the figures), 1 when a step
# failed to run, 2 on bad usage or missing tools.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
LEAKGATE=${LEAKGATE:-$top/build/admin/leakgate}
size_mb=${BENCH_SIZE_MB:-64}
seed=${BENCH_SEED:-1}
secrets=40
runs=${BENCH_RUNS:-3}
big_mb=${BENCH_BIG_MB:-256}
cpu=${BENCH_CPU:-0}
keep=0
do_rg=1
rg_multiline=0

usage() {
	sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--size) size_mb=$2; shift ;;
	--size=*) size_mb=${1#*=} ;;
	--seed) seed=$2; shift ;;
	--seed=*) seed=${1#*=} ;;
	--secrets) secrets=$2; shift ;;
	--secrets=*) secrets=${1#*=} ;;
	--runs) runs=$2; shift ;;
	--runs=*) runs=${1#*=} ;;
	--big) big_mb=$2; shift ;;
	--big=*) big_mb=${1#*=} ;;
	--cpu) cpu=$2; shift ;;
	--cpu=*) cpu=${1#*=} ;;
	--keep) keep=1 ;;
	--no-rg) do_rg=0 ;;
	--rg-multiline) rg_multiline=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "scan-bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
for v in "$size_mb:--size" "$big_mb:--big"; do
	case ${v%%:*} in
	'' | *[!0-9.]* | *.*.*) echo "scan-bench: ${v#*:} needs a number of megabytes" >&2; exit 2 ;;
	esac
done
for v in "$seed:--seed" "$secrets:--secrets" "$runs:--runs" "$cpu:--cpu"; do
	case ${v%%:*} in
	'' | *[!0-9]*) echo "scan-bench: ${v#*:} needs a whole number" >&2; exit 2 ;;
	esac
done
[ "$runs" -ge 1 ] || { echo "scan-bench: --runs must be at least 1" >&2; exit 2; }

say() { echo "bench: $*" >&2; }
failed=0
fail() { echo "bench: FAILED: $*" >&2; failed=1; }

# --- tools -----------------------------------------------------------------

TIME_BIN=""
[ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1 && TIME_BIN=/usr/bin/time

missing=""
command -v jq >/dev/null || missing="$missing jq"
command -v cc >/dev/null || missing="$missing gcc"
command -v taskset >/dev/null || missing="$missing util-linux"
[ "$do_rg" = 1 ] && ! command -v rg >/dev/null && missing="$missing ripgrep"
[ -z "$TIME_BIN" ] && missing="$missing time"
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing Debian packages:$missing"
		# shellcheck disable=SC2086 # a list of package names
		if ! apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
			say "apt-get install failed"
		fi
		[ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1 && TIME_BIN=/usr/bin/time
	fi
	still=""
	command -v jq >/dev/null || still="$still jq"
	command -v cc >/dev/null || still="$still gcc"
	command -v taskset >/dev/null || still="$still util-linux"
	[ "$do_rg" = 1 ] && ! command -v rg >/dev/null && still="$still ripgrep"
	if [ -n "$still" ]; then
		echo "scan-bench: missing tools; install the Debian packages:$still" >&2
		echo "            (e.g. sudo apt-get install$still; or run with --no-rg to skip ripgrep)" >&2
		exit 2
	fi
	[ -z "$TIME_BIN" ] && say "GNU time not available (Debian package 'time'); measuring peak RSS with a wait4() wrapper"
fi

if [ ! -x "$LEAKGATE" ]; then
	echo "scan-bench: no leakgate binary at $LEAKGATE (build with ./setup.sh build, or set LEAKGATE)" >&2
	exit 2
fi
LEAKGATE=$(cd "$(dirname "$LEAKGATE")" && pwd)/$(basename "$LEAKGATE")
# shellcheck disable=SC2206
extra=(${LEAKGATE_SCAN_ARGS:-})

tmp=$(mktemp -d "${TMPDIR:-/tmp}/leakgate-bench.XXXXXX") || exit 1
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	cd / || :
	if [ "$keep" = 1 ]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Hermetic leakgate state: compiled-rules cache and fingerprint key in $tmp.
export LEAKGATE_KEY_FILE=$tmp/fingerprint.key
cache_args=(--cache-dir "$tmp/cache")

say "building gencorpus"
cc -O2 -o "$tmp/gencorpus" "$here/gencorpus.c" || { echo "scan-bench: cannot build gencorpus" >&2; exit 1; }
if [ -z "$TIME_BIN" ]; then
	# ru_maxrss of the waited-for child is its VmHWM when it exited.
	cat >"$tmp/maxrss.c" <<'EOF'
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct rusage ru;
	int st;
	pid_t pid;
	FILE *f;

	if (argc < 3)
		return 127;
	pid = fork();
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) < 0)
		return 127;
	if ((f = fopen(argv[1], "w"))) {
		fprintf(f, "Maximum resident set size (kbytes): %ld\n", ru.ru_maxrss);
		fclose(f);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
EOF
	cc -O2 -o "$tmp/maxrss" "$tmp/maxrss.c" || { echo "scan-bench: cannot build the RSS wrapper" >&2; exit 1; }
fi

# timed OUT ERR CMD...: runs CMD, sets RC, NS (wall nanoseconds), RSS (KB).
timed() {
	local out=$1 err=$2 t0 t1
	shift 2
	t0=$(date +%s%N)
	if [ -n "$TIME_BIN" ]; then
		"$TIME_BIN" -v -o "$tmp/rusage" "$@" >"$out" 2>"$err"
	else
		"$tmp/maxrss" "$tmp/rusage" "$@" >"$out" 2>"$err"
	fi
	RC=$?
	t1=$(date +%s%N)
	NS=$((t1 - t0))
	RSS=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tmp/rusage" 2>/dev/null | tail -1)
	RSS=${RSS:-0}
}

# stats NS...: prints "best median" in seconds
stats() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.6f %.6f\n", v[1] / 1e9, m / 1e9 }'
}
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? b / 1e6 / s : 0) }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# --- corpus ----------------------------------------------------------------

corpus=$tmp/corpus
manifest=$tmp/manifest.tsv
say "generating a ${size_mb} MB corpus (seed $seed, $secrets secrets)"
"$tmp/gencorpus" -s "$seed" -m "$size_mb" -n "$secrets" "$corpus" "$manifest" || { echo "scan-bench: gencorpus failed" >&2; exit 1; }
corpus_files=$(find "$corpus" -type f | wc -l)
corpus_bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
planted=$(wc -l <"$manifest")

# --- leakgate --------------------------------------------------------------

# Everything below scans "." from inside the corpus, so reported paths are
# the manifest's relative paths.
cd "$corpus" || exit 1

say "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) on $(nproc 2>/dev/null) cores (other work on core $cpu skews the figures)"
lg=(taskset -c "$cpu" "$LEAKGATE" scan --format json "${cache_args[@]}" "${extra[@]}" .)
lg_ok=1
lg_best="" lg_median="" lg_rss=0 lg_runs="" lg_start=""
say "leakgate $("$LEAKGATE" version 2>/dev/null | head -1): warm-up run (fills the compiled-rules cache)"
timed "$tmp/lg.json" "$tmp/lg.err" "${lg[@]}"
if [ "$RC" -ge 2 ]; then
	fail "leakgate scan exited $RC: $(head -5 "$tmp/lg.err")"
	lg_ok=0
else
	: >"$tmp/empty"
	timed /dev/null /dev/null taskset -c "$cpu" "$LEAKGATE" scan --format json "${cache_args[@]}" "${extra[@]}" "$tmp/empty"
	lg_start=$(awk -v n="$NS" 'BEGIN { printf "%.0f", n / 1e6 }')
	say "leakgate start-up (an empty file): $lg_start ms, peak RSS $(mb "$RSS") MB"
fi
if [ "$lg_ok" = 1 ]; then
	times=()
	for i in $(seq "$runs"); do
		timed "$tmp/lg.json" "$tmp/lg.err" "${lg[@]}"
		if [ "$RC" -ge 2 ]; then
			fail "leakgate scan exited $RC: $(head -5 "$tmp/lg.err")"
			lg_ok=0
			break
		fi
		times+=("$NS")
		[ "$RSS" -gt "$lg_rss" ] && lg_rss=$RSS
		lg_runs="$lg_runs $(awk -v n="$NS" 'BEGIN { printf "%.3fs", n / 1e9 }')"
		say "leakgate run $i: $(awk -v n="$NS" 'BEGIN { printf "%.3f", n / 1e9 }') s, peak RSS $(mb "$RSS") MB"
	done
	if [ "$lg_ok" = 1 ]; then
		read -r lg_best lg_median < <(stats "${times[@]}")
	fi
fi

# --- accuracy --------------------------------------------------------------

found=0 missed=0 fps=0 dups=0
if [ "$lg_ok" = 1 ]; then
	lg_files=$(jq -r '.summary.files_scanned' "$tmp/lg.json")
	lg_bytes=$(jq -r '.summary.bytes_scanned' "$tmp/lg.json")
	lg_skipped=$(jq -r '.summary.skipped' "$tmp/lg.json")
	if [ "$lg_files" != "$corpus_files" ] || [ "$lg_bytes" != "$corpus_bytes" ]; then
		say "note: leakgate scanned $lg_files files / $lg_bytes bytes of $corpus_files / $corpus_bytes ($lg_skipped skipped)"
		jq -r '.skipped[] | "bench:   skipped \(.path): \(.message)"' "$tmp/lg.json" | head -20 >&2
	fi
	jq -r '.findings[] | [(.path | sub("^\\./"; "")), (if .line == null then "-" else (.line | tostring) end), .rule_id, .preview] | join("\t")' \
		"$tmp/lg.json" >"$tmp/findings.tsv"
	awk -F '\t' -v report="$tmp/accuracy.txt" '
		FNR == NR { want[$1 "\t" $2] = $3; order[++n] = $1 "\t" $2; next }
		{
			k = $1 "\t" $2
			if (k in want) {
				if (k in hit) { dups++; hit[k] = hit[k] "," $3 } else { hit[k] = $3; found++ }
			} else {
				fp[++nfp] = $1 ":" $2 ": " $3 "  " $4
			}
		}
		END {
			printf "found %d\nmissed %d\nfps %d\ndups %d\n", found, n - found, nfp, dups
			for (i = 1; i <= n; i++) {
				k = order[i]; split(k, p, "\t")
				if (k in hit)
					printf "FOUND  %s:%s  %s -> %s\n", p[1], p[2], want[k], hit[k] > report
				else
					printf "MISSED %s:%s  %s\n", p[1], p[2], want[k] > report
			}
			for (i = 1; i <= nfp; i++)
				printf "FP     %s\n", fp[i] > report
		}' "$manifest" "$tmp/findings.tsv" >"$tmp/accuracy.counts"
	found=$(sed -n 's/^found //p' "$tmp/accuracy.counts")
	missed=$(sed -n 's/^missed //p' "$tmp/accuracy.counts")
	fps=$(sed -n 's/^fps //p' "$tmp/accuracy.counts")
	dups=$(sed -n 's/^dups //p' "$tmp/accuracy.counts")
	echo
	echo "planted secrets (path:line  kind -> rule ids that reported it):"
	grep -E '^(FOUND|MISSED)' "$tmp/accuracy.txt" | sed 's/^/  /'
	if [ "$missed" -gt 0 ]; then
		echo "missed planted secrets:"
		grep '^MISSED' "$tmp/accuracy.txt" | sed 's/^MISSED /  /'
	fi
	if [ "$fps" -gt 0 ]; then
		echo "false positives (path:line: rule_id  redacted preview):"
		grep '^FP' "$tmp/accuracy.txt" | sed 's/^FP     /  /'
	fi
	echo "planted found: $found/$planted"
	echo "false positives: $fps"
	[ "$dups" -gt 0 ] && echo "(plus $dups more findings by other rules on planted lines)"
fi

# --- ripgrep baseline ------------------------------------------------------

rg_best="" rg_median="" rg_rss=0 rg_start="" rg_runs="" rg_npats=0 rg_rejected=0 rg_total=0
if [ "$do_rg" = 1 ]; then
	# The packs leakgate loads, as LEAKGATE_SCAN_ARGS would make it.
	packs=() listargs=() disabled=() builtin=1
	set -- "${extra[@]}"
	while [ $# -gt 0 ]; do
		case $1 in
		--no-builtin) builtin=0; listargs+=(--no-builtin) ;;
		--rules) packs+=("$2"); listargs+=(--rules "$2"); shift ;;
		--rules=*) packs+=("${1#*=}"); listargs+=(--rules "${1#*=}") ;;
		--disable) disabled+=("$2"); shift ;;
		--disable=*) disabled+=("${1#*=}") ;;
		esac
		shift
	done
	pack_files=()
	[ "$builtin" = 1 ] && pack_files+=("$top"/rules/builtin/*.json)
	for p in "${packs[@]}"; do
		if [ -d "$p" ]; then pack_files+=("$p"/*.json); else pack_files+=("$p"); fi
	done
	# Rule ids the binary really uses (the built-in pack is compiled in: the
	# JSON files may be newer than the build).
	if ! "$LEAKGATE" rules list --json "${listargs[@]}" >"$tmp/ids.json" 2>"$tmp/ids.err"; then
		fail "leakgate rules list: $(head -3 "$tmp/ids.err")"
		do_rg=0
	fi
fi
if [ "$do_rg" = 1 ]; then
	ids=$(jq -c --args '[.[].id] - $ARGS.positional' "${disabled[@]}" <"$tmp/ids.json")
	jq -r --argjson ids "$ids" '.rules[] | select(.pattern != null and (.id as $i | $ids | index($i)))
		| .id + "\t" + (if .case_insensitive == true then "(?i)" else "" end) + (.pattern | gsub("\n"; "\\n"))' \
		"${pack_files[@]}" >"$tmp/patterns.all"
	n_in_use=$(jq 'length' <<<"$ids")
	n_with_pat=$(wc -l <"$tmp/patterns.all")
	jq -r --argjson ids "$ids" '.rules[] | .id' "${pack_files[@]}" | sort -u >"$tmp/ids.json-files"
	jq -r '.[]' <<<"$ids" | sort -u | comm -23 - "$tmp/ids.json-files" >"$tmp/ids.unknown"
	jq -r '.[]' <<<"$ids" | sort -u >"$tmp/ids.binary"
	jq -r '.rules[] | select(.pattern != null) | .id' "${pack_files[@]}" | sort -u | comm -23 - "$tmp/ids.binary" >"$tmp/ids.notbuilt"
	if [ -s "$tmp/ids.notbuilt" ] && [ ${#disabled[@]} -eq 0 ]; then
		say "note: $(wc -l <"$tmp/ids.notbuilt") rules of the JSON packs are not in the binary (rebuild with ./setup.sh build?): $(head -10 "$tmp/ids.notbuilt" | tr '\n' ' ')"
	fi
	if [ -s "$tmp/ids.unknown" ]; then
		say "note: $(wc -l <"$tmp/ids.unknown") rules of the binary are not in the JSON packs (stale build?): $(tr '\n' ' ' <"$tmp/ids.unknown")"
	fi
	rg_base=(rg --no-config --regex-size-limit 1G --dfa-size-limit 1G)
	[ "$rg_multiline" = 1 ] && rg_base+=(-U)
	: >"$tmp/patterns.txt"
	: >"$tmp/patterns.rejected"
	while IFS=$'\t' read -r id pat; do
		"${rg_base[@]}" -e "$pat" /dev/null >/dev/null 2>"$tmp/rg1.err"
		if [ $? -ge 2 ]; then
			printf '%s: %s\n' "$id" "$(grep -v '^$' "$tmp/rg1.err" | head -1)" >>"$tmp/patterns.rejected"
		else
			printf '%s\n' "$pat" >>"$tmp/patterns.txt"
		fi
	done <"$tmp/patterns.all"
	rg_npats=$(wc -l <"$tmp/patterns.txt")
	rg_rejected=$(wc -l <"$tmp/patterns.rejected")
	rg_total=$n_with_pat
	echo
	echo "ripgrep baseline: $n_in_use rules in use, $n_with_pat content patterns, $rg_npats accepted by rg, $rg_rejected rejected"
	if [ "$rg_rejected" -gt 0 ]; then
		echo "  rejected by rg (run without them):"
		sed 's/^/    /' "$tmp/patterns.rejected"
	fi
	rg=(taskset -c "$cpu" "${rg_base[@]}" -c -j1 --no-ignore --hidden -g '!.git' -f "$tmp/patterns.txt" .)
	rg_files=$(rg --no-config --files --no-ignore --hidden -g '!.git' . | wc -l)
	[ "$rg_files" != "$corpus_files" ] && say "note: rg sees $rg_files files, the corpus has $corpus_files"
	if [ "$rg_npats" -eq 0 ]; then
		fail "no pattern left for ripgrep"
	else
		say "ripgrep $(rg --version | sed -n '1s/^ripgrep //p'): warm-up run"
		timed "$tmp/rg.out" "$tmp/rg.err" "${rg[@]}"
		if [ "$RC" -ge 2 ]; then
			fail "rg exited $RC: $(head -3 "$tmp/rg.err")"
		else
			mkdir -p "$tmp/emptydir"
			timed /dev/null /dev/null taskset -c "$cpu" "${rg_base[@]}" -c -j1 -f "$tmp/patterns.txt" "$tmp/emptydir"
			rg_start=$(awk -v n="$NS" 'BEGIN { printf "%.2f", n / 1e9 }')
			say "ripgrep start-up (compiling the patterns, an empty directory): $rg_start s"
			times=()
			for i in $(seq "$runs"); do
				timed "$tmp/rg.out" "$tmp/rg.err" "${rg[@]}"
				[ "$RC" -ge 2 ] && { fail "rg exited $RC: $(head -3 "$tmp/rg.err")"; break; }
				times+=("$NS")
				[ "$RSS" -gt "$rg_rss" ] && rg_rss=$RSS
				rg_runs="$rg_runs $(awk -v n="$NS" 'BEGIN { printf "%.3fs", n / 1e9 }')"
				say "ripgrep run $i: $(awk -v n="$NS" 'BEGIN { printf "%.3f", n / 1e9 }') s, peak RSS $(mb "$RSS") MB"
			done
			[ ${#times[@]} -gt 0 ] && read -r rg_best rg_median < <(stats "${times[@]}")
			rg_matchfiles=$(wc -l <"$tmp/rg.out")
			echo "  ripgrep reported matches in $rg_matchfiles files"
		fi
	fi
fi

# --- memory independence ---------------------------------------------------

mem_small=0 mem_big=0 mem_note=""
if [ "$big_mb" != 0 ] && [ "$lg_ok" = 1 ]; then
	avail_kb=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
	need_kb=$(awk -v m="$big_mb" 'BEGIN { printf "%.0f", m * 1e6 / 1024 + 65536 }')
	if [ "${avail_kb:-0}" -lt "$need_kb" ]; then
		mem_note="skipped: not enough space in $tmp for a $big_mb MB file"
		say "$mem_note"
	else
		echo
		for m in 1 "$big_mb"; do
			f=$tmp/one-$m.txt
			"$tmp/gencorpus" -f -s "$seed" -m "$m" "$f" "$tmp/one-$m.manifest" 2>/dev/null || { fail "gencorpus -f -m $m"; continue; }
			timed "$tmp/one-$m.json" "$tmp/one-$m.err" taskset -c "$cpu" "$LEAKGATE" scan --format json "${cache_args[@]}" "${extra[@]}" "$f"
			if [ "$RC" -ge 2 ]; then
				fail "leakgate scan of the $m MB file exited $RC: $(head -3 "$tmp/one-$m.err")"
				continue
			fi
			want_line=$(cut -f2 "$tmp/one-$m.manifest" | head -1)
			got=$(jq --argjson l "${want_line:-0}" '[.findings[] | select(.line == $l)] | length' "$tmp/one-$m.json")
			lines=$(wc -l <"$f")
			if [ "$got" -gt 0 ]; then res="found"; else res="MISSED"; fi
			echo "memory: $m MB file: peak RSS $(mb "$RSS") MB ($RSS kB), $(awk -v n="$NS" -v m="$m" 'BEGIN { printf "%.0f MB/s", m / (n / 1e9) }'); secret on line $want_line of $lines: $res"
			if [ "$m" = 1 ]; then mem_small=$RSS; else mem_big=$RSS; fi
			rm -f "$f"
		done
	fi
fi

# --- summary ---------------------------------------------------------------

corpus_mb=$(awk -v b="$corpus_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
echo
echo "leakgate scan benchmark: seed $seed, best of $runs runs on core $cpu${LEAKGATE_SCAN_ARGS:+, scan args: $LEAKGATE_SCAN_ARGS}"
printf '%-17s %s MB, %s files\n' "corpus" "$corpus_mb" "$corpus_files"
if [ -n "$lg_best" ]; then
	lg_mbps=$(mbps "$corpus_bytes" "$lg_best")
	printf '%-17s %s MB/s (1 core), peak RSS %s MB\n' "leakgate scan" "$lg_mbps" "$(mb "$lg_rss")"
	printf '%-17s median %s MB/s; runs:%s; start-up %s ms\n' "" "$(mbps "$corpus_bytes" "$lg_median")" "$lg_runs" "$lg_start"
else
	printf '%-17s %s\n' "leakgate scan" "did not run"
fi
if [ -n "$rg_best" ]; then
	rg_mbps=$(mbps "$corpus_bytes" "$rg_best")
	ratio=""
	[ -n "$lg_best" ] && ratio=$(awk -v a="$rg_best" -v b="$lg_best" 'BEGIN { printf "%.1f", a / b }')
	printf '%-17s %s MB/s (1 core), peak RSS %s MB  -> leakgate is %sx ripgrep\n' "ripgrep same pats" "$rg_mbps" "$(mb "$rg_rss")" "${ratio:-?}"
	if [ "$rg_rejected" -gt 0 ]; then
		printf '%-17s %s of %s patterns: %s rejected by rg and left out%s; start-up %s s\n' "" "$rg_npats" "$rg_total" "$rg_rejected" \
			"$([ "$rg_multiline" = 1 ] || printf '%s' ' (a literal \n needs rg -U)')" "$rg_start"
	printf '%-17s median %s MB/s; runs:%s\n' "" "$(mbps "$corpus_bytes" "$rg_median")" "$rg_runs"
	else
		printf '%-17s all %s patterns%s; start-up %s s\n' "" "$rg_total" "$([ "$rg_multiline" = 1 ] && echo ' (rg -U)')" "$rg_start"
		printf '%-17s median %s MB/s; runs:%s\n' "" "$(mbps "$corpus_bytes" "$rg_median")" "$rg_runs"
	fi
elif [ "$do_rg" = 1 ]; then
	printf '%-17s %s\n' "ripgrep same pats" "did not run"
fi
[ "$lg_ok" = 1 ] && printf '%-17s planted found %s/%s, false positives %s\n' "accuracy" "$found" "$planted" "$fps"
if [ "$mem_big" -gt 0 ] && [ "$mem_small" -gt 0 ]; then
	printf '%-17s 1 MB file: %s MB RSS; %s MB file: %s MB RSS (ratio %s)\n' "memory" "$(mb "$mem_small")" "$big_mb" "$(mb "$mem_big")" \
		"$(awk -v a="$mem_big" -v b="$mem_small" 'BEGIN { printf "%.2f", a / b }')"
elif [ -n "$mem_note" ]; then
	printf '%-17s %s\n' "memory" "$mem_note"
fi
exit "$failed"
