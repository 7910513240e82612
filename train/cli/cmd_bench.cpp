// `attnlab bench`: times training steps of the reference's encoder-decoder Transformer, with
// the flags and JSON keys of bench/torch_train_step.py (the PyTorch yardstick), or with --arch gpt
// those of the decoder-only model of bench/torch_gpt_step.py; plus model FLOPs and the machine's
// sgemm peak measured in a child process (so it stays out of peak RSS).
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "autograd/blas.hpp"
#include "autograd/ops.hpp"
#include "models/family.hpp"
#include "train/cli/bench.hpp"
#include "train/cli/cli.hpp"
#include "train/cli/options.hpp"
#include "train/distributed.hpp"
#include "train/evaluate.hpp"
#include "train/step.hpp"

namespace attn::cli {

namespace {

struct BenchArgs {
  std::string model = default_model_family(), arch = "encoder-decoder";
  int64_t seq_len = 64;  // --arch gpt
  FieldValues model_fields;  // as given; the family's defaults fill the rest
  int64_t batch = 32, src_len = 64, tgt_len = 64, vocab = 16, accumulate = 1;
  int steps = 30, warmup = 3, threads = 2;
  double clip_norm = 0.0;  // the PyTorch yardstick does not clip
  uint64_t seed = 0;
  bool no_peak = false;
  bool gemm_profile = false;
  bool memory_profile = false;
  std::string attention_kernel;  // auto | whole | tiled; empty: as set (ATTNLAB_ATTENTION, else auto)
  std::string attention_blocks;           // QxK: the tiled kernel's blocks (default: the library's)
};

// --attention-kernel and --attention-blocks, checked, applied before anything runs.
void apply_attention_kernel(const BenchArgs& a) {
  AttentionKernel k = attention_kernel();
  if (!a.attention_kernel.empty()) {
    try {
      k.kind = parse_attention_kernel(a.attention_kernel, "--attention-kernel");
    } catch (const Error& e) {
      throw UsageError(e.what());
    }
  }
  if (!a.attention_blocks.empty()) {
    long long qb = 0, kb = 0;
    char extra = 0;
    if (std::sscanf(a.attention_blocks.c_str(), "%lldx%lld%c", &qb, &kb, &extra) != 2 || qb < 1 || kb < 1)
      throw UsageError(fmt::format("--attention-blocks '{}': want QxK, two positive block sizes (e.g. 64x256)",
                                   a.attention_blocks));
    k.q_block = qb, k.k_block = kb;
  }
  set_attention_kernel(k);
}

using Clock = std::chrono::steady_clock;

// sgemm GFLOP/s on large square products, best of several, in a child process.
double sgemm_peak(int threads) {
  int fd[2];
  if (pipe(fd) != 0) return 0;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    set_num_threads(threads);
    const int64_t n = 1536;
    std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n, 0.0f);
    double best = 0;
    for (int r = 0; r < 6; ++r) {
      const auto t = Clock::now();
      gemm<float>(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
      const double s = std::chrono::duration<double>(Clock::now() - t).count();
      best = std::max(best, 2.0 * n * n * n / s / 1e9);
    }
    if (write(fd[1], &best, sizeof best) != (ssize_t)sizeof best) _exit(1);
    _exit(0);
  }
  close(fd[1]);
  double v = 0;
  if (read(fd[0], &v, sizeof v) != (ssize_t)sizeof v) v = 0;
  close(fd[0]);
  waitpid(pid, nullptr, 0);
  return v;
}

template <class F>
auto as_usage_error(F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Under mpirun: the step's time in collectives (waiting for the slower rank included), and one
// allreduce of the gradients' size timed alone after a barrier, which is the transfer itself.
nlohmann::json communication_json(const Ranks& ranks, const Seq2SeqModel<float>& model, const std::vector<double>& steps,
                                  const std::vector<double>& in_step) {
  std::vector<float> flat((size_t)model.num_parameters(), 1.0f);
  std::vector<double> alone;
  for (int i = 0; i < 20; ++i) {
    ranks.barrier();
    const double c0 = ranks.communication_seconds();
    ranks.sum(flat.data(), flat.size());
    alone.push_back(ranks.communication_seconds() - c0);
  }
  const double step = median_of(steps), comm = median_of(in_step);
  return {{"ranks", ranks.size()},
          {"gradient_bytes", flat.size() * sizeof(float)},
          {"communication_ms_per_step_median", 1e3 * comm},
          {"communication_share", comm / step},
          {"allreduce_ms_alone_median", 1e3 * median_of(alone)},
          {"allreduce_share_alone", median_of(alone) / step}};
}

// The reference's copy batch: random tokens in [2, vocab); decoder input shifted behind 1.
data::Batch reference_batch(const BenchArgs& a) {
  Rng rng(a.seed + 1);
  data::Batch b;
  b.B = (int)a.batch;
  b.src_len = (int)a.src_len;
  b.tgt_len = (int)a.tgt_len;
  for (int64_t i = 0; i < a.batch * a.src_len; ++i) b.src.push_back(2 + (int)rng.below(a.vocab - 2));
  for (int64_t i = 0; i < a.batch; ++i)
    for (int64_t t = 0; t < a.tgt_len; ++t)
      b.tgt_out.push_back(t < a.src_len ? b.src[i * a.src_len + t] : 2 + (int)rng.below(a.vocab - 2));
  for (int64_t i = 0; i < a.batch; ++i)
    for (int64_t t = 0; t < a.tgt_len; ++t) b.tgt_in.push_back(t == 0 ? 1 : b.tgt_out[i * a.tgt_len + t - 1]);
  b.src_pad.assign(b.src.size(), 0);
  b.tgt_pad.assign(b.tgt_in.size(), 0);
  b.src_lengths.assign(b.B, b.src_len);
  b.tgt_lengths.assign(b.B, b.tgt_len - 1);
  return b;
}

// The decoder-only yardstick's batch: random tokens, each position labelled with the next one.
// Ids start after the specials so that no label is PAD (the loss covers every position).
data::Batch stream_batch(const BenchArgs& a) {
  Rng rng(a.seed + 1);
  data::Batch b;
  b.B = (int)a.batch;
  b.len = (int)a.seq_len;
  b.src_len = b.len;
  b.tgt_len = 1;
  const int first = data::Vocab::NUM_SPECIAL;
  for (int64_t i = 0; i < a.batch; ++i) {
    std::vector<int> seq;
    for (int64_t t = 0; t <= a.seq_len; ++t) seq.push_back(first + (int)rng.below(a.vocab - first));
    b.tokens.insert(b.tokens.end(), seq.begin(), seq.end() - 1);
    b.labels.insert(b.labels.end(), seq.begin() + 1, seq.end());
  }
  b.src = b.tokens;
  b.src_pad.assign(b.src.size(), 0);
  b.tgt_in.assign(b.B, data::Vocab::BOS);
  b.tgt_out.assign(b.B, data::Vocab::EOS);
  b.tgt_pad.assign(b.B, 0);
  b.label_distance.assign(b.tokens.size(), -1);
  b.src_lengths.assign(b.B, b.len);
  b.tgt_lengths.assign(b.B, 0);
  b.stream_lengths.assign(b.B, b.len);
  return b;
}

// Each yardstick (--arch) and the task format of the models it times. A table rather than
// comparisons: "gpt" names the yardstick here, and a family too, whose name only its own file
// may compare (tests/models/test_registry.cpp).
const std::map<std::string, std::string>& yardstick_formats() {
  static const std::map<std::string, std::string> m = {{"encoder-decoder", "seq2seq"}, {"gpt", "lm"}};
  return m;
}
bool times_streams(const BenchArgs& a) { return yardstick_formats().at(a.arch) == "lm"; }

// The first registered family that trains on `format`: --arch's model when --model is not given.
std::string first_family_of(const std::string& format) {
  for (const ModelFamily* f : model_families())
    if (f->caps.formats.at(0) == format) return f->name;
  throw UsageError(fmt::format("bench: no registered model family trains on format {}", format));
}

// The PyTorch yardstick's config keys, then the family's other fields.
nlohmann::json bench_config_json(const BenchArgs& a, const ModelConfig& c) {
  nlohmann::json j = c.to_json();
  for (const char* k : {"type", "src_vocab", "tgt_vocab"}) j.erase(k);
  j.update({{"model", a.model}, {"batch", a.batch}, {"vocab", a.vocab}, {"steps", a.steps}, {"warmup", a.warmup},
            {"threads", a.threads}, {"seed", a.seed}, {"accumulate", a.accumulate}, {"clip_norm", a.clip_norm}});
  if (times_streams(a)) j["seq_len"] = a.seq_len;
  else j.update({{"src_len", a.src_len}, {"tgt_len", a.tgt_len}});
  return j;
}

int run_bench(BenchArgs a) {
  apply_attention_kernel(a);
  if (a.batch < 1 || a.src_len < 1 || a.tgt_len < 1 || a.seq_len < 1 || a.vocab < 3 || a.steps < 1 || a.warmup < 0 ||
      a.threads < 1 || a.accumulate < 1 || a.accumulate > a.batch)
    throw UsageError("bench: sizes, --steps and --threads must be positive, --vocab at least 3, --accumulate in 1..--batch");
  const bool stream = times_streams(a);
  const std::string format = yardstick_formats().at(a.arch);
  const std::vector<std::string> formats = as_usage_error([&] { return model_family(a.model).caps.formats; });
  if (std::find(formats.begin(), formats.end(), format) == formats.end())
    throw UsageError(fmt::format("bench --arch {} times a{} model; --model {} takes {}", a.arch,
                                 stream ? " language (lm)" : "n encoder-decoder (seq2seq)", a.model,
                                 fmt::join(formats, ", ")));
  if (stream && a.vocab <= data::Vocab::NUM_SPECIAL)
    throw UsageError(fmt::format("bench --arch gpt: --vocab must exceed the {} special tokens", data::Vocab::NUM_SPECIAL));
  set_num_threads(a.threads);
  // Under mpirun the ranks split each batch and sum their gradients (train/step.hpp); the peak
  // probe forks, which MPI processes must not, and the profiles time one process alone.
  const Ranks& ranks = Ranks::world();
  if (ranks.many() && (a.gemm_profile || a.memory_profile))
    throw UsageError("bench under mpirun times the step alone; drop --gemm-profile and --memory-profile");
  const double peak = a.no_peak || ranks.many() ? 0.0 : sgemm_peak(a.threads);
  ModelConfig c = as_usage_error([&] {
    ModelConfig m = ModelConfig::defaults(a.model);
    m.src_vocab = m.tgt_vocab = a.vocab;
    m.format = format;
    for (const auto& [k, v] : a.model_fields) m.set(k, v);
    DataShape shape{(size_t)a.vocab, (size_t)a.src_len, (size_t)a.tgt_len - 1};
    if (stream) shape = DataShape{(size_t)a.vocab, (size_t)a.seq_len, 0, (size_t)a.seq_len};
    model_family(a.model).fit_to_data(m, shape);
    m.validate();
    return m;
  });
  auto model_ptr = make_model<float>(c, a.seed);
  Seq2SeqModel<float>& model = *model_ptr;
  OptimConfig oc;
  oc.lr = 1e-3;
  Optimizer opt(oc, model.named_parameters());
  const data::Batch batch = stream ? stream_batch(a) : reference_batch(a);
  const SeqBatch b = to_seq_batch(batch);
  const StepSettings settings{a.accumulate, a.clip_norm, 0.0, false, &ranks};
  Graph<float> g;
  // The timed span is train's own step (train/step.hpp): zero the gradients, forward, loss,
  // backward, clip, update.
  std::vector<double> times, comm_times;
  double final_loss = 0;
  for (int i = 0; i < a.warmup + a.steps; ++i) {
    const auto t0 = Clock::now();
    const double c0 = ranks.communication_seconds();
    final_loss = train_step(model, opt, g, batch, settings, 1e-3).loss;
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (i >= a.warmup) {
      times.push_back(dt);
      comm_times.push_back(ranks.communication_seconds() - c0);
    }
  }
  const nlohmann::json comm = ranks.many() ? communication_json(ranks, model, times, comm_times) : nlohmann::json();
  // One more step with every gemm timed by shape, then each shape alone with cblas_sgemm.
  nlohmann::json shapes = nlohmann::json::array();
  if (a.gemm_profile) {
    set_gemm_profiling(true);
    train_step(model, opt, g, batch, settings, 1e-3);
    const std::vector<GemmShapeStat> stats = gemm_profile();
    set_gemm_profiling(false);
    double total = 0;
    for (const auto& st : stats) total += st.in_parallel ? st.seconds / a.threads : st.seconds;
    for (const auto& st : stats) {
      const double flop = 2.0 * st.m * st.n * st.k;
      set_num_threads(st.in_parallel ? 1 : a.threads);
      std::vector<float> A(st.m * st.k, 0.5f), Bm(st.k * st.n, 0.25f), C(st.m * st.n, 0.0f);
      int reps = 0;
      const auto t0 = Clock::now();
      double el = 0;
      do {
        gemm<float>(st.trans_a, st.trans_b, st.m, st.n, st.k, 1.0f, A.data(), st.trans_a ? st.m : st.k, Bm.data(),
                    st.trans_b ? st.k : st.n, 0.0f, C.data(), st.n);
        ++reps;
        el = std::chrono::duration<double>(Clock::now() - t0).count();
      } while (el < 0.02 || reps < 3);
      set_num_threads(a.threads);
      shapes.push_back({{"op", fmt::format("{}{}", st.trans_a ? "T" : "N", st.trans_b ? "T" : "N")},
                        {"m", st.m}, {"n", st.n}, {"k", st.k}, {"calls", st.calls},
                        {"threads", st.in_parallel ? 1 : a.threads},
                        {"share_of_gemm_time", (st.in_parallel ? st.seconds / a.threads : st.seconds) / total},
                        {"gflop_per_s_in_step", flop * st.calls / st.seconds / 1e9},
                        {"gflop_per_s_alone", flop * reps / el / 1e9}});
    }
  }
  // One more step, with the graph's memory taken apart: activation values by op, the other
  // saved state, and the most gradient memory alive at once.
  nlohmann::json memory;
  if (a.memory_profile) {
    model.zero_grad();
    g.reset();
    Tensor<float> loss = cross_entropy(model.forward(g, b), batch.targets());
    std::map<std::string, double> by_op;
    double values = 0;
    for (uint32_t i = 0; i < g.num_nodes(); ++i) {
      const Node<float>& n = g.node(i);
      if (n.aliased) continue;
      const double mb = n.shape.numel() * sizeof(float) / 1048576.0;
      by_op[n.op->name] += mb;
      values += mb;
    }
    const double after_forward = g.arena().bytes_in_use() / 1048576.0;
    g.backward(loss);
    opt.step(1e-3);
    memory = {{"values_mb", values},
              {"values_mb_by_op", by_op},
              {"other_saved_state_mb", after_forward - values},
              {"grad_peak_mb", g.grad_bytes_peak() / 1048576.0},
              {"arena_after_backward_mb", g.arena().bytes_in_use() / 1048576.0},
              {"arena_capacity_mb", g.arena().capacity() / 1048576.0},
              {"parameters_mb", model.num_parameters() * sizeof(float) / 1048576.0}};
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                          : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const ModelFamily& family = model_family(a.model);
  // A stream is one sequence: its length stands as the source length, with no target.
  const StepSize size = stream ? StepSize{(double)a.batch, (double)a.seq_len, 0.0, (double)a.threads}
                               : StepSize{(double)a.batch, (double)a.src_len, (double)a.tgt_len, (double)a.threads};
  const double gflop = family.forward_flops ? 3 * family.forward_flops(c, size) / 1e9 : 0.0;
  auto env = [](const char* k) {
    const char* v = std::getenv(k);
    return std::string(v ? v : "");
  };
  nlohmann::json j = {
      {"impl", "attnlab-0.1.0"},
      {"threads", a.threads},
      {"params", model.num_parameters()},
      {"ms_per_step_median", 1e3 * median},
      {"ms_per_step_min", 1e3 * sorted.front()},
      {"final_loss", final_loss},
      {"tokens_per_s", a.batch * (stream ? a.seq_len : a.tgt_len) / median},
      {"peak_rss_mb", ru.ru_maxrss / 1024.0},
      {"model_gflop_per_step", gflop},
      {"gflop_per_s", gflop / median},
      {"sgemm_peak_gflop_per_s", peak},
      {"mfu", peak > 0 ? gflop / median / peak : 0.0},
      {"blas_core", blas_info().core},
      {"attention_kernel", {{"kind", attention_kernel_name(attention_kernel().kind)},
                            {"q_block", attention_kernel().q_block}, {"k_block", attention_kernel().k_block}}},
      {"gemm_shapes", shapes},
      {"memory", memory},
      {"env", {{"OMP_NUM_THREADS", env("OMP_NUM_THREADS")}, {"OPENBLAS_NUM_THREADS", env("OPENBLAS_NUM_THREADS")},
               {"OPENBLAS_CORETYPE", env("OPENBLAS_CORETYPE")}, {"OMP_WAIT_POLICY", env("OMP_WAIT_POLICY")}}},
      {"config", bench_config_json(a, c)}};
  if (ranks.many()) j["mpi"] = comm;
  if (a.gemm_profile) j["gemm_ceiling"] = gemm_ceiling_json(shapes, gflop, peak, a.threads);
  if (ranks.root()) fmt::print("{}\n", j.dump());
  return 0;
}

}  // namespace

nlohmann::json gemm_ceiling_json(const nlohmann::json& shapes, double model_gflop, double peak, int64_t threads) {
  double seconds = 0;
  for (const auto& x : shapes) {
    const double flop = 2.0 * x["m"].get<double>() * x["n"].get<double>() * x["k"].get<double>() * x["calls"].get<double>();
    seconds += flop / (x["gflop_per_s_alone"].get<double>() * 1e9) / (x["threads"] == 1 ? (double)threads : 1.0);
  }
  return {{"ms", 1e3 * seconds}, {"mfu", peak > 0 && seconds > 0 ? model_gflop / seconds / peak : 0.0}};
}

void add_bench_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand(
      "bench", "Time training steps of the reference encoder-decoder Transformer (same flags and JSON keys as\n"
               "bench/torch_train_step.py); see bench/compare for the side-by-side run");
  auto* model = cmd->add_option("--model", a->model, "Model family (see `attnlab models`)")->capture_default_str();
  cmd->add_option("--arch", a->arch,
                  "The yardstick to match: encoder-decoder (bench/torch_train_step.py) or gpt\n"
                  "(bench/torch_gpt_step.py: a stream of --seq-len tokens, the loss at every position)")
      ->check(CLI::IsMember(yardstick_formats()))
      ->capture_default_str();
  cmd->add_option("--seq-len", a->seq_len, "--arch gpt: tokens per sequence")->capture_default_str();
  add_model_field_options(*cmd, a->model_fields);
  cmd->add_option("--batch", a->batch, "Batch size")->capture_default_str();
  cmd->add_option("--src-len", a->src_len, "Source length")->capture_default_str();
  cmd->add_option("--tgt-len", a->tgt_len, "Target length")->capture_default_str();
  cmd->add_option("--vocab", a->vocab, "Vocabulary size")->capture_default_str();
  cmd->add_option("--accumulate", a->accumulate, "Micro-batches per step")->capture_default_str();
  cmd->add_option("--clip-norm", a->clip_norm, "Clip the gradient norm (0: off, as the PyTorch yardstick)")
      ->capture_default_str();
  cmd->add_option("--steps", a->steps, "Timed steps")->capture_default_str();
  cmd->add_option("--warmup", a->warmup, "Untimed steps first")->capture_default_str();
  cmd->add_option("--threads", a->threads, "Threads")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed")->capture_default_str();
  cmd->add_flag("--no-peak", a->no_peak, "Skip the sgemm peak probe");
  cmd->add_flag("--gemm-profile", a->gemm_profile,
                "After the timed steps, time one step's gemm calls by shape and each shape alone (keys gemm_shapes, gemm_ceiling)");
  cmd->add_flag("--memory-profile", a->memory_profile,
                "After the timed steps, break one step's graph memory down by op (key memory)");
  cmd->add_option("--attention-kernel", a->attention_kernel,
                  fmt::format("auto | whole | tiled: attention's kernel (default: ATTNLAB_ATTENTION, else auto: tiled from {} "
                              "keys on, {} when causal)", attention_kernel().min_keys, attention_kernel().min_causal_keys));
  cmd->add_option("--attention-blocks", a->attention_blocks,
                  fmt::format("QxK: the tiled kernel's blocks of queries and keys (default {}x{})", attention_kernel().q_block,
                              attention_kernel().k_block));
  cmd->callback([a, model, &exit_code] {
    BenchArgs args = *a;
    if (model->count() == 0) args.model = first_family_of(yardstick_formats().at(args.arch));  // the yardstick's
    exit_code = run_bench(args);
  });
}

}  // namespace attn::cli
