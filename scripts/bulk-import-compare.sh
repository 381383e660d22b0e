#!/usr/bin/env bash
# bulk-import-compare.sh: `onemap import` of new cameras by two binaries, run
# alternately, each over a copy of a province database of its own, with the
# whole path's cost: wall time, rows/s, the importer's own CPU (reading the
# file, placing the points, sending them) and its database backends' CPU,
# and their sum a row (what bounds rows/s on an idle machine of two cores).
# It works on copies that it makes and drops; the original is only read (as
# a template).
#
#   scripts/bulk-import-compare.sh SERVER_URL ORIGINAL_DB [ROWS] [OLD] [NEW] [ROUNDS]
#
# SERVER_URL is a postgres:// URL of the server (any database on it), ROWS the
# cameras a file holds (default 200000), OLD and NEW the binaries (default
# bin/onemap for both), ROUNDS the pairs of imports (default 2). Each import
# loads a file of its own: ROWS cameras of the province moved by 0.0001° and
# given new device codes, so every row is a new camera. After each import it
# checks that every loaded camera has its creation in its history (a row,
# or the load's entry: migration 0044), that the load wrote
# one `reload` feed row, and that a sample of the cameras lie in the group
# grid the grid trigger would give them. The server must run on this
# machine: backends' CPU is read from /proc.
#
# OLD and NEW each import into a copy of its own, migrated by that binary
# (the schema is part of what is compared: migration 0046 changed the
# cameras' device-code check); both copies are made from the same original
# and grow alike (each takes the same number of files of ROWS cameras).
#
# EMPTY_LAYER=1 in the environment loads each file into an empty cameras
# layer instead (the copy's cameras are removed, TRUNCATE … CASCADE, before
# each import; the files are written first): the province's first load,
# where the bulk path builds the layer's indexes after the rows.
set -euo pipefail

server=${1:?server URL}
orig=${2:?original database}
rows=${3:-200000}
old=${4:-bin/onemap}
new=${5:-bin/onemap}
rounds=${6:-2}
copy_old=bulkcmp_$$_old
copy_new=bulkcmp_$$_new
url_old=$(printf '%s' "$server" | sed -E "s#/[^/?]*(\?|$)#/$copy_old\1#")
url_new=$(printf '%s' "$server" | sed -E "s#/[^/?]*(\?|$)#/$copy_new\1#")
url=$url_old # where the files are made from (the original's cameras)
dir=$(mktemp -d)
trap 'rm -rf "$dir"; for c in $copy_old $copy_new; do psql "$server" -qc "DROP DATABASE IF EXISTS $c" >/dev/null 2>&1 || true; done' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

for which in old new; do
	c=copy_$which u=url_$which
	echo "copy $orig to ${!c} ($(load))"
	until psql "$server" -qc "CREATE DATABASE ${!c} TEMPLATE $orig" 2>/dev/null; do sleep 5; done
	t0=$(date +%s.%N)
	ONEMAP_DATABASE_URL=${!u} "${!which}" migrate >"$dir/migrate" 2>&1 || { cat "$dir/migrate"; exit 1; }
	echo "migrated ${!c} with ${!which} in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s"
done
# created says that camera c of file N has its creation by the import in
# its history: a history row, or (migration 0044) the load's entry while
# the camera is at version 1, as feature_history_of reads them.
created="EXISTS (SELECT FROM feature_history h WHERE h.layer = 'cameras' AND h.feature_id = c.id AND h.version = 1 AND h.op = 'insert'
	AND h.import_file LIKE '%camerasN.csv')"
if [ "$(psql "$url" -Atc "SELECT to_regclass('feature_loads') IS NOT NULL")" = t ]; then
	created="($created OR (c.version = 1 AND EXISTS (SELECT FROM feature_loads l WHERE l.layer = 'cameras' AND c.id BETWEEN l.first_id AND l.last_id
		AND l.import_file LIKE '%camerasN.csv')))"
fi

# makefile N: writes file N (ROWS cameras of the province, moved, with new
# device codes).
makefile() {
	local n=$1 file=$dir/cameras$1.csv
	[ -s "$file" ] && return 0
	psql "$url" -Atq -c "\copy (SELECT '8' || $n || lpad(id::text, 18, '0') AS device_code, name, kind, status, heading, fov, synthetic,
		ST_X(geom) + CASE WHEN ST_X(geom) > 102 THEN -0.0001 ELSE 0.0001 END AS lon,
		ST_Y(geom) + CASE WHEN ST_Y(geom) > 25 THEN -0.0001 ELSE 0.0001 END AS lat
		FROM cameras WHERE id > $((n * rows)) AND id <= $(((n + 1) * rows)) ORDER BY id) TO '$file' CSV HEADER"
}

