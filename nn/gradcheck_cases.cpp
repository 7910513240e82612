// Gradcheck cases for every module, with respect to its inputs and all its parameters, in
// float64. Registered beside the ops' cases, so `attnlab gradcheck` lists and runs them too.
#include <memory>

#include "autograd/gradcheck.hpp"
#include "nn/lstm.hpp"
#include "nn/transformer.hpp"

namespace attn {

std::vector<ExternalInput> parameter_inputs(const Module<double>& m) {
  std::vector<ExternalInput> out;
  for (auto& [name, p] : m.named_parameters())
    out.push_back({name, p->value.data(), p->grad.data(), (int64_t)p->value.size()});
  return out;
}

namespace {

InputSpec in(Shape s, bool rg = true) {
  InputSpec i;
  i.shape = s;
  i.requires_grad = rg;
  return i;
}

// Registers a case over module `m` (kept alive by the case) and the float inputs `inputs`.
template <class M, class F>
void module_case(const std::string& op, const std::string& name, std::shared_ptr<M> m, std::vector<InputSpec> inputs,
                 F f) {
  GradCase c;
  c.op = op;
  c.name = name;
  c.inputs = std::move(inputs);
  c.f64 = [m, f](std::vector<Tensor<double>>& x) { return f(*m, x[0].graph(), x); };
  c.externals = [m] { return parameter_inputs(*m); };
  c.tol = module_tolerance();
  c.is_op = false;
  CaseRegistrar{std::move(c)};
}

LayerConfig tiny(bool norm_first, Activation a = Activation::relu) {
  LayerConfig c;
  c.d_model = 4;
  c.heads = 2;
  c.ff = 6;
  c.norm_first = norm_first;
  c.activation = a;
  return c;
}

Rng& init_rng() {
  static Rng r(11);
  return r;
}
Rng& dropout_rng() {
  static Rng r(12);
  return r;
}

const bool kCases = [] {
  module_case("Linear", "bias", std::make_shared<Linear<double>>(3, 2, true, init_rng()), {in({2, 2, 3})},
              [](Linear<double>& m, Graph<double>& g, auto& x) { return m.forward(g, x[0]); });
  module_case("Embedding", "lookup", std::make_shared<Embedding<double>>(5, 3, init_rng()), {in({1}, false)},
              [](Embedding<double>& m, Graph<double>& g, auto&) { return m.forward(g, {4, 1, 4}, {3}); });
  module_case("LayerNorm", "rows", std::make_shared<LayerNorm<double>>(4), {in({3, 4})},
              [](LayerNorm<double>& m, Graph<double>& g, auto& x) { return m.forward(g, x[0]); });
  module_case("FeedForward", "gelu", std::make_shared<FeedForward<double>>(tiny(true, Activation::gelu), init_rng(), dropout_rng()),
              {in({2, 4})}, [](FeedForward<double>& m, Graph<double>& g, auto& x) { return m.forward(g, x[0]); });
  // relu fused into linear1, and a residual fused into linear2.
  module_case("FeedForward", "relu_residual", std::make_shared<FeedForward<double>>(tiny(true), init_rng(), dropout_rng()),
              {in({2, 3, 4}), in({2, 3, 4})},
              [](FeedForward<double>& m, Graph<double>& g, auto& x) { return m.forward(g, x[0], x[1]); });
  module_case("MultiHeadAttention", "self_causal", std::make_shared<MultiHeadAttention<double>>(4, 2, init_rng()),
              {in({2, 3, 4})}, [](MultiHeadAttention<double>& m, Graph<double>& g, auto& x) {
                return m.forward(g, x[0], x[0], x[0], AttentionMask{true, {}});
              });
  // Cross-attention with padded memory; batch 1's memory is fully padded.
  module_case("MultiHeadAttention", "cross_padded", std::make_shared<MultiHeadAttention<double>>(4, 2, init_rng()),
              {in({2, 2, 4}), in({2, 3, 4})}, [](MultiHeadAttention<double>& m, Graph<double>& g, auto& x) {
                return m.forward(g, x[0], x[1], x[1], AttentionMask{false, {0, 0, 1, 1, 1, 1}});
              });
  for (bool nf : {true, false}) {
    const std::string kind = nf ? "pre_ln" : "post_ln";
    module_case("EncoderLayer", kind, std::make_shared<EncoderLayer<double>>(tiny(nf), init_rng(), dropout_rng()),
                {in({2, 3, 4})}, [](EncoderLayer<double>& m, Graph<double>& g, auto& x) {
                  return m.forward(g, x[0], AttentionMask{false, {0, 0, 1, 0, 0, 0}});
                });
    module_case("DecoderLayer", kind, std::make_shared<DecoderLayer<double>>(tiny(nf), init_rng(), dropout_rng()),
                {in({1, 3, 4}), in({1, 2, 4})}, [](DecoderLayer<double>& m, Graph<double>& g, auto& x) {
                  return m.forward(g, x[0], x[1], AttentionMask{true, {}}, AttentionMask{false, {0, 1}});
                });
  }
  module_case("Encoder", "two_layers", std::make_shared<Encoder<double>>(tiny(true), 2, init_rng(), dropout_rng()),
              {in({1, 3, 4})}, [](Encoder<double>& m, Graph<double>& g, auto& x) { return m.forward(g, x[0], {}); });
  module_case("Decoder", "two_layers", std::make_shared<Decoder<double>>(tiny(true), 2, init_rng(), dropout_rng()),
              {in({1, 2, 4}), in({1, 3, 4})}, [](Decoder<double>& m, Graph<double>& g, auto& x) {
                return m.forward(g, x[0], x[1], AttentionMask{true, {}}, {});
              });
  // Two layers over padded sequences of lengths 3 and 2: the final state must stop at each end.
  module_case("LSTM", "two_layers_padded", std::make_shared<LSTM<double>>(2, 3, 2, 0.0, init_rng(), dropout_rng()),
              {in({2, 3, 2})}, [](LSTM<double>& m, Graph<double>& g, auto& x) {
                auto state = m.zero_state(g, 2);
                const std::vector<int> lengths = {3, 2};
                Tensor<double> out = m.forward(g, x[0], state, &lengths);
                return concat(std::vector{reshape(out, {-1}), reshape(state.h[1], {-1}), reshape(state.c[1], {-1})}, 0);
              });
  return true;
}();

}  // namespace
}  // namespace attn
