#include "train/checkpoint_set.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "models/checkpoint.hpp"

namespace attn {

namespace {

constexpr const char* kParam = "param.";  // parameters inside state.safetensors

int64_t stamp(const Checkpoint& ck, const std::string& path) {
  auto it = ck.metadata.find("step");
  if (it == ck.metadata.end()) throw CheckpointError(fmt::format("'{}': no step stamp in its metadata", path));
  return std::stoll(it->second);
}

// The step stamp of a parameters-only checkpoint, or -1 when it is missing or unreadable.
int64_t stamp_of_file(const std::string& path) {
  try {
    return stamp(load_safetensors(path), path);
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

void CheckpointSet::save(const Seq2SeqModel<float>& model, const Optimizer& optim, const LoopState& st, bool best) {
  auto meta = meta_;
  meta["step"] = std::to_string(st.step);
  Checkpoint state;
  for (auto& [name, p] : model.named_parameters()) state.add(kParam + name, p->value.data(), p->shape.vec());
  optim.save_state(state);
  const auto rng = const_cast<Seq2SeqModel<float>&>(model).dropout_rng().state();
  state.metadata.insert({{"step", std::to_string(st.step)},
                         {"best", fmt::format("{:.17g}", st.best)},
                         {"best_step", std::to_string(st.best_step)},
                         {"best_loss", fmt::format("{:.17g}", st.best_loss)},
                         {"window_loss", fmt::format("{:.17g}", st.window_loss)},
                         {"window_steps", std::to_string(st.window_steps)},
                         {"elapsed", fmt::format("{:.17g}", st.elapsed)},
                         {"finished", st.finished ? "1" : "0"},
                         {"rng0", std::to_string(rng[0])}, {"rng1", std::to_string(rng[1])},
                         {"rng2", std::to_string(rng[2])}, {"rng3", std::to_string(rng[3])}});
  save_safetensors(files_.path("state.safetensors"), state);
  written_ = true;
  save_model(files_.path("last.safetensors"), model, meta);
  if (best) save_model(files_.path("best.safetensors"), model, meta);
}

void CheckpointSet::remove_partial_writes() const {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(files_.path("state.safetensors")).parent_path(), ec))
    if (e.path().filename().string().find(".tmp") != std::string::npos) fs::remove(e.path(), ec);
}

LoopState CheckpointSet::load(Seq2SeqModel<float>& model, Optimizer& optim, bool repair) {
  namespace fs = std::filesystem;
  const std::string path = files_.path("state.safetensors");
  Checkpoint ck = load_safetensors(path);
  Checkpoint params, moments;  // the parameters under their own names, and the optimiser's part
  moments.metadata = ck.metadata;
  for (NamedTensor& t : ck.tensors) {
    if (t.name.rfind(kParam, 0) == 0) {
      t.name.erase(0, std::char_traits<char>::length(kParam));
      params.tensors.push_back(std::move(t));
    } else {
      moments.tensors.push_back(std::move(t));
    }
  }
  load_parameters(params, model, path);
  check_finite(moments, path);
  optim.load_state(moments, path);
  const auto& m = ck.metadata;
  LoopState st;
  try {
    st.step = std::stoll(m.at("step"));
    st.best = std::stod(m.at("best"));
    st.best_step = std::stoll(m.at("best_step"));
    // State files written before ties were broken by loss have none.
    if (auto it = m.find("best_loss"); it != m.end()) st.best_loss = std::stod(it->second);
    st.window_loss = std::stod(m.at("window_loss"));
    st.window_steps = std::stoll(m.at("window_steps"));
    st.elapsed = std::stod(m.at("elapsed"));
    st.finished = m.at("finished") == "1";
    model.dropout_rng().set_state({std::stoull(m.at("rng0")), std::stoull(m.at("rng1")), std::stoull(m.at("rng2")),
                                   std::stoull(m.at("rng3"))});
  } catch (const std::exception& e) {
    throw CheckpointError(fmt::format("'{}': damaged training state in its metadata ({})", path, e.what()));
  }
  written_ = true;
  if (!repair) return st;
  auto meta = meta_;
  meta["step"] = std::to_string(st.step);
  if (stamp_of_file(files_.path("last.safetensors")) != st.step) save_model(files_.path("last.safetensors"), model, meta);
  const int64_t best_stamp = stamp_of_file(files_.path("best.safetensors"));
  if (st.best_step >= 0 && best_stamp != st.best_step) {
    if (st.best_step != st.step)
      throw CheckpointError(fmt::format("'{}' holds step {}, but the run's best was step {}: the checkpoint set was "
                                        "changed by hand", files_.path("best.safetensors"), best_stamp, st.best_step));
    save_model(files_.path("best.safetensors"), model, meta);
  }
  return st;
}

}  // namespace attn
