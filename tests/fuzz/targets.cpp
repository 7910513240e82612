#include "tests/fuzz/targets.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "autograd/shape.hpp"
#include "data/checkers.hpp"
#include "data/dataset.hpp"
#include "data/error.hpp"
#include "data/file_dataset.hpp"
#include "data/task.hpp"
#include "models/checkpoint.hpp"
#include "models/safetensors.hpp"
#include "train/errors.hpp"
#include "train/train_config.hpp"

namespace attn::fuzz {
namespace {

using nlohmann::json;

void need(bool ok, const std::string& what) {
  if (!ok) throw ContractViolation(what);
}

// ATTNLAB_FUZZ_VERBOSE=1 prints each input's outcome: handy when triaging a reproducer.
void note(const char* target, const char* outcome) {
  static const bool verbose = std::getenv("ATTNLAB_FUZZ_VERBOSE") != nullptr;
  if (verbose) fmt::print(stderr, "{}: {}\n", target, outcome);
}

std::string_view text(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }

// The loaders read a path: each input goes to one file per process, rewritten every time.
const std::string& write_input(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");  // else /dev/shm: memory, twice as fast as a disk's /tmp
    const char* dir = tmp && *tmp ? tmp : ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return fmt::format("{}/attnlab-fuzz-{}.safetensors", dir, ::getpid());
  }();
  static const bool cleanup = std::atexit([] { ::unlink(path.c_str()); }) == 0;
  (void)cleanup;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  need(bool(out), "cannot write the fuzz input file " + path);
  return path;
}

// A parsed JSON document, or nothing: the callers turn parse errors into their own error type.
bool parse_json(const uint8_t* data, size_t size, json& j) {
  j = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  return !j.is_discarded();
}

}  // namespace

void fuzz_one_safetensors(const uint8_t* data, size_t size) {
  const std::string& path = write_input(data, size);
  Checkpoint ck;
  try {
    ck = load_safetensors(path);
  } catch (const CheckpointError& e) {
    return note("safetensors", e.what());
  }
  note("safetensors", "accepted");
  std::set<std::string> names;
  uint64_t bytes = 0;
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const NamedTensor& t : ck.tensors) {
    need(t.name != "__metadata__" && names.insert(t.name).second, "reserved or duplicate name accepted: " + t.name);
    const size_t esz = dtype_size(t.dtype);
    need(esz != 0, "unsupported dtype accepted: " + t.dtype);
    need(t.numel() >= 0 && t.bytes.size() == static_cast<uint64_t>(t.numel()) * esz, "tensor bytes do not match its shape");
    bytes += t.bytes.size();
    std::vector<double> values(t.bytes.size() / esz);
    read_tensor(ck, t.name, values.data(), values.size(), path);  // must not throw: the tensor is valid
    expected.emplace_back(t.name, t.shape);
  }
  need(bytes + 8 <= size, "tensors hold more bytes than the file");
  check_tensor_set(ck, expected, path);  // its own names and shapes must match
}

void fuzz_one_checkpoint(const uint8_t* data, size_t size) {
  const std::string& path = write_input(data, size);
  std::unique_ptr<Seq2SeqModel<float>> model;
  try {
    model = load_model<float>(path);
  } catch (const CheckpointError& e) {
    return note("checkpoint", e.what());
  }
  note("checkpoint", "accepted");
  need(model != nullptr, "load_model returned null");
  need(ModelConfig::from_json(model->config.to_json()).to_json() == model->config.to_json(),
       "model config does not round-trip");
}

// Input: train.tsv, valid.tsv and test.tsv separated by 0x1E bytes (record separator). With one
// separator test.tsv is valid.tsv; with none all three are the whole input.
void fuzz_one_tsv(const uint8_t* data, size_t size) {
  const std::string_view in = text(data, size);
  const size_t a = in.find('\x1e'), b = a == in.npos ? in.npos : in.find('\x1e', a + 1);
  const std::string train(in.substr(0, a));
  const std::string valid(a == in.npos ? in : in.substr(a + 1, b == in.npos ? in.npos : b - a - 1));
  const std::string test(b == in.npos ? valid : std::string(in.substr(b + 1)));
  data::FileDataset fd;
  try {
    fd = data::parse_file_dataset("fuzz", train, valid, test);
  } catch (const data::Error& e) {
    return note("tsv", e.what());
  }
  note("tsv", "accepted");
  for (const auto* split : {&fd.train, &fd.valid, &fd.test}) {
    need(!split->empty(), "an empty split was accepted");
    for (const data::Example& ex : *split) {
      need(!ex.src.empty() && !ex.tgt.empty() && ex.distance.size() == ex.tgt.size(), "malformed example");
      for (const auto* side : {&ex.src, &ex.tgt})
        for (int id : *side)
          need(id >= data::Vocab::UNK && id < fd.vocab.size(), fmt::format("token id {} outside the vocabulary", id));
    }
  }
}

