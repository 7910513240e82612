#include "models/safetensors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/fault.hpp"

// Tensor bytes are stored and copied as-is: the file format is little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");

namespace attn {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeader = 100ull * 1000 * 1000;  // same limit as the reference implementation

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw CheckpointError(fmt::format("safetensors '{}': {}", path, what));
}
[[noreturn]] void fail(const std::string& path, const std::string& tensor, const std::string& what) {
  throw CheckpointError(fmt::format("safetensors '{}': tensor '{}': {}", path, tensor, what));
}

// Element count, or nullopt-like false on negative dims / overflow (so no
// later size computation can wrap around). The product of the non-zero dims
// must fit int64, so NamedTensor::numel() cannot overflow on [3, 2^62, 0].
bool checked_numel(const std::vector<int64_t>& shape, std::size_t elem, uint64_t& numel, uint64_t& nbytes) {
  uint64_t n = 1;
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0) return false;
    if (d == 0) {
      empty = true;
      continue;
    }
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / static_cast<uint64_t>(d)) return false;
    n *= static_cast<uint64_t>(d);
  }
  if (empty) n = 0;
  if (elem != 0 && n > std::numeric_limits<uint64_t>::max() / elem) return false;
  numel = n;
  nbytes = n * elem;
  return true;
}

std::string errno_str(int e) { return std::strerror(e); }

// A header value for an error message. Nested or long values are summarised: dump() recurses, so
// a deeply nested value in a hostile header would overflow the stack, and a long one would flood
// the message.
std::string brief(const json& v) {
  if (v.is_structured()) {
    bool nested = v.size() > 16;
    for (const json& e : v) nested = nested || e.is_structured();
    if (nested) return fmt::format("(a nested {} of {} elements)", v.type_name(), v.size());
  }
  return v.dump();
}

bool write_all(int fd, const unsigned char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

template <typename T>
NamedTensor make_tensor_impl(std::string name, const T* data, std::vector<int64_t> shape, const char* dtype) {
  uint64_t numel = 0, nbytes = 0;
  if (!checked_numel(shape, sizeof(T), numel, nbytes))
    throw CheckpointError(fmt::format("tensor '{}': invalid shape {}", name, shape_str(shape)));
  NamedTensor t{std::move(name), std::move(shape), dtype, std::vector<unsigned char>(nbytes)};
  if (nbytes > 0) std::memcpy(t.bytes.data(), data, nbytes);
  return t;
}

template <typename Out>
void read_tensor_impl(const Checkpoint& ck, const std::string& name, Out* out, std::size_t n,
                      const std::string& path) {
  const NamedTensor* t = ck.find(name);
  if (!t) fail(path, name, "not found");
  std::size_t esz = dtype_size(t->dtype);
  if (esz == 0) fail(path, name, fmt::format("unsupported dtype '{}'", t->dtype));
  if (t->bytes.size() % esz != 0 || t->bytes.size() / esz != n)
    fail(path, name, fmt::format("has {} elements (shape {}), caller expects {}", t->bytes.size() / esz,
                                 shape_str(t->shape), n));
  const unsigned char* src = t->bytes.data();
  for (std::size_t i = 0; i < n; ++i) {
    if (t->dtype == "F32") {
      float v;
      std::memcpy(&v, src + i * 4, 4);
      out[i] = static_cast<Out>(v);
    } else {
      double v;
      std::memcpy(&v, src + i * 8, 8);
      out[i] = static_cast<Out>(v);
    }
  }
}

// Parses one tensor entry of the header; offsets are checked against the data
// buffer later, once all entries are known.
struct Entry {
  NamedTensor t;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& path, const std::string& name, const json& v, uint64_t data_size) {
  if (!v.is_object()) fail(path, name, "header entry is not a JSON object");
  for (const auto& [key, _] : v.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      fail(path, name, fmt::format("unexpected key '{}' in header entry", key));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) fail(path, name, fmt::format("header entry has no '{}'", key));

  Entry e;
  e.t.name = name;
  const json& dt = v["dtype"];
  if (!dt.is_string()) fail(path, name, "dtype is not a string");
  e.t.dtype = dt.get<std::string>();
  std::size_t esz = dtype_size(e.t.dtype);
  if (esz == 0) fail(path, name, fmt::format("unsupported dtype '{}' (supported: F32, F64)", e.t.dtype));

  const json& sh = v["shape"];
  if (!sh.is_array()) fail(path, name, "shape is not an array");
  for (const json& d : sh) {
    // Non-negative JSON integers parse as unsigned; negatives and 2.0 do not.
    if (!d.is_number_unsigned()) fail(path, name, fmt::format("invalid shape {}: dimensions must be non-negative integers", brief(sh)));
    uint64_t u = d.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(path, name, fmt::format("invalid shape {}: dimension too large", brief(sh)));
    e.t.shape.push_back(static_cast<int64_t>(u));
  }
  uint64_t numel = 0, nbytes = 0;
  if (!checked_numel(e.t.shape, esz, numel, nbytes)) fail(path, name, fmt::format("invalid shape {}: size overflows", brief(sh)));

  const json& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
    fail(path, name, fmt::format("invalid data_offsets {}: expected [begin, end] as non-negative integers", brief(off)));
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  if (e.begin > e.end) fail(path, name, fmt::format("invalid data_offsets [{}, {}]: begin > end", e.begin, e.end));
  if (e.end > data_size)
    fail(path, name, fmt::format("data_offsets [{}, {}] out of range: the data buffer has only {} bytes (file truncated?)",
                                 e.begin, e.end, data_size));
  if (e.end - e.begin != nbytes)
    fail(path, name, fmt::format("size mismatch: shape {} of {} needs {} bytes but data_offsets [{}, {}] span {}",
                                 shape_str(e.t.shape), e.t.dtype, nbytes, e.begin, e.end, e.end - e.begin));
  return e;
}

}  // namespace

