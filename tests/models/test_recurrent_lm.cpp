#define BOOST_TEST_MODULE recurrent_lm
#include "tests/common.hpp"

// The recurrent families in format lm (models/recurrent_lm.hpp): decoding from the recurrent
// state equals the teacher-forced forward; a 4,096-token stream runs backward with memory linear
// in its length; the CLI trains, evaluates, samples and benches them.
#include <cmath>
#include <filesystem>
#include <limits>

#include "models/checkpoint.hpp"
#include "models/family.hpp"
#include "models/memory_estimate.hpp"
#include "tests/cli_runner.hpp"

using namespace attn;
using attn_test::attnlab;
using attn_test::TempDir;

namespace {

ModelConfig lm(const char* type, int hidden, int layers, int vocab) {
  ModelConfig c = ModelConfig::defaults(type);
  c.format = "lm";
  c.src_vocab = c.tgt_vocab = vocab;
  c.set("hidden", hidden).set("layers", layers);
  return c;
}

}  // namespace

// Greedy decoding feeds each row's source, SEP, then its own outputs one at a time; the
// teacher-forced forward over that whole stream must pick the same tokens at the same positions.
// Both compute the same sums per step, in float64 to a few ulps (hidden-size * steps * eps64 =
// 8 * 20 * 2.2e-16 = 3.6e-14), so only a near-tie of random logits closer than that could flip an
// argmax; none occurs for these seeds.
BOOST_AUTO_TEST_CASE(decoding_from_the_state_matches_the_forward_over_the_stream) {
  for (const char* type : {"lstm", "gru", "rnn"}) {
    const ModelConfig c = lm(type, 8, 2, 9);
    auto m = make_model<double>(c, 7);
    Graph<double> g;
    SeqBatch src;
    src.batch = 2;
    src.src_len = 4;
    src.src = {3, 4, 5, 6, 7, 8, 0, 0};  // the second source is 2 tokens long
    src.src_pad = {0, 0, 0, 0, 0, 0, 1, 1};
    const int bos = 1, eos = 2, steps = 6;
    const auto out = m->greedy_decode(g, src, steps, bos, eos);
    for (int r = 0; r < 2; ++r) {
      SeqBatch s;
      s.batch = 1;
      const int n = r == 0 ? 4 : 2;
      s.tokens.assign(src.src.begin() + r * 4, src.src.begin() + r * 4 + n);
      s.tokens.push_back(bos);
      s.tokens.insert(s.tokens.end(), out[r].begin(), out[r].end());
      s.len = (int64_t)s.tokens.size();
      g.reset();
      const Tensor<double> logits = m->forward(g, s);
      const int64_t V = c.tgt_vocab;
      for (size_t k = 0; k < out[r].size(); ++k) {
        const double* row = logits.data() + (n + k) * V;
        BOOST_TEST(int(std::max_element(row, row + V) - row) == out[r][k], type << " row " << r << " step " << k);
      }
      if ((int)out[r].size() < steps) {  // it stopped at EOS: the next argmax is EOS
        const double* row = logits.data() + (s.len - 1) * V;
        BOOST_TEST(int(std::max_element(row, row + V) - row) == eos, type << " row " << r);
      }
    }
  }
}

// A 4,096-token stream through a one-layer LSTM: the backward pass walks the tape iteratively
// (a recursive one would overflow the stack here, about 4096 * 13 nodes deep), and the graph's
// memory grows linearly: doubling the length doubles the arena's bytes to within the fixed
// parameter and workspace terms (here under 2% of the total).
BOOST_AUTO_TEST_CASE(a_4096_token_stream_runs_backward_with_linear_memory) {
  const ModelConfig c = lm("lstm", 16, 1, 9);
  auto m = make_model<float>(c, 3);
  std::vector<double> bytes;
  for (int64_t L : {1024, 2048, 4096}) {
    SeqBatch b;
    b.batch = 1;
    b.len = L;
    std::vector<int> labels(L);
    for (int64_t t = 0; t < L; ++t) {
      b.tokens.push_back(3 + int(t % 6));
      labels[t] = 3 + int((t + 1) % 6);
    }
    Graph<float> g;
    m->zero_grad();
    Tensor<float> loss = cross_entropy(m->forward(g, b), labels, 0, 0.0);
    g.backward(loss);
    BOOST_TEST(std::isfinite(loss.item()));
    double norm = 0;
    for (auto& [name, p] : m->named_parameters())
      for (float v : p->grad) norm += double(v) * v;
    BOOST_TEST(norm > 0);
    BOOST_TEST(std::isfinite(norm));
    bytes.push_back((double)g.arena().bytes_in_use());
    BOOST_TEST_MESSAGE("LSTM lm, " << L << " tokens: " << g.num_nodes() << " nodes, " << bytes.back() / 1e6
                                   << " MB in the graph's arena");
  }
  BOOST_TEST(bytes[1] / bytes[0] == 2.0, boost::test_tools::tolerance(0.02));
  BOOST_TEST(bytes[2] / bytes[1] == 2.0, boost::test_tools::tolerance(0.02));
}