// Input: the JSON text of a --config file. Follows `attnlab train --config`: read, validate,
// build the data config (the model config needs a Dataset and is not built).
void fuzz_one_train_config(const uint8_t* data, size_t size) {
  json j;
  if (!parse_json(data, size, j)) return note("train_config", "not JSON");
  try {
    const TrainArgs a = TrainArgs::from_json(j);
    need(TrainArgs::from_json(a.to_json()).to_json() == a.to_json(), "TrainArgs does not round-trip");
    a.validate();
    a.data_config();
    note("train_config", "accepted");
  } catch (const ConfigError& e) {
    note("train_config", e.what());
  }
}

// Input: one JSON document, read in turn as each of the checkpoint's metadata entries "model",
// "data" and "vocab" (attnlab eval/predict read all three).
void fuzz_one_metadata(const uint8_t* data, size_t size) {
  json j;
  if (!parse_json(data, size, j)) return note("metadata", "not JSON");
  try {
    const ModelConfig c = ModelConfig::from_json(j);
    need(ModelConfig::from_json(c.to_json()).to_json() == c.to_json(), "ModelConfig does not round-trip");
    note("metadata", "model: accepted");
  } catch (const attn::Error& e) {
    note("metadata", e.what());
  }
  try {
    const data::DataConfig c = data::DataConfig::from_json(j);
    need(data::DataConfig::from_json(c.to_json()).to_json() == c.to_json(), "DataConfig does not round-trip");
    c.describe();
    note("metadata", "data: accepted");
  } catch (const data::Error& e) {
    note("metadata", e.what());
  }
  try {
    const data::Vocab v = data::Vocab::from_json(j);
    need(data::Vocab::from_json(v.to_json()) == v, "Vocab does not round-trip");
    note("metadata", "vocab: accepted");
  } catch (const data::Error& e) {
    note("metadata", e.what());
  }
}

// Input: a task name on the first line, then one NAME=VALUE knob per line (--task-opt). A valid
// task then generates two examples, which data/checkers must accept. Part of the contract: only
// tasks whose examples hold at most kMaxTokens tokens are generated, to keep runs fast.
void fuzz_one_task_opts(const uint8_t* data, size_t size) {
  constexpr size_t kMaxTokens = 4096;
  const std::string_view in = text(data, size);
  std::vector<std::string> lines;  // a final newline ends the last line, it adds no empty one
  for (size_t i = 0; i < in.size();) {
    const size_t nl = std::min(in.find('\n', i), in.size());
    lines.emplace_back(in.substr(i, nl - i));
    i = nl + 1;
  }
  const std::string name = lines.empty() ? "" : lines[0];
  if (!lines.empty()) lines.erase(lines.begin());
  std::unique_ptr<data::Task> task;
  data::TaskOptions opts;
  try {
    opts = data::parse_task_options(lines);
    task = data::make_task(name, opts);
  } catch (const data::Error& e) {
    return note("task_opts", e.what());
  }
  note("task_opts", "accepted");
  const data::TaskSpec& spec = data::task_spec(name);
  need(data::resolve_knobs(spec, opts) == task->knobs(), "make_task and resolve_knobs disagree");
  need(data::make_task_resolved(name, task->knobs())->knobs() == task->knobs(), "make_task_resolved changed the knobs");
  data::format_knobs(spec, task->knobs());
  const size_t max_src = task->max_src_len(), max_tgt = task->max_tgt_len();
  if (max_src + max_tgt > kMaxTokens) return;
  const uint64_t seed = std::hash<std::string_view>{}(in);
  for (uint64_t s : {seed, seed + 1}) {
    const data::Example ex = task->generate_seeded(s);
    need(ex.src.size() <= max_src && ex.tgt.size() <= max_tgt, "example longer than max_src_len/max_tgt_len");
    const std::string problem = data::check_example(*task, ex);
    need(problem.empty(), fmt::format("task {} ({}) seed {}: {}", name, data::format_knobs(spec, task->knobs()), s, problem));
  }
}

const std::vector<Target>& targets() {
  static const std::vector<Target> t = {
      {"safetensors", fuzz_one_safetensors}, {"checkpoint", fuzz_one_checkpoint},
      {"tsv", fuzz_one_tsv},                 {"train_config", fuzz_one_train_config},
      {"metadata", fuzz_one_metadata},       {"task_opts", fuzz_one_task_opts},
  };
  return t;
}

}  // namespace attn::fuzz
