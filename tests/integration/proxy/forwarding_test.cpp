// proxy/forwarding: requests and responses cross the proxy intact, with keep-alive on both sides,
// hop-by-hop headers removed, X-Forwarded-* set, and Expect: 100-continue answered by the proxy.
#include <boost/test/unit_test.hpp>

#include <string>

#include "harness/bulwark_process.hpp"
#include "harness/http_client.hpp"
#include "harness/origin.hpp"
#include "harness/pattern.hpp"

using namespace bulwark::test;

namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proxy_forwarding)

BOOST_AUTO_TEST_CASE(get_reaches_origin_and_body_is_intact) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    http_client c(bw.port());
    auto r = c.get("/size/100000?q=1");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body_size == 100000u);
    BOOST_TEST((r.body == pattern_string(0, 100000)), "the body differs from what the origin sent");
    BOOST_TEST(r.header("x-origin").value_or("<none>") == "a");

    BOOST_TEST(o.requests() == 1u);
    auto last = o.last_request();
    BOOST_TEST(last.method == "GET");
    BOOST_TEST(last.target == "/size/100000?q=1");
    BOOST_TEST(last.version == "HTTP/1.1");
    BOOST_TEST(last.body_size == 0u);
}

BOOST_AUTO_TEST_CASE(post_with_content_length_body_is_echoed) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    std::string body = pattern_string(7, 50000);
    http_client c(bw.port());
    auto r = c.request("POST", "/echo", {{"Content-Type", "application/octet-stream"}}, body);
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body.size() == body.size());
    BOOST_TEST((r.body == body), "echoed body differs from the one sent");

    auto last = o.last_request();
    BOOST_TEST(last.method == "POST");
    BOOST_TEST(last.complete);
    BOOST_TEST(!last.chunked);
    BOOST_TEST(last.body_size == 50000u);
    BOOST_TEST(last.header("content-length").value_or("<none>") == "50000");
}

BOOST_AUTO_TEST_CASE(chunked_request_body_reaches_origin_chunked_and_is_echoed) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    // Uneven chunks, one larger than any likely buffer, one with a chunk extension.
    std::string expected;
    std::string wire = request_head("POST", "/echo", {{"Transfer-Encoding", "chunked"}});
    std::uint64_t off = 0;
    for (std::size_t n : {5u, 1u, 70000u, 26u, 4096u}) {
        std::string part = pattern_string(off, n);
        off += n;
        char size[32];
        std::snprintf(size, sizeof size, "%zx", n);
        wire += std::string(size) + (n == 26 ? ";ext=1" : "") + "\r\n" + part + "\r\n";
        expected += part;
    }
    wire += "0\r\n\r\n";

    http_client c(bw.port());
    c.send(wire);
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body.size() == expected.size());
    BOOST_TEST((r.body == expected), "echoed body differs from the chunks sent");

    auto last = o.last_request();
    BOOST_TEST(last.chunked, "the origin did not receive a chunked body");
    BOOST_TEST(lower(last.header("transfer-encoding").value_or("<none>")) == "chunked");
    BOOST_TEST(!last.header("content-length").has_value());
    BOOST_TEST(last.body_size == expected.size());
    BOOST_TEST(r.header("x-request-chunked").value_or("<none>") == "yes");
}

BOOST_AUTO_TEST_CASE(chunked_response_reaches_client_chunked_and_intact) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    http_client c(bw.port());
    auto r = c.get("/chunked/300000");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.chunked, "the proxy did not forward the chunked body chunked");
    BOOST_TEST(r.body_size == 300000u);
    BOOST_TEST(r.body_hash == pattern_hash(300000));
    // The connection is still usable afterwards: the chunked framing was complete.
    auto again = c.get("/who");
    BOOST_TEST(again.status == 200);
    BOOST_TEST(again.body == "a");
}

BOOST_AUTO_TEST_CASE(keepalive_reuses_one_connection_on_each_side) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));  // workers = 1

    http_client c(bw.port());
    for (int i = 0; i < 20; ++i) {
        auto r = c.get("/who?i=" + std::to_string(i));
        BOOST_TEST_REQUIRE(r.status == 200);
        BOOST_TEST(r.body == "a");
        BOOST_TEST(!r.close_delimited);
    }
    BOOST_TEST(!c.peer_closed(), "the proxy closed the client connection");
    BOOST_TEST(o.requests() == 20u);
    BOOST_TEST(o.connections() == 1u, "the origin accepted " << o.connections() << " connections for 20 requests");
}

