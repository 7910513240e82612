#include "data/vocab.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "data/error.hpp"

namespace attn::data {

namespace {
constexpr const char* kSpecials[] = {"<pad>", "<bos>", "<eos>", "<unk>"};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
}  // namespace

const char* Vocab::special_name(int id) {
  if (id < 0 || id >= NUM_SPECIAL) throw std::out_of_range("not a special token id");
  return kSpecials[id];
}

Vocab::Vocab() : Vocab(std::vector<std::string>{}) {}

Vocab::Vocab(const std::vector<std::string>& tokens) {
  tokens_.reserve(tokens.size() + NUM_SPECIAL);
  for (int i = 0; i < NUM_SPECIAL; ++i) {
    tokens_.emplace_back(kSpecials[i]);
    ids_.emplace(kSpecials[i], i);
  }
  for (const auto& t : tokens) {
    if (t.empty()) throw Error("vocabulary: empty token");
    for (char c : t)
      if (is_space(c)) throw Error(fmt::format("vocabulary: token '{}' contains whitespace", t));
    if (!ids_.emplace(t, (int)tokens_.size()).second)
      throw Error(fmt::format("vocabulary: token '{}' is {}", t,
                              ids_.at(t) < NUM_SPECIAL ? "reserved" : "listed twice"));
    tokens_.push_back(t);
  }
}

int Vocab::id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  return it == ids_.end() ? UNK : it->second;
}

bool Vocab::contains(std::string_view token) const { return ids_.count(std::string(token)) != 0; }

const std::string& Vocab::token(int id) const {
  if (id < 0 || id >= size())
    throw std::out_of_range(fmt::format("token id {} outside the vocabulary [0, {})", id, size()));
  return tokens_[id];
}

std::vector<int> Vocab::encode(std::string_view line) const {
  std::vector<int> ids;
  for (auto t : split_tokens(line)) ids.push_back(id(t));
  return ids;
}

std::string Vocab::decode(const std::vector<int>& ids) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    out += token(ids[i]);
  }
  return out;
}

std::vector<std::string> Vocab::to_strings(const std::vector<int>& ids) const {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int i : ids) out.push_back(token(i));
  return out;
}

nlohmann::json Vocab::to_json() const { return nlohmann::json{{"tokens", tokens_}}; }

Vocab Vocab::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("tokens") || !j["tokens"].is_array())
    throw Error("vocabulary JSON: expected an object with a \"tokens\" array");
  const auto& arr = j["tokens"];
  if (arr.size() < (size_t)NUM_SPECIAL) throw Error("vocabulary JSON: fewer tokens than the specials");
  std::vector<std::string> rest;
  for (size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_string()) throw Error(fmt::format("vocabulary JSON: token {} is not a string", i));
    auto s = arr[i].get<std::string>();
    if (i < (size_t)NUM_SPECIAL) {
      if (s != kSpecials[i])
        throw Error(fmt::format("vocabulary JSON: token {} is '{}', expected '{}'", i, s, kSpecials[i]));
    } else {
      rest.push_back(std::move(s));
    }
  }
  return Vocab(rest);
}

std::vector<std::string_view> split_tokens(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !is_space(line[j])) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace attn::data
