// Time to produce one training batch (generation, held-out check, padding) per task at default
// knobs. Compare with a training step of the default Transformer (roughly 20-60 ms).
//   attnlab_data_bench [batch_size=64] [seconds_per_task=0.5]
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>

#include "data/dataset.hpp"

int main(int argc, char** argv) {
  using clock = std::chrono::steady_clock;
  const int batch = argc > 1 ? std::atoi(argv[1]) : 64;
  const double budget = argc > 2 ? std::atof(argv[2]) : 0.5;
  if (batch <= 0 || budget <= 0) {
    fmt::print(stderr, "usage: attnlab_data_bench [batch_size>0] [seconds_per_task>0]\n");
    return 2;
  }
  fmt::print("{:<20} {:>8} {:>10} {:>12} {:>14}\n", "task", "batch", "src_len", "batches", "ms/batch");
  size_t sink = 0;
  for (const auto& name : attn::data::task_names()) {
    const attn::data::Dataset ds(attn::data::task_config(name, {}, {}, 1, 0, 0));
    uint64_t step = 0;
    const auto t0 = clock::now();
    double elapsed = 0;
    while (elapsed < budget) {
      sink += ds.train_batch(step++, batch).src.size();
      elapsed = std::chrono::duration<double>(clock::now() - t0).count();
    }
    fmt::print("{:<20} {:>8} {:>10} {:>12} {:>14.4f}\n", name, batch, ds.max_src_len(), step, 1e3 * elapsed / step);
  }
  return sink == 0;  // keeps the work observable
}
