#include "data/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "data/error.hpp"
#include "data/rng.hpp"

namespace attn::data {
namespace {

constexpr uint64_t kBuckets = 16;  // held-out rule: bucket 0 valid, 1 test, the rest train
constexpr int kMaxAttempts = 1024;
constexpr uint64_t kPartitionSalt = 0xa77e11ab5eedULL;

uint64_t string_hash(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then mixed
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return mix64(h);
}

Split owner_of_hash(uint64_t h) {
  const uint64_t b = mix64(h ^ kPartitionSalt) % kBuckets;
  return b == 0 ? Split::Valid : b == 1 ? Split::Test : Split::Train;
}

uint64_t source_hash(const std::vector<uint64_t>& token_hash, const std::vector<int>& src) {
  uint64_t h = src.size();
  for (int id : src) h = hash_combine(h, token_hash[id]);
  return h;
}

// Bijection on [0, n): a 4-round Feistel network over the next even bit width, cycle-walked.
uint64_t permute(uint64_t i, uint64_t n, uint64_t key) {
  int bits = 2;
  while (bits < 64 && (1ULL << bits) < n) bits += 2;
  const int half = bits / 2;
  const uint64_t mask = (1ULL << half) - 1;
  do {
    uint64_t l = i >> half, r = i & mask;
    for (uint64_t round = 0; round < 4; ++round) {
      const uint64_t f = mix64(r ^ hash_combine(key, round)) & mask;
      const uint64_t t = r;
      r = l ^ f;
      l = t;
    }
    i = (l << half) | r;
  } while (i >= n);
  return i;
}

KnobValues knobs_from_json(const nlohmann::json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_object())
    throw Error(fmt::format("data config JSON: \"{}\" must be an object of integers", field));
  KnobValues k;
  for (const auto& [name, v] : j[field].items()) {
    if (!v.is_number_integer())
      throw Error(fmt::format("data config JSON: knob \"{}\" in \"{}\" is not an integer", name, field));
    k[name] = v.get<int64_t>();
  }
  return k;
}

uint64_t unsigned_field(const nlohmann::json& j, const char* field) {
  const bool ok = j.contains(field) && j[field].is_number_integer() &&
                  (j[field].is_number_unsigned() || j[field].get<int64_t>() >= 0);
  if (!ok)
    throw Error(fmt::format("data config JSON: \"{}\" must be a non-negative integer", field));
  return j[field].get<uint64_t>();
}

}  // namespace

const char* split_name(Split s) {
  switch (s) {
    case Split::Train: return "train";
    case Split::Valid: return "valid";
    case Split::Test: return "test";
  }
  return "?";
}

Split parse_split(const std::string& name) {
  if (name == "train") return Split::Train;
  if (name == "valid") return Split::Valid;
  if (name == "test") return Split::Test;
  throw Error(fmt::format("unknown split '{}'; splits: train, valid, test", name));
}

Split source_owner(const std::vector<std::string>& tokens) {
  uint64_t h = tokens.size();
  for (const auto& t : tokens) h = hash_combine(h, string_hash(t));
  return owner_of_hash(h);
}

// ---- DataConfig ----

std::string DataConfig::describe() const {
  const std::string layout = format != "lm" ? "" : loss_on == LossOn::all ? ", one stream, loss on all" : ", one stream";
  if (is_file()) return fmt::format("files in {}{}", data_dir, layout);
  if (is_text()) return fmt::format("text {} ({}, block {}), one stream", text_file, text_tokens_name(text_tokens), block);
  const TaskSpec& s = task_spec(task);
  std::string d = fmt::format("{} ({})", task, format_knobs(s, knobs));
  if (test_knobs != knobs) d += fmt::format(", test ({})", format_knobs(s, test_knobs));
  return d + layout;
}

bool DataConfig::stream_only() const {
  if (is_text()) return true;
  if (task.empty()) return false;
  return make_task_resolved(task, knobs)->stream_only() || make_task_resolved(task, test_knobs)->stream_only();
}

nlohmann::json DataConfig::to_json() const {
  nlohmann::json j;
  j["seed"] = seed;
  if (format != "seq2seq") {  // written only when not the default, so older files read the same
    j["format"] = format;
    j["loss_on"] = loss_on_name(loss_on);
  }
  if (is_file()) {
    j["data_dir"] = data_dir;
    return j;
  }
  if (is_text()) {
    j["text_file"] = text_file;
    j["block"] = block;
    j["text_tokens"] = text_tokens_name(text_tokens);
    j["valid_size"] = valid_size;
    j["test_size"] = test_size;
    return j;
  }
  j["task"] = task;
  j["knobs"] = knobs;
  j["test_knobs"] = test_knobs;
  j["valid_size"] = valid_size;
  j["test_size"] = test_size;
  return j;
}

