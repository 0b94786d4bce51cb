// http1/limits: max_header_size (431), max_headers (431 for requests, 502 for responses), max_uri_size
// (414) and max_body_size (413) each stop a request before anything reaches the origin, and a request
// just inside each limit still goes through.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

std::string fields(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "X-Field-" + std::to_string(i) + ": v\r\n";
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http1_limits)

BOOST_AUTO_TEST_CASE(head_larger_than_max_header_size_gets_431) {
    proxied p("max_header_size = 1k\n");
    http_client ok(p.bw.port(), 5s);
    ok.send("GET /small HTTP/1.1\r\nHost: a\r\nX-Pad: " + std::string(800, 'p') + "\r\n\r\n");
    BOOST_TEST(ok.read_response().status == 200, "a 850-byte head was refused");
    expect_rejected(p, "GET /big HTTP/1.1\r\nHost: a\r\nX-Pad: " + std::string(2000, 'p') + "\r\n\r\n", 431,
                    "2 KiB head");
    // Without its end: the size alone is enough to refuse it.
    expect_rejected(p, "GET /big HTTP/1.1\r\nHost: a\r\nX-Pad: " + std::string(2000, 'p'), 431,
                    "2 KiB unterminated head");
}

BOOST_AUTO_TEST_CASE(more_fields_than_max_headers_gets_431) {
    proxied p("max_headers = 10\n");
    http_client ok(p.bw.port(), 5s);
    ok.send("GET /ten HTTP/1.1\r\nHost: a\r\n" + fields(9) + "\r\n");  // 10 fields with Host
    BOOST_TEST(ok.read_response().status == 200, "a head with exactly max_headers fields was refused");
    expect_rejected(p, "GET /eleven HTTP/1.1\r\nHost: a\r\n" + fields(10) + "\r\n", 431, "11 fields");
    expect_rejected(p, "GET /many HTTP/1.1\r\nHost: a\r\n" + fields(200) + "\r\n", 431, "201 fields");
}

BOOST_AUTO_TEST_CASE(target_longer_than_max_uri_size_gets_414) {
    proxied p("max_uri_size = 256\n");
    http_client ok(p.bw.port(), 5s);
    std::string fits = "/" + std::string(255, 'u');
    ok.send("GET " + fits + " HTTP/1.1\r\nHost: a\r\n\r\n");
    BOOST_TEST(ok.read_response().status == 200, "a target of exactly max_uri_size was refused");
    expect_rejected(p, "GET /" + std::string(256, 'u') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414, "257-byte target");
    expect_rejected(p, "GET /" + std::string(3000, 'u') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414, "3001-byte target");
}

BOOST_AUTO_TEST_CASE(content_length_over_max_body_size_gets_413) {
    proxied p("max_body_size = 1k\n");
    http_client ok(p.bw.port(), 5s);
    auto r = ok.request("POST", "/echo", {}, std::string(1024, 'b'));
    BOOST_TEST(r.status == 200, "a body of exactly max_body_size was refused");
    BOOST_TEST(r.body.size() == 1024u);
    expect_rejected(p, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n" + std::string(1025, 'b'), 413,
                    "Content-Length: 1025");
    expect_rejected(p, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'b'), 413,
                    "Content-Length: 2000");
}

// A chunked body has no announced size: past max_body_size it gets 413 while nothing went upstream,
// otherwise the connections are closed; the origin never receives a complete oversized body.
BOOST_AUTO_TEST_CASE(chunked_body_over_max_body_size_gets_413_or_close) {
    proxied p("max_body_size = 1k\n");
    http_client c(p.bw.port(), 5s);
    c.send("POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + std::string(2000, 'b') +
           "\r\n0\r\n\r\n");
    std::optional<http_response> r;
    if (c.readable(3s) && !c.peer_closed()) r = c.read_response();
    std::this_thread::sleep_for(50ms);
    if (p.o.requests() == 0) {
        BOOST_TEST_REQUIRE(r.has_value(), "no response, and nothing was forwarded");
        BOOST_TEST(r->status == 413);
    } else {
        BOOST_TEST(!p.o.last_request().complete, "the origin received the whole oversized body");
        BOOST_TEST(p.o.last_request().body_size <= 1024u);
        BOOST_TEST(c.peer_closed(2s), "the client connection stayed open");
        if (r) BOOST_TEST(r->status != 200);
    }
}

BOOST_AUTO_TEST_CASE(response_with_more_fields_than_max_headers_gets_502) {
    proxied p("max_headers = 10\n");
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + fields(20) + "\r\nok";
    p.o.set_raw("many", raw_script::of(head));
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/raw/many");
    BOOST_TEST(r.status == 502);
}

// The limit is known from the head: the client is told before it sends the body, never invited to.
BOOST_AUTO_TEST_CASE(expect_100_continue_with_oversized_body_gets_413_without_100) {
    proxied p("max_body_size = 1k\n");
    http_client c(p.bw.port(), 5s);
    c.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2000\r\n\r\n");
    auto r = c.read_response(false, /*stop_at_interim=*/true);
    BOOST_TEST(r.status == 413, "first answer " << r.status);
    BOOST_TEST(p.o.requests() == 0u);
}

BOOST_AUTO_TEST_CASE(response_head_larger_than_max_header_size_gets_502) {
    proxied p("max_header_size = 1k\n");
    p.o.set_raw("big", raw_script::of("HTTP/1.1 200 OK\r\nX-Pad: " + std::string(2000, 'p') +
                                      "\r\nContent-Length: 2\r\n\r\nok"));
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/raw/big");
    BOOST_TEST(r.status == 502);
}

// Past max_body_size after the head went upstream: no 413 is possible any more, so both connections
// close and the origin never sees the body end.
BOOST_AUTO_TEST_CASE(chunked_body_growing_past_max_body_size_after_forwarding_closes) {
    proxied p("max_body_size = 64k\n");
    http_client c(p.bw.port(), 5s);
    c.send("POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2710\r\n" + std::string(10000, 'b') +
           "\r\n");
    BOOST_TEST_REQUIRE(wait_until([&] { return p.o.requests() == 1; }, 3s), "the head was not forwarded");
    std::this_thread::sleep_for(100ms);
    try {
        for (int i = 0; i < 10; ++i) c.send("2710\r\n" + std::string(10000, 'b') + "\r\n");
        c.send("0\r\n\r\n");
    } catch (const client_error&) {
        // closed while sending: expected
    }
    if (c.readable(3s) && !c.peer_closed()) {
        auto r = c.read_response();
        BOOST_TEST(r.status != 200, "the oversized body was accepted");
    }
    BOOST_TEST(c.peer_closed(2s), "the client connection stayed open");
    BOOST_TEST(!p.o.last_request().complete, "the origin received the whole oversized body");
    BOOST_TEST(wait_until([&] { return p.o.open_connections() == 0; }, 2s), "the origin connection stayed open");
}

BOOST_AUTO_TEST_SUITE_END()
