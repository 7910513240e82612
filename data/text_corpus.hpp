// A text file as a language-modelling corpus (`--data-text`), nanoGPT's shakespeare_char setting.
//
// Tokens are characters (UTF-8 code points) or, with TextTokens::words, whitespace-separated
// words. The vocabulary is every token of the file in order of first appearance; whitespace
// characters get visible names (<sp>, <nl>, <tab>, <cr>, <0x0b>, <0x0c>) because a vocabulary
// token holds no whitespace. The split is by position: the first 90% trains, the next 5% is
// validation and the last 5% test, so no evaluated window overlaps training text. An example is a
// window of `block` tokens whose label at each position is the next token (Zoology's stream
// layout, every position labelled); training windows start anywhere in the training part, drawn
// from the seed, and evaluation windows are evenly spaced, non-overlapping, over their part.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/example.hpp"
#include "data/vocab.hpp"

namespace attn::data {

enum class TextTokens { chars, words };
TextTokens parse_text_tokens(const std::string& s);  // "chars" | "words"; throws data::Error
const char* text_tokens_name(TextTokens t);

// The tokens of `text`, as vocabulary strings (whitespace characters by their names).
std::vector<std::string> text_token_strings(const std::string& text, TextTokens kind);
// Vocabulary strings back to text: names to their characters; words joined by spaces.
std::string detokenize(const std::vector<std::string>& tokens, TextTokens kind);

struct TextCorpus {
  std::string path;
  TextTokens kind = TextTokens::chars;
  int block = 64;
  Vocab vocab;
  std::vector<int> ids;            // the whole file
  size_t train_end = 0, valid_end = 0;  // [0, train_end) train, then valid, then test

  // The window starting at `offset`: src = ids[offset, offset+block), labels the tokens after.
  Example window(size_t offset) const;
  // Training window i for `seed`: a start in the training part drawn from (seed, i).
  Example train_window(uint64_t seed, uint64_t i) const;
  // Up to `n` evenly spaced non-overlapping windows of [begin, end).
  std::vector<Example> windows(size_t begin, size_t end, size_t n) const;
};

// Throws data::Error naming the file for a missing, unreadable or empty file, invalid UTF-8, a
// block below 1, or a part too short to hold one window of `block` tokens plus its label.
TextCorpus load_text_corpus(const std::string& path, int block, TextTokens kind);
TextCorpus parse_text_corpus(const std::string& path, const std::string& text, int block, TextTokens kind);

}  // namespace attn::data
