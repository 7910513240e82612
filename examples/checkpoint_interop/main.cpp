// Reads a checkpoint written by `attnlab train` and looks at one of its tensors through the opt-in
// xtensor interop header: viewed in place in the file's bytes, and again as the parameter of the
// model the checkpoint describes (docs/library.md).
//   checkpoint_interop RUN/best.safetensors [TENSOR]   (TENSOR: src_emb.weight by default)
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "models/checkpoint.hpp"
#include "models/xtensor_interop.hpp"

using namespace attn;
namespace xi = attn::xtensor_interop;

int main(int argc, char** argv) try {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} CHECKPOINT [TENSOR]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1], name = argc > 2 ? argv[2] : "src_emb.weight";
  Checkpoint ck;
  const auto model = load_model<float>(path, &ck);  // validates the file, builds the model
  fmt::print("{}: a {} model, {} parameters in {} tensors\n", path, model->config.type, model->num_parameters(),
             ck.tensors.size());
  const NamedTensor* nt = ck.find(name);
  if (!nt) throw CheckpointError(fmt::format("{}: no tensor '{}'", path, name));
  const auto w = xi::view<float>(*nt);  // no copy: the file's bytes, shaped
  fmt::print("{}: {} {}, mean {:.4f}, max |x| {:.4f}\n", name, nt->dtype, w.shape(), xt::mean(w)(),
             xt::amax(xt::abs(w))());
  if (w.dimension() == 2) {
    const xt::xarray<float> norms = xt::sqrt(xt::sum(w * w, {1}));  // one per row (per token, for embeddings)
    fmt::print("row norms: {:.3f}\n", fmt::join(xt::view(norms, xt::range(0, 8)), " "));
  }
  // The same values as the model's own parameter, bound into a graph and viewed as an xtensor array.
  for (auto& [pname, p] : model->named_parameters())
    if (pname == name) {
      Graph<float> g;
      fmt::print("the loaded model's {} equals the file's: {}\n", pname, xi::view(p->bind(g)) == w);
    }
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "checkpoint_interop: {}\n", e.what());
  return 1;
}
