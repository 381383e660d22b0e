#!/usr/bin/env bash
# e2e.sh runs the browser tests: it builds onemap, gives it a fresh database
# with the demo county, serves it on a free loopback port and runs the
# playwright-core tests of frontend/e2e (or only the files given, relative to
# frontend/) in headless Chromium against it.
# Screenshots land in frontend/e2e/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${ONEMAP_TEST_DATABASE_URL:?run through make test, or eval \"\$(scripts/db.sh)\" first}"

go build -o bin/onemap ./cmd/onemap
db=onemap_e2e_$$
base=${ONEMAP_TEST_DATABASE_URL%%\?*}
base=${base%/*}
psql "$ONEMAP_TEST_DATABASE_URL" -qc "CREATE DATABASE $db" >/dev/null
url="$base/$db?sslmode=disable"
log=$(mktemp)
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	psql "$ONEMAP_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	rm -f "$log"
}
trap cleanup EXIT

# Without the history of cases: quicker, and the pages start with no case.
# ONEMAP_E2E_SEED adds flags to the seed: '--prefecture --scale 0.02' serves the demo
# prefecture (e2e/regions.test.mjs's region picker).
# shellcheck disable=SC2086
ONEMAP_DATABASE_URL=$url bin/onemap seed demo --history=false ${ONEMAP_E2E_SEED:-} >/dev/null
ONEMAP_DATABASE_URL=$url ONEMAP_ANONYMOUS_ROLE=${ONEMAP_E2E_ROLE:-commander} bin/onemap serve --addr 127.0.0.1:0 --metrics-addr "" --demo-accounts >"$log" 2>&1 &
pid=$!
addr=
for _ in $(seq 1 150); do
	addr=$(sed -n 's#^onemap: serving at \(http://.*\)$#\1#p' "$log")
	[ -n "$addr" ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
	sleep 0.2
done
[ -n "$addr" ] || { echo "onemap did not start" >&2; cat "$log" >&2; exit 1; }
export ONEMAP_E2E_URL=$addr ONEMAP_E2E_DATABASE_URL=$url
(cd frontend && node --test "${@:-e2e/}")
