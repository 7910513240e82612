// The one error type data/ throws for bad user input: an unknown task, a bad knob value, a
// malformed data file. The message is complete and meant to be shown as is.
#pragma once
#include <stdexcept>

namespace attn::data {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace attn::data
