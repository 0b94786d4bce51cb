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

namespace bulwark::config {

/// "client_ip", "uri" (balancing) or "route" (limits), or "header:NAME".
std::string parse_request_key(std::string_view text, bool for_limit, request_key& out);
/// "GET /healthz".
std::string parse_health_request(std::string_view text, health_check& out);
/// "200-399" or a single status.
std::string parse_status_range(std::string_view text, int& low, int& high);
/// "100/s" or "30/m" → requests per second.
std::string parse_rate(std::string_view text, double& per_second);
/// "401,403".
std::string parse_status_list(std::string_view text, std::vector<int>& out);

}  // namespace bulwark::config

namespace bulwark::config {

/// "200 301 10m", "any 1m", or a duration alone (then for the statuses cacheable by default,
/// RFC 9110 §15.1) → (status, seconds) pairs appended to `out`.
std::string parse_cache_valid(std::string_view text, std::vector<std::pair<int, std::int64_t>>& out);
/// "GET HEAD": only GET and HEAD can be answered from the cache.
std::string parse_cache_methods(std::string_view text, std::vector<std::string>& out);
/// A cache_key template: only known $variables.
std::string check_cache_key(std::string_view text);
/// A header field name (RFC 9110 token), or "off".
std::string check_field_name(std::string_view text);

}  // namespace bulwark::config
