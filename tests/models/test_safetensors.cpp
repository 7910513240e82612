#define BOOST_TEST_MODULE safetensors
#include "tests/common.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "models/safetensors.hpp"

namespace fs = std::filesystem;
using attn::Checkpoint;
using attn::CheckpointError;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path dir;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "attnlab_st_XXXXXX").string();
    BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  BOOST_REQUIRE(out.good());
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

// A raw file from a header text and a data buffer of `data_bytes` zero bytes.
std::string raw_file(const std::string& header, std::size_t data_bytes) {
  return le64(header.size()) + header + std::string(data_bytes, '\0');
}

// f() must throw CheckpointError whose message contains every one of `parts`.
template <typename F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    BOOST_ERROR("no CheckpointError thrown");
  } catch (const CheckpointError& e) {
    std::string msg = e.what();
    BOOST_TEST_MESSAGE("error: " << msg);
    for (const std::string& p : parts)
      BOOST_CHECK_MESSAGE(msg.find(p) != std::string::npos, "message lacks '" << p << "': " << msg);
  }
}

// Loading must fail with a message naming the file and containing `parts`.
void expect_load_error(const std::string& path, std::vector<std::string> parts) {
  parts.push_back(path);
  expect_error([&] { attn::load_safetensors(path); }, parts);
}

void expect_raw_error(const TempDir& td, const std::string& header, std::size_t data_bytes,
                      const std::vector<std::string>& parts) {
  std::string path = td.file("bad.safetensors");
  write_all(path, raw_file(header, data_bytes));
  expect_load_error(path, parts);
}

