#!/usr/bin/env bash
# PromQL query latency and peak memory of Vigil and Prometheus 2.42 on the
# same blocks, in the same run. bench/promql_data writes 24h of data (10k
# counters, 100 classic histograms of 12 buckets, and 100k gauges over the
# last hour for regex matchers) through Vigil's storage API and compacts
# the blocks until neither planner has anything left to do; Prometheus gets
# a copy of the block directories. Both servers are started, each query is
# run once on each to warm up, then RUNS times alternating between them.
#
# Reported per query: median wall time of curl's request (response
# transfer included), and the largest growth of the server's peak RSS over
# the RSS before the request (VmHWM after minus VmRSS before; VmHWM is
# reset by writing 5 to /proc/PID/clear_refs). The Go heap and glibc's
# malloc keep freed memory, so the figure is what the query made the
# process take beyond what it already held after the warm-up and the
# queries before it (the warm-up's growth is printed in the details). The script fails if a server
# answers anything but "status":"success"; different series counts between
# the servers are marked in the table.
#
#   scripts/bench-promql-vs-prometheus.sh [build_dir]     (default: build)
#
# Environment: RUNS (default 5).
# Backticks in the table labels are Markdown, not command substitution.
# shellcheck disable=SC2016
set -euo pipefail

BUILD=${1:-build}
RUNS=${RUNS:-5}
# If the 24h topk query takes Prometheus longer than this (seconds), it is
# run over 6h instead.
TOPK_LIMIT_S=60
READY_TIMEOUT_S=180

for tool in prometheus curl jq python3; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
for bin in "$BUILD/vigil" "$BUILD/bench/promql_data"; do
  [[ -x $bin ]] || { echo "missing $bin; build it with: cmake --build $BUILD --target vigil promql_data" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/vigil-promql-bench.XXXXXX)
VIGIL_PID=""
PROM_PID=""

