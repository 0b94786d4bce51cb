// harness/origin_controls_self_test: the origin features the shared-state tests rely on, checked without
// a proxy: set_status, per-path and in-flight counts, an origin coming back on its port, clients from
// other loopback addresses, and listening sockets that a spawned process does not inherit.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(harness_origin_controls)

BOOST_AUTO_TEST_CASE(set_status_overrides_a_path_and_requests_are_counted_per_path) {
    origin o("o");
    http_client c(o.port());
    BOOST_TEST(c.get("/healthz").status == 200);
    o.set_status("/healthz", 500);
    auto r = c.get("/healthz?x=1");
    BOOST_TEST(r.status == 500);
    BOOST_TEST(r.body == "status 500");
    BOOST_TEST(c.get("/who").body == "o");
    o.set_status("/healthz", 0);
    BOOST_TEST(c.get("/healthz").status == 200);
    BOOST_TEST(o.requests_to("/healthz") == 3u);
    BOOST_TEST(o.requests_to("/who") == 1u);
    BOOST_TEST(o.requests_to("/none") == 0u);
}

BOOST_AUTO_TEST_CASE(in_flight_counts_requests_until_their_response_is_written) {
    origin o("o");
    std::thread t1([&] { http_client(o.port()).get("/slow/300"); });
    std::thread t2([&] { http_client(o.port()).get("/slow/300"); });
    BOOST_TEST(wait_until([&] { return o.in_flight() == 2; }, 2s, 5ms));
    t1.join();
    t2.join();
    BOOST_TEST(wait_until([&] { return o.in_flight() == 0; }, 1s, 5ms));
    BOOST_TEST(o.max_in_flight() == 2u);
    o.reset_max_in_flight();
    BOOST_TEST(o.max_in_flight() == 0u);
    http_client(o.port()).get("/who");
    BOOST_TEST(o.max_in_flight() == 1u);
}

BOOST_AUTO_TEST_CASE(an_origin_comes_back_on_its_port_after_a_spawned_process_started) {
    auto o = std::make_unique<origin>("first");
    const auto port = o->port();
    // A child started while the origin listens must not keep its listening socket open.
    auto sleeper = std::thread([] { run_command({"sleep", "1"}, 5s); });
    std::this_thread::sleep_for(100ms);
    o->stop();
    BOOST_CHECK_THROW(http_client(port, 500ms), client_error);
    o = std::make_unique<origin>("second", port);
    BOOST_TEST(http_client(port).get("/who").body == "second");
    sleeper.join();
}

BOOST_AUTO_TEST_CASE(a_client_can_connect_from_another_loopback_address) {
    origin o("o");
    http_client c(o.port(), "127.0.0.7");
    BOOST_TEST(c.get("/who").status == 200);
    BOOST_TEST(o.last_request().header("host").value_or("") == "localhost");
    BOOST_CHECK_THROW(http_client(o.port(), "not-an-address"), client_error);
}

BOOST_AUTO_TEST_SUITE_END()
