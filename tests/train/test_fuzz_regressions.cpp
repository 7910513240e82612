// Replays every committed fuzz input (tests/fuzz/corpus/<target>/ and tests/fuzz/regressions/
// <target>/) through the fuzz targets' own code, so the normal and the ASan builds check them too.
#define BOOST_TEST_MODULE fuzz_regressions
#include "tests/common.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "tests/fuzz/targets.hpp"

namespace fs = std::filesystem;
using attn::fuzz::targets;

namespace {

const fs::path kFuzzDir = fs::path(ATTNLAB_SOURCE_DIR) / "tests" / "fuzz";

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs every file under kind/name through `run`; returns how many there were.
size_t replay(const std::string& kind, const attn::fuzz::Target& t) {
  const fs::path dir = kFuzzDir / kind / t.name;
  if (!fs::is_directory(dir)) return 0;
  std::set<fs::path> files;  // sorted, so failures come in a stable order
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.insert(e.path());
  for (const fs::path& f : files) {
    const std::vector<uint8_t> bytes = read_bytes(f);
    BOOST_TEST_CONTEXT(f.string()) { BOOST_CHECK_NO_THROW(t.run(bytes.data(), bytes.size())); }
  }
  return files.size();
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_target_has_a_seed_corpus_and_replays_it) {
  for (const auto& t : targets()) {
    BOOST_TEST_CONTEXT(t.name) {
      BOOST_TEST(replay("corpus", t) >= 3u);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_regression_input_replays_cleanly) {
  for (const auto& t : targets()) replay("regressions", t);
}

// A folder named after no target would silently never be replayed.
BOOST_AUTO_TEST_CASE(every_folder_names_a_target) {
  std::set<std::string> names;
  for (const auto& t : targets()) names.insert(t.name);
  for (const char* kind : {"corpus", "regressions"}) {
    if (!fs::is_directory(kFuzzDir / kind)) continue;
    for (const auto& e : fs::directory_iterator(kFuzzDir / kind))
      BOOST_TEST(names.count(e.path().filename().string()) == 1u, e.path() << " is not a fuzz target's folder");
  }
}
