#!/bin/sh
# The hook behind each transport git servers use: a local path, a file://
# URL, and smart HTTP through git http-backend under lighttpd (started here
# on a free loopback port, stopped at the end).
. "$(dirname "$0")/lib.sh"

ROOT=$T/repos
SRV=$ROOT/srv.git
make_server "$SRV"
git -C "$SRV" config http.receivepack true

# ---- local path ----
make_client "$T/local" "$SRV"
commit_file "$T/local" README.md "hello" "initial"
push "$T/local" origin main
is "$rc" 0 "local path: clean push accepted"
is "$(ev_last protocol)" local "local path: event protocol is local"
tok=$(fake_github_token)
commit_file "$T/local" l.env "GITHUB_TOKEN=$tok" "leak over a local path"
push "$T/local" origin main
isnt "$rc" 0 "local path: leaking push rejected"
contains "$OUT" "remote: leakgate: push rejected" "local path: the client shows the remote rejection"
git -C "$T/local" reset -q --hard HEAD~1

# ---- file:// ----
make_client "$T/file" "file://$SRV"
commit_file "$T/file" f.txt "file transport" "clean over file://"
push "$T/file" origin main
is "$rc" 0 "file://: clean push accepted"
is "$(rev "$SRV" refs/heads/main)" "$COMMIT" "file://: server main moved"
key=$(fake_aws_key)
commit_file "$T/file" f.cfg "aws_access_key_id = $key" "leak over file://"
push "$T/file" origin main
isnt "$rc" 0 "file://: leaking push rejected"
contains "$OUT" "remote: leakgate: push rejected" "file://: the client shows the remote rejection"
contains "$OUT" "AWS access key ID" "file://: the rule is named"
git -C "$T/file" reset -q --hard HEAD~1

# ---- HTTP: git http-backend behind lighttpd ----
LIGHTTPD=$(command -v lighttpd || { [ -x /usr/sbin/lighttpd ] && echo /usr/sbin/lighttpd; })
BACKEND=$(git --exec-path)/git-http-backend
if [ -z "$LIGHTTPD" ]; then
	fail "lighttpd is installed (setup.sh installs it; the HTTP transport cannot be tested without it)"
	done_testing
fi
pass "lighttpd is installed"
[ -x "$BACKEND" ]
ok $? "git-http-backend is at $BACKEND" || done_testing

start_lighttpd() {
	port=$1
	cat >"$T/lighttpd.conf" <<CONF
server.modules = ("mod_alias", "mod_setenv", "mod_cgi")
server.document-root = "$T/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$T/lighttpd.err"
server.pid-file = "$T/lighttpd.pid"
server.max-request-size = 0
alias.url = ("/git/" => "$BACKEND/")
cgi.assign = ("" => "")
setenv.add-environment = (
	"GIT_PROJECT_ROOT" => "$ROOT",
	"GIT_HTTP_EXPORT_ALL" => "1",
	"HOME" => "$HOME"
)
CONF
	"$LIGHTTPD" -tt -f "$T/lighttpd.conf" >"$T/lighttpd.check" 2>&1 || return 2
	"$LIGHTTPD" -D -f "$T/lighttpd.conf" >>"$T/lighttpd.err" 2>&1 &
	LPID=$!
	n=0
	while [ $n -lt 50 ]; do
		kill -0 "$LPID" 2>/dev/null || return 1
		if git ls-remote "http://127.0.0.1:$port/git/srv.git" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	# running, but not serving git: a set-up problem, not a busy port
	kill "$LPID" 2>/dev/null
	wait "$LPID" 2>/dev/null
	return 3
}

mkdir -p "$T/www"
LPID=""
at_exit '[ -n "$LPID" ] && kill "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null'
started=no
tries=0
while [ $tries -lt 20 ]; do
	# Below Linux's ephemeral ports (32768-60999), which outgoing connections take.
	port=$(( $(od -An -tu2 -N2 /dev/urandom | tr -d ' ') % 12768 + 20000 ))
	start_lighttpd "$port"
	st=$?
	[ $st -eq 0 ] && { started=yes; break; }
	LPID=""
	[ $st -eq 1 ] || break
	tries=$((tries + 1))
done
if [ "$started" != yes ]; then
	fail "lighttpd serves git http-backend on 127.0.0.1"
	diag_file "$T/lighttpd.check"
	diag_file "$T/lighttpd.err"
	done_testing
fi
pass "lighttpd serves git http-backend on 127.0.0.1:$port"

# it listens on the loopback address only
if command -v ss >/dev/null 2>&1; then
	ss -ltnH "sport = :$port" | awk '{print $4}' >"$T/listen"
	is "$(sort -u "$T/listen")" "127.0.0.1:$port" "lighttpd listens on 127.0.0.1 only"
else
	grep -q '^server.bind = "127.0.0.1"$' "$T/lighttpd.conf"
	ok $? "lighttpd is configured to listen on 127.0.0.1 only"
fi

URL=http://127.0.0.1:$port/git/srv.git
git clone -q "$URL" "$T/http" 2>"$T/clone.err"
ok $? "clone over HTTP" || diag_file "$T/clone.err"
commit_file "$T/http" h.txt "over http" "clean over HTTP"
push "$T/http" origin main
is "$rc" 0 "HTTP: clean push accepted" || diag_file "$OUT"
is "$(rev "$SRV" refs/heads/main)" "$COMMIT" "HTTP: server main moved"
is "$(ev_last kind)" accepted "HTTP: event is accepted"
is "$(ev_last protocol)" http "HTTP: event protocol is http"
GOOD=$COMMIT

stripe=$(fake_stripe_key)
commit_file "$T/http" billing.env "STRIPE_SECRET_KEY=$stripe" "leak over HTTP"
LEAK=$COMMIT
push "$T/http" origin main
isnt "$rc" 0 "HTTP: leaking push rejected"
contains "$OUT" "remote: leakgate: push rejected: 1 secret" "HTTP: the client shows the remote rejection line"
contains "$OUT" "commit:      $(short "$T/http" "$LEAK") leak over HTTP" "HTTP: the commit is named"
contains "$OUT" "where:       billing.env:1" "HTTP: path and line are given"
contains "$OUT" "pre-receive hook declined" "HTTP: git reports the hook declined"
lacks "$OUT" "$stripe" "HTTP: the raw key is not shown"
is "$(rev "$SRV" refs/heads/main)" "$GOOD" "HTTP: server main did not move"
is "$(ev_last kind)" rejected "HTTP: event is rejected"
is "$(ev_last protocol)" http "HTTP: event protocol is http"
not_stored "$stripe" "HTTP: the raw key is not in the audit database"

# bypass over HTTP (push options travel over the smart protocol)
push "$T/http" -o "leakgate.bypass=http fixture" origin main
is "$rc" 0 "HTTP: bypass with a reason accepted"
is "$(ev_last kind)" bypassed "HTTP: event is bypassed"
is "$(ev_last reason)" "http fixture" "HTTP: the reason is recorded"

# a larger push (more than http.postBuffer, sent chunked)
git -C "$T/http" reset -q --hard "$GOOD"
head -c 1500000 /dev/urandom | od -An -tx1 >"$T/http/big.txt"
git -C "$T/http" add big.txt
git -C "$T/http" commit -q -m "big clean file"
push "$T/http" --force origin main
is "$rc" 0 "HTTP: a large clean push (chunked request) is accepted" || diag_file "$OUT"

done_testing
