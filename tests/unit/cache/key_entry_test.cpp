// cache/key and cache/entry: the key template and the stored head blob, on heads parsed by the real
// parser.
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

#include "cache/entry.hpp"
#include "cache/key.hpp"
#include "http/parser.hpp"

namespace cache = bulwark::cache;
namespace http = bulwark::http;

namespace {

std::unique_ptr<http::request_head> request(const std::string& text) {
    auto r = std::make_unique<http::request_head>();
    BOOST_REQUIRE(http::parse_request(text, 32 * 1024, *r).status == http::parse_status::complete);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_key)

BOOST_AUTO_TEST_CASE(the_default_template_is_a_url_without_the_port) {
    static const std::string text = "GET /a/b?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n";
    auto req = request(text);
    std::string key;
    cache::build_key("$scheme://$host$request_uri", {"https", req.get()}, key);
    BOOST_TEST(key == "https://example.com/a/b?x=1");
}

BOOST_AUTO_TEST_CASE(variables_and_literal_text) {
    static const std::string text = "GET /p?q=2 HTTP/1.1\r\nHost: h\r\nX-Api-Version: 3\r\n\r\n";
    auto req = request(text);
    std::string key;
    cache::build_key("$method|$uri|$args|v$http_x_api_version|$hostx|$http_missing.", {"http", req.get()}, key);
    BOOST_TEST(key == "GET|/p|q=2|v3|hx|.");
    cache::build_key("$scheme://$host$request_uri", {"http", req.get(), "/other?z"}, key);
    BOOST_TEST(key == "http://h/other?z");  // an invalidation target instead of the request's
}

BOOST_AUTO_TEST_CASE(an_ipv6_host_keeps_its_brackets) {
    static const std::string text = "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n";
    auto req = request(text);
    std::string key;
    cache::build_key("$host", {"http", req.get()}, key);
    BOOST_TEST(key == "[::1]");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cache_entry)

BOOST_AUTO_TEST_CASE(a_response_round_trips_without_framing_hop_by_hop_and_targeted_fields) {
    static const std::string text =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close, x-hop\r\nX-Hop: 1\r\nAge: 9\r\n"
        "CDN-Cache-Control: max-age=60\r\nBulwark-Cache-Control: max-age=5\r\nETag: \"e\"\r\nContent-Type: text/plain\r\n\r\n";
    http::response_head res;
    BOOST_REQUIRE(http::parse_response(text, 32 * 1024, false, res).status == http::parse_status::complete);
    cache::stored_times t;
    t.lifetime = 60;
    t.date = 1000;
    t.shared_ok = true;
    const std::string blob = cache::encode_response(t, true, res, "bulwark-cache-control");
    auto d = cache::decode(blob);
    BOOST_REQUIRE(d.has_value());
    BOOST_TEST((d->meta.kind == cache::entry_kind::response));
    BOOST_TEST(d->meta.times().lifetime == 60);
    BOOST_TEST(d->meta.shared_ok == 1);
    BOOST_TEST(std::string(d->head) == "HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Type: text/plain\r\n\r\n");
    http::response_head again;
    BOOST_TEST((http::parse_response(d->head, 32 * 1024, false, again).status == http::parse_status::complete));
}

BOOST_AUTO_TEST_CASE(a_vary_marker_lists_its_fields) {
    const std::string blob = cache::encode_vary_marker({"1234", "accept-encoding", "accept-language"});
    auto d = cache::decode(blob);
    BOOST_REQUIRE(d.has_value());
    BOOST_TEST((d->meta.kind == cache::entry_kind::vary_marker));
    auto fields = cache::marker_fields(d->head);
    BOOST_TEST(fields.size() == 3u);
    BOOST_TEST(fields[2] == "accept-language");
}

BOOST_AUTO_TEST_CASE(foreign_or_truncated_blobs_are_refused) {
    BOOST_TEST(!cache::decode("").has_value());
    BOOST_TEST(!cache::decode(std::string(200, 'x')).has_value());
    std::string blob = cache::encode_vary_marker({"n", "accept"});
    BOOST_TEST(!cache::decode(blob.substr(0, blob.size() - 1)).has_value());
    blob[0] ^= 1;
    BOOST_TEST(!cache::decode(blob).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
