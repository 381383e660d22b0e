#!/usr/bin/env bash
# outage.sh is the database outage drill (issue 9): it stops PostgreSQL hard
# while two OneMap servers are under read and write load, keeps it down, starts
# it again, and prints what the servers did:
#
#   - reads (tiles, nearby, locate, around, search, within, stats, OGC items)
#     answered during the outage, from the servers' in-memory replicas;
#   - requests that need the database (GET /api/layers/stations/features, grid edits) refused
#     with 503 and Retry-After during the outage;
#   - each server's /readyz transitions, and how long after PostgreSQL was
#     back each was ready again (no restart of the servers);
#   - writes (straight SQL, as other servers' writes, and grid edits through
#     each server's HTTP API when the grid editor is there) acknowledged and
#     refused, and whether every acknowledged write is in the database;
#   - whether each replica equals the database afterwards (change-feed
#     position, and feature counts per layer);
#   - whether both servers then stop cleanly on SIGTERM (exit status 0).
#
# It ends with "outage: N passed, N failed" and exits 1 if a check failed.
#
#   scripts/outage.sh                       30 s outage on a private cluster
#   OUTAGE_SECONDS=5 scripts/outage.sh      a shorter one
#
# The cluster is its own (scripts/db.sh conventions: port OUTAGE_PG_PORT,
# default 54351, data under OUTAGE_DIR, default /var/tmp/onemap-outage-PORT),
# never the shared one on 54329; it is stopped at the end unless
# OUTAGE_KEEP=1. Its database "onemap" is dropped and seeded afresh with the
# demo county on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
port=${OUTAGE_PG_PORT:-54351}
if [ "$port" = 54329 ]; then
	echo "outage.sh: port 54329 is the shared cluster of make run and make test; choose another OUTAGE_PG_PORT" >&2
	exit 2
fi
down=${OUTAGE_SECONDS:-30}
work=${OUTAGE_DIR:-/var/tmp/onemap-outage-$port}
logs=$work/logs
mkdir -p "$work"
rm -rf "$logs"
mkdir -p "$logs"
export ONEMAP_PG_PORT=$port ONEMAP_PG_DATA=$work/pg
pgbin=/usr/lib/postgresql/15/bin

say() { echo "outage: $*" >&2; }
now() { date +%s%3N; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${OUTAGE_KEEP:-}" != 1 ]; then scripts/db.sh stop 2>/dev/null || true; fi
}
trap cleanup EXIT

say "building onemap"
go build -o "$work/onemap" ./cmd/onemap
bin=$work/onemap

say "starting a private PostgreSQL on 127.0.0.1:$port"
eval "$(scripts/db.sh)"
admin=$ONEMAP_TEST_DATABASE_URL
db=$ONEMAP_DATABASE_URL
psql "$admin" -qc "DROP DATABASE IF EXISTS onemap WITH (FORCE)" >/dev/null
psql "$admin" -qc "CREATE DATABASE onemap" >/dev/null
# the data folder scripts/db.sh chose (it may fall back to /var/tmp as root)
data=$(psql "$admin" -qtAc "SHOW data_directory")
say "seeding the demo county"
ONEMAP_DATABASE_URL=$db "$bin" seed demo --history=false --log-level warn >&2

# --- two servers; planners may edit grids (demo setting, loopback only)
declare -A url murl # each server's address, and its metrics' (--metrics-addr)
for name in A B; do
	ONEMAP_DATABASE_URL=$db "$bin" serve --addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 --anonymous-role planner --log-level warn \
		>"$logs/$name.out" 2>"$logs/$name.log" &
	pids+=($!)
	echo $! >"$logs/$name.pid"
done
for name in A B; do
	for _ in $(seq 600); do
		u=$(sed -n 's/^onemap: serving at //p' "$logs/$name.out")
		[ -n "$u" ] && break
		sleep 0.1
	done
	[ -n "$u" ] || { say "server $name did not start:"; cat "$logs/$name.log" >&2; exit 1; }
	url[$name]=$u
	murl[$name]=$(sed -n 's/^onemap: metrics at //p' "$logs/$name.out")
	say "server $name at $u"
done