DataConfig DataConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("data config JSON: expected an object");
  const uint64_t seed = unsigned_field(j, "seed");
  DataConfig c;
  if (j.contains("format")) {
    if (!j["format"].is_string() || (j["format"] != "seq2seq" && j["format"] != "lm"))
      throw Error("data config JSON: \"format\" must be \"seq2seq\" or \"lm\"");
    c.format = j["format"].get<std::string>();
    if (!j.contains("loss_on") || !j["loss_on"].is_string())
      throw Error("data config JSON: \"loss_on\" must be \"target\" or \"all\"");
    c.loss_on = parse_loss_on(j["loss_on"].get<std::string>());
  }
  if (j.contains("data_dir")) {
    if (!j["data_dir"].is_string()) throw Error("data config JSON: \"data_dir\" must be a string");
    DataConfig f = file_config(j["data_dir"].get<std::string>(), seed);
    f.format = c.format;
    f.loss_on = c.loss_on;
    return f;
  }
  if (j.contains("text_file")) {
    if (!j["text_file"].is_string() || !j.contains("text_tokens") || !j["text_tokens"].is_string())
      throw Error("data config JSON: \"text_file\" and \"text_tokens\" must be strings");
    const uint64_t block = unsigned_field(j, "block");
    if (block < 1 || block > (1u << 30)) throw Error("data config JSON: \"block\" out of range");
    DataConfig t = text_config(j["text_file"].get<std::string>(), (int)block,
                               parse_text_tokens(j["text_tokens"].get<std::string>()), seed,
                               unsigned_field(j, "valid_size"), unsigned_field(j, "test_size"));
    t.loss_on = c.loss_on;
    return t;
  }
  if (!j.contains("task") || !j["task"].is_string())
    throw Error("data config JSON: needs \"task\" or \"data_dir\"");
  c.task = j["task"].get<std::string>();
  const TaskSpec& spec = task_spec(c.task);
  c.knobs = resolve_knobs(spec, {}, knobs_from_json(j, "knobs"));
  c.test_knobs = resolve_knobs(spec, {}, knobs_from_json(j, "test_knobs"));
  c.seed = seed;
  c.valid_size = unsigned_field(j, "valid_size");
  c.test_size = unsigned_field(j, "test_size");
  return c;
}

DataConfig task_config(const std::string& task, const TaskOptions& train_opts, const TaskOptions& test_opts,
                       uint64_t seed, size_t valid_size, size_t test_size) {
  const TaskSpec& spec = task_spec(task);
  DataConfig c;
  c.task = task;
  c.knobs = resolve_knobs(spec, train_opts);
  c.test_knobs = resolve_knobs(spec, test_opts, c.knobs);
  c.seed = seed;
  c.valid_size = valid_size;
  c.test_size = test_size;
  return c;
}

DataConfig file_config(const std::string& dir, uint64_t seed) {
  if (dir.empty()) throw Error("data directory is empty");
  DataConfig c;
  c.data_dir = dir;
  c.seed = seed;
  return c;
}

DataConfig text_config(const std::string& path, int block, TextTokens kind, uint64_t seed, size_t valid_size,
                       size_t test_size) {
  if (path.empty()) throw Error("text file name is empty");
  DataConfig c;
  c.text_file = path;
  c.block = block;
  c.text_tokens = kind;
  c.seed = seed;
  c.valid_size = valid_size;
  c.test_size = test_size;
  c.format = "lm";
  return c;
}

// ---- Dataset ----

Dataset::~Dataset() = default;
Dataset::Dataset(Dataset&&) noexcept = default;
Dataset& Dataset::operator=(Dataset&&) noexcept = default;

Dataset::Dataset(DataConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.is_file()) {
    files_ = load_file_dataset(cfg_.data_dir);
    vocab_ = files_->vocab;
    return;
  }
  if (cfg_.is_text()) {
    if (cfg_.format != "lm") throw Error("a text corpus is a language-modelling dataset: it needs the lm format");
    text_ = load_text_corpus(cfg_.text_file, cfg_.block, cfg_.text_tokens);
    vocab_ = text_->vocab;
    valid_ = text_->windows(text_->train_end, text_->valid_end, cfg_.valid_size);
    test_ = text_->windows(text_->valid_end, text_->ids.size(), cfg_.test_size);
    return;
  }
  train_task_ = make_task_resolved(cfg_.task, cfg_.knobs);
  test_task_ = make_task_resolved(cfg_.task, cfg_.test_knobs);
  vocab_ = train_task_->vocab();
  if (test_task_->vocab() != vocab_) {
    for (const auto& t : test_task_->vocab().tokens()) {
      if (!vocab_.contains(t))
        throw Error(fmt::format(
            "task {}: the test knobs ({}) use token '{}', which the training knobs ({}) do not; the model "
            "could not represent it",
            cfg_.task, format_knobs(train_task_->spec(), cfg_.test_knobs), t,
            format_knobs(train_task_->spec(), cfg_.knobs)));
      test_remap_.push_back(vocab_.id(t));
    }
  }
  if ((train_task_->stream_only() || test_task_->stream_only()) && cfg_.format != "lm") {
    const Task& t = train_task_->stream_only() ? *train_task_ : *test_task_;
    throw Error(fmt::format("task {} ({}) is one stream with its labels and no target: it needs a language model "
                            "(format lm, e.g. --model gpt)",
                            cfg_.task, format_knobs(t.spec(), t.knobs())));
  }
  for (const auto& t : vocab_.tokens()) token_hash_.push_back(string_hash(t));
  for (uint64_t i = 0; i < cfg_.valid_size; ++i) valid_.push_back(generate(Split::Valid, i));
  for (uint64_t i = 0; i < cfg_.test_size; ++i) test_.push_back(generate(Split::Test, i));
}

