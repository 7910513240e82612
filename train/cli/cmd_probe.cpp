// `attnlab probe gradflow | attention | ablate`: the probes of train/probe.hpp from the command
// line, each writing CSV and PNG files into --out (docs/probes.md).
#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <sstream>

#include "autograd/blas.hpp"
#include "models/family.hpp"
#include "train/cli/cli.hpp"
#include "train/cli/loaded.hpp"
#include "train/cli/options.hpp"
#include "train/plot.hpp"
#include "train/probe.hpp"
#include "train/run_files.hpp"

namespace attn::cli {

namespace fs = std::filesystem;

namespace {

struct ProbeArgs {
  std::vector<std::string> checkpoints, task_opts, init;
  std::string out, split = "test";
  int64_t examples = 16, max_positions = 64, repeat_length = 32;
  int threads = 2;
  uint64_t seed = 1;
};

// A model to probe, with the data it reads and its name in the files.
struct Probed {
  std::string name;
  std::unique_ptr<Seq2SeqModel<float>> model;
  std::unique_ptr<data::Dataset> data;
};

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// A model at initialisation from `train`'s flags (its task, model and seed).
Probed from_init(const std::string& flags) {
  CLI::App app("init");
  TrainArgs args;
  add_train_options(app, args);
  std::vector<std::string> words = split_words(flags);
  std::reverse(words.begin(), words.end());  // CLI11 parses a vector back to front
  try {
    app.parse(words);
    args.validate();
  } catch (const CLI::ParseError& e) {
    throw UsageError(fmt::format("--init '{}': {}", flags, e.what()));
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("--init '{}': {}", flags, e.what()));
  }
  Probed p;
  p.name = fmt::format("{} at init", args.model);
  try {
    p.data = std::make_unique<data::Dataset>(args.data_config());
    p.model = make_model<float>(args.model_config(*p.data), (uint64_t)args.seed);
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("--init '{}': {}", flags, e.what()));
  }
  return p;
}

Probed from_checkpoint(const std::string& path, const ProbeArgs& a) {
  Loaded l = load_checkpoint(path);
  Probed p;
  // A run's checkpoint is named by its run folder.
  const fs::path f(path);
  const bool in_run = f.filename() == "best.safetensors" || f.filename() == "last.safetensors";
  p.name = in_run && f.has_parent_path() ? f.parent_path().filename().string() : path;
  p.data = checkpoint_dataset(l, a.task_opts, data::parse_split(a.split), (size_t)a.examples);
  p.model = std::move(l.model);
  return p;
}

// Every model first, so that bad input fails before any file is written.
std::vector<Probed> load_all(const ProbeArgs& a, bool allow_init, bool need_attention) {
  if (a.checkpoints.empty() && (a.init.empty() || !allow_init))
    throw UsageError(allow_init ? "probe: give --checkpoint or --init" : "probe: give --checkpoint");
  if (a.examples <= 0) throw UsageError("probe: --examples must be positive");
  std::vector<Probed> all;
  for (const std::string& c : a.checkpoints) all.push_back(from_checkpoint(c, a));
  for (const std::string& f : a.init) all.push_back(from_init(f));
  for (Probed& p : all)
    if (need_attention && model_family(p.model->config.type).caps.attention.empty())
      throw UsageError(fmt::format("probe: {} is a {} model, which has no attention heads", p.name, p.model->config.type));
  fs::create_directories(a.out);
  return all;
}

data::Batch probe_batch(const Probed& p, const ProbeArgs& a) {
  const data::Split split = data::parse_split(a.split);
  return p.data->batch(p.data->eval_examples(split, (size_t)a.examples), false);
}

