#!/usr/bin/env bash
# bulk-partition.sh: measures, by hand in SQL, a bulk load of cameras written
# as a partition of its own (a fresh table filled with no index or trigger,
# by two backends at once, indexed in bulk, attached in one short
# transaction), against the bulk path of `onemap import` over the same rows in
# the same run. It works on a copy of a province database that it makes and
# drops; the original is only read (as a template).
#
#   scripts/bulk-partition.sh SERVER_URL ORIGINAL_DB [ROWS] [ONEMAP_BINARY]
#
# SERVER_URL is a postgres:// URL of the server (any database on it), ROWS
# the cameras to load (default 400000), ONEMAP_BINARY the binary whose
# `import` is the baseline (default bin/onemap; "-" skips it). The server
# must run on this machine: each step's figure is the wall time and the CPU
# of the backend(s) that ran it (read from /proc), beside the load average.
# Parallel index builds are off, so that a step's CPU is its backend's.
#
# The parent tables made here (cameras_p, history_p) stand in for layer
# tables partitioned by id RANGE: a base partition of ids below 2^40 for the
# ordinary writes (a copy of the province's cameras, with their indexes) and
# a partition per load of a block of ids above it. The history's base
# partition is left empty: nothing a load does reads it.
set -euo pipefail

server=${1:?server URL}
orig=${2:?original database}
rows=${3:-400000}
onemap=${4:-bin/onemap}
copy=bulkpart_$$
url=$(printf '%s' "$server" | sed -E "s#/[^/?]*(\?|$)#/$copy\1#")
dir=$(mktemp -d)
trap 'rm -rf "$dir"; psql "$server" -qc "DROP DATABASE IF EXISTS $copy" >/dev/null 2>&1 || true' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }

