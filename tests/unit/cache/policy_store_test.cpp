// cache/freshness (storing): RFC 9111 §3's conditions, one case per rule, and the freshness lifetime
// a stored response gets (§4.2.1, §4.2.2), with RFC 9213 targeted fields and RFC 5861 windows.
#include <boost/test/unit_test.hpp>

#include <string>

#include "cache/policy.hpp"
#include "cache_test_util.hpp"

namespace cache = bulwark::cache;
using bulwark::test::date_field;
using bulwark::test::request;
using bulwark::test::response;
using bulwark::test::t0;

namespace {

cache::store_decision decide(const std::string& res_fields, int status = 200, const std::string& req_fields = "",
                             const cache::route_cache_settings& s = {}, std::string_view line = "GET /a HTTP/1.1") {
    request q(req_fields, line);
    response r(date_field(t0) + res_fields, status);
    return cache::decide_store(q.head, r.head, s, t0 - 1, t0);
}

}  // namespace

#define EXPECT_STORED(d) BOOST_TEST((d).store, "refused: " << (d).reason)
#define EXPECT_REFUSED(d) BOOST_TEST(!(d).store, "stored, lifetime " << (d).times.lifetime)

BOOST_AUTO_TEST_SUITE(cache_policy_store)

// §3: a 200 with max-age is stored, fresh for max-age.
BOOST_AUTO_TEST_CASE(max_age_response_is_stored) {
    auto d = decide("Cache-Control: max-age=60\r\n");
    EXPECT_STORED(d);
    BOOST_TEST(d.times.lifetime == 60);
    BOOST_TEST(d.times.date == t0);
    BOOST_TEST(d.times.request_time == t0 - 1);
    BOOST_TEST(d.times.response_time == t0);
    BOOST_TEST(d.reason.empty());
}

// §3: the method must be one the route caches (cache_methods); methods are case-sensitive.
BOOST_AUTO_TEST_CASE(method_must_be_cacheable) {
    EXPECT_REFUSED(decide("Cache-Control: max-age=60\r\n", 200, "", {}, "POST /a HTTP/1.1"));
    EXPECT_REFUSED(decide("Cache-Control: max-age=60\r\n", 200, "", {}, "get /a HTTP/1.1"));
    EXPECT_STORED(decide("Cache-Control: max-age=60\r\n", 200, "", {}, "HEAD /a HTTP/1.1"));
    cache::route_cache_settings s;
    s.methods = {"GET"};
    BOOST_TEST(!cache::method_cacheable("HEAD", s));
    BOOST_TEST(cache::method_cacheable("GET", s));
}

// §3: only final responses; 206 is never stored here, 304 only updates (§4.3.4).
BOOST_AUTO_TEST_CASE(partial_and_not_modified_are_not_stored) {
    EXPECT_REFUSED(decide("Cache-Control: max-age=60\r\nContent-Range: bytes 0-1/10\r\n", 206));
    EXPECT_REFUSED(decide("Cache-Control: max-age=60\r\n", 304));
}

// §3 + §4.2.2: statuses not heuristically cacheable are stored only with explicit freshness.
BOOST_AUTO_TEST_CASE(other_statuses_need_explicit_freshness) {
    cache::route_cache_settings s;
    s.valid = {{0, 600}};
    for (int st : {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501})
        BOOST_TEST(decide("", st, "", s).store, "status " << st);
    for (int st : {201, 302, 303, 307, 400, 403, 500, 502, 503})
        BOOST_TEST(!decide("", st, "", s).store, "status " << st);
    EXPECT_STORED(decide("Cache-Control: max-age=5\r\n", 302));
    EXPECT_STORED(decide("Cache-Control: max-age=5\r\n", 503));
    EXPECT_STORED(decide("Expires: " + cache::format_http_date(t0 + 5) + "\r\n", 307));
}

// §4.2.2: public makes any status heuristically cacheable.
BOOST_AUTO_TEST_CASE(public_allows_heuristics_for_any_status) {
    cache::route_cache_settings s;
    s.valid = {{0, 600}};
    auto d = decide("Cache-Control: public\r\n", 302, "", s);
    EXPECT_STORED(d);
    BOOST_TEST(d.times.lifetime == 600);
}

