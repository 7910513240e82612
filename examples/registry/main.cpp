// Lists the model families and tasks attnlab knows, as a program linked against the installed
// static libraries sees them. They are listed explicitly in code (models/families.cpp,
// data/task.cpp) rather than registered by static initialisers, which the linker would drop
// from a static library; CI compares this list with `attnlab models` (docs/library.md).
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "data/task.hpp"
#include "models/family.hpp"

int main() {
  fmt::print("models: {}\n", fmt::join(attn::model_family_names(), " "));
  fmt::print("tasks: {}\n", fmt::join(attn::data::task_names(), " "));
}
