#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the module (every `func FuzzX(f
# *testing.F)` in a _test.go file) for a short time each, and says which
# failed. `make fuzz` and `make test` call it.
#
#   scripts/fuzz.sh                    each target for FUZZTIME (default 10s)
#   FUZZTIME=2m scripts/fuzz.sh ./api  only the targets of these packages
#   FUZZ_SAVE=1 scripts/fuzz.sh        also copy up to 20 of the inputs each
#                                      target found new (the smallest) into
#                                      its testdata/fuzz/<target>/, the seed
#                                      corpus plain `go test` replays
#
# A failing input is written by Go to <package>/testdata/fuzz/<target>/:
# commit it with the fix, and every `go test` replays it from then on.
# Targets that need PostGIS (FuzzServer) read ONEMAP_TEST_DATABASE_URL as
# the tests do (`eval "$(scripts/db.sh)"`), and run for at least FUZZTIME_DB
# (default 30s), since each fuzzing worker first opens a database of its own.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
cache=$(go env GOCACHE)/fuzz

# seconds converts a duration in whole h, m and s (10s, 2m, 1h30m) to seconds.
seconds() {
	local d=$1 total=0
	while [[ $d =~ ^([0-9]+)([hms])(.*)$ ]]; do
		case ${BASH_REMATCH[2]} in
		h) total=$((total + BASH_REMATCH[1] * 3600)) ;;
		m) total=$((total + BASH_REMATCH[1] * 60)) ;;
		s) total=$((total + BASH_REMATCH[1])) ;;
		esac
		d=${BASH_REMATCH[3]}
	done
	echo $total
}
# longer prints the longer of two durations.
longer() { if [ "$(seconds "$1")" -ge "$(seconds "$2")" ]; then echo "$1"; else echo "$2"; fi; }

failed=()
ran=0
for dir in $(go list -f '{{.Dir}}' "${pkgs[@]}"); do
	pkg=$(go list -f '{{.ImportPath}}' "$dir")
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' "$dir"/*_test.go 2>/dev/null | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/' | sort -u)
	for t in $targets; do
		tt=$fuzztime
		# A target over a real database (its file uses pgtest) needs time to
		# set up each worker and to replay its corpus before it fuzzes: give
		# it at least FUZZTIME_DB (default 30s).
		if grep -l "^func $t(" "$dir"/*_test.go | xargs grep -q 'pgtest\.'; then
			tt=$(longer "$fuzztime" "${FUZZTIME_DB:-30s}")
		fi
		echo "== fuzz $pkg $t for $tt" >&2
		ran=$((ran + 1))
		ok=0
		for try in 1 2; do
			if go test "$dir" -run "^$t\$" -fuzz "^$t\$" -fuzztime "$tt" >"/tmp/fuzz-$$.log" 2>&1; then
				ok=1
				break
			fi
			# A failing input is a failure; anything else (the time ran out
			# while the corpus was replayed on a busy machine) gets one more try.
			grep -q "Failing input written to" "/tmp/fuzz-$$.log" && break
			[ $try = 1 ] && echo "   (failed without a failing input; once more)" >&2
		done
		if [ $ok = 0 ]; then
			grep -v '^\[GIN' "/tmp/fuzz-$$.log" | tail -30 >&2
			failed+=("$pkg.$t")
		else
			tail -1 "/tmp/fuzz-$$.log" >&2
		fi
		if [ "${FUZZ_SAVE:-}" = 1 ] && [ -d "$cache/$pkg/$t" ]; then
			mkdir -p "$dir/testdata/fuzz/$t"
			ls -S -r "$cache/$pkg/$t" | head -20 | while read -r f; do
				cp -n "$cache/$pkg/$t/$f" "$dir/testdata/fuzz/$t/$f"
			done
		fi
	done
done
rm -f "/tmp/fuzz-$$.log"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of $ran targets failed: ${failed[*]}" >&2
	echo "fuzz: $((ran - ${#failed[@]})) passed, ${#failed[@]} failed"
	exit 1
fi
echo "fuzz: $ran passed, 0 failed"
