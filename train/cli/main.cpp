// attnlab: one executable, one subcommand per job.
#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <thread>

#include "autograd/blas.hpp"
#include "autograd/ops.hpp"
#include "autograd/isa.hpp"
#include "autograd/shape.hpp"
#include "train/cli/cli.hpp"
#include "train/distributed.hpp"
#include "train/errors.hpp"
#include "train/printable.hpp"

using attn::cli::printable;

#ifndef ATTNLAB_VERSION
#define ATTNLAB_VERSION "dev"
#endif

namespace {

// Under mpirun a bad flag or config fails on every rank alike, and the root's report and abort
// suffice: another rank waits 2 s for that abort to end it, and reports its error only when it
// was its own (a state file it alone could not read, say). Any other failure names its rank.
bool reports_usage_errors() {
  if (attn::Ranks::world().root()) return true;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  return true;
}
std::string who() {
  const attn::Ranks& r = attn::Ranks::world();
  return r.many() ? fmt::format("attnlab (rank {})", r.rank()) : "attnlab";
}

int run_command(int argc, char** argv) {
  // Only a training run (and bench, which times its step) splits its work over the ranks; any
  // other command would run N times over the same files.
  if (attn::Ranks::world().many() && (argc < 2 || (std::string(argv[1]) != "train" && std::string(argv[1]) != "bench"))) {
    if (attn::Ranks::world().root())
      fmt::print(stderr, "attnlab: error: only `attnlab train` and `attnlab bench` run under mpirun\n");
    return 2;
  }
  CLI::App app{"attnlab: a laboratory for how sequence models learn long-range dependencies"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] {
    const attn::BlasInfo b = attn::blas_info();
    return fmt::format("attnlab {}\nkernels: {} (ATTNLAB_ISA={})\nBLAS: OpenBLAS core {} (OPENBLAS_CORETYPE={}), {} threads\n{}",
                       ATTNLAB_VERSION, attn::isa_name(), std::getenv("ATTNLAB_ISA") ? std::getenv("ATTNLAB_ISA") : "unset",
                       b.core, b.coretype.empty() ? "unset" : b.coretype, b.threads, b.config);
  });
  attn::cli::set_arguments(std::vector<std::string>(argv + 1, argv + argc));
  int exit_code = 0;
  attn::cli::add_info_command(app, exit_code);
  attn::cli::add_gradcheck_command(app, exit_code);
  attn::cli::add_tasks_command(app, exit_code);
  attn::cli::add_sample_command(app, exit_code);
  attn::cli::add_train_command(app, exit_code);
  attn::cli::add_eval_command(app, exit_code);
  attn::cli::add_predict_command(app, exit_code);
  attn::cli::add_sweep_command(app, exit_code);
  attn::cli::add_study_command(app, exit_code);
  attn::cli::add_bench_command(app, exit_code);
  attn::cli::add_models_command(app, exit_code);
  attn::cli::add_report_command(app, exit_code);
  attn::cli::add_state_plot_command(app, exit_code);
  attn::cli::add_probe_command(app, exit_code);
  try {
    attn::attention_kernel_from_env();
  } catch (const attn::Error& e) {
    fmt::print(stderr, "attnlab: error: {}\n", printable(e.what()));
    return 2;
  }
  // CLI11 reports an unknown first word as a missing subcommand; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    try {
      app.get_subcommand_ptr(std::string(argv[1]));
    } catch (const CLI::OptionNotFound&) {
      fmt::print(stderr, "attnlab: error: unknown command '{}'; see attnlab --help\n", printable(argv[1]));
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (reports_usage_errors()) fmt::print(stderr, "attnlab: error: {}\n", printable(e.what()));
    return 2;
  } catch (const attn::cli::UsageError& e) {
    if (reports_usage_errors()) fmt::print(stderr, "attnlab: error: {}\n", printable(e.what()));
    return 2;
  } catch (const attn::ConfigError& e) {
    if (reports_usage_errors()) fmt::print(stderr, "attnlab: error: {}\n", printable(e.what()));
    return 2;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "{}: error: out of memory (an allocation failed); try a smaller model, batch or sequence, "
                       "or see --max-memory\n", who());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: error: {}\n", who(), printable(e.what()));
    return 1;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  attn::ensure_fast_blas();  // may re-exec this process, so it comes before MPI starts
  attn::start_ranks(argc, argv);
  return attn::finish_ranks(run_command(argc, argv));
}
