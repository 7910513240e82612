// Every differentiable op of the engine. Each is defined, with its backward and its gradcheck
// cases, in one file under autograd/ops/ (named in the comment before it). Templates are
// instantiated for float (training) and double (gradcheck) only.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "autograd/rng.hpp"
#include "autograd/tensor.hpp"

namespace attn {

// ---- ops/elementwise.cpp: NumPy broadcasting; each gradient summed back to its input's shape
template <class T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> neg(const Tensor<T>& x);
template <class T> Tensor<T> add_scalar(const Tensor<T>& x, double s);  // x + s
template <class T> Tensor<T> mul_scalar(const Tensor<T>& x, double s);  // x * s
template <class T> Tensor<T> rdiv_scalar(const Tensor<T>& x, double s); // s / x
template <class T> Tensor<T> pow_scalar(const Tensor<T>& x, double p);  // x ^ p
template <class T> Tensor<T> exp(const Tensor<T>& x);
template <class T> Tensor<T> log(const Tensor<T>& x);
template <class T> Tensor<T> sqrt(const Tensor<T>& x);
template <class T> Tensor<T> tanh(const Tensor<T>& x);
template <class T> Tensor<T> sigmoid(const Tensor<T>& x);
template <class T> Tensor<T> relu(const Tensor<T>& x);
template <class T> Tensor<T> gelu(const Tensor<T>& x);  // exact (erf) form, as PyTorch's default

// ---- ops/matmul.cpp: through BLAS gemm
// a [..., M, K] @ b [..., K, N] -> [..., M, N]; batch dimensions broadcast.
template <class T> Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b);
// x [..., in] @ w[out, in]^T + bias[out] -> [..., out]. `bias` may be undefined.
template <class T> Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias);
// Fused: relu(linear(x, w, bias)), gelu(linear(x, w, bias)), and residual + linear(x, w, bias)
// (residual of the output's shape). Same values as the unfused ops, and for relu and add one
// buffer fewer on the tape.
template <class T> Tensor<T> linear_relu(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias);
template <class T> Tensor<T> linear_gelu(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias);
template <class T>
Tensor<T> linear_add(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias, const Tensor<T>& residual);

// ---- ops/shape.cpp
template <class T> Tensor<T> reshape(const Tensor<T>& x, const std::vector<int64_t>& dims);  // one may be -1
template <class T> Tensor<T> permute(const Tensor<T>& x, const std::vector<int>& dims);
template <class T> Tensor<T> transpose(const Tensor<T>& x, int a, int b);
template <class T> Tensor<T> slice(const Tensor<T>& x, int axis, int64_t start, int64_t end);
template <class T> Tensor<T> concat(const std::vector<Tensor<T>>& xs, int axis);
template <class T> Tensor<T> stack(const std::vector<Tensor<T>>& xs, int axis);

// ---- ops/reduce.cpp: over the given axes (all when empty)
template <class T> Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes = {}, bool keepdim = false);
template <class T> Tensor<T> mean(const Tensor<T>& x, const std::vector<int>& axes = {}, bool keepdim = false);
template <class T> Tensor<T> max(const Tensor<T>& x, const std::vector<int>& axes = {}, bool keepdim = false);

// ---- ops/softmax.cpp: over the last axis, numerically stable. A row that is all -inf gives
// zeros (softmax) rather than NaN.
template <class T> Tensor<T> softmax(const Tensor<T>& x);
template <class T> Tensor<T> log_softmax(const Tensor<T>& x);

// ---- ops/cross_entropy.cpp: logits [..., C], one target id per row; mean over the rows
// whose target is not ignore_index. label_smoothing as PyTorch's CrossEntropyLoss.
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const std::vector<int>& targets,
                        int ignore_index = -100, double label_smoothing = 0.0);

// ---- ops/layer_norm.cpp: over the last axis
template <class T>
Tensor<T> layer_norm(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                     double eps = 1e-5);

// ---- ops/embedding.cpp: weight [V, D]; ids of shape `ids_shape` -> ids_shape + [D]
template <class T>
Tensor<T> embedding(const Tensor<T>& weight, const std::vector<int>& ids, const Shape& ids_shape);

// ---- ops/mask.cpp
// Where mask != 0 (broadcast to x), the output is `value` and no gradient flows.
template <class T> Tensor<T> masked_fill(const Tensor<T>& x, const Tensor<T>& mask, double value);
// Zeroes each element with probability p and scales the rest by 1/(1-p). Draws from `rng`.
template <class T> Tensor<T> dropout(const Tensor<T>& x, double p, Rng& rng, bool training = true);

// ---- ops/rotary.cpp: rotary position embedding (RoPE, Su et al. 2021), rotate-half pairing as
// GPT-NeoX/LLaMA. x [B, T, H*Dh] (packed heads, Dh even); position first_pos + t rotates each
// head's pair (i, i + Dh/2) by angle (first_pos + t) * base^(-2i/Dh).
template <class T> Tensor<T> rotary(const Tensor<T>& x, int heads, double base, int64_t first_pos);

// ---- ops/activations.cpp: Mamba's activations, as PyTorch's. silu(x) = x sigmoid(x);
// softplus(x) = log(1 + e^x), and x itself above 20 (F.softplus's threshold).
template <class T> Tensor<T> silu(const Tensor<T>& x);
template <class T> Tensor<T> softplus(const Tensor<T>& x);

// ---- ops/rms_norm.cpp: over the last axis, x / sqrt(mean(x^2) + eps) * weight (no bias)
template <class T> Tensor<T> rms_norm(const Tensor<T>& x, const Tensor<T>& weight, double eps = 1e-5);

