#include "models/positions.hpp"

#include <fmt/format.h>

namespace attn {

PosEncoding parse_pos_encoding(const std::string& s) {
  if (s == "learned") return PosEncoding::learned;
  if (s == "sinusoidal") return PosEncoding::sinusoidal;
  if (s == "rope") return PosEncoding::rope;
  if (s == "alibi") return PosEncoding::alibi;
  if (s == "none") return PosEncoding::none;
  throw Error(fmt::format("unknown position encoding '{}' (learned, sinusoidal, rope, alibi or none)", s));
}

bool has_position_table(PosEncoding p) { return p == PosEncoding::learned || p == PosEncoding::sinusoidal; }

AttentionPositions attention_positions(PosEncoding p, double rope_base, int heads) {
  AttentionPositions a;
  if (p == PosEncoding::rope) a.rope_base = rope_base;
  if (p == PosEncoding::alibi) a.alibi_slopes = alibi_slopes(heads);
  return a;
}

}  // namespace attn
