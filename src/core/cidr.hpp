// core/cidr: IPv4/IPv6 addresses and address ranges in plain bytes, so config/, limit/ and proxy/
// share one matcher without socket headers. An IPv4-mapped IPv6 address matches IPv4 ranges.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark {

struct ip_address {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

    static std::optional<ip_address> parse(std::string_view text);
    /// ::ffff:a.b.c.d becomes a.b.c.d; anything else is returned unchanged.
    ip_address unmapped() const;
    std::string text() const;
};

struct cidr {
    ip_address base;  // host bits cleared
    unsigned prefix = 0;

    /// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128).
    static std::optional<cidr> parse(std::string_view text);
    bool contains(const ip_address& a) const;
    std::string text() const;
};

}  // namespace bulwark
