#!/usr/bin/env bash
# bench.sh measures OneMap's vector tiles end to end and prints a report:
# the demo county's tiles from the Go encoder (cache off and warm), from
# PostGIS's ST_AsMVT and from a bare net/http server, then two million
# cameras over Yunnan (load time, memory, largest and slowest tiles); then
# the point query routes against the best plain PostGIS query and /healthz
# (onemap-bench points), and the cold tile tail by zoom and the warm path
# against /healthz (onemap-bench tiles), each beside its baseline measured
# in the same run.
#
#   scripts/bench.sh                    # the whole benchmark, ~15 minutes on 2 cores
#   scripts/bench.sh --skip-province    # the county only; flags go to cmd/onemap-bench
#   scripts/bench.sh --help             # its flags
#   scripts/bench.sh MODE [flags]       # one mode alone: points, tiles, soak, ... ("points --help": its flags)
#   scripts/bench.sh cases              # 1,000,000 cases: the case work's reads timed and
#                                       # explained (not part of the default run: its load
#                                       # alone takes ~10 minutes on 2 cores); --cases N for fewer
#
# It provisions PostgreSQL + PostGIS as scripts/test.sh does (unless
# ONEMAP_TEST_DATABASE_URL is set), builds bin/onemap, and runs
# cmd/onemap-bench, which creates its own databases (onemap_bench_*) and
# drops them. Progress goes to stderr, the report to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${ONEMAP_TEST_DATABASE_URL:-}" ]; then
	exports=$(scripts/db.sh) || exit 1
	eval "$exports"
fi
export ONEMAP_TEST_DATABASE_URL

if [ "${1:-}" = cases ]; then
	shift
	exec go run ./cmd/onemap-bench cases "$@"
fi

version=$(git describe --always --dirty 2>/dev/null || echo dev)
echo "== building bin/onemap ($version)" >&2
go build -ldflags "-X github.com/onemapgis/onemap.Version=$version" -o bin/onemap ./cmd/onemap

case "${1:-}" in
"" | -*) ;;
*) # a mode by name (points, tiles, soak, ...): that mode alone
	mode=$1
	shift
	case $mode in
	alarms | tags) exec go run ./cmd/onemap-bench "$mode" "$@" ;; # in process: no server binary
	esac
	exec go run ./cmd/onemap-bench "$mode" --onemap bin/onemap "$@"
	;;
esac
go run ./cmd/onemap-bench --onemap bin/onemap "$@"
case " $* " in
*" --help "* | *" -h "*) exit 0 ;;
esac
go run ./cmd/onemap-bench points --onemap bin/onemap
go run ./cmd/onemap-bench tiles --onemap bin/onemap
