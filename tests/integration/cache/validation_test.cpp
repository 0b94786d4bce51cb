// cache/validation: revalidation with the origin (RFC 9111 §4.3), conditional and range requests
// answered from the cache (RFC 9110 §13, §14), stale-while-revalidate and stale-if-error (RFC 5861).
#include <boost/test/unit_test.hpp>

#include <thread>

#include "cache/cache_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::cache;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(cache_validation)

BOOST_AUTO_TEST_CASE(a_stale_entry_is_revalidated_and_a_304_refreshes_it) {
    cached p;
    p.script("e", "HTTP/1.1 200 OK\r\nCache-Control: max-age=0\r\nETag: \"v1\"\r\nX-Version: 1", "hello");
    BOOST_TEST(p.get("/raw/e").body == "hello");
    p.o.set_raw("e", raw_script::of("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nCache-Control: max-age=60\r\nX-Version: 2\r\n\r\n"));
    auto r = p.get("/raw/e", {{"If-None-Match", "\"other\""}});
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "hello");
    BOOST_TEST(status_of(r) == "REVALIDATED");
    BOOST_TEST(r.header("x-version").value_or("") == "2");  // the 304's fields replace the stored ones
    auto sent = p.o.last_request();
    BOOST_TEST(sent.header("if-none-match").value_or("") == "\"v1\"");  // ours, not the client's
    BOOST_TEST(sent.header_count("if-none-match") == 1u);
    auto hit = p.get("/raw/e");  // now fresh for 60 s
    BOOST_TEST(status_of(hit) == "HIT");
    BOOST_TEST(hit.header("x-version").value_or("") == "2");
    BOOST_TEST(p.o.requests_to("/raw/e") == 2u);
}

BOOST_AUTO_TEST_CASE(a_changed_resource_replaces_the_stored_one) {
    cached p;
    p.script("c", "HTTP/1.1 200 OK\r\nCache-Control: max-age=0\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT", "old");
    p.get("/raw/c");
    p.script("c", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60", "new!");
    auto r = p.get("/raw/c");
    BOOST_TEST(r.body == "new!");
    BOOST_TEST(p.o.last_request().header("if-modified-since").value_or("") == "Mon, 01 Jan 2024 00:00:00 GMT");
    auto hit = p.get("/raw/c");
    BOOST_TEST(hit.body == "new!");
    BOOST_TEST(status_of(hit) == "HIT");
}

BOOST_AUTO_TEST_CASE(conditional_requests_are_answered_304_from_the_cache) {
    cached p;
    p.script("k", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nETag: W/\"k1\"\r\n"
                  "Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Type: text/plain", "body");
    p.get("/raw/k");
    auto inm = p.get("/raw/k", {{"If-None-Match", "\"x\", W/\"k1\""}});
    BOOST_TEST(inm.status == 304);
    BOOST_TEST(inm.body.empty());
    BOOST_TEST(inm.header("etag").value_or("") == "W/\"k1\"");
    BOOST_TEST(!inm.header("content-type").has_value());
    auto ims = p.get("/raw/k", {{"If-Modified-Since", "Tue, 02 Jan 2024 00:00:00 GMT"}});
    BOOST_TEST(ims.status == 304);
    auto changed = p.get("/raw/k", {{"If-None-Match", "\"other\""}, {"If-Modified-Since", "Tue, 02 Jan 2024 00:00:00 GMT"}});
    BOOST_TEST(changed.status == 200);  // If-None-Match wins (RFC 9110 §13.2.2)
    BOOST_TEST(p.o.requests_to("/raw/k") == 1u);
}

BOOST_AUTO_TEST_CASE(ranges_are_served_from_the_stored_full_object) {
    cached p("cache_valid = 200 1m\n");
    auto full = p.get("/size/200000");
    BOOST_TEST(full.body_size == 200000u);
    auto part = p.get("/size/200000", {{"Range", "bytes=100000-100009"}});
    BOOST_TEST(part.status == 206);
    BOOST_TEST(part.body == full.body.substr(100000, 10));
    BOOST_TEST(part.header("content-range").value_or("") == "bytes 100000-100009/200000");
    auto suffix = p.get("/size/200000", {{"Range", "bytes=-5"}});
    BOOST_TEST(suffix.status == 206);
    BOOST_TEST(suffix.body == full.body.substr(199995));
    auto outside = p.get("/size/200000", {{"Range", "bytes=300000-"}});
    BOOST_TEST(outside.status == 416);
    BOOST_TEST(outside.header("content-range").value_or("") == "bytes */200000");
    auto head = http_client(p.bw.port()).request("HEAD", "/size/200000");
    BOOST_TEST(head.status == 200);
    BOOST_TEST(head.header("content-length").value_or("") == "200000");
    BOOST_TEST(p.o.requests_to("/size/200000") == 1u);
}

BOOST_AUTO_TEST_CASE(stale_if_error_serves_the_stored_response_when_the_origin_fails) {
    cached p;
    p.script("s", "HTTP/1.1 200 OK\r\nCache-Control: max-age=1, stale-if-error=60", "kept");
    p.get("/raw/s");
    std::this_thread::sleep_for(2100ms);
    p.script("s", "HTTP/1.1 503 Service Unavailable", "down");
    auto r = p.get("/raw/s");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "kept");
    BOOST_TEST(status_of(r) == "STALE");
    BOOST_TEST(p.o.requests_to("/raw/s") == 2u);
}

BOOST_AUTO_TEST_CASE(stale_while_revalidate_answers_at_once_and_refreshes_once) {
    cached p;
    p.script("w", "HTTP/1.1 200 OK\r\nCache-Control: max-age=1, stale-while-revalidate=60\r\nX-Gen: 1", "one");
    p.get("/raw/w");
    std::this_thread::sleep_for(2100ms);
    p.script("w", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nX-Gen: 2", "two");
    http_client c(p.bw.port());
    auto stale = c.get("/raw/w");
    BOOST_TEST(stale.body == "one");
    BOOST_TEST(status_of(stale) == "STALE");
    BOOST_TEST(wait_until([&] { return p.o.requests_to("/raw/w") == 2u; }, 3s));
    auto fresh = c.get("/raw/w");  // same connection: the refresh has finished before it is read
    BOOST_TEST(fresh.body == "two");
    BOOST_TEST(status_of(fresh) == "HIT");
    BOOST_TEST(p.o.requests_to("/raw/w") == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
