#include "data/text_corpus.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <unordered_map>

#include "data/error.hpp"
#include "data/rng.hpp"

namespace attn::data {

namespace {

const std::pair<char, const char*> kSpaceNames[] = {{' ', "<sp>"},    {'\n', "<nl>"},   {'\t', "<tab>"},
                                                    {'\r', "<cr>"},   {'\v', "<0x0b>"}, {'\f', "<0x0c>"}};

std::string char_name(const std::string& c) {
  if (c.size() == 1)
    for (const auto& [ch, name] : kSpaceNames)
      if (c[0] == ch) return name;
  return c;
}

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not valid UTF-8.
size_t utf8_length(const std::string& s, size_t i) {
  const unsigned char c = (unsigned char)s[i];
  const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if (((unsigned char)s[i + k] >> 6) != 0x2) return 0;
  return n;
}

}  // namespace

TextTokens parse_text_tokens(const std::string& s) {
  if (s == "chars") return TextTokens::chars;
  if (s == "words") return TextTokens::words;
  throw Error(fmt::format("text tokens '{}': want chars or words", s));
}

const char* text_tokens_name(TextTokens t) { return t == TextTokens::words ? "words" : "chars"; }

std::vector<std::string> text_token_strings(const std::string& text, TextTokens kind) {
  std::vector<std::string> out;
  if (kind == TextTokens::words) {
    for (std::string_view w : split_tokens(text)) out.emplace_back(w);
    return out;
  }
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    if (n == 0) throw Error(fmt::format("byte {}: invalid UTF-8", i));
    out.push_back(char_name(text.substr(i, n)));
    i += n;
  }
  return out;
}

std::string detokenize(const std::vector<std::string>& tokens, TextTokens kind) {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (kind == TextTokens::words) {
      out += (i ? " " : "") + tokens[i];
      continue;
    }
    std::string t = tokens[i];
    for (const auto& [ch, name] : kSpaceNames)
      if (t == name) t = std::string(1, ch);
    out += t;
  }
  return out;
}

Example TextCorpus::window(size_t offset) const {
  Example e;
  e.src.assign(ids.begin() + offset, ids.begin() + offset + block);
  e.labels.assign(ids.begin() + offset + 1, ids.begin() + offset + block + 1);
  e.label_distance.assign(block, -1);
  return e;
}

Example TextCorpus::train_window(uint64_t seed, uint64_t i) const {
  const uint64_t starts = train_end - (size_t)block;  // the label of the last token stays in train
  return window(hash_combine(mix64(seed), i) % starts);
}

std::vector<Example> TextCorpus::windows(size_t begin, size_t end, size_t n) const {
  const size_t fit = (end - begin - 1) / (size_t)block;  // each window needs block + 1 tokens
  const size_t take = std::min(n, fit);
  std::vector<Example> out;
  for (size_t k = 0; k < take; ++k) out.push_back(window(begin + (k * fit / take) * (size_t)block));
  return out;
}

TextCorpus parse_text_corpus(const std::string& path, const std::string& text, int block, TextTokens kind) {
  if (block < 1) throw Error(fmt::format("{}: block {} must be at least 1", path, block));
  TextCorpus c;
  c.path = path;
  c.kind = kind;
  c.block = block;
  std::vector<std::string> tokens;
  try {
    tokens = text_token_strings(text, kind);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", path, e.what()));
  }
  if (tokens.empty()) throw Error(fmt::format("{}: no text", path));
  std::vector<std::string> order;
  std::unordered_map<std::string, int> seen;
  for (const auto& t : tokens)
    if (seen.emplace(t, 0).second) order.push_back(t);
  try {
    c.vocab = Vocab(order);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", path, e.what()));
  }
  c.ids.reserve(tokens.size());
  for (const auto& t : tokens) c.ids.push_back(c.vocab.id(t));
  const size_t n = c.ids.size();
  c.train_end = n * 9 / 10;
  c.valid_end = n * 19 / 20;
  const size_t need = (size_t)block + 1;
  if (c.train_end < need + 1 || c.valid_end - c.train_end < need || n - c.valid_end < need)
    throw Error(fmt::format("{}: {} tokens are too few for block {}: each of the train (90%), valid (5%) and test "
                            "(5%) parts needs at least {} tokens",
                            path, n, block, need + 1));
  return c;
}

TextCorpus load_text_corpus(const std::string& path, int block, TextTokens kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open the file", path));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(fmt::format("{}: read error", path));
  return parse_text_corpus(path, text, block, kind);
}

}  // namespace attn::data
