// http1/readiness: reads skip the recv() that would fail with EAGAIN when the kernel says a socket is
// empty (core/asio_drained.hpp); nothing that arrives may be missed because of it. Each case sends
// the bytes a skipped read could lose (a FIN right behind a request or a response, a request arriving
// while no read is pending) and requires an answer or a close well before any timeout (keep-alive
// 75 s, upstream 60 s by default), so a missed wake-up shows as a failure, not a slow pass.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

/// Runs `send` while the worker is stopped, so that everything it sends is queued on the socket before
/// the worker's next read: the read that takes the request also finds the FIN.
template <class F>
void while_worker_stopped(const bulwark_process& bw, F send) {
    auto workers = bw.worker_pids();
    BOOST_TEST_REQUIRE(workers.size() == 1u);
    ::kill(workers[0], SIGSTOP);
    send();
    std::this_thread::sleep_for(50ms);
    ::kill(workers[0], SIGCONT);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http1_readiness)

// FIN in the same segment train as the request: the read that takes the request also finds the FIN.
BOOST_AUTO_TEST_CASE(half_close_right_after_the_request_gets_the_answer_then_a_close) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST_REQUIRE(c.get("/first").status == 200);  // accepted and waiting for the next request
    while_worker_stopped(p.bw, [&] {
        c.send(request_head("GET", "/one", {}));
        c.shutdown_send();
    });
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "GET /one");
    BOOST_TEST(c.peer_closed(2s), "the connection stayed open after the client's FIN");
}

BOOST_AUTO_TEST_CASE(half_close_after_pipelined_requests_gets_every_answer_then_a_close) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST_REQUIRE(c.get("/first").status == 200);
    while_worker_stopped(p.bw, [&] {
        c.send(request_head("GET", "/a", {}) + request_head("GET", "/b", {}));
        c.shutdown_send();
    });
    BOOST_TEST(c.read_response().body == "GET /a");
    BOOST_TEST(c.read_response().body == "GET /b");
    BOOST_TEST(c.peer_closed(2s), "the connection stayed open after the client's FIN");
}

// The FIN arrives while the request is at the origin and no read is pending on the client's socket.
BOOST_AUTO_TEST_CASE(half_close_while_the_request_is_at_the_origin_gets_the_answer_then_a_close) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send(request_head("GET", "/slow/300", {}));
    std::this_thread::sleep_for(100ms);
    c.shutdown_send();
    BOOST_TEST(c.read_response().body == "slow 300");
    BOOST_TEST(c.peer_closed(2s), "the connection stayed open after the client's FIN");
}

// The second request arrives while the first is at the origin: its readiness event comes when no read
// is pending, and the next read must still try recv() first.
BOOST_AUTO_TEST_CASE(request_arriving_while_the_previous_one_is_at_the_origin_is_answered_at_once) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    c.send(request_head("GET", "/slow/300", {}));
    std::this_thread::sleep_for(100ms);
    c.send(request_head("GET", "/second", {}));
    auto start = steady_clock::now();
    BOOST_TEST(c.read_response().body == "slow 300");
    BOOST_TEST(c.read_response().body == "GET /second");
    BOOST_TEST((steady_clock::now() - start < 1s), "the second answer waited for something else");
}

// Many short keep-alive exchanges in a row, each read ending with an empty socket: every one answered.
BOOST_AUTO_TEST_CASE(a_thousand_keep_alive_requests_on_one_connection_are_all_answered) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    auto start = steady_clock::now();
    for (int i = 0; i < 1000; ++i) {
        auto r = c.get("/n" + std::to_string(i));
        BOOST_TEST_REQUIRE(r.body == "GET /n" + std::to_string(i));
    }
    BOOST_TEST((steady_clock::now() - start < 10s));
    BOOST_TEST(p.o.connections() == 1u);
}

// The origin writes a keep-alive answer and closes at once, so its FIN lands right behind the answer.
// The next request, sent immediately, finds the pooled connection dead: it must be retried, not left
// waiting for an event that the FIN already spent.
BOOST_AUTO_TEST_CASE(origin_fin_right_behind_an_answer_does_not_stall_the_next_request) {
    proxied p;
    p.o.set_raw("ka", raw_script::of("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst", raw_script::after::close));
    http_client c(p.bw.port(), 5s);
    for (int i = 0; i < 20; ++i) {
        auto start = steady_clock::now();
        BOOST_TEST_REQUIRE(c.get("/raw/ka").body == "first");
        auto r = c.get("/who");
        BOOST_TEST_REQUIRE(r.body == "a");
        BOOST_TEST_REQUIRE((steady_clock::now() - start < 2s), "round " << i << " waited for a timeout");
    }
}

// A body delimited by the origin's close (no Content-Length): the FIN is the end of the body and comes
// right behind the last bytes.
BOOST_AUTO_TEST_CASE(body_ended_by_the_origin_closing_is_relayed_without_delay) {
    proxied p;
    p.o.set_raw("eof", raw_script::of("HTTP/1.1 200 OK\r\n\r\nuntil the end", raw_script::after::close));
    http_client c(p.bw.port(), 5s);
    for (int i = 0; i < 20; ++i) {
        auto start = steady_clock::now();
        auto r = c.get("/raw/eof");
        BOOST_TEST_REQUIRE(r.body == "until the end");
        BOOST_TEST_REQUIRE((steady_clock::now() - start < 2s), "round " << i << " waited for a timeout");
    }
}

BOOST_AUTO_TEST_SUITE_END()
