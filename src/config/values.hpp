// config/values: typing of single values (numbers with ranges, endpoints, server lines); each parser
// returns an error message naming the allowed values, or an empty string on success.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/model.hpp"
#include "config/schema.hpp"

namespace bulwark::config {

/// Checks `value` against the key's type and range; the message says what is allowed.
std::string check_value(const key_spec& key, std::string_view value);

std::string parse_endpoint(std::string_view text, endpoint& out);
std::string parse_server(std::string_view text, server& out);
/// "a..b" → bounds, using the size or count reader for the type.
bool parse_range(const key_spec& key, std::uint64_t& lo, std::uint64_t& hi);

}  // namespace bulwark::config
