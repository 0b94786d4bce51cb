// http/headers: the heads the proxy writes. Hop-by-hop fields never cross, X-Forwarded-* come from us,
// the client always gets a framing it can read, and generated errors carry an exact Content-Length.
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "http/headers.hpp"
#include "http/message.hpp"
#include "http/parser.hpp"
#include "printable.hpp"

namespace http = bulwark::http;

namespace {

using bulwark::test::printable;

constexpr std::size_t max_head = 32 * 1024;


// Parses `bytes` (kept alive by the caller) and writes the upstream request for it.
std::string upstream_request(const std::string& bytes, std::string_view client = "10.0.0.7",
                             std::string_view default_host = "default.example") {
    http::request_head head;
    auto r = http::parse_request(bytes, max_head, head);
    BOOST_TEST_REQUIRE((r.status == http::parse_status::complete), "request did not parse: " << r.error.reason);
    http::forward_info fwd;
    fwd.client_address = client;
    fwd.default_host = default_host;
    std::string out = "stale bytes from a previous request";
    http::write_upstream_request(head, fwd, out);
    return out;
}

std::string client_response(const std::string& bytes, http::response_body_mode mode, bool close, bool http10,
                            bool request_was_head = false) {
    http::response_head head;
    auto r = http::parse_response(bytes, max_head, request_was_head, head);
    BOOST_TEST_REQUIRE((r.status == http::parse_status::complete), "response did not parse: " << r.error.reason);
    std::string out = "stale bytes from a previous response";
    http::write_client_response(head, mode, close, http10, out);
    return out;
}

bool has_line(const std::string& head, std::string_view line) {
    return head.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
}

}  // namespace

#define EXPECT_HEAD(actual, expected)                                                                     \
    do {                                                                                                  \
        std::string a_ = (actual);                                                                        \
        std::string e_ = (expected);                                                                      \
        BOOST_TEST((a_ == e_), "\nexpected:\n" << printable(e_) << "\nactual:\n" << printable(a_));       \
    } while (0)

BOOST_AUTO_TEST_SUITE(http_headers)

