// Gradcheck cases for the whole models at tiny sizes (float64, against every parameter).
#pragma once
#include <vector>

#include "autograd/gradcheck.hpp"

namespace attn {

std::vector<GradCase> model_cases();

}  // namespace attn
