// Drawing the next token from a row of logits, shared by the language models' sample().
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/rng.hpp"

namespace attn {

// A token drawn from softmax(row / temperature) over the top_k largest logits (0: all);
// temperature 0 is the argmax (the first of equal ones, as greedy_step takes). Ties at the
// k-th largest logit are all kept.
template <class T>
int pick_token(const T* row, int64_t V, double temperature, int64_t top_k, Rng& rng);

// Throws attn::Error, naming `who`, for an empty prompt, a negative temperature or top_k.
void check_sample_args(const std::string& who, const std::vector<int>& prompt, double temperature, int64_t top_k);

}  // namespace attn
