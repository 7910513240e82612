// Gradcheck cases for every module, against its inputs and all its parameters (float64).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/gradcheck.hpp"
#include "nn/module.hpp"

namespace attn {

// Which cases to build: keep(op, name). Empty keeps all.
using CaseFilter = std::function<bool(const std::string& op, const std::string& name)>;

// Each case builds its module from generators seeded by case_seed(op, name) alone, so a case's
// parameters are the same whether it is built alone or among the others.
std::vector<GradCase> nn_cases(const CaseFilter& keep = {});

// A fixed seed per case (FNV-1a of "op/name"): the same on every platform and run.
uint64_t case_seed(const std::string& op, const std::string& name);

// A module's parameters as gradcheck inputs (also used by models/gradcheck_cases.cpp).
std::vector<ExternalInput> parameter_inputs(const Module<double>& m);

}  // namespace attn
