#!/bin/sh
# Bypass with a push option: a reason is needed and recorded; the server
# can forbid it; without push options the client cannot send it.
. "$(dirname "$0")/lib.sh"

SRV=$T/srv.git
make_server "$SRV"
is "$(git -C "$SRV" config --bool receive.advertisePushOptions)" true "the install turned push options on"
make_client "$T/c" "$SRV"
commit_file "$T/c" README.md "hello" "initial"
push "$T/c" origin main
A=$COMMIT
tok=$(fake_github_token)
commit_file "$T/c" test/fixtures/token.txt "GITHUB_TOKEN=$tok" "fixture"
LEAK=$COMMIT

# ---- a normal push: rejected, with the bypass hint ----
push "$T/c" origin main
isnt "$rc" 0 "the leaking push is rejected"
contains "$OUT" 'git push -o leakgate.bypass="<why this is safe>"' "the message shows how to bypass"

# ---- no reason ----
push "$T/c" -o leakgate.bypass origin main
isnt "$rc" 0 "bypass without a reason (-o leakgate.bypass) is rejected"
contains "$OUT" "leakgate: leakgate.bypass needs a reason" "the message says a reason is needed"
is "$(rev "$SRV" refs/heads/main)" "$A" "server main did not move"
is "$(ev_last kind)" rejected "event is rejected"

push "$T/c" -o "leakgate.bypass=" origin main
isnt "$rc" 0 "bypass with an empty reason is rejected"
contains "$OUT" "needs a reason" "the message says a reason is needed"

push "$T/c" -o "leakgate.bypass=   " origin main
isnt "$rc" 0 "bypass with a blank reason is rejected"
contains "$OUT" "needs a reason" "the message says a reason is needed"

push "$T/c" -o "leakgate.bypassx=whatever" origin main
isnt "$rc" 0 "a different option that only starts like leakgate.bypass does not bypass"

# ---- with a reason ----
reason="test fixture, the token was revoked (TICKET-42)"
push "$T/c" -o "leakgate.bypass=$reason" origin main
is "$rc" 0 "bypass with a reason is accepted"
is "$(rev "$SRV" refs/heads/main)" "$LEAK" "server main moved"
contains "$OUT" "push accepted because of leakgate.bypass" "the pusher is told the push was accepted by bypass"
contains "$OUT" "$reason" "the reason is echoed"
lacks "$OUT" "$tok" "the raw token is not shown"
is "$(ev_last kind)" bypassed "event kind is bypassed"
is "$(ev_last reason)" "$reason" "event records the reason"
is "$(ev_last findings | jq -r '.[0].rule_id')" github-pat-classic "event records the bypassed finding"
not_stored "$tok" "the raw token is not in the audit database"

# a bypass option on a clean push changes nothing
commit_file "$T/c" clean.txt "clean" "clean"
push "$T/c" -o "leakgate.bypass=not needed" origin main
is "$rc" 0 "a clean push with a bypass option is accepted"
is "$(ev_last kind)" accepted "and recorded as accepted, not bypassed"

# several options: the reason is found among them
stripe=$(fake_stripe_key)
commit_file "$T/c" more.env "STRIPE=$stripe" "more"
push "$T/c" -o ci.skip -o "leakgate.bypass=second option" -o other=1 origin main
is "$rc" 0 "the bypass among other push options is accepted"
is "$(ev_last reason)" "second option" "the reason is recorded"

# ---- bypass forbidden by the server ----
git -C "$SRV" config leakgate.allowBypass false
HEAD_NOW=$(rev "$SRV" refs/heads/main)
aws=$(fake_aws_key)
commit_file "$T/c" aws.cfg "aws_access_key_id=$aws" "aws"
push "$T/c" -o "leakgate.bypass=please" origin main
isnt "$rc" 0 "with leakgate.allowBypass=false a bypass is rejected"
contains "$OUT" "does not allow bypasses" "the message says bypasses are not allowed"
lacks "$OUT" 'git push -o leakgate.bypass="<why this is safe>"' "no bypass hint is shown"
is "$(rev "$SRV" refs/heads/main)" "$HEAD_NOW" "server main did not move"
is "$(ev_last kind)" rejected "event is rejected"
git -C "$SRV" config --unset leakgate.allowBypass

# ---- a server without push options ----
SRV2=$T/noopts.git
make_server "$SRV2"
git -C "$SRV2" config receive.advertisePushOptions false
make_client "$T/c2" "$SRV2"
commit_file "$T/c2" README.md "hello" "initial"
push "$T/c2" origin main
B=$COMMIT
tok2=$(fake_github_token)
commit_file "$T/c2" t.txt "GITHUB_TOKEN=$tok2" "token"
before=$(ev_count)
push "$T/c2" -o "leakgate.bypass=reason" origin main
isnt "$rc" 0 "the client cannot send -o to a server without push options"
contains "$OUT" "push options" "git says the server does not support push options"
is "$(rev "$SRV2" refs/heads/main)" "$B" "server main did not move"
is "$(ev_count)" "$before" "the hook did not run (no event)"
push "$T/c2" origin main
isnt "$rc" 0 "the normal push is rejected"
contains "$OUT" "Bypassing needs push options, which this server does not accept yet" \
	"the rejection says bypassing needs push options"
contains "$OUT" "receive.advertisePushOptions=true" "it names the setting"
lacks "$OUT" 'git push -o leakgate.bypass="<why this is safe>"' "no bypass command is offered"

# ---- push options turned on by the forge on git's command line (git -c
# receive.advertisePushOptions=true receive-pack, as forges run it) rather
# than in the repository's config: the bypass works, and the message must
# not claim that it cannot ----
RP="git -c receive.advertisePushOptions=true receive-pack"
push "$T/c2" --receive-pack="$RP" origin main
isnt "$rc" 0 "push options from git -c: the leaking push is rejected"
lacks "$OUT" "Bypassing needs push options, which this server does not accept yet" \
	"push options from git -c: the message does not claim push options are off"
contains "$OUT" 'git push -o leakgate.bypass="<why this is safe>"' \
	"push options from git -c: the bypass command is offered"
push "$T/c2" --receive-pack="$RP" -o "leakgate.bypass=forge fixture" origin main
is "$rc" 0 "push options from git -c: the bypass itself works"
is "$(ev_last kind)" bypassed "push options from git -c: event is bypassed"

done_testing