bool has_temp_files(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

Checkpoint sample() {
  Checkpoint ck;
  ck.metadata = {{"format", "pt"}, {"step", "42"}, {"note", "héllo \"quoted\""}};
  std::vector<float> w(6);
  for (int i = 0; i < 6; ++i) w[i] = 0.5f * i - 1.0f;
  std::vector<double> b = {1.0 / 3.0, -2.5e-300, 1e300};
  float s = 7.25f;
  ck.add("layers.0.weight", w.data(), {2, 3});
  ck.add("layers.0.bias", b.data(), {3});
  ck.add("scale", &s, {});
  ck.add("empty", w.data(), {0, 4});
  return ck;
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_f32_f64_with_metadata) {
  TempDir td;
  std::string path = td.file("ck.safetensors");
  Checkpoint ck = sample();
  attn::save_safetensors(path, ck);
  BOOST_TEST(!has_temp_files(td.dir));

  std::string raw = read_all(path);
  uint64_t hlen = 0;
  std::memcpy(&hlen, raw.data(), 8);
  BOOST_TEST(hlen % 8 == 0u);  // padded so the data buffer is aligned
  BOOST_TEST(raw.size() == 8 + hlen + 6 * 4 + 3 * 8 + 4);

  Checkpoint back = attn::load_safetensors(path);
  BOOST_TEST(back.metadata == ck.metadata);
  BOOST_REQUIRE_EQUAL(back.tensors.size(), ck.tensors.size());
  for (std::size_t i = 0; i < ck.tensors.size(); ++i) {  // file order == insertion order
    BOOST_TEST(back.tensors[i].name == ck.tensors[i].name);
    BOOST_TEST(back.tensors[i].dtype == ck.tensors[i].dtype);
    BOOST_TEST(back.tensors[i].shape == ck.tensors[i].shape);
    BOOST_TEST(back.tensors[i].bytes == ck.tensors[i].bytes);  // bit-exact
  }
  BOOST_TEST(back.find("scale")->numel() == 1);
  BOOST_TEST(back.find("nope") == nullptr);
}

BOOST_AUTO_TEST_CASE(empty_checkpoint_round_trip) {
  TempDir td;
  std::string path = td.file("empty.safetensors");
  attn::save_safetensors(path, Checkpoint{});
  Checkpoint back = attn::load_safetensors(path);
  BOOST_TEST(back.tensors.empty());
  BOOST_TEST(back.metadata.empty());
}

BOOST_AUTO_TEST_CASE(read_tensor_converts_and_checks_size) {
  Checkpoint ck = sample();
  std::vector<float> f(3);
  attn::read_tensor(ck, "layers.0.bias", f.data(), 3, "x.safetensors");  // F64 -> float
  BOOST_TEST(f[0] == static_cast<float>(1.0 / 3.0));
  BOOST_TEST(f[2] == static_cast<float>(1e300));  // inf, as a plain cast gives
  std::vector<double> d(6);
  attn::read_tensor(ck, "layers.0.weight", d.data(), 6, "x.safetensors");  // F32 -> double
  BOOST_TEST(d[5] == 1.5);

  expect_error([&] { attn::read_tensor(ck, "layers.0.bias", f.data(), 2, "x.safetensors"); },
               {"x.safetensors", "layers.0.bias", "3 elements", "expects 2"});
  expect_error([&] { attn::read_tensor(ck, "missing.weight", f.data(), 3, "x.safetensors"); },
               {"x.safetensors", "missing.weight", "not found"});
}

// The documented numpy-only reader (docs/checkpoints.md) must read what we
// write, and we must read a file written by plain Python.
BOOST_AUTO_TEST_CASE(readable_by_python_numpy) {
  BOOST_REQUIRE_MESSAGE(fs::exists("/usr/bin/python3"), "/usr/bin/python3 is required for this test");
  TempDir td;
  std::string ours = td.file("ours.safetensors"), theirs = td.file("theirs.safetensors");
  attn::save_safetensors(ours, sample());
  const char* script = R"PY(
import json, struct, sys
import numpy as np

def load(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = memoryview(buf)[8 + n:]
    dtypes = {"F32": "<f4", "F64": "<f8"}
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return meta, tensors

meta, t = load(sys.argv[1])
assert meta == {"format": "pt", "step": "42", "note": "h\u00e9llo \"quoted\""}, meta
w = t["layers.0.weight"]
assert w.dtype == np.float32 and w.shape == (2, 3), (w.dtype, w.shape)
assert np.array_equal(w, (0.5 * np.arange(6) - 1.0).astype(np.float32).reshape(2, 3)), w
b = t["layers.0.bias"]
assert b.dtype == np.float64 and np.array_equal(b, np.array([1.0 / 3.0, -2.5e-300, 1e300])), b
assert t["scale"].shape == () and t["scale"] == np.float32(7.25)
assert t["empty"].shape == (0, 4)

# A writer in plain Python: unpadded header, keys in no particular order.
x = np.arange(12, dtype="<f8").reshape(3, 4) / 8
y = np.array([1.5, -2.0], dtype="<f4")
hdr = {"y": {"dtype": "F32", "shape": [2], "data_offsets": [96, 104]},
       "__metadata__": {"who": "python"},
       "x": {"dtype": "F64", "shape": [3, 4], "data_offsets": [0, 96]}}
h = json.dumps(hdr).encode()
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + x.tobytes() + y.tobytes())
print("python check ok")
)PY";
  std::string script_path = td.file("check.py");
  write_all(script_path, script);
  std::string log = td.file("python.log");
  std::string cmd = "/usr/bin/python3 '" + script_path + "' '" + ours + "' '" + theirs + "' > '" + log + "' 2>&1";
  int rc = std::system(cmd.c_str());
  BOOST_CHECK_MESSAGE(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
                      "python/numpy check failed (status " << rc << "):\n" << read_all(log));
  BOOST_TEST_MESSAGE(read_all(log));

  Checkpoint ck = attn::load_safetensors(theirs);
  BOOST_TEST(ck.metadata.at("who") == "python");
  BOOST_REQUIRE_EQUAL(ck.tensors.size(), 2u);
  BOOST_TEST(ck.tensors[0].name == "x");  // sorted by offset, not by header order
  std::vector<double> x(12);
  attn::read_tensor(ck, "x", x.data(), 12, theirs);
  for (int i = 0; i < 12; ++i) BOOST_TEST(x[i] == i / 8.0);
  float y[2];
  attn::read_tensor(ck, "y", y, 2, theirs);
  BOOST_TEST(y[0] == 1.5f);
  BOOST_TEST(y[1] == -2.0f);
}

