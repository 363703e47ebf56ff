#!/bin/bash
# `leakgate scan` as a user meets it: exit status, what is scanned and what
# is not, the text and JSON reports, fingerprints, rule packs, and a large
# file under a memory bound. TAP.
#
# Every value planted below is a fake credential in the right format (the
# ghp_/npm_ ones with a valid CRC32); no output of any run may contain one.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # make check runs it with $(SHELL)
. "$(dirname "$0")/lib.sh"

# ---- the planted secrets ----
GHP=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
NPM=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
AWS_ID=AKIANCW63OCBK3VFZRRR
AWS_SECRET=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
STRIPE=sk_live_NRB0tR1lirRVzYkBEyhiXUTd
SLACK=xoxb-464979954494-4947495692002-iDvDlr3qBiwBNPBACZMzla6M
GLPAT=glpat-kXpsaCoKaEF7UV2PUBKi
SENDGRID=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
ACME=acmedt_qbyN5muNwNroWEsgj7qHo90HzkbacCQT
PASSWORD=aWPPyOWF74MguQG3JS
# For the large file.
BIG1=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
BIG2=AKIAZR5TQ2MBVW7XKPLD
BIG3=sk_live_Jd82KqLmZ0vTn5XcRw7bYp3E
SECRETS="GHP NPM AWS_ID AWS_SECRET STRIPE SLACK GLPAT SENDGRID ACME PASSWORD BIG1 BIG2 BIG3"

D=$T/data
mkdir -p "$D"

# ========================================================== exit status ==

mkdir -p "$D/clean/src"
cat >"$D/clean/src/main.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	const char *token = getenv("API_TOKEN");
	if (!token) {
		fputs("set API_TOKEN\n", stderr);
		return 1;
	}
	return 0;
}
EOF
printf '# Clean project\n\nRun `make` and export API_TOKEN first.\n' >"$D/clean/README.md"

lg_run clean scan "$D/clean"
is "$RC" 0 "a clean tree: exit status 0"
contains "$OUT" "leakgate: 0 secrets found in 0 files (2 files scanned" "a clean tree: the summary says 0 secrets, 2 files scanned"

mkdir -p "$D/one/app"
cat >"$D/one/app/config.py" <<EOF
import os

DEBUG = False
GITHUB_TOKEN = "$GHP"
DATABASE_URL = os.environ["DATABASE_URL"]
EOF
lg_run one scan "$D/one/app/config.py"
is "$RC" 1 "a file with a secret: exit status 1"

lg_run help scan --help
is "$RC" 0 "scan --help: exit status 0"
contains "$OUT" "Exit status: 0 nothing found, 1 secrets found, 2 error." "scan --help documents the exit status"

lg_run badopt scan --no-such-option "$D/clean"
is "$RC" 2 "an unknown option: exit status 2"
contains "$ERR" "usage: leakgate scan" "an unknown option: the usage is printed on stderr"

lg_run noargs scan
is "$RC" 2 "no path at all: exit status 2"
contains "$ERR" "nothing to scan" "no path at all: says there is nothing to scan"

lg_run missing scan "$D/no-such-file.txt"
is "$RC" 2 "a nonexistent file: exit status 2"
contains "$OUT" "error: $D/no-such-file.txt: cannot read: No such file or directory" "a nonexistent file: the report names it and says why"

lg_run missing2 scan "$D/one/app/config.py" "$D/no-such-file.txt"
is "$RC" 2 "a finding and a nonexistent file: the error wins, exit status 2"
contains "$OUT" "app/config.py:4:" "a finding and a nonexistent file: the finding is still reported"

lg_run badfmt scan --format xml "$D/clean"
is "$RC" 2 "--format xml: exit status 2"
contains "$ERR" "unknown format 'xml'" "--format xml: the message names the format"

lg_run badsize scan --max-size 0 "$D/clean"
is "$RC" 2 "--max-size 0: exit status 2"

# Unreadable paths. root reads everything, so as root the scan runs as
# nobody (setpriv, util-linux); otherwise chmod is enough.
mkdir -p "$D/perm/tree/locked" "$D/perm/home"
printf 'x = 1\n' >"$D/perm/tree/ok.txt"
printf 'secret = 1\n' >"$D/perm/tree/locked/inner.txt"
printf 'nothing\n' >"$D/perm/unreadable.txt"
chmod 000 "$D/perm/unreadable.txt" "$D/perm/tree/locked"
chmod 1777 "$D/perm/home"
chmod 755 "$T" "$D" "$D/perm" "$D/perm/tree"
as_user=()
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null &&
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$LG" scan --help >/dev/null 2>&1; then
		as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups
			env HOME="$D/perm/home" LEAKGATE_KEY_FILE="$D/perm/home/key"
			LEAKGATE_CACHE_DIR="$D/perm/home/cache")
	else
		as_user=(none)
	fi
