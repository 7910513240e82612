// Token vocabulary shared by a task (or a file dataset) and the model.
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace attn::data {

// Ids 0-3 are the specials, the same in every vocabulary; task tokens follow from id 4.
class Vocab {
 public:
  static constexpr int PAD = 0;
  static constexpr int BOS = 1;
  static constexpr int EOS = 2;
  static constexpr int UNK = 3;
  static constexpr int NUM_SPECIAL = 4;
  static const char* special_name(int id);  // "<pad>", "<bos>", "<eos>", "<unk>"

  Vocab();  // specials only
  // Appends `tokens` after the specials, in order. Throws data::Error on an empty token, a token
  // containing whitespace, a duplicate, or a special's name.
  explicit Vocab(const std::vector<std::string>& tokens);

  int size() const { return (int)tokens_.size(); }
  // Id of `token`, or UNK when it is not in the vocabulary.
  int id(std::string_view token) const;
  bool contains(std::string_view token) const;
  // Throws std::out_of_range for an id outside [0, size()).
  const std::string& token(int id) const;
  const std::vector<std::string>& tokens() const { return tokens_; }  // index = id

  // Whitespace-separated tokens -> ids; unknown tokens become UNK.
  std::vector<int> encode(std::string_view line) const;
  // Ids -> tokens joined by single spaces.
  std::string decode(const std::vector<int>& ids) const;
  std::vector<std::string> to_strings(const std::vector<int>& ids) const;

  // {"tokens": [...all tokens including the specials...]}: enough to rebuild the same ids.
  nlohmann::json to_json() const;
  // Throws data::Error unless `j` is what to_json() writes.
  static Vocab from_json(const nlohmann::json& j);

  bool operator==(const Vocab& o) const { return tokens_ == o.tokens_; }
  bool operator!=(const Vocab& o) const { return !(*this == o); }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int> ids_;
};

// Splits on ASCII whitespace (space, \t, \n, \v, \f, \r); other bytes, including UTF-8, belong to
// tokens.
std::vector<std::string_view> split_tokens(std::string_view line);

}  // namespace attn::data
