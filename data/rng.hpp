// Deterministic randomness for data generation. Everything here is specified bit for bit (no
// std::*_distribution, whose output is implementation-defined), so a seed names the same
// examples on every platform and compiler.
#pragma once
#include <cstdint>

namespace attn::data {

// splitmix64 finaliser: a bijective 64-bit mixer.
inline uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Order-dependent combination of a running hash with one more value.
inline uint64_t hash_combine(uint64_t h, uint64_t v) { return mix64(h ^ mix64(v)); }

// xoshiro256** seeded through splitmix64.
class Xoshiro {
 public:
  explicit Xoshiro(uint64_t seed) {
    for (auto& w : s_) {
      seed = mix64(seed);
      w = seed;
    }
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) for n >= 1, unbiased (Lemire's multiply-and-reject).
  uint64_t below(uint64_t n) {
    unsigned __int128 m = (unsigned __int128)next() * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = (unsigned __int128)next() * n;
        low = (uint64_t)m;
      }
    }
    return (uint64_t)(m >> 64);
  }
  // Uniform integer in [lo, hi], lo <= hi.
  int64_t range(int64_t lo, int64_t hi) { return lo + (int64_t)below((uint64_t)(hi - lo) + 1); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return (double)(next() >> 11) * 0x1.0p-53; }
  bool bernoulli(double p) { return uniform() < p; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace attn::data