// §5.2.1.5 / §5.2.2.5: no-store in the request or the response.
BOOST_AUTO_TEST_CASE(no_store_in_request_or_response) {
    EXPECT_REFUSED(decide("Cache-Control: max-age=60\r\n", 200, "Cache-Control: no-store\r\n"));
    EXPECT_REFUSED(decide("Cache-Control: max-age=60, no-store\r\n"));
}

// §5.2.2.3: must-understand lets a cache that understands the status ignore no-store.
BOOST_AUTO_TEST_CASE(must_understand_overrides_no_store_for_understood_status) {
    EXPECT_STORED(decide("Cache-Control: max-age=60, no-store, must-understand\r\n"));
    EXPECT_REFUSED(decide("Cache-Control: max-age=60, no-store, must-understand\r\n", 299));
}

// §5.2.2.7: private responses are not stored by a shared cache (qualified form too).
BOOST_AUTO_TEST_CASE(private_is_not_stored) {
    EXPECT_REFUSED(decide("Cache-Control: max-age=60, private\r\n"));
    EXPECT_REFUSED(decide("Cache-Control: max-age=60, private=\"Set-Cookie\"\r\n"));
}

// §3.5: a response to a request with Authorization only with public, s-maxage or must-revalidate,
// and the permission is recorded for may_serve_authorized.
BOOST_AUTO_TEST_CASE(authorization_needs_explicit_permission) {
    const std::string auth = "Authorization: Basic dTpw\r\n";
    EXPECT_REFUSED(decide("Cache-Control: max-age=60\r\n", 200, auth));
    EXPECT_REFUSED(decide("Cache-Control: max-age=60, proxy-revalidate\r\n", 200, auth));
    for (const char* ok : {"public, max-age=60", "s-maxage=60", "max-age=60, must-revalidate"}) {
        auto d = decide(std::string("Cache-Control: ") + ok + "\r\n", 200, auth);
        BOOST_TEST(d.store, ok);
        BOOST_TEST(d.times.shared_ok, ok);
        BOOST_TEST(cache::may_serve_authorized(d.times.shared_ok));
    }
    auto plain = decide("Cache-Control: max-age=60\r\n");
    BOOST_TEST(!plain.times.shared_ok);
    BOOST_TEST(!cache::may_serve_authorized(plain.times.shared_ok));
}

// Set-Cookie: not stored unless the route allows it (nginx and Varnish behaviour).
BOOST_AUTO_TEST_CASE(set_cookie_follows_settings) {
    EXPECT_REFUSED(decide("Cache-Control: max-age=60\r\nSet-Cookie: a=b\r\n"));
    cache::route_cache_settings s;
    s.store_set_cookie = true;
    EXPECT_STORED(decide("Cache-Control: max-age=60\r\nSet-Cookie: a=b\r\n", 200, "", s));
}

// §4.1: Vary: * never matches a later request; a malformed Vary is not guessed at.
BOOST_AUTO_TEST_CASE(vary_star_and_malformed_vary_are_not_stored) {
    EXPECT_REFUSED(decide("Cache-Control: max-age=60\r\nVary: accept, *\r\n"));
    EXPECT_REFUSED(decide("Cache-Control: max-age=60\r\nVary: \"accept\"\r\n"));
    EXPECT_STORED(decide("Cache-Control: max-age=60\r\nVary: Accept-Encoding\r\n"));
}

// Issue 11: a malformed Cache-Control makes the response uncacheable, with a reason.
BOOST_AUTO_TEST_CASE(malformed_cache_control_is_refused_with_reason) {
    for (const char* v : {"max-age=abc", "max-age=1, max-age=2", "max-age=-5", "s-maxage=\"1", "no-store=x"}) {
        auto d = decide(std::string("Cache-Control: ") + v + "\r\n");
        BOOST_TEST(!d.store, v);
        BOOST_TEST(!d.reason.empty());
    }
}

