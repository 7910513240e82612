// `attnlab tasks` and `attnlab sample`: look at the task suite and at the examples a run would see.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "data/dataset.hpp"
#include "data/error.hpp"
#include "train/cli/cli.hpp"

namespace attn::cli {
namespace {

using data::Split;

nlohmann::json chance_json(const data::Chance& c) {
  nlohmann::json j{{"token", c.token}, {"sequence", c.sequence}, {"exact", c.exact}};
  if (!c.note.empty()) j["note"] = c.note;
  return j;
}

std::string chance_text(const data::Chance& c) {
  return fmt::format("token {:.4g}, sequence {:.4g}{}", c.token, c.sequence,
                     c.note.empty() ? "" : fmt::format(" ({})", c.note));
}

nlohmann::json baselines_json(const data::Chance& c) {
  nlohmann::json out = nlohmann::json::array();
  for (const data::Baseline& b : c.baselines)
    out.push_back({{"name", b.name}, {"metric", b.metric}, {"value", b.value}, {"note", b.note}});
  return out;
}

void print_tasks(bool as_json) {
  nlohmann::json all = nlohmann::json::array();
  for (const data::TaskSpec* s : data::task_specs()) {
    const auto task = data::make_task(s->name);
    const data::Chance c = task->chance();
    if (as_json) {
      nlohmann::json knobs = nlohmann::json::array();
      for (const auto& k : s->knobs) {
        nlohmann::json kj = {{"name", k.name}, {"default", k.default_value}, {"min", k.min}, {"max", k.max}, {"help", k.help}};
        if (!k.names.empty()) kj["names"] = k.names;  // value i is names[i]
        knobs.push_back(kj);
      }
      all.push_back({{"name", s->name},
                     {"summary", s->summary},
                     {"format", s->format},
                     {"distance", s->distance},
                     {"citation", s->citation},
                     {"knobs", knobs},
                     {"vocab_size", task->vocab().size()},
                     {"max_src_len", task->max_src_len()},
                     {"max_tgt_len", task->max_tgt_len()},
                     {"chance", chance_json(c)},
                     {"class", task->chomsky()},
                     {"baselines", baselines_json(c)}});
      continue;
    }
    fmt::print("{}: {}\n", s->name, s->summary);
    fmt::print("  format:   {}\n  distance: {}\n", s->format, s->distance);
    size_t w = 0;
    for (const auto& k : s->knobs) w = std::max(w, k.name.size() + k.value_text(k.default_value).size() + 1);
    for (size_t i = 0; i < s->knobs.size(); ++i) {
      const auto& k = s->knobs[i];
      const std::string range = k.names.empty() ? fmt::format("{}..{}", k.min, k.max) : fmt::format("{}", fmt::join(k.names, " | "));
      fmt::print("  {:<10}{:<{}}  {} [{}]\n", i == 0 ? "knobs:" : "", fmt::format("{}={}", k.name, k.value_text(k.default_value)),
                 w, k.help, range);
    }
    fmt::print("  class:    {}\n", task->chomsky());
    fmt::print("  chance:   {} at the defaults\n", chance_text(c));
    for (const data::Baseline& b : c.baselines)
      fmt::print("  baseline: {} {} {:.4g} ({})\n", b.name, b.metric, b.value, b.note);
    fmt::print("  source:   {}\n\n", s->citation);
  }
  if (as_json) fmt::print("{}\n", all.dump(2));
}

struct SampleArgs {
  std::string task, data_dir, data_text, split = "train", format = "seq2seq", loss_on = "target", text_tokens = "chars";
  int block = 64;
  std::vector<std::string> task_opts, test_task_opts;
  int n = 3;
  uint64_t seed = 1;
  bool json = false;
};

// A stream as three aligned rows: input tokens, labels ('.' where the loss skips) and distances.
void print_stream(const data::Stream& s, const data::Vocab& v) {
  std::vector<std::string> tok, lab, dist;
  for (size_t p = 0; p < s.tokens.size(); ++p) {
    tok.push_back(s.tokens[p] == data::Vocab::BOS && s.prompt ? "<sep>" : v.token(s.tokens[p]));
    lab.push_back(s.labels[p] == data::Vocab::PAD ? "-" : v.token(s.labels[p]));
    dist.push_back(s.distance[p] < 0 ? "." : std::to_string(s.distance[p]));
  }
  auto row = [&](const char* name, const std::vector<std::string>& cells) {
    fmt::print("  {:<9}", name);
    for (size_t p = 0; p < cells.size(); ++p)
      fmt::print(" {:>{}}", cells[p], std::max({tok[p].size(), lab[p].size(), dist[p].size()}));
    fmt::print("\n");
  };
  row("stream", tok);
  row("label", lab);
  row("distance", dist);
}

nlohmann::json stream_json(const data::Stream& s, const data::Vocab& v) {
  nlohmann::json labels = nlohmann::json::array();
  for (int y : s.labels) labels.push_back(y == data::Vocab::PAD ? nlohmann::json() : nlohmann::json(v.token(y)));
  return {{"tokens", v.to_strings(s.tokens)}, {"labels", labels}, {"distance", s.distance}, {"prompt", s.prompt}};
}

void run_sample(const SampleArgs& a) {
  if ((int)!a.task.empty() + (int)!a.data_dir.empty() + (int)!a.data_text.empty() != 1)
    throw UsageError("sample needs exactly one of --task NAME, --data-dir DIR or --data-text FILE");
  const Split split = data::parse_split(a.split);
  data::DataConfig cfg;
  if (!a.data_text.empty()) {
    cfg = data::text_config(a.data_text, a.block, data::parse_text_tokens(a.text_tokens), a.seed, a.n, a.n);
  } else if (!a.task.empty()) {
    // Generate only what is shown (valid too for the test overlap count); the first n examples are
    // the same as in a full-size split.
    const size_t nv = split != Split::Train ? a.n : 0, nt = split == Split::Test ? a.n : 0;
    cfg = data::task_config(a.task, data::parse_task_options(a.task_opts), data::parse_task_options(a.test_task_opts),
                            a.seed, nv, nt);
  } else {
    cfg = data::file_config(a.data_dir, a.seed);
  }
  if (!cfg.is_text()) cfg.format = a.format;
  // A task whose knobs leave only a one-stream layout is shown as that stream.
  if (cfg.stream_only()) cfg.format = "lm";
  cfg.loss_on = data::parse_loss_on(a.loss_on);
  const bool stream = cfg.format == "lm";
  const data::Dataset ds(cfg);
  const bool endless = split == Split::Train && !cfg.is_file();
  const size_t n = endless ? (size_t)a.n : std::min<size_t>(a.n, ds.size(split));
  std::vector<data::Example> ex;
  for (size_t i = 0; i < n; ++i) ex.push_back(ds.example(split, i));
  const data::Chance chance = ds.chance(split);
  const data::SplitStats st = ds.stats(split);
  const data::Vocab& v = ds.vocab();

  if (a.json) {
    nlohmann::json data = cfg.to_json();
    data.erase("valid_size");  // sized to -n here, not what a run would use
    data.erase("test_size");
    nlohmann::json j{{"data", data},
                     {"split", a.split},
                     {"vocab_size", v.size()},
                     {"chance", chance_json(chance)},
                     {"examples", nlohmann::json::array()}};
    for (size_t i = 0; i < ex.size(); ++i)
      j["examples"].push_back(
          stream ? nlohmann::json{{"index", i}, {"stream", stream_json(data::to_stream(ex[i], cfg.loss_on), v)}}
                 : nlohmann::json{{"index", i}, {"src", v.to_strings(ex[i].src)}, {"tgt", v.to_strings(ex[i].tgt)},
                                  {"distance", ex[i].distance}});
    if (cfg.is_file() || split != Split::Train)
      j["stats"] = {{"examples", st.examples}, {"distinct_sources", st.distinct_sources}, {"in_train", st.in_train},
                    {"in_valid", st.in_valid}, {"unk_tokens", st.unk_tokens}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("{}, split {}, seed {}\n", cfg.describe(), a.split, a.seed);
  fmt::print("chance: {}\n", chance_text(chance));
  if (cfg.is_text() && split != Split::Train) {
    fmt::print("{} windows of {} tokens, by position after the training part\n", st.examples, cfg.block);
  } else if (!cfg.is_file() && !cfg.is_text() && split != Split::Train) {
    // in_valid is against the first -n valid examples only, so it is not shown here.
    fmt::print("{} examples, {} distinct sources, {} also in training (held-out rule: always 0)\n", st.examples,
               st.distinct_sources, st.in_train);
  } else if (cfg.is_file()) {
    fmt::print("{} examples, {} distinct sources", st.examples, st.distinct_sources);
    if (split != Split::Train) fmt::print(", {} sources also in train.tsv, {} tokens mapped to <unk>", st.in_train, st.unk_tokens);
    if (split == Split::Test) fmt::print(", {} sources also in valid.tsv", st.in_valid);
    fmt::print("\n");
  }
  for (size_t i = 0; i < ex.size(); ++i) {
    const auto& e = ex[i];
    if (stream) {
      const data::Stream s = data::to_stream(e, cfg.loss_on);
      fmt::print("\nexample {} ({} positions, {} labelled)\n", i, s.tokens.size(),
                 std::count_if(s.labels.begin(), s.labels.end(), [](int y) { return y != data::Vocab::PAD; }));
      print_stream(s, v);
      continue;
    }
    fmt::print("\nexample {}\n  src ({}): {}\n  tgt ({}): {}\n  distance: {}\n", i, e.src.size(), v.decode(e.src),
               e.tgt.size(), v.decode(e.tgt), fmt::join(e.distance, " "));
  }
}

}  // namespace

void add_tasks_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "tasks", "List every task with its knobs, defaults, what distance means, chance level and source paper");
  auto as_json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *as_json, "Print a JSON array instead of text");
  cmd->footer("Knobs are set with --task-opt NAME=VALUE; docs/tasks.md has worked examples.\n");
  cmd->callback([as_json, &exit_code] {
    try {
      print_tasks(*as_json);
    } catch (const data::Error& e) {
      throw UsageError(e.what());
    }
    exit_code = 0;
  });
}