BOOST_AUTO_TEST_CASE(truncated_file) {
  TempDir td;
  std::string good = td.file("good.safetensors");
  attn::save_safetensors(good, sample());
  std::string raw = read_all(good);
  uint64_t hlen = 0;
  std::memcpy(&hlen, raw.data(), 8);
  std::string path = td.file("cut.safetensors");
  // Inside the length, inside the header, inside the data, one byte short.
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{7}, std::size_t{8}, std::size_t{8 + hlen / 2},
                          std::size_t{8 + hlen - 1}, std::size_t{8 + hlen}, std::size_t{8 + hlen + 10}, raw.size() - 1}) {
    BOOST_TEST_CONTEXT("cut at " << cut << " of " << raw.size()) {
      write_all(path, raw.substr(0, cut));
      expect_load_error(path, {"truncated"});
    }
  }
}

BOOST_AUTO_TEST_CASE(header_length_larger_than_file) {
  TempDir td;
  std::string path = td.file("h.safetensors");
  for (uint64_t n : {uint64_t{64}, uint64_t{1} << 40, ~uint64_t{0}}) {
    write_all(path, le64(n) + "{}      ");
    expect_load_error(path, {"header length", "exceeds"});
  }
  // A length within the file but beyond the sanity limit (sparse file, cheap).
  write_all(path, le64(101'000'000) + "{");
  fs::resize_file(path, 8 + 101'000'000);
  expect_load_error(path, {"header length 101000000", "limit"});
  write_all(path, le64(0));
  expect_load_error(path, {"too small"});
}

BOOST_AUTO_TEST_CASE(corrupted_json) {
  TempDir td;
  expect_raw_error(td, R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4])", 4, {"invalid JSON header"});
  expect_raw_error(td, R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}garbage)", 4, {"invalid JSON header"});
  expect_raw_error(td, std::string("{\"a\xff\": 1}"), 0, {"invalid JSON header"});  // not UTF-8
  expect_raw_error(td, R"([1, 2])", 0, {"does not start with '{'"});
  expect_raw_error(td, R"( {})", 0, {"does not start with '{'"});
  expect_raw_error(td, R"({"a": 5})", 0, {"'a'", "not a JSON object"});
  expect_raw_error(td, R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
                   4, {"duplicate key 'a'"});
  expect_raw_error(td, R"({"a": {"dtype": "F32", "dtype": "F64", "shape": [1], "data_offsets": [0, 4]}})", 4,
                   {"duplicate key 'dtype'"});
  expect_raw_error(td, R"({"a": {"dtype": "F32", "data_offsets": [0, 4]}})", 4, {"'a'", "no 'shape'"});
  expect_raw_error(td, R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}})", 4,
                   {"'a'", "unexpected key 'x'"});
  expect_raw_error(td, R"({"__metadata__": {"step": 3}})", 0, {"__metadata__", "'step'", "not a string"});
  expect_raw_error(td, R"({"__metadata__": ["x"]})", 0, {"__metadata__", "not a JSON object"});
}

BOOST_AUTO_TEST_CASE(bad_dtype) {
  TempDir td;
  expect_raw_error(td, R"({"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})", 4,
                   {"'w'", "unsupported dtype 'F16'"});
  expect_raw_error(td, R"({"w": {"dtype": "f32", "shape": [1], "data_offsets": [0, 4]}})", 4,
                   {"'w'", "unsupported dtype 'f32'"});
  expect_raw_error(td, R"({"w": {"dtype": 32, "shape": [1], "data_offsets": [0, 4]}})", 4, {"'w'", "dtype is not a string"});
}

