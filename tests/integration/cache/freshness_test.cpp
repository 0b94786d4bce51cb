// cache/freshness: what is stored and for how long (RFC 9111 §3, §4.2, §5.2; RFC 9213), against a
// scripted origin that counts its requests.
#include <boost/test/unit_test.hpp>

#include <thread>

#include "cache/cache_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::cache;

BOOST_AUTO_TEST_SUITE(cache_freshness)

BOOST_AUTO_TEST_CASE(a_fresh_response_is_served_from_the_cache_with_age_and_status) {
    cached p;
    p.script("a", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nETag: \"v1\"", "hello");
    auto first = p.get("/raw/a");
    BOOST_TEST(first.status == 200);
    BOOST_TEST(first.body == "hello");
    BOOST_TEST(status_of(first) == "MISS");
    for (int i = 0; i < 3; ++i) {
        auto hit = p.get("/raw/a");
        BOOST_TEST(hit.status == 200);
        BOOST_TEST(hit.body == "hello");
        BOOST_TEST(status_of(hit) == "HIT");
        BOOST_TEST(hit.header("age").has_value());
        BOOST_TEST(hit.header("etag").value_or("") == "\"v1\"");
        BOOST_TEST(hit.header("content-length").value_or("") == "5");
    }
    BOOST_TEST(p.o.requests_to("/raw/a") == 1u);
}

BOOST_AUTO_TEST_CASE(responses_that_forbid_or_lack_freshness_are_not_stored) {
    cached p;
    const char* heads[] = {
        "HTTP/1.1 200 OK\r\nCache-Control: no-store, max-age=60",
        "HTTP/1.1 200 OK\r\nCache-Control: private, max-age=60",
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nSet-Cookie: s=1",
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nVary: *",
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=abc",          // malformed: never guessed
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=60, max-age=5",  // conflicting duplicates
        "HTTP/1.1 200 OK",                                          // no freshness, no cache_valid
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nVary: a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, "
        "a11, a12, a13, a14, a15, a16, a17, a18, a19, a20",            // a Vary too long to key on
    };
    int i = 0;
    for (const char* head : heads) {
        BOOST_TEST_CONTEXT(head) {
            const std::string name = "n" + std::to_string(i++);
            p.script(name, head, "body");
            auto a = p.get("/raw/" + name);
            auto b = p.get("/raw/" + name);
            BOOST_TEST(a.status == 200);
            BOOST_TEST(b.body == "body");
            BOOST_TEST(status_of(b) == "MISS");
            BOOST_TEST(p.o.requests_to("/raw/" + name) == 2u);
        }
    }
}

BOOST_AUTO_TEST_CASE(cache_valid_gives_freshness_to_responses_without_any) {
    cached p("cache_valid = 200 1m\n");
    auto a = p.get("/size/3000");
    auto b = p.get("/size/3000");
    BOOST_TEST(a.body_hash == b.body_hash);
    BOOST_TEST(b.body_size == 3000u);
    BOOST_TEST(status_of(b) == "HIT");
    BOOST_TEST(p.o.requests_to("/size/3000") == 1u);
}

BOOST_AUTO_TEST_CASE(cache_min_uses_counts_requests_across_workers_before_storing) {
    cached p("cache_valid = 200 1m\ncache_min_uses = 3\n", {}, 2);
    for (int i = 0; i < 3; ++i) BOOST_TEST(status_of(p.get("/size/100")) == "MISS");
    BOOST_TEST(status_of(p.get("/size/100")) == "HIT");
    BOOST_TEST(p.o.requests_to("/size/100") == 3u);
}