Split Dataset::owner(const std::vector<int>& src) const { return owner_of_hash(source_hash(token_hash_, src)); }

Example Dataset::generate(Split s, uint64_t index) const {
  const Task& task = s == Split::Test ? *test_task_ : *train_task_;
  const uint64_t base = hash_combine(hash_combine(mix64(cfg_.seed), (uint64_t)s + 1), index);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Example ex = task.generate_seeded(hash_combine(base, (uint64_t)attempt));
    if (!test_remap_.empty() && s == Split::Test) {
      for (int& id : ex.src) id = test_remap_[id];
      for (int& id : ex.tgt) id = test_remap_[id];
      for (int& id : ex.labels)
        if (id != Vocab::PAD) id = test_remap_[id];
    }
    if (owner(ex.src) == s) return ex;
  }
  throw Error(fmt::format(
      "task {} ({}): no {} example found in {} attempts: the task has too few distinct sources to hold out "
      "separate train, valid and test sets; make it larger (e.g. a longer length)",
      cfg_.task, format_knobs(task.spec(), task.knobs()), split_name(s), kMaxAttempts));
}

const Task* Dataset::task(Split s) const {
  if (files_ || text_) return nullptr;
  return s == Split::Test ? test_task_.get() : train_task_.get();
}

Example Dataset::example(Split s, uint64_t index) const {
  if (s == Split::Train) {
    if (text_) return text_->train_window(cfg_.seed, index);
    if (!files_) return generate(s, index);
    const uint64_t n = files_->train.size();
    const uint64_t epoch = index / n;
    return files_->train[permute(index % n, n, hash_combine(mix64(cfg_.seed), epoch))];
  }
  const auto& v = examples(s);
  if (index >= v.size())
    throw std::out_of_range(fmt::format("{} example {} of {}", split_name(s), index, v.size()));
  return v[index];
}

const std::vector<Example>& Dataset::examples(Split s) const {
  if (s == Split::Train) throw std::logic_error("Dataset::examples: the train split is a stream; use example()");
  if (s == Split::Test) ++*test_reads_;
  if (files_) return s == Split::Valid ? files_->valid : files_->test;
  return s == Split::Valid ? valid_ : test_;
}

std::vector<Example> Dataset::eval_examples(Split s, size_t limit) const {
  const std::vector<Example>& all = examples(s);
  if (limit == 0 || limit >= all.size()) return all;
  std::vector<uint64_t> picked(limit);
  for (uint64_t i = 0; i < limit; ++i) picked[i] = permute(i, all.size(), mix64(0x5ca1ab1e));
  std::sort(picked.begin(), picked.end());
  std::vector<Example> out;
  out.reserve(limit);
  for (uint64_t i : picked) out.push_back(all[i]);
  return out;
}

size_t Dataset::size(Split s) const {
  if (s == Split::Train) return files_ ? files_->train.size() : 0;
  if (files_) return (s == Split::Valid ? files_->valid : files_->test).size();  // a count is not a read
  return (s == Split::Valid ? valid_ : test_).size();
}

Batch Dataset::train_batch(uint64_t step, int batch_size) const {
  if (batch_size <= 0) throw std::invalid_argument("train_batch: batch_size must be positive");
  std::vector<Example> ex;
  ex.reserve(batch_size);
  for (int i = 0; i < batch_size; ++i) ex.push_back(example(Split::Train, step * (uint64_t)batch_size + i));
  return batch(ex, true);
}

Batch Dataset::batch(const std::vector<Example>& examples, bool for_training) const {
  Batch b = make_batch(examples, vocab_);
  if (cfg_.format == "lm") add_stream(b, examples, for_training ? cfg_.loss_on : LossOn::target);
  return b;
}

