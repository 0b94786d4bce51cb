// limit/acl: allow/deny by CIDR for a listener or a route; the first rule that matches decides, and an
// address no rule matches is allowed (so an empty list allows everyone).
#pragma once

#include <span>

#include "config/model.hpp"
#include "core/cidr.hpp"

namespace bulwark::limit {

/// True when `client` may pass `rules` (first match wins; no match allows). An IPv4-mapped IPv6
/// client (::ffff:a.b.c.d, from a dual-stack socket) matches IPv4 ranges, as cidr::contains does.
bool acl_allows(std::span<const config::acl_rule> rules, const ip_address& client) noexcept;

}  // namespace bulwark::limit