template <class F>
auto as_usage(F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

int run_gradflow(const ProbeArgs& a) {
  set_num_threads(a.threads);
  std::vector<Probed> all = load_all(a, true, false);
  std::string csv = "model,distance,saliency,labels\n", state_csv = "model,layer,lag,grad_norm,relative,labels\n",
              source_csv = "model,source_saliency,labels\n";
  std::vector<Series> lines, state_lines;
  for (Probed& p : all) {
    const data::Batch b = probe_batch(p, a);
    const GradFlow f = bin_gradients(as_usage([&] { return label_gradients(*p.model, b, a.max_positions); }));
    Series s{p.name, {}, {}, {}, {}};
    for (size_t d = 0; d < f.saliency.size(); ++d) {
      if (!f.saliency_count[d]) continue;
      csv += fmt::format("{},{},{},{}\n", p.name, d, f.saliency[d], f.saliency_count[d]);
      if (f.saliency[d] > 0) s.x.push_back((double)d), s.y.push_back(f.saliency[d]);
    }
    lines.push_back(s);
    source_csv += fmt::format("{},{},{}\n", p.name, f.source_saliency, f.source_labels);
    for (size_t l = 0; l < f.state_raw.size(); ++l) {
      Series st{fmt::format("{} layer {}", p.name, l), {}, {}, {}, {}};
      for (size_t k = 0; k < f.state_raw[l].size(); ++k) {
        const double rel = k < f.state_relative[l].size() ? f.state_relative[l][k] : 0.0;
        state_csv += fmt::format("{},{},{},{},{},{}\n", p.name, l, k, f.state_raw[l][k], rel, f.state_count[l][k]);
        if (rel > 0) st.x.push_back((double)k), st.y.push_back(rel);
      }
      state_lines.push_back(st);
    }
    fmt::print("{}: {} labels; saliency at the true source {:.4g} ({} labels)\n", p.name, f.labels, f.source_saliency,
               f.source_labels);
  }
  write_text_atomic(a.out + "/gradflow.csv", csv);
  write_text_atomic(a.out + "/gradflow_source.csv", source_csv);
  PlotSpec spec;
  spec.title = "input saliency by distance: ||dL_j/dx_p|| / sum_p, mean over labels j";
  spec.xlabel = "distance from input p to label j (positions; encoder-decoder: p to the source's end)";
  spec.ylabel = "fraction of the label's input gradient";
  spec.logy = true;
  plot_lines(a.out + "/gradflow.png", spec, lines);
  if (!state_lines.empty()) {
    write_text_atomic(a.out + "/gradflow_state.csv", state_csv);
    spec.title = "recurrent state gradient by lag: ||dL_j/dh_t|| over its value at the state nearest j, mean over labels j";
    spec.xlabel = "lag from state t to label j (steps; encoder-decoder: t to the source's end)";
    spec.ylabel = "relative gradient norm";
    plot_lines(a.out + "/gradflow_state.png", spec, state_lines);
  }
  fmt::print("wrote {}/gradflow.csv and gradflow.png{}\n", a.out, state_lines.empty() ? "" : ", gradflow_state.csv and gradflow_state.png");
  return 0;
}

struct HeadValue {
  int layer, head;
  double value;  // negative: none
  std::string module{};  // the row's name in the table (empty: the layer number)
};

std::vector<HeadValue> head_values(const std::vector<HeadStats>& stats, double HeadStats::*field) {
  std::vector<HeadValue> v;
  for (const HeadStats& s : stats) v.push_back({s.layer, s.head, s.*field, s.module});
  return v;
}

// One heat table per statistic: layers down, heads across.
void plot_head_table(const std::string& png, const std::string& title, const std::vector<HeadValue>& stats, double lo,
                     double hi, bool negative_is_none = true) {
  int layers = 0, heads = 0;
  for (const HeadValue& s : stats) layers = std::max(layers, s.layer + 1), heads = std::max(heads, s.head + 1);
  HeatTable t;
  t.title = title;
  t.xlabel = "head";
  t.ylabel = "layer";
  t.rows = layers;
  t.cols = heads;
  t.values.assign((size_t)layers * heads, NAN);
  for (const HeadValue& s : stats)
    t.values[(size_t)s.layer * heads + s.head] = negative_is_none && s.value < 0 ? NAN : s.value;
  t.row_labels.assign((size_t)layers, "");
  for (const HeadValue& s : stats)
    t.row_labels[(size_t)s.layer] = s.module.empty() ? std::to_string(s.layer) : s.module;
  for (int h = 0; h < heads; ++h) t.col_labels.push_back(std::to_string(h));
  t.lo = lo;
  t.hi = hi;
  plot_heat_table(png, t);
}

int run_attention(const ProbeArgs& a) {
  set_num_threads(a.threads);
  if (a.checkpoints.size() != 1) throw UsageError("probe attention: give one --checkpoint");
  std::vector<Probed> all = load_all(a, false, true);
  Probed& p = all[0];
  const data::Batch b = probe_batch(p, a);
  std::vector<HeadStats> stats = as_usage([&] { return attention_stats(*p.model, b); });
  const int64_t limit = position_limit(p.model->config);
  const int64_t n = limit > 0 ? std::min<int64_t>(a.repeat_length, limit / 2) : a.repeat_length;
  const int vocab = (int)std::min(p.model->config.src_vocab, p.model->config.tgt_vocab);
  as_usage([&] {
    repeat_scores(*p.model, repeated_random_tokens(a.examples, n, data::Vocab::NUM_SPECIAL, vocab, a.seed), a.examples, n, stats);
    return 0;
  });
  std::string csv = "module,layer,head,mean_distance,entropy,confidence,source_mass,source_labels,previous_token,induction\n";
  double max_dist = 1, max_ent = 1e-9;
  for (const HeadStats& s : stats) {
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", s.module, s.layer, s.head, s.mean_distance, s.entropy, s.confidence,
                       s.source_mass, s.source_labels, s.previous_token, s.induction);
    max_dist = std::max(max_dist, s.mean_distance);
    max_ent = std::max(max_ent, s.entropy);
  }
  write_text_atomic(a.out + "/attention.csv", csv);
  plot_head_table(a.out + "/attention_mean_distance.png", "mean attention distance (positions)", head_values(stats, &HeadStats::mean_distance), 0, max_dist);
  plot_head_table(a.out + "/attention_entropy.png", "attention entropy (nats)", head_values(stats, &HeadStats::entropy), 0, max_ent);
  plot_head_table(a.out + "/attention_confidence.png", "confidence (mean maximum weight)", head_values(stats, &HeadStats::confidence), 0, 1);
  plot_head_table(a.out + "/attention_source_mass.png", "attention on the true source token", head_values(stats, &HeadStats::source_mass), 0, 1);
  plot_head_table(a.out + "/attention_previous_token.png", fmt::format("previous-token score (repeated random tokens, n {})", n),
                  head_values(stats, &HeadStats::previous_token), 0, 1);
  plot_head_table(a.out + "/attention_induction.png", fmt::format("induction score (repeated random tokens, n {})", n),
                  head_values(stats, &HeadStats::induction), 0, 1);
  fmt::print("{}: {} heads; wrote {}/attention.csv and attention_*.png\n", p.name, stats.size(), a.out);
  return 0;
}

