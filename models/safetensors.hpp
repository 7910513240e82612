// Reading and writing checkpoints in the safetensors format
// (https://github.com/huggingface/safetensors), with strict validation.
// Independent of the engine: standard library, fmt and nlohmann_json only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace attn {

// Thrown for every malformed file, I/O failure or mismatch. The message always
// names the file and, where there is one, the tensor.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bytes per element of a supported dtype ("F32", "F64"); 0 for anything else.
std::size_t dtype_size(const std::string& dtype);

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;        // row-major; {} is a scalar
  std::string dtype;                 // "F32" or "F64"
  std::vector<unsigned char> bytes;  // little-endian, numel * dtype_size(dtype) bytes

  int64_t numel() const;  // product of shape (1 for a scalar)
};

// Copy a row-major buffer of prod(shape) elements into a tensor.
NamedTensor make_tensor(std::string name, const float* data, std::vector<int64_t> shape);
NamedTensor make_tensor(std::string name, const double* data, std::vector<int64_t> shape);

struct Checkpoint {
  std::map<std::string, std::string> metadata;  // "__metadata__" (string values only)
  std::vector<NamedTensor> tensors;             // file order (sorted by data offset)

  const NamedTensor* find(const std::string& name) const;  // nullptr if absent
  void add(std::string name, const float* data, std::vector<int64_t> shape);
  void add(std::string name, const double* data, std::vector<int64_t> shape);
};

// Writes atomically: to "<path>.tmp.<pid>" in the same directory, fsync, then
// rename over <path>. On any failure the temp file is removed and <path> is
// untouched. Also validates ck (known dtypes, byte sizes, unique names).
void save_safetensors(const std::string& path, const Checkpoint& ck);

// Loads and fully validates a file; see checkpoints.md for the checks.
Checkpoint load_safetensors(const std::string& path);

// Compares names and shapes with what a model expects; missing, unexpected and
// wrongly shaped tensors are all listed by name in one CheckpointError.
void check_tensor_set(const Checkpoint& ck,
                      const std::vector<std::pair<std::string, std::vector<int64_t>>>& expected,
                      const std::string& path);

// Copy tensor `name` into out[0..n), converting F64 <-> F32 as needed. Throws
// (naming path and tensor) if it is absent or its element count is not n.
void read_tensor(const Checkpoint& ck, const std::string& name, float* out, std::size_t n,
                 const std::string& path);
void read_tensor(const Checkpoint& ck, const std::string& name, double* out, std::size_t n,
                 const std::string& path);

// "[2, 3]": for messages.
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace attn