BOOST_AUTO_TEST_CASE(bad_shape) {
  TempDir td;
  expect_raw_error(td, R"({"w": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 8]}})", 8, {"'w'", "invalid shape"});
  expect_raw_error(td, R"({"w": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}})", 8, {"'w'", "invalid shape"});
  expect_raw_error(td, R"({"w": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}})", 8, {"'w'", "invalid shape"});
  expect_raw_error(td, R"({"w": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}})", 8, {"'w'", "shape is not an array"});
  expect_raw_error(td, R"({"w": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})", 8,
                   {"'w'", "overflows"});
}

BOOST_AUTO_TEST_CASE(offsets_out_of_range) {
  TempDir td;
  expect_raw_error(td, R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 12, {"'w'", "out of range"});
  expect_raw_error(td, R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})", 8, {"'w'", "begin > end"});
  expect_raw_error(td, R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}})", 8, {"'w'", "invalid data_offsets"});
  expect_raw_error(td, R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})", 8, {"'w'", "invalid data_offsets"});
  expect_raw_error(td, R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 18446744073709551615]}})", 8,
                   {"'w'", "out of range"});
}

BOOST_AUTO_TEST_CASE(overlapping_offsets_and_holes) {
  TempDir td;
  expect_raw_error(td, R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})",
                   24, {"'b'", "overlap", "'a'"});
  expect_raw_error(td, R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
                   8, {"overlap"});
  expect_raw_error(td, R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                   12, {"'b'", "hole"});
  expect_raw_error(td, R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8, {"'a'", "hole"});
  expect_raw_error(td, R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8, {"trailing"});
}

BOOST_AUTO_TEST_CASE(size_mismatch) {
  TempDir td;
  expect_raw_error(td, R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}})", 16, {"'w'", "size mismatch"});
  expect_raw_error(td, R"({"w": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 16]}})", 16, {"'w'", "size mismatch"});
}

BOOST_AUTO_TEST_CASE(missing_file_or_directory) {
  TempDir td;
  expect_load_error(td.file("nothing.safetensors"), {"does not exist"});
  expect_load_error(td.dir.string(), {"not a regular file"});
}

// Every prefix and many random corruptions of a valid file: load either
// succeeds or throws CheckpointError, never anything else (run under ASan too).
BOOST_AUTO_TEST_CASE(never_crashes_on_damaged_files) {
  TempDir td;
  std::string good = td.file("good.safetensors"), path = td.file("d.safetensors");
  attn::save_safetensors(good, sample());
  std::string raw = read_all(good);
  int loaded = 0, rejected = 0;
  auto attempt = [&](const std::string& bytes) {
    write_all(path, bytes);
    try {
      attn::load_safetensors(path);
      ++loaded;
    } catch (const CheckpointError&) {
      ++rejected;
    }
  };
  for (std::size_t cut = 0; cut < raw.size(); ++cut) attempt(raw.substr(0, cut));
  BOOST_TEST(loaded == 0);
  std::mt19937 rng(1234);
  for (int i = 0; i < 1000; ++i) {
    std::string bytes = raw;
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
    attempt(bytes);
  }
  BOOST_TEST_MESSAGE("damaged files: " << loaded << " loaded, " << rejected << " rejected");
  BOOST_TEST(rejected > 0);
}