BOOST_AUTO_TEST_CASE(cdn_cache_control_overrides_cache_control_and_is_not_forwarded) {
    cached p;
    p.script("t", "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nCDN-Cache-Control: max-age=60", "t");
    p.script("b", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nBulwark-Cache-Control: no-store", "b");
    auto t1 = p.get("/raw/t");
    auto t2 = p.get("/raw/t");
    BOOST_TEST(status_of(t2) == "HIT");
    BOOST_TEST(!t1.header("cdn-cache-control").has_value());
    BOOST_TEST(!t2.header("cdn-cache-control").has_value());
    BOOST_TEST(t2.header("cache-control").value_or("") == "no-store");  // meant for the browser
    auto b1 = p.get("/raw/b");
    auto b2 = p.get("/raw/b");
    BOOST_TEST(status_of(b2) == "MISS");
    BOOST_TEST(!b1.header("bulwark-cache-control").has_value());
    BOOST_TEST(p.o.requests_to("/raw/b") == 2u);
}

BOOST_AUTO_TEST_CASE(a_request_with_authorization_is_not_served_a_private_answer) {
    cached p;
    p.script("auth", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60", "secret");
    p.script("pub", "HTTP/1.1 200 OK\r\nCache-Control: public, max-age=60", "public");
    const header_list auth{{"Authorization", "Basic dTpw"}};
    p.get("/raw/auth", auth);
    auto again = p.get("/raw/auth", auth);
    BOOST_TEST(status_of(again) == "MISS");
    BOOST_TEST(p.o.requests_to("/raw/auth") == 2u);
    p.get("/raw/pub", auth);
    auto pub = p.get("/raw/pub", auth);
    BOOST_TEST(status_of(pub) == "HIT");  // RFC 9111 §3.5: public allows it
}

BOOST_AUTO_TEST_CASE(request_directives_no_cache_and_only_if_cached) {
    cached p;
    p.script("r", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60", "r");
    p.get("/raw/r");
    auto forced = p.get("/raw/r", {{"Cache-Control", "no-cache"}});
    BOOST_TEST(status_of(forced) == "MISS");  // no validator: fetched again
    BOOST_TEST(p.o.requests_to("/raw/r") == 2u);
    auto absent = p.get("/raw/never-stored", {{"Cache-Control", "only-if-cached"}});
    BOOST_TEST(absent.status == 504);
    BOOST_TEST(p.o.requests_to("/raw/never-stored") == 0u);
}

BOOST_AUTO_TEST_CASE(vary_stores_one_variant_per_request_value) {
    cached p;
    p.script("v", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nVary: Accept-Language", "v");
    auto en1 = p.get("/raw/v", {{"Accept-Language", "en"}});
    auto fr1 = p.get("/raw/v", {{"Accept-Language", "fr"}});
    BOOST_TEST(status_of(fr1) == "MISS");
    auto en2 = p.get("/raw/v", {{"Accept-Language", "en"}});
    auto fr2 = p.get("/raw/v", {{"Accept-Language", "fr"}});
    BOOST_TEST(status_of(en2) == "HIT");
    BOOST_TEST(status_of(fr2) == "HIT");
    BOOST_TEST(en2.header("vary").value_or("") == "Accept-Language");
    BOOST_TEST(p.o.requests_to("/raw/v") == 2u);
}

BOOST_AUTO_TEST_CASE(objects_above_max_object_size_pass_through) {
    cached p("cache_valid = 200 1m\n", "max_object_size = 4k\n");
    auto a = p.get("/size/10000");
    auto b = p.get("/size/10000");
    BOOST_TEST(b.body_size == 10000u);
    BOOST_TEST(status_of(b) == "MISS");
    BOOST_TEST(p.o.requests_to("/size/10000") == 2u);
    auto c1 = p.get("/chunked/9000");  // no length known up front: stops storing past the limit
    auto c2 = p.get("/chunked/9000");
    BOOST_TEST(c2.body_size == 9000u);
    BOOST_TEST(c1.body_hash == c2.body_hash);
    BOOST_TEST(p.o.requests_to("/chunked/9000") == 2u);
}

BOOST_AUTO_TEST_CASE(large_chunked_bodies_are_stored_while_streamed_and_served_byte_exact) {
    cached p("cache_valid = 200 1m\n");
    auto a = p.get("/chunked/1500000");
    auto b = p.get("/chunked/1500000");
    BOOST_TEST(a.body_size == 1500000u);
    BOOST_TEST(b.body_size == 1500000u);
    BOOST_TEST(a.body_hash == b.body_hash);
    BOOST_TEST(status_of(b) == "HIT");
    BOOST_TEST(!b.chunked);  // served with its length
    BOOST_TEST(p.o.requests_to("/chunked/1500000") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
