#include "models/checkpoint.hpp"

#include "models/memory_estimate.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

namespace attn {

template <class T>
void save_model(const std::string& path, const Seq2SeqModel<T>& model, const std::map<std::string, std::string>& extra) {
  Checkpoint ck;
  ck.metadata = extra;
  ck.metadata["format"] = "attnlab-checkpoint-1";
  ck.metadata["model"] = model.config.to_json().dump();
  for (auto& [name, p] : model.named_parameters()) ck.add(name, p->value.data(), p->shape.vec());
  save_safetensors(path, ck);
}

void check_finite(const Checkpoint& ck, const std::string& path) {
  std::vector<std::string> bad;
  for (const NamedTensor& t : ck.tensors) {
    const size_t n = t.bytes.size() / dtype_size(t.dtype);
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) {
      double v;
      if (t.dtype == "F32") {
        float f;
        std::memcpy(&f, t.bytes.data() + 4 * i, 4);
        v = f;
      } else {
        std::memcpy(&v, t.bytes.data() + 8 * i, 8);
      }
      count += !std::isfinite(v);
    }
    if (count) bad.push_back(fmt::format("'{}' holds {} of {}", t.name, count, n));
  }
  if (!bad.empty())
    throw CheckpointError(fmt::format("checkpoint '{}': non-finite values (NaN or Inf): {}; pass --allow-nonfinite "
                                      "to load it anyway (for forensics)", path, fmt::join(bad, ", ")));
}

template <class T>
void load_parameters(const Checkpoint& ck, Seq2SeqModel<T>& model, const std::string& path, bool allow_nonfinite) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (auto& [name, p] : model.named_parameters()) expected.emplace_back(name, p->shape.vec());
  check_tensor_set(ck, expected, path);
  if (!allow_nonfinite) check_finite(ck, path);
  for (auto& [name, p] : model.named_parameters()) read_tensor(ck, name, p->value.data(), p->value.size(), path);
}

namespace {

// Before a model is built from a checkpoint's metadata: a config that describes more parameters
// than the file holds will fail the tensor check anyway, and building it first (for a message
// naming each missing tensor) is worth it only while it costs about what the file does. Beyond
// that it is refused here, so a damaged or hostile config cannot make load_model allocate
// gigabytes. (Sinusoidal positions are computed per row, so max_len allocates nothing.)
void check_size(const Checkpoint& ck, const ModelConfig& c, const std::string& path) {
  try {
    c.validate();
  } catch (const std::exception& e) {
    throw CheckpointError(fmt::format("checkpoint '{}': bad model config: {}", path, e.what()));
  }
  double have = 0;
  for (const NamedTensor& t : ck.tensors) have += double(t.bytes.size() / dtype_size(t.dtype));
  const double want = double(count_parameters(c)), slack = 4.0 * 1024 * 1024;  // 16 MiB of float32
  if (want > have + slack)
    throw CheckpointError(fmt::format("checkpoint '{}': its model config describes {:.4g} parameters, but the file "
                                      "holds only {:.0f} values", path, want, have));
}

}  // namespace

template <class T>
std::unique_ptr<Seq2SeqModel<T>> load_model(const std::string& path, Checkpoint* ck_out, bool allow_nonfinite) {
  Checkpoint ck = load_safetensors(path);
  auto it = ck.metadata.find("model");
  if (it == ck.metadata.end())
    throw CheckpointError(fmt::format("checkpoint '{}': no model config in __metadata__ (not an attnlab checkpoint?)", path));
  ModelConfig c;
  try {
    c = ModelConfig::from_json(nlohmann::json::parse(it->second));
  } catch (const std::exception& e) {
    throw CheckpointError(fmt::format("checkpoint '{}': bad model config: {}", path, e.what()));
  }
  check_size(ck, c, path);
  auto model = make_model<T>(c, 0);
  load_parameters(ck, *model, path, allow_nonfinite);
  if (ck_out) *ck_out = std::move(ck);
  return model;
}

#define ATTN_INSTANTIATE(T)                                                                                 \
  template void save_model(const std::string&, const Seq2SeqModel<T>&, const std::map<std::string, std::string>&); \
  template void load_parameters(const Checkpoint&, Seq2SeqModel<T>&, const std::string&, bool);           \
  template std::unique_ptr<Seq2SeqModel<T>> load_model(const std::string&, Checkpoint*, bool);
ATTN_INSTANTIATE(float)
ATTN_INSTANTIATE(double)
#undef ATTN_INSTANTIATE

}  // namespace attn
