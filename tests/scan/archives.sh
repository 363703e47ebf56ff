#!/bin/bash
# `leakgate scan` on archives (zip, jar, tar.gz, .gz, nested) and on
# secrets in encodings (base64, percent-encoding, escaped and
# concatenated strings): what is found, how it is named in the text,
# JSON and SARIF reports, the options that turn each off, and what is
# left alone. TAP.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # make check runs it with $(SHELL)
. "$(dirname "$0")/lib.sh"

command -v zip >/dev/null 2>&1 || bail "zip is needed (Debian package zip)"

GHP=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
AWS_ID=AKIANCW63OCBK3VFZRRR
PASSWORD=aWPPyOWF74MguQG3JS
D=$T/data
mkdir -p "$D/src/conf" "$D/a"

# ---- archives ----
{ for i in 1 2 3 4 5 6 7 8; do printf '# settings of the service, part %s\n' "$i"; done
  printf 'aws_access_key_id = %s\n' "$AWS_ID"; } >"$D/src/conf/app.properties"
{ for i in 1 2 3 4 5 6 7 8; do printf '# the token of the build, part %s\n' "$i"; done
  printf 'github.token=%s\n' "$GHP"; } >"$D/src/token.txt"
(cd "$D/src" && zip -q -r "$D/a/bundle.zip" conf && zip -q "$D/lib.jar" token.txt)
mkdir -p "$D/src/lib" && cp "$D/lib.jar" "$D/src/lib/"
(cd "$D/src" && zip -q -r "$D/a/dist.zip" lib)
tar -C "$D/src" -czf "$D/a/release.tgz" conf
gzip -c "$D/src/conf/app.properties" >"$D/a/app.properties.gz"

lg_run arch scan "$D/a"
is "$RC" 1 "secrets in archives: exit 1"
contains "$OUT" "bundle.zip!conf/app.properties:9:21: AWS access key ID" "a zip member is named after its archive, with its line"
contains "$OUT" "dist.zip!lib/lib.jar!token.txt:9" "a jar inside a zip: the whole chain"
contains "$OUT" "release.tgz!conf/app.properties:9" "a tar.gz member"
contains "$OUT" "app.properties.gz!app.properties:9" "the content of a .gz, named after it"
lacks "$OUT" "binary file" "archives are not reported as binary files"

lg_run archj scan --format json "$D/a"
is "$(jq -r '[.findings[] | select(.path | endswith("dist.zip")) | .member][0]' "$OUT")" "lib/lib.jar!token.txt" "JSON: member"
is "$(jq -r '[.findings[] | select(.path | endswith("bundle.zip")) | .line][0]' "$OUT")" 9 "JSON: the line in the member"
lg_run archs scan --format sarif "$D/a/bundle.zip"
is "$(jq -r '.runs[0].results[0].properties.member' "$OUT")" "conf/app.properties" "SARIF: the member in the result's properties"
contains "$OUT" "in archive member conf/app.properties" "SARIF: and in its message"

lg_run depth0 scan --archive-depth 0 "$D/a/bundle.zip"
is "$RC" 0 "--archive-depth 0: archives are not opened (the deflated key is not seen)"
contains "$OUT" "binary file" "and the zip is scanned as a binary file"
lg_run depth1 scan --archive-depth 1 "$D/a/dist.zip"
is "$RC" 0 "--archive-depth 1: the jar inside is not opened"
contains "$OUT" "nested deeper than 1" "and the report says so"
lg_run depthx scan --archive-depth deep "$D/a/dist.zip"
is "$RC" 2 "--archive-depth with a word: exit 2"
contains "$ERR" "--archive-depth needs a number" "with a clear error"

