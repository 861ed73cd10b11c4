#!/usr/bin/env bash
# Exposition parser and scrape-loop throughput (bench/parse_bench.cc) on
# synthetic node and app pages and on a page captured from a real
# node_exporter (Debian's prometheus-node-exporter, started here on a free
# loopback port and stopped afterwards).
# Usage: scripts/bench-scrape-parse.sh [BUILD_DIR]
set -euo pipefail
BUILD_DIR=${1:-build}
tmp=$(mktemp -d)
trap 'kill ${ne_pid:-} 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if [ -x /usr/bin/prometheus-node-exporter ]; then
  /usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:$port >"$tmp/ne.log" 2>&1 &
  ne_pid=$!
  for _ in $(seq 50); do
    if curl -sf "http://127.0.0.1:$port/metrics" -o "$tmp/node.prom"; then break; fi
    sleep 0.2
  done
  echo "captured node_exporter page: $(wc -c <"$tmp/node.prom") bytes, $(grep -vc '^#' "$tmp/node.prom") samples"
  export VIGIL_NODE_PAGE="$tmp/node.prom"
else
  echo "prometheus-node-exporter not installed: the captured-page rows are skipped"
fi
"$BUILD_DIR/bench/parse_bench" --benchmark_counters_tabular=true
