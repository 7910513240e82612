#include "data/file_dataset.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "data/error.hpp"

namespace attn::data {
namespace {

namespace fs = std::filesystem;

// Byte offset of the first invalid UTF-8 sequence, or nullopt.
std::optional<size_t> bad_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = (unsigned char)s[i];
    int n;
    uint32_t cp;
    if (c < 0x80) n = 0, cp = c;
    else if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
    else return i;
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size() || ((unsigned char)s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
    }
    const uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::nullopt;
}

struct Line {
  size_t number;
  std::vector<std::string> src, tgt;
};

// The lines of one file's contents; `name` is its path, for messages.
std::vector<Line> parse_tsv(std::istream& in, const std::string& name) {
  std::vector<Line> lines;
  std::string s;
  size_t number = 0;
  while (std::getline(in, s)) {
    ++number;
    if (!s.empty() && s.back() == '\r') s.pop_back();
    if (number == 1 && s.compare(0, 3, "\xEF\xBB\xBF") == 0) s.erase(0, 3);
    if (s.empty()) continue;
    const auto where = [&] { return fmt::format("{}:{}", name, number); };
    if (auto bad = bad_utf8(s)) throw Error(fmt::format("{}: invalid UTF-8 at byte {}", where(), *bad + 1));
    const auto tab = s.find('\t');
    if (tab == std::string::npos) throw Error(fmt::format("{}: no TAB between source and target", where()));
    Line l{number, {}, {}};
    for (auto t : split_tokens(std::string_view(s).substr(0, tab))) l.src.emplace_back(t);
    for (auto t : split_tokens(std::string_view(s).substr(tab + 1))) l.tgt.emplace_back(t);
    if (l.src.empty()) throw Error(fmt::format("{}: empty source (no tokens before the TAB)", where()));
    if (l.tgt.empty()) throw Error(fmt::format("{}: empty target (no tokens after the TAB)", where()));
    for (const auto* side : {&l.src, &l.tgt})
      for (const auto& t : *side)
        if (t == "<pad>" || t == "<bos>" || t == "<eos>")
          throw Error(fmt::format("{}: token '{}' is reserved", where(), t));
    lines.push_back(std::move(l));
  }
  if (in.bad()) throw Error(fmt::format("{}: unreadable: read error after line {}", name, number));
  if (lines.empty())
    throw Error(fmt::format("{}: empty file (no examples{})", name, number ? ", only blank lines" : ""));
  return lines;
}

std::vector<Line> read_tsv(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) throw Error(fmt::format("{}: missing file", name));
  if (fs::is_directory(st)) throw Error(fmt::format("{}: unreadable: is a directory, not a file", name));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: unreadable: {}", name, std::strerror(errno)));
  return parse_tsv(in, name);
}

std::vector<Example> encode(const std::vector<Line>& lines, const Vocab& v, size_t& unk) {
  std::vector<Example> out;
  out.reserve(lines.size());
  auto ids = [&](const std::vector<std::string>& toks) {
    std::vector<int> r;
    r.reserve(toks.size());
    for (const auto& t : toks) {
      r.push_back(v.id(t));
      if (r.back() == Vocab::UNK && t != "<unk>") ++unk;
    }
    return r;
  };
  for (const auto& l : lines) {
    Example e{ids(l.src), ids(l.tgt), {}};
    e.distance.assign(e.tgt.size(), -1);
    out.push_back(std::move(e));
  }
  return out;
}

FileDataset build(const std::string& dir, const std::vector<Line>& train, const std::vector<Line>& valid,
                  const std::vector<Line>& test) {
  std::vector<std::string> tokens;
  {
    std::unordered_map<std::string, bool> have;
    for (const auto& l : train)
      for (const auto* side : {&l.src, &l.tgt})
        for (const auto& t : *side)
          if (t != "<unk>" && have.emplace(t, true).second) tokens.push_back(t);
  }
  FileDataset fd{dir, Vocab(tokens), {}, {}, {}, 0, 0};
  size_t train_unk = 0;
  fd.train = encode(train, fd.vocab, train_unk);
  fd.valid = encode(valid, fd.vocab, fd.valid_unk);
  fd.test = encode(test, fd.vocab, fd.test_unk);
  return fd;
}

}  // namespace

FileDataset load_file_dataset(const std::string& dir) {
  const fs::path d(dir);
  // Read all three before building anything, so a bad valid/test file fails fast too.
  const auto train = read_tsv(d / "train.tsv");
  const auto valid = read_tsv(d / "valid.tsv");
  const auto test = read_tsv(d / "test.tsv");
  return build(dir, train, valid, test);
}

FileDataset parse_file_dataset(const std::string& dir, const std::string& train, const std::string& valid,
                               const std::string& test) {
  const auto parse = [&](const std::string& text, const char* file) {
    std::istringstream in(text);
    return parse_tsv(in, (fs::path(dir) / file).string());
  };
  const auto tr = parse(train, "train.tsv");
  const auto va = parse(valid, "valid.tsv");
  const auto te = parse(test, "test.tsv");
  return build(dir, tr, va, te);
}

}  // namespace attn::data
