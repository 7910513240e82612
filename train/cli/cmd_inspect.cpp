// `attnlab eval` and `attnlab predict`: a look inside a trained model, from its checkpoint alone
// (the vocabulary and the data config are in its metadata).
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <cctype>
#include <filesystem>
#include <fstream>

#include "autograd/blas.hpp"
#include "models/checkpoint.hpp"
#include "models/family.hpp"
#include "train/cli/cli.hpp"
#include "train/cli/loaded.hpp"
#include "train/evaluate.hpp"
#include "train/plot.hpp"

namespace attn::cli {

namespace {

struct EvalArgs {
  std::string checkpoint, split = "test";
  std::vector<std::string> task_opts;
  int64_t examples = 1000;
  int threads = 2;
  bool json = false;
  bool allow_nonfinite = false;
};

int run_eval(const EvalArgs& a) {
  set_num_threads(a.threads);
  Loaded l = load_checkpoint(a.checkpoint, a.allow_nonfinite);
  const data::Split split = data::parse_split(a.split);
  const std::unique_ptr<data::Dataset> ds = checkpoint_dataset(l, a.task_opts, split, (size_t)a.examples);
  const EvalResult r = evaluate(*l.model, *ds, split, (size_t)a.examples);
  if (a.json) {
    nlohmann::json j = r.to_json("", true);
    j["split"] = a.split;
    j["data"] = ds->config().describe();
    j["checkpoint"] = a.checkpoint;
    fmt::print("{}\n", j.dump());
    return 0;
  }
  const Interval s = r.sequence_interval(), t = r.token_interval();
  fmt::print("{} on {} ({} split, {})\n", l.model->config.type, ds->config().describe(), a.split, r.describe_examples());
  fmt::print("  sequence accuracy {:.4f}  95% CI [{:.4f}, {:.4f}]   chance {:.4f}\n", r.sequence_accuracy(), s.lo, s.hi,
             r.chance.sequence);
  fmt::print("  token accuracy    {:.4f}  95% CI [{:.4f}, {:.4f}]   chance {:.4f}\n", r.token_accuracy(), t.lo, t.hi,
             r.chance.token);
  fmt::print("  teacher-forced loss {:.4f}\n", r.loss);
  for (auto& [lo, hi, acc, n] : r.distance_bins())
    fmt::print("  distance {:>9}: token accuracy {:.4f} ({} tokens)\n", lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi), acc, n);
  if (r.by_length.size() > 1)
    for (const auto& [len, c] : r.by_length)
      fmt::print("  source length {:>5}: sequence accuracy {:.4f}, token accuracy {:.4f} ({} examples)\n", len,
                 double(c.sequences_correct) / c.examples, c.tokens ? double(c.tokens_correct) / c.tokens : 0.0, c.examples);
  return 0;
}

struct PredictArgs {
  std::string checkpoint, input, attention;
  int64_t max_steps = 0, sample = 0, top_k = 0;
  double temperature = 1.0;
  uint64_t seed = 1;
  bool allow_nonfinite = false;
};

// The input's ids: a text corpus's checkpoint reads raw text (characters or words), any other
// reads space-separated tokens.
std::vector<int> encode_input(const Loaded& l, const std::string& input) {
  if (!l.data.is_text()) return l.vocab.encode(input);
  std::vector<int> ids;
  for (const std::string& t : data::text_token_strings(input, l.data.text_tokens)) ids.push_back(l.vocab.id(t));
  return ids;
}

std::string decode_output(const Loaded& l, const std::vector<int>& ids) {
  return l.data.is_text() ? data::detokenize(l.vocab.to_strings(ids), l.data.text_tokens) : l.vocab.decode(ids);
}

int run_sample_tokens(const PredictArgs& a, Loaded& l, const std::vector<int>& prompt) {
  if (!a.attention.empty()) throw UsageError("--attention draws a decoded input's maps; it does not combine with --sample");
  l.model->eval();
  Graph<float> g;
  Rng rng(a.seed);
  std::vector<int> out;
  try {
    out = l.model->sample(g, prompt, a.sample, a.temperature, a.top_k, rng);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  std::vector<int> all = prompt;
  all.insert(all.end(), out.begin(), out.end());
  fmt::print("{}\n", decode_output(l, all));
  return 0;
}

int run_predict(const PredictArgs& a) {
  Loaded l = load_checkpoint(a.checkpoint, a.allow_nonfinite);
  std::vector<int> src = encode_input(l, a.input);
  if (src.empty()) throw UsageError("--input has no tokens");
  int unknown = 0;
  for (int id : src) unknown += id == data::Vocab::UNK;
  if (unknown) fmt::print(stderr, "warning: {} input token(s) are not in the vocabulary and were read as <unk>\n", unknown);
  if (a.sample > 0) return run_sample_tokens(a, l, src);
  const ModelConfig& mc = l.model->config;
  const bool stream = l.data.format == "lm", positional = stream && l.data.stream_only();
  // A stream holds SEP after the source; a positional stream is the input itself.
  const int64_t limit = position_limit(mc), need = (int64_t)src.size() + (stream && !positional ? 1 : 0);
  if (limit > 0 && need > limit)
    throw UsageError(fmt::format("the input needs {} positions; the model's position table has {} rows", need, limit));
  SeqBatch b;
  b.batch = 1;
  b.src_len = (int64_t)src.size();
  b.src = src;
  b.src_pad.assign(src.size(), 0);
  l.model->eval();
  Graph<float> g;
  NoGrad<float> ng(g);
  std::vector<int> out;
  if (!a.attention.empty() && model_family(mc.type).caps.attention.empty()) {
    std::vector<std::string> with;
    for (const ModelFamily* f : model_families())
      if (!f->caps.attention.empty()) with.push_back(f->name);
    throw UsageError(fmt::format("--attention: a {} model has no attention maps (families with them: {})", mc.type,
                                 fmt::join(with, ", ")));
  }
  if (positional) {  // labels at fixed positions (text windows, aligned copy): the argmax at each
    b.tokens = src;
    b.len = (int64_t)src.size();
    l.model->keep_attention(!a.attention.empty());
    const Tensor<float> logits = l.model->forward(g, b);
    const int64_t V = logits.shape()[2];
    for (int64_t p = 0; p < b.len; ++p) {
      const float* row = logits.data() + p * V;
      out.push_back(int(std::max_element(row, row + V) - row));
    }
  } else {
    const int64_t steps = a.max_steps > 0 ? a.max_steps : default_decode_steps(mc, (int64_t)src.size());
    out = l.model->greedy_decode(g, b, steps, data::Vocab::BOS, data::Vocab::EOS)[0];
  }
  fmt::print("{}\n", decode_output(l, out));
  if (a.attention.empty()) return 0;

  // Attention maps: one teacher-forced pass over the source and the decoded output (for a
  // language model, over the stream source SEP output, within its position table).
  std::error_code ec;
  std::filesystem::create_directories(a.attention, ec);
  if (ec) throw UsageError(fmt::format("--attention {}: cannot create the folder: {}", a.attention, ec.message()));
  b.tgt_in = {data::Vocab::BOS};
  b.tgt_in.insert(b.tgt_in.end(), out.begin(), out.end());
  b.tgt_len = (int64_t)b.tgt_in.size();
  b.tgt_pad.assign(b.tgt_in.size(), 0);
  if (stream && !positional) {
    b.tokens = src;
    b.tokens.insert(b.tokens.end(), b.tgt_in.begin(), b.tgt_in.end());
    if (limit > 0 && (int64_t)b.tokens.size() > limit) b.tokens.resize(limit);  // the last token is never fed back
    b.len = (int64_t)b.tokens.size();
  }
  if (!positional) {
    l.model->keep_attention(true);
    g.reset();
    l.model->forward(g, b);
  }
  std::vector<std::string> src_tok = l.vocab.to_strings(src), tgt_tok = l.vocab.to_strings(b.tgt_in), stream_tok;
  if (stream) {
    stream_tok = l.vocab.to_strings(b.tokens);
    if (!positional) stream_tok[src.size()] = "<sep>";
  }
  nlohmann::json doc = {{"source", src_tok}, {"decoder_input", tgt_tok}, {"maps", nlohmann::json::array()}};
  if (stream) doc["stream"] = stream_tok;
  int written = 0;
  for (const AttentionMap<float>& m : l.model->attention_maps()) {
    const Shape& s = m.weights.shape();  // [1, H, Tq, Tk]
    // The family's declared site for this map says where its queries and keys come from.
    auto side = [&](const std::string& from) -> const std::vector<std::string>& {
      return from == "stream" ? stream_tok : from == "source" ? src_tok : tgt_tok;
    };
    const AttentionSite* site = &attention_site(l.model->config, m.name);
    const auto& rows = side(site->queries);
    const auto& cols = side(site->keys);
    const int64_t H = s[1], Tq = s[2], Tk = s[3];
    nlohmann::json heads = nlohmann::json::array();
    for (int64_t h = 0; h < H; ++h) {
      const float* w = m.weights.data() + h * Tq * Tk;
      std::vector<double> mat(w, w + Tq * Tk);
      heads.push_back(mat);
      const std::string png = fmt::format("{}/{}.head{}.png", a.attention, m.name, h);
      plot_heatmap(png, fmt::format("{} head {}", m.name, h), mat, (int)Tq, (int)Tk, rows, cols);
      ++written;
    }
    doc["maps"].push_back({{"name", m.name}, {"shape", {H, Tq, Tk}}, {"queries", rows}, {"keys", cols}, {"weights", heads}});
  }
  std::ofstream(a.attention + "/attention.json") << doc.dump() << "\n";
  fmt::print(stderr, "wrote {} heatmaps and attention.json (weights [head][query][key]) to {}\n", written, a.attention);
  return 0;
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a checkpoint with greedy decoding, from the checkpoint file alone");
  cmd->add_option("--checkpoint", a->checkpoint, "A .safetensors checkpoint written by attnlab train")->required();
  cmd->add_option("--task-opt", a->task_opts, "Override a task knob for the evaluated split, e.g. delay=400 (repeatable)");
  cmd->add_option("--split", a->split, "valid | test")->capture_default_str()->check(CLI::IsMember({"valid", "test"}));
  cmd->add_option("--eval-examples", a->examples, "Examples to evaluate")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--threads", a->threads, "Threads")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_flag("--json", a->json, "One JSON object instead of the table");
  cmd->add_flag("--allow-nonfinite", a->allow_nonfinite, "Load a checkpoint holding NaN or Inf (for forensics)");
  cmd->callback([a, &exit_code] { exit_code = run_eval(*a); });
}

void add_predict_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand("predict", "Decode one input with a checkpoint; optionally draw its attention maps");
  cmd->add_option("--checkpoint", a->checkpoint, "A .safetensors checkpoint written by attnlab train")->required();
  cmd->add_option("--input", a->input, "Source tokens separated by spaces")->required();
  cmd->add_option("--attention", a->attention,
                  "Write a PNG heatmap per layer and head (encoder self-attention, decoder self-attention,\n"
                  "cross-attention) and the weights as attention.json to this folder");
  cmd->add_option("--max-steps", a->max_steps, "Most tokens to decode (default: as the model allows)");
  cmd->add_option("--sample", a->sample, "Language models: sample N tokens after --input (the prompt) instead of decoding")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  cmd->add_option("--temperature", a->temperature, "With --sample: softmax temperature (0: greedy)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  cmd->add_option("--top-k", a->top_k, "With --sample: draw from the k most likely tokens only (0: all)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 30))
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "With --sample: the sampling seed")->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  attnlab predict --checkpoint runs/x/best.safetensors --input \"3 1 4 1 5\" --attention maps/\n"
      "  attnlab predict --checkpoint runs/text/best.safetensors --input \"ROMEO:\" --sample 300 --top-k 10\n");
  cmd->add_flag("--allow-nonfinite", a->allow_nonfinite, "Load a checkpoint holding NaN or Inf (for forensics)");
  cmd->callback([a, &exit_code] { exit_code = run_predict(*a); });
}

}  // namespace attn::cli
