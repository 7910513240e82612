// Gradcheck cases for the whole models at tiny sizes (float64, against every parameter). Each
// family lists its own (ModelFamily::gradcheck_cases); model_cases() gathers them in the
// registry's order.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/gradcheck.hpp"
#include "models/config.hpp"
#include "models/seq2seq.hpp"

namespace attn {

std::vector<GradCase> model_cases();

// One case: the loss of model `c` on a fixed padded batch of a 5-token vocabulary, against every
// parameter; a family whose first format is lm gets the batch as streams. `op` names the model
// in the gradcheck listing. `adjust` (optional) changes the built model's parameters first, for a
// family whose initial values would leave some gradients too small to check.
void add_model_case(std::vector<GradCase>& out, const std::string& op, const std::string& name, const ModelConfig& c,
                    const std::function<void(Seq2SeqModel<double>&)>& adjust = {});

}  // namespace attn