# --- load
reads=(/tiles/all/12/3212/1748.mvt /tiles/all/10/803/436.mvt /tiles/public/8/200/109.mvt
	"/api/nearby?lon=102.4&lat=25.53" "/api/locate?lon=102.4&lat=25.53" "/api/around?lon=102.4&lat=25.53&radius=2000"
	"/api/search?q=%E7%8B%AE%E5%B1%B1" "/api/within?bbox=102.3,25.4,102.5,25.6" /api/stats/grids
	"/ogc/collections/stations/items?limit=5")
reader() { # server
	local u=${url[$1]}
	while :; do
		for p in "${reads[@]}"; do
			code=$(curl -s -o /dev/null -m 30 -w '%{http_code}' "$u$p")
			echo "$(now) $1 $code $p"
		done
	done >>"$logs/reads"
}
needsdb() { # server: a read that needs the database
	local u=${url[$1]}
	while :; do
		code=$(curl -s -o /dev/null -m 5 -w '%{http_code} %header{retry-after}' "$u/api/layers/stations/features?limit=1")
		echo "$(now) $1 $code"
		sleep 0.2
	done >>"$logs/needsdb"
}
ready() { # server
	local u=${url[$1]}
	while :; do
		code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$u/readyz")
		echo "$(now) $1 $code"
		sleep 0.25
	done >>"$logs/ready"
}
sqlwriter() { # other servers' writes, straight to the database
	local i=0 out
	while :; do
		i=$((i + 1))
		if out=$(PGCONNECT_TIMEOUT=2 psql "$db" -X -qtA -v ON_ERROR_STOP=1 -c \
			"INSERT INTO stations (kind, level, name, geom) VALUES ('clinic', 'village', '演练-$i',
			 ST_SetSRID(ST_MakePoint(102.3 + random() * 0.2, 25.4 + random() * 0.2), 4326)) RETURNING id" 2>/dev/null); then
			echo "$(now) ack $i $out"
		else
			echo "$(now) refused $i"
		fi
		sleep 0.1
	done >>"$logs/sqlwrites"
}
gridwriter() { # server grid: a planner renames a grid through the server's API
	local u=${url[$1]} gid=$2 i=0 etag code hdr
	while :; do
		i=$((i + 1))
		hdr=$(curl -s -o /dev/null -m 5 -D - "$u/api/grids/$gid" | tr -d '\r')
		etag=$(echo "$hdr" | sed -n 's/^[Ee][Tt]ag: //p')
		if [ -z "$etag" ]; then
			echo "$(now) $1 get $(echo "$hdr" | head -1 | cut -d' ' -f2) $(echo "$hdr" | sed -n 's/^[Rr]etry-[Aa]fter: //p' | grep . || echo -)"
		else
			code=$(curl -s -o "$logs/gw.$1" -m 10 -D "$logs/gwh.$1" -w '%{http_code}' -X PATCH -H "If-Match: $etag" \
				-H 'Content-Type: application/json' --data "{\"properties\":{\"name\":\"演练-$1-$i\"},\"reason\":\"outage drill\"}" \
				"$u/api/grids/$gid")
			echo "$(now) $1 patch $code $(tr -d '\r' <"$logs/gwh.$1" | sed -n 's/^[Rr]etry-[Aa]fter: //p' | grep . || echo -)" \
				"$(tr -d '\r' <"$logs/gwh.$1" | sed -n 's/^[Ee][Tt]ag: //p' | grep . || echo -) 演练-$1-$i"
		fi
		sleep 0.2
	done >>"$logs/gridwrites"
}

# Grid edits through the API, if the grid editor takes them: one group grid
# per server, so that the two do not race for the same version.
gids=($(psql "$db" -qtAc "SELECT id FROM grids WHERE level = 'group' ORDER BY id LIMIT 2"))
probe=$(curl -s -o /dev/null -w '%{http_code}' "${url[A]}/api/grids/${gids[0]}")
grids=0
if [ "$probe" = 200 ]; then grids=1; else say "the grid editor answered $probe: grid edits left out"; fi

for name in A B; do
	reader $name & pids+=($!)
	needsdb $name & pids+=($!)
	ready $name & pids+=($!)
done
sqlwriter & pids+=($!)
if [ $grids = 1 ]; then
	gridwriter A "${gids[0]}" & pids+=($!)
	gridwriter B "${gids[1]}" & pids+=($!)
fi

