// What the sweep tests share: a grid of tiny models, each run a second or two.
#pragma once
#include <string>

namespace attn_test {

inline const std::string kTiny =
    "sweep --task copy --d-model 16 --heads 2 --ff 32 --enc-layers 1 --dec-layers 1 --batch 16 --eval-examples 50 "
    "--threads 1 --steps 10 --eval-every 10 --models transformer ";

inline size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace attn_test
