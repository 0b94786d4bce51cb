// http1/websocket: a real RFC 6455 handshake through the proxy (Upgrade and Connection forwarded, the
// origin's 101 relayed) turns the connection into a two-way tunnel: frames flow both ways unchanged,
// either side closing closes the other, and only tunnel_timeout (not the HTTP timeouts) ends an idle one.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "harness/pattern.hpp"
#include "harness/websocket.hpp"
#include "http1/proxy_fixture.hpp"

using namespace bulwark::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 §1.3

std::string hex(const std::array<unsigned char, 20>& d) {
    std::string s;
    char b[3];
    for (auto c : d) {
        std::snprintf(b, sizeof b, "%02x", c);
        s += b;
    }
    return s;
}

// Sends the opening handshake and checks the 101; false when the proxy did not switch protocols.
bool handshake(http_client& c) {
    c.send(request_head("GET", "/ws", {{"Upgrade", "websocket"},
                                       {"Connection", "Upgrade"},
                                       {"Sec-WebSocket-Key", key},
                                       {"Sec-WebSocket-Version", "13"},
                                       {"Origin", "http://example.com"}}));
    auto r = c.read_response();
    BOOST_TEST(r.status == 101, "handshake answered " << r.status << " " << r.body);
    if (r.status != 101) return false;
    BOOST_TEST(lower(r.header("upgrade").value_or("<none>")) == "websocket");
    BOOST_TEST(lower(r.header("connection").value_or("<none>")).find("upgrade") != std::string::npos,
               "Connection: " << r.header("connection").value_or("<none>"));
    BOOST_TEST(r.header("sec-websocket-accept").value_or("<none>") == websocket_accept(key));
    return true;
}

void send_frame(http_client& c, int opcode, std::string_view payload) { c.send(ws_encode(opcode, payload, true)); }

ws_frame expect_frame(http_client& c, int opcode, std::string_view payload) {
    ws_frame f = ws_read(c);
    BOOST_TEST(f.opcode == opcode);
    BOOST_TEST(!f.masked, "a server frame arrived masked");
    BOOST_TEST(f.payload.size() == payload.size());
    BOOST_TEST((f.payload == payload), "frame payload differs");
    return f;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http1_websocket)

