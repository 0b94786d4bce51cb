// proxy/balancing: weighted round robin spreads requests over an upstream's servers by weight.
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"

using namespace bulwark::test;

BOOST_AUTO_TEST_SUITE(proxy_balancing)

BOOST_AUTO_TEST_CASE(weighted_round_robin_splits_40_requests_30_to_10) {
    origin a("a");
    origin b("b");
    bulwark_process bw;
    bw.start(config_options::with_servers({a.address() + " weight=3", b.address() + " weight=1"}));  // workers = 1

    std::map<std::string, int> served;
    http_client c(bw.port());
    for (int i = 0; i < 40; ++i) {
        auto r = c.get("/who");
        BOOST_TEST_REQUIRE(r.status == 200);
        ++served[r.body];
    }
    BOOST_TEST(served["a"] == 30);
    BOOST_TEST(served["b"] == 10);
    BOOST_TEST(a.requests() == 30u);
    BOOST_TEST(b.requests() == 10u);
}

BOOST_AUTO_TEST_SUITE_END()
