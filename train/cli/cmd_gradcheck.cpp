// `attnlab gradcheck`: the registered gradcheck cases, as a table or as JSON lines.
#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <set>

#include "autograd/gradcheck.hpp"
#include "models/gradcheck_cases.hpp"
#include "nn/gradcheck_cases.hpp"
#include "train/cli/cli.hpp"

namespace attn::cli {

namespace {

struct GradcheckArgs {
  std::vector<std::string> ops;
  bool json = false;
  bool list = false;
  uint64_t seed = 1;
};

// Models, modules, then ops: the order the listing has always had.
std::vector<GradCase> every_case() {
  std::vector<GradCase> all = model_cases(), nn = nn_cases(), ops = autograd_cases();
  all.insert(all.end(), nn.begin(), nn.end());
  all.insert(all.end(), ops.begin(), ops.end());
  return all;
}

int run_gradcheck(const GradcheckArgs& a) {
  const std::vector<GradCase> cases = every_case();
  std::set<std::string> known;
  for (const GradCase& c : cases) known.insert(c.op);
  for (const std::string& op : a.ops)
    if (!known.count(op)) {
      std::string all;
      for (auto& k : known) all += (all.empty() ? "" : ", ") + k;
      throw UsageError(fmt::format("gradcheck: unknown op '{}'; known: {}", op, all));
    }
  if (a.list) {
    for (const std::string& k : known) fmt::print("{}\n", k);
    return 0;
  }
  if (!a.json)
    fmt::print("{:<22} {:<24} {:>12} {:>12} {:>10} {:>10}  {}\n", "op", "case", "max_abs_err",
               "normwise_rel", "fwd_f64", "fwd_f32", "pass");
  int failed = 0, total = 0;
  for (const GradCase& c : cases) {
    if (!a.ops.empty() && std::find(a.ops.begin(), a.ops.end(), c.op) == a.ops.end()) continue;
    const CaseReport r = run_case(c, a.seed);
    ++total;
    failed += !r.passed;
    if (a.json) {
      nlohmann::json j = {{"name", r.op},
                          {"case", r.name},
                          {"max_abs_err", r.max_abs_err()},
                          {"normwise_rel_err", r.normwise_rel_err()},
                          {"passed", r.passed}};
      if (r.has_reference) {
        j["forward_err_f64"] = r.forward_err_f64;
        j["forward_err_f32"] = r.forward_err_f32;
        j["forward_bound_f32"] = r.forward_bound_f32;
      }
      if (!r.error.empty()) j["error"] = r.error;
      fmt::print("{}\n", j.dump());
    } else {
      auto fwd = [&](double e) { return r.has_reference ? fmt::format("{:.2e}", e) : std::string("-"); };
      fmt::print("{:<22} {:<24} {:>12.3e} {:>12.3e} {:>10} {:>10}  {}{}\n", r.op, r.name, r.max_abs_err(),
                 r.normwise_rel_err(), fwd(r.forward_err_f64), fwd(r.forward_err_f32),
                 r.passed ? "ok" : "FAIL", r.error.empty() ? "" : "  " + r.error);
    }
    std::fflush(stdout);
  }
  if (!a.json) fmt::print("{} passed, {} failed\n", total - failed, failed);
  return failed ? 1 : 0;
}

}  // namespace

void add_gradcheck_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<GradcheckArgs>();
  auto* cmd = app.add_subcommand(
      "gradcheck",
      "Check every op's (and module's) analytic gradient against float64 central differences,\n"
      "and every op's forward against a naive reference in float32 and float64.\n"
      "Exits 0 only when every case passes.");
  cmd->add_option("--op", args->ops, "Only these ops (repeatable); see --list");
  cmd->add_flag("--json", args->json,
                "One JSON object per case: name, case, max_abs_err, normwise_rel_err, passed");
  cmd->add_flag("--list", args->list, "List the checked ops and exit");
  cmd->add_option("--seed", args->seed, "Seed for the inputs and the upstream gradient")->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run_gradcheck(*args); });
}

}  // namespace attn::cli
