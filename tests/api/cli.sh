#!/bin/sh
# The admin side of the leakgate command on the state database the hook
# uses: rules (add, list --server, disable, enable, remove), exemptions
# (add, list, remove) and events (filters, pages, --json), each change
# checked by a real push; a running leakgated picks up rule changes on
# SIGHUP. Bad arguments: exit status 2 and a message, nothing changed.
. "$(dirname "$0")/lib.sh"

# lgc NAME ARGS...: leakgate ARGS --db $DB; status in $rc, output in
# $T/NAME.out and $T/NAME.err.
lgc() {
	_n=$1
	shift
	"$LG" "$@" --db "$DB" >"$T/$_n.out" 2>"$T/$_n.err"
	rc=$?
}

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
push_file "$T/c" README.md "hello"
is "$rc" 0 "a clean push is accepted"
BASE=$(rev "$SRV" main)

# ---------------------------------------------------------------- rules
cat >"$T/acme.json" <<'EOF'
{"rules": [{"id": "acme-internal", "name": "ACME internal token",
  "description": "A token format made up for the CLI tests.", "severity": "high",
  "pattern": "\\b(acme_[a-z0-9]{24})\\b", "secret_group": 1,
  "remediation": "Revoke the token in the ACME console.",
  "examples": ["token = acme_q8x2m4k9z7w3v5t1r6y0p2n8", "ACME=acme_7h3k9m2q5w8z1x4c6v0b3n7m"],
  "negative_examples": ["acme_short123", "token = acme_Q8X2M4K9Z7W3V5T1R6Y0P2N8"]}]}
EOF
lgc add rules add "$T/acme.json"
is "$rc" 0 "rules add: exit 0"
contains "$T/add.out" "acme-internal" "rules add names the rule it stored"
lgc list rules list --server
is "$rc" 0 "rules list --server: exit 0"
matches "$T/list.out" '^acme-internal +high +custom +enabled ' "the custom rule is listed as custom, enabled"
matches "$T/list.out" '^aws-access-key-id +critical +builtin +enabled ' "a built-in rule is listed as built-in, enabled"
lgc listj rules list --server --json
jq_ok '[.[] | select(.id == "acme-internal")][0] | .source == "custom" and .enabled == true' "$T/listj.out"
ok $? "rules list --server --json: source and enabled"
nrules=$(jq length "$T/listj.out")
is "$nrules" "$(($("$LG" rules list --json | jq length) + 1))" "the server has the built-in rules plus the custom one"

commit_file "$T/c" acme.txt "token = acme_$(rand_chars 'a-z0-9' 24)" "acme token"
push "$T/c" origin HEAD:main
isnt "$rc" 0 "the next push uses the custom rule: rejected"
contains "$OUT" "ACME internal token" "the rejection names it"
drop_last "$T/c"

# A pack with a problem is refused whole, with the problem named; nothing is stored.
sed 's/acme-internal/acme-two/; s/acme_q8x2m4k9z7w3v5t1r6y0p2n8/nothing-here/' "$T/acme.json" >"$T/bad.json"
lgc bad rules add "$T/bad.json"
isnt "$rc" 0 "rules add with an example that does not match: refused"
contains "$T/bad.err" "acme-two" "the message names the rule"
lgc list2 rules list --server --json
is "$(jq length "$T/list2.out")" "$nrules" "nothing was stored"
printf 'not json' >"$T/junk.json"
lgc junk rules add "$T/junk.json"
isnt "$rc" 0 "rules add with a file that is not JSON: refused"
contains "$T/junk.err" "not valid JSON" "and says so"