void add_sample_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<SampleArgs>();
  auto* cmd = app.add_subcommand("sample", "Print examples of a task or a file dataset, with their distances");
  auto* task = cmd->add_option("--task", a->task, "Task name (see `attnlab tasks`)");
  auto* dir = cmd->add_option("--data-dir", a->data_dir, "Directory holding train.tsv, valid.tsv and test.tsv");
  dir->excludes(task);
  auto* text = cmd->add_option("--data-text", a->data_text, "A text file, as a character-level language-model corpus");
  text->excludes(task)->excludes(dir);
  cmd->add_option("--block", a->block, "--data-text: tokens per window")->check(CLI::Range(1, 1 << 20))->capture_default_str()->needs(text);
  cmd->add_option("--text-tokens", a->text_tokens, "--data-text: chars or words")
      ->check(CLI::IsMember({"chars", "words"}))
      ->capture_default_str()
      ->needs(text);
  cmd->add_option("--format", a->format, "seq2seq (source and target), or lm (one stream with labels, mask and distances)")
      ->check(CLI::IsMember({"seq2seq", "lm"}))
      ->capture_default_str();
  cmd->add_option("--loss-on", a->loss_on, "Format lm: labels on the target only, or on everything")
      ->check(CLI::IsMember({"target", "all"}))
      ->capture_default_str();
  cmd->add_option("--task-opt", a->task_opts, "Set a knob for train and valid: NAME=VALUE (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->needs(task);
  cmd->add_option("--test-task-opt", a->test_task_opts,
                  "Override a knob for the test split only: NAME=VALUE (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->needs(task);
  cmd->add_option("-n,--count", a->n, "Number of examples to print")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--split", a->split, "Which split: train, valid or test")
      ->check(CLI::IsMember({"train", "valid", "test"}))
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Data seed (the split streams derive from it)")->capture_default_str();
  cmd->add_flag("--json", a->json, "Print JSON (tokens as strings) instead of text");
  cmd->footer(
      "Examples:\n"
      "  attnlab sample --task copy-memory --task-opt delay=20 -n 2\n"
      "  attnlab sample --task parity --test-task-opt length=40 --split test\n"
      "  attnlab sample --data-dir mydata --split valid --json\n"
      "  attnlab sample --task copy-memory --task-opt delay=5 --format lm -n 1\n"
      "  attnlab sample --data-text input.txt --block 32 -n 1\n");
  cmd->callback([a, &exit_code] {
    try {
      run_sample(*a);
    } catch (const data::Error& e) {
      throw UsageError(e.what());  // bad task, knob or data file: the user's input
    }
    exit_code = 0;
  });
}

}  // namespace attn::cli