say "load running; PostgreSQL goes down in 10 s for ${down} s"
sleep 10
t_stop=$(now)
as_owner "$pgbin/pg_ctl" -D "$data" -m immediate stop >/dev/null
t_down=$(now) # every backend is gone: the outage proper starts
say "PostgreSQL stopped (immediate)"
sleep "$down"
t_start=$(now)
scripts/db.sh >/dev/null &
dbsh=$!
for _ in $(seq 2400); do
	pg_isready -q -h 127.0.0.1 -p "$port" && break
	sleep 0.05
done
t_up=$(now)
wait $dbsh
say "PostgreSQL started again ($(( (t_up - t_start) )) ms until it accepted connections: crash recovery)"

# Wait (up to a minute each) until both servers are ready again, by themselves.
declare -A readyok
for name in A B; do
	readyok[$name]=no
	for _ in $(seq 1200); do
		if [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "${url[$name]}/readyz")" = 200 ]; then readyok[$name]=yes; break; fi
		sleep 0.05
	done
done
t_ready=$(now)
say "load goes on for 15 s"
sleep 15
for p in "${pids[@]:2}"; do kill "$p" 2>/dev/null || true; done
sleep 1

# --- replicas against the database
declare -A seqok countok
latest=$(psql "$db" -qtAc "SELECT coalesce(max(seq), 0) FROM change_feed")
for name in A B; do
	seqok[$name]=no
	for _ in $(seq 600); do
		s=$(curl -s "${murl[$name]}" | sed -n 's/^onemap_replica_seq //p')
		if [ "${s%%.*}" = "$latest" ] || [ "$(printf '%.0f' "$s" 2>/dev/null)" = "$latest" ]; then seqok[$name]=yes; break; fi
		sleep 0.1
	done
done
counts=""
for l in grids risk_points households cameras stations; do
	n=$(psql "$db" -qtAc "SELECT count(*) FROM $l")
	counts+=" $l=$n"
	for name in A B; do
		r=$(curl -s "${murl[$name]}" | sed -n "s/^onemap_replica_features{layer=\"$l\"} //p")
		[ "$(printf '%.0f' "$r")" = "$n" ] || countok[$name]="${countok[$name]:-} $l:replica=$r,db=$n"
	done
done

# --- every acknowledged write in the database
acked=$(awk '$2 == "ack"' "$logs/sqlwrites" | wc -l)
refused=$(awk '$2 == "refused"' "$logs/sqlwrites" | wc -l)
ids=$(awk '$2 == "ack" {printf "%s%s", sep, $4; sep=","}' "$logs/sqlwrites")
present=$(psql "$db" -qtAc "SELECT count(*) FROM stations WHERE id IN (${ids:-0}) AND name LIKE '演练-%'")
gacked=0 gpresent=0 grefused503=0 grefused=0
if [ $grids = 1 ]; then
	while read -r t s op code ra etag gname; do
		if [ "$op" = patch ] && [ "${code:0:1}" = 2 ]; then
			gacked=$((gacked + 1))
			v=$(echo "$etag" | tr -dc '0-9')
			gid=${gids[0]}
			[ "$s" = B ] && gid=${gids[1]}
			n=$(psql "$db" -qtAc "SELECT count(*) FROM feature_history WHERE layer = 'grids' AND feature_id = $gid AND version = ${v:-0} AND attrs->>'name' = '$gname'")
			gpresent=$((gpresent + n))
		elif [ "$t" -ge "$t_down" ] && [ "$t" -lt "$t_start" ]; then
			grefused=$((grefused + 1))
			[ "$code" = 503 ] && [ "$ra" != - ] && grefused503=$((grefused503 + 1))
		fi
	done <"$logs/gridwrites"
fi

# --- graceful shutdown under what load is left
declare -A exitcode
for name in A B; do
	pid=$(cat "$logs/$name.pid")
	kill -TERM "$pid"
	set +e
	wait "$pid"
	exitcode[$name]=$?
	set -e
done
pids=()

# --- report
t_end=$(now)
rel() { awk -v t="$1" -v s="$t_stop" 'BEGIN { printf "%+.1f s", (t - s) / 1000 }'; }
# "during the outage": from the moment the stop returned (no backend left) to
# the moment the start was issued; answers that completed while PostgreSQL
# was starting up again are left out, on neither side of the count.
during() { awk -v a="$t_down" -v b="$t_start" '$1 >= a && $1 < b' "$1"; }
echo "stop=$t_stop down=$t_down start=$t_start up=$t_up ready=$t_ready" >"$logs/marks"
reads_during=$(during "$logs/reads" | wc -l)
reads_ok=$(during "$logs/reads" | awk '$3 == 200 || $3 == 204' | wc -l)
db_during=$(during "$logs/needsdb" | wc -l)
db_503=$(during "$logs/needsdb" | awk '$3 == 503 && $4 != ""' | wc -l)
sql_during=$(during "$logs/sqlwrites" | wc -l)

