#!/bin/sh
# What blocks (leakgate.block): a lower-confidence finding in a test,
# documentation or template file warns instead of blocking; the same
# finding elsewhere blocks; a structured provider token (high confidence)
# blocks wherever it is; a low-confidence rule warns by default; the level
# can be raised, lowered or set to block everything, and an invalid level
# is a configuration failure that blocks.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
is "$rc" 0 "initial push accepted"

# Fixed values of a password's shape that pass the generic rule's filters
# (random ones fail its entropy floor now and then).
pw=Hq8vNz3KpWm7RtXc2L

# ---- a generic password (medium confidence) in a test fixture: warns ----
commit_file "$T/c" tests/fixtures/settings.py "DATABASE_HOST = 'db.internal'
DB_PASSWORD = '$pw'" "test fixture settings"
push "$T/c" origin main
is "$rc" 0 "a generic password in tests/fixtures/ is accepted"
is "$(rev "$SRV" refs/heads/main)" "$COMMIT" "server main moved"
contains "$OUT" "leakgate: warning: 1 possible secret (not blocked" "the pusher is told about it"
contains "$OUT" "tests/fixtures/settings.py:2" "with path and line"
contains "$OUT" "medium confidence, in a test file" "and why it does not block"
lacks "$OUT" "$pw" "the password itself is not shown"
is "$(ev_last kind)" warned "event kind is warned"
is "$(ev_last findings | jq -r '.[0].status')" warning "the finding is recorded as a warning"
is "$(ev_last findings | jq -r '.[0].rule_id')" generic-credential-assignment "with its rule"
not_stored "$pw" "the raw password is not in the audit database"

# ---- the same in documentation and in a config template: warns ----
pw2=Zt4Lq9WmXv2KpR7nBc
commit_file "$T/c" docs/configuration.rst "Set the secret in your settings::

    SECRET_KEY = '$pw2'" "docs"
push "$T/c" origin main
is "$rc" 0 "a generic secret in docs/*.rst is accepted"
contains "$OUT" "in a documentation file" "documentation context named"
commit_file "$T/c" .env.example "API_TOKEN=Rk3Wq8ZmVx2Np7Lt5Hc" "env template"
push "$T/c" origin main
is "$rc" 0 "a token in .env.example is accepted"
contains "$OUT" "in a template file" "template context named"

# ---- other projects' code kept in the tree: warns ----
commit_file "$T/c" vendor/github.com/acme/client/config.go "var defaultPassword = \"Qx7Lm2Vt9KzR4Wn8Pc\"" "vendor a client"
push "$T/c" origin main
is "$rc" 0 "a generic password in vendor/ is accepted"
contains "$OUT" "in a vendored file" "vendored context named"

# ---- the same value in application code: blocks ----
commit_file "$T/c" app/settings.py "DATABASE_HOST = 'db.internal'
DB_PASSWORD = '$pw'" "app settings"
push "$T/c" origin main
isnt "$rc" 0 "the same password in app/settings.py is rejected"
contains "$OUT" "push rejected" "as a rejection"
is "$(ev_last kind)" rejected "event kind is rejected"
git -C "$T/c" reset -q --hard HEAD~1

# ---- moving a warned secret out of tests/ blocks at its new place ----
git -C "$T/c" mv tests/fixtures/settings.py config_settings.py
git -C "$T/c" commit -q -m "move fixture into the app"
push "$T/c" origin main
isnt "$rc" 0 "the fixture's password moved out of tests/ is rejected"
git -C "$T/c" reset -q --hard HEAD~1

# ---- a provider token with a valid checksum blocks even in tests/ ----
tok=$(fake_github_token)
commit_file "$T/c" tests/test_client.py "TOKEN = '$tok'" "test with a real-looking token"
push "$T/c" origin main
isnt "$rc" 0 "a GitHub token in tests/ is rejected (high confidence)"
contains "$OUT" "GitHub personal access token" "its rule is named"
git -C "$T/c" reset -q --hard HEAD~1

