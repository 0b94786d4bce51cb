// http1/origin_responses: what an origin sends is framed strictly too. Ambiguous framing gives 502 and
// the connection is dropped; bytes after a bodiless response never become the next client's response;
// close-delimited bodies are re-framed; 1xx are relayed to 1.1 clients; an unsolicited 101 never hangs.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "harness/pattern.hpp"
#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

// A complete response an origin could smuggle after a bodiless one: whoever reads it as the answer to
// the next request has been desynchronised.
const std::string smuggled = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Smuggled: yes\r\n\r\nsmuggled";

// The next request through the proxy is answered by the origin itself, on a new origin connection.
void expect_next_request_on_new_connection(proxied& p, http_client& c) {
    const std::size_t conns = p.o.connections();
    http_client fresh(p.bw.port(), 5s);
    http_client& use = c.is_open() && !c.peer_closed() ? c : fresh;
    auto r = use.get("/who");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "a", "the next response was not the origin's: " << r.body);
    BOOST_TEST(!r.header("x-smuggled").has_value(), "the client received the smuggled response");
    BOOST_TEST(p.o.connections() == conns + 1, "the origin connection was reused (" << p.o.connections()
                                                                                    << " connections)");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http1_origin_responses)

BOOST_AUTO_TEST_CASE(response_with_content_length_and_transfer_encoding_gets_502) {
    proxied p;
    p.o.set_raw("clte", raw_script::of("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       "5\r\nhello\r\n0\r\n\r\n"));
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/raw/clte");
    BOOST_TEST(r.status == 502);
    BOOST_TEST(r.body.find("hello") == std::string::npos);
    expect_next_request_on_new_connection(p, c);
}

BOOST_AUTO_TEST_CASE(response_with_invalid_content_length_gets_502) {
    proxied p;
    int i = 0;
    for (const char* cl : {"Content-Length: 5x", "Content-Length: -1", "Content-Length: 5, 5",
                           "Content-Length: 5\r\nContent-Length: 6", "Content-Length: 99999999999999999999999"}) {
        BOOST_TEST_CONTEXT(cl) {
            std::string name = "cl" + std::to_string(i++);
            p.o.set_raw(name, raw_script::of(std::string("HTTP/1.1 200 OK\r\n") + cl + "\r\n\r\nhello"));
            http_client c(p.bw.port(), 5s);
            auto r = c.get("/raw/" + name);
            BOOST_TEST(r.status == 502);
            expect_next_request_on_new_connection(p, c);
        }
    }
}

BOOST_AUTO_TEST_CASE(response_without_length_is_sent_chunked_to_http11_client) {
    proxied p;
    const std::string body = pattern_string(0, 200000);
    p.o.set_raw("eof", raw_script::of("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n" + body, raw_script::after::close));
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/raw/eof");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.chunked, "not chunked (close-delimited: " << r.close_delimited << ")");
    BOOST_TEST(r.body.size() == body.size());
    BOOST_TEST((r.body == body), "the body differs from what the origin sent");
    // The client connection survives: the chunked framing ended the response.
    auto next = c.get("/who");
    BOOST_TEST(next.body == "a");
}

BOOST_AUTO_TEST_CASE(response_without_length_is_close_delimited_to_http10_client) {
    proxied p;
    const std::string body = pattern_string(5, 50000);
    p.o.set_raw("eof", raw_script::of("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n" + body, raw_script::after::close));
    http_client c(p.bw.port(), 5s);
    c.send("GET /raw/eof HTTP/1.0\r\n\r\n");
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.close_delimited);
    BOOST_TEST(!r.header("transfer-encoding").has_value(), "Transfer-Encoding sent to an HTTP/1.0 client");
    BOOST_TEST((r.body == body), "the body differs from what the origin sent");
}

BOOST_AUTO_TEST_CASE(body_on_204_response_is_dropped_and_connection_not_reused) {
    proxied p;
    p.o.set_raw("nc", raw_script::of("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n" + smuggled));
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/raw/nc");
    BOOST_TEST(r.status == 204);
    BOOST_TEST(!c.readable(200ms), "bytes after the 204 reached the client");
    expect_next_request_on_new_connection(p, c);
}

BOOST_AUTO_TEST_CASE(body_on_304_response_is_dropped_and_connection_not_reused) {
    proxied p;
    p.o.set_raw("nm", raw_script::of("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n" + smuggled));
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/raw/nm");
    BOOST_TEST(r.status == 304);
    BOOST_TEST(!c.readable(200ms), "bytes after the 304 reached the client");
    expect_next_request_on_new_connection(p, c);
}

BOOST_AUTO_TEST_CASE(body_on_head_response_is_dropped_and_connection_not_reused) {
    proxied p;
    p.o.set_raw("head", raw_script::of("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(smuggled.size()) +
                                       "\r\n\r\n" + smuggled));
    http_client c(p.bw.port(), 5s);
    auto r = c.request("HEAD", "/raw/head");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.header("content-length").value_or("<none>") == std::to_string(smuggled.size()));
    BOOST_TEST(!c.readable(200ms), "the body of the HEAD response reached the client");
    expect_next_request_on_new_connection(p, c);
}

// The body of a 204 may arrive after the head, while the connection already sits in the pool: it must
// still not be read as the answer to the next request (a pooled connection that turns readable is dead).
BOOST_AUTO_TEST_CASE(late_body_on_204_response_is_not_taken_as_next_response) {
    proxied p;
    raw_script s;
    s.parts = {"HTTP/1.1 204 No Content\r\n\r\n", smuggled};
    s.pause = 150ms;
    p.o.set_raw("late", s);
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/raw/late").status == 204);
    std::this_thread::sleep_for(400ms);  // the late bytes reach the proxy while the connection is idle
    expect_next_request_on_new_connection(p, c);
}