fi
if [ "${as_user[0]:-}" = none ]; then
	skip "an unreadable file (running as root without a way to drop privileges)"
	skip "an unreadable directory (running as root without a way to drop privileges)"
else
	"${as_user[@]}" timeout 120 "$LG" scan "$D/perm/unreadable.txt" >"$T/log/perm1.out" 2>"$T/log/perm1.err"
	rc=$?
	[ "$rc" = 2 ] && grep -qF "$D/perm/unreadable.txt: cannot open: Permission denied" "$T/log/perm1.out"
	ok $? "an unreadable file: exit status 2 (got $rc), 'cannot open: Permission denied' with its path" ||
		diag_file "$T/log/perm1.out"
	"${as_user[@]}" timeout 120 "$LG" scan "$D/perm/tree" >"$T/log/perm2.out" 2>"$T/log/perm2.err"
	rc=$?
	[ "$rc" = 2 ] && grep -qF "$D/perm/tree/locked: cannot open directory: Permission denied" "$T/log/perm2.out"
	ok $? "an unreadable directory inside a tree: exit status 2 (got $rc), reported with its path" ||
		diag_file "$T/log/perm2.out"
fi
chmod 755 "$D/perm/tree/locked"

# ---- broken rule packs ----
mkdir -p "$D/packs"
cat >"$D/packs/acme.json" <<'EOF'
{
  "pack": "acme",
  "rules": [
    {
      "id": "acme-deploy-token",
      "name": "ACME deploy token",
      "description": "Deploy token of the ACME artifact store.",
      "severity": "high",
      "pattern": "\\b(acmedt_[A-Za-z0-9]{32})\\b",
      "secret_group": 1,
      "min_entropy": 3.5,
      "remediation": "Revoke the token in the ACME console, issue a new one, then rewrite the commits that hold it.",
      "tags": ["acme"],
      "examples": [
        "ACME_TOKEN=acmedt_Q3vX9kLm2PzR7tY1wB8nC4dF6gH0jK5s",
        {"path": "deploy/values.yaml", "text": "store:\n  token: acmedt_a8Kd02LmQz71XcVb5NpR3tYw9EfGh4Ju\n"}
      ],
      "negative_examples": [
        "ACME_TOKEN=acmedt_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "acmedt_ is the prefix of ACME deploy tokens"
      ]
    }
  ]
}
EOF
jq '.rules[0].min_entopy = 3 | del(.rules[0].min_entropy)' "$D/packs/acme.json" >"$D/packs/typo.json"
jq '.rules[0].severity = "urgent"' "$D/packs/acme.json" >"$D/packs/severity.json"
jq '.rules[0].pattern = "\\b(acmedt_[A-Z"' "$D/packs/acme.json" >"$D/packs/pattern.json"
jq '.rules[0].examples[0] = "ACME_TOKEN=acmedt_tooShort"' "$D/packs/acme.json" >"$D/packs/example.json"
printf '{"pack": "acme", "rules": [' >"$D/packs/syntax.json"

lg_run rules_typo scan --rules "$D/packs/typo.json" "$D/clean"
is "$RC" 2 "--rules with an unknown field: exit status 2"
contains "$ERR" "rule 'acme-deploy-token': field 'min_entopy'" "--rules with an unknown field: the message names the rule id and the field"
lg_run rules_sev scan --rules "$D/packs/severity.json" "$D/clean"
is "$RC" 2 "--rules with a bad severity: exit status 2"
contains "$ERR" "rule 'acme-deploy-token': field 'severity'" "--rules with a bad severity: the message names the rule id and the field"
lg_run rules_re scan --rules "$D/packs/pattern.json" "$D/clean"
is "$RC" 2 "--rules with a broken pattern: exit status 2"
contains "$ERR" "rule 'acme-deploy-token': field 'pattern'" "--rules with a broken pattern: the message names the rule id and the field"
lg_run rules_json scan --rules "$D/packs/syntax.json" "$D/clean"
is "$RC" 2 "--rules with invalid JSON: exit status 2"
contains "$ERR" "syntax.json" "--rules with invalid JSON: the message names the file"
lg_run rules_missing scan --rules "$D/packs/none.json" "$D/clean"
is "$RC" 2 "--rules pointing at nothing: exit status 2"
lg_run disable_unknown scan --disable no-such-rule "$D/clean"
is "$RC" 2 "--disable with an unknown rule id: exit status 2"
contains "$ERR" "no-such-rule" "--disable with an unknown rule id: the message names it"

# ============================================== what is scanned, what not ==