// The harness's own SHA-1 and base64 against published vectors (FIPS 180-4 examples, RFC 6455 §1.3).
BOOST_AUTO_TEST_CASE(harness_sha1_and_accept_key_match_published_vectors) {
    BOOST_TEST(hex(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    BOOST_TEST(hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    BOOST_TEST(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
               "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    BOOST_TEST(hex(sha1(std::string(1000000, 'a'))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    BOOST_TEST(base64("") == "");
    BOOST_TEST(base64("f") == "Zg==");
    BOOST_TEST(base64("fo") == "Zm8=");
    BOOST_TEST(base64("foobar") == "Zm9vYmFy");
    BOOST_TEST(websocket_accept(key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    std::string frame = ws_encode(ws_op::text, "Hello", true, 0x37fa213d);
    BOOST_TEST(frame == std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));  // RFC 6455 §5.7
}

BOOST_AUTO_TEST_CASE(websocket_handshake_and_echo_through_the_proxy) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST_REQUIRE(handshake(c));
    auto req = p.o.last_request();
    BOOST_TEST(lower(req.header("upgrade").value_or("<none>")) == "websocket", "Upgrade not forwarded");
    BOOST_TEST(lower(req.header("connection").value_or("<none>")).find("upgrade") != std::string::npos,
               "Connection: upgrade not forwarded");
    BOOST_TEST(req.header("sec-websocket-key").value_or("<none>") == key);

    send_frame(c, ws_op::text, "hello through the proxy");
    expect_frame(c, ws_op::text, "hello through the proxy");
    BOOST_TEST(p.o.ws_frames() == 1u);
    BOOST_TEST(p.o.ws_unmasked_frames() == 0u, "the client's mask was lost on the way");
}

BOOST_AUTO_TEST_CASE(websocket_both_directions_keep_working) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST_REQUIRE(handshake(c));
    // Origin-initiated traffic: "push" is echoed, then the origin speaks on its own 100 ms later.
    send_frame(c, ws_op::text, "push");
    expect_frame(c, ws_op::text, "push");
    expect_frame(c, ws_op::text, "pushed by origin");
    // Payload lengths in all three encodings (7-bit, 16-bit, 64-bit), several frames in one write.
    std::string batch;
    std::vector<std::string> sent;
    for (std::size_t n : {0u, 1u, 125u, 126u, 300u, 65535u, 65536u, 200000u}) {
        sent.push_back(pattern_string(n, n));
        batch += ws_encode(ws_op::binary, sent.back(), true, 0x01020304u + static_cast<std::uint32_t>(n));
    }
    c.send(batch);
    for (const auto& s : sent) expect_frame(c, ws_op::binary, s);
    send_frame(c, ws_op::ping, "are you there");
    expect_frame(c, ws_op::pong, "are you there");
    // And again after both sides went quiet for a moment.
    std::this_thread::sleep_for(300ms);
    send_frame(c, ws_op::text, "still here");
    expect_frame(c, ws_op::text, "still here");
}

BOOST_AUTO_TEST_CASE(websocket_client_close_closes_the_origin_side) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST_REQUIRE(handshake(c));
    send_frame(c, ws_op::text, "x");
    expect_frame(c, ws_op::text, "x");
    BOOST_TEST(p.o.open_connections() == 1u);
    c.close();  // TCP close without a close frame
    BOOST_TEST(wait_until([&] { return p.o.open_connections() == 0; }, 3s),
               "the origin side of the tunnel stayed open after the client left");
}

BOOST_AUTO_TEST_CASE(websocket_close_handshake_closes_both_sides) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST_REQUIRE(handshake(c));
    send_frame(c, ws_op::close, std::string("\x03\xe8", 2));
    expect_frame(c, ws_op::close, std::string("\x03\xe8", 2));
    BOOST_TEST(c.peer_closed(3s), "the client side stayed open after the origin closed");
    BOOST_TEST(wait_until([&] { return p.o.open_connections() == 0; }, 3s));
}

BOOST_AUTO_TEST_CASE(websocket_origin_close_closes_the_client_side) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST_REQUIRE(handshake(c));
    send_frame(c, ws_op::text, "close-please");
    expect_frame(c, ws_op::close, std::string("\x03\xe8", 2));
    BOOST_TEST(c.peer_closed(3s), "the client side stayed open after the origin closed");
}

// Only tunnel_timeout bounds an upgraded connection: the HTTP-phase timeouts no longer apply.
BOOST_AUTO_TEST_CASE(websocket_tunnel_outlives_upstream_and_body_timeouts) {
    proxied p("upstream_timeout = 500ms\nclient_body_timeout = 500ms\nkeepalive_timeout = 500ms\n"
              "tunnel_timeout = 10s\n");
    http_client c(p.bw.port(), 5s);
    BOOST_TEST_REQUIRE(handshake(c));
    std::this_thread::sleep_for(1200ms);
    BOOST_TEST_REQUIRE(!c.peer_closed(), "the tunnel was closed by an HTTP timeout");
    send_frame(c, ws_op::text, "after a quiet second");
    expect_frame(c, ws_op::text, "after a quiet second");
}

BOOST_AUTO_TEST_CASE(websocket_tunnel_closed_after_tunnel_timeout_idle) {
    proxied p("tunnel_timeout = 1s\n");
    http_client c(p.bw.port(), 5s);
    BOOST_TEST_REQUIRE(handshake(c));
    // Traffic keeps it alive past the timeout...
    for (int i = 0; i < 4; ++i) {
        std::this_thread::sleep_for(400ms);
        send_frame(c, ws_op::text, "tick " + std::to_string(i));
        expect_frame(c, ws_op::text, "tick " + std::to_string(i));
    }
    // ...silence ends it.
    auto t0 = steady_clock::now();
    BOOST_TEST(!c.peer_closed(600ms), "closed before tunnel_timeout");
    BOOST_TEST(c.peer_closed(3s), "the idle tunnel outlived tunnel_timeout");
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
    BOOST_TEST(ms >= 600);
    BOOST_TEST(wait_until([&] { return p.o.open_connections() == 0; }, 2s), "the origin side stayed open");
}