int run_ablate(const ProbeArgs& a) {
  set_num_threads(a.threads);
  if (a.checkpoints.size() != 1) throw UsageError("probe ablate: give one --checkpoint");
  std::vector<Probed> all = load_all(a, false, true);
  Probed& p = all[0];
  const auto rows = as_usage([&] { return ablate_heads(*p.model, *p.data, data::parse_split(a.split), (size_t)a.examples); });
  const HeadAblation& intact = rows[0];
  std::string csv = "module,layer,head,sequence_accuracy,token_accuracy,sequence_drop,token_drop\n";
  std::vector<HeadValue> drops;
  double most = 1e-9, least = 0;
  for (const HeadAblation& r : rows) {
    csv += fmt::format("{},{},{},{},{},{},{}\n", r.head < 0 ? "none" : r.module, r.layer, r.head, r.sequence_accuracy, r.token_accuracy,
                       intact.sequence_accuracy - r.sequence_accuracy, intact.token_accuracy - r.token_accuracy);
    if (r.head < 0) continue;
    drops.push_back({r.layer, r.head, intact.token_accuracy - r.token_accuracy, r.module});
    most = std::max(most, drops.back().value);
    least = std::min(least, drops.back().value);  // a head whose removal helps
  }
  write_text_atomic(a.out + "/ablate.csv", csv);
  plot_head_table(a.out + "/ablate.png", fmt::format("token accuracy drop with the head zeroed (intact {:.3f})", intact.token_accuracy),
                  drops, least, most, false);
  fmt::print("{}: intact token accuracy {:.4f}; wrote {}/ablate.csv and ablate.png\n", p.name, intact.token_accuracy, a.out);
  return 0;
}

void common_options(CLI::App& cmd, ProbeArgs& a, bool many) {
  auto* c = cmd.add_option("--checkpoint", a.checkpoints, many ? "A checkpoint (repeat to overlay several)" : "The checkpoint");
  if (!many) c->expected(1);
  cmd.add_option("--out", a.out, "Folder for the CSV and PNG files")->required();
  cmd.add_option("--task-opt", a.task_opts, "KEY=VALUE over the knobs the checkpoint was trained with (repeatable)");
  cmd.add_option("--split", a.split, "valid | test")->capture_default_str();
  cmd.add_option("--examples", a.examples, "Examples probed")->capture_default_str();
  cmd.add_option("--threads", a.threads, "Threads")->capture_default_str();
}

}  // namespace

void add_probe_command(CLI::App& app, int& exit_code) {
  auto* probe = app.add_subcommand("probe", "Why a model succeeds or fails at a distance: gradient flow, attention "
                                            "statistics, head ablation (docs/probes.md)");
  probe->require_subcommand(1);
  auto g = std::make_shared<ProbeArgs>();
  auto* grad = probe->add_subcommand("gradflow", "Input saliency ||dL_j/dx_p|| by distance, and a recurrence's "
                                                 "||dL_j/dh_t|| by lag: gradflow*.csv and gradflow*.png");
  common_options(*grad, *g, true);
  grad->add_option("--init", g->init, "Also a model at initialisation, from `train` flags in one string, e.g. "
                                      "'--model lstm --task copy-memory' (repeatable)");
  grad->add_option("--max-positions", g->max_positions, "Label positions probed, evenly spaced (0: all; one backward each)")
      ->capture_default_str();
  grad->callback([g, &exit_code] { exit_code = run_gradflow(*g); });
  auto at = std::make_shared<ProbeArgs>();
  auto* att = probe->add_subcommand("attention", "Per layer and head: mean distance, entropy, confidence, mass on the true "
                                                 "source, previous-token and induction scores: attention.csv and PNGs");
  common_options(*att, *at, false);
  att->add_option("--repeat-length", at->repeat_length, "n of the repeated random tokens (n, then the same n)")->capture_default_str();
  att->add_option("--seed", at->seed, "Seed of the repeated random tokens")->capture_default_str();
  att->callback([at, &exit_code] { exit_code = run_attention(*at); });
  auto ab = std::make_shared<ProbeArgs>();
  ab->examples = 500;
  auto* abl = probe->add_subcommand("ablate", "Accuracy with each head zeroed alone, on any model with heads (encoder-decoders "
                                              "too): ablate.csv and ablate.png");
  common_options(*abl, *ab, false);
  abl->callback([ab, &exit_code] { exit_code = run_ablate(*ab); });
}

}  // namespace attn::cli
