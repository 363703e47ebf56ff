#!/bin/sh
# Run one libFuzzer harness of a --with-fuzzer build (tests/fuzz/README.md).
#
#   tests/fuzz/run.sh BUILD/tests/fuzz/fuzz-NAME [SECONDS] [libFuzzer options...]
#
# The corpus grows in BUILD/tests/fuzz/work/NAME/, seeded from the
# checked-in tests/fuzz/corpus/NAME/ and crashes/NAME/; crashes, leaks and
# time-outs are written to BUILD/tests/fuzz/artifacts/NAME/. SECONDS is
# total time (default 60); 0 runs until stopped. Two harnesses at a time
# at most on a two-core machine.
set -eu

prog=$1
secs=${2:-60}
[ $# -ge 2 ] && shift 2 || shift $#
src=$(cd "$(dirname "$0")/../.." && pwd)
name=$(basename "$prog")
build=$(cd "$(dirname "$prog")/../.." && pwd)
work=$build/tests/fuzz/work/$name
art=$build/tests/fuzz/artifacts/$name
mkdir -p "$work" "$art"

# Per-harness limits: inputs large enough to hold a small rule pack or a
# document of a few lines, small enough for many runs a second.
case $name in
fuzz-rulepack) max_len=8192 ;;
fuzz-cache) max_len=32768 ;;
fuzz-scanner | fuzz-objects) max_len=16384 ;;
fuzz-api-body) max_len=8192 ;;
*) max_len=4096 ;;
esac
# The API harnesses run leakgated, which logs every request on standard
# error: closed for the target (libFuzzer keeps its own output and the
# sanitizers' reports).
extra=""
case $name in
fuzz-api-*) extra="-close_fd_mask=2" ;;
esac
dict=""
[ -f "$src/tests/fuzz/$name.dict" ] && dict="-dict=$src/tests/fuzz/$name.dict"
seeds="$src/tests/fuzz/corpus/$name"
[ -d "$src/tests/fuzz/crashes/$name" ] && seeds="$seeds $src/tests/fuzz/crashes/$name"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The built-in rules are compiled once into this cache, not in every run.
export LEAKGATE_CACHE_DIR=${LEAKGATE_CACHE_DIR:-$build/tests/fuzz/cache}
# shellcheck disable=SC2086
exec "$prog" -max_total_time="$secs" -rss_limit_mb=4096 -timeout=25 -max_len="$max_len" \
	-artifact_prefix="$art/" -print_final_stats=1 $dict $extra "$@" "$work" $seeds
