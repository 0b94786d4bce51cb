// core/units: parsing of sizes (64k, 1G) and durations (500ms, 30s) as written in the config.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bulwark {

using milliseconds = std::chrono::milliseconds;

/// Size with an optional binary suffix k, m, g (case-insensitive): "512", "64k", "1G".
std::optional<std::uint64_t> parse_size(std::string_view text);

/// Duration with a suffix ms, s, m, h, d; a bare number means seconds (as nginx reads it).
std::optional<milliseconds> parse_duration(std::string_view text);

/// Plain unsigned decimal integer, no sign, no spaces, no overflow.
std::optional<std::uint64_t> parse_uint(std::string_view text);

}  // namespace bulwark
