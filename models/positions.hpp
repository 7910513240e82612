// How a Transformer knows positions (docs/models.md): a learned or sinusoidal table added to the
// embeddings; inside self-attention, rotated queries and keys (rope, Su et al. 2021) or a distance
// bias on the scores (alibi, Press et al. 2022); or nothing at all (none, NoPE, Kazemnejad et al.
// 2023: only causal attention can tell positions apart).
#pragma once
#include <string>

#include "nn/attention.hpp"

namespace attn {

enum class PosEncoding { learned, sinusoidal, rope, alibi, none };
PosEncoding parse_pos_encoding(const std::string& s);  // throws attn::Error
// learned and sinusoidal: a table of max_len rows, which bounds the positions.
bool has_position_table(PosEncoding p);
// The settings a self-attention needs for `p` (none for a table or none).
AttentionPositions attention_positions(PosEncoding p, double rope_base, int heads);

}  // namespace attn