lgc dis rules disable aws-access-key-id
is "$rc" 0 "rules disable aws-access-key-id: exit 0"
lgc list3 rules list --server
matches "$T/list3.out" '^aws-access-key-id +critical +builtin +disabled ' "listed as disabled"
matches "$T/list3.out" '1 disabled' "the summary counts it"
commit_file "$T/c" id.txt "AKIA id only: $(fake_aws_key)" "aws key id"
push "$T/c" origin HEAD:main
lacks "$OUT" "AWS access key ID" "a disabled rule is not reported by the next push"
git -C "$T/c" push -q --force origin "$BASE:main" 2>/dev/null
git -C "$SRV" update-ref refs/heads/main "$BASE"
git -C "$T/c" reset -q --hard "$BASE"
lgc en rules enable aws-access-key-id
is "$rc" 0 "rules enable: exit 0"
commit_file "$T/c" id2.txt "AKIA id only: $(fake_aws_key)" "aws key id again"
push "$T/c" origin HEAD:main
contains "$OUT" "AWS access key ID" "enabled again: the next push reports it"
drop_last "$T/c"
lgc dis2 rules disable no-such-rule
isnt "$rc" 0 "rules disable of an unknown id: refused"
contains "$T/dis2.err" "no-such-rule" "and names it"
lgc rm1 rules remove aws-access-key-id
isnt "$rc" 0 "rules remove of a built-in rule: refused (disable it instead)"

# A running daemon reloads on SIGHUP.
ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"
start_daemon || bail "leakgated did not start"
lgc dis3 rules disable jwt
kill -HUP "$LGD_PID"
_w=0
while [ $_w -lt 600 ]; do
	rget /api/v1/rules/jwt
	[ "$(jr .enabled)" = false ] && break
	sleep 0.1
	_w=$((_w + 1))
done
jis .enabled false "after rules disable and SIGHUP, leakgated shows jwt disabled"
rget /api/v1/rules/acme-internal
jis .source custom "leakgated lists the rule added with the CLI as custom"
lgc rm2 rules remove acme-internal
is "$rc" 0 "rules remove of the custom rule: exit 0"
kill -HUP "$LGD_PID"
_w=0
while [ $_w -lt 600 ]; do
	rget /api/v1/rules/acme-internal
	[ "$code" = 404 ] && break
	sleep 0.1
	_w=$((_w + 1))
done
status_is 404 "after rules remove and SIGHUP, leakgated no longer has it"
lgc list4 rules list --server
lacks "$T/list4.out" "acme-internal" "rules list --server no longer lists it"

# ---------------------------------------------------------------- exemptions
key=$(fake_aws_key)
commit_file "$T/c" deploy.env "AWS_ACCESS_KEY_ID=$key" "deploy key"
push "$T/c" origin HEAD:main
isnt "$rc" 0 "a leaking push is rejected"
fp=$(fingerprint_of "$OUT")
[ -n "$fp" ]
ok $? "the rejection gives a fingerprint"
lgc ex1 exemptions add --fingerprint "$fp" --reason "rotated; test account"
is "$rc" 0 "exemptions add --fingerprint: exit 0"
exid=$(sed -n 's/^added exemption #\([0-9]*\).*/\1/p' "$T/ex1.out")
[ -n "$exid" ]
ok $? "it prints the new exemption's id ($exid)"
push "$T/c" origin HEAD:main
is "$rc" 0 "the same push now goes through"
is "$(ev_last kind)" exempted "the event is 'exempted'"
lgc exl exemptions list
contains "$T/exl.out" "#$exid" "exemptions list shows it"
contains "$T/exl.out" "rotated; test account" "with its reason"
lgc exlj exemptions list --json
jq_ok --arg fp "$fp" 'any(.[]; .fingerprint == $fp)' "$T/exlj.out"
ok $? "exemptions list --json has the fingerprint"
lgc ex2 exemptions add --fingerprint "$fp"
is "$rc" 2 "exemptions add without --reason: exit 2"
lgc exrm exemptions remove "$exid"
is "$rc" 0 "exemptions remove: exit 0"
lgc exrm2 exemptions remove "$exid"
isnt "$rc" 0 "removing it again: refused"
contains "$T/exrm2.err" "#$exid" "and names it"
commit_file "$T/c" deploy2.env "AWS_ACCESS_KEY_ID=$key" "deploy key again"
git -C "$SRV" update-ref refs/heads/main "$(git -C "$T/c" rev-parse HEAD~2)"
git -C "$T/c" reset -q --hard "$(git -C "$T/c" rev-parse HEAD~2)"
commit_file "$T/c" deploy3.env "AWS_ACCESS_KEY_ID=$key" "deploy key, third"
push "$T/c" origin HEAD:main
isnt "$rc" 0 "with the exemption removed, the key is rejected again"
drop_last "$T/c"

