// core/cidr: prefix comparison over bytes; parsing through inet_pton, which rejects every odd form.
#include "core/cidr.hpp"

#include <arpa/inet.h>
#include <cstring>

#include "core/units.hpp"

namespace bulwark {

std::optional<ip_address> ip_address::parse(std::string_view text) {
    std::string s(text);
    ip_address a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
    a.v6 = true;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
    return std::nullopt;
}

ip_address ip_address::from_bytes(const std::uint8_t* b, bool is_v6) {
    ip_address a;
    a.v6 = is_v6;
    std::memcpy(a.bytes.data(), b, is_v6 ? 16 : 4);
    return a;
}

std::size_t ip_address::format(char* out, std::size_t cap) const {
    if (v6) return inet_ntop(AF_INET6, bytes.data(), out, static_cast<socklen_t>(cap)) ? std::strlen(out) : 0;
    if (cap < INET_ADDRSTRLEN) return 0;
    char* p = out;
    for (int i = 0; i < 4; ++i) {
        unsigned v = bytes[static_cast<std::size_t>(i)];
        if (i) *p++ = '.';
        if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
        if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
        *p++ = static_cast<char>('0' + v % 10);
    }
    *p = '\0';
    return static_cast<std::size_t>(p - out);
}

ip_address ip_address::unmapped() const {
    static constexpr std::uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!v6 || std::memcmp(bytes.data(), mapped_prefix, 12) != 0) return *this;
    ip_address v4;
    std::memcpy(v4.bytes.data(), bytes.data() + 12, 4);
    return v4;
}

std::string ip_address::text() const {
    char buf[INET6_ADDRSTRLEN];
    std::size_t n = format(buf, sizeof buf);
    return n ? std::string(buf, n) : "?";
}

std::optional<cidr> cidr::parse(std::string_view text) {
    auto slash = text.find('/');
    auto addr = ip_address::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    unsigned max = addr->v6 ? 128 : 32;
    unsigned prefix = max;
    if (slash != std::string_view::npos) {
        auto p = parse_uint(text.substr(slash + 1));
        if (!p || *p > max) return std::nullopt;
        prefix = static_cast<unsigned>(*p);
    }
    cidr c{*addr, prefix};
    for (unsigned bit = prefix; bit < 128; ++bit) c.base.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    return c;
}

bool cidr::contains(const ip_address& addr) const {
    ip_address a = addr.unmapped();
    if (a.v6 != base.v6) return false;
    unsigned full = prefix / 8;
    if (std::memcmp(a.bytes.data(), base.bytes.data(), full) != 0) return false;
    unsigned rest = prefix % 8;
    if (rest == 0) return true;
    auto mask = static_cast<std::uint8_t>(0xff00u >> rest);
    return (a.bytes[full] & mask) == base.bytes[full];
}

std::string cidr::text() const { return base.text() + "/" + std::to_string(prefix); }

}  // namespace bulwark
