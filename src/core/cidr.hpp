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
    /// From network-order bytes (4 for IPv4, 16 for IPv6), as a socket address holds them.
    static ip_address from_bytes(const std::uint8_t* b, bool is_v6);
    /// ::ffff:a.b.c.d becomes a.b.c.d; anything else is returned unchanged.
    ip_address unmapped() const;
    std::string text() const;
    /// text() into `out` (NUL-terminated, at least 46 bytes) without allocating; returns its length.
    /// Runs once per accepted connection, so IPv4 is formatted by hand (inet_ntop goes through printf).
    std::size_t format(char* out, std::size_t cap) const;
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
