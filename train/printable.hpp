// Error messages can quote bytes from a user's file (a tensor name, a token, a JSON parse
// error); printed raw, a control byte could move the cursor or rewrite the terminal.
#pragma once
#include <string>
#include <string_view>

namespace attn::cli {

// `s` with every byte that is not printable shown as \xNN: control bytes (tab included), DEL,
// and bytes that are not part of a valid UTF-8 sequence. Printable UTF-8 (U+00A0 and up) stays.
std::string printable(std::string_view s);

}  // namespace attn::cli
