# shellcheck shell=bash
# Shared by scripts/bench-*-vs-prometheus.sh: process control and
# measurement helpers for running Vigil and Prometheus side by side.
# Installs the EXIT trap that stops $VIGIL_PID, $PROM_PID and
# $EXPORTER_PID and removes $TMP (kept with KEEP_TMP=1); the script sets
# them as it goes.

# require_tools PROM BIN...: the tools every script uses, Prometheus, and
# the built binaries (with how to build them).
require_tools() {
  local prom=$1 build_hint=$2
  shift 2
  for tool in curl jq python3 awk getconf; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
  done
  [[ -x $prom ]] || { echo "missing $prom (Debian package prometheus)" >&2; exit 1; }
  for bin in "$@"; do
    [[ -x $bin ]] || { echo "missing $bin; build it with: $build_hint" >&2; exit 1; }
  done
}

# stop PID: SIGTERM, then SIGKILL if it is still there after 30 s.
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
  stop "${VIGIL_PID:-}"
  stop "${PROM_PID:-}"
  stop "${EXPORTER_PID:-}"
  [[ -n ${TMP:-} ]] || return 0
  if [[ ${KEEP_TMP:-0} == 1 ]]; then
    echo "kept $TMP"
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC2034  # used by the scripts that source this
CLK_TCK=$(getconf CLK_TCK)
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# cpu_ticks PID: utime + stime in clock ticks (fields 14 and 15; the
# command name in field 2 may hold spaces, so count from its ')').
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# kib PID FIELD: a /proc/PID/status field (VmRSS, VmHWM) in KiB.
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
alive() {
  local name=$1 pid=$2 log=$3
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "$name exited:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
}
# query PORT EXPR [TIME]: the scalar value of an instant query's single
# result ("0" for an empty result, "error: ..." if the server refused).
query() {
  local out args=(--data-urlencode "query=$2")
  [[ -n ${3:-} ]] && args+=(--data-urlencode "time=$3")
  out=$(curl -sS --max-time 120 "http://127.0.0.1:$1/api/v1/query" "${args[@]}") ||
    { echo "error: curl failed"; return; }
  jq -r 'if .status == "success" then (.data.result[0].value[1] // "0")
         else "error: \(.error)" end' <<< "$out" 2>/dev/null || echo "error: ${out:0:200}"
}
