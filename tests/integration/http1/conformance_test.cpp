// http1/conformance: the HTTP/1.1 details real clients rely on: pipelined requests answered in order
// (with bodies in between), Expect: 100-continue without deadlock, and HEAD responses without a body.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "harness/pattern.hpp"
#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

BOOST_AUTO_TEST_SUITE(http1_conformance)

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    // The first answer is the slowest: a proxy answering in completion order would get this wrong.
    c.send(request_head("GET", "/slow/300", {}) + request_head("GET", "/b", {}) + request_head("GET", "/c", {}));
    auto r1 = c.read_response();
    auto r2 = c.read_response();
    auto r3 = c.read_response();
    BOOST_TEST(r1.body == "slow 300");
    BOOST_TEST(r2.body == "GET /b");
    BOOST_TEST(r3.body == "GET /c");
    BOOST_TEST(!c.peer_closed(100ms));
    BOOST_TEST(p.o.requests() == 3u);
}

BOOST_AUTO_TEST_CASE(pipelined_post_with_body_then_get_are_answered_in_order) {
    proxied p;
    const std::string body = pattern_string(11, 3000);
    http_client c(p.bw.port(), 5s);
    c.send(request_head("POST", "/echo", {{"Content-Length", std::to_string(body.size())}}) + body +
           request_head("GET", "/after", {}));
    auto r1 = c.read_response();
    auto r2 = c.read_response();
    BOOST_TEST(r1.status == 200);
    BOOST_TEST((r1.body == body), "the echoed body differs");
    BOOST_TEST(r2.body == "GET /after");
    BOOST_TEST(p.o.requests() == 2u);
}

BOOST_AUTO_TEST_CASE(pipelined_chunked_post_then_get_are_answered_in_order) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send(request_head("POST", "/echo", {{"Transfer-Encoding", "chunked"}}) + "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n" +
           request_head("GET", "/after", {}));
    auto r1 = c.read_response();
    auto r2 = c.read_response();
    BOOST_TEST(r1.body == "abcdefg");
    BOOST_TEST(r2.body == "GET /after");
}

// The client holds its body back until it sees 100 Continue; nobody may wait for the other.
BOOST_AUTO_TEST_CASE(expect_100_continue_client_waits_for_100_before_body) {
    proxied p;
    const std::string body = pattern_string(3, 5000);
    http_client c(p.bw.port(), 3s);
    auto t0 = steady_clock::now();
    c.send(request_head("POST", "/echo", {{"Expect", "100-continue"}, {"Content-Length", std::to_string(body.size())}}));
    auto interim = c.read_response(false, /*stop_at_interim=*/true);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
    BOOST_TEST_REQUIRE(interim.status == 100, "expected 100 Continue before the body, got " << interim.status);
    BOOST_TEST(ms < 1000, "100 Continue took " << ms << " ms");
    c.send(body);
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST((r.body == body), "the echoed body differs");
    BOOST_TEST(p.o.last_request().body_size == body.size());
    // A second request on the same connection still works.
    BOOST_TEST(c.get("/who").body == "a");
}

BOOST_AUTO_TEST_CASE(head_response_carries_no_body) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    auto r = c.request("HEAD", "/size/1000");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(!c.readable(200ms), "a body followed the HEAD response");
    BOOST_TEST(c.get("/who").body == "a");
}

BOOST_AUTO_TEST_SUITE_END()
