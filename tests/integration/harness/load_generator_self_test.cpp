// harness/load_generator_self_test: the load generator against an origin directly (no proxy) counts
// every request as a success, and against a closed port counts every one as a failure with its kind, so
// a zero-failure result in the lifecycle tests means what it says.
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <thread>

#include "harness/http_client.hpp"
#include "harness/load_generator.hpp"
#include "harness/origin.hpp"
#include "harness/ports.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(harness_load_generator)

BOOST_AUTO_TEST_CASE(counts_successes_against_an_origin) {
    origin o("self");
    load_options lo;
    lo.port = o.port();
    lo.bodies = {"self"};
    lo.slow_path = "/slow/200";
    lo.slow_body = "slow 200";
    lo.websocket_clients = 1;
    load_generator load(lo);
    BOOST_TEST_REQUIRE(load.wait_flowing(5s), load.counts().summary());
    BOOST_TEST(load.wait_succeeded(100, 5s));
    std::this_thread::sleep_for(300ms);
    auto c = load.stop();
    BOOST_TEST_MESSAGE(c.summary());
    BOOST_TEST(c.failed == 0u, c.summary());
    BOOST_TEST(c.resets == 0u);
    BOOST_TEST(c.sent == c.succeeded);
    BOOST_TEST(c.slow_succeeded >= 2u);
    BOOST_TEST(c.ws_echoes > 0u);
    BOOST_TEST(c.ws_failures == 0u);
    BOOST_TEST(c.reused > 0u);
    BOOST_TEST(c.bodies["self"] + c.slow_succeeded == c.succeeded);
    // stop() is idempotent and the counts stay.
    BOOST_TEST(load.stop().sent == c.sent);
}

BOOST_AUTO_TEST_CASE(counts_failures_against_a_closed_port) {
    const auto port = free_port();
    BOOST_TEST_REQUIRE(try_connect(port) == ECONNREFUSED);
    load_options lo;
    lo.port = port;
    lo.slow_clients = 0;
    load_generator load(lo);
    std::this_thread::sleep_for(200ms);
    auto c = load.stop();
    BOOST_TEST(c.sent > 0u);
    BOOST_TEST(c.succeeded == 0u);
    BOOST_TEST(c.failed == c.sent);
    BOOST_TEST(c.failure_kinds["connect refused"] == c.failed, c.summary());
    BOOST_TEST(!c.failure_samples.empty());
}

BOOST_AUTO_TEST_CASE(counts_a_wrong_body_as_a_failure) {
    origin o("self");
    load_options lo;
    lo.port = o.port();
    lo.bodies = {"someone else"};
    lo.slow_clients = 0;
    lo.new_connection_clients = 0;
    lo.keepalive_clients = 1;
    load_generator load(lo);
    std::this_thread::sleep_for(100ms);
    auto c = load.stop();
    BOOST_TEST(c.sent > 0u);
    BOOST_TEST(c.failed == c.sent);
    BOOST_TEST(c.failure_kinds["bad response"] == c.failed, c.summary());
}

BOOST_AUTO_TEST_SUITE_END()
