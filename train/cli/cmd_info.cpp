#include <fmt/core.h>

#include <cstdlib>

#include "autograd/blas.hpp"
#include "autograd/isa.hpp"
#include "train/cli/cli.hpp"

namespace attn::cli {

void add_info_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("info", "Print the BLAS core in use, thread counts and build facts");
  cmd->callback([&exit_code] {
    const BlasInfo b = blas_info();
    const char* want = std::getenv("ATTNLAB_ISA");
    fmt::print("isa: {}\nATTNLAB_ISA: {}\nblas_core: {}\nOPENBLAS_CORETYPE: {}\nblas_threads: {}\nomp_threads: {}\nblas_config: {}\n",
               isa_name(), want ? want : "(unset)", b.core, b.coretype.empty() ? "(unset)" : b.coretype, b.threads,
               b.omp_threads, b.config);
    exit_code = 0;
  });
}

}  // namespace attn::cli