// §4.2.1: s-maxage wins over max-age, which wins over Expires.
BOOST_AUTO_TEST_CASE(lifetime_order_s_maxage_max_age_expires) {
    const std::string expires = "Expires: " + cache::format_http_date(t0 + 500) + "\r\n";
    BOOST_TEST(decide("Cache-Control: max-age=60, s-maxage=30\r\n" + expires).times.lifetime == 30);
    BOOST_TEST(decide("Cache-Control: max-age=60\r\n" + expires).times.lifetime == 60);
    BOOST_TEST(decide(expires).times.lifetime == 500);
}

// §4.2.1 / §5.3: Expires is relative to Date; an invalid Expires means already expired.
BOOST_AUTO_TEST_CASE(invalid_expires_means_already_expired) {
    auto d = decide("Expires: 0\r\nETag: \"v1\"\r\n");
    EXPECT_STORED(d);  // kept for revalidation, thanks to its validator
    BOOST_TEST(d.times.lifetime == 0);
    EXPECT_REFUSED(decide("Expires: 0\r\n"));
    EXPECT_REFUSED(decide("Expires: " + cache::format_http_date(t0 - 100) + "\r\n"));
    auto conflict = decide("Expires: " + cache::format_http_date(t0 + 9) + "\r\nExpires: " +
                           cache::format_http_date(t0 + 99) + "\r\nETag: \"x\"\r\n");
    BOOST_TEST(conflict.times.lifetime == 0);
}

// §4.2.2: heuristics only without explicit freshness: cache_valid by status, then "any".
BOOST_AUTO_TEST_CASE(cache_valid_heuristic_exact_status_then_any) {
    cache::route_cache_settings s;
    s.valid = {{0, 10}, {404, 20}};
    BOOST_TEST(decide("", 404, "", s).times.lifetime == 20);
    BOOST_TEST(decide("", 200, "", s).times.lifetime == 10);
    BOOST_TEST(decide("Cache-Control: max-age=3\r\n", 404, "", s).times.lifetime == 3);
    EXPECT_REFUSED(decide(""));  // no explicit freshness and no heuristic
}

// §4.2.2: a fraction of the time since Last-Modified.
BOOST_AUTO_TEST_CASE(last_modified_fraction_heuristic) {
    cache::route_cache_settings s;
    s.heuristic_lm_fraction = 0.1;
    auto d = decide("Last-Modified: " + cache::format_http_date(t0 - 1000) + "\r\n", 200, "", s);
    EXPECT_STORED(d);
    BOOST_TEST(d.times.lifetime == 100);
    EXPECT_REFUSED(decide("Last-Modified: " + cache::format_http_date(t0 + 1000) + "\r\n", 200, "", s));
    EXPECT_REFUSED(decide("Last-Modified: yesterday\r\n", 200, "", s));
}

// §5.2.2.10: s-maxage implies proxy-revalidate; §5.2.2.2/§5.2.2.8 recorded as must_revalidate.
BOOST_AUTO_TEST_CASE(revalidation_flags_are_recorded) {
    BOOST_TEST(decide("Cache-Control: s-maxage=5\r\n").times.must_revalidate);
    BOOST_TEST(decide("Cache-Control: max-age=5, must-revalidate\r\n").times.must_revalidate);
    BOOST_TEST(decide("Cache-Control: max-age=5, proxy-revalidate\r\n").times.must_revalidate);
    BOOST_TEST(!decide("Cache-Control: max-age=5\r\n").times.must_revalidate);
}

// RFC 5861: the windows are recorded; must-revalidate forbids stale reuse, so they become 0;
// s-maxage's implied proxy-revalidate keeps the origin's explicit windows.
BOOST_AUTO_TEST_CASE(stale_windows_recorded_unless_must_revalidate) {
    auto d = decide("Cache-Control: max-age=5, stale-while-revalidate=30, stale-if-error=60\r\n");
    BOOST_TEST(d.times.stale_while_revalidate == 30);
    BOOST_TEST(d.times.stale_if_error == 60);
    auto m = decide("Cache-Control: max-age=5, must-revalidate, stale-while-revalidate=30, stale-if-error=60\r\n");
    BOOST_TEST(m.times.stale_while_revalidate == 0);
    BOOST_TEST(m.times.stale_if_error == 0);
    auto s = decide("Cache-Control: s-maxage=5, stale-while-revalidate=30\r\n");
    BOOST_TEST(s.times.stale_while_revalidate == 30);
    // max-age=0 with a window is worth storing even without a validator.
    EXPECT_STORED(decide("Cache-Control: max-age=0, stale-while-revalidate=30\r\n"));
}

