#!/usr/bin/env bash
# End-to-end scraping, Vigil vs Prometheus 2.42, side by side in one run:
# bench/static_exporter serves TARGETS targets (one port each) of SERIES
# samples; Vigil and Prometheus are started at the same time with the same
# config (one job listing every target, scrape_interval INTERVAL_S) and
# scrape them for DURATION seconds after a warm-up: until both servers have
# scraped every target once (which creates the series), then WARMUP_S.
#
# Reported per server, over the measured window:
#  - samples: sum(sum_over_time(scrape_samples_scraped[WINDOW])) asked of
#    the server's own /api/v1/query at the window's end (the samples its
#    scrapes parsed in the window);
#  - CPU s: utime + stime from /proc/PID/stat at the window's end minus at
#    its start, over CLK_TCK, and CPU s per million samples;
#  - RSS and peak RSS (VmRSS, VmHWM from /proc/PID/status) at the end;
#  - scrapes and failed scrapes in the window, from `up`.
# Then the ratios Vigil/Prometheus against the targets (CPU per sample
# <= 1/3, RSS <= 1/2), and the exporter's own CPU for reference. Both
# servers share the machine with each other and the exporter: CPU seconds
# are per process, so they are comparable; wall-clock effects are not.
#
#   scripts/bench-scrape-vs-prometheus.sh BUILD_DIR [DURATION_SECONDS]   (default 300)
#
# Builds nothing: needs BUILD_DIR/vigil and BUILD_DIR/bench/static_exporter
# (ninja -C BUILD_DIR vigil static_exporter).
# Environment: TARGETS (1000), SERIES (1000), INTERVAL_S (15), WARMUP_S
# (INTERVAL_S), KEEP_TMP=1 keeps the temp dir (configs, logs, data).
set -euo pipefail

