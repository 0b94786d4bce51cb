// limit/acl: first match wins, no match allows, IPv6 ranges and IPv4-mapped clients.
#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <vector>

#include "config/model.hpp"
#include "core/cidr.hpp"
#include "limit/acl.hpp"

namespace {

using bulwark::cidr;
using bulwark::ip_address;
using bulwark::config::acl_rule;

acl_rule rule(bool allow, const char* range) {
    auto c = cidr::parse(range);
    if (!c) throw std::invalid_argument(range);
    return {allow, *c};
}
ip_address ip(const char* text) { return *ip_address::parse(text); }

bool allows(const std::vector<acl_rule>& rules, const char* client) {
    return bulwark::limit::acl_allows(rules, ip(client));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(limit_acl)

BOOST_AUTO_TEST_CASE(no_rules_and_no_match_allow) {
    BOOST_TEST(allows({}, "192.0.2.1"));
    BOOST_TEST(allows({}, "2001:db8::1"));
    std::vector<acl_rule> rules{rule(false, "10.0.0.0/8")};
    BOOST_TEST(!allows(rules, "10.1.2.3"));
    BOOST_TEST(allows(rules, "11.0.0.1"));
    BOOST_TEST(allows(rules, "2001:db8::1"));  // an IPv4 range never matches a real IPv6 address
}

BOOST_AUTO_TEST_CASE(the_first_matching_rule_wins) {
    // allow one host of a denied network: the order decides.
    std::vector<acl_rule> allow_first{rule(true, "10.0.0.5"), rule(false, "10.0.0.0/8")};
    BOOST_TEST(allows(allow_first, "10.0.0.5"));
    BOOST_TEST(!allows(allow_first, "10.0.0.6"));
    std::vector<acl_rule> deny_first{rule(false, "10.0.0.0/8"), rule(true, "10.0.0.5")};
    BOOST_TEST(!allows(deny_first, "10.0.0.5"));
    // "allow these, deny everything else"
    std::vector<acl_rule> allowlist{rule(true, "192.168.0.0/16"), rule(true, "::1"), rule(false, "0.0.0.0/0"),
                                    rule(false, "::/0")};
    BOOST_TEST(allows(allowlist, "192.168.44.1"));
    BOOST_TEST(allows(allowlist, "::1"));
    BOOST_TEST(!allows(allowlist, "8.8.8.8"));
    BOOST_TEST(!allows(allowlist, "2001:db8::1"));
    // Non-octet prefixes.
    std::vector<acl_rule> narrow{rule(false, "172.16.0.0/12")};
    BOOST_TEST(!allows(narrow, "172.31.255.255"));
    BOOST_TEST(allows(narrow, "172.32.0.0"));
}

BOOST_AUTO_TEST_CASE(ipv6_ranges) {
    std::vector<acl_rule> rules{rule(true, "2001:db8:1::/48"), rule(false, "2001:db8::/32")};
    BOOST_TEST(allows(rules, "2001:db8:1:ffff::7"));
    BOOST_TEST(!allows(rules, "2001:db8:2::7"));
    BOOST_TEST(allows(rules, "2001:db9::1"));
    BOOST_TEST(!allows({rule(false, "fe80::/10")}, "febf::1"));
    BOOST_TEST(allows({rule(false, "fe80::/10")}, "fec0::1"));
    BOOST_TEST(!allows({rule(false, "::/0")}, "::"));
}

BOOST_AUTO_TEST_CASE(ipv4_mapped_clients_match_ipv4_ranges) {
    // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d.
    std::vector<acl_rule> rules{rule(false, "203.0.113.0/24"), rule(true, "0.0.0.0/0"), rule(false, "::/0")};
    BOOST_TEST(!allows(rules, "::ffff:203.0.113.9"));
    BOOST_TEST(allows(rules, "::ffff:198.51.100.1"));
    BOOST_TEST(!allows(rules, "2001:db8::1"));
}

BOOST_AUTO_TEST_SUITE_END()
