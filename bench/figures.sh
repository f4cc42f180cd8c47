#!/usr/bin/env bash
# figures.sh regenerates the figures quoted in README.md and docs/: it runs
# each group of benchmarks COUNT times (default 10), one run of every
# benchmark of the group after the other, so the ones compared share the
# machine's state, and writes docs/figures/<group>.txt: the commit, the
# machine, the Go version and the command, benchstat's summary (medians
# with their spread), then the ratios the documents quote, computed per
# run and summarized as median [min–max].
#
# Usage, from anywhere in the repository:
#
#	bench/figures.sh                 # every group
#	bench/figures.sh lifecycle parse # some groups
#	COUNT=3 bench/figures.sh routing # fewer runs, for a quick look
#
# Groups: lifecycle parse compose routing contact businesstime sla tick
# smtp postgres scene imap. postgres needs PostgreSQL on 127.0.0.1:5432 (as
# for the tests); scene runs bench/pgscale.sh (several instances beside
# pgbench, one run of each measurement: pgbench's own figures are the
# yardstick of the same minute) and needs pgbench too; imap needs the Dovecot of .ci/dovecot.sh, which the group starts
# and stops itself when EMAILFLOW_DOVECOT_ADDR is unset.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
COUNT=${COUNT:-10}
BENCHSTAT=${BENCHSTAT:-golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da}
out_dir=$root/docs/figures
mkdir -p "$out_dir"

stamp() { # stamp GROUP COMMAND: the header of a figures file
	local cpu
	cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
	echo "# $1"
	echo "commit:  $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs' || echo ' (with uncommitted changes)')"
	echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "machine: $(nproc) vCPU, ${cpu:-unknown CPU}, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr)"
	echo "go:      $(go version | cut -d' ' -f3-)"
	echo "load:    $(cut -d" " -f1-3 /proc/loadavg) (1, 5, 15 min, as the group ended)"
	echo "runs:    $COUNT, one run of each benchmark after the other"
	echo "command: $2"
	echo
}

# run GROUP DIR BENCH-REGEXP ARGS...: COUNT interleaved runs into a raw file.
run() {
	local group=$1 dir=$2 re=$3
	shift 3
	local raw=$out_dir/$group.raw
	: >"$raw"
	for i in $(seq 1 "$COUNT"); do
		echo "-- $group run $i/$COUNT" >&2
		(cd "$dir" && go test -run '^$' -bench "$re" -benchmem -count 1 "$@" .) | tee -a "$raw" >/dev/null
	done
}

# summarize GROUP COMMAND: the stamped benchstat table.
summarize() {
	local group=$1
	{
		stamp "$group" "$2"
		(cd "$out_dir" && go run "$BENCHSTAT" "$group.raw") | sed 's/[[:space:]]*$//'
	} >"$out_dir/$group.txt"
}

# ratio GROUP LABEL NUM DEN [UNIT]: per run, NUM's UNIT (ns/op by default)
# over DEN's, the i-th result of one with the i-th of the other; prints the
# median and the range. NUM and DEN are full benchmark names without the
# -N suffix of GOMAXPROCS.
ratio() {
	local group=$1 label=$2 num=$3 den=$4 unit=${5:-ns/op}
	awk -v num="$num" -v den="$den" -v unit="$unit" -v label="$label" '
		function value(   i) { for (i = 3; i < NF; i++) if ($(i+1) == unit) return $i; return "" }
		$1 ~ /^Benchmark/ {
			name = $1; sub(/-[0-9]+$/, "", name)
			v = value(); if (v == "") next
			if (name == num) n[++nn] = v
			if (name == den) d[++dd] = v
		}
		END {
			k = (nn < dd) ? nn : dd
			if (k == 0) { printf "%s: no pairs of %s and %s\n", label, num, den; exit }
			for (i = 1; i <= k; i++) r[i] = n[i] / d[i]
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			med = (k % 2) ? r[(k+1)/2] : (r[k/2] + r[k/2+1]) / 2
			printf "%s: %.2fx median [%.2f-%.2f] over %d runs (%s, %s over %s)\n", label, med, r[1], r[k], k, unit, num, den
		}' "$out_dir/$group.raw" >>"$out_dir/$group.txt"
}

group_lifecycle() {
	local cmd="go test -run '^\$' -bench '^Benchmark(Lifecycle|LifecycleParallel|ParseRender)\$' -benchmem -benchtime 40000x ."
	run lifecycle . '^Benchmark(Lifecycle|LifecycleParallel|ParseRender)$' -benchtime 40000x
	summarize lifecycle "$cmd"
	{ echo; echo "ratios (target: the lifecycle at most 3x parse and render alone):"; } >>"$out_dir/lifecycle.txt"
	ratio lifecycle "lifecycle / parse+render" BenchmarkLifecycle BenchmarkParseRender
	ratio lifecycle "lifecycle / parse+render, CPU" BenchmarkLifecycle BenchmarkParseRender cpu-ns/op
}

group_parse() {
	local cmd="cd bench && go test -run '^\$' -bench . -benchmem ."
	run parse bench .
	summarize parse "$cmd"
	{ echo; echo "ratios (targets: enmime / compose at least 10x; compose / go-message walk at most 2x):"; } >>"$out_dir/parse.txt"
	ratio parse "enmime / compose.Parse" BenchmarkEnmime BenchmarkCompose
	ratio parse "compose.Parse / go-message walk" BenchmarkCompose BenchmarkGoMessageWalk
}

group_compose() {
	run compose compose .
	summarize compose "go test -run '^\$' -bench . -benchmem ./compose"
}

