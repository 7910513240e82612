// Reading one field of a JSON config. nlohmann converts 1e300 or 2^40 to an integer by a plain
// cast (undefined behaviour, or a wrapped value), so integer fields must be JSON integers that fit.
#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace attn {

// Sets `field` from j[key] when present. Throws std::invalid_argument("'key' must be ...") for an
// integer field whose value is not an integer in its type's range; other type errors are
// nlohmann's exceptions, as before.
template <class F>
void json_get(const nlohmann::json& j, const char* key, F& field) {
  if (!j.contains(key)) return;
  const nlohmann::json& v = j.at(key);
  if constexpr (std::is_integral_v<F> && !std::is_same_v<F, bool>) {
    const bool fits =
        v.is_number_unsigned()  ? v.get<uint64_t>() <= uint64_t(std::numeric_limits<F>::max())
        : v.is_number_integer() ? v.get<int64_t>() >= int64_t(std::numeric_limits<F>::min()) &&
                                      (std::is_unsigned_v<F> || v.get<int64_t>() <= int64_t(std::numeric_limits<F>::max()))
                                : false;
    if (!fits)
      throw std::invalid_argument(fmt::format("'{}' must be an integer in the range of {}{}, got {}", key,
                                              std::is_unsigned_v<F> ? "uint" : "int", 8 * sizeof(F),
                                              v.is_structured() ? v.type_name() : v.dump()));
  }
  v.get_to(field);
}

}  // namespace attn
