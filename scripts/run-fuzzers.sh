#!/usr/bin/env bash
# Runs every libFuzzer target of a -DVIGIL_FUZZ=ON build for SECONDS each.
# Usage: scripts/run-fuzzers.sh BUILD_DIR [SECONDS]
# Crashing inputs are written to BUILD_DIR/fuzz-artifacts/.
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
mkdir -p "$build/fuzz-artifacts"
status=0
for target in $(find "$build" -type f -name '*_fuzz' -perm -u+x | sort); do
  name=$(basename "$target")
  corpus="$build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  echo "== $name (${secs}s)"
  if ! "$target" -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-artifacts/$name-" "$corpus" 2>"$build/fuzz-artifacts/$name.log"; then
    echo "FAILED: $name (see $build/fuzz-artifacts/$name.log)"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz-artifacts/$name.log" || true
done
exit $status
