// Command-line flags derived from field declarations (models/fields.hpp): the run's settings
// (TrainArgs) and every model family's fields, each flag added once.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "train/train_config.hpp"

namespace attn::cli {

// One flag added for a field, to tell later whether it was given.
struct BoundFlag {
  CLI::Option* option;
  const FieldSpec* spec;
  bool model_field;  // a family's field (else a run setting)
};

// Adds the flags of TrainArgs and of every family's fields to `cmd`, writing into `a`. A model
// field lands in a.model_fields only when given.
std::vector<BoundFlag> add_train_options(CLI::App& cmd, TrainArgs& a);

// Adds a flag for each field of every family (a field several families share is one flag),
// writing given values into `fields`.
std::vector<BoundFlag> add_model_field_options(CLI::App& cmd, FieldValues& fields);

// The flags among `flags` given on the command line or in a --config file.
std::vector<BoundFlag> given(const std::vector<BoundFlag>& flags);

}  // namespace attn::cli
