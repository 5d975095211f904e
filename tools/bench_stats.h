// What the load generators (tools/loadgen, tools/chat_bench) report.
#pragma once

#include <algorithm>
#include <vector>

namespace crm::tools {

// The `p` quantile (0..1) of `v` (reordered), by nearest rank; 0 when empty.
inline double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

}  // namespace crm::tools