# Directories, recursively; .git is skipped (and only .git).
mkdir -p "$D/tree/a/b/c" "$D/tree/.git/refs" "$D/tree/.github/workflows" "$D/tree/sub/.git"
printf 'STRIPE_KEY: %s\n' "$STRIPE" >"$D/tree/a/b/c/deep.yml"
printf '[remote "origin"]\n\turl = https://x:%s@gitlab.acme.io/g/p.git\ntoken = %s\n' "$GLPAT" "$GLPAT" >"$D/tree/.git/config"
printf 'token: %s\n' "$GLPAT" >"$D/tree/sub/.git/FETCH_HEAD"
cat >"$D/tree/.github/workflows/ci.yml" <<EOF
jobs:
  publish:
    steps:
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: $NPM
EOF
printf 'nothing here\n' >"$D/tree/a/plain.txt"
lg_run tree scan --format json "$D/tree"
is "$RC" 1 "a tree: exit status 1"
is "$(jq -r '[.findings[].path] | sort | join(" ")' "$OUT")" \
	"$D/tree/.github/workflows/ci.yml $D/tree/a/b/c/deep.yml" \
	"a tree: found three levels down and in .github/, nothing from .git/ folders"
is "$(jq -r '.summary.files_scanned' "$OUT")" 3 "a tree: 3 files scanned (the .git/ folders are not entered)"

# Standard input.
printf 'export SENDGRID_API_KEY=%s\n' "$SENDGRID" >"$D/stdin.txt"
lg_run_in stdin "$D/stdin.txt" scan --format json -
is "$RC" 1 "standard input ('-'): exit status 1"
is "$(jq -r '[.findings[] | "\(.path):\(.line):\(.rule_id)"] | join(" ")' "$OUT")" "-:1:sendgrid-api-key" \
	"standard input: found, with '-' as its path"
lg_run_in stdin_clean "$D/clean/src/main.c" scan -
is "$RC" 0 "standard input without a secret: exit status 0"

# Several paths at once.
lg_run_in several "$D/stdin.txt" scan --format json "$D/one/app/config.py" "$D/tree/a" - "$D/clean"
is "$RC" 1 "several paths at once: exit status 1"
is "$(jq -r '[.findings[] | "\(.path):\(.rule_id)"] | join(" ")' "$OUT")" \
	"$D/one/app/config.py:github-pat-classic $D/tree/a/b/c/deep.yml:stripe-secret-key-live -:sendgrid-api-key" \
	"several paths at once: each is scanned, in the order given"
is "$(jq -r '.summary.files_scanned' "$OUT")" 6 "several paths at once: 6 files scanned (stdin counts as one)"

# Binary files.
mkdir -p "$D/bin"
{
	printf '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00'
	printf 'config token=%s\x00\x00' "$GHP"
} >"$D/bin/tool"
printf 'hello\n' >"$D/bin/readme.txt"
lg_run bin scan "$D/bin"
is "$RC" 1 "a binary file (NUL bytes) with a GitHub token: found, exit status 1"
contains "$OUT" "skipped $D/bin/tool: binary file: scanned for provider tokens and keys only (use --binary to scan it whole)" \
	"a binary file: reported as not scanned whole"
contains "$OUT" "1 skipped)" "a binary file: counted as skipped in the summary"
lg_run bin_json scan --format json "$D/bin"
is "$(jq -c '[.skipped[].path, .summary.skipped]' "$OUT")" "[\"$D/bin/tool\",1]" "a binary file: in the JSON 'skipped' list and count"
is "$(jq -r '[.findings[] | "\(.path):\(.rule_id)"] | join(" ")' "$OUT")" "$D/bin/tool:github-pat-classic" "a binary file: the structured token inside is found"
# A generic password in a binary file waits for --binary.
{
	printf '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00'
	printf '\ndb_password = "Vq7mKz2RtLp9XwNc4s"\n\x00\x00'
} >"$D/bin/tool"
lg_run bin_pw scan --format json "$D/bin"
is "$RC" 0 "a binary file with only a generic password: nothing found without --binary"
lg_run bin_scan scan --binary --format json "$D/bin"
is "$RC" 1 "--binary: the binary file is scanned whole, exit status 1"
is "$(jq -r '[.findings[] | "\(.path):\(.rule_id)"] | join(" ")' "$OUT")" "$D/bin/tool:generic-credential-assignment" "--binary: the password inside is found"
is "$(jq -r '.summary.skipped' "$OUT")" 0 "--binary: nothing is listed as skipped"