std::size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F64") return 8;
  return 0;
}

int64_t NamedTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

NamedTensor make_tensor(std::string name, const float* data, std::vector<int64_t> shape) {
  return make_tensor_impl(std::move(name), data, std::move(shape), "F32");
}
NamedTensor make_tensor(std::string name, const double* data, std::vector<int64_t> shape) {
  return make_tensor_impl(std::move(name), data, std::move(shape), "F64");
}

const NamedTensor* Checkpoint::find(const std::string& name) const {
  for (const NamedTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}
void Checkpoint::add(std::string name, const float* data, std::vector<int64_t> shape) {
  tensors.push_back(make_tensor(std::move(name), data, std::move(shape)));
}
void Checkpoint::add(std::string name, const double* data, std::vector<int64_t> shape) {
  tensors.push_back(make_tensor(std::move(name), data, std::move(shape)));
}

void read_tensor(const Checkpoint& ck, const std::string& name, float* out, std::size_t n, const std::string& path) {
  read_tensor_impl(ck, name, out, n, path);
}
void read_tensor(const Checkpoint& ck, const std::string& name, double* out, std::size_t n, const std::string& path) {
  read_tensor_impl(ck, name, out, n, path);
}

void save_safetensors(const std::string& path, const Checkpoint& ck) {
  // Validate everything before touching the file system.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!ck.metadata.empty()) header["__metadata__"] = ck.metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const NamedTensor& t : ck.tensors) {
    if (t.name == "__metadata__") fail(path, t.name, "name is reserved");
    if (!names.insert(t.name).second) fail(path, t.name, "duplicate tensor name");
    std::size_t esz = dtype_size(t.dtype);
    if (esz == 0) fail(path, t.name, fmt::format("unsupported dtype '{}' (supported: F32, F64)", t.dtype));
    uint64_t numel = 0, nbytes = 0;
    if (!checked_numel(t.shape, esz, numel, nbytes)) fail(path, t.name, fmt::format("invalid shape {}", shape_str(t.shape)));
    if (nbytes != t.bytes.size())
      fail(path, t.name, fmt::format("size mismatch: shape {} of {} needs {} bytes, tensor holds {}", shape_str(t.shape),
                                     t.dtype, nbytes, t.bytes.size()));
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // e.g. a name that is not valid UTF-8
    fail(path, fmt::format("cannot encode header: {}", e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // pad so the data buffer starts 8-byte aligned
  unsigned char len[8];
  uint64_t n = text.size();
  std::memcpy(len, &n, 8);

  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) fail(path, fmt::format("cannot create temporary file '{}': {}", tmp, errno_str(errno)));
  auto abort_write = [&](const char* step) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    fail(path, fmt::format("{} '{}' failed: {}", step, tmp, errno_str(e)));
  };
  if (!write_all(fd, len, 8) || !write_all(fd, reinterpret_cast<const unsigned char*>(text.data()), text.size()))
    abort_write("writing");
  for (const NamedTensor& t : ck.tensors) {
    if (fault_point("checkpoint.write") || !write_all(fd, t.bytes.data(), t.bytes.size())) abort_write("writing");
  }
  if (fault_point("checkpoint.fsync") || ::fsync(fd) != 0) abort_write("fsync of");
  int rc = ::close(fd);
  fd = -1;
  if (rc != 0) abort_write("closing");
  if (fault_point("checkpoint.rename") || ::rename(tmp.c_str(), path.c_str()) != 0) abort_write("renaming");
  fault_point("checkpoint.renamed");
  // Make the rename itself durable. Best effort: the new file is already in
  // place, so failing here would misreport the outcome.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

Checkpoint load_safetensors(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) fail(path, "file does not exist");
  if (!std::filesystem::is_regular_file(status)) fail(path, "not a regular file");

  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot open for reading: {}", errno_str(errno)));
  in.seekg(0, std::ios::end);
  std::streamoff fsize = in.tellg();
  in.seekg(0, std::ios::beg);
  if (fsize < 0) fail(path, "cannot determine file size");
  const uint64_t size = static_cast<uint64_t>(fsize);
  if (size < 8) fail(path, fmt::format("truncated: file is {} bytes, shorter than the 8-byte header length", size));

  unsigned char len[8];
  if (!in.read(reinterpret_cast<char*>(len), 8)) fail(path, "read error in header length");
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | len[i];
  if (hlen > size - 8)
    fail(path, fmt::format("truncated or corrupt: header length {} exceeds the {} bytes after the length field", hlen,
                           size - 8));
  if (hlen > kMaxHeader) fail(path, fmt::format("header length {} is larger than the {} byte limit", hlen, kMaxHeader));
  if (hlen < 2) fail(path, fmt::format("header length {} is too small for a JSON object", hlen));

  std::string text(hlen, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(hlen))) fail(path, "read error in header");
  if (text[0] != '{') fail(path, "invalid header: does not start with '{'");

  // nlohmann keeps the last of duplicate keys silently; track keys per object
  // to reject ambiguous headers.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto cb = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (ev == json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (ev == json::parse_event_t::key && !open_objects.empty()) {
      const std::string& k = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text, cb);  // trailing space padding is allowed JSON whitespace
  } catch (const json::exception& e) {
    fail(path, fmt::format("invalid JSON header: {}", e.what()));
  }
  if (!duplicate.empty()) fail(path, fmt::format("invalid header: duplicate key '{}'", duplicate));
  if (!header.is_object()) fail(path, "invalid header: not a JSON object");

  const uint64_t data_size = size - 8 - hlen;
  Checkpoint ck;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail(path, "__metadata__ is not a JSON object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) fail(path, fmt::format("__metadata__ value for '{}' is not a string: {}", mk, brief(mv)));
        ck.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, key, value, data_size));
  }

  // The spec requires the tensors to tile the data buffer exactly.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < pos)
      fail(path, e.t.name, fmt::format("data_offsets [{}, {}] overlap tensor '{}' [{}, {}]", e.begin, e.end, prev->t.name,
                                       prev->begin, prev->end));
    if (e.begin > pos)
      fail(path, e.t.name, fmt::format("data_offsets [{}, {}] leave a hole: bytes [{}, {}) belong to no tensor", e.begin,
                                       e.end, pos, e.begin));
    pos = e.end;
    prev = &e;
  }
  if (pos != data_size)
    fail(path, fmt::format("data buffer has {} bytes but tensors cover only {} (trailing bytes or a hole)", data_size, pos));

  // Offsets are validated, so this reads exactly the rest of the file.
  ck.tensors.reserve(entries.size());
  for (Entry& e : entries) {
    e.t.bytes.resize(e.end - e.begin);
    if (!e.t.bytes.empty() && !in.read(reinterpret_cast<char*>(e.t.bytes.data()), static_cast<std::streamsize>(e.t.bytes.size())))
      fail(path, e.t.name, "read error in tensor data");
    ck.tensors.push_back(std::move(e.t));
  }
  return ck;
}

