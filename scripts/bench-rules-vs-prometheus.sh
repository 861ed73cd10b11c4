#!/usr/bin/env bash
# Rule evaluation, Vigil vs Prometheus 2.42, side by side in one run:
# bench/static_exporter serves TARGETS targets (one port each) of SERIES
# samples (default 100 x 1,000 = 100k series); a generated rule file holds
# RULE_GROUPS groups of RULES alerting rules (default 50 x 20 = 1,000) over the
# exporter's metrics: thresholds on rate(...[5m]), sum by (...) ratios,
# histogram_quantile over buckets, absent(), predict_linear, all with
# `for: 1m`, labels and templated annotations. Vigil and Prometheus are
# started at the same time with the same config (scrape_interval and
# evaluation_interval INTERVAL_S, rule_files) and run for DURATION seconds
# after a warm-up: until both have scraped every target, then two
# evaluation intervals.
#
# Two passes, each with fresh servers and data directories:
#   1. "rules": the config with rule_files;
#   2. "scrape only": the same config without rule_files, same duration.
# Scraping costs CPU in both servers; the difference of the two passes'
# CPU is what the rules cost.
#
# Reported per server and pass, over the measured window:
#  - CPU s: utime + stime from /proc/PID/stat (end minus start) / CLK_TCK,
#    and CPU s per evaluation cycle: CPU s / (window / INTERVAL_S);
#  - group evaluation time (rules pass): /api/v1/rules sampled SAMPLES
#    times evenly over the window (at least INTERVAL_S apart); mean and max
#    of evaluationTime over all groups and samples, and the mean over
#    samples of the sum over groups (time per cycle);
#  - alerts firing/pending and rules with health != ok at the last sample
#    (both servers evaluate the same rules over the same data, so these
#    should be close);
#  - RSS and peak RSS (VmRSS, VmHWM from /proc/PID/status) at the end.
# Then the rules CPU (rules pass minus scrape-only pass) per server, and
# the ratios Vigil/Prometheus. Both servers share the machine with each
# other and the exporter: CPU seconds are per process, so they compare;
# evaluation times are wall clock and depend on the machine's load.
#
#   scripts/bench-rules-vs-prometheus.sh BUILD_DIR [DURATION_SECONDS]   (default 180)
#
# Builds nothing: needs BUILD_DIR/vigil and BUILD_DIR/bench/static_exporter
# (ninja -C BUILD_DIR vigil static_exporter). See docs/bench-rules.md.
# Environment: TARGETS (100), SERIES (1000), RULE_GROUPS (50), RULES (20 per
# group), INTERVAL_S (15), SAMPLES (max(3, DURATION/30)), KEEP_TMP=1 keeps
# the temp dir (configs, rule file, logs, data).
set -euo pipefail