// ---- request to the origin ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(upstream_request_removes_hop_by_hop_fields) {
    const std::string in =
        "GET /path?x=1 HTTP/1.1\r\n"
        "Host: example.com\r\n"
        "Connection: keep-alive\r\n"
        "Keep-Alive: timeout=5\r\n"
        "Accept: */*\r\n"
        "Proxy-Connection: keep-alive\r\n"
        "TE: trailers\r\n"
        "Upgrade: websocket\r\n"
        "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"
        "User-Agent: test/1.0\r\n"
        "\r\n";
    EXPECT_HEAD(upstream_request(in),
                "GET /path?x=1 HTTP/1.1\r\n"
                "Host: example.com\r\n"
                "Accept: */*\r\n"
                "User-Agent: test/1.0\r\n"
                "X-Forwarded-For: 10.0.0.7\r\n"
                "X-Forwarded-Proto: http\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(upstream_request_removes_fields_named_in_connection) {
    const std::string in =
        "GET / HTTP/1.1\r\n"
        "Host: example.com\r\n"
        "X-Secret: hunter2\r\n"
        "Connection: close, X-Secret ,x-other\r\n"
        "X-OTHER: 1\r\n"
        "X-Secretive: kept\r\n"
        "\r\n";
    EXPECT_HEAD(upstream_request(in),
                "GET / HTTP/1.1\r\n"
                "Host: example.com\r\n"
                "X-Secretive: kept\r\n"
                "X-Forwarded-For: 10.0.0.7\r\n"
                "X-Forwarded-Proto: http\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(upstream_request_drops_expect_and_client_forwarded_fields) {
    const std::string in =
        "POST /upload HTTP/1.1\r\n"
        "Host: example.com\r\n"
        "X-Forwarded-For: 6.6.6.6\r\n"
        "Expect: 100-continue\r\n"
        "x-forwarded-proto: https\r\n"
        "Content-Length: 3\r\n"
        "\r\n";
    EXPECT_HEAD(upstream_request(in, "192.0.2.1"),
                "POST /upload HTTP/1.1\r\n"
                "Host: example.com\r\n"
                "Content-Length: 3\r\n"
                "X-Forwarded-For: 192.0.2.1\r\n"
                "X-Forwarded-Proto: http\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(upstream_request_keeps_other_fields_in_order) {
    const std::string in =
        "PUT /r HTTP/1.1\r\n"
        "Z-Last: z\r\n"
        "Host: example.com\r\n"
        "A-First: a\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Cookie: a=1\r\n"
        "Cookie: b=2\r\n"
        "\r\n";
    EXPECT_HEAD(upstream_request(in),
                "PUT /r HTTP/1.1\r\n"
                "Z-Last: z\r\n"
                "Host: example.com\r\n"
                "A-First: a\r\n"
                "Transfer-Encoding: chunked\r\n"
                "Cookie: a=1\r\n"
                "Cookie: b=2\r\n"
                "X-Forwarded-For: 10.0.0.7\r\n"
                "X-Forwarded-Proto: http\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(upstream_request_uses_http11_for_http10_clients) {
    const std::string in = "GET /old HTTP/1.0\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n";
    EXPECT_HEAD(upstream_request(in),
                "GET /old HTTP/1.1\r\n"
                "Host: example.com\r\n"
                "X-Forwarded-For: 10.0.0.7\r\n"
                "X-Forwarded-Proto: http\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(upstream_request_without_host_gets_the_default_host) {
    const std::string in = "GET /old HTTP/1.0\r\nAccept: */*\r\n\r\n";
    EXPECT_HEAD(upstream_request(in, "10.0.0.7", "backend.internal:9001"),
                "GET /old HTTP/1.1\r\n"
                "Accept: */*\r\n"
                "Host: backend.internal:9001\r\n"
                "X-Forwarded-For: 10.0.0.7\r\n"
                "X-Forwarded-Proto: http\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(upstream_request_writes_host_from_absolute_form) {
    const std::string in = "GET http://origin.test:81/p?q HTTP/1.1\r\nAccept: */*\r\nHost: other.test\r\n\r\n";
    EXPECT_HEAD(upstream_request(in),
                "GET /p?q HTTP/1.1\r\n"
                "Accept: */*\r\n"
                "Host: origin.test:81\r\n"
                "X-Forwarded-For: 10.0.0.7\r\n"
                "X-Forwarded-Proto: http\r\n"
                "\r\n");

    const std::string old = "GET http://origin.test/x HTTP/1.0\r\n\r\n";
    EXPECT_HEAD(upstream_request(old),
                "GET /x HTTP/1.1\r\n"
                "Host: origin.test\r\n"
                "X-Forwarded-For: 10.0.0.7\r\n"
                "X-Forwarded-Proto: http\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(upstream_request_uses_the_forward_scheme) {
    http::request_head head;
    const std::string in = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    BOOST_TEST_REQUIRE((http::parse_request(in, max_head, head).status == http::parse_status::complete));
    http::forward_info fwd;
    fwd.client_address = "::1";
    fwd.scheme = "https";
    std::string out;
    http::write_upstream_request(head, fwd, out);
    BOOST_TEST(has_line(out, "X-Forwarded-For: ::1"));
    BOOST_TEST(has_line(out, "X-Forwarded-Proto: https"));
}

BOOST_AUTO_TEST_CASE(is_hop_by_hop_knows_the_fixed_list_and_connection_tokens) {
    for (const char* name : {"Connection", "keep-alive", "Proxy-Connection", "TE", "te", "Upgrade",
                             "Proxy-Authorization", "Proxy-Authenticate"})
        BOOST_TEST(http::is_hop_by_hop(name, ""), name);
    for (const char* name : {"Host", "Trailer-X", "Accept", "Transfer-Encoding", "Content-Length", "X-Secret"})
        BOOST_TEST(!http::is_hop_by_hop(name, ""), name);
    BOOST_TEST(http::is_hop_by_hop("X-Secret", "close, x-secret"));
    BOOST_TEST(http::is_hop_by_hop("x-secret", "X-SECRET"));
    BOOST_TEST(!http::is_hop_by_hop("X-Secret", "close, x-secretive"));
    BOOST_TEST(!http::is_hop_by_hop("X-Sec", "close, x-secret"));
}

// ---- response to the client -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(client_response_as_is_forwards_length_and_removes_hop_by_hop) {
    const std::string in =
        "HTTP/1.1 200 OK\r\n"
        "Content-Length: 5\r\n"
        "Connection: keep-alive, X-Internal\r\n"
        "Keep-Alive: timeout=5\r\n"
        "X-Internal: secret\r\n"
        "Server: origin\r\n"
        "\r\n";
    EXPECT_HEAD(client_response(in, http::response_body_mode::as_is, false, false),
                "HTTP/1.1 200 OK\r\n"
                "Content-Length: 5\r\n"
                "Server: origin\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(client_response_as_is_keeps_chunked_framing) {
    const std::string in = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\n\r\n";
    EXPECT_HEAD(client_response(in, http::response_body_mode::as_is, false, false),
                "HTTP/1.1 201 Created\r\n"
                "Transfer-Encoding: chunked\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(client_response_add_chunked_adds_transfer_encoding) {
    const std::string in = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n";
    EXPECT_HEAD(client_response(in, http::response_body_mode::add_chunked, false, false),
                "HTTP/1.1 200 OK\r\n"
                "Content-Type: text/plain\r\n"
                "Transfer-Encoding: chunked\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(client_response_close_delimited_drops_transfer_encoding) {
    const std::string in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n";
    EXPECT_HEAD(client_response(in, http::response_body_mode::close_delimited, true, true),
                "HTTP/1.1 200 OK\r\n"
                "Content-Type: text/plain\r\n"
                "Connection: close\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(client_response_says_connection_close_when_closing) {
    const std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    EXPECT_HEAD(client_response(in, http::response_body_mode::as_is, true, false),
                "HTTP/1.1 200 OK\r\n"
                "Content-Length: 0\r\n"
                "Connection: close\r\n"
                "\r\n");
}

BOOST_AUTO_TEST_CASE(client_response_says_keep_alive_to_http10_clients_kept_alive) {
    const std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n";
    EXPECT_HEAD(client_response(in, http::response_body_mode::as_is, false, true),
                "HTTP/1.1 200 OK\r\n"
                "Content-Length: 2\r\n"
                "Connection: keep-alive\r\n"
                "\r\n");
    // An HTTP/1.1 client kept alive needs no Connection field; a closing HTTP/1.0 client gets close only.
    auto http11 = client_response(in, http::response_body_mode::as_is, false, false);
    BOOST_TEST(http11.find("Connection") == std::string::npos, printable(http11));
    auto closing10 = client_response(in, http::response_body_mode::as_is, true, true);
    BOOST_TEST(has_line(closing10, "Connection: close"));
    BOOST_TEST(closing10.find("keep-alive") == std::string::npos, printable(closing10));
}

BOOST_AUTO_TEST_CASE(client_response_empty_reason_gets_the_standard_phrase) {
    EXPECT_HEAD(client_response("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", http::response_body_mode::as_is,
                                false, false),
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    EXPECT_HEAD(client_response("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", http::response_body_mode::as_is,
                                false, false),
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    // A reason the origin did send is kept as is.
    EXPECT_HEAD(client_response("HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n",
                                http::response_body_mode::as_is, false, false),
                "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n");
}

// ---- responses generated by the proxy -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(error_response_has_a_correct_content_length) {
    for (int status : {400, 404, 405, 431, 500, 502, 503, 504, 505}) {
        for (bool close : {false, true}) {
            BOOST_TEST_CONTEXT("status " << status << " close " << close) {
                std::string out;
                http::write_error_response(status, close, out);
                http::response_head head;
                auto r = http::parse_response(out, max_head, false, head);
                BOOST_TEST_REQUIRE((r.status == http::parse_status::complete), r.error.reason);
                BOOST_TEST(head.status == status);
                BOOST_TEST(head.reason == http::reason_phrase(status));
                BOOST_TEST((head.framing == http::body_framing::length));
                std::string body = out.substr(head.head_size);
                BOOST_TEST(head.content_length == body.size());
                BOOST_TEST(body == std::to_string(status) + " " + std::string(http::reason_phrase(status)) + "\n");
                BOOST_TEST(head.flags.connection_close == close);
                BOOST_TEST(head.get("content-type") == "text/plain");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(error_response_is_exact) {
    std::string out;
    http::write_error_response(502, true, out);
    EXPECT_HEAD(out,
                "HTTP/1.1 502 Bad Gateway\r\n"
                "Server: bulwark\r\n"
                "Content-Type: text/plain\r\n"
                "Content-Length: 16\r\n"
                "Connection: close\r\n"
                "\r\n"
                "502 Bad Gateway\n");
}

BOOST_AUTO_TEST_CASE(reason_phrase_gives_the_standard_phrases) {
    BOOST_TEST(http::reason_phrase(100) == "Continue");
    BOOST_TEST(http::reason_phrase(200) == "OK");
    BOOST_TEST(http::reason_phrase(204) == "No Content");
    BOOST_TEST(http::reason_phrase(304) == "Not Modified");
    BOOST_TEST(http::reason_phrase(400) == "Bad Request");
    BOOST_TEST(http::reason_phrase(404) == "Not Found");
    BOOST_TEST(http::reason_phrase(405) == "Method Not Allowed");
    BOOST_TEST(http::reason_phrase(431) == "Request Header Fields Too Large");
    BOOST_TEST(http::reason_phrase(502) == "Bad Gateway");
    BOOST_TEST(http::reason_phrase(504) == "Gateway Timeout");
    BOOST_TEST(http::reason_phrase(505) == "HTTP Version Not Supported");
}

BOOST_AUTO_TEST_CASE(reason_phrase_falls_back_to_the_status_class) {
    BOOST_TEST(!http::reason_phrase(299).empty());
    BOOST_TEST(http::reason_phrase(418) == "Client Error");
    BOOST_TEST(http::reason_phrase(599) == "Server Error");
}

BOOST_AUTO_TEST_SUITE_END()
