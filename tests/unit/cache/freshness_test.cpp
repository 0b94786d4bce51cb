// cache/freshness (serving): the §4.2.3 age, and whether a stored response may answer a request now
// (§4.2, §4.2.4, §5.2.1, §5.4, RFC 5861).
#include <boost/test/unit_test.hpp>

#include <string>

#include "cache/policy.hpp"
#include "cache_test_util.hpp"

namespace cache = bulwark::cache;
using bulwark::test::request;
using bulwark::test::t0;
using u = cache::usability;

namespace {

// Stored at t0 (no delay, Date t0, no Age) with `lifetime`.
cache::stored_times stored(std::int64_t lifetime) {
    cache::stored_times t;
    t.request_time = t.response_time = t.date = t0;
    t.lifetime = lifetime;
    return t;
}

cache::cache_control req_cc(const std::string& value) {
    request r(value.empty() ? "" : "Cache-Control: " + value + "\r\n");
    return cache::parse_cache_control(r.head);
}

std::string name(u v) {
    switch (v) {
    case u::fresh: return "fresh";
    case u::stale_revalidate_bg: return "stale_revalidate_bg";
    case u::must_validate: return "must_validate";
    }
    return "?";
}

}  // namespace

#define EXPECT_USABILITY(actual, expected) BOOST_TEST(name(actual) == name(expected))

BOOST_AUTO_TEST_SUITE(cache_policy_freshness)

// §4.2.3: apparent_age = max(0, response_time - date_value).
BOOST_AUTO_TEST_CASE(age_apparent_age_from_date) {
    cache::stored_times t = stored(0);
    t.date = t0 - 30;
    BOOST_TEST(cache::current_age(t, t0) == 30);
    t.date = t0 + 30;  // origin clock ahead: never negative
    BOOST_TEST(cache::current_age(t, t0) == 0);
}

// §4.2.3: corrected_age_value = age_value + response_delay; the larger of the two estimates wins.
BOOST_AUTO_TEST_CASE(age_corrected_age_value_includes_response_delay) {
    cache::stored_times t = stored(0);
    t.request_time = t0 - 4;
    t.age = 10;
    BOOST_TEST(cache::current_age(t, t0) == 14);
    t.date = t0 - 100;
    BOOST_TEST(cache::current_age(t, t0) == 100);
}

// §4.2.3: current_age = corrected_initial_age + resident_time.
BOOST_AUTO_TEST_CASE(age_adds_resident_time) {
    cache::stored_times t = stored(0);
    t.age = 5;
    BOOST_TEST(cache::current_age(t, t0 + 20) == 25);
    BOOST_TEST(cache::current_age(t, t0 - 20) == 5);  // clock went back: no negative residence
}

// §4.2: fresh while freshness_lifetime > current_age.
BOOST_AUTO_TEST_CASE(fresh_until_lifetime_then_must_validate) {
    auto t = stored(60);
    EXPECT_USABILITY(cache::evaluate(t, {}, false, t0 + 59), u::fresh);
    EXPECT_USABILITY(cache::evaluate(t, {}, false, t0 + 60), u::must_validate);
}

// §5.2.1.1: the request's max-age bounds the acceptable age.
BOOST_AUTO_TEST_CASE(request_max_age) {
    auto t = stored(600);
    EXPECT_USABILITY(cache::evaluate(t, req_cc("max-age=10"), false, t0 + 10), u::fresh);
    EXPECT_USABILITY(cache::evaluate(t, req_cc("max-age=10"), false, t0 + 11), u::must_validate);
    EXPECT_USABILITY(cache::evaluate(t, req_cc("max-age=0"), false, t0 + 1), u::must_validate);
}

// §5.2.1.3: min-fresh asks for that much freshness left.
BOOST_AUTO_TEST_CASE(request_min_fresh) {
    auto t = stored(60);
    EXPECT_USABILITY(cache::evaluate(t, req_cc("min-fresh=20"), false, t0 + 40), u::fresh);
    EXPECT_USABILITY(cache::evaluate(t, req_cc("min-fresh=20"), false, t0 + 41), u::must_validate);
}

// §5.2.1.2: max-stale accepts a stale response, bounded or not.
BOOST_AUTO_TEST_CASE(request_max_stale) {
    auto t = stored(60);
    EXPECT_USABILITY(cache::evaluate(t, req_cc("max-stale=30"), false, t0 + 90), u::fresh);
    EXPECT_USABILITY(cache::evaluate(t, req_cc("max-stale=30"), false, t0 + 91), u::must_validate);
    EXPECT_USABILITY(cache::evaluate(t, req_cc("max-stale"), false, t0 + 100000), u::fresh);
}

