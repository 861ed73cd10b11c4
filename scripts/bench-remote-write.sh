#!/usr/bin/env bash
# Remote-write ingest, Vigil vs Prometheus 2.42, in one run on this machine:
# for each series count, a fresh Vigil and then a fresh Prometheus
# (--web.enable-remote-write-receiver) receive the same load from
# bench/remote_write_load; prints each report and the ratios.
#
#   scripts/bench-remote-write.sh [build_dir] [duration_s] [series...]
set -euo pipefail

BUILD=${1:-build}
DURATION=${2:-30}
shift 2 2>/dev/null || true
SERIES=("$@")
[ ${#SERIES[@]} -eq 0 ] && SERIES=(100000 1000000)

LOAD="$BUILD/bench/remote_write_load"
VIGIL="$BUILD/vigil"
for b in "$LOAD" "$VIGIL"; do
  [ -x "$b" ] || { echo "missing $b: build first (make build)"; exit 1; }
done
if ! command -v prometheus >/dev/null; then
  echo "prometheus not installed (scripts/install-deps.sh); comparing against Vigil only"
fi

TMP=$(mktemp -d /tmp/vigil-rw-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# wait_http URL: until it answers 200, up to 60 s.
wait_http() {
  for _ in $(seq 600); do
    if curl -sf -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $1"; return 1
}

# run NAME PID URL SERIES: the load against one server; keeps RESULT lines.
run() {
  local name=$1 pid=$2 url=$3 series=$4
  echo "== $name, $series series"
  "$LOAD" --url="$url" --series="$series" --duration_s="$DURATION" --server_pid="$pid" \
    | tee "$TMP/$name-$series.txt" | grep -v '^RESULT'
}

result() { awk -v k="$2" '$1=="RESULT" && $2==k {print $3}' "$TMP/$1.txt"; }

for n in "${SERIES[@]}"; do
  "$VIGIL" serve --data_dir="$TMP/vigil-$n" --listen=127.0.0.1:19391 --log_level=warn &
  vpid=$!; PIDS+=("$vpid")
  wait_http http://127.0.0.1:19391/-/ready
  run vigil "$vpid" http://127.0.0.1:19391/api/v1/write "$n"
  kill "$vpid"; wait "$vpid" || true

  if command -v prometheus >/dev/null; then
    printf 'global:\n  scrape_interval: 1m\n' > "$TMP/prometheus.yml"
    prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom-$n" \
      --web.listen-address=127.0.0.1:19392 --web.enable-remote-write-receiver \
      --log.level=warn 2>"$TMP/prom-$n.log" &
    ppid=$!; PIDS+=("$ppid")
    wait_http http://127.0.0.1:19392/-/ready
    run prometheus "$ppid" http://127.0.0.1:19392/api/v1/write "$n"
    kill "$ppid"; wait "$ppid" || true
  fi
done

echo
echo "== summary (steady state after the series-creating warmup round)"
printf '%-10s %-11s %14s %12s %10s %10s %12s\n' series server samples/s cpu_s/1M p50_ms p99_ms rss_mib
for n in "${SERIES[@]}"; do
  for s in vigil prometheus; do
    [ -f "$TMP/$s-$n.txt" ] || continue
    printf '%-10s %-11s %14.0f %12.2f %10.1f %10.1f %12.0f\n' "$n" "$s" \
      "$(result "$s-$n" samples_per_s)" "$(result "$s-$n" server_cpu_s_per_1m_samples)" \
      "$(result "$s-$n" latency_p50_ms)" "$(result "$s-$n" latency_p99_ms)" \
      "$(result "$s-$n" server_rss_after_mib)"
  done
  if [ -f "$TMP/prometheus-$n.txt" ]; then
    awk -v a="$(result "vigil-$n" samples_per_s)" -v b="$(result "prometheus-$n" samples_per_s)" \
        -v c="$(result "vigil-$n" server_cpu_s_per_1m_samples)" \
        -v d="$(result "prometheus-$n" server_cpu_s_per_1m_samples)" \
        -v n="$n" 'BEGIN { printf "%-10s ratio vigil/prometheus: throughput %.2fx, CPU per sample %.2fx\n", n, a/b, c/d }'
  fi
done