void check_tensor_set(const Checkpoint& ck,
                      const std::vector<std::pair<std::string, std::vector<int64_t>>>& expected,
                      const std::string& path) {
  std::vector<std::string> missing, wrong, extra;
  std::set<std::string> wanted;
  for (const auto& [name, shape] : expected) {
    wanted.insert(name);
    const NamedTensor* t = ck.find(name);
    if (!t)
      missing.push_back(fmt::format("'{}' {}", name, shape_str(shape)));
    else if (t->shape != shape)
      wrong.push_back(fmt::format("'{}' is {}, expected {}", name, shape_str(t->shape), shape_str(shape)));
  }
  for (const NamedTensor& t : ck.tensors)
    if (!wanted.count(t.name)) extra.push_back(fmt::format("'{}' {}", t.name, shape_str(t.shape)));
  if (missing.empty() && wrong.empty() && extra.empty()) return;

  std::string msg = "tensors do not match the model:";
  if (!missing.empty()) msg += fmt::format(" missing tensors: {};", fmt::join(missing, ", "));
  if (!extra.empty()) msg += fmt::format(" unexpected tensors: {};", fmt::join(extra, ", "));
  if (!wrong.empty()) msg += fmt::format(" shape mismatches: {};", fmt::join(wrong, ", "));
  msg.pop_back();
  fail(path, msg);
}

}  // namespace attn
