#include "models/memory_estimate.hpp"

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

namespace {

// In double: a config can ask for more than int64 can count.
double transformer_parameters(const ModelConfig& c) {
  const double d = c.d_model, f = c.ff, V = c.tgt_vocab;
  const double enc = 4 * d * d + 2 * d * f + f + 9 * d;   // self-attention, feed-forward, 2 norms
  const double dec = 8 * d * d + 2 * d * f + f + 15 * d;  // plus cross-attention and a third norm
  double p = c.src_vocab * d + (c.share_embeddings ? 0 : V * d) + (c.pos == "learned" ? c.max_len * d : 0);
  p += c.enc_layers * enc + c.dec_layers * dec + 4 * d;  // final norms of encoder and decoder
  p += c.tie_output ? V : V * d + V;
  return p;
}

double lstm_parameters(const ModelConfig& c) {
  const double h = c.hidden, V = c.tgt_vocab;
  double p = (c.src_vocab + V) * h + 2 * c.layers * (8 * h * h + 8 * h) + h * V + V;
  if (c.type == "lstm-attn") p += 4 * h * h + 4 * h;
  return p;
}

double parameters(const ModelConfig& c) { return c.type == "transformer" ? transformer_parameters(c) : lstm_parameters(c); }

}  // namespace

int64_t count_parameters(const ModelConfig& c) {
  const double p = parameters(c);
  return p < 9.0e18 ? (int64_t)p : std::numeric_limits<int64_t>::max();  // a cast past int64 is undefined
}

MemoryEstimate estimate_training_memory(const ModelConfig& c, int64_t batch, int64_t src_len, int64_t tgt_len,
                                        int threads, int moments) {
  constexpr double F = 4;  // bytes per float32
  const double B = batch, S = src_len, T = tgt_len, P = parameters(c), V = c.tgt_vocab;
  MemoryEstimate e;
  e.terms.push_back({"program and BLAS buffers", 128.0 * 1024 * 1024});  // measured RSS of a tiny run, rounded up
  e.terms.push_back({"parameters", F * P});
  e.terms.push_back({"gradients", F * P});
  e.terms.push_back({"optimiser state", F * P * moments});
  // Logits, their log-softmax and its gradient.
  e.terms.push_back({"output logits", F * 3 * B * T * V});
  const double L = std::max(S, T);
  if (c.type == "transformer") {
    const double d = c.d_model, f = c.ff, H = c.heads;
    // Per token and layer on the tape: norm, packed q/k/v, attention output, fused output
    // projection + residual, norm, fused linear + relu, fused linear + residual (8d + ff); the
    // decoder adds cross-attention's norm, query, output and projection (4d) and its keys and
    // values over the source (2d per source token).
    const double enc = c.enc_layers * B * S * (8 * d + f), dec = c.dec_layers * B * (T * (12 * d + f) + S * 2 * d);
    e.terms.push_back({"activations", F * (enc + dec + 2 * B * (S + T) * d)});
    // Each attention keeps its rows' max and 1/sum; each thread rebuilds one (batch, head)'s
    // score matrix and its gradient at a time.
    const double attn_layers = c.enc_layers + 2.0 * c.dec_layers;
    e.terms.push_back({"attention statistics", F * attn_layers * B * H * L * 2});
    e.terms.push_back({"attention workspace", F * std::min<double>(threads, B * H) * 2 * L * L});
    // Gradients alive at once during backward: about two layers' worth of activations.
    e.terms.push_back({"gradients in flight", F * 2 * B * L * (8 * d + f)});
  } else {
    const double h = c.hidden;
    // Per token and layer: input and recurrent gate pre-activations, their sum and activations
    // (4h each), the cell, its tanh, the hidden state and the gate products (about 6h).
    double act = c.layers * B * (S + T) * 22 * h + B * (S + T) * h;
    double work = 0;
    if (c.type == "lstm-attn") {
      act += B * T * 8 * h + B * S * 2 * h;
      work = std::min<double>(threads, B * c.heads) * 2 * S * T;
    }
    e.terms.push_back({"activations", F * act});
    if (work > 0) e.terms.push_back({"attention workspace", F * work});
    e.terms.push_back({"gradients in flight", F * 2 * B * L * 22 * h});
  }
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
