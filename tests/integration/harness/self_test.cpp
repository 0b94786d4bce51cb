// harness/self_test: the origin and the client talk directly (no proxy), so a proxy test failure is
// never a harness bug in disguise.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include "harness/http_client.hpp"
#include "harness/origin.hpp"
#include "harness/pattern.hpp"
#include "harness/websocket.hpp"
#include "harness/blackhole.hpp"

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

BOOST_AUTO_TEST_CASE(origin_sends_raw_scripts_verbatim_then_keeps_closes_or_drops) {
    origin o("self");
    raw_script late;
    late.parts = {"HTTP/1.1 204 No Content\r\n\r\n", "LATE"};
    late.pause = std::chrono::milliseconds(150);
    o.set_raw("late", late);
    o.set_raw("close", raw_script::of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", raw_script::after::close));
    o.set_raw("drop", raw_script::of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", raw_script::after::drop_next));
    o.set_raw("tr", raw_script::of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n"));

    http_client c(o.port(), std::chrono::seconds(2));
    auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(c.get("/raw/late").status == 204);
    BOOST_TEST(c.read_bytes(4) == "LATE");
    BOOST_TEST((std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(140)));
    auto tr = c.get("/raw/tr");
    BOOST_TEST(tr.body == "ok");
    BOOST_TEST(tr.trailer("x-t").value_or("<none>") == "1");
    BOOST_TEST(c.get("/raw/close").body == "ok");
    BOOST_TEST(c.peer_closed(std::chrono::seconds(1)), "after::close kept the connection");
    http_client u(o.port(), std::chrono::seconds(2));
    BOOST_TEST(u.get("/raw/nothing").status == 404);  // unscripted

    http_client d(o.port(), std::chrono::seconds(2));
    BOOST_TEST(d.get("/raw/drop").body == "ok");
    d.send(request_head("POST", "/echo", {{"Content-Length", "3"}}) + "abc");
    BOOST_TEST(d.peer_closed(std::chrono::seconds(1)), "after::drop_next answered the next request");
    auto log = o.request_log();
    BOOST_TEST_REQUIRE(log.size() == 6u);
    BOOST_TEST(log[5].method == "POST");
    BOOST_TEST(log[5].complete);
    BOOST_TEST(o.requests_with_method("POST") == 1u);

    http_client e(o.port(), std::chrono::seconds(2));
    e.send(request_head("POST", "/sink", {{"Transfer-Encoding", "chunked"}}) + "1\r\nx\r\n0\r\nX-Sum: 9\r\n\r\n");
    BOOST_TEST(e.read_response().status == 200);
    auto last = o.last_request();
    BOOST_TEST_REQUIRE(last.trailers.size() == 1u);
    BOOST_TEST(last.trailers[0].first == "X-Sum");
    BOOST_TEST(last.trailers[0].second == "9");
}

BOOST_AUTO_TEST_CASE(origin_websocket_handshake_and_echo) {
    origin o("self");
    http_client c(o.port(), std::chrono::seconds(2));
    const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
    auto bad = c.get("/ws");
    BOOST_TEST(bad.status == 400);
    c.send(request_head("GET", "/ws", {{"Upgrade", "websocket"}, {"Connection", "Upgrade"},
                                       {"Sec-WebSocket-Key", key}, {"Sec-WebSocket-Version", "13"}}));
    auto r = c.read_response();
    BOOST_TEST_REQUIRE(r.status == 101);
    BOOST_TEST(r.header("sec-websocket-accept").value_or("") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    c.send(ws_encode(ws_op::text, "push", true));
    auto f = ws_read(c);
    BOOST_TEST(f.payload == "push");
    BOOST_TEST(!f.masked);
    BOOST_TEST(ws_read(c).payload == "pushed by origin");
    std::string big = pattern_string(0, 70000);
    c.send(ws_encode(ws_op::binary, big, true));
    auto b = ws_read(c);
    BOOST_TEST(b.opcode == ws_op::binary);
    BOOST_TEST((b.payload == big));
    c.send(ws_encode(ws_op::text, "close-please", true));
    BOOST_TEST(ws_read(c).opcode == ws_op::close);
    BOOST_TEST(c.peer_closed(std::chrono::seconds(1)));
    BOOST_TEST(o.ws_frames() == 3u);
    BOOST_TEST(o.ws_unmasked_frames() == 0u);
}

BOOST_AUTO_TEST_CASE(blackhole_listener_never_completes_a_connect) {
    blackhole_listener hole;
    BOOST_TEST(hole.verify(std::chrono::milliseconds(500)));
}

BOOST_AUTO_TEST_SUITE_END()