BOOST_AUTO_TEST_CASE(hop_by_hop_headers_removed_and_forwarded_headers_set) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    http_client c(bw.port());
    auto r = c.get("/hop", {{"Connection", "keep-alive, X-Custom-Hop"},
                            {"X-Custom-Hop", "secret"},
                            {"Keep-Alive", "timeout=30"},
                            {"Proxy-Connection", "keep-alive"},
                            {"TE", "trailers"},
                            {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                            {"X-Forwarded-For", "203.0.113.9"},
                            {"X-End-To-End", "kept"}});
    BOOST_TEST(r.status == 200);

    auto last = o.last_request();
    for (const char* h : {"x-custom-hop", "keep-alive", "proxy-connection", "te", "proxy-authorization"})
        BOOST_TEST(!last.header(h).has_value(), "the origin received hop-by-hop header " << h);
    if (auto conn = last.header("connection"))
        BOOST_TEST(lower(*conn).find("x-custom-hop") == std::string::npos, "Connection forwarded: " << *conn);
    BOOST_TEST(last.header("x-end-to-end").value_or("<none>") == "kept");
    BOOST_TEST(last.header_count("x-forwarded-for") == 1u);
    BOOST_TEST(last.header("x-forwarded-for").value_or("<none>") == "127.0.0.1");
    BOOST_TEST(last.header("x-forwarded-proto").value_or("<none>") == "http");

    // And on the way back: the origin's hop-by-hop fields stop at the proxy.
    BOOST_TEST(!r.header("x-origin-hop").has_value(), "the client received X-Origin-Hop");
    BOOST_TEST(r.header("keep-alive").value_or("") != "timeout=5", "the origin's Keep-Alive was forwarded");
    if (auto conn = r.header("connection"))
        BOOST_TEST(lower(*conn).find("x-origin-hop") == std::string::npos, "Connection forwarded: " << *conn);
    BOOST_TEST(r.header("x-origin-end").value_or("<none>") == "kept");
}

BOOST_AUTO_TEST_CASE(expect_100_continue_gets_100_then_final_response) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    std::string body = pattern_string(3, 20000);
    http_client c(bw.port(), std::chrono::seconds(3));
    c.send(request_head("POST", "/echo", {{"Expect", "100-continue"}, {"Content-Length", "20000"}}));
    // Nothing of the body is sent until the proxy says 100 Continue.
    auto interim = c.read_response(false, /*stop_at_interim=*/true);
    BOOST_TEST_REQUIRE(interim.status == 100, "expected 100 Continue before the body, got " << interim.status);
    c.set_timeout(std::chrono::seconds(10));
    c.send(body);
    auto r = c.read_response();
    BOOST_TEST(r.status == 200);
    BOOST_TEST((r.body == body), "echoed body differs from the one sent");
    BOOST_TEST(o.last_request().body_size == 20000u);
}

BOOST_AUTO_TEST_CASE(curl_fetches_through_the_proxy) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    auto r = run_command({"curl", "-s", "-i", "--max-time", "10",
                          "http://127.0.0.1:" + std::to_string(bw.port()) + "/who"},
                         std::chrono::seconds(15));
    BOOST_TEST(r.exit_code == 0, "curl failed: " << r.err);
    BOOST_TEST(r.out.starts_with("HTTP/1.1 200"), "curl output: " << r.out);
    BOOST_TEST(lower(r.out).find("x-origin: a\r\n") != std::string::npos, "curl output: " << r.out);
    BOOST_TEST(r.out.ends_with("\r\n\r\na"), "curl output: " << r.out);
}

BOOST_AUTO_TEST_CASE(curl_uploads_a_file_with_data_binary) {
    origin o("a");
    bulwark_process bw;
    bw.start(config_options::with_servers({o.address()}));

    // 3 MB: curl sends `Expect: 100-continue` for bodies this large, so this also covers its handshake.
    constexpr std::uint64_t n = 3u << 20;
    std::string file = bw.file("upload.bin");
    write_text(file, pattern_string(0, n));
    auto r = run_command({"curl", "-s", "--max-time", "20", "-H", "Content-Type: application/octet-stream",
                          "--data-binary", "@" + file, "http://127.0.0.1:" + std::to_string(bw.port()) + "/sink"},
                         std::chrono::seconds(25));
    BOOST_TEST(r.exit_code == 0, "curl failed: " << r.err);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(pattern_hash(n)));
    BOOST_TEST(r.out == std::to_string(n) + " " + hex);
    auto last = o.last_request();
    BOOST_TEST(last.method == "POST");
    BOOST_TEST(last.body_size == n);
}

BOOST_AUTO_TEST_SUITE_END()