// ---- ops/causal_conv1d.cpp: depthwise convolution over time, causal (nn.Conv1d with groups = C,
// padding K-1, cut to L outputs). x [B, L, C], weight [C, 1, K], bias [C] or undefined -> [B, L, C];
// y[b, t, c] = bias[c] + sum_k weight[c, 0, k] x[b, t-K+1+k, c], x before t = 0 taken as 0.
template <class T> Tensor<T> causal_conv1d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias);

// ---- ops/selective_scan.cpp: Mamba's S6 recurrence, sequential, fused. x, delta [Bt, L, Ch];
// A [Ch, N]; B, C [Bt, L, N]; D [Ch] -> y [Bt, L, Ch], with h_{-1} = 0 and
//   h_t = exp(delta_t A) * h_{t-1} + delta_t B_t x_t,   y_t = C_t . h_t + D x_t   (per channel).
template <class T>
Tensor<T> selective_scan(const Tensor<T>& x, const Tensor<T>& delta, const Tensor<T>& A, const Tensor<T>& B,
                         const Tensor<T>& C, const Tensor<T>& D);

// ---- ops/attention.cpp: fused scaled dot-product attention over packed heads.
// q [B, Tq, H*Dh], k and v [B, Tk, H*Dh] -> out [B, Tq, H*Dh]; scores scaled by 1/sqrt(Dh).
// Query i has position i + query_offset, key j position j. causal: query i sees keys
// j <= i + query_offset. key_padding: B*Tk bytes, non-zero = padded (ignored) key.
// alibi_slopes (ALiBi, Press et al. 2022): adds -m_h * |pos_q - pos_k| to head h's scaled score.
// A query that sees no key gets zero output and zero gradient.
struct AttentionMask {
  // Not an aggregate, so that the callers' AttentionMask{causal, padding} stays warning-free.
  AttentionMask(bool causal = false, std::vector<uint8_t> key_padding = {})
      : causal(causal), key_padding(std::move(key_padding)) {}
  bool causal = false;
  std::vector<uint8_t> key_padding;  // empty, or B*Tk entries
  std::vector<double> alibi_slopes;  // empty (no bias), or one per head
  int64_t query_offset = 0;          // >= 0; Tq = 1, offset = Tk - 1 for one cached decoding step
};
// ALiBi's head slopes, as get_slopes in ofirpress/attention_with_linear_biases: for n a power of
// two, 2^(-8k/n) for k = 1..n; otherwise those of the power of two p below n, then every other
// slope of 2p, up to n in all.
std::vector<double> alibi_slopes(int heads);
template <class T>
struct AttentionResult {
  Tensor<T> out;
  Tensor<T> weights;  // [B, H, Tq, Tk], no gradient; defined only when asked for
};
template <class T>
AttentionResult<T> attention(const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v, int heads,
                             const AttentionMask& mask = {}, bool need_weights = false);
// The same over column blocks of one projection, so that q, k and v come from one gemm (and
// their gradients go back through one): qkv [B, T, 3D] holds q, k, v side by side; kv [B, Tk, 2D]
// holds k, v.
template <class T>
AttentionResult<T> attention_qkv(const Tensor<T>& qkv, int heads, const AttentionMask& mask = {},
                                 bool need_weights = false);
template <class T>
AttentionResult<T> attention_q_kv(const Tensor<T>& q, const Tensor<T>& kv, int heads, const AttentionMask& mask = {},
                                  bool need_weights = false);
// Which kernel attention runs (docs/performance.md). whole: one Tq x Tk score matrix per
// (batch, head) and thread. tiled: FlashAttention's online softmax over q_block x k_block tiles,
// memory linear in T. automatic: tiled from min_keys keys on (min_causal_keys when causal, where
// the tiles skip what no query sees), where bench/attention_bench.cpp measured it faster (whole
// rows were 8-11% faster at 64 keys, and 5% at 128 without a causal mask). A call that keeps its
// weights always runs whole rows. Set once, before any graph runs (not thread-safe).
struct AttentionKernel {
  enum Kind { automatic, whole, tiled } kind = automatic;
  int64_t q_block = 64, k_block = 256, min_keys = 256, min_causal_keys = 128;
};
void set_attention_kernel(const AttentionKernel& k);  // throws Error for blocks below 1
const AttentionKernel& attention_kernel();
const char* attention_kernel_name(AttentionKernel::Kind kind);  // auto, whole or tiled
// The kind a name gives; throws Error naming the choices for any other text (`what` leads it).
AttentionKernel::Kind parse_attention_kernel(const std::string& name, const std::string& what);
// Applies ATTNLAB_ATTENTION (auto | whole | tiled) when it is set; throws Error naming any other
// value. The command line calls it first thing.
void attention_kernel_from_env();

// ---- operators
template <class T> Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) { return add(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) { return sub(a, b); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) { return mul(a, b); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) { return div(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& x) { return neg(x); }
template <class T> Tensor<T> operator+(const Tensor<T>& x, double s) { return add_scalar(x, s); }
template <class T> Tensor<T> operator+(double s, const Tensor<T>& x) { return add_scalar(x, s); }
template <class T> Tensor<T> operator-(const Tensor<T>& x, double s) { return add_scalar(x, -s); }
template <class T> Tensor<T> operator-(double s, const Tensor<T>& x) { return add_scalar(neg(x), s); }
template <class T> Tensor<T> operator*(const Tensor<T>& x, double s) { return mul_scalar(x, s); }
template <class T> Tensor<T> operator*(double s, const Tensor<T>& x) { return mul_scalar(x, s); }
template <class T> Tensor<T> operator/(const Tensor<T>& x, double s) { return mul_scalar(x, 1.0 / s); }
template <class T> Tensor<T> operator/(double s, const Tensor<T>& x) { return rdiv_scalar(x, s); }

}  // namespace attn