# A Git repository given as a folder: its objects are compressed, so a scan
# of its files would wrongly say "nothing found"; it is an error instead.
git init -q "$D/gitwork" && printf 'token=%s\n' "$GHP" >"$D/gitwork/conf.txt"
git -C "$D/gitwork" add conf.txt && git -C "$D/gitwork" -c user.name=t -c user.email=t@example.com commit -q -m c
git clone -q --bare "$D/gitwork" "$D/gitbare.git"
rm -f "$D/gitwork/conf.txt"
lg_run gitbare scan "$D/gitbare.git"
is "$RC" 2 "a bare repository: exit status 2, not a clean result"
contains "$OUT" "is a Git repository" "a bare repository: says what it is"
contains "$OUT" "to scan its history, run: leakgate scan --git $D/gitbare.git" "a bare repository: says how to scan its history"
lg_run gitdot scan "$D/gitwork/.git"
is "$RC" 2 "a .git folder: exit status 2"
mkdir -p "$D/hosting/group" && mv "$D/gitbare.git" "$D/hosting/group/app.git"
lg_run githost scan "$D/hosting"
is "$RC" 2 "a folder of bare repositories (a hosting root): exit status 2"
contains "$OUT" "hosting/group/app.git: is a Git repository" "each repository inside is named"
mv "$D/hosting/group/app.git" "$D/gitbare.git" && rm -rf "$D/hosting"
lg_run gitwork scan "$D/gitwork"
is "$RC" 0 "a working tree is scanned as files (.git skipped): the deleted file's secret is not there"
lacks "$OUT" "is a Git repository" "a working tree is not an error"
rm -rf "$D/gitwork" "$D/gitbare.git"

# UTF-16 text (a byte-order mark) is scanned as the text it stands for.
mkdir -p "$D/u16"
printf 'Write-Host "d\xc3\xa9ploiement \xf0\x9f\x98\x80"\r\n# settings\r\n$env:AWS_ACCESS_KEY_ID = "%s"\r\n' "$BIG2" |
	iconv -f UTF-8 -t UTF-16LE | { printf '\xff\xfe'; cat; } >"$D/u16/deploy.ps1"
printf 'a\nb\n\ntoken=%s\n' "$STRIPE" | iconv -f UTF-8 -t UTF-16BE | { printf '\xfe\xff'; cat; } >"$D/u16/be.txt"
# Without a byte-order mark: no way to tell it from binary data; skipped as binary.
printf 'token=%s\n' "$GLPAT" | iconv -f UTF-8 -t UTF-16LE >"$D/u16/nobom.txt"
lg_run u16 scan --format json "$D/u16"
is "$RC" 1 "UTF-16 files: secrets found, exit status 1"
is "$(jq -r '[.findings[] | "\(.path | sub(".*/"; "")):\(.line):\(.rule_id)"] | sort | join(" ")' "$OUT")" \
	"be.txt:4:stripe-secret-key-live deploy.ps1:3:aws-access-key-id" \
	"UTF-16LE and UTF-16BE with a byte-order mark: each secret on its line of the text"
is "$(jq -r '[.skipped[].path | sub(".*/"; "")] | join(" ")' "$OUT")" "nobom.txt" \
	"UTF-16 without a byte-order mark: skipped as binary (reported)"
# Long, through a pipe in odd-sized pieces: code units and surrogate pairs
# cut between reads, the secret on the last line.
{
	printf '\xff\xfe'
	i=0
	while [ $i -lt 3000 ]; do
		printf 'line %d \xf0\x9f\x98\x80 \xe2\x82\xac caf\xc3\xa9 %s\n' $i "$(printf '%060d' $i)"
		i=$((i + 1))
	done | iconv -f UTF-8 -t UTF-16LE
	printf 'key = %s\n' "$BIG1" | iconv -f UTF-8 -t UTF-16LE
} >"$D/u16-long.txt"
dd if="$D/u16-long.txt" bs=333 2>/dev/null | {
	OUT=$T/log/u16pipe.out
	timeout 120 "$LG" scan --format json - >"$OUT" 2>"$T/log/u16pipe.err"
	echo $? >"$T/log/u16pipe.rc"
}
OUT=$T/log/u16pipe.out
is "$(cat "$T/log/u16pipe.rc") $(jq -r '[.findings[] | "\(.line):\(.rule_id)"] | join(" ")' "$OUT")" \
	"1 3001:github-pat-classic" "a long UTF-16 file read from a pipe in 333-byte pieces: the secret on line 3001"

# Symbolic links inside a tree are not followed; FIFOs are not opened.
mkdir -p "$D/links/tree/real" "$D/links/outside"
printf 'aws_access_key_id = %s\naws_secret_access_key = %s\n' "$AWS_ID" "$AWS_SECRET" >"$D/links/outside/creds.ini"
printf 'clean\n' >"$D/links/tree/real/notes.txt"
ln -s ../outside/creds.ini "$D/links/tree/creds.ini"
ln -s ../outside "$D/links/tree/outside-dir"
ln -s . "$D/links/tree/loop"
ln -s /nonexistent/target "$D/links/tree/dangling"
mkfifo "$D/links/tree/pipe"
lg_run links scan --format json "$D/links/tree"
is "$RC" 0 "symlinks (to a file, to a folder, a loop, a dangling one) and a FIFO inside a tree: not followed, exit status 0"
is "$(jq -c '[(.findings | length), .summary.files_scanned, .summary.errors]' "$OUT")" "[0,1,0]" \
	"symlinks inside a tree: only the real file is scanned, no error"
