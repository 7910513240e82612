// Gradcheck cases for every module, with respect to its inputs and all its parameters, in
// float64. Listed with the ops' cases by `attnlab gradcheck`.
#include "nn/gradcheck_cases.hpp"

#include <memory>

#include "nn/lstm.hpp"
#include "nn/recurrent.hpp"
#include "nn/transformer.hpp"

namespace attn {

uint64_t case_seed(const std::string& op, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : op + "/" + name) h = (h ^ ch) * 0x100000001b3ULL;
  return h;
}

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

// A case's own generators. Modules keep a reference to the dropout one, so the case owns both.
struct CaseRngs {
  Rng init, dropout;
};

struct Builder {
  std::vector<GradCase>& out;
  const CaseFilter& keep;

  // Adds a case over the module `make(init, dropout)` returns (kept alive by the case) and the
  // float inputs `inputs`.
  template <class Make, class F>
  void operator()(const std::string& op, const std::string& name, Make make, std::vector<InputSpec> inputs, F f) {
    if (keep && !keep(op, name)) return;
    const uint64_t seed = case_seed(op, name);
    auto rngs = std::make_shared<CaseRngs>(CaseRngs{Rng(seed), Rng(seed + 1)});
    auto m = make(rngs->init, rngs->dropout);
    GradCase c;
    c.op = op;
    c.name = name;
    c.inputs = std::move(inputs);
    c.f64 = [m, rngs, f](std::vector<Tensor<double>>& x) { return f(*m, x[0].graph(), x); };
    c.externals = [m] { return parameter_inputs(*m); };
    c.tol = module_tolerance();
    c.is_op = false;
    out.push_back(std::move(c));
  }
};

LayerConfig tiny(bool norm_first, Activation a = Activation::relu) {
  LayerConfig c;
  c.d_model = 4;
  c.heads = 2;
  c.ff = 6;
  c.norm_first = norm_first;
  c.activation = a;
  return c;
}

// Module makers: (init, dropout generators) -> shared_ptr<M>, the generators passed last.
template <class M, class... A>
auto made(A... a) {
  return [=](Rng& init, Rng& drop) { return std::make_shared<M>(a..., init, drop); };
}
template <class M, class... A>
auto made_no_dropout(A... a) {
  return [=](Rng& init, Rng&) { return std::make_shared<M>(a..., init); };
}

// A GRU or RNN: one layer over full sequences, and two layers over padded ones (lengths 3 and
// 1) whose final states must stop at each end; the outputs and every layer's final state.
template <class M>
void add_hidden_recurrent_cases(Builder& module_case, const std::string& op) {
  auto outputs = [](const Tensor<double>& out, const typename M::State& s) {
    std::vector<Tensor<double>> parts = {reshape(out, {-1})};
    for (const Tensor<double>& h : s.h) parts.push_back(reshape(h, {-1}));
    return concat(parts, 0);
  };
  module_case(op, "one_layer", made<M>(3, 2, 1, 0.0), {in({2, 2, 3})}, [outputs](M& m, Graph<double>& g, auto& x) {
    auto state = m.zero_state(g, 2);
    return outputs(m.forward(g, x[0], state), state);
  });
  module_case(op, "two_layers_padded", made<M>(2, 3, 2, 0.0), {in({2, 3, 2})},
              [outputs](M& m, Graph<double>& g, auto& x) {
                auto state = m.zero_state(g, 2);
                const std::vector<int> lengths = {3, 1};
                return outputs(m.forward(g, x[0], state, &lengths), state);
              });
}