// An origin that declines the upgrade answers like any request; the connection stays HTTP.
BOOST_AUTO_TEST_CASE(upgrade_declined_by_origin_stays_http) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/who", {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}});
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "a");
    auto next = c.get("/after");
    BOOST_TEST(next.body == "GET /after");
}

// The origin's first frame may share a packet with its 101.
BOOST_AUTO_TEST_CASE(bytes_after_101_in_the_same_write_reach_the_client) {
    proxied p;
    p.o.set_raw("up", raw_script::of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                     "Sec-WebSocket-Accept: " + websocket_accept(key) + "\r\n\r\n" +
                                     ws_encode(ws_op::text, "first words", false)));
    http_client c(p.bw.port(), 5s);
    c.send(request_head("GET", "/raw/up", {{"Upgrade", "websocket"},
                                           {"Connection", "Upgrade"},
                                           {"Sec-WebSocket-Key", key},
                                           {"Sec-WebSocket-Version", "13"}}));
    auto r = c.read_response();
    BOOST_TEST_REQUIRE(r.status == 101);
    expect_frame(c, ws_op::text, "first words");
}

// Both directions at full speed at once: the tunnel must copy each way independently (no deadlock
// when one direction is blocked on a full socket).
BOOST_AUTO_TEST_CASE(websocket_tunnel_carries_megabytes_both_ways_at_once) {
    proxied p;
    http_client c(p.bw.port(), 10s);
    BOOST_TEST_REQUIRE(handshake(c));
    constexpr int frames = 64;
    constexpr std::size_t frame_size = 64 * 1024;
    std::atomic<int> echoed{0};
    std::atomic<bool> intact{true};
    std::string read_error;
    std::thread reader([&] {
        try {
            for (int i = 0; i < frames; ++i) {
                ws_frame f = ws_read(c);
                if (f.opcode != ws_op::binary || f.payload != pattern_string(i * frame_size, frame_size)) intact = false;
                ++echoed;
            }
        } catch (const std::exception& e) {
            read_error = e.what();
        }
    });
    try {
        for (int i = 0; i < frames; ++i)
            c.send(ws_encode(ws_op::binary, pattern_string(i * frame_size, frame_size), true));
    } catch (const std::exception& e) {
        BOOST_ERROR("sending: " << e.what());
    }
    reader.join();
    BOOST_TEST(read_error.empty(), "reading: " << read_error);
    BOOST_TEST(echoed.load() == frames);
    BOOST_TEST(intact.load(), "an echoed frame differs");
}

BOOST_AUTO_TEST_CASE(websocket_client_half_close_reaches_the_origin) {
    proxied p;
    http_client c(p.bw.port(), 5s);
    BOOST_TEST_REQUIRE(handshake(c));
    send_frame(c, ws_op::text, "bye");
    expect_frame(c, ws_op::text, "bye");
    c.shutdown_send();  // FIN: the origin reads EOF and closes, which must come back to us
    BOOST_TEST(c.peer_closed(3s), "the client's FIN did not reach the origin (or its close did not come back)");
    BOOST_TEST(wait_until([&] { return p.o.open_connections() == 0; }, 2s));
}

// h2c smuggling: a tunnelled `Upgrade: h2c` would let a client speak HTTP/2 straight to the origin,
// past everything the proxy checks per request. Only WebSocket upgrades are forwarded.
BOOST_AUTO_TEST_CASE(h2c_upgrade_is_not_forwarded) {
    proxied p;
    p.o.set_raw("h2c", raw_script::of("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"));
    http_client c(p.bw.port(), 5s);
    auto r = c.get("/raw/h2c", {{"Connection", "Upgrade, HTTP2-Settings"},
                                {"Upgrade", "h2c"},
                                {"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}});
    BOOST_TEST(r.status != 101, "an h2c upgrade was tunnelled");
    if (p.o.requests() > 0) {
        auto last = p.o.last_request();
        BOOST_TEST(lower(last.header("upgrade").value_or("")).find("h2c") == std::string::npos,
                   "Upgrade: h2c reached the origin");
        BOOST_TEST(!last.header("http2-settings").has_value(), "HTTP2-Settings reached the origin");
    }
}

BOOST_AUTO_TEST_SUITE_END()
