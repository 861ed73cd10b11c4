#!/usr/bin/env bash
# On-disk size of the same data in Vigil's and Prometheus's blocks: the
# benchmark dataset is written once as OpenMetrics, then backfilled with
# `vigil tsdb create-blocks-from openmetrics` and with promtool 2.42's
# `promtool tsdb create-blocks-from openmetrics`; prints bytes per sample
# of each, the ratio, and the backfill times.
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

samples=$((SERIES * SAMPLES))
vb=$(du -sb "$TMP/vigil" | cut -f1)
pb=$(du -sb "$TMP/prom" | cut -f1)
awk -v vb="$vb" -v pb="$pb" -v n="$samples" -v tv="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
    -v tp="$(awk -v a="$t1" -v b="$t2" 'BEGIN{print b-a}')" 'BEGIN {
  printf "vigil:      %12d bytes  %.3f bytes/sample  backfill %.1f s\n", vb, vb / n, tv
  printf "prometheus: %12d bytes  %.3f bytes/sample  backfill %.1f s\n", pb, pb / n, tp
  printf "ratio vigil/prometheus: size %.3f, backfill time %.2f\n", vb / pb, tv / tp
  printf "RESULT vigil_block_bytes_per_sample %.4f\nRESULT prometheus_block_bytes_per_sample %.4f\n", vb / n, pb / n
}'