group_routing() {
	run routing . '^BenchmarkRoutingDecision$' -benchtime 20000x
	summarize routing "go test -run '^\$' -bench '^BenchmarkRoutingDecision\$' -benchmem -benchtime 20000x ."
}

group_contact() {
	run contact contact .
	summarize contact "go test -run '^\$' -bench . -benchmem ./contact"
}

group_businesstime() {
	run businesstime businesstime .
	summarize businesstime "go test -run '^\$' -bench . -benchmem ./businesstime"
	{ echo; echo "ratios:"; } >>"$out_dir/businesstime.txt"
	ratio businesstime "walking every day / skipping (10 years)" 'BenchmarkAddSkipOrWalk/10y/walk' 'BenchmarkAddSkipOrWalk/10y/skip'
}

group_sla() {
	run sla sla .
	summarize sla "go test -run '^\$' -bench . -benchmem ./sla"
}

group_tick() {
	local cmd="go test -run '^\$' -bench '^BenchmarkTickDeadlines\$' -benchmem -benchtime 300x ."
	run tick . '^BenchmarkTickDeadlines$' -benchtime 300x
	summarize tick "$cmd"
	{ echo; echo "ratio (the same work at both sizes; the collector marking the larger heap adds to the 100,000):"; } >>"$out_dir/tick.txt"
	ratio tick "100,000 open / 1,000 open" 'BenchmarkTickDeadlines/open=100000/due=100' 'BenchmarkTickDeadlines/open=1000/due=100'
}

group_smtp() {
	run smtp transport/smtp '^BenchmarkServerLargeMessages$' -benchtime 3x
	summarize smtp "go test -run '^\$' -bench '^BenchmarkServerLargeMessages\$' -benchmem -benchtime 3x ./transport/smtp"
}

group_postgres() {
	# The scene has a group of its own; a fixed count keeps each run's
	# work the same (the larger scenes are stored once per run).
	local re='^Benchmark(Lifecycle|LifecycleParallel|RoutingDecision|AvailableAgentsBusyAhead|IngestReferences|TickDeadlines)$'
	run postgres store/postgres "$re" -benchtime 20x
	summarize postgres "go test -run '^\$' -bench '$re' -benchmem -benchtime 20x ./store/postgres"
}

group_scene() {
	# pgbench's own figure moves from run to run on a shared machine: the
	# script runs SCENE_RUNS times (3 by default) and the summary gives the
	# median ratio of each instance count.
	local runs=${SCENE_RUNS:-3}
	{
		echo "# scene"
		echo "command: bench/pgscale.sh (SECONDS_EACH=${SECONDS_EACH:-20}), $runs runs"
		echo "load:    $(cut -d" " -f1-3 /proc/loadavg) (1, 5, 15 min, as the group started)"
		for r in $(seq "$runs"); do
			echo
			echo "## run $r"
			bash bench/pgscale.sh
		done
	} >"$out_dir/scene.txt"
	awk '
		/^  [0-9]+ instance/ {n = $1; l[n] = l[n] " " $3; r[n] = r[n] " " $NF}
		END {
			print ""
			print "## medians over the runs"
			for (n = 1; n <= 4; n *= 2) {
				if (!(n in r)) continue
				printf "  %d instance(s): lifecycles/s%s; ratio%s; median ratio %s\n", n, l[n], r[n], median(r[n])
			}
		}
		function median(s,   a, k, i, j, t) {
			k = split(s, a, " ")
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) {t = a[i]; a[i] = a[j]; a[j] = t}
			return (k % 2) ? a[(k + 1) / 2] : sprintf("%.2f", (a[k / 2] + a[k / 2 + 1]) / 2)
		}' "$out_dir/scene.txt" >"$out_dir/scene.medians"
	cat "$out_dir/scene.medians" >>"$out_dir/scene.txt"
	rm -f "$out_dir/scene.medians"
}

group_imap() {
	local dir="" started=0
	if [ -z "${EMAILFLOW_DOVECOT_ADDR:-}" ]; then
		dir=$(mktemp -d /tmp/emailflow-figures-dovecot.XXXXXX)
		eval "$(bash .ci/dovecot.sh start "$dir" 21143)"
		started=1
	fi
	run imap transport/imap 'Dovecot/Paired' -benchtime 6x
	summarize imap "cd transport/imap && go test -run '^\$' -bench 'Dovecot/Paired' -benchmem -benchtime 6x ."
	{ echo; echo "ratio (target: the Ingester at least 0.70x a bare fetch loop):"; } >>"$out_dir/imap.txt"
	awk '$1 ~ /^BenchmarkDovecot\/Paired/ { for (i = 3; i < NF; i++) if ($(i+1) == "ratio") r[++k] = $i }
		END { if (!k) { print "no ratio reported"; exit }
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			med = (k % 2) ? r[(k+1)/2] : (r[k/2] + r[k/2+1]) / 2
			printf "ingester / bare loop: %.2fx median [%.2f-%.2f] over %d runs\n", med, r[1], r[k], k }' \
		"$out_dir/imap.raw" >>"$out_dir/imap.txt"
	if [ "$started" = 1 ]; then bash .ci/dovecot.sh stop "$dir"; fi
}

groups=("$@")
if [ ${#groups[@]} -eq 0 ]; then
	groups=(lifecycle parse compose routing contact businesstime sla tick smtp postgres scene imap)
fi
for g in "${groups[@]}"; do
	if ! declare -F "group_$g" >/dev/null; then
		echo "figures.sh: unknown group $g" >&2
		exit 2
	fi
	echo "== $g" >&2
	"group_$g"
	cat "$out_dir/$g.txt"
done