# import N BINARY LABEL: imports file N with BINARY into LABEL's copy
# (old, new) and prints its figures.
import() {
	local n=$1 bin=$2 file=$dir/cameras$1.csv
	makefile "$n"
	local url copy
	if [ "$3" = old ]; then url=$url_old copy=$copy_old; else url=$url_new copy=$copy_new; fi
	if [ "${EMPTY_LAYER:-}" = 1 ]; then
		psql "$url" -Atq -c "TRUNCATE cameras CASCADE" 2>/dev/null
	fi
	local feed0
	feed0=$(psql "$url" -Atc "SELECT coalesce(max(seq), 0) FROM change_feed")
	local load0 t0 t1
	load0=$(load)
	# A reader of the layer beside the import: a read of one camera every
	# 20 ms, each printing when it ended; the longest gap between two is
	# the longest a reader waited for the import (the indexes dropped for a
	# first load lock the table against readers until commit).
	yes "SELECT extract(epoch FROM clock_timestamp()), (SELECT count(*) FROM cameras WHERE id = 1); SELECT pg_sleep(0.02);" |
		psql "$url" -qAt >"$dir/reads$n" 2>/dev/null &
	local reader=$!
	t0=$(date +%s.%N)
	ONEMAP_DATABASE_URL=$url /usr/bin/time -f '%U %S %M' -o "$dir/time$n" "$bin" import --layer cameras --bulk on --log-level debug "$file" >"$dir/import$n" 2>&1 &
	local imp=$!
	# Each backend of the copy's database: its CPU, read from /proc until
	# the import exits (the last reading of each).
	declare -A cpu=()
	local p
	while kill -0 $imp 2>/dev/null; do
		for p in $(psql "$server" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$copy' AND pid <> pg_backend_pid()"); do
			local t
			t=$(ticks "$p")
			[ "$t" = 0 ] || cpu[$p]=$t
		done
		sleep 0.5
	done
	wait $imp || { kill $reader 2>/dev/null; cat "$dir/import$n"; return 1; }
	t1=$(date +%s.%N)
	kill $reader 2>/dev/null
	wait $reader 2>/dev/null || true
	local db=0
	for p in "${!cpu[@]}"; do db=$((db + cpu[$p])); done
	read -r user sys rss <"$dir/time$n"
	local wall client
	wall=$(echo "$t1 - $t0" | bc)
	client=$(echo "$user + $sys" | bc)
	printf '%-4s file %d: %d rows in %6.2f s: %6.0f rows/s; importer CPU %5.2f s (%4.1f µs a row, peak %d MiB), its backends %5.2f s (%4.1f µs a row); in all %4.1f µs a row (%s → %s)\n' \
		"$3" "$n" "$rows" "$wall" "$(echo "$rows / $wall" | bc -l)" "$client" "$(echo "$client * 1000000 / $rows" | bc -l)" "$((rss / 1024))" \
		"$(echo "$db / 100" | bc -l)" "$(echo "$db * 10000 / $rows" | bc -l)" "$(echo "($client * 1000000 + $db * 10000) / $rows" | bc -l)" "$load0" "$(load)"
	grep -oE 'step=("[^"]*"|[^ ]*) took=[^ ]*' "$dir/import$n" | sed 's/^/       /' | tr '\n' ' '
	echo
	awk -F'|' -v wall="$wall" '$2 != "" { if (last != "" && $1 - last > gap) gap = $1 - last; last = $1; n++ }
		END { printf "       readers: %d reads of the layer beside the import (one every 20 ms); the longest wait between two %.2f s (of the import'"'"'s %.2f s)\n", n, gap, wall }' "$dir/reads$n"
	psql "$url" -Atc "SELECT format('       check: %s cameras of the file, %s with their history row; the feed rows the import wrote, by op: %s', count(*),
			count(*) FILTER (WHERE ${created//camerasN/cameras$n}),
			(SELECT string_agg(op, ',') FROM change_feed WHERE seq > $feed0))
		FROM cameras c WHERE device_code LIKE '8${n}%'"
	psql "$url" -Atc "SELECT format('       check: of 5,000 sampled cameras, %s in the grid the grid trigger gives, %s not', count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same))
		FROM (SELECT c.grid_id IS NOT DISTINCT FROM (SELECT min(g.id) FROM grids g WHERE g.level = 'group' AND ST_Intersects(g.geom, c.geom)) AS same
			FROM cameras c WHERE device_code LIKE '8${n}%' ORDER BY device_code LIMIT 5000) s"
}

if [ "${EMPTY_LAYER:-}" = 1 ]; then
	for n in $(seq 0 $((2 * rounds - 1))); do makefile "$n"; done
	echo "each import into an empty cameras layer (EMPTY_LAYER=1)"
fi
for r in $(seq 0 $((rounds - 1))); do
	import $((2 * r)) "$old" old
	import $((2 * r + 1)) "$new" new
done
