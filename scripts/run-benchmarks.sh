#!/usr/bin/env bash
# Runs the storage benchmarks (bench/) one after another and prints their key
# figures next to the targets. Takes ~7-8 minutes on 2 cores at full size.
#
#   scripts/run-benchmarks.sh [BUILD_DIR]        (default: build)
#
# Environment:
#   VIGIL_BENCH_SERIES   series for memory/replay/select (default 1000000)
#   VIGIL_BENCH_SAMPLES  samples per series for them (default 120)
#   VIGIL_BENCH_OUT      where logs and JSON go (default: a new /tmp dir)
#
# Targets are reported, not enforced: the exit status is non-zero only when a
# benchmark fails to run or its self-check fails.
set -euo pipefail

BUILD_DIR=${1:-build}
BIN="$BUILD_DIR/bench"
SERIES=${VIGIL_BENCH_SERIES:-1000000}
SAMPLES=${VIGIL_BENCH_SAMPLES:-120}
OUT=${VIGIL_BENCH_OUT:-$(mktemp -d /tmp/vigil-bench.XXXXXX)}
mkdir -p "$OUT"

PROGRAMS=(chunk_bench head_bench memory_bench replay_bench select_bench)
for p in "${PROGRAMS[@]}"; do
  if [[ ! -x "$BIN/$p" ]]; then
    echo "missing $BIN/$p; build it with: ninja -C $BUILD_DIR ${PROGRAMS[*]}" >&2
    exit 1
  fi
done
command -v jq >/dev/null || { echo "jq is required for the summary" >&2; exit 1; }

section() { printf '\n=== %s ===\n' "$*"; }

# Google Benchmark programs: 3 repetitions, medians to the terminal and to
# JSON for the summary. 1.7 takes --benchmark_min_time in seconds, no unit.
# gbench PROGRAM MIN_TIME [JSON_NAME [ARGS...]]
gbench() {
  local name=$1 min_time=$2 json=${3:-$1}
  shift $(($# < 3 ? $# : 3))
  section "$json"
  "$BIN/$name" --benchmark_min_time="$min_time" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true \
    --benchmark_out="$OUT/$json.json" --benchmark_out_format=json "$@"
}

# Plain programs print "RESULT key value" lines.
plain() {
  local name=$1
  shift
  section "$name $*"
  "$BIN/$name" "$@" | tee "$OUT/$name.log"
}

start=$(date +%s)
gbench chunk_bench 0.2
gbench head_bench 1
# The same appends with Abseil's deadlock detection left on, as in a binary
# that never turns it off (see bench/bench_util.h).
VIGIL_BENCH_DEADLOCK_DETECTION=1 gbench head_bench 1 head_bench_detect \
  --benchmark_filter=BM_AppendByRef
plain memory_bench --series="$SERIES" --samples="$SAMPLES"
plain replay_bench --series="$SERIES" --samples="$SAMPLES"
plain select_bench --series="$SERIES" --samples="$SAMPLES"
elapsed=$(($(date +%s) - start))

# ---- Summary ---------------------------------------------------------------

# gb FILE BENCHMARK FIELD [SCALE]: a field of a Google Benchmark result
# (median of the repetitions).
gb() {
  jq -r --arg n "$2_median" --arg f "$3" --argjson k "${4:-1}" \
    '.benchmarks[] | select(.name == $n) | .[$f] * $k' "$OUT/$1.json"
}
# res PROGRAM KEY: a RESULT value of a plain program.
res() { awk -v k="$2" '$1 == "RESULT" && $2 == k { print $3 }' "$OUT/$1.log"; }

# row LABEL VALUE UNIT [OP TARGET]: one line, with MET/MISSED when a target
# is given (OP is <= or >=).
row() {
  local label=$1 value=$2 unit=$3 op=${4:-} target=${5:-} status=""
  if [[ -n $op ]]; then
    if awk -v v="$value" -v t="$target" -v op="$op" \
      'BEGIN { exit !((op == "<=") ? v <= t : v >= t) }'; then
      status=MET
    else
      status=MISSED
    fi
  fi
  printf '%-50s %10s %-12s %-10s %s\n' "$label" "$(printf '%.4g' "$value")" "$unit" \
    "${op:+$op $target}" "$status"
}

mps() { awk -v v="$1" 'BEGIN { printf "%.4g", v / 1e6 }'; }

section "Summary ($SERIES series x $SAMPLES samples; ${elapsed}s; logs in $OUT)"
printf '%-50s %10s %-12s %-10s %s\n' "figure" "value" "unit" "target" ""
row "XOR bytes/sample (Prometheus-aligned jitter)" \
  "$(gb chunk_bench BM_XorEncode/0 bytes_per_sample)" "B/sample" "<=" 1.4
row "XOR bytes/sample (raw 0-50 ms jitter)" "$(gb chunk_bench BM_XorEncode/1 bytes_per_sample)" "B/sample"
row "XOR bytes/sample (regular timestamps)" "$(gb chunk_bench BM_XorEncode/2 bytes_per_sample)" "B/sample"
row "XOR encode" "$(gb chunk_bench BM_XorEncode/0 time_per_sample 1e9)" "ns/sample"
row "XOR decode" "$(gb chunk_bench BM_XorDecode/0 time_per_sample 1e9)" "ns/sample"
for mode in ByLabels ByRef; do
  for t in 1 2; do
    row "Append by ${mode:2}, $t thread(s)" \
      "$(mps "$(gb head_bench "BM_Append$mode/real_time/threads:$t" items_per_second)")" "M samples/s"
  done
done
for t in 1 2; do
  row "Append by Ref, $t thread(s), absl detection on" \
    "$(mps "$(gb head_bench_detect "BM_AppendByRef/real_time/threads:$t" items_per_second)")" "M samples/s"
done
row "Dataset generation (included above)" \
  "$(mps "$(gb head_bench BM_GenerateOnly/real_time/threads:1 items_per_second)")" "M samples/s"
row "Memory per active series" "$(res memory_bench memory_bytes_per_series)" "bytes" "<=" 1024
row "Load (memory_bench, 1 thread)" "$(mps "$(res memory_bench memory_load_samples_per_sec)")" "M samples/s"
row "Restart to ready (WAL replay, cold cache)" "$(res replay_bench replay_seconds)" "s" "<=" 10
row "Restart to ready (warm cache)" "$(res replay_bench replay_seconds_warm)" "s"
row "WAL size" "$(res replay_bench wal_mib)" "MiB"
row "WAL replay rate" "$(res replay_bench replay_mib_per_sec)" "MiB/s"
# Query key -> short description (select_bench prints the full matchers).
declare -A QUERIES=(
  [eq]='name='
  [eq_eq]='name= instance='
  [re_prefix]='name=~"node_cpu.*"'
  [eq_re_prefix]='name= instance=~"host-1.*"'
  [re_re]='name=~"a|b" instance=~regex'
)
for q in eq eq_eq re_prefix eq_re_prefix re_re; do
  row "Select ${QUERIES[$q]} ($(res select_bench "select_${q}_series") series)" \
    "$(res select_bench "select_${q}_ms")" "ms"
done
