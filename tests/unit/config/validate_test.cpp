// config/validate: checks of values that only make sense in their section's context.
#include <boost/test/unit_test.hpp>

#include "config/loader.hpp"

using bulwark::config::load_text;

BOOST_AUTO_TEST_SUITE(config_validate)

// The router compares the request's host without its port, so a configured port could never match.
BOOST_AUTO_TEST_CASE(route_host_with_a_port_is_refused_at_its_line) {
    auto r = load_text("[listener:web]\nbind = 127.0.0.1:8080\n[upstream:app]\nserver = 127.0.0.1:9001\n"
                       "[route:api]\nhost = api.example.com:8080\nupstream = app\n",
                       "/etc/bulwark/bulwark.ini");
    BOOST_TEST_REQUIRE(r.errors.size() == 1u);
    BOOST_TEST(r.errors[0].line == 6);
    BOOST_TEST(r.errors[0].message.find("without a port") != std::string::npos, r.errors[0].message);
}

BOOST_AUTO_TEST_CASE(route_host_as_ipv6_literal_is_accepted) {
    auto r = load_text("[listener:web]\nbind = 127.0.0.1:8080\n[upstream:app]\nserver = 127.0.0.1:9001\n"
                       "[route:v6]\nhost = [::1]\nupstream = app\n",
                       "/etc/bulwark/bulwark.ini");
    BOOST_TEST(r.errors.empty());
}

BOOST_AUTO_TEST_SUITE_END()
