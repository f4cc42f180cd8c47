#!/usr/bin/env bash
# pgscale.sh measures emailflow on PostgreSQL beside pgbench, on the same
# database and machine, in one run, and prints the ratio the scale-out
# target is stated in: lifecycles/s × 7 (a lifecycle is seven write and
# read transactions) against pgbench's TPS with 8 clients (tpcb-like,
# scale 10). Both sides use the server's settings (commits wait for the
# disk), each emailflow instance a pool of its own.
#
# Usage, from anywhere in the repository:
#
#	bench/pgscale.sh                   # 20 s per measurement
#	SECONDS_EACH=5 bench/pgscale.sh    # a quick look
#
# Needs PostgreSQL (EMAILFLOW_POSTGRES_DSN, default the tests' database)
# and pgbench (Debian: postgresql-contrib, or postgresql-client-NN). The
# pgbench tables are created in the database's public schema and dropped
# at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
DSN=${EMAILFLOW_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
SECONDS_EACH=${SECONDS_EACH:-20}
if ! command -v pgbench >/dev/null; then
	echo "pgbench not found: apt-get install postgresql-contrib (or postgresql-client)" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'pgbench -i -I d "$DSN" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "machine: $(nproc) vCPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git rev-parse --short HEAD)"

pgbench -i -q -s 10 "$DSN" >"$work/init.log" 2>&1
tps() { # tps CLIENTS
	pgbench -b tpcb-like -c "$1" -j "$(( $1 < 2 ? 1 : 2 ))" -T "$SECONDS_EACH" "$DSN" 2>/dev/null |
		awk '/^tps = / {print $3; exit}'
}
tps1=$(tps 1)
tps8=$(tps 8)
echo "pgbench tpcb-like scale 10: 1 client ${tps1} TPS, 8 clients ${tps8} TPS"

go test -run '^$' -bench '^BenchmarkScene$' -benchtime "${SECONDS_EACH}s" ./store/postgres/ >"$work/scene.txt"
echo "emailflow scene (10 queues, 40 agents of capacity 3, 2 workers per instance):"
awk -v tps8="$tps8" '
	/^BenchmarkScene\/instances=/ {
		n = $1; sub(/.*instances=/, "", n); sub(/-.*/, "", n)
		for (i = 1; i <= NF; i++) if ($(i+1) == "lifecycles/s") l = $i
		printf "  %s instance(s): %8.1f lifecycles/s, x7 = %7.1f tx/s, ratio to pgbench 8 clients %.2f\n", n, l, l*7, l*7/tps8
	}' "$work/scene.txt"
