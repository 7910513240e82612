// Gradcheck cases for the whole models at tiny sizes (float64, against every parameter). Each
// family lists its own (ModelFamily::gradcheck_cases); model_cases() gathers them in the
// registry's order.
#pragma once
#include <string>
#include <vector>

#include "autograd/gradcheck.hpp"
#include "models/config.hpp"

namespace attn {

std::vector<GradCase> model_cases();

// One case: the loss of model `c` on a fixed padded batch of a 5-token vocabulary, against every
// parameter; a family whose first format is lm gets the batch as streams. `op` names the model
// in the gradcheck listing.
void add_model_case(std::vector<GradCase>& out, const std::string& op, const std::string& name, const ModelConfig& c);

}  // namespace attn
