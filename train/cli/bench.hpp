// Pieces of `attnlab bench` that tests call directly.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace attn::cli {

// The step's time if every gemm call of `shapes` (bench's gemm_shapes) ran at its alone rate and
// nothing else took any time, with the one-thread (per-head) shapes `threads` at once; and the
// MFU that time gives. It is an estimate, not a strict bound: alone, each shape ran on warm
// buffers with the machine to itself, and its timing is as noisy as the step's.
nlohmann::json gemm_ceiling_json(const nlohmann::json& shapes, double model_gflop, double peak, int64_t threads);

}  // namespace attn::cli
