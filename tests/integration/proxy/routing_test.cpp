// proxy/routing: requests go to the route with the longest matching path prefix, host routes beat
// host-less ones, and a request that matches nothing gets 404 when the listener has no default upstream.
#include <boost/test/unit_test.hpp>

#include <string>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"

using namespace bulwark::test;

namespace {

std::string upstream_section(const std::string& name, const origin& o) {
    return "[upstream:" + name + "]\nserver = " + o.address() + "\n\n";
}

std::string served_by(const http_response& r) { return r.header("x-origin").value_or("<none>"); }

}  // namespace

BOOST_AUTO_TEST_SUITE(proxy_routing)

BOOST_AUTO_TEST_CASE(longest_path_prefix_wins) {
    origin api("api"), v2("v2"), fallback("fallback");
    bulwark_process bw;
    config_options opt;
    opt.servers = {fallback.address()};  // default upstream "backend"
    opt.tail = "[route:api_v2]\npath_prefix = /api/v2\nupstream = v2\n\n"
               "[route:api]\npath_prefix = /api\nupstream = api\n\n" +
               upstream_section("api", api) + upstream_section("v2", v2);
    bw.start(opt);

    http_client c(bw.port());
    auto r1 = c.get("/api/v2/items");
    BOOST_TEST(r1.status == 200);
    BOOST_TEST(served_by(r1) == "v2");
    auto r2 = c.get("/api/v1/items");
    BOOST_TEST(r2.status == 200);
    BOOST_TEST(served_by(r2) == "api");
    auto r3 = c.get("/other");
    BOOST_TEST(r3.status == 200);
    BOOST_TEST(served_by(r3) == "fallback");
    BOOST_TEST(v2.last_request().target == "/api/v2/items");
}

BOOST_AUTO_TEST_CASE(host_route_matches_case_insensitively_ignoring_port) {
    origin hosted("hosted"), any("any");
    bulwark_process bw;
    config_options opt;
    opt.tail = "[route:by_host]\nhost = example.test\nupstream = hosted\n\n"
               "[route:any_host]\npath_prefix = /\nupstream = any\n\n" +
               upstream_section("hosted", hosted) + upstream_section("any", any);
    bw.start(opt);

    http_client c(bw.port());
    auto r1 = c.get("/x", {{"Host", "Example.TEST:8080"}});
    BOOST_TEST(r1.status == 200);
    BOOST_TEST(served_by(r1) == "hosted");
    auto r2 = c.get("/x", {{"Host", "other.test"}});
    BOOST_TEST(r2.status == 200);
    BOOST_TEST(served_by(r2) == "any");
    auto r3 = c.get("/x", {{"Host", "example.test"}});
    BOOST_TEST(served_by(r3) == "hosted");
    BOOST_TEST(hosted.requests() == 2u);
    BOOST_TEST(any.requests() == 1u);
}

BOOST_AUTO_TEST_CASE(unmatched_request_without_default_upstream_gets_404) {
    origin api("api");
    bulwark_process bw;
    config_options opt;  // no servers: the listener has no default upstream
    opt.tail = "[route:api]\npath_prefix = /api\nupstream = api\n\n" + upstream_section("api", api);
    bw.start(opt);

    http_client c(bw.port());
    auto miss = c.get("/nothing/here");
    BOOST_TEST(miss.status == 404);
    BOOST_TEST(api.requests() == 0u);
    // The connection survives a 404 (or the proxy closed it cleanly); a matching request still routes.
    http_client c2(bw.port());
    auto hit = c2.get("/api/x");
    BOOST_TEST(hit.status == 200);
    BOOST_TEST(served_by(hit) == "api");
}

BOOST_AUTO_TEST_SUITE_END()