# ---------------------------------------------------------------- events
total=$(ev_count)
lgc ev events --limit 500
is "$rc" 0 "events: exit 0"
is "$(grep -c '^#[0-9]' "$T/ev.out")" "$total" "events lists every event ($total)"
lgc evj events --json --limit 500
is "$(jq length "$T/evj.out")" "$total" "events --json: an array of all of them"
jq_ok '.[0].id > .[1].id' "$T/evj.out"
ok $? "newest first"
lgc evr events --kind rejected --json --limit 500
is "$(jq length "$T/evr.out")" "$(ev_count "kind = 'rejected'")" "--kind rejected: only the rejected events"
jq_ok 'all(.[]; .kind == "rejected")' "$T/evr.out"
ok $? "and all of them are rejected"
lgc evx events --kind exempted --json
jq_ok --arg id "$exid" '.[0].exemptions | any(.[]; tostring == $id)' "$T/evx.out"
ok $? "the exempted event names exemption #$exid"
lgc evp events --pusher nobody-at-all --json
is "$(jq length "$T/evp.out")" 0 "--pusher with nobody: no events"
lgc evrepo events --repo "$(cd "$SRV" && pwd -P)" --json --limit 500
is "$(jq length "$T/evrepo.out")" "$total" "--repo with the repository's path: its events"

# Pages: --limit 2, then --cursor from the hint, until the end.
lgc p1 events --limit 2
is "$(grep -c '^#[0-9]' "$T/p1.out")" 2 "--limit 2: two events"
cur=$(sed -n 's/.*add --cursor \([0-9]*\) for the next page.*/\1/p' "$T/p1.out")
[ -n "$cur" ]
ok $? "a hint gives the cursor of the next page ($cur)"
seen=$(grep -c '^#[0-9]' "$T/p1.out")
grep '^#[0-9]' "$T/p1.out" | cut -d' ' -f1 >"$T/ids"
pages=1
while [ -n "$cur" ] && [ $pages -lt 100 ]; do
	lgc pn events --limit 2 --cursor "$cur"
	grep '^#[0-9]' "$T/pn.out" | cut -d' ' -f1 >>"$T/ids"
	cur=$(sed -n 's/.*add --cursor \([0-9]*\) for the next page.*/\1/p' "$T/pn.out")
	pages=$((pages + 1))
done
is "$(wc -l <"$T/ids" | tr -d ' ') $(sort -u "$T/ids" | wc -l | tr -d ' ')" "$total $total" \
	"following the cursors shows every event once ($pages pages)"
lgc pj events --limit 2 --json
lgc pj2 events --limit 2 --json --cursor "$(jq '.[-1].id' "$T/pj.out")"
is "$(jq -c '[.[].id]' "$T/pj2.out")" "$(jq -c '[.[2:4][].id]' "$T/evj.out")" \
	"with --json, the last id of a page is the cursor of the next"

for bad in "--limit 0" "--limit 501" "--limit abc" "--limit 99999999999999999999" "--cursor abc" \
	"--cursor -3" "--kind nope" "--since yesterday" "--until 2026-13-45"; do
	# shellcheck disable=SC2086
	lgc evbad events $bad
	is "$rc" 2 "events $bad: exit 2"
	[ -s "$T/evbad.err" ] && [ ! -s "$T/evbad.out" ]
	ok $? "events $bad: a message, no listing"
done

api_done
