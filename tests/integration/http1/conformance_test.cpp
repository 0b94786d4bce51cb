// http1/conformance: the HTTP/1.1 details real clients rely on: pipelined requests answered in order
// (with bodies in between), Expect: 100-continue without deadlock, and HEAD responses without a body.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

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

// A body larger than the first read ends inside the relay buffer together with the next request.
BOOST_AUTO_TEST_CASE(pipelined_large_post_then_get_are_answered_in_order) {
    proxied p;
    const std::string body = pattern_string(1, 100000);
    http_client c(p.bw.port(), 5s);
    c.send(request_head("POST", "/echo", {{"Content-Length", std::to_string(body.size())}}) + body +
           request_head("GET", "/after", {}));
    auto r1 = c.read_response();
    auto r2 = c.read_response();
    BOOST_TEST(r1.body.size() == body.size());
    BOOST_TEST((r1.body == body), "the echoed body differs");
    BOOST_TEST(r2.body == "GET /after");
}

// A request answered without reading its body (here: no route, 404) must not leave the body to be
// parsed as the next request: it is drained, or the connection is closed.
BOOST_AUTO_TEST_CASE(unread_request_body_is_drained_or_connection_closed) {
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    opt.default_upstream = false;
    opt.tail = "[route:api]\npath_prefix = /api/\nupstream = backend\n";
    bw.start(opt);
    const std::string hidden = request_head("GET", "/api/smuggled", {});
    http_client c(bw.port(), 5s);
    c.send(request_head("POST", "/nowhere", {{"Content-Length", std::to_string(hidden.size())}}) + hidden);
    auto r = c.read_response();
    BOOST_TEST(r.status == 404);
    if (!c.peer_closed(200ms)) {
        auto next = c.get("/api/legit");
        BOOST_TEST(next.body == "GET /api/legit");
    }
    for (const auto& req : o.request_log())
        BOOST_TEST(req.target != "/api/smuggled", "the body of the refused request reached the origin as a request");
}

BOOST_AUTO_TEST_CASE(error_response_to_head_has_no_body) {
    origin o("a");
    bulwark_process bw;
    config_options opt = config_options::with_servers({o.address()});
    opt.default_upstream = false;
    bw.start(opt);
    http_client c(bw.port(), 5s);
    auto r = c.request("HEAD", "/nowhere");
    BOOST_TEST(r.status == 404);
    BOOST_TEST(!c.readable(200ms), "a body followed the 404 to HEAD");
    BOOST_TEST(c.get("/nowhere").body.size() > 0u);
}

BOOST_AUTO_TEST_CASE(transfer_encoding_chunked_is_case_insensitive) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send(request_head("POST", "/echo", {{"transfer-encoding", "Chunked"}}) + "3\r\nabc\r\n0\r\n\r\n");
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "abc");
}

BOOST_AUTO_TEST_CASE(options_asterisk_form_is_forwarded) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST(p.o.last_request().target == "*");
}

// RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request line.
BOOST_AUTO_TEST_CASE(empty_lines_before_a_request_are_ignored) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send("\r\n\r\nGET /after-blank HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = c.read_response();
    BOOST_TEST(r.body == "GET /after-blank");
}

// Clients that stop waiting (curl gives up after a second) send the body right behind the head.
BOOST_AUTO_TEST_CASE(expect_100_continue_with_the_body_sent_at_once) {
    proxied p;
    const std::string body = pattern_string(9, 4000);
    http_client c(p.bw.port(), 5s);
    c.send(request_head("POST", "/echo", {{"Expect", "100-continue"}, {"Content-Length", std::to_string(body.size())}}) +
           body);
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST((r.body == body), "the echoed body differs");
    BOOST_TEST(c.get("/who").body == "a");
}

// RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation in an HTTP/1.0 request (and
// RFC 9110 §15.2: never send a 1xx to an HTTP/1.0 client).
BOOST_AUTO_TEST_CASE(expect_100_continue_from_http10_client_gets_no_100) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send("POST /echo HTTP/1.0\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    bool early = c.readable(500ms);
    c.send("hello");
    auto r = c.read_response(false, /*stop_at_interim=*/true);
    BOOST_TEST(!early, "the proxy answered before the body arrived");
    BOOST_TEST(r.status == 200, "an HTTP/1.0 client got " << r.status << " first");
    if (r.status < 200) r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "hello");
}

BOOST_AUTO_TEST_CASE(hundred_pipelined_requests_with_large_responses_are_answered_in_order) {
    proxied p;
    std::string batch;
    for (int i = 0; i < 100; ++i)
        batch += request_head("GET", i % 10 == 0 ? "/size/" + std::to_string(100000 + i) : "/n" + std::to_string(i), {});
    http_client c(p.bw.port(), 10s);
    c.send(batch);
    for (int i = 0; i < 100; ++i) {
        auto r = c.read_response();
        if (i % 10 == 0) {
            BOOST_TEST(r.body_size == 100000u + static_cast<unsigned>(i), "response " << i);
            BOOST_TEST(r.body_hash == pattern_hash(100000 + static_cast<std::uint64_t>(i)), "response " << i);
        } else {
            BOOST_TEST(r.body == "GET /n" + std::to_string(i), "response " << i);
        }
    }
    BOOST_TEST(p.o.requests() == 100u);
}

BOOST_AUTO_TEST_CASE(request_with_connection_close_ends_the_pipeline) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send(request_head("GET", "/first", {{"Connection", "close"}}) + request_head("GET", "/second", {}));
    auto r = c.read_response();
    BOOST_TEST(r.body == "GET /first");
    BOOST_TEST(lower(r.header("connection").value_or("<none>")) == "close");
    BOOST_TEST(c.peer_closed(2s), "the connection stayed open after Connection: close");
    std::this_thread::sleep_for(100ms);
    BOOST_TEST(p.o.requests() == 1u, "the request after Connection: close was forwarded");
}

BOOST_AUTO_TEST_CASE(http10_keep_alive_is_honoured) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto r1 = c.read_response();
    BOOST_TEST(r1.body == "GET /one");
    BOOST_TEST(lower(r1.header("connection").value_or("<none>")) == "keep-alive");
    BOOST_TEST_REQUIRE(!c.peer_closed(100ms));
    c.send("GET /two HTTP/1.0\r\n\r\n");
    auto r2 = c.read_response();
    BOOST_TEST(r2.body == "GET /two");
    BOOST_TEST(c.peer_closed(2s), "an HTTP/1.0 request without keep-alive left the connection open");
}

BOOST_AUTO_TEST_SUITE_END()
