#include "models/memory_estimate.hpp"

#include "models/family.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace attn {

double MemoryEstimate::total() const {
  double s = 0;
  for (const MemoryTerm& t : terms) s += t.bytes;
  return s;
}

const MemoryTerm& MemoryEstimate::largest() const {
  return *std::max_element(terms.begin(), terms.end(), [](auto& a, auto& b) { return a.bytes < b.bytes; });
}

std::string MemoryEstimate::describe() const {
  std::vector<MemoryTerm> sorted = terms;
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.bytes > b.bytes; });
  std::string s = format_bytes(total()) + ":";
  for (const MemoryTerm& t : sorted)
    if (t.bytes > 0) s += fmt::format(" {} {},", t.what, format_bytes(t.bytes));
  s.pop_back();
  return s;
}

int64_t count_parameters(const ModelConfig& c) {
  const double p = model_family(c.type).parameters(c);
  return p < 9.0e18 ? (int64_t)p : std::numeric_limits<int64_t>::max();  // a cast past int64 is undefined
}

MemoryEstimate estimate_training_memory(const ModelConfig& c, int64_t batch, int64_t src_len, int64_t tgt_len,
                                        int threads, int moments) {
  constexpr double F = 4;  // bytes per float32
  const ModelFamily& f = model_family(c.type);
  const double P = f.parameters(c);
  const StepSize n{(double)batch, (double)src_len, (double)tgt_len, (double)threads};
  MemoryEstimate e;
  e.terms.push_back({"program and BLAS buffers", 128.0 * 1024 * 1024});  // measured RSS of a tiny run, rounded up
  e.terms.push_back({"parameters", F * P});
  e.terms.push_back({"gradients", F * P});
  e.terms.push_back({"optimiser state", F * P * moments});
  // Logits, their log-softmax and its gradient.
  e.terms.push_back({"output logits", F * 3 * n.batch * n.tgt_len * (double)c.tgt_vocab});
  for (MemoryTerm& t : f.step_memory(c, n)) e.terms.push_back(std::move(t));
  return e;
}

double available_memory(std::string* what) {
  double avail = INFINITY;
  std::string why = "no limit found";
  std::ifstream mem("/proc/meminfo");
  std::string key;
  double kb = 0;
  while (mem >> key >> kb) {
    if (key == "MemAvailable:") {
      avail = kb * 1024;
      why = "MemAvailable in /proc/meminfo";
      break;
    }
    mem.ignore(256, '\n');
  }
  // Room under the address-space and data limits (ulimit -v, ulimit -d), minus what is mapped.
  double vm_size = 0, vm_data = 0;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) vm_size = std::stod(line.substr(7)) * 1024;
    if (line.rfind("VmData:", 0) == 0) vm_data = std::stod(line.substr(7)) * 1024;
  }
  for (auto [resource, used, name] : {std::tuple{RLIMIT_AS, vm_size, "the address-space limit (ulimit -v)"},
                                      std::tuple{RLIMIT_DATA, vm_data, "the data-segment limit (ulimit -d)"}}) {
    rlimit r{};
    if (getrlimit(resource, &r) == 0 && r.rlim_cur != RLIM_INFINITY) {
      const double room = std::max(0.0, double(r.rlim_cur) - used);
      if (room < avail) {
        avail = room;
        why = name;
      }
    }
  }
  if (what) *what = why;
  return avail;
}

double parse_bytes(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument(fmt::format("'{}' is not a size (examples: 8G, 500M, 64K)", text));
  }
  const std::string unit = text.substr(used);
  const double mult = unit.empty() || unit == "B" ? 1
                      : unit == "K" || unit == "KiB" ? 1024.0
                      : unit == "M" || unit == "MiB" ? 1024.0 * 1024
                      : unit == "G" || unit == "GiB" ? 1024.0 * 1024 * 1024
                      : unit == "T" || unit == "TiB" ? 1024.0 * 1024 * 1024 * 1024
                                                     : -1;
  if (mult < 0 || !(v > 0) || !std::isfinite(v))
    throw std::invalid_argument(fmt::format("'{}' is not a size (examples: 8G, 500M, 64K)", text));
  return v * mult;
}

std::string format_bytes(double b) {
  if (!std::isfinite(b)) return "unbounded";
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.1f} GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
  return fmt::format("{:.0f} KiB", b / 1024.0);
}

}  // namespace attn