// §5.2.2.4: no-cache responses are stored for revalidation only when they can be revalidated.
BOOST_AUTO_TEST_CASE(no_cache_is_stored_with_a_validator) {
    auto d = decide("Cache-Control: max-age=60, no-cache\r\nETag: \"a\"\r\n");
    EXPECT_STORED(d);
    BOOST_TEST(d.times.no_cache);
    EXPECT_REFUSED(decide("Cache-Control: max-age=60, no-cache\r\n"));
}

// §5.1 / RFC 9110 §6.6.1: Age is read (invalid ignored), a missing Date is the receipt time.
BOOST_AUTO_TEST_CASE(age_and_date_are_recorded) {
    request q("");
    response r("Cache-Control: max-age=60\r\nAge: 7\r\n");
    auto d = cache::decide_store(q.head, r.head, {}, t0 - 2, t0);
    BOOST_TEST(d.times.age == 7);
    BOOST_TEST(d.times.date == t0);
    response bad("Cache-Control: max-age=60\r\nAge: -7\r\nDate: garbage\r\n");
    auto b = cache::decide_store(q.head, bad.head, {}, t0 - 2, t0);
    BOOST_TEST(b.times.age == 0);
    BOOST_TEST(b.times.date == t0);
    response huge("Cache-Control: max-age=60\r\nAge: 999999999999999999999\r\n");
    BOOST_TEST(cache::decide_store(q.head, huge.head, {}, t0, t0).times.age == 2147483648);
}

// RFC 9213 §2.2: a valid CDN-Cache-Control replaces Cache-Control for storing and freshness.
BOOST_AUTO_TEST_CASE(cdn_cache_control_replaces_cache_control) {
    auto d = decide("Cache-Control: no-store\r\nCDN-Cache-Control: max-age=90\r\n");
    EXPECT_STORED(d);
    BOOST_TEST(d.times.lifetime == 90);
    EXPECT_REFUSED(decide("Cache-Control: max-age=90\r\nCDN-Cache-Control: no-store\r\n"));
    // Unparseable: ignored, Cache-Control applies.
    BOOST_TEST(decide("Cache-Control: max-age=9\r\nCDN-Cache-Control: max-age=\"90\r\n").times.lifetime == 9);
    cache::route_cache_settings s;
    s.targeted_field = "bulwark-cache-control";
    auto t = decide("CDN-Cache-Control: max-age=90\r\nBulwark-Cache-Control: max-age=15\r\n", 200, "", s);
    BOOST_TEST(t.times.lifetime == 15);
}

// §5.2.2.4: the qualified no-cache="field" is handled as plain no-cache (the RFC allows it).
BOOST_AUTO_TEST_CASE(qualified_no_cache_is_treated_as_no_cache) {
    auto d = decide("Cache-Control: max-age=60, no-cache=\"Set-Cookie\"\r\nETag: \"a\"\r\n");
    EXPECT_STORED(d);
    BOOST_TEST(d.times.no_cache);
}

// RFC 9213 §2.1: an empty targeted field is ignored, so Cache-Control decides.
BOOST_AUTO_TEST_CASE(empty_targeted_field_falls_back_to_cache_control) {
    EXPECT_REFUSED(decide("Cache-Control: no-store\r\nCDN-Cache-Control:\r\n"));
    // "none" is not empty: it replaces Cache-Control and leaves freshness to Expires/heuristics.
    cache::route_cache_settings s;
    s.valid = {{0, 40}};
    auto d = decide("Cache-Control: no-store\r\nCDN-Cache-Control: none\r\n", 200, "", s);
    EXPECT_STORED(d);
    BOOST_TEST(d.times.lifetime == 40);
}

BOOST_AUTO_TEST_SUITE_END()