# run NAME SQL: runs SQL in a session of its own and prints its wall time and
# its backend's CPU.
run() {
	local name=$1 sql=$2
	psql "$url" -Atq -v ON_ERROR_STOP=1 -v name="$name" <<EOF
SET max_parallel_maintenance_workers = 0; SET max_parallel_workers_per_gather = 0;
SET maintenance_work_mem = '256MB'; SET work_mem = '256MB'; SET jit = off;
SELECT pg_backend_pid() AS pid \gset
\set c0 \`awk '{print \$14+\$15}' /proc/:pid/stat\`
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
$sql
SELECT extract(epoch FROM clock_timestamp()) AS t1 \gset
\set c1 \`awk '{print \$14+\$15}' /proc/:pid/stat\`
\set ticks \`expr :c1 - :c0 >> $dir/cpu\`
SELECT rpad(:'name', 58) || to_char(:t1 - :t0, '9990.00') || ' s wall' || to_char((:c1 - :c0) / 100.0, '9990.00') || ' s CPU' || to_char((:c1 - :c0) / 100.0 * 1e6 / $rows, '9990.0') || ' µs CPU a row';
EOF
}

# both NAME SQL1 SQL2: runs the two in two sessions at once.
both() {
	local name=$1 t0 t1
	t0=$(date +%s.%N)
	run "$name (1 of 2)" "$2" >"$dir/a" &
	local a=$!
	run "$name (2 of 2)" "$3" >"$dir/b" &
	local b=$!
	wait $a
	wait $b
	t1=$(date +%s.%N)
	cat "$dir/a" "$dir/b"
	printf '%-58s %7.2f s wall (both)\n' "$name" "$(echo "$t1 - $t0" | bc)"
}

echo "copy $orig to $copy ($(load))"
until psql "$server" -qc "CREATE DATABASE $copy TEMPLATE $orig" 2>/dev/null; do sleep 5; done

# The file: ROWS new cameras (device codes of their own) near existing ones,
# in the columns `onemap import --layer cameras` reads.
psql "$url" -Atq -c "\copy (SELECT '8' || lpad(id::text, 19, '0') AS device_code, name, kind, status, heading, fov, synthetic,
	ST_X(geom) + CASE WHEN ST_X(geom) > 102 THEN -0.0001 ELSE 0.0001 END AS lon,
	ST_Y(geom) + CASE WHEN ST_Y(geom) > 25 THEN -0.0001 ELSE 0.0001 END AS lat FROM cameras WHERE id <= $rows ORDER BY id) TO '$dir/cameras.csv' CSV HEADER"
echo "file: $rows cameras, $(du -h "$dir/cameras.csv" | cut -f1)"

echo "== set-up (once, not part of a load): partitioned stand-ins ($(load))"
run "cameras_p with a base partition (a copy of cameras)" "
CREATE SEQUENCE cameras_p_id START 3000000;
CREATE TABLE cameras_p (LIKE cameras INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (id);
ALTER TABLE cameras_p ALTER id SET DEFAULT nextval('cameras_p_id');
CREATE TABLE cameras_base PARTITION OF cameras_p FOR VALUES FROM (MINVALUE) TO (1099511627776);
INSERT INTO cameras_base SELECT * FROM cameras;
ALTER TABLE cameras_p ADD PRIMARY KEY (id);
CREATE INDEX cameras_p_geom ON cameras_p USING gist (geom);
CREATE INDEX cameras_p_grid ON cameras_p (grid_id);
CREATE INDEX cameras_p_code ON cameras_p (device_code);
ALTER TABLE cameras_p ADD FOREIGN KEY (kind) REFERENCES camera_kinds (code);
ALTER TABLE cameras_p ADD FOREIGN KEY (grid_id) REFERENCES grids (id) ON DELETE SET NULL;
CREATE TABLE history_p (LIKE feature_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (feature_id);
CREATE TABLE history_base PARTITION OF history_p FOR VALUES FROM (MINVALUE) TO (1099511627776);
ALTER TABLE history_p ADD PRIMARY KEY (layer, feature_id, version);
CREATE INDEX history_p_changed_at ON history_p (changed_at);
ANALYZE cameras_p;"

lo=1099511627776 # 2^40: the load's block of ids
hi=$((lo + 4294967296))
half=$((rows / 2))
# finish N LO HI: indexes, checks and attach of load_N and its history
# (ids in [LO, HI)), with one feed row, and the rows/s since $t0.
finish() {
	local n=$1 lo=$2 hi=$3 t1 wall cpu
	both "indexes: GiST (sorted build) | key, device code" "
CREATE INDEX load_${n}_geom ON load_$n USING gist (geom);" "
ALTER TABLE load_$n ADD PRIMARY KEY (id); CREATE INDEX load_${n}_code ON load_$n (device_code);"
	both "indexes: grid | history's key and time" "
CREATE INDEX load_${n}_grid ON load_$n (grid_id);" "
ALTER TABLE load_${n}_history ADD PRIMARY KEY (layer, feature_id, version); CREATE INDEX load_${n}_history_at ON load_${n}_history (changed_at);"
	both "checks: references, id ranges" "
ALTER TABLE load_$n ADD CONSTRAINT load_${n}_block CHECK (id >= $lo AND id < $hi);
ALTER TABLE load_$n ADD FOREIGN KEY (kind) REFERENCES camera_kinds (code);
ALTER TABLE load_$n ADD FOREIGN KEY (grid_id) REFERENCES grids (id) ON DELETE SET NULL;" "
ALTER TABLE load_${n}_history ADD CONSTRAINT load_${n}_history_block CHECK (feature_id >= $lo AND feature_id < $hi);"
	run "device codes new to the layer (one join)" "
SELECT count(*) AS clashes FROM load_$n n JOIN cameras_base b USING (device_code) \\gset
SELECT CASE WHEN :clashes > 0 THEN 1/0 END;"
	run "ANALYZE the load's tables" "SET default_statistics_target = 10; ANALYZE load_$n; ANALYZE load_${n}_history;"
	run "attach both, one feed row: one transaction" "
BEGIN;
ALTER TABLE cameras_p ATTACH PARTITION load_$n FOR VALUES FROM ($lo) TO ($hi);
ALTER TABLE history_p ATTACH PARTITION load_${n}_history FOR VALUES FROM ($lo) TO ($hi);
SELECT pg_advisory_xact_lock(hashtext('onemap.change_feed'));
INSERT INTO change_feed (layer, feature_id, op, version, new_bound, changed_by)
SELECT 'cameras', 0, 'reload', 0, ST_SetSRID(ST_Extent(geom)::geometry, 4326), 'bulk' FROM load_$n;
COMMIT;"
	t1=$(date +%s.%N)
	wall=$(echo "$t1 - $t0" | bc)
	cpu=$(awk '{s += $1} END {print s / 100}' "$dir/cpu")
	printf '%s: %d cameras in %.2f s: %.0f rows/s; the backends CPU %.2f s, %.1f µs a row (%s)\n' "$4" "$rows" "$wall" "$(echo "$rows / $wall" | bc -l)" "$cpu" "$(echo "$cpu * 1000000 / $rows" | bc -l)" "$(load)"
	psql "$url" -Atc "SELECT format('check: %s cameras in the load partition, %s history rows, %s without a grid, the parent %s rows', (SELECT count(*) FROM cameras_p WHERE id >= $lo AND id < $hi), (SELECT count(*) FROM history_p WHERE feature_id >= $lo AND feature_id < $hi), (SELECT count(*) FROM cameras_p WHERE id >= $lo AND id < $hi AND grid_id IS NULL), (SELECT count(*) FROM cameras_p))"
}
echo "== the load: $rows cameras as a partition of ids [$lo, $hi) ($(load))"
: >"$dir/cpu"
t0=$(date +%s.%N)
run "stage: COPY the file into an unlogged table" "
CREATE UNLOGGED TABLE stage (line serial, device_code text, name text, kind text, status text, heading real, fov real, synthetic boolean, lon float8, lat float8);
\copy stage (device_code, name, kind, status, heading, fov, synthetic, lon, lat) FROM '$dir/cameras.csv' CSV HEADER
ALTER TABLE stage ADD COLUMN geom geometry(Point, 4326);
UPDATE stage SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326);"
run "stage: index the points, analyze" "
CREATE INDEX stage_geom ON stage USING gist (geom);
SET default_statistics_target = 10; ANALYZE stage;"
run "check envelope, vertices, one row a device code" "
SELECT count(*) AS outside FROM stage s CROSS JOIN region r WHERE NOT ST_CoveredBy(s.geom, r.envelope) OR ST_NPoints(s.geom) > r.max_vertices \\gset
SELECT count(*) AS twice FROM (SELECT device_code FROM stage GROUP BY 1 HAVING count(*) > 1) d \\gset
SELECT CASE WHEN :outside + :twice > 0 THEN 1/0 END;"
run "empty tables of the load (cameras, history)" "
CREATE UNLOGGED TABLE stage_grid (line integer, grid bigint);
CREATE TABLE load_1 (LIKE cameras_p INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE load_1_history (LIKE history_p INCLUDING DEFAULTS INCLUDING CONSTRAINTS);"
both "grids join, grids split by id parity" "
INSERT INTO stage_grid SELECT s.line, min(g.id) FROM grids g JOIN stage s ON ST_Intersects(g.geom, s.geom)
WHERE g.level = 'group' AND g.id % 2 = 0 GROUP BY s.line;" "
INSERT INTO stage_grid SELECT s.line, min(g.id) FROM grids g JOIN stage s ON ST_Intersects(g.geom, s.geom)
WHERE g.level = 'group' AND g.id % 2 = 1 GROUP BY s.line;"
run "lowest grid of a point on a shared border" "
CREATE UNLOGGED TABLE stage_g AS SELECT line, min(grid) AS grid FROM stage_grid GROUP BY line;
CREATE INDEX ON stage_g (line); ANALYZE stage_g;"
# ids in place order: line's rank by geometry, computed once.
run "ids in place order" "
CREATE UNLOGGED TABLE stage_id AS SELECT line, $lo + row_number() OVER (ORDER BY geom, line) AS id FROM stage;
CREATE INDEX ON stage_id (line); ANALYZE stage_id;"
ins="INSERT INTO load_1 (id, device_code, name, kind, status, heading, fov, grid_id, synthetic, geom, version, created_at, created_by, updated_at, updated_by)
SELECT i.id, s.device_code, s.name, s.kind, s.status, s.heading, s.fov, g.grid, s.synthetic, s.geom, 1, now(), 'bulk', now(), 'bulk'
FROM stage s JOIN stage_id i USING (line) LEFT JOIN stage_g g USING (line)"
both "rows into the load's table, no index" "$ins WHERE s.line <= $half;" "$ins WHERE s.line > $half;"
hist="INSERT INTO load_1_history (layer, feature_id, version, op, attrs, geom, changed_by, reason, reason_code, import_file)
SELECT 'cameras', w.id, 1, 'insert', jsonb_build_object('id', w.id, 'device_code', w.device_code, 'name', w.name, 'kind', w.kind, 'status', w.status,
 'heading', w.heading, 'fov', w.fov, 'grid_id', w.grid_id, 'synthetic', w.synthetic, 'version', w.version, 'created_at', w.created_at,
 'created_by', w.created_by, 'updated_at', w.updated_at, 'updated_by', w.updated_by), w.geom, 'bulk', '', 'import', 'cameras.csv' FROM load_1 w"
both "history into the load's history table, no index" "$hist WHERE w.id <= $lo + $half;" "$hist WHERE w.id > $lo + $half;"
finish 1 "$lo" "$hi" "the load as a partition, grids and history by SQL"


lo2=$hi
hi2=$((hi + 4294967296))
echo "== the same rows as a second partition, ids [$lo2, $hi2), with what the client would compute (each row's id in place order, grid and history's attributes as JSON) given: COPY straight into the load's tables ($(load))"
for h in 1 2; do
	if [ $h = 1 ]; then w="id <= $lo + $half"; else w="id > $lo + $half"; fi
	psql "$url" -Atq -c "\copy (SELECT id - $lo + $lo2, device_code, name, kind, status, heading, fov, grid_id, synthetic, geom, version, created_at, created_by, updated_at, updated_by FROM load_1 WHERE $w ORDER BY id) TO '$dir/load$h.csv' CSV"
	psql "$url" -Atq -c "\copy (SELECT layer, feature_id - $lo + $lo2, version, op, jsonb_set(attrs, '{id}', to_jsonb(feature_id - $lo + $lo2)), geom, changed_at, changed_by, reason, reason_code, import_file FROM load_1_history WHERE feature_$w ORDER BY feature_id) TO '$dir/hist$h.csv' CSV"
done
: >"$dir/cpu"
t0=$(date +%s.%N)
run "empty tables of the load (cameras, history)" "
CREATE TABLE load_2 (LIKE cameras_p INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE load_2_history (LIKE history_p INCLUDING DEFAULTS INCLUDING CONSTRAINTS);"
cols="id, device_code, name, kind, status, heading, fov, grid_id, synthetic, geom, version, created_at, created_by, updated_at, updated_by"
hcols="layer, feature_id, version, op, attrs, geom, changed_at, changed_by, reason, reason_code, import_file"
both "COPY into the load's table (checks, no index)" "\\copy load_2 ($cols) FROM '$dir/load1.csv' CSV" "\\copy load_2 ($cols) FROM '$dir/load2.csv' CSV"
both "COPY into the load's history table (no index)" "\\copy load_2_history ($hcols) FROM '$dir/hist1.csv' CSV" "\\copy load_2_history ($hcols) FROM '$dir/hist2.csv' CSV"
finish 2 "$lo2" "$hi2" "the load as a partition, COPY of what the client computed (its own CPU not counted)"
psql "$url" -Atc "EXPLAIN SELECT * FROM cameras_p WHERE geom && ST_MakeEnvelope(101, 25, 101.01, 25.01, 4326)" | grep -v 'Cond:'

if [ "$onemap" != "-" ]; then
	echo "== baseline: onemap import --layer cameras (the bulk path into the table as it is) ($(load))"
	t0=$(date +%s.%N)
	ONEMAP_DATABASE_URL=$url "$onemap" import --layer cameras --bulk on "$dir/cameras.csv" >"$dir/import" 2>&1 &
	imp=$!
	# The CPU of the import's backend (the one that writes the staging
	# table), read from /proc until it exits.
	pid= ticks=0
	while kill -0 $imp 2>/dev/null; do
		[ -n "$pid" ] || pid=$(psql "$url" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%onemap_bulk%' LIMIT 1")
		[ -z "$pid" ] || ticks=$(awk '{print $14+$15}' /proc/$pid/stat 2>/dev/null || echo $ticks)
		sleep 1
	done
	wait $imp
	t1=$(date +%s.%N)
	tail -3 "$dir/import"
	printf 'the import'"'"'s backend: %.2f s CPU, %.1f µs a row\n' "$(echo "$ticks / 100" | bc -l)" "$(echo "$ticks * 10000 / $rows" | bc -l)"
	wall=$(echo "$t1 - $t0" | bc)
	psql "$url" -Atc "SELECT format('check: %s of the imported cameras in the same grid as in the load partition, %s not', count(*) FILTER (WHERE c.grid_id IS NOT DISTINCT FROM l.grid_id), count(*) FILTER (WHERE c.grid_id IS DISTINCT FROM l.grid_id)) FROM cameras c JOIN load_1 l USING (device_code)"
	printf 'onemap import: %d cameras in %.2f s: %.0f rows/s (%s)\n' "$rows" "$wall" "$(echo "$rows / $wall" | bc -l)" "$(load)"
fi
