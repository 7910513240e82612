// Private to autograd/: what each op file exports to the explicit lists in registry.cpp (its
// OpDefs and its gradcheck cases), as data/'s task table lists every task by hand.
#pragma once
#include <vector>

#include "autograd/gradcheck.hpp"

namespace attn {

#define ATTN_OP_FILE(file)                                \
  void add_##file##_ops(std::vector<const OpDef*>& ops); \
  void add_##file##_cases(std::vector<GradCase>& out);
ATTN_OP_FILE(activations)
ATTN_OP_FILE(attention)
ATTN_OP_FILE(causal_conv1d)
ATTN_OP_FILE(cross_entropy)
ATTN_OP_FILE(elementwise)
ATTN_OP_FILE(embedding)
ATTN_OP_FILE(layer_norm)
ATTN_OP_FILE(mask)
ATTN_OP_FILE(matmul)
ATTN_OP_FILE(reduce)
ATTN_OP_FILE(rms_norm)
ATTN_OP_FILE(rotary)
ATTN_OP_FILE(selective_scan)
ATTN_OP_FILE(shape)
ATTN_OP_FILE(softmax)
#undef ATTN_OP_FILE
void add_graph_ops(std::vector<const OpDef*>& ops);  // leaf, detach (graph.cpp)

}  // namespace attn
