#include "autograd/arena.hpp"

#include <cstdlib>
#include <new>

namespace attn {

namespace {
constexpr size_t kAlign = 64;
constexpr size_t kMinChunk = size_t(1) << 20;
size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
}  // namespace

Arena::~Arena() {
  for (auto& c : chunks_) std::free(c.data);
}

void Arena::add_chunk(size_t min_bytes) {
  size_t size = std::max(min_bytes, kMinChunk);
  if (!chunks_.empty()) size = std::max(size, chunks_.back().size * 2);
  void* p = std::aligned_alloc(kAlign, round_up(size));
  if (!p) throw std::bad_alloc();
  ++heap_allocations_;
  chunks_.push_back({static_cast<char*>(p), round_up(size), 0});
}

void* Arena::allocate(size_t bytes) {
  bytes = round_up(bytes == 0 ? 1 : bytes);
  if (chunks_.empty() || chunks_.back().size - chunks_.back().used < bytes) add_chunk(bytes);
  Chunk& c = chunks_.back();
  void* p = c.data + c.used;
  c.used += bytes;
  used_total_ += bytes;
  return p;
}

void Arena::reset() {
  if (chunks_.size() > 1) {
    size_t total = 0;
    for (auto& c : chunks_) {
      total += c.size;
      std::free(c.data);
    }
    chunks_.clear();
    add_chunk(total);
  }
  if (!chunks_.empty()) chunks_.back().used = 0;
  used_total_ = 0;
}

size_t Arena::capacity() const {
  size_t total = 0;
  for (auto& c : chunks_) total += c.size;
  return total;
}

}  // namespace attn
