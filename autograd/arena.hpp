// A bump allocator for the values and gradients of one graph. reset() rewinds it; once a step
// has run, later steps of the same shapes allocate nothing from the heap.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace attn {

class Arena {
 public:
  Arena() = default;
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // `bytes` of uninitialised memory, 64-byte aligned, valid until reset().
  void* allocate(size_t bytes);
  template <class U>
  U* allocate_n(int64_t n) {
    return static_cast<U*>(allocate(sizeof(U) * (size_t)(n > 0 ? n : 1)));
  }
  // Frees nothing; merges the chunks into one big enough for everything used so far.
  void reset();

  size_t bytes_in_use() const { return used_total_; }
  size_t capacity() const;
  // Heap allocations made so far (chunks obtained from the system).
  size_t heap_allocations() const { return heap_allocations_; }

 private:
  struct Chunk {
    char* data;
    size_t size;
    size_t used;
  };
  void add_chunk(size_t min_bytes);
  std::vector<Chunk> chunks_;
  size_t used_total_ = 0;
  size_t heap_allocations_ = 0;
};

}  // namespace attn
