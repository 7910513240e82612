// Users' own data: DIR/train.tsv, DIR/valid.tsv, DIR/test.tsv.
//
// Each non-empty line is source tokens, a TAB, target tokens; tokens are separated by ASCII
// whitespace (later TABs just separate target tokens). CRLF endings, a UTF-8 byte-order mark and
// UTF-8 tokens are accepted; empty lines are skipped. The vocabulary is every token of train.tsv
// in order of first appearance; valid/test tokens outside it become <unk>. The token <unk> in a
// file means UNK; <pad>, <bos> and <eos> are reserved. Distances are unknown (-1).
#pragma once
#include <string>
#include <vector>

#include "data/example.hpp"
#include "data/vocab.hpp"

namespace attn::data {

struct FileDataset {
  std::string dir;
  Vocab vocab;
  std::vector<Example> train, valid, test;
  size_t valid_unk = 0, test_unk = 0;  // tokens that became <unk>
};

// Throws data::Error "PATH:LINE: reason" for a line with no TAB, an empty source or target,
// invalid UTF-8 or a reserved token, and "PATH: reason" for a missing, unreadable or empty file.
FileDataset load_file_dataset(const std::string& dir);

// The same, from the three files' contents already in memory (tests, fuzzing); messages name
// DIR/train.tsv etc. exactly as load_file_dataset(dir) would.
FileDataset parse_file_dataset(const std::string& dir, const std::string& train, const std::string& valid,
                               const std::string& test);

}  // namespace attn::data