// §5.2.2.2: must-revalidate (and s-maxage's proxy-revalidate) forbid stale use even under max-stale.
BOOST_AUTO_TEST_CASE(must_revalidate_overrides_max_stale) {
    auto t = stored(60);
    t.must_revalidate = true;
    EXPECT_USABILITY(cache::evaluate(t, req_cc("max-stale"), false, t0 + 61), u::must_validate);
    EXPECT_USABILITY(cache::evaluate(t, req_cc("max-stale"), false, t0 + 59), u::fresh);
}

// §5.2.1.4: request no-cache always validates.
BOOST_AUTO_TEST_CASE(request_no_cache_validates) {
    EXPECT_USABILITY(cache::evaluate(stored(60), req_cc("no-cache"), false, t0), u::must_validate);
}

// §5.4: Pragma: no-cache counts only when the request has no Cache-Control.
BOOST_AUTO_TEST_CASE(pragma_no_cache_only_without_cache_control) {
    EXPECT_USABILITY(cache::evaluate(stored(60), req_cc(""), true, t0), u::must_validate);
    EXPECT_USABILITY(cache::evaluate(stored(60), req_cc("max-stale=5"), true, t0), u::fresh);
}

// §5.2.2.4: a stored no-cache response is validated before every use.
BOOST_AUTO_TEST_CASE(stored_no_cache_validates) {
    auto t = stored(60);
    t.no_cache = true;
    EXPECT_USABILITY(cache::evaluate(t, {}, false, t0), u::must_validate);
}

// A request Cache-Control we cannot read is taken as the strictest reading.
BOOST_AUTO_TEST_CASE(malformed_request_cache_control_validates) {
    EXPECT_USABILITY(cache::evaluate(stored(60), req_cc("max-age=abc"), false, t0), u::must_validate);
}

// RFC 5861 §3: stale-while-revalidate serves stale within the window while refreshing.
BOOST_AUTO_TEST_CASE(stale_while_revalidate_window) {
    auto t = stored(60);
    t.stale_while_revalidate = 30;
    EXPECT_USABILITY(cache::evaluate(t, {}, false, t0 + 59), u::fresh);
    EXPECT_USABILITY(cache::evaluate(t, {}, false, t0 + 90), u::stale_revalidate_bg);
    EXPECT_USABILITY(cache::evaluate(t, {}, false, t0 + 91), u::must_validate);
    // The client's own constraints still apply.
    EXPECT_USABILITY(cache::evaluate(t, req_cc("max-age=61"), false, t0 + 70), u::must_validate);
    EXPECT_USABILITY(cache::evaluate(t, req_cc("min-fresh=1"), false, t0 + 70), u::must_validate);
}

// RFC 5861 §4: stale-if-error from the response, or from the request, or max-stale (§4.2.4).
BOOST_AUTO_TEST_CASE(usable_on_error_windows) {
    auto t = stored(60);
    BOOST_TEST(cache::usable_on_error(t, {}, t0 + 10));  // still fresh
    BOOST_TEST(!cache::usable_on_error(t, {}, t0 + 61));
    t.stale_if_error = 100;
    BOOST_TEST(cache::usable_on_error(t, {}, t0 + 160));
    BOOST_TEST(!cache::usable_on_error(t, {}, t0 + 161));
    auto r = stored(60);
    BOOST_TEST(cache::usable_on_error(r, req_cc("stale-if-error=50"), t0 + 110));
    BOOST_TEST(!cache::usable_on_error(r, req_cc("stale-if-error=50"), t0 + 111));
    BOOST_TEST(cache::usable_on_error(r, req_cc("max-stale"), t0 + 5000));
}

// §5.2.2.2: with must-revalidate a disconnected cache answers 504 rather than reuse stale.
BOOST_AUTO_TEST_CASE(usable_on_error_refused_under_must_revalidate) {
    auto t = stored(60);
    t.must_revalidate = true;
    BOOST_TEST(!cache::usable_on_error(t, req_cc("stale-if-error=500"), t0 + 61));
    BOOST_TEST(!cache::usable_on_error(t, req_cc("max-stale"), t0 + 61));
}

// §5.2.2.4 over §5.2.1.2: a client's max-stale does not lift the origin's no-cache.
BOOST_AUTO_TEST_CASE(max_stale_does_not_lift_stored_no_cache) {
    auto t = stored(60);
    t.no_cache = true;
    EXPECT_USABILITY(cache::evaluate(t, req_cc("max-stale"), false, t0 + 100), u::must_validate);
}

BOOST_AUTO_TEST_SUITE_END()
