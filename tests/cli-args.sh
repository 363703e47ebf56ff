#!/bin/sh
# Every program and subcommand answers --help and --version with status 0
# and does no work meanwhile: the hook program in particular must not run
# as a hook (read standard input, record an event) when asked for its
# version. Unknown arguments are a usage error (status 2).
: "${LEAKGATE_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
export LEAKGATE_SRC
. "$LEAKGATE_SRC/tests/hook/lib.sh"

LGD=$LEAKGATE_BUILD/server/leakgated
CLIENT=$LEAKGATE_BUILD/hooks/leakgate-pre-receive-client
export LEAKGATE_DB="$DB"

for args in "--help" "--version" "help" "version" "scan --help" "rules --help" "token --help" \
	"exemptions --help" "events --help" "install --help" "config --help" "config check --help" \
	"db --help"; do
	# shellcheck disable=SC2086
	run "$LG" $args </dev/null
	is "$rc" 0 "leakgate $args: exit 0"
	[ -s "$OUT.stdout" ]
	ok $? "leakgate $args: prints on standard output"
done
run "$LG" no-such-command
is "$rc" 2 "leakgate no-such-command: exit 2"

for args in "--help" "--version"; do
	run "$LGD" $args
	is "$rc" 0 "leakgated $args: exit 0"
	contains "$OUT" "leakgated" "leakgated $args: names itself"
done
run "$LGD" --no-such-option
is "$rc" 2 "leakgated --no-such-option: exit 2"

mkdir -p "$T/repo.git"
git init -q --bare "$T/repo.git"
for args in "--help" "--version"; do
	printf '%s %s refs/heads/x\n' 0000000000000000000000000000000000000000 0000000000000000000000000000000000000001 >"$T/stdin"
	run_in "$T/repo.git" "$T/stdin" env GIT_DIR=. "$HOOK" $args
	is "$rc" 0 "leakgate-pre-receive $args: exit 0"
	is "$(ev_count)" 0 "leakgate-pre-receive $args: no event recorded (it did not run as a hook)"
done
run_in "$T/repo.git" "$T/stdin" env GIT_DIR=. "$HOOK" --bogus
is "$rc" 2 "leakgate-pre-receive --bogus: exit 2 (a usage error)"
is "$(ev_count)" 0 "and no event"
contains "$ERR" "usage" "and the usage is shown"

done_testing
