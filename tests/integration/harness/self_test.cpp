// harness/self_test: the origin and the client talk directly (no proxy), so a proxy test failure is
// never a harness bug in disguise.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include "harness/http_client.hpp"
#include "harness/origin.hpp"
#include "harness/pattern.hpp"

using namespace bulwark::test;

BOOST_AUTO_TEST_SUITE(harness_self_test)

BOOST_AUTO_TEST_CASE(origin_serves_sizes_chunked_bodies_and_keeps_alive) {
    origin o("self");
    http_client c(o.port());
    auto who = c.get("/who");
    BOOST_TEST(who.status == 200);
    BOOST_TEST(who.body == "self");
    auto sized = c.get("/size/1000000");
    BOOST_TEST(sized.body_size == 1000000u);
    BOOST_TEST((sized.body == pattern_string(0, 1000000)));
    auto chunked = c.get("/chunked/250000");
    BOOST_TEST(chunked.chunked);
    BOOST_TEST(chunked.body_hash == pattern_hash(250000));
    auto st = c.get("/status/503");
    BOOST_TEST(st.status == 503);
    auto nb = c.get("/status/204");
    BOOST_TEST(nb.status == 204);
    BOOST_TEST(c.get("/who").body == "self");
    BOOST_TEST(o.connections() == 1u);
    BOOST_TEST(o.requests() == 6u);
}

BOOST_AUTO_TEST_CASE(origin_decodes_chunked_and_counts_bodies) {
    origin o("self");
    http_client c(o.port());
    c.send(request_head("POST", "/echo", {{"Transfer-Encoding", "chunked"}}) +
           "3;x=y\r\nabc\r\n1\r\nd\r\n0\r\nT: 1\r\n\r\n");
    auto r = c.read_response();
    BOOST_TEST(r.body == "abcd");
    BOOST_TEST(o.last_request().chunked);
    BOOST_TEST(o.last_request().body_size == 4u);

    constexpr std::uint64_t n = 5u << 20;
    c.send(request_head("POST", "/sink", {{"Content-Length", std::to_string(n)}}));
    c.send_pattern(n);
    auto s = c.read_response();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(pattern_hash(n)));
    BOOST_TEST(s.body == std::to_string(n) + " " + hex);
}

BOOST_AUTO_TEST_CASE(origin_answers_expect_and_slow_and_client_times_out_on_hang) {
    origin o("self");
    http_client c(o.port(), std::chrono::seconds(2));
    c.send(request_head("POST", "/echo", {{"Expect", "100-continue"}, {"Content-Length", "3"}}));
    BOOST_TEST(c.read_response(false, true).status == 100);
    c.send("xyz");
    auto r = c.read_response();
    BOOST_TEST(r.body == "xyz");
    BOOST_TEST(c.get("/slow/100").body == "slow 100");

    http_client h(o.port(), std::chrono::milliseconds(300));
    auto t0 = std::chrono::steady_clock::now();
    BOOST_CHECK_THROW(h.get("/hang"), client_error);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2)));
    o.stop();
    BOOST_TEST(h.peer_closed(std::chrono::seconds(1)), "stop() did not close the hanging connection");
}

BOOST_AUTO_TEST_SUITE_END()