if (($# < 1)); then
  echo "usage: $0 BUILD_DIR [DURATION_SECONDS]" >&2
  exit 2
fi
BUILD=$1
DURATION=${2:-180}
TARGETS=${TARGETS:-100}
SERIES=${SERIES:-1000}
RULE_GROUPS=${RULE_GROUPS:-50}
RULES=${RULES:-20}
INTERVAL_S=${INTERVAL_S:-15}
SAMPLES=${SAMPLES:-$((DURATION / 30 > 3 ? DURATION / 30 : 3))}
READY_TIMEOUT_S=120
PROM=/usr/bin/prometheus
PROMTOOL=/usr/bin/promtool
VIGIL=$BUILD/vigil
EXPORTER=$BUILD/bench/static_exporter

# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"
require_tools "$PROM" "ninja -C $BUILD vigil static_exporter" "$VIGIL" "$EXPORTER"
if ((DURATION < INTERVAL_S * 2)); then
  echo "DURATION must be at least two evaluation intervals ($((INTERVAL_S * 2))s)" >&2
  exit 2
fi

TMP=$(mktemp -d /tmp/vigil-rules-bench.XXXXXX)
EXPORTER_PID=""
VIGIL_PID=""
PROM_PID=""

# group_times PORT: one line per rule group of /api/v1/rules:
# "evaluationTime lastEvaluation", nothing if the request failed.
group_times() {
  curl -sS --max-time 60 "http://127.0.0.1:$1/api/v1/rules" 2>/dev/null |
    jq -r '.data.groups[] | "\(.evaluationTime) \(.lastEvaluation)"' 2>/dev/null || true
}
# rule_state PORT: "firing pending unhealthy" over every alerting rule.
rule_state() {
  local out
  out=$(curl -sS --max-time 60 "http://127.0.0.1:$1/api/v1/rules" 2>/dev/null |
    jq -r '[.data.groups[].rules[]] as $r
      | "\([$r[].alerts[]? | select(.state == "firing")] | length)
         \([$r[].alerts[]? | select(.state == "pending")] | length)
         \([$r[] | select(.health != "ok")] | length)"' 2>/dev/null) || out=""
  # shellcheck disable=SC2086  # word splitting joins the lines
  if [[ -n $out ]]; then echo $out; else echo "n/a n/a n/a"; fi
}
# metric_sum PORT NAME: the sum of every series of NAME on the server's
# own /metrics page (0 if there is none).
metric_sum() {
  curl -sS --max-time 60 "http://127.0.0.1:$1/metrics" 2>/dev/null |
    awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%.0f\n", s }'
}

# ---- Exporter ----------------------------------------------------------------

# Ports below the ephemeral range (ip_local_port_range starts at 32768), so
# that no client socket holds one of them. One exporter serves both passes.
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

# ---- Rule file ---------------------------------------------------------------

# RULE_GROUPS groups of RULES alerting rules. Each group stands for one service
# team: its selectors pick a resource (path prefix), an HTTP method, a
# database, a cache, a queue and a gRPC service, and its thresholds are
# scaled by a per-group factor, so that some rules fire and others do not.
RULE_FILE=$TMP/rules.yml
python3 - "$RULE_GROUPS" "$RULES" "$INTERVAL_S" > "$RULE_FILE" <<'PY'
import sys

groups, per_group, interval = (int(a) for a in sys.argv[1:4])
# The resources the exporter's first routes use at 1,000 series a page.
resources = ["users", "orders", "products", "carts", "payments", "sessions", "search", "invoices"]
methods = ["GET", "POST", "PUT", "DELETE"]
dbs = ["primary", "replica"]
caches = ["sessions", "products", "prices"]
queues = ["email", "billing", "export", "webhooks"]
grpc_services = ["inventory.Inventory", "auth.Auth"]


def templates(g):
    res = resources[g % len(resources)]
    m = methods[g % len(methods)]
    db = dbs[g % len(dbs)]
    cache = caches[g % len(caches)]
    q = queues[g % len(queues)]
    svc = grpc_services[g % len(grpc_services)]
    k = 1 + (g % 5) * 0.25
    j = 'job="static"'
    path = f'path=~"/api/v1/{res}(/.*)?"'

    def ratio(metric, num, den, by):
        return (f"sum by ({by}) (rate({metric}{{{j},{num}}}[5m]))\n"
                f"  /\nsum by ({by}) (rate({metric}{{{j}{',' + den if den else ''}}}[5m]))")

    # (name, expr, severity, summary, description)
    return [
        ("HighErrorRatio",
         ratio("http_requests_total", f'code="500",{path}', path, "job, path") + f" > {0.008 * k:g}",
         "critical", "High 5xx ratio on {{ $labels.path }}",
         "{{ $value | humanizePercentage }} of requests to {{ $labels.path }} failed over 5m."),
        ("HighClientErrorRatio",
         ratio("http_requests_total", f'code=~"4..",method="{m}"', f'method="{m}"', "job, method")
         + f" > {0.05 * k:g}",
         "warning", "Many 4xx answers to {{ $labels.method }}",
         "{{ $value | humanizePercentage }} of {{ $labels.method }} requests got a 4xx."),
        ("InstanceRequestRateHigh",
         f'sum by (instance) (rate(http_requests_total{{{j},method="{m}"}}[5m])) > {100 * k:g}',
         "warning", "{{ $labels.instance }} serves many requests",
         "{{ $labels.instance }} serves {{ $value | humanize }} {{ \"" + m + "\" }} requests/s."),
        ("PathLatencyP99High",
         f"histogram_quantile(0.99, sum by (job, path, le) "
         f"(rate(http_request_duration_seconds_bucket{{{j},{path}}}[5m]))) > {0.5 * k:g}",
         "critical", "p99 latency of {{ $labels.path }} is high",
         "p99 latency of {{ $labels.path }} is {{ $value | humanizeDuration }}."),
        ("MethodLatencyP90High",
         f"histogram_quantile(0.9, sum by (job, method, le) "
         f'(rate(http_request_duration_seconds_bucket{{{j},method="{m}"}}[5m]))) > {0.25 * k:g}',
         "warning", "p90 latency of {{ $labels.method }} requests is high",
         "p90 latency of {{ $labels.method }} is {{ $value | humanizeDuration }}."),
        ("InstanceLatencyP50High",
         f"histogram_quantile(0.5, sum by (instance, le) "
         f'(rate(http_request_duration_seconds_bucket{{{j},method="{m}",{path}}}[5m]))) > {0.1 * k:g}',
         "warning", "Median latency on {{ $labels.instance }} is high",
         "Median latency on {{ $labels.instance }} is {{ printf \"%.3f\" $value }}s."),
        ("MeanLatencyHigh",
         f'sum by (job, path) (rate(http_request_duration_seconds_sum{{{j},method="{m}"}}[5m]))\n  /\n'
         f'sum by (job, path) (rate(http_request_duration_seconds_count{{{j},method="{m}"}}[5m]))'
         f" > {0.1 * k:g}",
         "warning", "Mean latency of {{ $labels.path }} is high",
         "Mean latency of {{ $labels.path }} is {{ $value | humanizeDuration }}."),
        ("ResponseSizeP95High",
         f"histogram_quantile(0.95, sum by (job, le) "
         f"(rate(http_response_size_bytes_bucket{{{j},{path}}}[5m]))) > {20000 * k:g}",
         "info", "Large responses for /api/v1/" + res,
         "p95 response size is {{ $value | humanize1024 }}B."),
        ("InFlightHigh",
         f'max by (job, path) (http_requests_in_flight{{{j},method="{m}"}}) > {6 + g % 3}',
         "warning", "Many requests in flight on {{ $labels.path }}",
         "{{ $value }} requests in flight on {{ $labels.path }}."),
        ("DBQueryP99High",
         f"histogram_quantile(0.99, sum by (db, operation, le) "
         f'(rate(db_query_duration_seconds_bucket{{{j},db="{db}"}}[5m]))) > {0.03 * k:g}',
         "warning", "Slow {{ $labels.operation }} queries on {{ $labels.db }}",
         "p99 of {{ $labels.operation }} on {{ $labels.db }} is {{ $value | humanizeDuration }}."),
        ("CacheHitRatioLow",
         ratio("cache_requests_total", f'cache="{cache}",result="hit"', f'cache="{cache}"', "cache")
         + f" < {0.85 + 0.02 * (g % 5):g}",
         "warning", "Cache {{ $labels.cache }} hit ratio is low",
         "Hit ratio of {{ $labels.cache }} is {{ $value | humanizePercentage }}."),
        ("QueueBacklog",
         f'max by (queue) (avg_over_time(queue_depth{{{j},queue="{q}"}}[5m])) > {30 + 5 * (g % 5)}',
         "warning", "Queue {{ $labels.queue }} is backing up",
         "{{ $value | printf \"%.0f\" }} jobs waiting in {{ $labels.queue | toUpper }}."),
        ("JobFailureRatio",
         ratio("jobs_processed_total", f'queue="{q}",status="failed"', f'queue="{q}"', "queue")
         + f" > {0.01 * k:g}",
         "warning", "Jobs of {{ $labels.queue }} fail",
         "{{ $value | humanizePercentage }} of {{ $labels.queue }} jobs failed."),
        ("GrpcUnavailable",
         ratio("grpc_client_handled_total", f'grpc_service="{svc}",grpc_code="Unavailable"',
               f'grpc_service="{svc}"', "grpc_service, grpc_method") + f" > {0.0005 * k:g}",
         "critical", "{{ $labels.grpc_service }}/{{ $labels.grpc_method }} is unavailable",
         "{{ $value | humanizePercentage }} of calls to {{ $labels.grpc_method }} were Unavailable."),
        ("TargetDown",
         f"up{{{j}}} == 0",
         "critical", "{{ $labels.instance }} is down",
         "{{ $labels.job }}/{{ $labels.instance }} could not be scraped."),
        ("BuildInfoAbsent",
         f'absent(app_build_info{{{j},version="1.42.0"}})',
         "warning", "No build info", "app_build_info is missing for job {{ $labels.job }}."),
        ("LegacyEndpointAbsent",
         f'absent(rate(http_requests_total{{{j},path="/api/v1/{res}/legacy"}}[5m]))',
         "info", "No traffic on the legacy endpoint of " + res,
         "absent() returned {{ $value }} at {{ with $labels.path }}{{ . }}{{ else }}(no path){{ end }}."),
        ("HighCPU",
         f"rate(process_cpu_seconds_total{{{j}}}[5m]) > {0.1 * k:g}",
         "warning", "{{ $labels.instance }} uses much CPU",
         "{{ $labels.instance }} uses {{ $value | humanizePercentage }} of a core."),
        ("GoroutinesHigh",
         f"go_goroutines{{{j}}} > {200 + 5 * (g % 5)}",
         "info", "Many goroutines on {{ $labels.instance }}",
         "{{ $labels.instance }} runs {{ $value }} goroutines."),
        ("HeapGrowth",
         f"predict_linear(go_memstats_heap_alloc_bytes{{{j}}}[5m], 3600) > {2e8 * k:g}",
         "warning", "Heap of {{ $labels.instance }} grows",
         "Heap of {{ $labels.instance }} heads for {{ $value | humanize1024 }}B within an hour."),
    ]


def quote(s):
    return "'" + s.replace("'", "''") + "'"


print("groups:")
for g in range(groups):
    res = resources[g % len(resources)]
    print(f"  - name: service-{g:02d}-{res}")
    print(f"    interval: {interval}s")
    print("    rules:")
    t = templates(g)
    for i in range(per_group):
        name, expr, severity, summary, description = t[i % len(t)]
        if i >= len(t):
            name += str(i // len(t))
        print(f"      - alert: {name}")
        print("        expr: |")
        for line in expr.split("\n"):
            print("          " + line)
        print("        for: 1m")
        print("        labels:")
        print(f"          severity: {severity}")
        print(f"          team: team-{g:02d}")
        print("        annotations:")
        print(f"          summary: {quote(summary)}")
        print(f"          description: {quote(description)}")
PY
n_rules=$(grep -c '^      - alert:' "$RULE_FILE")
echo "rule file: $RULE_GROUPS groups, $n_rules alerting rules"
if [[ -x $PROMTOOL ]]; then
  "$PROMTOOL" check rules "$RULE_FILE" > "$TMP/promtool-check.log" 2>&1 ||
    { echo "promtool check rules failed:" >&2; tail -n 20 "$TMP/promtool-check.log" >&2; exit 1; }
fi
"$VIGIL" check rules "$RULE_FILE" > "$TMP/vigil-check.log" 2>&1 ||
  { echo "vigil check rules failed:" >&2; tail -n 20 "$TMP/vigil-check.log" >&2; exit 1; }

# write_config FILE WITH_RULES
write_config() {
  {
    printf 'global:\n  scrape_interval: %ss\n  scrape_timeout: 10s\n  evaluation_interval: %ss\n' \
      "$INTERVAL_S" "$INTERVAL_S"
    if [[ $2 == 1 ]]; then printf 'rule_files:\n  - %s\n' "$RULE_FILE"; fi
    printf 'scrape_configs:\n  - job_name: static\n    static_configs:\n      - targets:\n'
    for ((i = 0; i < TARGETS; i++)); do printf "          - '127.0.0.1:%d'\n" $((BASE + i)); done
  } > "$1"
}

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

# ---- One pass ----------------------------------------------------------------

declare -A R
# run_pass PASS WITH_RULES: starts both servers on a fresh config and data
# directory, warms up, measures DURATION seconds, stops them; results go to
# R[PASS,server,key].
run_pass() {
  local pass=$1 with_rules=$2
  local dir=$TMP/$pass
  mkdir -p "$dir/prom-data" "$dir/vigil-data"
  write_config "$dir/config.yml" "$with_rules"
  local prom_port vigil_port
  prom_port=$(free_port)
  vigil_port=$(free_port)
  while [[ $vigil_port == "$prom_port" ]]; do vigil_port=$(free_port); done

  "$PROM" --config.file="$dir/config.yml" --storage.tsdb.path="$dir/prom-data" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn > "$dir/prometheus.log" 2>&1 &
  PROM_PID=$!
  "$VIGIL" serve --listen="127.0.0.1:$vigil_port" --data_dir="$dir/vigil-data" \
    --config="$dir/config.yml" --log_level=warn > "$dir/vigil.log" 2>&1 &
  VIGIL_PID=$!
  wait_ready Prometheus "$prom_port" "$PROM_PID" "$dir/prometheus.log"
  wait_ready Vigil "$vigil_port" "$VIGIL_PID" "$dir/vigil.log"
  echo "[$pass] Prometheus on :$prom_port (pid $PROM_PID), Vigil on :$vigil_port (pid $VIGIL_PID)"

  # Warm-up: until both have every target up, then two evaluation intervals.
  local deadline=$((SECONDS + 3 * INTERVAL_S + 60)) pn vn
  while :; do
    pn=$(query "$prom_port" 'sum(up)')
    vn=$(query "$vigil_port" 'sum(up)')
    [[ $pn == "$TARGETS" && $vn == "$TARGETS" ]] && break
    if ((SECONDS > deadline)); then
      echo "WARNING: [$pass] targets up: Prometheus $pn, Vigil $vn (of $TARGETS); measuring anyway" >&2
      break
    fi
    alive Prometheus "$PROM_PID" "$dir/prometheus.log"
    alive Vigil "$VIGIL_PID" "$dir/vigil.log"
    sleep 1
  done
  echo "[$pass] every target up; warm-up $((2 * INTERVAL_S))s"
  sleep $((2 * INTERVAL_S))
  alive Prometheus "$PROM_PID" "$dir/prometheus.log"
  alive Vigil "$VIGIL_PID" "$dir/vigil.log"

  local t0 v0 p0 e0
  # Group evaluations done and missed (Prometheus's
  # prometheus_rule_group_iterations*, Vigil's vigil_rule_group_iterations*).
  local it0_p it0_v miss0_p miss0_v
  it0_p=$(metric_sum "$prom_port" prometheus_rule_group_iterations_total)
  miss0_p=$(metric_sum "$prom_port" prometheus_rule_group_iterations_missed_total)
  it0_v=$(metric_sum "$vigil_port" vigil_rule_group_iterations_total)
  miss0_v=$(metric_sum "$vigil_port" vigil_rule_group_iterations_missed_total)
  t0=$(date +%s%3N)
  v0=$(cpu_ticks "$VIGIL_PID")
  p0=$(cpu_ticks "$PROM_PID")
  e0=$(cpu_ticks "$EXPORTER_PID")
  echo "[$pass] measuring ${DURATION}s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  : > "$dir/prom-groups.txt"
  : > "$dir/vigil-groups.txt"
  local start=$SECONDS step s next
  step=$((DURATION / SAMPLES))
  ((step >= INTERVAL_S)) || step=$INTERVAL_S
  for ((s = 1; s <= SAMPLES; s++)); do
    next=$((start + s * step))
    ((next <= start + DURATION)) || break
    while ((SECONDS < next)); do sleep 1; done
    alive Prometheus "$PROM_PID" "$dir/prometheus.log"
    alive Vigil "$VIGIL_PID" "$dir/vigil.log"
    alive static_exporter "$EXPORTER_PID" "$EXPORTER_LOG"
    if [[ $with_rules == 1 ]]; then
      group_times "$prom_port" | sed "s/^/$s /" >> "$dir/prom-groups.txt"
      group_times "$vigil_port" | sed "s/^/$s /" >> "$dir/vigil-groups.txt"
    fi
  done
  while ((SECONDS < start + DURATION)); do sleep 1; done
  local v1 p1 e1 t1
  v1=$(cpu_ticks "$VIGIL_PID")
  p1=$(cpu_ticks "$PROM_PID")
  e1=$(cpu_ticks "$EXPORTER_PID")
  t1=$(date +%s%3N)
  R[$pass,window_ms]=$((t1 - t0))
  # Both count missed iterations as scheduled ones too
  # (iterations_total = done + missed).
  R[$pass,prom,missed]=$(($(metric_sum "$prom_port" prometheus_rule_group_iterations_missed_total) - miss0_p))
  R[$pass,prom,iters]=$(($(metric_sum "$prom_port" prometheus_rule_group_iterations_total) - it0_p - R[$pass,prom,missed]))
  R[$pass,vigil,missed]=$(($(metric_sum "$vigil_port" vigil_rule_group_iterations_missed_total) - miss0_v))
  R[$pass,vigil,iters]=$(($(metric_sum "$vigil_port" vigil_rule_group_iterations_total) - it0_v - R[$pass,vigil,missed]))
  R[$pass,vigil,cpu]=$(awk -v a="$v0" -v b="$v1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')
  R[$pass,prom,cpu]=$(awk -v a="$p0" -v b="$p1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')
  R[$pass,exporter,cpu]=$(awk -v a="$e0" -v b="$e1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')
  R[$pass,vigil,rss]=$(kib "$VIGIL_PID" VmRSS)
  R[$pass,vigil,hwm]=$(kib "$VIGIL_PID" VmHWM)
  R[$pass,prom,rss]=$(kib "$PROM_PID" VmRSS)
  R[$pass,prom,hwm]=$(kib "$PROM_PID" VmHWM)
  R[$pass,load]=$(cut -d' ' -f1-3 /proc/loadavg)
  local srv port
  for srv in prom vigil; do
    port=$prom_port
    [[ $srv == vigil ]] && port=$vigil_port
    R[$pass,$srv,up]=$(query "$port" 'sum(up)')
    if [[ $with_rules == 1 ]]; then
      # Per group: mean and max of evaluationTime over all samples; per
      # sample: the sum over groups; groups that had not run yet (time 0
      # or lastEvaluation in year 1) are left out.
      read -r "R[$pass,$srv,n]" "R[$pass,$srv,mean]" "R[$pass,$srv,max]" "R[$pass,$srv,sum]" < <(
        awk '$3 !~ /^0001-/ && $2 > 0 {
               n++; t += $2; if ($2 > mx) mx = $2; per[$1] += $2; cnt[$1]++
             }
             END {
               for (s in per) { ns++; tot += per[s] }
               if (n == 0) { print "0 n/a n/a n/a"; exit }
               printf "%d %.6f %.6f %.6f\n", n, t / n, mx, tot / ns
             }' "$dir/$srv-groups.txt")
      read -r "R[$pass,$srv,firing]" "R[$pass,$srv,pending]" "R[$pass,$srv,unhealthy]" \
        < <(rule_state "$port")
    fi
  done
  stop "$VIGIL_PID"; VIGIL_PID=""
  stop "$PROM_PID"; PROM_PID=""
}

echo "pass 1 of 2: with $n_rules rules; pass 2: scrape only; ${DURATION}s each after warm-up"
run_pass rules 1
run_pass scrape 0

# ---- Report ------------------------------------------------------------------

num() { [[ $1 =~ ^[0-9.eE+-]+$ ]]; }
ratio() {
  if num "$1" && num "$2" && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
  else
    echo "n/a"
  fi
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# per_cycle CPU_S WINDOW_MS
per_cycle() { awk -v c="$1" -v w="$2" -v i="$INTERVAL_S" 'BEGIN { printf "%.3f", c / (w / 1000 / i) }'; }
ms() { if num "$1"; then awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; else echo "$1"; fi; }
name_of() { if [[ $1 == vigil ]]; then echo Vigil; else echo "Prometheus 2.42"; fi; }

echo
echo "$TARGETS targets x $SERIES series, scrape and evaluation every ${INTERVAL_S}s;" \
  "$RULE_GROUPS groups x $RULES alerting rules; windows: rules $((R[rules,window_ms])) ms," \
  "scrape only $((R[scrape,window_ms])) ms; CLK_TCK $CLK_TCK."
echo "load average at the end: rules pass ${R[rules,load]}, scrape-only pass ${R[scrape,load]}"
echo
echo "Rules pass (evaluation times from /api/v1/rules, ${SAMPLES} samples):"
echo
echo "| server | CPU s | CPU s / cycle | group evals done (missed) | group eval mean ms | group eval max ms | sum over groups ms / cycle | firing | pending | unhealthy rules | RSS MiB | HWM MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for s in vigil prom; do
  echo "| $(name_of $s) | ${R[rules,$s,cpu]} | $(per_cycle "${R[rules,$s,cpu]}" "${R[rules,window_ms]}") |" \
    "${R[rules,$s,iters]} (${R[rules,$s,missed]}) |" \
    "$(ms "${R[rules,$s,mean]}") | $(ms "${R[rules,$s,max]}") | $(ms "${R[rules,$s,sum]}") |" \
    "${R[rules,$s,firing]} | ${R[rules,$s,pending]} | ${R[rules,$s,unhealthy]} |" \
    "$(mib "${R[rules,$s,rss]}") | $(mib "${R[rules,$s,hwm]}") |"
done
echo "| Vigil/Prometheus | $(ratio "${R[rules,vigil,cpu]}" "${R[rules,prom,cpu]}") |" \
  "$(ratio "$(per_cycle "${R[rules,vigil,cpu]}" "${R[rules,window_ms]}")" "$(per_cycle "${R[rules,prom,cpu]}" "${R[rules,window_ms]}")") |" \
  "$(ratio "${R[rules,vigil,iters]}" "${R[rules,prom,iters]}") |" \
  "$(ratio "${R[rules,vigil,mean]}" "${R[rules,prom,mean]}") | $(ratio "${R[rules,vigil,max]}" "${R[rules,prom,max]}") |" \
  "$(ratio "${R[rules,vigil,sum]}" "${R[rules,prom,sum]}") | | | |" \
  "$(ratio "${R[rules,vigil,rss]}" "${R[rules,prom,rss]}") | $(ratio "${R[rules,vigil,hwm]}" "${R[rules,prom,hwm]}") |"
echo
echo "Rules CPU = rules pass minus scrape-only pass (same duration):"
echo
echo "| server | CPU s with rules | CPU s scrape only | rules CPU s | rules CPU s / cycle | rules CPU ms / group eval | RSS MiB with / without rules |"
echo "|---|---:|---:|---:|---:|---:|---:|"
declare -A PE
declare -A RC
for s in vigil prom; do
  # Scale the scrape-only CPU to the rules pass's window (they differ by
  # a few ms).
  RC[$s]=$(awk -v a="${R[rules,$s,cpu]}" -v b="${R[scrape,$s,cpu]}" \
    -v wa="${R[rules,window_ms]}" -v wb="${R[scrape,window_ms]}" 'BEGIN { printf "%.2f", a - b * wa / wb }')
  PE[$s]=n/a
  if num "${R[rules,$s,iters]}" && ((R[rules,$s,iters] > 0)); then
    PE[$s]=$(awk -v c="${RC[$s]}" -v n="${R[rules,$s,iters]}" 'BEGIN { printf "%.1f", c / n * 1000 }')
  fi
  echo "| $(name_of $s) | ${R[rules,$s,cpu]} | ${R[scrape,$s,cpu]} | ${RC[$s]} |" \
    "$(per_cycle "${RC[$s]}" "${R[rules,window_ms]}") | ${PE[$s]} |" \
    "$(mib "${R[rules,$s,rss]}") / $(mib "${R[scrape,$s,rss]}") |"
done
echo "| Vigil/Prometheus | $(ratio "${R[rules,vigil,cpu]}" "${R[rules,prom,cpu]}") |" \
  "$(ratio "${R[scrape,vigil,cpu]}" "${R[scrape,prom,cpu]}") | $(ratio "${RC[vigil]}" "${RC[prom]}") |" \
  "$(ratio "${RC[vigil]}" "${RC[prom]}") | $(ratio "${PE[vigil]}" "${PE[prom]}") |" \
  "$(ratio "${R[rules,vigil,rss]}" "${R[rules,prom,rss]}") / $(ratio "${R[scrape,vigil,rss]}" "${R[scrape,prom,rss]}") |"
echo
echo "targets up at the end: rules pass Prometheus ${R[rules,prom,up]}, Vigil ${R[rules,vigil,up]};" \
  "scrape-only pass Prometheus ${R[scrape,prom,up]}, Vigil ${R[scrape,vigil,up]} (of $TARGETS)"
echo "group evaluations sampled: Prometheus ${R[rules,prom,n]}, Vigil ${R[rules,vigil,n]}" \
  "(of $((RULE_GROUPS * SAMPLES))); exporter CPU s: ${R[rules,exporter,cpu]} / ${R[scrape,exporter,cpu]}"
