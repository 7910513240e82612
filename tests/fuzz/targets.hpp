// The fuzz targets' bodies, shared by the libFuzzer executables (fuzz_<name>.cpp) and the
// regression test that replays the committed inputs (tests/test_fuzz_regressions.cpp).
//
// Each feeds arbitrary bytes to one reader. Allowed outcomes: success, or the error type that
// reader documents (and its callers catch). A broken invariant on success throws
// attn::fuzz::ContractViolation; any other exception escapes as well. See docs/fuzzing.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace attn::fuzz {

class ContractViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

void fuzz_one_safetensors(const uint8_t* data, size_t size);
void fuzz_one_checkpoint(const uint8_t* data, size_t size);
void fuzz_one_tsv(const uint8_t* data, size_t size);
void fuzz_one_train_config(const uint8_t* data, size_t size);
void fuzz_one_metadata(const uint8_t* data, size_t size);
void fuzz_one_task_opts(const uint8_t* data, size_t size);

// Target name ("safetensors", ...) -> its function, for the replay test.
struct Target {
  const char* name;
  void (*run)(const uint8_t*, size_t);
};
const std::vector<Target>& targets();

}  // namespace attn::fuzz