BOOST_AUTO_TEST_CASE(early_hints_103_then_200_reach_the_client) {
    proxied p;
    raw_script s;
    s.parts = {"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
    s.pause = 400ms;
    p.o.set_raw("hints", s);
    http_client c(p.bw.port(), 5s);
    auto t0 = steady_clock::now();
    c.send(request_head("GET", "/raw/hints", {}));
    auto hints = c.read_response(false, /*stop_at_interim=*/true);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
    BOOST_TEST(hints.status == 103);
    BOOST_TEST(hints.header("link").value_or("<none>") == "</style.css>; rel=preload");
    BOOST_TEST(ms < 350, "the 103 was held back until the final response (" << ms << " ms)");
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "ok");
    BOOST_TEST(c.get("/who").body == "a", "the connection is unusable after a 1xx");
}

BOOST_AUTO_TEST_CASE(early_hints_are_not_sent_to_http10_client) {
    proxied p;
    p.o.set_raw("hints", raw_script::of("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    http_client c(p.bw.port(), 5s);
    c.send("GET /raw/hints HTTP/1.0\r\n\r\n");
    auto r = c.read_response(false, /*stop_at_interim=*/true);
    BOOST_TEST(r.status == 200, "an HTTP/1.0 client got " << r.status << " first (RFC 9110 §15.2)");
    BOOST_TEST(r.body == "ok");
}

BOOST_AUTO_TEST_CASE(unsolicited_101_gets_502) {
    proxied p;
    p.o.set_raw("up", raw_script::of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                     "Connection: Upgrade\r\n\r\n\x81\x02hi"));
    http_client c(p.bw.port(), 5s);
    auto t0 = steady_clock::now();
    auto r = c.get("/raw/up");
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
    BOOST_TEST(r.status == 502);
    BOOST_TEST(ms < 3000, "the 502 took " << ms << " ms");
    expect_next_request_on_new_connection(p, c);
}

BOOST_AUTO_TEST_CASE(malformed_response_heads_get_502) {
    proxied p;
    int i = 0;
    for (const char* head : {"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
                             "HTTP/1.1 200 OK\r\nX-Nul: a\x01" "b\r\nContent-Length: 2\r\n\r\nok",
                             "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
                             "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "2\r\nok\r\n0\r\n\r\n",
                             "HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok",
                             "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
                             "HTTP/1.1 200 OK\r\nTransfer_Encoding: chunked\r\nContent-Length: 2\r\n\r\nok"}) {
        BOOST_TEST_CONTEXT("response #" << i) {
            std::string name = "bad" + std::to_string(i++);
            p.o.set_raw(name, raw_script::of(head));
            http_client c(p.bw.port(), 5s);
            auto r = c.get("/raw/" + name);
            BOOST_TEST(r.status == 502);
            expect_next_request_on_new_connection(p, c);
        }
    }
}

// A broken chunk after the head went out cannot become a 502: the client must see a truncated body
// (connection closed before the last chunk), never a complete-looking response.
BOOST_AUTO_TEST_CASE(invalid_chunk_in_response_is_never_passed_off_as_complete) {
    proxied p;
    for (const char* body : {"5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n", "ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"}) {
        BOOST_TEST_CONTEXT("body " << body) {
            raw_script s;
            s.parts = {std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") + body};
            p.o.set_raw("badchunk", s);
            http_client c(p.bw.port(), 5s);
            c.send(request_head("GET", "/raw/badchunk", {}));
            try {
                auto r = c.read_response();
                BOOST_TEST(r.status == 502, "a response with a broken chunk reached the client as " << r.status);
            } catch (const client_error& e) {
                BOOST_TEST_MESSAGE("truncated as expected: " << e.what());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(several_1xx_before_the_final_response_do_not_hang) {
    proxied p;
    p.o.set_raw("many1xx", raw_script::of("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                                          "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                                          "HTTP/1.1 103 Early Hints\r\nLink: </b>\r\n\r\n"
                                          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"));
    http_client c(p.bw.port(), 3s);
    auto r = c.get("/raw/many1xx");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "final");
    BOOST_TEST(c.get("/who").body == "a");
}

BOOST_AUTO_TEST_CASE(origin_connection_close_is_honoured) {
    proxied p;
    // The origin says close but leaves the socket open: only the proxy's reading of the field protects us.
    p.o.set_raw("close", raw_script::of("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok" + smuggled));
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/raw/close").body == "ok");
    expect_next_request_on_new_connection(p, c);
}

BOOST_AUTO_TEST_CASE(http10_origin_response_without_keep_alive_is_not_reused) {
    proxied p;
    p.o.set_raw("ten", raw_script::of("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/raw/ten").body == "ok");
    expect_next_request_on_new_connection(p, c);
}

// A response cut off by its client leaves the origin connection mid-body: it must not be pooled.
BOOST_AUTO_TEST_CASE(client_leaving_mid_response_does_not_pool_the_origin_connection) {
    proxied p;
    {
        http_client c(p.bw.port(), 5s);
        c.send(request_head("GET", "/size/50000000", {}));
        c.read_bytes(100000);
    }
    std::this_thread::sleep_for(300ms);
    http_client d(p.bw.port(), 5s);
    auto r = d.get("/who");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "a");
    BOOST_TEST(p.o.connections() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