lg_run link_arg scan "$D/links/tree/creds.ini"
is "$RC" 1 "a symlink named on the command line is followed (the user asked for it)"

# Large files: streamed, found completely, memory bounded.
big=$T/big/big.log
mkdir -p "$T/big"
filler='2024-06-11T10:00:00Z INFO request served in 12 ms path=/api/v1/items status=200'
pre2='aws_key: '
{
	printf 'boot\nGITHUB_TOKEN=%s\n' "$BIG1"
} >"$big"
cur=$(stat -c %s "$big")
# BIG2 starts 10 bytes before the 1 MiB mark, so it spans two reads.
pad=$((1048576 - 10 - ${#pre2} - cur - 1))
yes "$filler" | head -c "$pad" >>"$big"
printf '\n%s%s\n' "$pre2" "$BIG2" >>"$big"
cur=$(stat -c %s "$big")
yes "$filler" | head -c $((300000000 - cur - 40)) >>"$big"
printf '\nSTRIPE_SECRET_KEY=%s' "$BIG3" >>"$big" # the very end, no newline
size=$(stat -c %s "$big")
off2=$((1048576 - 10))
line2=$(($(head -c "$off2" "$big" | wc -l) + 1))
line3=$(($(wc -l <"$big") + 1))
off3=$((size - ${#BIG3}))
if [ ! -x /usr/bin/time ]; then
	fail "/usr/bin/time is missing (Debian package 'time'): cannot measure peak memory"
	RC=none
else
	OUT=$T/log/big.out
	/usr/bin/time -f %M -o "$T/big/rss" timeout 120 "$LG" scan --format json "$big" >"$OUT" 2>"$T/log/big.err"
	RC=$?
	rss_kb=$(tail -1 "$T/big/rss")
fi
if [ "$RC" != none ]; then
	is "$RC" 1 "a $((size / 1000000)) MB file: exit status 1"
	is "$(jq -r '[.findings[] | "\(.rule_id):\(.line):\(.column):\(.offset):\(.length)"] | join(" ")' "$OUT")" \
		"github-pat-classic:2:14:18:${#BIG1} aws-access-key-id:$line2:$((${#pre2} + 1)):$off2:${#BIG2} stripe-secret-key-live:$line3:19:$off3:${#BIG3}" \
		"a $((size / 1000000)) MB file: the secret near the start, the one across the 1 MiB mark and the one at the very end, exactly once each"
	is "$(jq -r '.summary.bytes_scanned' "$OUT")" "$size" "a large file: every byte scanned"
	[ "${rss_kb:-999999}" -lt 65536 ]
	ok $? "a $((size / 1000000)) MB file: peak RSS ${rss_kb:-?} kB, under 64 MB (streamed, not read whole)"
fi
rm -rf "$T/big"

# --max-size: only the start of each file.
mkdir -p "$D/max"
{
	printf 'token: %s\n' "$GLPAT"
	yes "$filler" | head -c 600000
	printf '\nSTRIPE_KEY=%s\n' "$STRIPE"
} >"$D/max/app.log"
lg_run maxsize scan --format json --max-size 300000 "$D/max/app.log"
is "$RC" 1 "--max-size: exit status 1 (the secret in the start is found)"
is "$(jq -r '[.findings[].rule_id] | join(" ")' "$OUT")" "gitlab-pat" "--max-size: the secret past the limit is not looked at"
is "$(jq -r '.skipped[0].message' "$OUT")" "larger than --max-size; scanned the start only" "--max-size: the cut is reported"

# Paths with spaces and unicode.
mkdir -p "$D/odd/Mes documents/été 2024"
oddf="$D/odd/Mes documents/été 2024/clés – prod.yml"
printf 'slack:\n  bot: %s\n' "$SLACK" >"$oddf"
lg_run odd scan "$D/odd"
is "$RC" 1 "a path with spaces and unicode: exit status 1"
contains "$OUT" "$oddf:2:8: Slack bot token [high]" "a path with spaces and unicode: printed as is, with line and column"
lg_run odd_json scan --format json "$D/odd"
is "$(jq -r '.findings[0].path' "$OUT")" "$oddf" "a path with spaces and unicode: exact in JSON"

# ================================================================= rules ==

mkdir -p "$D/mixed"
cat >"$D/mixed/release.sh" <<EOF
#!/bin/sh
set -eu
curl -fsS https://api.stripe.com/v1/refunds -u $STRIPE: -d charge="\$1"
curl -fsS -u deploy:$ACME -T dist/app.tar.gz https://store.acme.io/upload/
EOF
lg_run builtin_only scan --format json "$D/mixed"
is "$(jq -r '[.findings[].rule_id] | join(" ")' "$OUT")" "stripe-secret-key-live curl-user-password" "built-in rules: the Stripe key is found, the ACME token only as a curl -u password (no rule of its own)"
lg_run with_pack scan --format json --rules "$D/packs/acme.json" "$D/mixed"
is "$(jq -r '[.findings[].rule_id] | join(" ")' "$OUT")" "stripe-secret-key-live acme-deploy-token" "--rules PACK adds to the built-in rules"
lg_run pack_only scan --format json --no-builtin --rules "$D/packs/acme.json" "$D/mixed"
is "$RC" 1 "--no-builtin --rules PACK: exit status 1"
is "$(jq -r '[.findings[].rule_id] | join(" ")' "$OUT")" "acme-deploy-token" "--no-builtin --rules PACK: only the pack's rule is used"
mkdir -p "$D/packdir"
cp "$D/packs/acme.json" "$D/packdir/"
printf 'not a pack, and not *.json\n' >"$D/packdir/README.md"
lg_run pack_dir scan --format json --no-builtin --rules "$D/packdir" "$D/mixed"
is "$(jq -r '[.findings[].rule_id] | join(" ")' "$OUT")" "acme-deploy-token" "--rules DIR reads the *.json packs in a folder"
lg_run disable scan --format json --disable stripe-secret-key-live --rules "$D/packs/acme.json" "$D/mixed"
is "$(jq -r '[.findings[].rule_id] | join(" ")' "$OUT")" "acme-deploy-token" "--disable ID turns that rule off, the others stay"
lg_run disable2 scan --format json --disable stripe-secret-key-live --disable acme-deploy-token --disable curl-user-password --rules "$D/packs/acme.json" "$D/mixed"
is "$RC" 0 "--disable three times: all three rules off, exit status 0"

lg_run check_ok rules check "$D/packs/acme.json"
is "$RC" 0 "rules check on a valid pack: exit status 0"
contains "$OUT" "ok: 1 rules, 4 examples pass" "rules check on a valid pack: says how many rules and examples"
lg_run check_example rules check "$D/packs/example.json"
is "$RC" 1 "rules check with a failing example: exit status 1"
contains "$ERR" "rule 'acme-deploy-token': field 'examples[0]'" "rules check with a failing example: names the rule id and the example"
lg_run check_typo rules check "$D/packs/typo.json"
is "$RC" 1 "rules check on a pack with an unknown field: exit status 1"
contains "$ERR" "rule 'acme-deploy-token': field 'min_entopy'" "rules check on a pack with an unknown field: names the rule id and the field"
lg_run check_builtin rules check "$RULES_DIR"
is "$RC" 0 "rules check on the built-in packs: exit status 0"

lg_run list rules list --json
is "$RC" 0 "rules list --json: exit status 0"
jq -e 'type == "array" and length >= 60 and all(.[]; (.id | type) == "string" and (.name | type) == "string"
	and (.severity | IN("critical", "high", "medium", "low")) and (.pack | type) == "string"
	and (.description | type) == "string")' "$OUT" >/dev/null
ok $? "rules list --json: an array of $(jq length "$OUT" 2>/dev/null) rules with id, name, severity, pack, description"
is "$(jq -r '[.[].id] | length == (unique | length)' "$OUT")" true "rules list --json: ids are unique"
lg_run list_pack rules list --json --no-builtin --rules "$D/packs/acme.json"
is "$(jq -c '[.[] | [.id, .pack]]' "$OUT")" '[["acme-deploy-token","acme"]]' "rules list --json --no-builtin --rules PACK: only the pack's rule"

# ========================================================== text report ==

cat >"$D/one/app/settings.yml" <<EOF
# settings for the worker
worker:
  queue: orders
  slack_token: $SLACK
EOF
lg_run text scan "$D/one/app"
is "$RC" 1 "text report: exit status 1"
lg_run text_json scan --format json "$D/one/app"
for id in github-pat-classic slack-bot-token; do
	j=$(jq -c --arg id "$id" '.findings[] | select(.rule_id == $id)' "$OUT")
	path=$(jq -r .path <<<"$j")
	line=$(jq -r .line <<<"$j")
	col=$(jq -r .column <<<"$j")
	preview=$(jq -r .preview <<<"$j")
	fp=$(jq -r .fingerprint <<<"$j")
	name=$(rule_field "$id" name)
	sev=$(rule_field "$id" severity)
	rem=$(rule_field "$id" remediation)
	txt=$T/log/text.out
	contains "$txt" "$path:$line:$col: $name [$sev]" "text report, $id: path:line:column, rule name and severity"
	contains "$txt" "    secret       $preview" "text report, $id: the redacted preview"
	contains "$txt" "    fingerprint  $fp" "text report, $id: the fingerprint"
	contains "$txt" "    rule         $id" "text report, $id: the rule id"
	contains "$txt" "  $name: $rem" "text report, $id: the remediation, under 'What to do'"
done
is "$(jq -r '.findings[] | select(.rule_id == "github-pat-classic") | "\(.line):\(.column)"' "$OUT")" "4:17" \
	"text report: the GitHub token is at line 4, column 17"
contains "$T/log/text.out" "leakgate: 2 secrets found in 2 files (2 files scanned" "text report: the summary line counts secrets and files"
[[ $(jq -r '.findings[] | select(.rule_id == "github-pat-classic") | .preview' "$OUT") =~ ^ghp_bB\*+cw$ ]]
ok $? "text report: the preview keeps a short head and tail and stars the rest (ghp_bB***cw)"

# Path rules: the file itself is the finding.
mkdir -p "$D/pathrule/infra"
printf '{\n  "version": 4,\n  "terraform_version": "1.8.5",\n  "resources": []\n}\n' >"$D/pathrule/infra/terraform.tfstate"
lg_run pathrule scan "$D/pathrule"
is "$RC" 1 "a path rule (terraform.tfstate): exit status 1"
contains "$OUT" "$D/pathrule/infra/terraform.tfstate: $(rule_field terraform-state-file name) [$(rule_field terraform-state-file severity)] (the file itself)" \
	"a path rule: the text report says the file itself is the finding"
lg_run pathrule_json scan --format json "$D/pathrule"
is "$(jq -c '.findings[0] | [.rule_id, .line, .kind]' "$OUT")" '["terraform-state-file",null,"path"]' \
	"a path rule in JSON: line null, kind \"path\""

# --output FILE.
lg_run output scan --format json --output "$T/report.json" "$D/one/app"
is "$RC" 1 "--output FILE: exit status 1"
is "$(wc -c <"$OUT")" 0 "--output FILE: nothing on stdout"
jq -e '.summary.findings == 2' "$T/report.json" >/dev/null
ok $? "--output FILE: the report is in the file"
cp "$T/report.json" "$T/log/output-file.json"

# ========================================================== JSON report ==

mkdir -p "$D/json/config" "$D/json/scripts"
cat >"$D/json/config/app.yml" <<EOF
server:
  port: 8080
integrations:
  sendgrid:
    api_key: "$SENDGRID"
  gitlab:
    token: $GLPAT
EOF
cat >"$D/json/scripts/publish.sh" <<EOF
#!/bin/sh
# Publishes the package.
printf '//registry.npmjs.org/:_authToken=%s\n' '$NPM' > ~/.npmrc
npm publish
EOF
cat >"$D/json/scripts/creds.csv" <<EOF
User name,Access key ID,Secret access key
deploy,$AWS_ID,$AWS_SECRET
EOF
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' >"$D/json/logo.png"
lg_run json scan --format json "$D/json"
is "$RC" 1 "JSON report: exit status 1"
jq -e . "$OUT" >/dev/null
ok $? "JSON report: valid JSON"
jq -e '.tool == "leakgate" and (.version | type) == "string" and (.ruleset | test("^[0-9a-f]{16,}$"))
	and (.findings | type) == "array" and (.errors | type) == "array" and (.skipped | type) == "array"' "$OUT" >/dev/null
ok $? "JSON report: tool, version, ruleset hash, findings, errors, skipped"
jq -e '(.findings | length) >= 4 and all(.findings[];
	(.rule_id | type) == "string" and (.rule_name | type) == "string"
	and (.severity | IN("critical", "high", "medium", "low")) and (.path | type) == "string"
	and (.line | type) == "number" and .line >= 1 and (.column | type) == "number" and .column >= 1
	and (.end_line | type) == "number" and .end_line >= .line
	and (.end_column | type) == "number" and (.offset | type) == "number" and .offset >= 0
	and (.length | type) == "number" and .length > 0 and (.preview | type) == "string"
	and (.fingerprint | test("^[0-9a-f]{32}$")) and (.remediation | type) == "string")' "$OUT" >/dev/null
ok $? "JSON report: every finding has rule_id, rule_name, severity, path, line, column, end_line, end_column, offset, length, preview, fingerprint, remediation" ||
	diag_file "$OUT" 60
# offset and length point at exactly the secret; line and column too.
planted=" $NPM $AWS_ID $AWS_SECRET $SENDGRID $GLPAT "
bad=0
while IFS=$'\t' read -r path line col ecol off len id; do
	val=$(tail -c +$((off + 1)) "$path" | head -c "$len")
	at=$(sed -n "${line}p" "$path" | tail -c +"$col" | head -c "$len")
	if [[ "$planted" != *" $val "* ]] || [ "$at" != "$val" ] || [ "$ecol" != $((col + len - 1)) ]; then
		bad=1
		diag "  $id at $path:$line:$col (offset $off, length $len, end_column $ecol) does not point at a planted secret"
	fi
done < <(jq -r '.findings[] | [.path, .line, .column, .end_column, .offset, .length, .rule_id] | @tsv' "$OUT")
ok $bad "JSON report: offset/length and line/column/end_column point exactly at a planted secret"
is "$(jq -r '[.findings[] | "\(.path | sub(".*/json/"; "")):\(.line):\(.rule_id)"] | join(" ")' "$OUT")" \
	"config/app.yml:5:sendgrid-api-key config/app.yml:7:gitlab-pat scripts/creds.csv:2:aws-access-key-id scripts/creds.csv:2:aws-access-key-pair scripts/publish.sh:3:npm-access-token" \
	"JSON report: the findings, in path and line order"
is "$(jq -c '.summary' "$OUT")" \
	"{\"findings\":5,\"files_scanned\":4,\"bytes_scanned\":$(cat "$D/json/config/app.yml" "$D/json/scripts/publish.sh" "$D/json/scripts/creds.csv" "$D/json/logo.png" | wc -c),\"skipped\":1,\"errors\":0}" \
	"JSON report: summary counts (findings, files, bytes, skipped: the binary file, read for structured tokens only, errors)"
jq -e --slurpfile rules <(jq -s '[.[].rules[]] | map({(.id): .}) | add' "$RULES_DIR"/*.json) \
	'all(.findings[]; . as $f | $rules[0][$f.rule_id] as $r
	| $r.name == $f.rule_name and $r.severity == $f.severity and $r.remediation == $f.remediation)' "$OUT" >/dev/null
ok $? "JSON report: rule_name, severity and remediation are the rule's"
lg_run json_err scan --format json "$D/json/config" "$D/json/nothing-here"
is "$RC" 2 "JSON report with an error: exit status 2"
jq -e --arg p "$D/json/nothing-here" '.summary.errors == 1 and .errors[0].path == $p
	and (.errors[0].message | test("cannot read")) and .summary.findings == 2' "$OUT" >/dev/null
ok $? "JSON report with an error: still valid, the error listed and counted, the findings kept"

# =========================================================== fingerprints ==

lg_run fp1 scan --format json "$D/json"
lg_run fp2 scan --format json "$D/json"
fp1=$(jq -r '[.findings[].fingerprint] | join(" ")' "$T/log/fp1.out")
fp2=$(jq -r '[.findings[].fingerprint] | join(" ")' "$T/log/fp2.out")
is "$fp2" "$fp1" "fingerprints are the same from one run to the next (same key file)"
is "$(jq -r '[.findings[].fingerprint] | unique | length' "$T/log/fp1.out")" 5 "fingerprints differ from one secret to another"
LEAKGATE_KEY_FILE=$T/keys/other.key lg_run fp3 scan --format json "$D/json"
fp3=$(jq -r '[.findings[].fingerprint] | join(" ")' "$T/log/fp3.out")
is "$(jq -r '[.findings[].preview] | join(" ")' "$T/log/fp3.out")" "$(jq -r '[.findings[].preview] | join(" ")' "$T/log/fp1.out")" \
	"another key: the same findings"
[ -n "$fp3" ] && [ "$(comm -12 <(tr ' ' '\n' <<<"$fp1" | sort) <(tr ' ' '\n' <<<"$fp3" | sort) | wc -l)" = 0 ]
ok $? "another key: every fingerprint differs"
[ -f "$T/keys/other.key" ] && [ "$(stat -c %a "$T/keys/other.key")" = 600 ]
ok $? "a missing key file is created, readable by its owner only (mode $(stat -c %a "$T/keys/other.key" 2>/dev/null))"
LEAKGATE_KEY_FILE=$T/keys/other.key lg_run fp4 scan --format json "$D/json"
is "$(jq -r '[.findings[].fingerprint] | join(" ")' "$T/log/fp4.out")" "$fp3" "the created key is used again on the next run"
printf 'export SENDGRID_API_KEY=%s\n' "$SENDGRID" >"$D/json/moved.env.txt"
lg_run fp5 scan --format json "$D/json/moved.env.txt"
is "$(jq -r '.findings[0].fingerprint' "$T/log/fp5.out")" \
	"$(jq -r '.findings[] | select(.rule_id == "sendgrid-api-key") | .fingerprint' "$T/log/fp1.out")" \
	"a fingerprint depends on rule and secret, not on where the secret is"

# ============================================ no raw secret, ever, anywhere ==

for s in $SECRETS; do
	no_secret_in_logs "${!s}" "no output of any run ($(ls "$T/log" | wc -l) files) holds the raw $s secret"
done

done_testing
