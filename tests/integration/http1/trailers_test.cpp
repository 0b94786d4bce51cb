// http1/trailers: trailer fields of chunked bodies cross the proxy both ways, except the framing fields
// (Content-Length, Transfer-Encoding, Host), which a trailer must never smuggle in (RFC 9110 §6.5.1).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

bool has_field(const header_list& h, std::string_view name) {
    for (const auto& [k, v] : h)
        if (lower(k) == name) return true;
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http1_trailers)

BOOST_AUTO_TEST_CASE(response_trailers_reach_the_client) {
    proxied p;
    p.o.set_raw("tr", raw_script::of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
                                     "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc123\r\n\r\n"));
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/raw/tr", {{"TE", "trailers"}});
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "hello world");
    BOOST_TEST(r.trailer("x-checksum").value_or("<none>") == "abc123");
    BOOST_TEST(c.get("/who").body == "a");
}

BOOST_AUTO_TEST_CASE(framing_fields_in_response_trailers_are_dropped) {
    proxied p;
    p.o.set_raw("tr", raw_script::of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     "5\r\nhello\r\n0\r\nX-Checksum: abc123\r\nContent-Length: 99\r\n"
                                     "Transfer-Encoding: chunked\r\nHost: evil.example\r\n\r\n"));
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/raw/tr", {{"TE", "trailers"}});
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "hello");
    BOOST_TEST(r.trailer("x-checksum").value_or("<none>") == "abc123");
    for (const char* f : {"content-length", "transfer-encoding", "host"})
        BOOST_TEST(!has_field(r.trailers, f), "trailer " << f << " reached the client");
}

BOOST_AUTO_TEST_CASE(request_trailers_reach_the_origin) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send("POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
           "5\r\nhello\r\n0\r\nX-Sum: 42\r\n\r\n");
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    auto last = p.o.last_request();
    BOOST_TEST(last.complete);
    BOOST_TEST(last.body_size == 5u);
    BOOST_TEST(has_field(last.trailers, "x-sum"), "the trailer X-Sum did not reach the origin");
}

BOOST_AUTO_TEST_CASE(framing_fields_in_request_trailers_are_dropped) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send("POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5\r\nhello\r\n0\r\nX-Sum: 42\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nHost: evil.example\r\n"
           "\r\n");
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    auto last = p.o.last_request();
    BOOST_TEST(last.complete);
    BOOST_TEST(has_field(last.trailers, "x-sum"), "the trailer X-Sum did not reach the origin");
    for (const char* f : {"content-length", "transfer-encoding", "host"})
        BOOST_TEST(!has_field(last.trailers, f), "trailer " << f << " reached the origin");
}

// The framing filter must not depend on where reads split a trailer section.
BOOST_AUTO_TEST_CASE(framing_fields_in_response_trailers_are_dropped_across_split_reads) {
    proxied p;
    raw_script s;
    s.parts = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc123\r\nCont",
               "ent-Length: 99\r\nTransfer-Enc", "oding: chunked\r\nHo", "st: evil.example\r\n", "\r\n"};
    s.pause = 50ms;
    p.o.set_raw("split", s);
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/raw/split", {{"TE", "trailers"}});
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "hello");
    BOOST_TEST(r.trailer("x-checksum").value_or("<none>") == "abc123");
    for (const char* f : {"content-length", "transfer-encoding", "host"})
        BOOST_TEST(!has_field(r.trailers, f), "trailer " << f << " reached the client");
    BOOST_TEST(c.get("/who").body == "a");
}

BOOST_AUTO_TEST_CASE(framing_fields_in_request_trailers_are_dropped_across_split_writes) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    for (const char* part : {"POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 42\r\nConte",
                             "nt-Length: 5\r\nTransfer-Enc", "oding: chunked\r\nHo", "st: evil.example\r\n", "\r\n"}) {
        c.send(part);
        std::this_thread::sleep_for(50ms);
    }
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    auto last = p.o.last_request();
    BOOST_TEST(last.complete);
    BOOST_TEST(has_field(last.trailers, "x-sum"), "the trailer X-Sum did not reach the origin");
    for (const char* f : {"content-length", "transfer-encoding", "host"})
        BOOST_TEST(!has_field(last.trailers, f), "trailer " << f << " reached the origin");
}

BOOST_AUTO_TEST_SUITE_END()