void add_cases(Builder module_case) {
  module_case("Linear", "bias", made_no_dropout<Linear<double>>(3, 2, true), {in({2, 2, 3})},
              [](Linear<double>& m, Graph<double>& g, auto& x) { return m.forward(g, x[0]); });
  module_case("Embedding", "lookup", made_no_dropout<Embedding<double>>(5, 3), {in({1}, false)},
              [](Embedding<double>& m, Graph<double>& g, auto&) { return m.forward(g, {4, 1, 4}, {3}); });
  module_case("LayerNorm", "rows", [](Rng&, Rng&) { return std::make_shared<LayerNorm<double>>(4); }, {in({3, 4})},
              [](LayerNorm<double>& m, Graph<double>& g, auto& x) { return m.forward(g, x[0]); });
  module_case("FeedForward", "gelu", made<FeedForward<double>>(tiny(true, Activation::gelu)),
              {in({2, 4})}, [](FeedForward<double>& m, Graph<double>& g, auto& x) { return m.forward(g, x[0]); });
  // relu fused into linear1, and a residual fused into linear2.
  module_case("FeedForward", "relu_residual", made<FeedForward<double>>(tiny(true)),
              {in({2, 3, 4}), in({2, 3, 4})},
              [](FeedForward<double>& m, Graph<double>& g, auto& x) { return m.forward(g, x[0], x[1]); });
  module_case("MultiHeadAttention", "self_causal", made_no_dropout<MultiHeadAttention<double>>(4, 2),
              {in({2, 3, 4})}, [](MultiHeadAttention<double>& m, Graph<double>& g, auto& x) {
                return m.forward(g, x[0], x[0], x[0], AttentionMask{true, {}});
              });
  // Cross-attention with padded memory; batch 1's memory is fully padded.
  module_case("MultiHeadAttention", "cross_padded", made_no_dropout<MultiHeadAttention<double>>(4, 2),
              {in({2, 2, 4}), in({2, 3, 4})}, [](MultiHeadAttention<double>& m, Graph<double>& g, auto& x) {
                return m.forward(g, x[0], x[1], x[1], AttentionMask{false, {0, 0, 1, 1, 1, 1}});
              });
  for (bool nf : {true, false}) {
    const std::string kind = nf ? "pre_ln" : "post_ln";
    module_case("EncoderLayer", kind, made<EncoderLayer<double>>(tiny(nf)),
                {in({2, 3, 4})}, [](EncoderLayer<double>& m, Graph<double>& g, auto& x) {
                  return m.forward(g, x[0], AttentionMask{false, {0, 0, 1, 0, 0, 0}});
                });
    module_case("DecoderLayer", kind, made<DecoderLayer<double>>(tiny(nf)),
                {in({1, 3, 4}), in({1, 2, 4})}, [](DecoderLayer<double>& m, Graph<double>& g, auto& x) {
                  return m.forward(g, x[0], x[1], AttentionMask{true, {}}, AttentionMask{false, {0, 1}});
                });
  }
  module_case("Encoder", "two_layers", made<Encoder<double>>(tiny(true), 2),
              {in({1, 3, 4})}, [](Encoder<double>& m, Graph<double>& g, auto& x) { return m.forward(g, x[0], {}); });
  module_case("Decoder", "two_layers", made<Decoder<double>>(tiny(true), 2),
              {in({1, 2, 4}), in({1, 3, 4})}, [](Decoder<double>& m, Graph<double>& g, auto& x) {
                return m.forward(g, x[0], x[1], AttentionMask{true, {}}, {});
              });
  // Two layers over padded sequences of lengths 3 and 2: the final state must stop at each end.
  module_case("LSTM", "two_layers_padded", made<LSTM<double>>(2, 3, 2, 0.0),
              {in({2, 3, 2})}, [](LSTM<double>& m, Graph<double>& g, auto& x) {
                auto state = m.zero_state(g, 2);
                const std::vector<int> lengths = {3, 2};
                Tensor<double> out = m.forward(g, x[0], state, &lengths);
                return concat(std::vector{reshape(out, {-1}), reshape(state.h[1], {-1}), reshape(state.c[1], {-1})}, 0);
              });
  add_hidden_recurrent_cases<GRU<double>>(module_case, "GRU");
  add_hidden_recurrent_cases<RNN<double>>(module_case, "RNN");
}

}  // namespace

std::vector<GradCase> nn_cases(const CaseFilter& keep) {
  std::vector<GradCase> out;
  add_cases(Builder{out, keep});
  return out;
}

}  // namespace attn
