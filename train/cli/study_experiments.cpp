// The headline study's sweeps (docs/study.md says why each is set as it is):
// - e0-gpt-positions: gpt's position encoding, chosen once on validation;
// - e1-copy-memory, e1-lstm-width: copy memory in one stream (Arjovsky et al. 2016's layout);
// - e2-mqar-d64, e2-mqar-d128: multi-query associative recall (Zoology's Figure 2, scaled);
// - e3-selective-copy: Mamba against its time-invariant ablation (Mamba's Table 1, scaled);
// - e2-mqar-budget, e3-selective-copy-budget: E2 and E3 at 6x the steps (is it the budget?);
// - e5-length-generalisation: Delétang et al. 2023's counter-cases, trained short, tested long;
// - e6-copy, e6-copy-memory: gpt's position encodings beyond the trained lengths;
// - copy-memory, associative-recall: the encoder-decoder setting (E4).
#include <fmt/core.h>

#include <fstream>

#include "train/cli/cli.hpp"
#include "train/cli/study.hpp"

namespace attn::cli {

namespace {

const char* const kTuningGrid = "0.0001,0.0003,0.001,0.003";
const char* const kPositions[] = {"learned", "sinusoidal", "rope", "alibi", "none"};
// Chrono init's T_max: the longest dependency of E1's grid, delay 256 plus the 10 symbols.
const char* const kChrono = "lstm-chrono=lstm:chrono-init=266";

// Settings every sweep shares: one budget for every model, tuning or rates from --lr-from.
SweepArgs base(const StudyArgs& s, const std::string& name, const std::string& task) {
  SweepArgs a;
  a.train.task = task;
  a.train.batch = 32;
  a.train.steps = s.quick ? 300 : 500;
  a.train.eval_every = 250;
  a.train.eval_examples = s.quick ? 300 : 500;
  a.train.threads = s.threads;
  a.seeds = s.quick ? 1 : 5;
  if (!s.lr_from.empty()) {
    a.lr_from = s.lr_from + "/" + name + "/tuning.json";
  } else {
    a.tune_lr = kTuningGrid;
    a.tune_seeds = s.quick ? 1 : 2;
  }
  a.jobs = s.jobs;
  a.shard = s.shard;
  a.out = s.out + "/" + name;
  a.plan = s.plan;
  a.max_hours = s.max_hours;
  return a;
}

// No tuning of its own: the rates another sweep of the study tuned. A plan made before that sweep
// has tuned runs without them, since a step's time does not depend on the rate.
void rates_from(SweepArgs& a, const StudyArgs& s, const std::string& tuned_sweep) {
  a.tune_lr.clear();
  a.lr_from = (s.lr_from.empty() ? s.out : s.lr_from) + "/" + tuned_sweep + "/tuning.json";
  if (s.plan && !std::ifstream(a.lr_from)) a.lr_from.clear();
}

// E4: transformer, lstm and lstm-attn against distance, encoder-decoder.
SweepArgs encoder_decoder(const StudyArgs& s, const std::string& task, const std::string& knob) {
  SweepArgs a = base(s, task, task);
  a.models = "transformer,lstm,lstm-attn";
  a.train.model_fields["hidden"] = int64_t(128);
  // Sinusoidal positions: with learned ones the Transformer must also learn a position table
  // from N(0, 0.02^2) within the budget, and fails past delay 128 for that reason (docs/study.md).
  a.train.model_fields["pos"] = std::string("sinusoidal");
  // Multi-query recall small enough to be learned within the budget: 4 pairs over 16 keys and
  // 16 values, every key queried (chance 1/16 per token).
  if (task == "associative-recall") a.train.task_opt = {"pairs=4", "queries=4", "keys=16", "values=16"};
  a.vary = knob + (s.quick ? "=16,64,256" : "=16,32,64,128,256,512");
  return a;
}

// Copy memory in Arjovsky et al.'s one stream, a label at every position.
SweepArgs copy_memory_stream(const StudyArgs& s, const std::string& name) {
  SweepArgs a = base(s, name, "copy-memory");
  a.train.task_opt = {"layout=aligned"};
  a.train.format = "lm";
  return a;
}

// gpt with each position encoding, as variants named gpt-<encoding>.
void gpt_position_variants(SweepArgs& a, std::vector<std::string>& names) {
  for (const char* p : kPositions) {
    names.push_back(fmt::format("gpt-{}", p));
    a.variants.push_back(fmt::format("gpt-{}=gpt:pos={}", p, p));
  }
}

// E0: each position encoding a variant of gpt, tuned on validation at delay 64 and not run further.
SweepArgs gpt_positions(const StudyArgs& s) {
  SweepArgs a = copy_memory_stream(s, "e0-gpt-positions");
  std::vector<std::string> names;
  gpt_position_variants(a, names);
  a.models = join(names, ",");
  a.vary = "delay=64";
  a.tune_only = true;
  a.lr_from.clear();
  a.tune_lr = kTuningGrid;
  a.tune_seeds = 2;
  return a;
}

// The encoding E0 chose: the variant whose chosen rate scored highest on validation (ties to
// the lower loss); empty when E0 has not run.
std::string chosen_position(const std::string& dir) {
  std::ifstream in(dir + "/e0-gpt-positions/tuning.json");
  if (!in) return "";
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("models")) throw UsageError(fmt::format("study: {}/e0-gpt-positions/tuning.json is not a tuning file", dir));
  std::string best;
  double best_acc = -1, best_loss = 0;
  for (const char* p : kPositions) {
    const std::string m = fmt::format("gpt-{}", p);
    if (!j["models"].contains(m)) continue;
    for (const auto& t : j["models"][m]["trials"]) {
      if (t["lr"] != j["models"][m]["chosen_lr"]) continue;
      const double acc = t["val_sequence_accuracy"], loss = t["val_loss"];
      if (acc > best_acc || (acc == best_acc && loss < best_loss)) best = p, best_acc = acc, best_loss = loss;
    }
  }
  return best;
}

// E1: gpt (its chosen encoding), the LSTM with and without chrono init, GRU and Mamba.
SweepArgs e1_copy_memory(const StudyArgs& s, const std::string& pos) {
  SweepArgs a = copy_memory_stream(s, "e1-copy-memory");
  a.models = "gpt,lstm-chrono,lstm,gru,mamba";
  a.variants = {kChrono};
  a.train.model_fields["pos"] = pos;
  a.train.model_fields["hidden"] = int64_t(128);
  a.vary = s.quick ? "delay=16,64" : "delay=16,64,256";
  return a;
}

// E1's width axis: is the LSTM just small? At delay 256, with E1's tuned rate.
SweepArgs e1_lstm_width(const StudyArgs& s) {
  SweepArgs a = copy_memory_stream(s, "e1-lstm-width");
  a.models = "lstm-chrono";
  a.variants = {kChrono};
  a.train.task_opt.push_back("delay=256");
  a.vary = "hidden=64,128,256";
  rates_from(a, s, "e1-copy-memory");
  return a;
}

// The one-stream sweeps E2 and E3 tune on 3 rates and 1 seed (E1 chose 1e-3 or 3e-3 for every
// model), to fit the study's 3 hours.
void short_tuning(SweepArgs& a) {
  if (a.tune_lr.empty()) return;
  a.tune_lr = "0.0003,0.001,0.003";
  a.tune_seeds = 1;
}

// E2: MQAR in Zoology's one stream (the value is the label at its query), each family at width
// d as a variant, so accuracy can be read against state size. The vocabulary is scaled from
// Zoology's 8192 to 512: an output layer over 8192 tokens at every position would cost most of
// the budget. Width 128 runs at the two shorter cells only (docs/study.md).
SweepArgs e2_mqar(const StudyArgs& s, const std::string& pos, int d) {
  SweepArgs a = base(s, fmt::format("e2-mqar-d{}", d), "mqar");
  a.train.format = "lm";
  a.train.task_opt = {"vocab=512"};
  a.variants = {fmt::format("gpt-d{}=gpt:pos={}:d-model={}:ff={}", d, pos, d, 4 * d),
                fmt::format("lstm-chrono-h{}=lstm:hidden={}:chrono-init=256", d, d),
                fmt::format("gru-h{}=gru:hidden={}", d, d), fmt::format("mamba-d{}=mamba:d-model={}", d, d)};
  a.models = fmt::format("gpt-d{0},lstm-chrono-h{0},gru-h{0},mamba-d{0}", d);
  a.vary = s.quick || d > 64 ? "pairs:length=4:64,8:128" : "pairs:length=4:64,8:128,16:256";
  a.tune_at = "8:128";
  short_tuning(a);
  return a;
}

// E3: selective copy, 16 symbols among noise, written after the source; Mamba against its
// time-invariant ablation (--ssm-lti), gpt and the chrono LSTM.
SweepArgs e3_selective_copy(const StudyArgs& s, const std::string& pos) {
  SweepArgs a = base(s, "e3-selective-copy", "selective-copy");
  a.train.format = "lm";
  a.train.task_opt = {"symbols=16", "alphabet=16"};
  a.models = "gpt,mamba,mamba-lti,lstm-chrono";
  a.variants = {"mamba-lti=mamba:ssm-lti=true", "lstm-chrono=lstm:chrono-init=128"};
  a.train.model_fields["pos"] = pos;
  a.vary = s.quick ? "length=64" : "length=64,128";
  short_tuning(a);
  return a;
}

// E2 and E3 again at 6x the steps (3000 of batch 32), 3 seeds, at the rates they tuned on
// validation at 500 steps: is the budget why attention did not solve MQAR, and why Mamba's
// selection gave nothing on selective copy?
SweepArgs longer_budget(SweepArgs a, const StudyArgs& s, const std::string& name, const std::string& tuned) {
  a.out = s.out + "/" + name;
  a.train.steps = 3000;
  a.train.eval_every = 500;
  a.seeds = 3;
  rates_from(a, s, tuned);
  return a;
}

SweepArgs e2_mqar_budget(const StudyArgs& s, const std::string& pos) {
  SweepArgs a = longer_budget(e2_mqar(s, pos, 64), s, "e2-mqar-budget", "e2-mqar-d64");
  a.models = "gpt-d64,gru-h64,mamba-d64";
  a.vary = "pairs:length=4:64,8:128";
  return a;
}

SweepArgs e3_selective_copy_budget(const StudyArgs& s, const std::string& pos) {
  SweepArgs a = longer_budget(e3_selective_copy(s, pos), s, "e3-selective-copy-budget", "e3-selective-copy");
  a.models = "gpt,mamba,mamba-lti";
  a.vary = "length=64";
  return a;
}

// E5: Delétang et al. 2023's protocol, scaled: train on lengths 1-40 (each task's shortest
// allowed length up), test on 41-100, the seven tasks as one swept axis. Rates tuned on
// validation at parity and used for every task.
SweepArgs e5_length_generalisation(const StudyArgs& s) {
  SweepArgs a = base(s, "e5-length-generalisation", "parity");
  a.train.format = "lm";
  a.train.task_opt = {"length=40"};
  a.train.test_task_opt = {"min_length=41", "length=100"};
  a.train.model_fields["hidden"] = int64_t(128);
  std::vector<std::string> names;
  gpt_position_variants(a, names);
  a.variants.push_back("lstm-chrono=lstm:chrono-init=100");
  names.insert(names.end(), {"lstm-chrono", "gru", "mamba"});
  a.models = join(names, ",");
  a.vary = s.quick ? "task:min_length=parity:1,dyck:2"
                   : "task:min_length=parity:1,even-pairs:1,cycle-navigation:1,modular-arithmetic:1,"
                     "stack-manipulation:2,binary-addition:3,dyck:2";
  a.tune_at = "parity:1";
  short_tuning(a);
  return a;
}

// E6: gpt's position encodings trained at one length range and tested beyond it, at the rates
// E0 tuned for each encoding (copy memory, delay 64).
SweepArgs e6_positions(const StudyArgs& s, const std::string& name, const std::string& task) {
  SweepArgs a = base(s, name, task);
  a.train.format = "lm";
  std::vector<std::string> names;
  gpt_position_variants(a, names);
  a.models = join(names, ",");
  if (task == "copy") {
    a.train.task_opt = {"min_length=1"};
    a.train.test_task_opt = {"min_length=21", "length=40"};
    a.vary = "length=20";
  } else {
    a.train.task_opt = {"layout=aligned", "min_delay=8"};
    a.train.test_task_opt = {"min_delay=33", "delay=64"};
    a.vary = "delay=32";
  }
  rates_from(a, s, "e0-gpt-positions");
  return a;
}

}  // namespace

