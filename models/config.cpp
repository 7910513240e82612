#include "models/config.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "autograd/shape.hpp"
#include "models/json_get.hpp"

namespace attn {

void ModelConfig::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw Error("model config: " + what);
  };
  need(type == "transformer" || type == "lstm" || type == "lstm-attn",
       fmt::format("unknown model '{}' (transformer, lstm or lstm-attn)", type));
  need(src_vocab > 0 && tgt_vocab > 0, "vocabulary sizes must be positive");
  need(dropout >= 0.0 && dropout < 1.0, fmt::format("dropout {} is outside [0, 1)", dropout));
  need(max_len > 0, fmt::format("max_len must be positive, got {}", max_len));
  if (type == "transformer" || type == "lstm-attn") {
    need(d_model > 0, fmt::format("d_model must be positive, got {}", d_model));
    need(heads > 0, fmt::format("heads must be positive, got {}", heads));
    need(d_model % heads == 0, fmt::format("d_model {} is not divisible by {} heads", d_model, heads));
  }
  if (type == "transformer") {
    need(ff > 0, fmt::format("ff must be positive, got {}", ff));
    need(enc_layers >= 0 && dec_layers > 0, fmt::format("layers must be positive (enc {}, dec {})", enc_layers, dec_layers));
    need(activation == "relu" || activation == "gelu", fmt::format("unknown activation '{}' (relu or gelu)", activation));
    need(pos == "learned" || pos == "sinusoidal", fmt::format("unknown positions '{}' (learned or sinusoidal)", pos));
    need(!share_embeddings || src_vocab == tgt_vocab, "share_embeddings needs equal source and target vocabularies");
  } else {
    need(hidden > 0, fmt::format("hidden must be positive, got {}", hidden));
    need(layers > 0, fmt::format("layers must be positive, got {}", layers));
    need(type != "lstm-attn" || hidden == d_model,
         fmt::format("lstm-attn attends with d_model = hidden; got d_model {} and hidden {}", d_model, hidden));
  }
}

nlohmann::json ModelConfig::to_json() const {
  return {{"type", type},         {"src_vocab", src_vocab},   {"tgt_vocab", tgt_vocab},
          {"d_model", d_model},   {"heads", heads},           {"ff", ff},
          {"enc_layers", enc_layers}, {"dec_layers", dec_layers}, {"dropout", dropout},
          {"norm_first", norm_first}, {"activation", activation}, {"pos", pos},
          {"max_len", max_len},   {"share_embeddings", share_embeddings}, {"tie_output", tie_output},
          {"hidden", hidden},     {"layers", layers}};
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("model config: not a JSON object");
  ModelConfig c;
  const nlohmann::json known = c.to_json();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.contains(it.key())) throw Error(fmt::format("model config: unknown key '{}'", it.key()));
  try {
    auto get = [&](const char* k, auto& field) {
      try {
        json_get(j, k, field);
      } catch (const std::invalid_argument& e) {
        throw Error(fmt::format("model config: {}", e.what()));
      }
    };
    get("type", c.type);
    get("src_vocab", c.src_vocab);
    get("tgt_vocab", c.tgt_vocab);
    get("d_model", c.d_model);
    get("heads", c.heads);
    get("ff", c.ff);
    get("enc_layers", c.enc_layers);
    get("dec_layers", c.dec_layers);
    get("dropout", c.dropout);
    get("norm_first", c.norm_first);
    get("activation", c.activation);
    get("pos", c.pos);
    get("max_len", c.max_len);
    get("share_embeddings", c.share_embeddings);
    get("tie_output", c.tie_output);
    get("hidden", c.hidden);
    get("layers", c.layers);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("model config: {}", e.what()));
  }
  c.validate();
  return c;
}

}  // namespace attn
