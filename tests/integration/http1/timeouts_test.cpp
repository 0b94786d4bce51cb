// http1/timeouts: each client- and upstream-side timeout fires within bounds with its documented result
// (408 then close, silent close, 504), and a thousand half-sent requests do not slow anyone else down.
// (upstream_timeout -> 504 is covered by proxy/upstream_errors.)
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness/process_text.hpp"
#include "harness/blackhole.hpp"
#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

}  // namespace

BOOST_AUTO_TEST_SUITE(http1_timeouts)

BOOST_AUTO_TEST_CASE(client_header_timeout_sends_408_then_closes) {
    proxied p("client_header_timeout = 1s\n");
    http_client c(p.bw.port(), 5s);
    auto t0 = steady_clock::now();
    c.send("GET /x HTTP/1.1\r\nHost: a\r\nX-Half: ");
    auto r = c.read_response();
    auto ms = ms_since(t0);
    BOOST_TEST(r.status == 408);
    BOOST_TEST(ms >= 900, "408 after " << ms << " ms, before client_header_timeout");
    BOOST_TEST(ms < 3000, "408 after " << ms << " ms");
    BOOST_TEST(c.peer_closed(2s), "the connection stayed open after 408");
    BOOST_TEST(p.o.requests() == 0u);
}

// The timeout bounds the whole head: a client trickling a byte at a time does not extend it.
BOOST_AUTO_TEST_CASE(client_header_timeout_bounds_the_whole_head_not_each_read) {
    proxied p("client_header_timeout = 1s\n");
    http_client c(p.bw.port(), 5s);
    const std::string head = "GET /x HTTP/1.1\r\nHost: a\r\nX-Slow: " + std::string(100, 's');
    auto t0 = steady_clock::now();
    std::size_t i = 0;
    while (i < head.size() && !c.readable(200ms) && ms_since(t0) < 4000) {
        try {
            c.send(head.substr(i++, 1));
        } catch (const client_error&) {
            break;  // closed under us: the read below tells what happened
        }
    }
    auto ms = ms_since(t0);
    BOOST_TEST(ms < 2500, "a trickled head kept the connection for " << ms << " ms");
    auto r = c.read_response();
    BOOST_TEST(r.status == 408);
}

BOOST_AUTO_TEST_CASE(client_header_timeout_closes_a_connection_that_sends_nothing) {
    proxied p("client_header_timeout = 1s\n");
    http_client c(p.bw.port(), 5s);
    auto t0 = steady_clock::now();
    BOOST_TEST_REQUIRE(c.readable(4s), "a silent connection was kept open for 4 s");
    auto ms = ms_since(t0);
    BOOST_TEST(ms >= 900, "closed after " << ms << " ms");
    if (!c.peer_closed()) BOOST_TEST(c.read_response().status == 408);
}

BOOST_AUTO_TEST_CASE(keepalive_timeout_closes_an_idle_client_connection) {
    proxied p("keepalive_timeout = 1s\nclient_header_timeout = 10s\n");
    http_client c(p.bw.port(), 5s);
    BOOST_TEST(c.get("/who").status == 200);
    auto t0 = steady_clock::now();
    BOOST_TEST(!c.readable(700ms), "closed (or sent bytes) before keepalive_timeout");
    BOOST_TEST(c.readable(3s), "the idle connection outlived keepalive_timeout");
    auto ms = ms_since(t0);
    BOOST_TEST(c.peer_closed(), "the proxy sent bytes on an idle connection instead of closing it");
    BOOST_TEST(ms >= 900, "closed after " << ms << " ms");
    BOOST_TEST(ms < 3000, "closed after " << ms << " ms");
}

BOOST_AUTO_TEST_CASE(client_body_timeout_closes_a_stalled_body) {
    proxied p("client_body_timeout = 1s\n");
    http_client c(p.bw.port(), 5s);
    auto t0 = steady_clock::now();
    c.send("POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    BOOST_TEST_REQUIRE(c.readable(4s), "a stalled body was waited for 4 s");
    auto ms = ms_since(t0);
    BOOST_TEST(ms >= 900, "gave up after " << ms << " ms");
    if (!c.peer_closed()) {
        auto r = c.read_response();
        BOOST_TEST(r.status == 408);
    }
    BOOST_TEST(c.peer_closed(2s), "the connection stayed open");
    BOOST_TEST(!p.o.last_request().complete, "the origin saw a complete request");
}

BOOST_AUTO_TEST_CASE(upstream_connect_timeout_gives_504) {
    blackhole_listener hole;
    BOOST_TEST_REQUIRE(hole.verify(), "this kernel completed a connect to a full accept queue");
    bulwark_process bw;
    config_options opt = config_options::with_servers({hole.address()});
    opt.global_extra = "upstream_connect_timeout = 1s\n";
    bw.start(opt);
    http_client c(bw.port(), 6s);
    auto t0 = steady_clock::now();
    auto r = c.get("/x");
    auto ms = ms_since(t0);
    BOOST_TEST(r.status == 504);
    BOOST_TEST(!r.body.empty());
    BOOST_TEST(ms >= 900, "504 after " << ms << " ms, before upstream_connect_timeout");
    BOOST_TEST(ms < 3000, "504 after " << ms << " ms");
    BOOST_TEST(bw.wait_for_text(bw.error_log_path(), hole.address()),
               "the error log does not name " << hole.address() << "\n" << bw.diagnostics());
}

BOOST_AUTO_TEST_CASE(slowloris_1000_half_requests_do_not_block_other_clients) {
    proxied p("client_header_timeout = 2s\n");
    std::vector<std::unique_ptr<http_client>> slow;
    slow.reserve(1000);
    for (int i = 0; i < 1000; ++i) {
        slow.push_back(std::make_unique<http_client>(p.bw.port(), 5s));
        slow.back()->send("GET /slow-loris HTTP/1.1\r\nHost: a\r\nX-Part: ");
    }
    // Everyone else is still served at once.
    for (int i = 0; i < 5; ++i) {
        http_client c(p.bw.port(), 5s);
        auto t0 = steady_clock::now();
        auto r = c.get("/who");
        auto ms = ms_since(t0);
        BOOST_TEST(r.status == 200);
        BOOST_TEST(ms < 500, "a normal request took " << ms << " ms beside 1000 slow ones");
    }
    // And the slow ones are all let go by client_header_timeout.
    auto t0 = steady_clock::now();
    std::size_t open = slow.size();
    while (open > 0 && ms_since(t0) < 6000) {
        open = 0;
        for (auto& s : slow)
            if (!s->readable(0ms)) ++open;
        if (open > 0) std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST(open == 0u, open << " of 1000 half-sent requests still held after client_header_timeout");
    BOOST_TEST(p.o.requests() == 5u);
}

BOOST_AUTO_TEST_SUITE_END()