BOOST_AUTO_TEST_CASE(check_tensor_set_reports_by_name) {
  Checkpoint ck = sample();
  const std::string path = "model.safetensors";
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"layers.0.weight", {2, 3}}, {"layers.0.bias", {3}}, {"scale", {}}, {"empty", {0, 4}}};
  BOOST_CHECK_NO_THROW(attn::check_tensor_set(ck, expected, path));

  auto expect = [&](const std::vector<std::pair<std::string, std::vector<int64_t>>>& exp,
                    const std::vector<std::string>& parts) {
    expect_error([&] { attn::check_tensor_set(ck, exp, path); }, parts);
  };
  auto missing = expected;
  missing.push_back({"layers.1.weight", {3, 3}});
  expect(missing, {path, "missing tensors: 'layers.1.weight' [3, 3]"});
  auto extra = expected;
  extra.pop_back();
  expect(extra, {path, "unexpected tensors: 'empty' [0, 4]"});
  auto wrong = expected;
  wrong[0].second = {3, 2};
  expect(wrong, {path, "shape mismatches: 'layers.0.weight' is [2, 3], expected [3, 2]"});
  // All three at once, in one message.
  std::vector<std::pair<std::string, std::vector<int64_t>>> all = {
      {"layers.0.weight", {2, 2}}, {"layers.0.bias", {3}}, {"scale", {}}, {"head.weight", {4}}};
  expect(all, {"missing tensors: 'head.weight'", "unexpected tensors: 'empty'", "shape mismatches: 'layers.0.weight'"});
}

BOOST_AUTO_TEST_CASE(save_into_missing_directory_fails_cleanly) {
  TempDir td;
  std::string path = td.file("no/such/dir/ck.safetensors");
  expect_error([&] { attn::save_safetensors(path, sample()); },
               {path, "cannot create temporary file", "No such file or directory"});
  BOOST_TEST(!fs::exists(td.dir / "no"));
  BOOST_TEST(!has_temp_files(td.dir));
}

BOOST_AUTO_TEST_CASE(overwrite_replaces_whole_file) {
  TempDir td;
  std::string path = td.file("ck.safetensors");
  Checkpoint big = sample();
  std::vector<float> lots(10000, 3.0f);
  big.add("big", lots.data(), {100, 100});
  attn::save_safetensors(path, big);
  const auto big_size = fs::file_size(path);

  Checkpoint small;
  small.metadata["v"] = "2";
  float one = 1.0f;
  small.add("only", &one, {1});
  attn::save_safetensors(path, small);
  BOOST_TEST(fs::file_size(path) < big_size);
  Checkpoint back = attn::load_safetensors(path);  // no leftover bytes from the old file
  BOOST_REQUIRE_EQUAL(back.tensors.size(), 1u);
  BOOST_TEST(back.tensors[0].name == "only");
  BOOST_TEST(back.metadata.at("v") == "2");
  BOOST_TEST(!has_temp_files(td.dir));
}

BOOST_AUTO_TEST_CASE(failed_save_leaves_target_untouched) {
  TempDir td;
  std::string path = td.file("ck.safetensors");
  attn::save_safetensors(path, sample());
  const std::string before = read_all(path);

  Checkpoint bad = sample();
  bad.tensors[1].bytes.pop_back();  // 23 bytes for a [3] F64 tensor
  expect_error([&] { attn::save_safetensors(path, bad); }, {path, "layers.0.bias", "size mismatch"});
  Checkpoint dup = sample();
  dup.tensors.push_back(dup.tensors[0]);
  expect_error([&] { attn::save_safetensors(path, dup); }, {"duplicate tensor name"});
  Checkpoint f16 = sample();
  f16.tensors[0].dtype = "F16";
  expect_error([&] { attn::save_safetensors(path, f16); }, {"unsupported dtype 'F16'"});
  BOOST_TEST(read_all(path) == before);

  // Rename over a directory fails after the temp file is written: it must go.
  std::string dir_target = td.file("adir");
  fs::create_directory(dir_target);
  expect_error([&] { attn::save_safetensors(dir_target, sample()); }, {"renaming", "Is a directory"});
  BOOST_TEST(fs::is_directory(dir_target));
  BOOST_TEST(!has_temp_files(td.dir));
}
