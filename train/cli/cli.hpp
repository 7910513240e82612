// Shared pieces of the attnlab command line: error kinds and the subcommand registrations.
#pragma once
#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace attn::cli {

// Bad input from the user (flags, values, files): one line on stderr, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The process's arguments after the program name, which main() sets, for `--emit` to write the
// same command again (sweep_emit.cpp).
void set_arguments(std::vector<std::string> args);
const std::vector<std::string>& arguments();

// Each adds one subcommand to `app`; the callback runs it and sets the exit code through
// `exit_code`.
void add_info_command(CLI::App& app, int& exit_code);
void add_gradcheck_command(CLI::App& app, int& exit_code);
void add_tasks_command(CLI::App& app, int& exit_code);
void add_sample_command(CLI::App& app, int& exit_code);
void add_train_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_predict_command(CLI::App& app, int& exit_code);
void add_sweep_command(CLI::App& app, int& exit_code);
void add_study_command(CLI::App& app, int& exit_code);
void add_bench_command(CLI::App& app, int& exit_code);
void add_models_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);
void add_state_plot_command(CLI::App& app, int& exit_code);
void add_probe_command(CLI::App& app, int& exit_code);

}  // namespace attn::cli
