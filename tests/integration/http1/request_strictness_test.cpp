// http1/request_strictness: every request-side smuggling vector of RFC 9112 is refused end to end over a
// raw socket: 400 (or the rule's own status), the connection closed, and nothing reaches the origin.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

const std::string host = "Host: example.com\r\n";

// A POST to /echo with the given framing fields and body.
std::string post(const std::string& fields, const std::string& body = "hello") {
    return "POST /echo HTTP/1.1\r\n" + host + fields + "\r\n" + body;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http1_request_strictness)

BOOST_AUTO_TEST_CASE(content_length_with_transfer_encoding_is_rejected) {
    proxied p;
    expect_rejected(p, post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), 400);
    expect_rejected(p, post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "5\r\nhello\r\n0\r\n\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(duplicate_content_length_is_rejected) {
    proxied p;
    expect_rejected(p, post("Content-Length: 5\r\nContent-Length: 5\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(differing_content_lengths_are_rejected) {
    proxied p;
    expect_rejected(p, post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400);
}

BOOST_AUTO_TEST_CASE(content_length_that_is_not_plain_digits_is_rejected) {
    proxied p;
    for (const char* v : {"+5", "-5", "5x", "0x5", "5 5", "5, 5", "5,5", "1e1", "", "\"5\"",
                          "99999999999999999999999"}) {
        expect_rejected(p, post(std::string("Content-Length: ") + v + "\r\n"), 400,
                        std::string("Content-Length: ") + v);
    }
}

BOOST_AUTO_TEST_CASE(transfer_encoding_xchunked_is_rejected) {
    proxied p;
    expect_rejected(p, post("Transfer-Encoding: xchunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(transfer_encoding_chunked_identity_is_rejected) {
    proxied p;
    expect_rejected(p, post("Transfer-Encoding: chunked, identity\r\n", "5\r\nhello\r\n0\r\n\r\n"), 400);
    expect_rejected(p, post("Transfer-Encoding: identity\r\n", "5\r\nhello\r\n0\r\n\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(whitespace_before_colon_is_rejected) {
    proxied p;
    expect_rejected(p, post("Transfer-Encoding : chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), 400);
    expect_rejected(p, post("Content-Length\t: 5\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(duplicate_transfer_encoding_is_rejected) {
    proxied p;
    expect_rejected(p, post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
                    400);
}

BOOST_AUTO_TEST_CASE(obs_fold_is_rejected) {
    proxied p;
    expect_rejected(p, "GET /x HTTP/1.1\r\n" + host + "X-Folded: first\r\n second\r\n\r\n", 400);
    expect_rejected(p, "GET /x HTTP/1.1\r\n" + host + "X-Folded: first\r\n\tsecond\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(nul_in_field_value_is_rejected) {
    proxied p;
    expect_rejected(p, "GET /x HTTP/1.1\r\n" + host + std::string("X-Nul: a\0b\r\n\r\n", 14), 400, "X-Nul: a<NUL>b");
}

BOOST_AUTO_TEST_CASE(control_character_in_field_is_rejected) {
    proxied p;
    expect_rejected(p, "GET /x HTTP/1.1\r\n" + host + "X-C\x01tl: a\r\n\r\n", 400, "name with 0x01");
    expect_rejected(p, "GET /x HTTP/1.1\r\n" + host + "X-Ctl: a\x0b" "b\r\n\r\n", 400, "value with 0x0b");
    expect_rejected(p, "GET /x HTTP/1.1\r\n" + host + "X-Ctl: a\x7f" "b\r\n\r\n", 400, "value with DEL");
    expect_rejected(p, "GET /x HTTP/1.1\r\n" + host + "X-Ctl: a\rb\r\n\r\n", 400, "value with a lone CR");
}

BOOST_AUTO_TEST_CASE(space_in_request_target_is_rejected) {
    proxied p;
    expect_rejected(p, "GET /a b HTTP/1.1\r\n" + host + "\r\n", 400);
    expect_rejected(p, "GET /a\tb HTTP/1.1\r\n" + host + "\r\n", 400, "tab in target");
}

BOOST_AUTO_TEST_CASE(invalid_method_is_rejected) {
    proxied p;
    expect_rejected(p, "GE(T /x HTTP/1.1\r\n" + host + "\r\n", 400);
    expect_rejected(p, "G\x01T /x HTTP/1.1\r\n" + host + "\r\n", 400, "method with 0x01");
    expect_rejected(p, " GET /x HTTP/1.1\r\n" + host + "\r\n", 400, "leading space");
}

BOOST_AUTO_TEST_CASE(http_version_other_than_1_0_or_1_1_gets_505) {
    proxied p;
    expect_rejected(p, "GET /x HTTP/1.2\r\n" + host + "\r\n", 505);
    expect_rejected(p, "GET /x HTTP/2.0\r\n" + host + "\r\n", 505);
    expect_rejected(p, "GET /x HTTP/1.1x\r\n" + host + "\r\n", 400, "HTTP/1.1x");
}

BOOST_AUTO_TEST_CASE(missing_host_in_http11_is_rejected) {
    proxied p;
    expect_rejected(p, "GET /x HTTP/1.1\r\nX-A: b\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(several_host_fields_are_rejected) {
    proxied p;
    expect_rejected(p, "GET /x HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400);
    expect_rejected(p, "GET /x HTTP/1.1\r\nHost: a.example\r\nHost: a.example\r\n\r\n", 400, "same Host twice");
}

BOOST_AUTO_TEST_CASE(transfer_encoding_in_http10_request_is_rejected) {
    proxied p;
    expect_rejected(p, "POST /echo HTTP/1.0\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                    400);
}

// Policy (RFC 9112 §2.2 allows either): a bare LF is never accepted as a line terminator.
BOOST_AUTO_TEST_CASE(bare_lf_line_terminator_is_rejected) {
    proxied p;
    expect_rejected(p, "GET /x HTTP/1.1\n" + host + "\r\n", 400, "bare LF after the request line");
    expect_rejected(p, "GET /x HTTP/1.1\r\nHost: example.com\nX-A: b\r\n\r\n", 400, "bare LF after a field");
    expect_rejected(p, "GET /x HTTP/1.1\nHost: example.com\n\n", 400, "bare LFs only");
}

// A backend that maps '_' to '-' (CGI, some frameworks) would read these as framing fields: they are
// refused, or at least never forwarded.
BOOST_AUTO_TEST_CASE(underscore_framing_field_names_are_not_forwarded) {
    proxied p;
    for (const char* field : {"Transfer_Encoding: chunked", "Content_Length: 5"}) {
        BOOST_TEST_CONTEXT(field) {
            const std::size_t before = p.o.requests();
            http_client c(p.bw.port(), 5s);
            c.send("GET /x HTTP/1.1\r\n" + host + field + "\r\n\r\n");
            auto r = c.read_response();
            if (r.status == 400) {
                BOOST_TEST(p.o.requests() == before, "refused, yet forwarded");
            } else {
                BOOST_TEST(r.status == 200);
                BOOST_TEST_REQUIRE(p.o.requests() == before + 1);
                auto last = p.o.last_request();
                BOOST_TEST(!last.header("transfer_encoding").has_value(), "Transfer_Encoding forwarded");
                BOOST_TEST(!last.header("content_length").has_value(), "Content_Length forwarded");
            }
        }
    }
}

// The chunked body is checked as it is forwarded: a bad size line never reaches the origin as part of a
// request it could frame differently; either nothing is forwarded or the origin connection is closed.
BOOST_AUTO_TEST_CASE(invalid_chunk_size_in_request_body_is_not_forwarded) {
    proxied p;
    for (const char* bad : {"zz\r\nhello\r\n0\r\n\r\n", "-5\r\nhello\r\n0\r\n\r\n", "\r\nhello\r\n0\r\n\r\n",
                            "5\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n"}) {
        BOOST_TEST_CONTEXT("body: " << bad) {
            const std::size_t before = p.o.requests();
            http_client c(p.bw.port(), 5s);
            c.send("POST /sink HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n" + bad);
            if (c.readable(3s) && !c.peer_closed()) {
                auto r = c.read_response();
                BOOST_TEST(r.status == 400);
            }
            BOOST_TEST(c.peer_closed(2s), "the client connection stayed open");
            std::this_thread::sleep_for(50ms);
            if (p.o.requests() != before) {
                BOOST_TEST(!p.o.last_request().complete, "the origin received a complete request");
                BOOST_TEST(wait_until([&] { return p.o.open_connections() == 0; }, 2s),
                           "the origin connection carrying the broken body stayed open");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(chunk_size_overflow_in_request_body_is_not_forwarded) {
    proxied p;
    for (const char* bad : {"ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", "10000000000000001\r\nhello\r\n0\r\n\r\n",
                            "1000000000000000000\r\nhello\r\n0\r\n\r\n"}) {
        BOOST_TEST_CONTEXT("body: " << bad) {
            const std::size_t before = p.o.requests();
            http_client c(p.bw.port(), 5s);
            c.send("POST /sink HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n" + bad);
            if (c.readable(3s) && !c.peer_closed()) {
                auto r = c.read_response();
                BOOST_TEST(r.status == 400);
            }
            BOOST_TEST(c.peer_closed(2s), "the client connection stayed open");
            std::this_thread::sleep_for(50ms);
            if (p.o.requests() != before) {
                BOOST_TEST(!p.o.last_request().complete, "the origin received a complete request");
                BOOST_TEST(wait_until([&] { return p.o.open_connections() == 0; }, 2s),
                           "the origin connection carrying the broken body stayed open");
            }
        }
    }
}

// Once the head went upstream, a broken chunk can no longer become a 400: both connections close, and
// the origin never sees the request end.
BOOST_AUTO_TEST_CASE(invalid_chunk_after_forwarding_started_closes_both_connections) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send("POST /sink HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    BOOST_TEST_REQUIRE(wait_until([&] { return p.o.requests() == 1; }, 3s), "the head was not forwarded");
    std::this_thread::sleep_for(100ms);
    c.send("zz\r\nworld\r\n0\r\n\r\n");
    if (c.readable(3s) && !c.peer_closed()) {
        auto r = c.read_response();
        BOOST_TEST((r.status == 400 || r.status == 502), "status " << r.status);
    }
    BOOST_TEST(c.peer_closed(2s), "the client connection stayed open");
    BOOST_TEST(!p.o.last_request().complete, "the origin received a complete request");
    BOOST_TEST(wait_until([&] { return p.o.open_connections() == 0; }, 2s),
               "the origin connection carrying the broken body stayed open");
}

BOOST_AUTO_TEST_CASE(connect_method_gets_405) {
    proxied p;
    expect_rejected(p, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405);
}

BOOST_AUTO_TEST_CASE(absolute_form_host_wins_over_host_field) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send("GET http://a.example/path?q=1 HTTP/1.1\r\nHost: b.example\r\n\r\n");
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST_REQUIRE(p.o.requests() == 1u);
    auto last = p.o.last_request();
    BOOST_TEST(last.target == "/path?q=1");
    BOOST_TEST(last.header_count("host") == 1u);
    BOOST_TEST(last.header("host").value_or("<none>") == "a.example");
}

// The absolute-form's authority is the host for routing too, not only for the forwarded Host field.
BOOST_AUTO_TEST_CASE(absolute_form_host_is_used_for_routing) {
    origin a("a");
    origin x("x");
    bulwark_process bw;
    config_options opt = config_options::with_servers({a.address()});
    opt.tail = "[upstream:other]\nserver = " + x.address() + "\n[route:x]\nhost = x.example\nupstream = other\n";
    bw.start(opt);
    http_client c(bw.port(), 5s);
    c.send("GET http://x.example/who HTTP/1.1\r\nHost: a.example\r\n\r\n");
    auto r = c.read_response();
    BOOST_TEST(r.body == "x", "routed by the Host field instead of the absolute-form");
    c.send("GET http://a.example/who HTTP/1.1\r\nHost: x.example\r\n\r\n");
    BOOST_TEST(c.read_response().body == "a", "routed by the Host field instead of the absolute-form");
}

BOOST_AUTO_TEST_SUITE_END()