std::vector<StudySweep> study_sweeps(const StudyArgs& s) {
  std::vector<StudySweep> out;
  const std::string from = s.lr_from.empty() ? s.out : s.lr_from;
  if (s.lr_from.empty()) out.push_back({"e0-gpt-positions", "gpt's position encoding, chosen on validation", gpt_positions(s)});
  std::string pos = chosen_position(from);
  if (pos.empty()) {
    if (!s.plan && !s.lr_from.empty())
      throw UsageError(fmt::format("study: --lr-from {}: no e0-gpt-positions/tuning.json to take gpt's position encoding from", from));
    pos = "sinusoidal";  // a stand-in until E0 has run: the plan's times do not depend on it
  }
  out.push_back({"e1-copy-memory", fmt::format("E1, one stream; gpt with {} positions", pos), e1_copy_memory(s, pos)});
  if (!s.quick) out.push_back({"e1-lstm-width", "E1's width axis at delay 256", e1_lstm_width(s)});
  out.push_back({"e2-mqar-d64", fmt::format("E2, MQAR in one stream at width 64; gpt with {} positions", pos), e2_mqar(s, pos, 64)});
  if (!s.quick) out.push_back({"e2-mqar-d128", "E2 at width 128", e2_mqar(s, pos, 128)});
  out.push_back({"e3-selective-copy", "E3, selective copy; Mamba against its LTI ablation", e3_selective_copy(s, pos)});
  if (!s.quick) {
    out.push_back({"e2-mqar-budget", "E2 at 6x the steps: gpt, gru and mamba at width 64", e2_mqar_budget(s, pos)});
    out.push_back({"e3-selective-copy-budget", "E3 at 6x the steps: gpt, mamba and mamba-lti at length 64",
                   e3_selective_copy_budget(s, pos)});
  }
  out.push_back({"e5-length-generalisation", "E5, train on lengths up to 40, test on 41-100", e5_length_generalisation(s)});
  out.push_back({"e6-copy", "E6, position encodings beyond the trained lengths: copy", e6_positions(s, "e6-copy", "copy")});
  if (!s.quick)
    out.push_back({"e6-copy-memory", "E6 on copy memory: delays 8-32, tested at 33-64", e6_positions(s, "e6-copy-memory", "copy-memory")});
  out.push_back({"copy-memory", "E4, encoder-decoder", encoder_decoder(s, "copy-memory", "delay")});
  out.push_back({"associative-recall", "E4, encoder-decoder", encoder_decoder(s, "associative-recall", "gap")});
  return out;
}

std::vector<StudyFigure> study_figures(const StudyArgs& s) {
  std::vector<std::string> e2 = {"e2-mqar-d64"};
  if (!s.quick) e2.push_back("e2-mqar-d128");
  return {{"e2-mqar-state", e2}};
}

}  // namespace attn::cli
