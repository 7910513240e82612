// Gradcheck cases of attention, attention_qkv, attention_q_kv and attention_weights (the ops are
// in attention.cpp), against the naive reference (reference.cpp): whole rows, tiles and packed
// projections.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops/reference.hpp"
#include "autograd/ops/registry.hpp"

namespace attn {
namespace {

using Vals = std::vector<std::vector<double>>;

// The oracle's attention; one input stands for q, k and v when the case reuses it.
std::vector<double> ref_attention(const Vals& x, int64_t B, int64_t Tq, int64_t Tk, int64_t D, int64_t H,
                                  const AttentionMask& m) {
  const auto &q = x[0], &k = x[x.size() > 1 ? 1 : 0], &v = x[x.size() > 2 ? 2 : 0];
  return ref::attention(q, k, v, {B, Tq, Tk, D, H}, m.causal, m.key_padding, m.alibi_slopes, m.query_offset);
}

InputSpec in(Shape s) {
  InputSpec i;
  i.shape = s;
  i.lo = -1.5;
  i.hi = 1.5;
  return i;
}

void add(std::vector<GradCase>& out, const char* name, int64_t B, int64_t Tq, int64_t Tk, int64_t D, int64_t H,
         AttentionMask m) {
  out.push_back(make_case("attention", name, {in({B, Tq, D}), in({B, Tk, D}), in({B, Tk, D})},
                          [=](auto& x) { return attention(x[0], x[1], x[2], (int)H, m).out; },
                          [=](const Vals& v) { return ref_attention(v, B, Tq, Tk, D, H, m); }));
}

// The tiled kernel at blocks of qb queries and kb keys, small enough that every case spans
// several tiles in both directions (and partial ones at the ends).
void add_tiled(std::vector<GradCase>& out, const char* name, int64_t B, int64_t Tq, int64_t Tk, int64_t D, int64_t H,
               AttentionMask m, int64_t qb, int64_t kb) {
  out.push_back(make_case("attention", name, {in({B, Tq, D}), in({B, Tk, D}), in({B, Tk, D})},
                          [=](auto& x) {
                            const AttentionKernel before = attention_kernel();
                            set_attention_kernel({AttentionKernel::tiled, qb, kb});
                            auto r = attention(x[0], x[1], x[2], (int)H, m).out;
                            set_attention_kernel(before);  // backward keeps the blocks it was built with
                            return r;
                          },
                          [=](const Vals& v) { return ref_attention(v, B, Tq, Tk, D, H, m); }));
}

void tiled_cases(std::vector<GradCase>& out) {
  add_tiled(out, "tiled_self", 2, 5, 5, 4, 2, {}, 2, 2);
  // Row 1's first key is padded: its first query sees nothing in the first tile.
  add_tiled(out, "tiled_causal_key_padding", 2, 5, 5, 4, 2, {true, {0, 0, 1, 0, 0, 1, 0, 0, 1, 0}}, 2, 2);
  add_tiled(out, "tiled_fully_masked_rows", 2, 3, 4, 2, 1, {false, {0, 1, 0, 1, 1, 1, 1, 1}}, 2, 3);
  AttentionMask alibi;
  alibi.alibi_slopes = {0.7, 0.3};
  add_tiled(out, "tiled_cross_alibi", 2, 3, 7, 4, 2, alibi, 2, 3);
  AttentionMask step;
  step.causal = true;
  step.query_offset = 5;
  step.alibi_slopes = alibi_slopes(2);
  step.key_padding = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  add_tiled(out, "tiled_causal_query_offset_alibi_padding", 2, 2, 7, 4, 2, step, 1, 2);
}

// Column block c of width D out of rows of width W (a packed projection's q, k or v).
std::vector<double> columns(const std::vector<double>& x, int64_t W, int64_t c, int64_t D) {
  std::vector<double> out;
  for (size_t r = 0; r < x.size() / W; ++r) out.insert(out.end(), x.begin() + r * W + c * D, x.begin() + r * W + (c + 1) * D);
  return out;
}

// attention_qkv and attention_q_kv against the oracle on the split blocks, whole rows and tiles.
void packed_cases(std::vector<GradCase>& out) {
  auto qkv = [&](const char* name, int64_t B, int64_t T, int64_t D, int64_t H, AttentionMask m, int64_t qb, int64_t kb,
                 bool weights) {
    out.push_back(make_case("attention_qkv", name, {in({B, T, 3 * D})},
                            [=](auto& x) {
                              const AttentionKernel before = attention_kernel();
                              if (qb) set_attention_kernel({AttentionKernel::tiled, qb, kb});
                              auto r = attention_qkv(x[0], (int)H, m, weights).out;
                              set_attention_kernel(before);
                              return r;
                            },
                            [=](const Vals& v) {
                              const Vals split{columns(v[0], 3 * D, 0, D), columns(v[0], 3 * D, 1, D),
                                               columns(v[0], 3 * D, 2, D)};
                              return ref_attention(split, B, T, T, D, H, m);
                            }));
  };
  qkv("self", 2, 3, 4, 2, {}, 0, 0, false);
  qkv("causal_key_padding", 2, 4, 4, 2, {true, {0, 0, 1, 0, 1, 0, 0, 0}}, 0, 0, false);
  qkv("causal_weights_kept", 2, 3, 4, 2, {true, {}}, 0, 0, true);
  AttentionMask alibi;
  alibi.causal = true;
  alibi.alibi_slopes = {0.7, 0.3};
  qkv("alibi_causal", 2, 4, 4, 2, alibi, 0, 0, false);
  qkv("tiled_causal_alibi", 2, 5, 4, 2, alibi, 2, 2, false);
  qkv("tiled_key_padding", 2, 5, 4, 2, {false, {0, 0, 1, 0, 0, 1, 0, 0, 1, 0}}, 2, 3, false);
  auto q_kv = [&](const char* name, int64_t B, int64_t Tq, int64_t Tk, int64_t D, int64_t H, AttentionMask m,
                  int64_t qb, int64_t kb) {
    out.push_back(make_case("attention_q_kv", name, {in({B, Tq, D}), in({B, Tk, 2 * D})},
                            [=](auto& x) {
                              const AttentionKernel before = attention_kernel();
                              if (qb) set_attention_kernel({AttentionKernel::tiled, qb, kb});
                              auto r = attention_q_kv(x[0], x[1], (int)H, m).out;
                              set_attention_kernel(before);
                              return r;
                            },
                            [=](const Vals& v) {
                              const Vals split{v[0], columns(v[1], 2 * D, 0, D), columns(v[1], 2 * D, 1, D)};
                              return ref_attention(split, B, Tq, Tk, D, H, m);
                            }));
  };
  q_kv("cross_key_padding", 2, 2, 4, 4, 2, {false, {0, 0, 0, 1, 0, 1, 0, 0}}, 0, 0);
  q_kv("tiled_cross", 2, 3, 5, 4, 2, {}, 2, 2);
}

void cases(std::vector<GradCase>& out) {
  tiled_cases(out);
  packed_cases(out);
  add(out, "self_2heads", 2, 3, 3, 4, 2, {});
  add(out, "cross_tq_ne_tk", 1, 2, 4, 6, 3, {});
  add(out, "causal", 2, 4, 4, 4, 2, {true, {}});
  add(out, "key_padding", 2, 3, 3, 4, 1, {false, {0, 0, 1, 0, 1, 1}});
  // Batch 1's keys are all padded: its queries see nothing, so output and gradient are zero.
  add(out, "fully_masked_rows", 2, 2, 3, 2, 1, {false, {0, 1, 0, 1, 1, 1}});
  // Causal with the first key padded: query 0 sees no key.
  add(out, "causal_first_key_padded", 1, 3, 3, 4, 2, {true, {1, 0, 0}});
  // With the weights kept, backward reads the stored probabilities instead of recomputing them.
  out.push_back(make_case("attention", "weights_kept_causal_padded", {in({2, 3, 4}), in({2, 3, 4}), in({2, 3, 4})},
                          [](auto& x) { return attention(x[0], x[1], x[2], 2, {true, {0, 0, 1, 0, 0, 0}}, true).out; },
                          [](const Vals& v) { return ref_attention(v, 2, 3, 3, 4, 2, {true, {0, 0, 1, 0, 0, 0}}); }));
  // ALiBi. Slopes of 2 heads are 1/16 and 1/256, of 3 heads 1/16, 1/256, 1/4 (not a power of
  // two); the hand-picked 0.7 and 0.3 make the bias large beside the scores of short sequences.
  AttentionMask alibi;
  alibi.alibi_slopes = {0.7, 0.3};
  add(out, "alibi", 2, 3, 4, 4, 2, alibi);
  alibi.causal = true;
  add(out, "alibi_causal", 2, 4, 4, 4, 2, alibi);
  alibi.key_padding = {0, 0, 1, 0, 1, 0, 0, 0};
  add(out, "alibi_causal_key_padding", 2, 4, 4, 4, 2, alibi);
  AttentionMask alibi3;
  alibi3.alibi_slopes = alibi_slopes(3);
  alibi3.key_padding = {0, 1, 0, 0, 0, 0, 0, 1};
  add(out, "alibi_3heads_key_padding", 2, 3, 4, 6, 3, alibi3);
  // A query offset: one cached decoding step (Tq = 1 at position Tk - 1, and at position 1),
  // and two queries at positions 2 and 3 over five keys.
  AttentionMask step;
  step.causal = true;
  step.query_offset = 3;
  add(out, "causal_query_offset_decode_step", 2, 1, 4, 4, 2, step);
  step.query_offset = 1;
  add(out, "causal_query_offset_sees_2_of_4", 1, 1, 4, 4, 2, step);
  AttentionMask two;
  two.causal = true;
  two.query_offset = 2;
  two.alibi_slopes = alibi_slopes(2);
  add(out, "causal_query_offset_tq2_tk5_alibi", 2, 2, 5, 4, 2, two);
  AttentionMask kept;
  kept.causal = true;
  kept.key_padding = {0, 0, 1, 0, 0, 0};
  kept.alibi_slopes = {0.5, 0.25};
  kept.query_offset = 1;
  out.push_back(make_case("attention", "weights_kept_alibi_causal_offset", {in({2, 2, 4}), in({2, 3, 4}), in({2, 3, 4})},
                          [=](auto& x) { return attention(x[0], x[1], x[2], 2, kept, true).out; },
                          [=](const Vals& v) { return ref_attention(v, 2, 2, 3, 4, 2, kept); }));
  AttentionMask none;
  out.push_back(make_case("attention", "reused_qkv", {in({1, 3, 4})},
                          [=](auto& x) { return attention(x[0], x[0], x[0], 2, none).out; },
                          [=](const Vals& v) { return ref_attention(v, 1, 3, 3, 4, 2, none); }));
  // The weights, exposed for inspection, carry no gradient: their case checks the forward only.
  InputSpec c = in({1, 2, 2}), kk = in({1, 3, 2});
  c.requires_grad = kk.requires_grad = false;
  const AttentionMask causal_pad{true, {0, 1, 0}};
  out.push_back(make_case("attention_weights", "causal_padded", {c, kk, kk},
                          [=](auto& x) { return attention(x[0], x[1], x[2], 2, causal_pad, true).weights; },
                          [=](const Vals& v) {
                            // Weights of head h are the output for v = one-hot of each key.
                            std::vector<double> w;
                            for (int64_t h = 0; h < 2; ++h)
                              for (int64_t i = 0; i < 2; ++i)
                                for (int64_t j = 0; j < 3; ++j) {
                                  Vals e = {v[0], v[1], std::vector<double>(6, 0.0)};
                                  e[2][j * 2 + h] = 1.0;
                                  w.push_back(ref_attention(e, 1, 2, 3, 2, 2, causal_pad)[i * 2 + h]);
                                }
                            return w;
                          }));
}

}  // namespace

void add_attention_cases(std::vector<GradCase>& out) { cases(out); }

}  // namespace attn