echo
echo "OneMap outage drill: PostgreSQL stopped hard (pg_ctl -m immediate) for ${down} s under load, 2 servers"
echo "  stop issued at 0.0 s, down at $(rel "$t_down"), start at $(rel "$t_start"), accepting connections again at $(rel "$t_up") (crash recovery; pg_isready polled every 50 ms)"
for name in A B; do
	back=$(awk -v s="$name" -v t="$t_up" '$2 == s && $1 >= t && $3 == 200 { print $1; exit }' "$logs/ready")
	echo "  server $name ready again (first /readyz 200) $(( ${back:-$t_ready} - t_up )) ms after PostgreSQL accepted connections, without a restart"
done
echo "while PostgreSQL was down (+$(awk -v a="$t_down" -v b="$t_start" -v s="$t_stop" 'BEGIN { printf "%.1f s to +%.1f s", (a - s) / 1000, (b - s) / 1000 }')):"
echo "reads during the outage (tiles, nearby, locate, around, search, within, stats, OGC items):"
echo "  $reads_ok of $reads_during answered 200/204 from the replicas"
during "$logs/reads" | awk '$3 != 200 && $3 != 204 {print "    not answered: " $2 " " $3 " " $4}' | sort | uniq -c | head -10
echo "requests that need the database during the outage (GET /api/layers/stations/features):"
echo "  $db_503 of $db_during answered 503 with Retry-After"
if [ $grids = 1 ]; then
	echo "grid edits through the servers' API (PATCH /api/grids/{id} with If-Match):"
	echo "  $gacked acknowledged (2xx), of which $gpresent are in the database's history with their name and version"
	echo "  during the outage: $grefused refused (the GET of the ETag or the PATCH), $grefused503 of them 503 with Retry-After"
fi
echo "writes by other servers (SQL INSERT, one transaction each):"
echo "  $acked acknowledged, $refused refused; acknowledged and in the database: $present of $acked ($sql_during attempted while it was down)"
echo "readiness transitions (/readyz, relative to the stop):"
for name in A B; do
	awk -v s="$name" -v t0="$t_stop" '$2 == s { if ($3 != last) { printf "  %s %s at %+.1f s\n", s, ($3 == 200 ? "ready" : "not ready (" $3 ")"), ($1 - t0) / 1000; last = $3 } }' "$logs/ready"
done
echo "replicas against the database (change-feed position $latest;$counts):"
for name in A B; do
	echo "  $name: at the database's position: ${seqok[$name]}; feature counts per layer equal: $([ -z "${countok[$name]:-}" ] && echo yes || echo "no:${countok[$name]}")"
done
echo "graceful stop (SIGTERM): A exit ${exitcode[A]}, B exit ${exitcode[B]}"

pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $1"; fi; }
check "reads answered during the outage" '[ "$reads_during" -gt 0 ] && [ "$reads_ok" = "$reads_during" ]'
check "database requests refused with 503 + Retry-After" '[ "$db_during" -gt 0 ] && [ "$db_503" = "$db_during" ]'
check "both servers ready again without a restart" '[ "${readyok[A]}" = yes ] && [ "${readyok[B]}" = yes ]'
check "acknowledged SQL writes in the database" '[ "$acked" -gt 0 ] && [ "$present" = "$acked" ]'
if [ $grids = 1 ]; then
	check "acknowledged grid edits in the database" '[ "$gpresent" = "$gacked" ]'
	check "grid edits during the outage refused with 503 + Retry-After" '[ "$grefused503" = "$grefused" ]'
fi
check "replica A at the database's position with equal counts" '[ "${seqok[A]}" = yes ] && [ -z "${countok[A]:-}" ]'
check "replica B at the database's position with equal counts" '[ "${seqok[B]}" = yes ] && [ -z "${countok[B]:-}" ]'
check "servers exit 0 on SIGTERM" '[ "${exitcode[A]}" = 0 ] && [ "${exitcode[B]}" = 0 ]'
echo "outage: $pass passed, $fail failed"
[ "$fail" = 0 ]
