#!/usr/bin/env bash
# test.sh is `make test`: it provisions what the tests need on a fresh Debian
# machine (PostgreSQL + PostGIS, Chromium, the npm packages), then runs every
# test: gofmt, go vet and staticcheck, the Go tests against a real PostGIS, and the browser
# tests in headless Chromium against a real server over the demo county.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

say() { echo "== $*" >&2; }
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- provisioning
if [ -z "${ONEMAP_TEST_DATABASE_URL:-}" ]; then
	exports=$(scripts/db.sh) || exit 1
	eval "$exports"
fi
export ONEMAP_TEST_DATABASE_URL
if ! command -v chromium >/dev/null 2>&1; then
	say "installing chromium from the distribution's packages"
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if ! command -v ogrinfo >/dev/null 2>&1; then
	# GDAL's MVT driver is the independent decoder the tile tests use.
	say "installing gdal-bin from the distribution's packages"
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gdal-bin >/dev/null
fi
if [ ! -x /usr/sbin/mosquitto ]; then
	# The MQTT broker the tags' subscription is tested against (mqtt/).
	say "installing mosquitto from the distribution's packages"
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mosquitto >/dev/null
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
	# The load balancer of the failover drill (internal/hatest, deploy/nginx.conf).
	say "installing nginx-light from the distribution's packages"
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
fi
say "installing the web client's npm packages"
(cd frontend && npm ci --no-audit --no-fund --loglevel=error)

# Each run builds its own database templates; drop those of earlier runs.
export ONEMAP_TEST_RUN="run$(date +%s)$$"
psql "$ONEMAP_TEST_DATABASE_URL" -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'onemap\_%' AND datname <> 'onemap' AND datname NOT LIKE 'onemap\_bench\_%'" |
	while read -r name; do
		[ -n "$name" ] || continue
		psql "$ONEMAP_TEST_DATABASE_URL" -qc "ALTER DATABASE \"$name\" WITH IS_TEMPLATE false" >/dev/null 2>&1 || true
		psql "$ONEMAP_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
	done

# --- static checks
say "gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi
go vet ./...
say "staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# --- Go tests (real PostGIS)
say "go test"
go test -count=1 -timeout 40m ./...

# --- fuzz targets, briefly: the seed corpora ran above as plain tests; this
# looks for new failing inputs for a few seconds each (`make fuzz` for longer)
say "fuzz (FUZZTIME=${FUZZTIME:-5s} each)"
FUZZTIME=${FUZZTIME:-5s} scripts/fuzz.sh

# --- web client unit tests (node)
say "web client unit tests"
(cd frontend && npm test --silent)

# --- browser tests (real server, real Chromium)
say "browser tests"
scripts/e2e.sh
say "browser tests over the demo prefecture (the region picker)"
ONEMAP_E2E_SEED='--prefecture --scale 0.02' scripts/e2e.sh e2e/regions.test.mjs
