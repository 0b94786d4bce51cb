// cache/targeted: the Structured Field reader behind parse_cache_control for targeted fields (RFC 9213);
// internal to src/cache.
#pragma once

#include <string_view>

#include "cache/policy.hpp"

namespace bulwark::cache {

/// Applies one field line, an RFC 8941 Dictionary, to `cc` (later members replace earlier ones);
/// false on a parse error, when the whole field must be ignored (RFC 9213 §2.1).
bool parse_targeted_line(std::string_view line, cache_control& cc);

}  // namespace bulwark::cache
