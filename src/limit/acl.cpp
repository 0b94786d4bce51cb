// limit/acl: a linear scan in configuration order; lists are short and this runs once per request.
#include "limit/acl.hpp"

namespace bulwark::limit {

bool acl_allows(std::span<const config::acl_rule> rules, const ip_address& client) noexcept {
    const ip_address a = client.unmapped();  // once, not once per rule
    for (const auto& rule : rules)
        if (rule.range.contains(a)) return rule.allow;
    return true;  // no rule matched
}

}  // namespace bulwark::limit
