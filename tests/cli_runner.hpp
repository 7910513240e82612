// Runs the attnlab binary from a test and captures its exit code and output.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attn_test {

struct Run {
  int code;
  std::string out, err;
};

inline std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `attnlab ARGS` (ARGS already shell-quoted where needed).
inline Run attnlab(const std::string& args) {
  namespace fs = std::filesystem;
  static int n = 0;
  const fs::path base = fs::temp_directory_path() / ("attnlab_test_cli_" + std::to_string(getpid()) + "_" + std::to_string(n++));
  const std::string out = base.string() + ".out", err = base.string() + ".err";
  const int status = std::system((std::string("'") + ATTNLAB_BINARY + "' " + args + " >" + out + " 2>" + err).c_str());
  Run r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  fs::remove(out);
  fs::remove(err);
  return r;
}

// A fresh folder under /tmp, removed with everything in it at the end of the scope.
struct TempDir {
  std::filesystem::path dir;
  TempDir() {
    char tmpl[] = "/tmp/attnlab_test_XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& s) const { return (dir / s).string(); }
};

// A run's metrics.jsonl without its timing fields, for comparing runs.
inline std::vector<nlohmann::json> metrics_without_timings(const std::string& dir) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(slurp(dir + "/metrics.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("steps_per_s");
    j.erase("elapsed_s");
    rows.push_back(j);
  }
  return rows;
}

inline bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace attn_test
