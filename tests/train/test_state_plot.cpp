#define BOOST_TEST_MODULE state_plot
#include "tests/common.hpp"

#include <fmt/core.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "tests/cli_runner.hpp"

using attn_test::attnlab;
using attn_test::slurp;
using attn_test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kE2 = std::string(ATTNLAB_SOURCE_DIR) + "/docs/study/protocol/e2-mqar-d64";
const std::string kE1 = std::string(ATTNLAB_SOURCE_DIR) + "/docs/study/protocol/e1-lstm-width";

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, sep);) out.push_back(f);
  return out;
}

// (model, cell) -> {sum of each seed's token accuracy, seeds, state floats}, read from results.csv.
std::map<std::pair<std::string, std::string>, std::array<double, 3>> cells_from_csv(const std::string& dir) {
  std::istringstream in(slurp(dir + "/results.csv"));
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> head = split(line, ',');
  auto col = [&](const std::string& name) { return size_t(std::find(head.begin(), head.end(), name) - head.begin()); };
  std::map<std::pair<std::string, std::string>, std::array<double, 3>> cells;
  while (std::getline(in, line)) {
    const auto f = split(line, ',');
    auto& c = cells[{f[0], f[1]}];
    c[0] += std::stod(f[col("test_token_accuracy")]);
    c[1] += 1;
    c[2] = std::stod(f[col("state_floats")]);
  }
  return cells;
}

}  // namespace

// Every (model, cell) of the sweep is a row whose accuracy is the mean over seeds in results.csv.
BOOST_AUTO_TEST_CASE(table_rows_match_the_sweeps_results) {
  TempDir t;
  const auto r = attnlab(fmt::format("state-plot --out '{}' '{}'", t / "s", kE2));
  BOOST_TEST_REQUIRE(r.code == 0, r.err);
  const std::string md = slurp(t / "s/report.md");
  const auto cells = cells_from_csv(kE2);
  BOOST_TEST(cells.size() == 12u);
  for (const auto& [key, c] : cells) {
    const std::string row = fmt::format("| {} | {} | {:.0f} |", key.second, key.first, c[1]);
    BOOST_TEST_INFO(row);
    const size_t at = md.find(row);
    BOOST_TEST_REQUIRE(at != std::string::npos);
    const auto f = split(md.substr(at, md.find('\n', at) - at), '|');
    BOOST_TEST(std::stod(f[5]) == c[2]);
    // Shown to 3 decimals: within half a unit of the last digit.
    BOOST_TEST(std::abs(std::stod(f[6]) - c[0] / c[1]) <= 0.0005 + 1e-9);
  }
  for (const char* cell : {"4-64", "8-128", "16-256"})
    BOOST_TEST(fs::file_size(t / fmt::format("s/token_accuracy_vs_state_{}.png", cell)) > 0u);
}

BOOST_AUTO_TEST_CASE(sweeps_of_two_tasks_are_refused_and_nothing_is_written) {
  TempDir t;
  const auto r = attnlab(fmt::format("state-plot --out '{}' '{}' '{}'", t / "s", kE2, kE1));
  BOOST_TEST(r.code != 0);
  BOOST_TEST(r.err.find("copy-memory") != std::string::npos, r.err);
  BOOST_TEST(!fs::exists(t / "s"));
}
