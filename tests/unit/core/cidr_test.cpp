// core/cidr: address formatting (once per accepted connection, by hand for IPv4) agrees with
// inet_ntop for every kind of address, and mapped IPv6 addresses unmap to IPv4.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>

#include <string>

#include "core/cidr.hpp"

using bulwark::ip_address;

namespace {

std::string formatted(const ip_address& a) {
    char buf[64];
    std::size_t n = a.format(buf, sizeof buf);
    BOOST_TEST(buf[n] == '\0');
    return std::string(buf, n);
}

std::string by_inet_ntop(const ip_address& a) {
    char buf[INET6_ADDRSTRLEN];
    return inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_cidr)

BOOST_AUTO_TEST_CASE(ipv4_format_matches_inet_ntop_for_every_octet_value) {
    for (unsigned v = 0; v < 256; ++v) {
        const std::uint8_t b[4] = {static_cast<std::uint8_t>(v), 0, static_cast<std::uint8_t>(255 - v), 9};
        ip_address a = ip_address::from_bytes(b, false);
        BOOST_TEST_REQUIRE(formatted(a) == by_inet_ntop(a));
        BOOST_TEST_REQUIRE(formatted(a) == a.text());
    }
    const std::uint8_t max[4] = {255, 255, 255, 255};
    BOOST_TEST(formatted(ip_address::from_bytes(max, false)) == "255.255.255.255");
}

BOOST_AUTO_TEST_CASE(ipv6_format_matches_inet_ntop) {
    for (const char* text : {"::1", "2001:db8::7", "fe80::1:2:3:4", "::"}) {
        ip_address a = *ip_address::parse(text);
        BOOST_TEST(formatted(a) == text);
    }
}

BOOST_AUTO_TEST_CASE(ipv4_mapped_ipv6_peer_unmaps_to_ipv4) {
    ip_address a = *ip_address::parse("::ffff:192.0.2.33");
    ip_address from = ip_address::from_bytes(a.bytes.data(), true);
    BOOST_TEST(formatted(from.unmapped()) == "192.0.2.33");
}

BOOST_AUTO_TEST_CASE(format_refuses_a_buffer_too_small) {
    const std::uint8_t b[4] = {10, 0, 0, 1};
    char small[8];
    BOOST_TEST(ip_address::from_bytes(b, false).format(small, sizeof small) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
