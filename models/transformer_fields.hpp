// What the Transformer families (family_transformer.cpp, family_gpt.cpp) share: their width,
// block and position settings, declared once, and the checks and options read from them.
#pragma once
#include <vector>

#include "models/config.hpp"
#include "models/fields.hpp"
#include "models/positions.hpp"
#include "nn/transformer.hpp"

namespace attn {

std::vector<FieldSpec> width_fields();  // d_model, heads, ff
// dropout, norm_first, activation (defaulting to `activation`)
std::vector<FieldSpec> block_fields(const std::string& activation);
// pos (with `pos_help`), rope_base, max_len
std::vector<FieldSpec> position_fields(const std::string& pos_help);

LayerConfig layer_config(const ModelConfig& c);
// Heads divide d_model, rope's head width is even, max_len is resolved; throws attn::Error.
void check_attention_fields(const ModelConfig& c);
// Sets max_len to `need` when 0; throws when a position table is given fewer rows than `need`.
void fit_position_table(ModelConfig& c, int64_t need, const char* what);

}  // namespace attn
