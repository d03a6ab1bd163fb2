#include "compare.h"

#include <algorithm>

namespace vgpio::bench {

using nlohmann::json;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The values at `key` (or at index `i`) of every run.
std::vector<json> column(const std::vector<json>& runs, const auto& key) {
  std::vector<json> c;
  for (const auto& r : runs) c.push_back(r[key]);
  return c;
}

}  // namespace

json median_of(const std::vector<json>& runs) {
  if (runs.empty()) return nullptr;
  const json& first = runs.front();
  if (first.is_number()) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.get<double>());
    return median(v);
  }
  if (first.is_object()) {
    json out = json::object();
    for (const auto& [key, value] : first.items())
      if (std::all_of(runs.begin(), runs.end(), [&](const json& r) { return r.contains(key); }))
        out[key] = median_of(column(runs, key));
    return out;
  }
  if (first.is_array()) {
    json out = json::array();
    for (size_t i = 0; i < first.size(); ++i)
      if (std::all_of(runs.begin(), runs.end(), [&](const json& r) { return r.size() > i; }))
        out.push_back(median_of(column(runs, i)));
    return out;
  }
  return first;  // strings and the like are the same in every run
}

json ratios(const json& vgpio, const json& peer, double floor_p50_us) {
  json out = {{"floor_p50_us", floor_p50_us}};  // the machine's, beside every ratio
  for (const auto& [level, v] : vgpio["throughput"].items()) {
    if (!peer["throughput"].contains(level)) continue;
    const json& p = peer["throughput"][level];
    out["throughput"][level] = v["per_s"].get<double>() / p["per_s"].get<double>();
    if (v.contains("backend_cpu_us_per_request") && p.contains("backend_cpu_us_per_request") &&
        p["backend_cpu_us_per_request"].get<double>() > 0)
      out["backend_cpu_per_request"][level] =
          v["backend_cpu_us_per_request"].get<double>() / p["backend_cpu_us_per_request"].get<double>();
  }
  for (const char* q : {"p50_us", "p99_us", "p999_us"})
    out["get_value_latency"][q] =
        vgpio["latency"]["get_value"][q].get<double>() / peer["latency"]["get_value"][q].get<double>();
  return out;
}

}  // namespace vgpio::bench
