#include "models/transformer_fields.hpp"

#include <fmt/format.h>

#include "autograd/shape.hpp"

namespace attn {

std::vector<FieldSpec> width_fields() {
  return {int_field("d_model", 64, "Width of embeddings and layers", 1), int_field("heads", 4, "Attention heads", 1),
          int_field("ff", 256, "Feed-forward width", 1)};
}

std::vector<FieldSpec> block_fields(const std::string& activation) {
  return {real_field("dropout", 0.0, "Dropout probability", 0.0, 0.999999),
          bool_field("norm_first", true, "Pre-LN (default) or post-LN layers").flags("--norm-first,!--post-norm"),
          choice_field("activation", activation, {"relu", "gelu"}, "Feed-forward activation")};
}

std::vector<FieldSpec> position_fields(const std::string& pos_help) {
  return {choice_field("pos", "learned", {"learned", "sinusoidal", "rope", "alibi", "none"}, pos_help),
          real_field("rope_base", 10000.0, "RoPE's base: pair i of a head turns by base^(-2i/head width) per position", 1.0),
          int_field("max_len", 0, "Rows of the position table (0: the data's longest sequence)", 0)};
}

LayerConfig layer_config(const ModelConfig& c) {
  LayerConfig l;
  l.d_model = c.integer("d_model");
  l.heads = (int)c.integer("heads");
  l.ff = c.integer("ff");
  l.dropout = c.real("dropout");
  l.norm_first = c.flag("norm_first");
  l.activation = parse_activation(c.text("activation"));
  return l;
}

void check_attention_fields(const ModelConfig& c) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw Error("model config: " + what);
  };
  const int64_t d = c.integer("d_model"), h = c.integer("heads");
  need(d % h == 0, fmt::format("d_model {} is not divisible by {} heads", d, h));
  need(c.text("pos") != "rope" || (d / h) % 2 == 0,
       fmt::format("--pos rope turns pairs of a head's features: the head width d_model / heads = {} must be even", d / h));
  need(c.integer("max_len") > 0, "max_len must be positive (0 is resolved from the data before a model is built)");
}

void fit_position_table(ModelConfig& c, int64_t need, const char* what) {
  const int64_t given = c.integer("max_len");
  if (given == 0) c.fields["max_len"] = need;
  else if (given < need && has_position_table(parse_pos_encoding(c.text("pos"))))
    throw Error(fmt::format("--max-len {} is shorter than the data's longest {} ({})", given, what, need));
}

}  // namespace attn