Chance Dataset::chance(Split s, size_t limit) const {
  if (text_) return text_chance(s, limit);
  if (!files_) return task(s)->chance();
  // Position-wise and whole-sequence modes of train.tsv targets, scored on the split.
  std::vector<std::map<int, size_t>> pos;
  std::map<std::vector<int>, size_t> whole;
  for (const auto& e : files_->train) {
    if (pos.size() < e.tgt.size()) pos.resize(e.tgt.size());
    for (size_t j = 0; j < e.tgt.size(); ++j) ++pos[j][e.tgt[j]];
    ++whole[e.tgt];
  }
  auto mode = [](const auto& m) {
    auto best = m.begin();
    for (auto it = m.begin(); it != m.end(); ++it)
      if (it->second > best->second) best = it;
    return best->first;
  };
  std::vector<int> guess;
  for (const auto& m : pos) guess.push_back(mode(m));
  const std::vector<int> seq_guess = mode(whole);
  const std::vector<Example> eval = s == Split::Train ? files_->train : eval_examples(s, limit);
  size_t hits = 0, tokens = 0, seq_hits = 0;
  for (const auto& e : eval) {
    for (size_t j = 0; j < e.tgt.size(); ++j) hits += j < guess.size() && guess[j] == e.tgt[j];
    tokens += e.tgt.size();
    seq_hits += e.tgt == seq_guess;
  }
  Chance c;
  c.token = tokens ? (double)hits / (double)tokens : 0.0;
  c.sequence = eval.empty() ? 0.0 : (double)seq_hits / (double)eval.size();
  c.exact = false;
  c.note = fmt::format("best input-blind guess fitted on train.tsv, scored on {}", split_name(s));
  return c;
}

// The best position-blind guess, the most frequent training token, scored on the split's labels;
// beside it the unigram model's cross-entropy, what a model that ignores context reaches.
Chance Dataset::text_chance(Split s, size_t limit) const {
  const TextCorpus& t = *text_;
  std::vector<double> freq(vocab_.size(), 0.0);
  for (size_t i = 0; i < t.train_end; ++i) freq[t.ids[i]] += 1;
  const int mode = int(std::max_element(freq.begin(), freq.end()) - freq.begin());
  const std::vector<Example> eval = s == Split::Train ? std::vector<Example>{t.window(0)} : eval_examples(s, limit);
  double hits = 0, n = 0, xent = 0;
  for (const auto& e : eval)
    for (int y : e.labels) {
      hits += y == mode;
      n += 1;
      xent -= std::log(std::max(freq[y], 0.5) / (double)t.train_end);  // unseen: half a count
    }
  Chance c;
  c.token = n ? hits / n : 0.0;
  c.sequence = 0;
  c.exact = false;
  c.note = fmt::format("the most frequent training token ('{}'), scored on {}", vocab_.token(mode), split_name(s));
  c.baselines.push_back({"unigram", "xent_nats_per_token", n ? xent / n : 0.0,
                         "token frequencies of the training part, no context"});
  return c;
}

SplitStats Dataset::stats(Split s) const {
  SplitStats st;
  if (s == Split::Train && !files_) return st;
  if (text_) {  // parts of one file by position: nothing is shared by construction
    st.examples = examples(s).size();
    st.distinct_sources = st.examples;
    return st;
  }
  const auto& ex = s == Split::Train ? files_->train : examples(s);
  std::set<std::vector<int>> mine;
  for (const auto& e : ex) mine.insert(e.src);
  st.examples = ex.size();
  st.distinct_sources = mine.size();
  if (files_) {
    st.unk_tokens = s == Split::Valid ? files_->valid_unk : s == Split::Test ? files_->test_unk : 0;
    if (s != Split::Train) {
      std::set<std::vector<int>> train;
      for (const auto& e : files_->train) train.insert(e.src);
      for (const auto& src : mine) st.in_train += train.count(src);
    }
  } else {
    for (const auto& src : mine) st.in_train += owner(src) == Split::Train;
  }
  if (s == Split::Test) {
    std::set<std::vector<int>> valid;
    for (const auto& e : examples(Split::Valid)) valid.insert(e.src);
    for (const auto& src : mine) st.in_valid += valid.count(src);
  }
  return st;
}

size_t Dataset::max_src_len() const {
  if (text_) return (size_t)text_->block;
  if (!files_) return std::max(train_task_->max_src_len(), test_task_->max_src_len());
  size_t m = 0;
  for (const auto* v : {&files_->train, &files_->valid, &files_->test})
    for (const auto& e : *v) m = std::max(m, e.src.size());
  return m;
}

size_t Dataset::max_tgt_len() const {
  if (text_) return 0;
  if (!files_) return std::max(train_task_->max_tgt_len(), test_task_->max_tgt_len());
  size_t m = 0;
  for (const auto* v : {&files_->train, &files_->valid, &files_->test})
    for (const auto& e : *v) m = std::max(m, e.tgt.size());
  return m;
}

}  // namespace attn::data
