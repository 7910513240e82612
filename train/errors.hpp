// The errors a run raises. The command line (train/cli/) turns them into messages and exit codes;
// nothing below it knows about exit codes or flags' parsing.
#pragma once
#include "autograd/shape.hpp"

namespace attn {

// Bad settings or bad input files: the run cannot start (exit code 2).
class ConfigError : public Error {
 public:
  using Error::Error;
};

// The loss or gradient norm stopped being finite (exit code 3).
class NonFiniteError : public Error {
 public:
  using Error::Error;
};

}  // namespace attn
