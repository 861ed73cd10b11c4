#include "bench/dataset.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/types/span.h"

namespace vigil::bench {

// How a family's values evolve.
enum class Model : uint8_t {
  kCounter,     // Grows by rate*15s*[0.2, 1.8) when active; rare resets.
  kGaugeWalk,   // Random walk: += level*volatility*[-1, 1) when active.
  kGaugeNoise,  // Redrawn around its level: level*(1 +- volatility).
  kConstant,
};

// Label dimensions. A family's series are the cross product of its dims;
// `name_dim` expands "{}" in the metric name instead of adding a label.
enum class Dim : uint8_t {
  kNone, kCpu, kMode, kGuestMode, kNetDev, kDisk, kMount, kHandler, kCode,
  kLe, kSensor, kZone, kQuantile, kIrqType, kNuma, kContainer,
  // Name dims.
  kVmstat, kSysCounter, kSoftnet, kNetstat, kMemField, kNumaField, kLoad,
  kFsBytes, kGoCount, kGoMem, kProcMem, kProcs, kSockstat, kContainerMem,
  kInfo, kMemTotal, kNetConst, kFsConst, kMinMax, kCritMax,
};

struct Family {
  absl::string_view name;
  absl::string_view job;
  Model model;
  Dim name_dim, dim1, dim2;
  double lo, hi;          // Rate per second (counters) or level; log-uniform.
  double act_lo, act_hi;  // Chance per scrape of a change; uniform.
  double quantum;         // Values are multiples of it; 0: full precision.
  double volatility;      // Gauges: relative size of a change.
};

namespace {

constexpr double kResetChance = 1e-4;  // Per counter sample.
constexpr double kMaxUptimeSeconds = 30 * 86400;  // Counters' starting age.

using M = Model;
using D = Dim;

// clang-format off
constexpr Family kFamilies[] = {
  // Counters (~60%).
  {"node_cpu_seconds_total", "node", M::kCounter, D::kNone, D::kCpu, D::kMode, 1e-3, 1, 0, 1, 0.01, 0},
  {"node_cpu_guest_seconds_total", "node", M::kCounter, D::kNone, D::kCpu, D::kGuestMode, 0, 0, 0, 0, 0.01, 0},
  {"node_network_receive_bytes_total", "node", M::kCounter, D::kNone, D::kNetDev, D::kNone, 10, 1e7, 0.3, 1, 1, 0},
  {"node_network_transmit_bytes_total", "node", M::kCounter, D::kNone, D::kNetDev, D::kNone, 10, 1e7, 0.3, 1, 1, 0},
  {"node_network_receive_packets_total", "node", M::kCounter, D::kNone, D::kNetDev, D::kNone, 0.1, 1e4, 0.3, 1, 1, 0},
  {"node_network_transmit_packets_total", "node", M::kCounter, D::kNone, D::kNetDev, D::kNone, 0.1, 1e4, 0.3, 1, 1, 0},
  {"node_network_receive_errs_total", "node", M::kCounter, D::kNone, D::kNetDev, D::kNone, 1e-3, 0.1, 0, 0.05, 1, 0},
  {"node_network_receive_drop_total", "node", M::kCounter, D::kNone, D::kNetDev, D::kNone, 1e-3, 0.1, 0, 0.05, 1, 0},
  {"node_disk_read_bytes_total", "node", M::kCounter, D::kNone, D::kDisk, D::kNone, 100, 1e7, 0.2, 1, 1, 0},
  {"node_disk_written_bytes_total", "node", M::kCounter, D::kNone, D::kDisk, D::kNone, 100, 1e7, 0.2, 1, 1, 0},
  {"node_disk_reads_completed_total", "node", M::kCounter, D::kNone, D::kDisk, D::kNone, 0.1, 1e3, 0.2, 1, 1, 0},
  {"node_disk_writes_completed_total", "node", M::kCounter, D::kNone, D::kDisk, D::kNone, 0.1, 1e3, 0.2, 1, 1, 0},
  {"node_disk_io_time_seconds_total", "node", M::kCounter, D::kNone, D::kDisk, D::kNone, 1e-3, 0.5, 0.2, 1, 1e-3, 0},
  {"node_disk_read_time_seconds_total", "node", M::kCounter, D::kNone, D::kDisk, D::kNone, 1e-3, 0.5, 0.2, 1, 1e-3, 0},
  {"node_disk_write_time_seconds_total", "node", M::kCounter, D::kNone, D::kDisk, D::kNone, 1e-3, 0.5, 0.2, 1, 1e-3, 0},
  {"node_vmstat_{}", "node", M::kCounter, D::kVmstat, D::kNone, D::kNone, 0.01, 1e4, 0, 1, 1, 0},
  {"node_{}_total", "node", M::kCounter, D::kSysCounter, D::kNone, D::kNone, 1, 1e5, 1, 1, 1, 0},
  {"node_interrupts_total", "node", M::kCounter, D::kNone, D::kCpu, D::kIrqType, 0.01, 1e3, 0, 1, 1, 0},
  {"node_schedstat_running_seconds_total", "node", M::kCounter, D::kNone, D::kCpu, D::kNone, 0.01, 1, 0.5, 1, 1e-9, 0},
  {"node_schedstat_waiting_seconds_total", "node", M::kCounter, D::kNone, D::kCpu, D::kNone, 1e-3, 0.1, 0.5, 1, 1e-9, 0},
  {"node_schedstat_timeslices_total", "node", M::kCounter, D::kNone, D::kCpu, D::kNone, 1, 1e3, 0.5, 1, 1, 0},
  {"node_softnet_{}_total", "node", M::kCounter, D::kSoftnet, D::kCpu, D::kNone, 0.01, 1e3, 0, 1, 1, 0},
  {"node_netstat_{}", "node", M::kCounter, D::kNetstat, D::kNone, D::kNone, 0.01, 1e3, 0, 1, 1, 0},
  {"http_requests_total", "api", M::kCounter, D::kNone, D::kHandler, D::kCode, 0.01, 100, 0.05, 1, 1, 0},
  {"http_request_duration_seconds_bucket", "api", M::kCounter, D::kNone, D::kHandler, D::kLe, 0.01, 100, 0.05, 1, 1, 0},
  {"http_request_duration_seconds_sum", "api", M::kCounter, D::kNone, D::kHandler, D::kNone, 1e-3, 10, 0.3, 1, 0, 0},
  {"http_request_duration_seconds_count", "api", M::kCounter, D::kNone, D::kHandler, D::kNone, 0.01, 100, 0.3, 1, 1, 0},
  {"process_cpu_seconds_total", "node", M::kCounter, D::kNone, D::kNone, D::kNone, 1e-3, 0.1, 0.5, 1, 0.01, 0},
  {"go_memstats_alloc_bytes_total", "node", M::kCounter, D::kNone, D::kNone, D::kNone, 1e3, 1e6, 1, 1, 1, 0},
  {"go_gc_duration_seconds_count", "node", M::kCounter, D::kNone, D::kNone, D::kNone, 0.01, 1, 0.1, 0.5, 1, 0},
  {"container_cpu_usage_seconds_total", "kubelet", M::kCounter, D::kNone, D::kContainer, D::kNone, 1e-3, 2, 0.5, 1, 1e-9, 0},
  // Gauges (~30%).
  {"node_memory_{}_bytes", "node", M::kGaugeWalk, D::kMemField, D::kNone, D::kNone, 1e6, 6e10, 0.1, 1, 4096, 1e-3},
  {"node_memory_numa_{}", "node", M::kGaugeWalk, D::kNumaField, D::kNuma, D::kNone, 1e6, 3e10, 0.1, 1, 4096, 1e-3},
  {"node_load{}", "node", M::kGaugeWalk, D::kLoad, D::kNone, D::kNone, 0.05, 8, 1, 1, 0.01, 0.1},
  {"node_hwmon_temp_celsius", "node", M::kGaugeWalk, D::kNone, D::kSensor, D::kNone, 30, 80, 0.2, 1, 1, 0.02},
  {"node_thermal_zone_temp", "node", M::kGaugeWalk, D::kNone, D::kZone, D::kNone, 30, 80, 0.2, 1, 1e-3, 0.01},
  {"node_hwmon_in_volts", "node", M::kGaugeWalk, D::kNone, D::kSensor, D::kNone, 0.8, 12, 0.2, 1, 1e-3, 5e-3},
  {"node_cpu_scaling_frequency_hertz", "node", M::kGaugeWalk, D::kNone, D::kCpu, D::kNone, 8e8, 3.5e9, 0.5, 1, 1000, 0.2},
  {"node_filesystem_{}_bytes", "node", M::kGaugeWalk, D::kFsBytes, D::kMount, D::kNone, 1e9, 1e12, 0.1, 1, 4096, 1e-5},
  {"node_filesystem_files_free", "node", M::kGaugeWalk, D::kNone, D::kMount, D::kNone, 1e4, 1e8, 0.1, 1, 1, 1e-5},
  {"node_disk_io_now", "node", M::kGaugeWalk, D::kNone, D::kDisk, D::kNone, 0.5, 4, 0.2, 1, 1, 1},
  {"go_{}", "node", M::kGaugeWalk, D::kGoCount, D::kNone, D::kNone, 5, 200, 0.3, 1, 1, 0.1},
  {"process_open_fds", "node", M::kGaugeWalk, D::kNone, D::kNone, D::kNone, 10, 1000, 0.3, 1, 1, 0.02},
  {"go_memstats_{}_bytes", "node", M::kGaugeNoise, D::kGoMem, D::kNone, D::kNone, 1e6, 1e9, 0.5, 1, 1, 0.3},
  {"process_{}_memory_bytes", "node", M::kGaugeWalk, D::kProcMem, D::kNone, D::kNone, 1e7, 1e9, 0.3, 1, 4096, 0.01},
  {"go_gc_duration_seconds", "node", M::kGaugeNoise, D::kNone, D::kQuantile, D::kNone, 1e-5, 1e-2, 0.1, 0.5, 0, 0.5},
  {"http_requests_in_flight", "api", M::kGaugeWalk, D::kNone, D::kHandler, D::kNone, 0.5, 5, 0.3, 1, 1, 1},
  {"node_procs_{}", "node", M::kGaugeWalk, D::kProcs, D::kNone, D::kNone, 0.5, 8, 0.5, 1, 1, 1},
  {"node_entropy_available_bits", "node", M::kGaugeWalk, D::kNone, D::kNone, D::kNone, 256, 4096, 0.1, 0.5, 1, 0.05},
  {"node_timex_offset_seconds", "node", M::kGaugeNoise, D::kNone, D::kNone, D::kNone, 1e-6, 1e-3, 1, 1, 1e-6, 1},
  {"node_timex_frequency_adjustment_ratio", "node", M::kGaugeNoise, D::kNone, D::kNone, D::kNone, 1, 1, 0.5, 1, 0, 1e-5},
  {"node_nf_conntrack_entries", "node", M::kGaugeWalk, D::kNone, D::kNone, D::kNone, 100, 1e5, 1, 1, 1, 0.01},
  {"node_sockstat_{}", "node", M::kGaugeWalk, D::kSockstat, D::kNone, D::kNone, 1, 1e4, 0.2, 1, 1, 0.05},
  {"node_softnet_backlog_len", "node", M::kGaugeWalk, D::kNone, D::kCpu, D::kNone, 0.5, 10, 0.2, 0.8, 1, 1},
  {"container_memory_{}", "kubelet", M::kGaugeWalk, D::kContainerMem, D::kContainer, D::kNone, 1e6, 4e9, 0.3, 1, 4096, 0.01},
  {"container_cpu_load_average_10s", "kubelet", M::kGaugeWalk, D::kNone, D::kContainer, D::kNone, 0.5, 4, 0.1, 0.5, 1, 1},
  // Constants (~10%).
  {"node_{}_info", "node", M::kConstant, D::kInfo, D::kNone, D::kNone, 1, 1, 0, 0, 1, 0},
  {"go_info", "node", M::kConstant, D::kNone, D::kNone, D::kNone, 1, 1, 0, 0, 1, 0},
  {"machine_cpu_cores", "node", M::kConstant, D::kNone, D::kNone, D::kNone, 16, 16, 0, 0, 1, 0},
  {"node_memory_{}", "node", M::kConstant, D::kMemTotal, D::kNone, D::kNone, 1e9, 2.5e11, 0, 0, 4096, 0},
  {"node_boot_time_seconds", "node", M::kConstant, D::kNone, D::kNone, D::kNone, 1.69e9, 1.6999e9, 0, 0, 1, 0},
  {"node_network_{}", "node", M::kConstant, D::kNetConst, D::kNetDev, D::kNone, 1, 1e9, 0, 0, 1, 0},
  {"node_filesystem_{}", "node", M::kConstant, D::kFsConst, D::kMount, D::kNone, 1, 1e12, 0, 0, 1, 0},
  {"node_cpu_frequency_{}_hertz", "node", M::kConstant, D::kMinMax, D::kCpu, D::kNone, 8e8, 3.5e9, 0, 0, 1000, 0},
  {"node_hwmon_temp_{}_celsius", "node", M::kConstant, D::kCritMax, D::kSensor, D::kNone, 80, 110, 0, 0, 1, 0},
  {"node_disk_info", "node", M::kConstant, D::kNone, D::kDisk, D::kNone, 1, 1, 0, 0, 1, 0},
};

constexpr absl::string_view kCpus[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"};
constexpr absl::string_view kModes[] = {"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"};
constexpr absl::string_view kGuestModes[] = {"nice", "user"};
constexpr absl::string_view kNetDevs[] = {"bond0", "docker0", "eth0", "eth1", "lo", "veth3f2a91c"};
constexpr absl::string_view kDisks[] = {"nvme0n1", "nvme1n1", "sda", "sdb"};
constexpr absl::string_view kMounts[] = {"/", "/boot", "/home", "/var", "/var/lib/docker"};
constexpr absl::string_view kHandlers[] = {"/-/healthy", "/api/v1/labels", "/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/write", "/federate", "/metrics"};
constexpr absl::string_view kCodes[] = {"200", "400", "500"};
constexpr absl::string_view kLes[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"};
constexpr absl::string_view kSensors[] = {"temp1", "temp2", "temp3", "temp4", "temp5", "temp6", "temp7", "temp8"};
constexpr absl::string_view kQuantiles[] = {"0", "0.25", "0.5", "0.75", "1"};
constexpr absl::string_view kIrqTypes[] = {"CAL", "IWI", "LOC", "MCP", "NMI", "PMI", "RES", "TLB"};
constexpr absl::string_view kContainers[] = {
  "alertmanager", "api", "auth", "billing", "cache", "cart", "catalog", "checkout", "coredns", "cron",
  "etcd", "frontend", "gateway", "grafana", "indexer", "ingest", "kafka", "kube-proxy", "loki", "mailer",
  "nginx", "notifier", "postgres", "prometheus", "rabbitmq", "redis", "search", "session", "vector", "worker"};
constexpr absl::string_view kVmstat[] = {"oom_kill", "pgfault", "pgmajfault", "pgpgin", "pgpgout", "pswpin", "pswpout"};
constexpr absl::string_view kSysCounters[] = {"context_switches", "forks", "intr"};
constexpr absl::string_view kSoftnet[] = {"dropped", "processed", "times_squeezed"};
constexpr absl::string_view kNetstat[] = {
  "Icmp_InErrors", "Icmp_InMsgs", "Icmp_OutMsgs", "Ip_Forwarding", "IpExt_InOctets", "IpExt_OutOctets",
  "TcpExt_ListenDrops", "TcpExt_ListenOverflows", "TcpExt_SyncookiesFailed", "TcpExt_SyncookiesRecv",
  "Tcp_ActiveOpens", "Tcp_InErrs", "Tcp_InSegs", "Tcp_OutSegs", "Tcp_PassiveOpens", "Tcp_RetransSegs"};
constexpr absl::string_view kMemFields[] = {
  "Active", "Active_anon", "Active_file", "AnonHugePages", "AnonPages", "Buffers", "Cached", "Committed_AS",
  "Dirty", "HugePages_Free", "Inactive", "Inactive_anon", "Inactive_file", "KReclaimable", "KernelStack",
  "Mapped", "MemAvailable", "MemFree", "Mlocked", "PageTables", "Percpu", "SReclaimable", "SUnreclaim",
  "Shmem", "Slab", "SwapCached", "SwapFree", "Unevictable", "VmallocUsed", "Writeback"};
constexpr absl::string_view kNumaFields[] = {"Active", "AnonPages", "Dirty", "FilePages", "Inactive", "MemFree", "MemUsed", "Slab"};
constexpr absl::string_view kLoad[] = {"1", "15", "5"};
constexpr absl::string_view kFsBytes[] = {"avail", "free"};
constexpr absl::string_view kGoCount[] = {"goroutines", "threads"};
constexpr absl::string_view kGoMem[] = {"heap_alloc", "heap_inuse", "stack_inuse"};
constexpr absl::string_view kProcMem[] = {"resident", "virtual"};
constexpr absl::string_view kProcs[] = {"blocked", "running"};
constexpr absl::string_view kSockstat[] = {
  "FRAG_inuse", "RAW_inuse", "TCP6_inuse", "TCP_alloc", "TCP_inuse", "TCP_mem", "TCP_mem_bytes",
  "TCP_orphan", "TCP_tw", "UDP_inuse", "UDP_mem", "sockets_used"};
constexpr absl::string_view kContainerMem[] = {"cache", "rss", "usage_bytes", "working_set_bytes"};
constexpr absl::string_view kInfo[] = {"dmi", "exporter_build", "os", "uname"};
constexpr absl::string_view kMemTotal[] = {"HugePages_Total", "MemTotal_bytes", "SwapTotal_bytes"};
constexpr absl::string_view kNetConst[] = {"address_assign_type", "carrier", "info", "mtu_bytes", "speed_bytes", "up"};
constexpr absl::string_view kFsConst[] = {"device_error", "files", "readonly", "size_bytes"};
constexpr absl::string_view kMinMax[] = {"max", "min"};
constexpr absl::string_view kCritMax[] = {"crit", "max"};
// clang-format on

struct DimDef {
  absl::string_view label;  // Empty for name dims.
  absl::Span<const absl::string_view> values;
};

DimDef Def(Dim d) {
  switch (d) {
    case D::kNone: return {"", {}};
    case D::kCpu: return {"cpu", kCpus};
    case D::kMode: return {"mode", kModes};
    case D::kGuestMode: return {"mode", kGuestModes};
    case D::kNetDev: return {"device", kNetDevs};
    case D::kDisk: return {"device", kDisks};
    case D::kMount: return {"mountpoint", kMounts};
    case D::kHandler: return {"handler", kHandlers};
    case D::kCode: return {"code", kCodes};
    case D::kLe: return {"le", kLes};
    case D::kSensor: return {"sensor", kSensors};
    case D::kZone: return {"zone", absl::MakeConstSpan(kCpus, 8)};
    case D::kQuantile: return {"quantile", kQuantiles};
    case D::kIrqType: return {"type", kIrqTypes};
    case D::kNuma: return {"node", absl::MakeConstSpan(kCpus, 2)};
    case D::kContainer: return {"container", kContainers};
    case D::kVmstat: return {"", kVmstat};
    case D::kSysCounter: return {"", kSysCounters};
    case D::kSoftnet: return {"", kSoftnet};
    case D::kNetstat: return {"", kNetstat};
    case D::kMemField: return {"", kMemFields};
    case D::kNumaField: return {"", kNumaFields};
    case D::kLoad: return {"", kLoad};
    case D::kFsBytes: return {"", kFsBytes};
    case D::kGoCount: return {"", kGoCount};
    case D::kGoMem: return {"", kGoMem};
    case D::kProcMem: return {"", kProcMem};
    case D::kProcs: return {"", kProcs};
    case D::kSockstat: return {"", kSockstat};
    case D::kContainerMem: return {"", kContainerMem};
    case D::kInfo: return {"", kInfo};
    case D::kMemTotal: return {"", kMemTotal};
    case D::kNetConst: return {"", kNetConst};
    case D::kFsConst: return {"", kFsConst};
    case D::kMinMax: return {"", kMinMax};
    case D::kCritMax: return {"", kCritMax};
  }
  return {"", {}};
}

// Iterating an empty dim once keeps the cross product uniform.
absl::Span<const absl::string_view> ValuesOrOne(const DimDef& d) {
  static constexpr absl::string_view kOne[] = {""};
  return d.values.empty() ? absl::Span<const absl::string_view>(kOne) : d.values;
}

double UnitFromBits(uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

double Round(double x, double quantum) {
  if (quantum == 0) return x;
  if (quantum >= 1) return std::round(x / quantum) * quantum;
  // Divide by an integer scale so that 0.01-steps give the shortest
  // decimal doubles, as exporters print them.
  double scale = std::round(1 / quantum);
  return std::round(x * scale) / scale;
}

SeriesKind KindOf(Model m) {
  switch (m) {
    case Model::kCounter: return SeriesKind::kCounter;
    case Model::kGaugeWalk:
    case Model::kGaugeNoise: return SeriesKind::kGauge;
    case Model::kConstant: return SeriesKind::kConstant;
  }
  return SeriesKind::kConstant;
}

}  // namespace

uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Dataset::Dataset(const DatasetOptions& options) : options_(options) {
  for (const Family& f : kFamilies) {
    DimDef nd = Def(f.name_dim), d1 = Def(f.dim1), d2 = Def(f.dim2);
    for (absl::string_view n : ValuesOrOne(nd)) {
      std::string name = absl::StrReplaceAll(f.name, {{"{}", n}});
      for (absl::string_view v1 : ValuesOrOne(d1)) {
        for (absl::string_view v2 : ValuesOrOne(d2)) {
          slots_.push_back(Slot{&f, name, d1.label, v1, d2.label, v2});
        }
      }
    }
  }
}

int Dataset::num_hosts() const {
  return (num_series() + series_per_host() - 1) / series_per_host();
}

int Dataset::HostEnd(int host) const {
  return std::min(num_series(), (host + 1) * series_per_host());
}

std::string Dataset::Instance(int host) { return absl::StrCat("host-", host, ":9100"); }

std::vector<std::pair<std::string, std::string>> Dataset::SeriesPairs(int series) const {
  const Slot& slot = slots_[series % series_per_host()];
  std::vector<std::pair<std::string, std::string>> out = {
      {std::string(model::kMetricName), slot.name},
      {"instance", Instance(HostOf(series))},
      {"job", std::string(slot.family->job)}};
  if (!slot.label1.empty()) out.emplace_back(slot.label1, slot.value1);
  if (!slot.label2.empty()) out.emplace_back(slot.label2, slot.value2);
  return out;
}

model::Labels Dataset::SeriesLabels(int series) const {
  const Slot& slot = slots_[series % series_per_host()];
  std::string instance = Instance(HostOf(series));
  std::vector<std::pair<absl::string_view, absl::string_view>> pairs = {
      {model::kMetricName, slot.name}, {"instance", instance}, {"job", slot.family->job}};
  if (!slot.label1.empty()) pairs.emplace_back(slot.label1, slot.value1);
  if (!slot.label2.empty()) pairs.emplace_back(slot.label2, slot.value2);
  return model::Labels::FromPairs(pairs);
}

absl::string_view Dataset::MetricName(int series) const {
  return slots_[series % series_per_host()].name;
}

SeriesKind Dataset::Kind(int series) const {
  return KindOf(slots_[series % series_per_host()].family->model);
}

int Dataset::SeriesPerHostWithName(absl::string_view name) const {
  return static_cast<int>(std::count_if(slots_.begin(), slots_.end(),
                                        [&](const Slot& s) { return s.name == name; }));
}

double Dataset::KindFraction(SeriesKind kind) const {
  auto n = std::count_if(slots_.begin(), slots_.end(), [&](const Slot& s) {
    return KindOf(s.family->model) == kind;
  });
  return static_cast<double>(n) / static_cast<double>(slots_.size());
}

int64_t Dataset::Timestamp(int series, int i) const {
  uint64_t host = static_cast<uint64_t>(HostOf(series));
  uint64_t seed = Mix64(options_.seed);
  int64_t phase = static_cast<int64_t>(Mix64(seed ^ host) % kScrapeIntervalMs);
  int64_t ideal = options_.start_ms + phase + int64_t{i} * kScrapeIntervalMs;
  uint64_t r = Mix64(seed ^ Mix64((host << 32) ^ static_cast<uint64_t>(i)));
  uint64_t span = static_cast<uint64_t>(std::max(options_.max_jitter_ms, 3));
  switch (options_.jitter) {
    case Jitter::kNone:
      return ideal;
    case Jitter::kRaw:
      return ideal + static_cast<int64_t>(r % (span + 1));
    case Jitter::kAligned:
      if (UnitFromBits(r) >= options_.late_fraction) return ideal;
      // Beyond the 2 ms tolerance: 3..max_jitter_ms late.
      return ideal + 3 + static_cast<int64_t>(Mix64(r) % (span - 2));
  }
  return ideal;
}

SeriesCursor Dataset::Cursor(int series) const {
  SeriesCursor c;
  c.ds_ = this;
  c.family_ = slots_[series % series_per_host()].family;
  c.series_ = static_cast<uint32_t>(series);
  c.rng_ = Mix64(Mix64(options_.seed) ^ Mix64(static_cast<uint64_t>(series) + 1));
  const Family& f = *c.family_;
  c.param_ = f.lo == f.hi ? f.lo : f.lo * std::pow(f.hi / f.lo, c.Uniform());
  c.activity_ = static_cast<float>(f.act_lo + (f.act_hi - f.act_lo) * c.Uniform());
  if (f.model == Model::kCounter) {
    c.value_ = Round(c.param_ * kMaxUptimeSeconds * c.Uniform(), f.quantum);
  } else {
    c.value_ = Round(c.param_, f.quantum);
  }
  return c;
}

double SeriesCursor::Uniform() {
  rng_ += 0x9e3779b97f4a7c15ULL;
  return UnitFromBits(Mix64(rng_));
}

model::Sample SeriesCursor::Next() {
  model::Sample s;
  s.t = ds_->Timestamp(static_cast<int>(series_), i_);
  s.v = i_ == 0 ? value_ : NextValue();
  ++i_;
  return s;
}

double SeriesCursor::NextValue() {
  const Family& f = *family_;
  constexpr double kIntervalSeconds = kScrapeIntervalMs / 1000.0;
  switch (f.model) {
    case Model::kCounter:
      if (Uniform() < kResetChance) value_ = 0;  // The process restarted.
      if (Uniform() < activity_) {
        value_ = Round(value_ + param_ * kIntervalSeconds * (0.2 + 1.6 * Uniform()), f.quantum);
      }
      break;
    case Model::kGaugeWalk:
      if (Uniform() < activity_) {
        double step = param_ * f.volatility * (2 * Uniform() - 1);
        value_ = std::max(0.0, Round(value_ + step, f.quantum));
      }
      break;
    case Model::kGaugeNoise:
      if (Uniform() < activity_) {
        value_ = Round(param_ * (1 + f.volatility * (2 * Uniform() - 1)), f.quantum);
      }
      break;
    case Model::kConstant:
      break;
  }
  return value_;
}

}  // namespace vigil::bench
