#!/bin/sh
# The main job on an embedded default: build a small sample tree with a few
# (fake, randomly made) credentials among ordinary code, and scan it.
# Usage: sh admin/demo.sh [BUILD_DIR]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
leakgate="$build/admin/leakgate"
work=$(mktemp -d "${TMPDIR:-/tmp}/leakgate-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

mkdir -p "$work/tree/src" "$work/tree/config" "$work/tree/docs"
cat > "$work/tree/src/app.py" <<'PY'
import os

def connect():
    # Read credentials from the environment, never from the code.
    password = os.environ["DB_PASSWORD"]
    token = get_token()
    return open_db(user="app", password=password, token=token)
PY
cat > "$work/tree/config/settings.py" <<'PY'
AWS_ACCESS_KEY_ID = "AKIAZ7TQ3MWXR5LPKD2N"
AWS_SECRET_ACCESS_KEY = "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"
DATABASE_URL = "postgres://app:Wq7t9ZpL2mXv@db.internal:5432/app"
PY
cat > "$work/tree/docs/notes.md" <<'MD'
Deploy notes. The CI token for the release job is
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 (rotate monthly).
The AWS documentation uses AKIAIOSFODNN7EXAMPLE as its sample key: not a secret.
MD
cat > "$work/tree/.env" <<'ENV'
STRIPE_SECRET_KEY=sk_live_51Hq8ZkLmP3xW7rT2vB9nC4dF6gJ0sK5yE1aU8iO3pQ7wR2tY
ENV

# One compiled-rules cache for the scan and the hook, inside $work: the
# rules are compiled once (a few seconds; far longer under a sanitizer),
# by the scan, and the hook's pushes find them ready.
export LEAKGATE_CACHE_DIR="$work/cache"
mkdir -p "$LEAKGATE_CACHE_DIR" && chmod 700 "$LEAKGATE_CACHE_DIR"

echo "== leakgate demo: scanning a sample tree with the built-in rules"
echo "== $leakgate scan $work/tree"
status=0
(cd "$work" && "$leakgate" scan tree) || status=$?
echo "== exit status $status (0 nothing found, 1 secrets found, 2 error)"
if [ "$status" != 1 ]; then
	echo "demo: expected the planted secrets to be found" >&2
	exit 1
fi
hook="$build/hooks/leakgate-pre-receive"

# The gate itself: a bare repository with the hook, a clean push and a
# leaking one, with their own audit database and caches inside $work.
export LEAKGATE_DB="$work/leakgate.db" LEAKGATE_KEY_FILE="$work/fingerprint.key"
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global user.name "Demo Developer"
git config --global user.email "dev@example.invalid"
git config --global init.defaultBranch main
echo
echo "== a bare repository with the hook installed"
git init -q --bare "$work/server.git"
"$leakgate" install --repo "$work/server.git"
git clone -q "$work/server.git" "$work/clone" 2>/dev/null
cd "$work/clone"
cp -r "$work/tree/src" .
git add src && git commit -qm "Add the application"
echo "== a clean push:"
if git push origin main; then
	echo "== accepted, as it should be"
else
	echo "demo: the clean push was rejected" >&2
	exit 1
fi
cp -r "$work/tree/config" .
git add config && git commit -qm "Add deployment settings"
echo
echo "== a push that would publish an AWS key pair and a database password:"
if git push origin main; then
	echo "demo: the leaking push was accepted" >&2
	exit 1
fi
echo "== rejected: the server still has $(git -C "$work/server.git" rev-parse --short main), not $(git rev-parse --short HEAD)"
echo
echo "== audit events recorded in $LEAKGATE_DB:"
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$LEAKGATE_DB" "SELECT id, kind, pusher, json_array_length(findings) || ' finding(s)' FROM events"
fi

echo
echo "== the admin API (leakgated) over the same database"
token=$("$build/admin/leakgate" token create --role admin --name demo --db "$LEAKGATE_DB" | tail -1)
port=""
for try in 1 2 3 4 5 6 7 8 9 10; do
	p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12768)) # below the ephemeral ports
	"$build/server/leakgated" --listen "127.0.0.1:$p" --db "$LEAKGATE_DB" \
		--key-file "$LEAKGATE_KEY_FILE" 2>"$work/leakgated.log" &
	daemon=$!
	for wait in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		if curl -sf "http://127.0.0.1:$p/healthz" >/dev/null 2>&1; then
			port=$p
			break
		fi
		kill -0 "$daemon" 2>/dev/null || break
		sleep 0.25
	done
	[ -n "$port" ] && break
	kill "$daemon" 2>/dev/null
	wait "$daemon" 2>/dev/null
done
if [ -z "$port" ]; then
	echo "demo: leakgated did not start:" >&2
	cat "$work/leakgated.log" >&2
	exit 1
fi
trap 'kill "$daemon" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
echo "== GET /healthz"
curl -s "http://127.0.0.1:$port/healthz" | jq .
echo "== GET /api/v1/events?kind=rejected (the push above)"
curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/events?kind=rejected&limit=1" |
	jq '.events[0] | {id, kind, repo, pusher, findings: [.findings[] | {rule_id, path, line, preview, fingerprint}]}'
kill "$daemon"
wait "$daemon" 2>/dev/null || true
echo "demo: ok"