# Over the limits: the scan is incomplete (exit 2), and says which limit.
head -c 3000000 /dev/zero >"$D/zeros.bin"
(cd "$D" && zip -q "$D/bomb.zip" zeros.bin)
lg_run bomb scan --max-archive-size 1000000 "$D/bomb.zip"
is "$RC" 2 "--max-archive-size: an archive that inflates past it is not checked whole: exit 2"
contains "$OUT" "maxArchiveSize" "the report names the limit"
lg_run bombok scan "$D/bomb.zip"
is "$RC" 0 "under the default limit it is checked: exit 0"
(cd "$D/src" && zip -q "$D/two.zip" conf/app.properties token.txt)
lg_run members scan --max-archive-members 1 "$D/two.zip"
is "$RC" 2 "--max-archive-members 1 on a zip of two files: exit 2"
contains "$OUT" "maxArchiveMembers" "the report names the limit"
lg_run badsize scan --max-archive-size -5 "$D/a/bundle.zip"
is "$RC" 2 "--max-archive-size -5: exit 2"
contains "$ERR" "--max-archive-size needs a positive number" "with a clear error"

# A damaged archive: what can be read is scanned, and the report says so.
head -c 60000 /dev/urandom >"$D/src/noise.bin"
(cd "$D/src" && zip -q -0 "$D/cut-full.zip" conf/app.properties noise.bin)
head -c 30000 "$D/cut-full.zip" >"$D/cut.zip"
lg_run cut scan "$D/cut.zip"
is "$RC" 1 "a truncated zip: the key in its first member is found"
contains "$OUT" "cut.zip!conf/app.properties:9" "in that member"
contains "$OUT" "damaged" "and the damage is reported"

# A clean archive.
printf 'version=1.0\n' >"$D/src/version.txt"
(cd "$D/src" && zip -q "$D/clean.jar" version.txt noise.bin)
lg_run cleanjar scan "$D/clean.jar"
is "$RC" 0 "a clean jar: exit 0"

# ---- encodings ----
mkdir -p "$D/e"
printf 'kind: ConfigMap\ndata:\n  cfg: %s\n' "$(printf 'aws_access_key_id = %s\n' "$AWS_ID" | base64 -w0)" >"$D/e/cm.yaml"
printf '{"settings": "{\\"db\\": {\\"password\\": \\"%s\\"}}"}\n' "$PASSWORD" >"$D/e/nested.json"
printf 'curl "https://h.test/x?cfg=%s"\n' "$(printf '{"password":"%s"}' "$PASSWORD" | jq -sRr @uri)" >"$D/e/call.sh"
lg_run enc scan "$D/e"
is "$RC" 1 "secrets in encodings: exit 1"
contains "$OUT" "cm.yaml:3:" "base64: the line of the encoded text"
contains "$OUT" "encoded      base64" "base64: the encoding is named"
contains "$OUT" "nested.json:1:" "JSON in a JSON string"
contains "$OUT" "encoded      escaped string" "escaped string: named"
contains "$OUT" "call.sh:1:" "percent-encoded JSON"
contains "$OUT" "encoded      percent-encoding" "percent-encoding: named"
lg_run encj scan --format json "$D/e/cm.yaml"
is "$(jq -r '.findings[0].encoding' "$OUT")" base64 "JSON: encoding"
is "$(jq -r '.findings[0].rule_id' "$OUT")" aws-access-key-id "JSON: the rule of the decoded secret"
lg_run nodec scan --no-decode "$D/e/cm.yaml"
is "$RC" 0 "--no-decode: the base64 is not decoded"

{
	printf 'greeting: %s\n' "$(printf 'Hello, this is only a friendly sentence about nothing.' | base64 -w0)"
	printf 'logo: data:image/png;base64,%s\n' "$(head -c 600 /dev/urandom | base64 -w0)"
	printf 'name: this_is_a_rather_long_identifier_name_for_testing\n'
	printf 'msg: "line one\\nline two\\n"\n'
} >"$D/clean.yaml"
lg_run encclean scan "$D/clean.yaml"
is "$RC" 0 "encoded text without secrets: exit 0"

for s in GHP AWS_ID PASSWORD; do
	no_secret_in_logs "${!s}" "no output holds the raw $s"
done

done_testing
