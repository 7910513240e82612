// The one list of op files. A new op file adds itself here; test_gradcheck then fails until
// its ops have cases and references, and also when an op reaches a tape without being listed.
#include "autograd/ops/registry.hpp"

namespace attn {

namespace {

struct OpFile {
  void (*ops)(std::vector<const OpDef*>&);
  void (*cases)(std::vector<GradCase>&);
};

// In the order the static initialisers used to run, so `attnlab gradcheck` prints as before.
constexpr OpFile kOpFiles[] = {
    {add_attention_ops, add_attention_cases},     {add_cross_entropy_ops, add_cross_entropy_cases},
    {add_elementwise_ops, add_elementwise_cases}, {add_embedding_ops, add_embedding_cases},
    {add_layer_norm_ops, add_layer_norm_cases},   {add_mask_ops, add_mask_cases},
    {add_matmul_ops, add_matmul_cases},           {add_reduce_ops, add_reduce_cases},
    {add_rotary_ops, add_rotary_cases},           {add_shape_ops, add_shape_cases},
    {add_softmax_ops, add_softmax_cases},
    // Mamba's ops, after the ones above so that the earlier listing keeps its order.
    {add_activations_ops, add_activations_cases}, {add_rms_norm_ops, add_rms_norm_cases},
    {add_causal_conv1d_ops, add_causal_conv1d_cases}, {add_selective_scan_ops, add_selective_scan_cases},
};

}  // namespace

std::vector<const OpDef*> autograd_ops() {
  std::vector<const OpDef*> ops;
  add_graph_ops(ops);
  for (const OpFile& f : kOpFiles) f.ops(ops);
  return ops;
}

std::vector<GradCase> autograd_cases() {
  std::vector<GradCase> out;
  for (const OpFile& f : kOpFiles) f.cases(out);
  return out;
}

}  // namespace attn