# stop PID: SIGTERM, then SIGKILL if it is still there after 30s.
stop() {
  local pid=$1
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$VIGIL_PID"
  stop "$PROM_PID"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# kib PID FIELD: a /proc/PID/status field (VmRSS, VmHWM) in KiB.
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
# block_dirs DIR: the block directories in DIR (26-character ULID names).
block_dirs() {
  local d
  for d in "$1"/*/; do
    d=${d%/}
    if [[ $(basename "$d") =~ ^[0-9A-Z]{26}$ && -f $d/meta.json ]]; then basename "$d"; fi
  done | sort
}

# ---- Data ------------------------------------------------------------------

echo "== writing data"
"$BUILD/bench/promql_data" --out "$TMP/vigil" | tee "$TMP/data.log"
MINT=$(awk '$1 == "min_time_ms" { print $2 }' "$TMP/data.log")
MAXT=$(awk '$1 == "max_time_ms" { print $2 }' "$TMP/data.log")
mkdir -p "$TMP/prom/wal"
for b in $(block_dirs "$TMP/vigil"); do cp -r "$TMP/vigil/$b" "$TMP/prom/"; done
VIGIL_BLOCKS=$(block_dirs "$TMP/vigil")
PROM_BLOCKS=$(block_dirs "$TMP/prom")
echo "data: $(du -sh "$TMP/vigil" | cut -f1) in $(wc -w <<< "$VIGIL_BLOCKS") blocks, samples from $MINT to $MAXT ms"

# ---- Servers ---------------------------------------------------------------

printf 'global: {scrape_interval: 1m}\n' > "$TMP/prometheus.yml"
PROM_PORT=$(free_port)
VIGIL_PORT=$(free_port)
while [[ $VIGIL_PORT == "$PROM_PORT" ]]; do VIGIL_PORT=$(free_port); done

prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
  --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$PROM_PORT" \
  --query.max-samples=50000000 > "$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
"$BUILD/vigil" serve --data_dir="$TMP/vigil" --listen="127.0.0.1:$VIGIL_PORT" \
  --retention_time=0 --log_level=warn > "$TMP/vigil.log" 2>&1 &
VIGIL_PID=$!

# wait_ready NAME PORT PID LOG
wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until curl -sf -o /dev/null "http://127.0.0.1:$2/-/ready"; do
    if ! kill -0 "$3" 2>/dev/null; then
      echo "$1 exited before it was ready:" >&2; tail -n 20 "$4" >&2; exit 1
    fi
    if ((SECONDS > deadline)); then
      echo "$1 not ready after ${READY_TIMEOUT_S}s:" >&2; tail -n 20 "$4" >&2; exit 1
    fi
    sleep 0.2
  done
}
wait_ready Prometheus "$PROM_PORT" "$PROM_PID" "$TMP/prometheus.log"
wait_ready Vigil "$VIGIL_PORT" "$VIGIL_PID" "$TMP/vigil.log"
echo "RSS after loading: Vigil $(mib "$(kib "$VIGIL_PID" VmRSS)") MiB, Prometheus $(mib "$(kib "$PROM_PID" VmRSS)") MiB"

MEMORY=1
for pid in "$VIGIL_PID" "$PROM_PID"; do
  if ! { echo 5 > "/proc/$pid/clear_refs"; } 2>/dev/null; then
    echo "cannot write /proc/$pid/clear_refs: peak memory is not measured" >&2
    MEMORY=0
  fi
done

# ---- Queries ---------------------------------------------------------------

# ask PORT KIND QUERY START END STEP OUT: one POST; prints "HTTP_CODE SECONDS".
# KIND is query_range or query (START and STEP unused; END is the time).
ask() {
  local port=$1 kind=$2 q=$3 start=$4 end=$5 step=$6 out=$7
  local args=(--data-urlencode "query=$q")
  if [[ $kind == query_range ]]; then
    args+=(--data-urlencode "start=$start" --data-urlencode "end=$end" --data-urlencode "step=$step")
  else
    args+=(--data-urlencode "time=$end")
  fi
  curl -sS -o "$out" -w '%{http_code} %{time_total}' --max-time 900 \
    -X POST "http://127.0.0.1:$port/api/v1/$kind" "${args[@]}"
}
# summary OUT: "status series points" of an API answer.
summary() {
  jq -r '[.status, (.data.result | length),
          ([.data.result[] | if .values then (.values | length) else 1 end] | add // 0)]
         | @tsv' "$1"
}
# run NAME PORT PID KIND QUERY START END STEP: one checked request; sets
# LAST_S (seconds), LAST_PEAK_KIB (peak RSS growth) and LAST_SUMMARY.
run() {
  local name=$1 port=$2 pid=$3 out="$TMP/$1.json" before=0 res code
  shift 3
  if ((MEMORY)); then
    echo 5 > "/proc/$pid/clear_refs"
    before=$(kib "$pid" VmRSS)
  fi
  res=$(ask "$port" "$@" "$out")
  LAST_PEAK_KIB=0
  if ((MEMORY)); then LAST_PEAK_KIB=$(($(kib "$pid" VmHWM) - before)); fi
  code=${res% *}
  LAST_S=${res#* }
  LAST_SUMMARY=$(summary "$out" 2>/dev/null || echo "unparsable 0 0")
  if [[ $code != 200 || ${LAST_SUMMARY%%$'\t'*} != success ]]; then
    echo "$name answered HTTP $code to $2: $(head -c 300 "$out")" >&2
    exit 1
  fi
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { sort -g | tail -n 1; }

ROWS=()
NOTES=()
# measure LABEL KIND QUERY START END STEP
measure() {
  local label=$1 vt=() pt=() vm=() pm=() vs ps series i vwarm pwarm
  shift
  run vigil "$VIGIL_PORT" "$VIGIL_PID" "$@"
  vwarm=$LAST_PEAK_KIB
  run prometheus "$PROM_PORT" "$PROM_PID" "$@"
  pwarm=$LAST_PEAK_KIB
  for ((i = 0; i < RUNS; i++)); do
    run vigil "$VIGIL_PORT" "$VIGIL_PID" "$@"
    vt+=("$LAST_S"); vm+=("$LAST_PEAK_KIB"); vs=$LAST_SUMMARY
    run prometheus "$PROM_PORT" "$PROM_PID" "$@"
    pt+=("$LAST_S"); pm+=("$LAST_PEAK_KIB"); ps=$LAST_SUMMARY
  done
  local vmed pmed
  vmed=$(printf '%s\n' "${vt[@]}" | median)
  pmed=$(printf '%s\n' "${pt[@]}" | median)
  echo "  $label"
  echo "    vigil      s: ${vt[*]}  peak KiB: ${vm[*]} (warm-up $vwarm)  status series points: ${vs//$'\t'/ }"
  echo "    prometheus s: ${pt[*]}  peak KiB: ${pm[*]} (warm-up $pwarm)  status series points: ${ps//$'\t'/ }"
  read -r _ vn vp <<< "$vs"
  read -r _ pn pp <<< "$ps"
  if [[ $vn == "$pn" ]]; then
    series=$vn
  else
    series="MISMATCH: Vigil $vn, Prometheus $pn"
    NOTES+=("$label: Vigil returned $vn series, Prometheus $pn")
  fi
  if [[ $vp != "$pp" ]]; then
    NOTES+=("$label: Vigil returned $vp points, Prometheus $pp")
  fi
  local vpeak="n/a" ppeak="n/a"
  if ((MEMORY)); then
    vpeak=$(mib "$(printf '%s\n' "${vm[@]}" | maxof)")
    ppeak=$(mib "$(printf '%s\n' "${pm[@]}" | maxof)")
  fi
  ROWS+=("$(awk -v l="$label" -v v="$vmed" -v p="$pmed" -v vp="$vpeak" -v pp="$ppeak" -v s="$series" \
    'BEGIN { printf "| %s | %.3f | %.3f | %.2f | %s | %s | %s |", l, v, p, (p > 0 ? v / p : 0), vp, pp, s }')")
}

END=$((MAXT / 1000))           # The last sample.
DAY=$((MINT / 1000))           # The first sample: 24h of steps.
HOUR=$((END - 3600 + 30))      # The last hour's 120 scrapes.

echo "== queries (warm-up, then $RUNS runs each, alternating)"
measure 'a. `x_total` 1h step 30s (10k series)' query_range 'x_total' "$HOUR" "$END" 30
measure 'b. `sum by (job) (rate(x_total[5m]))` 24h step 60s' query_range \
  'sum by (job) (rate(x_total[5m]))' "$DAY" "$END" 60
measure 'c. `histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))` 24h step 60s' \
  query_range 'histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))' "$DAY" "$END" 60

TOPK='topk(10, rate(x_total[5m]))'
run prometheus "$PROM_PORT" "$PROM_PID" query_range "$TOPK" "$DAY" "$END" 60
if awk -v s="$LAST_S" -v l="$TOPK_LIMIT_S" 'BEGIN { exit !(s > l) }'; then
  NOTES+=("d: Prometheus took ${LAST_S}s over 24h (> ${TOPK_LIMIT_S}s), so d runs over 6h")
  measure 'd. `topk(10, rate(x_total[5m]))` 6h step 60s' query_range "$TOPK" "$((END - 6 * 3600))" "$END" 60
else
  measure 'd. `topk(10, rate(x_total[5m]))` 24h step 60s' query_range "$TOPK" "$DAY" "$END" 60
fi

measure 'e1. `count(r{id=~"1.*5"})` instant (100k series)' query 'count(r{id=~"1.*5"})' "" "$END" ""
vcount=$(jq -r '.data.result[0].value[1]' "$TMP/vigil.json")
pcount=$(jq -r '.data.result[0].value[1]' "$TMP/prometheus.json")
[[ $vcount == "$pcount" ]] || NOTES+=("e1: Vigil counted $vcount, Prometheus $pcount")
measure 'e2. `r{id=~"9.*"}` 1h step 60s (of 100k series)' query_range 'r{id=~"9.*"}' "$HOUR" "$END" 60

echo "RSS after the queries: Vigil $(mib "$(kib "$VIGIL_PID" VmRSS)") MiB, Prometheus $(mib "$(kib "$PROM_PID" VmRSS)") MiB"
# Neither server should have compacted or deleted blocks under the queries.
[[ $(block_dirs "$TMP/vigil") == "$VIGIL_BLOCKS" ]] || NOTES+=("Vigil's blocks changed during the run")
[[ $(block_dirs "$TMP/prom") == "$PROM_BLOCKS" ]] || NOTES+=("Prometheus's blocks changed during the run")

echo
echo "Median of $RUNS runs; peak = largest growth of peak RSS over RSS before the request, of the $RUNS runs."
echo "e1 count: Vigil $vcount, Prometheus $pcount."
echo
echo "| query | Vigil median s | Prometheus median s | ratio (Vigil/Prometheus) | Vigil peak MiB | Prometheus peak MiB | series returned |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
if ((${#NOTES[@]})); then
  echo
  printf 'NOTE: %s\n' "${NOTES[@]}"
fi