if (($# < 1)); then
  echo "usage: $0 BUILD_DIR [DURATION_SECONDS]" >&2
  exit 2
fi
BUILD=$1
DURATION=${2:-300}
TARGETS=${TARGETS:-1000}
SERIES=${SERIES:-1000}
INTERVAL_S=${INTERVAL_S:-15}
WARMUP_S=${WARMUP_S:-$INTERVAL_S}
READY_TIMEOUT_S=120
PROM=/usr/bin/prometheus
VIGIL=$BUILD/vigil
EXPORTER=$BUILD/bench/static_exporter

# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"
require_tools "$PROM" "ninja -C $BUILD vigil static_exporter" "$VIGIL" "$EXPORTER"

TMP=$(mktemp -d /tmp/vigil-scrape-bench.XXXXXX)
EXPORTER_PID=""
VIGIL_PID=""
PROM_PID=""


# ---- Exporter ----------------------------------------------------------------

# Ports below the ephemeral range (ip_local_port_range starts at 32768), so
# that no client socket holds one of them.
EXPORTER_LOG=$TMP/exporter.log
BASE=""
for _ in $(seq 10); do
  try=$((10000 + RANDOM % (32000 - 10000 - TARGETS)))
  "$EXPORTER" --base_port="$try" --targets="$TARGETS" --series="$SERIES" > "$EXPORTER_LOG" 2>&1 &
  EXPORTER_PID=$!
  for _ in $(seq 100); do
    if grep -q '^static_exporter: .* targets on' "$EXPORTER_LOG" || ! kill -0 "$EXPORTER_PID" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  if grep -q '^static_exporter: .* targets on' "$EXPORTER_LOG"; then
    BASE=$try
    break
  fi
  stop "$EXPORTER_PID"
  EXPORTER_PID=""
done
[[ -n $BASE ]] || { echo "static_exporter could not listen:" >&2; cat "$EXPORTER_LOG" >&2; exit 1; }
head -n 1 "$EXPORTER_LOG"
page=$(curl -sf "http://127.0.0.1:$((BASE + TARGETS - 1))/metrics" | grep -vc '^#' || true)
[[ $page == "$SERIES" ]] || { echo "the exporter's page has $page samples, want $SERIES" >&2; exit 1; }

# ---- Config and servers ------------------------------------------------------

CONFIG=$TMP/scrape.yml
{
  printf 'global:\n  scrape_interval: %ss\n  scrape_timeout: 10s\n' "$INTERVAL_S"
  printf 'scrape_configs:\n  - job_name: static\n    static_configs:\n      - targets:\n'
  for ((i = 0; i < TARGETS; i++)); do printf "          - '127.0.0.1:%d'\n" $((BASE + i)); done
} > "$CONFIG"

PROM_PORT=$(free_port)
VIGIL_PORT=$(free_port)
while [[ $VIGIL_PORT == "$PROM_PORT" ]]; do VIGIL_PORT=$(free_port); done
mkdir -p "$TMP/prom-data" "$TMP/vigil-data"

"$PROM" --config.file="$CONFIG" --storage.tsdb.path="$TMP/prom-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn > "$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
"$VIGIL" serve --listen="127.0.0.1:$VIGIL_PORT" --data_dir="$TMP/vigil-data" --config="$CONFIG" \
  --log_level=warn > "$TMP/vigil.log" 2>&1 &
VIGIL_PID=$!

# wait_ready NAME PORT PID LOG
wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until curl -sf -o /dev/null "http://127.0.0.1:$2/-/ready"; do
    alive "$1" "$3" "$4"
    if ((SECONDS > deadline)); then
      echo "$1 not ready after ${READY_TIMEOUT_S}s:" >&2; tail -n 20 "$4" >&2; exit 1
    fi
    sleep 0.2
  done
}
wait_ready Prometheus "$PROM_PORT" "$PROM_PID" "$TMP/prometheus.log"
wait_ready Vigil "$VIGIL_PORT" "$VIGIL_PID" "$TMP/vigil.log"
echo "Prometheus on :$PROM_PORT (pid $PROM_PID), Vigil on :$VIGIL_PORT (pid $VIGIL_PID);" \
  "$TARGETS targets x $SERIES series every ${INTERVAL_S}s"

# ---- Measurement -------------------------------------------------------------

# Warm-up: until both have scraped every target once (so that neither
# creates series in the window), then WARMUP_S more. Prometheus only starts
# scraping a few seconds after it is ready (discovery updates are batched).
first_deadline=$((SECONDS + 3 * INTERVAL_S + 60))
while :; do
  now=$(date +%s.%N)
  pn=$(query "$PROM_PORT" 'count(up)' "$now")
  vn=$(query "$VIGIL_PORT" 'count(up)' "$now")
  [[ $pn == "$TARGETS" && $vn == "$TARGETS" ]] && break
  if ((SECONDS > first_deadline)); then
    echo "WARNING: targets scraped so far: Prometheus $pn, Vigil $vn (of $TARGETS); measuring anyway" >&2
    break
  fi
  alive Prometheus "$PROM_PID" "$TMP/prometheus.log"
  alive Vigil "$VIGIL_PID" "$TMP/vigil.log"
  sleep 1
done
echo "every target scraped once; warm-up ${WARMUP_S}s more"
sleep "$WARMUP_S"
alive Prometheus "$PROM_PID" "$TMP/prometheus.log"
alive Vigil "$VIGIL_PID" "$TMP/vigil.log"
now=$(date +%s.%N)
echo "targets up after warm-up: Prometheus $(query "$PROM_PORT" 'sum(up)' "$now")," \
  "Vigil $(query "$VIGIL_PORT" 'sum(up)' "$now") (of $TARGETS)"

T0_MS=$(date +%s%3N)
V0=$(cpu_ticks "$VIGIL_PID")
P0=$(cpu_ticks "$PROM_PID")
E0=$(cpu_ticks "$EXPORTER_PID")
echo "measuring ${DURATION}s"
end=$((SECONDS + DURATION))
while ((SECONDS < end)); do
  left=$((end - SECONDS))
  sleep $((left < 10 ? left : 10))
  alive Prometheus "$PROM_PID" "$TMP/prometheus.log"
  alive Vigil "$VIGIL_PID" "$TMP/vigil.log"
  alive static_exporter "$EXPORTER_PID" "$EXPORTER_LOG"
done
V1=$(cpu_ticks "$VIGIL_PID")
P1=$(cpu_ticks "$PROM_PID")
E1=$(cpu_ticks "$EXPORTER_PID")
T1_MS=$(date +%s%3N)
V_RSS=$(kib "$VIGIL_PID" VmRSS); V_HWM=$(kib "$VIGIL_PID" VmHWM)
P_RSS=$(kib "$PROM_PID" VmRSS); P_HWM=$(kib "$PROM_PID" VmHWM)

WINDOW="$((T1_MS - T0_MS))ms"
T1=$(awk -v t="$T1_MS" 'BEGIN { printf "%.3f", t / 1000 }')
declare -A R
for s in prom vigil; do
  port=$PROM_PORT
  [[ $s == vigil ]] && port=$VIGIL_PORT
  R[$s,samples]=$(query "$port" "sum(sum_over_time(scrape_samples_scraped[$WINDOW]))" "$T1")
  R[$s,scrapes]=$(query "$port" "sum(count_over_time(up[$WINDOW]))" "$T1")
  R[$s,up]=$(query "$port" "sum(sum_over_time(up[$WINDOW]))" "$T1")
done

# ---- Report ------------------------------------------------------------------

num() { [[ $1 =~ ^[0-9.eE+-]+$ ]]; }
cpu_s() { awk -v a="$1" -v b="$2" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }'; }
V_CPU=$(cpu_s "$V0" "$V1")
P_CPU=$(cpu_s "$P0" "$P1")
E_CPU=$(cpu_s "$E0" "$E1")
EXPECTED=$(awk -v t="$TARGETS" -v s="$SERIES" -v w="$((T1_MS - T0_MS))" -v i="$INTERVAL_S" \
  'BEGIN { printf "%.0f", t * s * w / 1000 / i }')
per_m() {
  if num "$2" && awk -v n="$2" 'BEGIN { exit !(n > 0) }'; then
    awk -v c="$1" -v n="$2" 'BEGIN { printf "%.3f", c / n * 1e6 }'
  else
    echo "n/a"
  fi
}
ratio() {
  if num "$1" && num "$2" && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
  else
    echo "n/a"
  fi
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
V_PER=$(per_m "$V_CPU" "${R[vigil,samples]}")
P_PER=$(per_m "$P_CPU" "${R[prom,samples]}")
fmt_n() { if num "$1"; then printf '%.0f' "$1"; else printf '%s' "$1"; fi; }

echo
echo "Window $((T1_MS - T0_MS)) ms after a ${WARMUP_S}s warm-up; $TARGETS targets x $SERIES series every ${INTERVAL_S}s;" \
  "expected about $EXPECTED samples per server. CLK_TCK $CLK_TCK."
echo
echo "| server | samples | scrapes (failed) | CPU s | CPU s / 1M samples | RSS MiB | HWM MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for s in vigil prom; do
  if [[ $s == vigil ]]; then
    name=Vigil cpu=$V_CPU per=$V_PER rss=$V_RSS hwm=$V_HWM
  else
    name="Prometheus 2.42" cpu=$P_CPU per=$P_PER rss=$P_RSS hwm=$P_HWM
  fi
  failed=n/a
  if num "${R[$s,scrapes]}" && num "${R[$s,up]}"; then
    failed=$(awk -v a="${R[$s,scrapes]}" -v b="${R[$s,up]}" 'BEGIN { printf "%.0f", a - b }')
  fi
  echo "| $name | $(fmt_n "${R[$s,samples]}") | $(fmt_n "${R[$s,scrapes]}") ($failed) | $cpu | $per | $(mib "$rss") | $(mib "$hwm") |"
done
CPU_RATIO=$(ratio "$V_PER" "$P_PER")
RSS_RATIO=$(ratio "$V_RSS" "$P_RSS")
echo "| Vigil/Prometheus | $(ratio "${R[vigil,samples]}" "${R[prom,samples]}") |" \
  "$(ratio "${R[vigil,scrapes]}" "${R[prom,scrapes]}") | $(ratio "$V_CPU" "$P_CPU") | $CPU_RATIO |" \
  "$RSS_RATIO | $(ratio "$V_HWM" "$P_HWM") |"
echo
# verdict NAME RATIO LIMIT
verdict() {
  if [[ $2 == n/a ]]; then
    echo "$1: n/a"
  elif awk -v r="$2" -v l="$3" 'BEGIN { exit !(r <= l) }'; then
    echo "$1: $2 <= $3  PASS"
  else
    echo "$1: $2 > $3  FAIL"
  fi
}
verdict "target CPU per sample Vigil/Prometheus" "$CPU_RATIO" 0.333
verdict "target RSS Vigil/Prometheus" "$RSS_RATIO" 0.5
served=$(awk -v t="$TARGETS" -v s="$SERIES" -v w="$((T1_MS - T0_MS))" -v i="$INTERVAL_S" \
  'BEGIN { printf "%.0f", 2 * t * s * w / 1000 / i }')
echo "exporter: $E_CPU CPU s in the window for about $served samples served to both" \
  "($(per_m "$E_CPU" "$served") CPU s per 1M), RSS $(mib "$(kib "$EXPORTER_PID" VmRSS)") MiB"
for s in vigil prom; do
  for k in samples scrapes up; do
    if [[ ${R[$s,$k]} == error* ]]; then echo "NOTE: $s $k query: ${R[$s,$k]}"; fi
  done
done
if ! num "${R[vigil,samples]}" || [[ $(fmt_n "${R[vigil,samples]}") == 0 ]]; then
  echo "NOTE: Vigil scraped nothing in the window; its log:"
  tail -n 20 "$TMP/vigil.log"
fi