// Checkpoints from before the format was recorded carry no "format" key: they load as the
// family's first format, the encoder-decoder they are.
BOOST_AUTO_TEST_CASE(old_checkpoints_load_as_seq2seq) {
  auto m = load_model<float>(std::string(ATTNLAB_SOURCE_DIR) + "/tests/models/fixtures/pre_registry_lstm_attn.safetensors");
  BOOST_TEST(m->config.format.empty());
  BOOST_TEST(m->config.resolved_format() == "seq2seq");
  BOOST_TEST(!m->config.to_json().contains("format"));
}

BOOST_AUTO_TEST_CASE(the_cli_trains_evaluates_samples_and_benches_them) {
  TempDir t;
  const std::string small = " --steps 4 --eval-every 4 --eval-examples 4 --batch 4 --hidden 8 --threads 1 --quiet ";
  for (const char* type : {"lstm", "gru", "rnn"}) {
    const std::string run = t / type;
    const auto r = attnlab(std::string("train --model ") + type + " --format lm --task copy-memory --task-opt delay=5" +
                           small + "--out " + run);
    BOOST_TEST_REQUIRE(r.code == 0, type << ": " << r.err);
    const auto s = nlohmann::json::parse(attn_test::slurp(run + "/summary.json"));
    auto loaded = load_model<float>(run + "/best.safetensors");
    BOOST_TEST(loaded->config.resolved_format() == "lm");
    BOOST_TEST(s["params"].get<int64_t>() == count_parameters(loaded->config));
    BOOST_TEST(count_parameters(loaded->config) == (int64_t)loaded->num_parameters());
    const auto e = attnlab("eval --checkpoint " + run + "/best.safetensors --eval-examples 4 --json");
    BOOST_TEST(e.code == 0, e.err);
    const auto p = attnlab("predict --checkpoint " + run + "/best.safetensors --input '3 4 <bos>' --sample 5 --seed 1");
    BOOST_TEST(p.code == 0, p.err);
    const auto no_maps = attnlab("predict --checkpoint " + run + "/best.safetensors --input '3 4' --attention " + t / "maps");
    BOOST_TEST(no_maps.code == 2);
    BOOST_TEST(attn_test::contains(no_maps.err, "has no attention maps"), no_maps.err);
    BOOST_TEST(!std::filesystem::exists(t / "maps"));
    const auto b = attnlab(std::string("bench --arch gpt --model ") + type +
                           " --steps 1 --warmup 0 --no-peak --threads 1 --batch 2 --seq-len 7 --vocab 9 --hidden 8");
    BOOST_TEST_REQUIRE(b.code == 0, b.err);
    BOOST_TEST(nlohmann::json::parse(b.out)["config"]["format"] == "lm");
  }
  // Arjovsky's aligned layout is a one-stream task: the recurrent lm trains on it.
  const auto a = attnlab("train --model lstm --format lm --task copy-memory --task-opt layout=aligned --task-opt delay=5" +
                         small + "--out " + t / "aligned");
  BOOST_TEST(a.code == 0, a.err);
  // Attention over an encoder has no place in one stream.
  const auto f = attnlab("train --model lstm-attn --format lm --dry-run");
  BOOST_TEST(f.code == 2);
  BOOST_TEST(attn_test::contains(f.err, "does not take --format lm"), f.err);
  // The seq2seq default is unchanged.
  const auto d = attnlab("train --model gru --dry-run");
  BOOST_TEST(d.code == 0, d.err);
}
