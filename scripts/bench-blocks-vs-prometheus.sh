#!/usr/bin/env bash
# On-disk size of the same data in Vigil's and Prometheus's blocks: the
# benchmark dataset is written once as OpenMetrics, then backfilled with
# `vigil tsdb create-blocks-from openmetrics` and with promtool 2.42's
# `promtool tsdb create-blocks-from openmetrics`; prints bytes per sample
# of each, the ratio, and the backfill times. Then the same range select on
# each tool's own blocks: `vigil tsdb dump` and `promtool tsdb dump` over
# the middle half of the time range (identical output, checked by
# tests/backfill_test.cc), output discarded; best of 3 runs each.
#
#   scripts/bench-blocks-vs-prometheus.sh [build_dir] [series] [samples]
set -euo pipefail
BUILD=${1:-build}
SERIES=${2:-10000}
SAMPLES=${3:-480}
command -v promtool >/dev/null || { echo "promtool not installed (scripts/install-deps.sh)"; exit 1; }
TMP=$(mktemp -d /tmp/vigil-blocks-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

"$BUILD/bench/dataset_openmetrics" --series="$SERIES" --samples="$SAMPLES" > "$TMP/data.om"
echo "input: $SERIES series x $SAMPLES samples, $(du -h "$TMP/data.om" | cut -f1) of OpenMetrics"

t0=$(date +%s.%N)
"$BUILD/vigil" --log_level=warn tsdb create-blocks-from openmetrics "$TMP/data.om" "$TMP/vigil" > /dev/null
t1=$(date +%s.%N)
promtool tsdb create-blocks-from openmetrics "$TMP/data.om" "$TMP/prom" > /dev/null
t2=$(date +%s.%N)

# Range select: the middle half of the data's time range.
mkdir -p "$TMP/prom/wal"  # promtool opens the directory as a database.
read -r MINT MAXT < <("$BUILD/vigil" tsdb list "$TMP/vigil" 2>/dev/null |
  awk 'NR > 1 { if (min == "" || $2 < min) min = $2; if ($3 > max) max = $3 }
       END { q = int((max - min) / 4); printf "%.0f %.0f\n", min + q, max - q }')
best() {  # best of 3 wall-clock seconds of "$@" > /dev/null
  local b="" s e d
  for _ in 1 2 3; do
    s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N)
    d=$(awk -v a="$s" -v b="$e" 'BEGIN{print b-a}')
    b=$(awk -v x="$b" -v d="$d" 'BEGIN{ if (x == "" || d < x) print d; else print x }')
  done
  echo "$b"
}
dv=$(best "$BUILD/vigil" tsdb dump --min_time="$MINT" --max_time="$MAXT" "$TMP/vigil")
dp=$(best promtool tsdb dump --min-time="$MINT" --max-time="$MAXT" "$TMP/prom")
lines=$("$BUILD/vigil" tsdb dump --min_time="$MINT" --max_time="$MAXT" "$TMP/vigil" 2>/dev/null | wc -l)

samples=$((SERIES * SAMPLES))
vb=$(du -sb "$TMP/vigil" | cut -f1)
pb=$(du -sb "$TMP/prom" | cut -f1)
awk -v vb="$vb" -v pb="$pb" -v n="$samples" -v tv="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
    -v tp="$(awk -v a="$t1" -v b="$t2" 'BEGIN{print b-a}')" -v dv="$dv" -v dp="$dp" \
    -v lines="$lines" -v mint="$MINT" -v maxt="$MAXT" 'BEGIN {
  printf "vigil:      %12d bytes  %.3f bytes/sample  backfill %.1f s\n", vb, vb / n, tv
  printf "prometheus: %12d bytes  %.3f bytes/sample  backfill %.1f s\n", pb, pb / n, tp
  printf "ratio vigil/prometheus: size %.3f, backfill time %.2f\n", vb / pb, tv / tp
  printf "range select [%s, %s]: %.0f samples; vigil tsdb dump %.2f s, promtool tsdb dump %.2f s, ratio %.2f\n", mint, maxt, lines, dv, dp, dv / dp
  printf "RESULT vigil_block_bytes_per_sample %.4f\nRESULT prometheus_block_bytes_per_sample %.4f\n", vb / n, pb / n
}'
