#!/usr/bin/env bash
# db.sh provisions a private PostgreSQL + PostGIS cluster for OneMap and prints
# the environment that points OneMap and its tests at it:
#
#   eval "$(scripts/db.sh)"      # sets ONEMAP_DATABASE_URL, ONEMAP_TEST_DATABASE_URL
#   scripts/db.sh stop           # stops the cluster
#
# It installs Debian's postgresql-15 and postgresql-15-postgis-3 where they are
# missing, keeps the cluster under .data/pg (or ONEMAP_PG_DATA), listens on
# 127.0.0.1:${ONEMAP_PG_PORT:-54329} only, and uses a generated password.
# ONEMAP_PG_SHARED_BUFFERS sets the server's shared_buffers (default 128MB,
# PostgreSQL's own), read when the cluster starts: a server holding a
# province's layers wants its largest layer's indexes in it (README, bulk
# path); a running cluster keeps its setting until it is stopped.
# PostgreSQL refuses to run as root, so as root the cluster runs as the
# postgres user. Everything it says goes to stderr; stdout is only the exports.
set -euo pipefail

PGVER=15
port=${ONEMAP_PG_PORT:-54329}
top=$(cd "$(dirname "$0")/.." && pwd)
base=${ONEMAP_PG_DATA:-$top/.data/pg}
bindir=/usr/lib/postgresql/$PGVER/bin

say() { echo "db.sh: $*" >&2; }

sudo_if_needed() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
	local missing=()
	[ -x "$bindir/initdb" ] || missing+=("postgresql-$PGVER")
	ls /usr/share/postgresql/$PGVER/extension/postgis.control >/dev/null 2>&1 || missing+=("postgresql-$PGVER-postgis-3")
	command -v psql >/dev/null 2>&1 || missing+=("postgresql-client-$PGVER")
	[ ${#missing[@]} -eq 0 ] && return
	say "installing ${missing[*]} from the distribution's packages"
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# as_owner runs a command as the cluster's owner.
as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pick_base() {
	# As root, the postgres user must reach the data folder; a project under a
	# private home folder is not reachable, so fall back to /var/tmp.
	if [ "$(id -u)" = 0 ]; then
		mkdir -p "$base"
		if ! runuser -u postgres -- test -w "$(dirname "$base")" 2>/dev/null &&
			! runuser -u postgres -- test -x "$base" 2>/dev/null; then
			base=/var/tmp/onemap-pg-$(echo "$top" | md5sum | cut -c1-8)
			say "postgres cannot reach the project folder; using $base"
			mkdir -p "$base"
		fi
		chown postgres:postgres "$base"
		chmod 700 "$base"
	else
		mkdir -p "$base"
		chmod 700 "$base"
	fi
}

start() {
	install_packages
	pick_base
	local data=$base/data pwfile=$base/password
	if [ ! -s "$pwfile" ]; then
		as_owner sh -c "umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > '$pwfile'"
	fi
	if [ ! -f "$data/PG_VERSION" ]; then
		say "initialising a cluster in $data"
		as_owner "$bindir/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
			--auth=scram-sha-256 --pwfile="$pwfile" >"$base/initdb.log" 2>&1 ||
			{ cat "$base/initdb.log" >&2; exit 1; }
	fi
	if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		say "starting PostgreSQL on 127.0.0.1:$port"
		as_owner "$bindir/pg_ctl" -D "$data" -l "$base/postgresql.log" -w -t 60 \
			-o "-p $port -k $base -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=${ONEMAP_PG_FSYNC:-on} -c shared_buffers=${ONEMAP_PG_SHARED_BUFFERS:-128MB}" \
			start >&2 || {
			tail -20 "$base/postgresql.log" >&2
			if grep -q "Address already in use" "$base/postgresql.log"; then
				say "port $port is taken, perhaps by the cluster of another checkout: stop it there (make db-stop) or set ONEMAP_PG_PORT"
			fi
			exit 1
		}
	fi
	local pw url
	pw=$(as_owner cat "$pwfile")
	url="postgres://postgres:$pw@127.0.0.1:$port"
	if ! psql "$url/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname = 'onemap'" | grep -q 1; then
		psql "$url/postgres" -qc "CREATE DATABASE onemap" >&2
	fi
	echo "export ONEMAP_DATABASE_URL='$url/onemap?sslmode=disable'"
	echo "export ONEMAP_TEST_DATABASE_URL='$url/postgres?sslmode=disable'"
}

stop() {
	pick_base
	if [ -f "$base/data/PG_VERSION" ]; then
		as_owner "$bindir/pg_ctl" -D "$base/data" -m fast stop >&2 || true
	fi
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