# ---- a private key: blocks in deploy/, warns in tests/certs/ ----
if command -v openssl >/dev/null; then
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/k.pem" 2>/dev/null
	mkdir -p "$T/c/tests/certs" "$T/c/deploy"
	cp "$T/k.pem" "$T/c/tests/certs/server.key"
	git -C "$T/c" add -A && git -C "$T/c" commit -q -m "test certificate key"
	push "$T/c" origin main
	is "$rc" 0 "a private key under tests/certs/ is accepted with a warning"
	contains "$OUT" "tests/certs/server.key" "and named"
	cp "$T/k.pem" "$T/c/deploy/server.key"
	git -C "$T/c" add -A && git -C "$T/c" commit -q -m "deploy key"
	push "$T/c" origin main
	isnt "$rc" 0 "the same key under deploy/ is rejected"
	git -C "$T/c" reset -q --hard HEAD~1
else
	skip "openssl is not installed"; skip "openssl is not installed"; skip "openssl is not installed"
fi

# ---- a low-confidence rule (a Stripe test key) warns by default ----
sk="sk_test_$(rand_chars 'A-Za-z0-9' 24)"
commit_file "$T/c" app/billing.py "stripe.api_key = '$sk'" "stripe test mode"
push "$T/c" origin main
is "$rc" 0 "a Stripe test key in app code warns by default (low confidence)"
contains "$OUT" "low confidence" "and says so"

# ---- leakgate.block = low: low-confidence findings outside tests block ----
git -C "$SRV" config leakgate.block low
commit_file "$T/c" app/payments.py "stripe.api_key = 'sk_test_$(rand_chars 'A-Za-z0-9' 24)'" "stripe test mode again"
push "$T/c" origin main
isnt "$rc" 0 "with leakgate.block = low a Stripe test key blocks"
git -C "$T/c" reset -q --hard HEAD~1

# ---- leakgate.block = high: only high-confidence findings block ----
git -C "$SRV" config leakgate.block high
commit_file "$T/c" app/settings.py "DB_PASSWORD = '$pw'" "app settings"
push "$T/c" origin main
is "$rc" 0 "with leakgate.block = high a generic password warns"
is "$(ev_last kind)" warned "event kind is warned"
tok=$(fake_github_token)
commit_file "$T/c" app/gh.py "TOKEN = '$tok'" "token"
push "$T/c" origin main
isnt "$rc" 0 "and a GitHub token still blocks"
git -C "$T/c" reset -q --hard HEAD~1

# ---- leakgate.block = all: everything blocks, tests too ----
git -C "$SRV" config leakgate.block all
commit_file "$T/c" tests/fixtures/other.py "DB_PASSWORD = 'Mx5Tq2WzLk8Rv3Np9Yd'" "fixture"
push "$T/c" origin main
isnt "$rc" 0 "with leakgate.block = all a fixture password blocks"
git -C "$T/c" reset -q --hard HEAD~1

# ---- an invalid level: a configuration failure, and everything blocks ----
git -C "$SRV" config leakgate.block sometimes
commit_file "$T/c" tests/fixtures/third.py "DB_PASSWORD = 'Pw7Kz3XqRm9Lt2Vn5Hb'" "fixture"
push "$T/c" origin main
isnt "$rc" 0 "leakgate.block = sometimes rejects the push"
contains "$OUT" "leakgate.block" "the line names the key"
contains "$OUT" "sometimes" "and its value"
run "$LG" config check --repo "$SRV"
is "$rc" 1 "leakgate config check exits 1 on it"
contains "$OUT" "leakgate.block" "and lists it"
git -C "$T/c" reset -q --hard HEAD~1
git -C "$SRV" config --unset leakgate.block
run "$LG" config check --repo "$SRV"
is "$rc" 0 "without it the settings check passes"
contains "$OUT" "leakgate.block" "and shows the effective level"
contains "$OUT" "medium" "medium by default"

done_testing
