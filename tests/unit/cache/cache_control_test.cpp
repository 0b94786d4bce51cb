// cache/cache_control: Cache-Control (RFC 9111 §5.2) and targeted fields (RFC 9213 §2) into one
// struct; a value that cannot be read marks the whole field malformed instead of being guessed at.
#include <boost/test/unit_test.hpp>

#include <string>

#include "cache/policy.hpp"
#include "cache_test_util.hpp"

namespace cache = bulwark::cache;
using bulwark::test::request;
using bulwark::test::response;

namespace {

cache::cache_control cc_of(const std::string& fields, std::string_view name = "cache-control") {
    response r(fields);
    return cache::parse_cache_control(r.head, name);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_policy_cache_control)

// §5.2.2: each response directive sets its flag or value.
BOOST_AUTO_TEST_CASE(response_directives_are_read) {
    auto cc = cc_of("Cache-Control: public, max-age=60, s-maxage=30, must-revalidate, proxy-revalidate, "
                    "no-transform, immutable, stale-while-revalidate=5, stale-if-error=7\r\n");
    BOOST_TEST(cc.present);
    BOOST_TEST(!cc.malformed);
    BOOST_TEST(cc.public_);
    BOOST_TEST(cc.max_age.value_or(-1) == 60);
    BOOST_TEST(cc.s_maxage.value_or(-1) == 30);
    BOOST_TEST(cc.must_revalidate);
    BOOST_TEST(cc.proxy_revalidate);
    BOOST_TEST(cc.no_transform);
    BOOST_TEST(cc.immutable);
    BOOST_TEST(cc.stale_while_revalidate.value_or(-1) == 5);
    BOOST_TEST(cc.stale_if_error.value_or(-1) == 7);
    BOOST_TEST(!cc.no_store);
}

// §5.2.1: request directives, including max-stale without a value.
BOOST_AUTO_TEST_CASE(request_directives_are_read) {
    request r("Cache-Control: max-stale, min-fresh=10, only-if-cached, no-cache, max-age=0\r\n");
    auto cc = cache::parse_cache_control(r.head);
    BOOST_TEST(cc.max_stale_any);
    BOOST_TEST(!cc.max_stale.has_value());
    BOOST_TEST(cc.min_fresh.value_or(-1) == 10);
    BOOST_TEST(cc.only_if_cached);
    BOOST_TEST(cc.no_cache);
    BOOST_TEST(cc.max_age.value_or(-1) == 0);
    request r2("Cache-Control: max-stale=30\r\n");
    BOOST_TEST(cache::parse_cache_control(r2.head).max_stale.value_or(-1) == 30);
}

// §5.2: directive names are case-insensitive; both token and quoted-string arguments are accepted.
BOOST_AUTO_TEST_CASE(names_case_insensitive_and_quoted_arguments_accepted) {
    auto cc = cc_of("Cache-Control: MAX-AGE=\"60\", No-Store\r\n");
    BOOST_TEST(!cc.malformed);
    BOOST_TEST(cc.max_age.value_or(-1) == 60);
    BOOST_TEST(cc.no_store);
}

// RFC 9110 §5.3: several field lines are one list.
BOOST_AUTO_TEST_CASE(several_fields_are_one_list) {
    auto cc = cc_of("Cache-Control: public\r\nCache-Control: max-age=5\r\n");
    BOOST_TEST(cc.public_);
    BOOST_TEST(cc.max_age.value_or(-1) == 5);
}

// §5.2.2.4 / §5.2.2.7: the qualified forms, whose quoted list may hold commas.
BOOST_AUTO_TEST_CASE(qualified_no_cache_and_private_with_commas_in_quotes) {
    auto cc = cc_of("Cache-Control: no-cache=\"Set-Cookie, X-A\", private=\"X-B\", max-age=9\r\n");
    BOOST_TEST(!cc.malformed);
    BOOST_TEST(cc.no_cache);
    BOOST_TEST(cc.no_cache_fields);
    BOOST_TEST(cc.private_);
    BOOST_TEST(cc.private_fields);
    BOOST_TEST(cc.max_age.value_or(-1) == 9);
}

// §5.2.3: unknown extensions are ignored, with or without arguments.
BOOST_AUTO_TEST_CASE(unknown_directives_are_ignored) {
    auto cc = cc_of("Cache-Control: community=\"UCI\", x-foo, max-age=3\r\n");
    BOOST_TEST(!cc.malformed);
    BOOST_TEST(cc.max_age.value_or(-1) == 3);
}

// RFC 9110 §5.6.1: empty list elements are ignored; an empty field has no directives.
BOOST_AUTO_TEST_CASE(empty_elements_and_empty_field) {
    auto cc = cc_of("Cache-Control: , max-age=3,,\r\n");
    BOOST_TEST(!cc.malformed);
    BOOST_TEST(cc.max_age.value_or(-1) == 3);
    auto empty = cc_of("Cache-Control:\r\n");
    BOOST_TEST(empty.present);
    BOOST_TEST(!empty.malformed);
    BOOST_TEST(!empty.max_age.has_value());
    BOOST_TEST(!cc_of("X: y\r\n").present);
}

// §1.2.2: a delta-seconds too large is taken as 2^31, never wrapped.
BOOST_AUTO_TEST_CASE(huge_delta_seconds_clamp_to_2_pow_31) {
    auto cc = cc_of("Cache-Control: max-age=99999999999999999999999999999\r\n");
    BOOST_TEST(!cc.malformed);
    BOOST_TEST(cc.max_age.value_or(-1) == 2147483648);
    BOOST_TEST(cc_of("Cache-Control: max-age=2147483647\r\n").max_age.value_or(-1) == 2147483647);
    BOOST_TEST(cc_of("Cache-Control: max-age=0000000000000000000000000005\r\n").max_age.value_or(-1) == 5);
}

// §4.2.1: the same directive twice with one value is harmless; with two values it is invalid.
BOOST_AUTO_TEST_CASE(duplicates_with_different_values_are_malformed) {
    BOOST_TEST(!cc_of("Cache-Control: max-age=5, max-age=5\r\n").malformed);
    BOOST_TEST(cc_of("Cache-Control: max-age=5, max-age=6\r\n").malformed);
    BOOST_TEST(cc_of("Cache-Control: max-age=5\r\nCache-Control: max-age=6\r\n").malformed);
    BOOST_TEST(cc_of("Cache-Control: s-maxage=1, S-MAXAGE=2\r\n").malformed);
    BOOST_TEST(!cc_of("Cache-Control: no-store, no-store\r\n").malformed);
}

// §5.2, §4.2.1: table of arguments that cannot be read.
BOOST_AUTO_TEST_CASE(malformed_arguments_table) {
    const char* bad[] = {
        "max-age",             // argument required
        "max-age=",            // empty
        "max-age=-1",          // sign
        "max-age=+1",
        "max-age=1.5",
        "max-age=0x10",
        "max-age= 5",          // no whitespace around "="
        "max-age =5",
        "max-age=\"5",         // unterminated quote
        "max-age=\"\"",        // empty quoted
        "max-age=\"5\"x",      // text after the quote
        "max-age=5 6",
        "s-maxage=abc",
        "stale-while-revalidate=",
        "stale-if-error=1e3",
        "min-fresh=-0",
        "max-stale=x",
        "no-store=1",          // no argument allowed
        "public=\"yes\"",
        "must-revalidate=0",
        "max-age=60; private",  // ';' is not a separator
        "\"quoted\"",
        "no-cache=\"a, b",      // quote left open
        "@",
    };
    for (const char* b : bad) {
        auto cc = cc_of(std::string("Cache-Control: ") + b + "\r\n");
        BOOST_TEST(cc.malformed, "not malformed: " << b);
    }
}

// RFC 9213 §2.1: targeted fields are Dictionaries: lower-case keys, integer values, params ignored.
BOOST_AUTO_TEST_CASE(targeted_field_is_a_structured_dictionary) {
    auto cc = cc_of("CDN-Cache-Control: max-age=60;foo=bar, public, no-cache=\"a\", stale-if-error=5\r\n",
                    "cdn-cache-control");
    BOOST_TEST(cc.present);
    BOOST_TEST(!cc.malformed);
    BOOST_TEST(cc.max_age.value_or(-1) == 60);
    BOOST_TEST(cc.public_);
    BOOST_TEST(cc.no_cache_fields);
    BOOST_TEST(cc.stale_if_error.value_or(-1) == 5);
}

// RFC 9213 §2.1: a targeted field that does not parse is ignored as a whole (malformed).
BOOST_AUTO_TEST_CASE(targeted_field_parse_errors_table) {
    const char* bad[] = {"Max-Age=60", "max-age=60,", "max-age=1234567890123456", "max-age=\"60", "max-age=@",
                         "no-store=?2", ",max-age=1", "max age"};
    for (const char* b : bad) {
        auto cc = cc_of(std::string("CDN-Cache-Control: ") + b + "\r\n", "cdn-cache-control");
        BOOST_TEST(cc.malformed, "not malformed: " << b);
    }
}

// RFC 9213 §2.1: values of the wrong type are not consumed; RFC 8941: the last duplicate wins.
BOOST_AUTO_TEST_CASE(targeted_field_wrong_types_dropped_last_duplicate_wins) {
    auto cc = cc_of("CDN-Cache-Control: max-age=1.5, s-maxage=-3, no-store=?0, private=5, public\r\n",
                    "cdn-cache-control");
    BOOST_TEST(!cc.malformed);
    BOOST_TEST(!cc.max_age.has_value());
    BOOST_TEST(!cc.s_maxage.has_value());
    BOOST_TEST(!cc.no_store);
    BOOST_TEST(!cc.private_);
    BOOST_TEST(cc.public_);
    auto dup = cc_of("CDN-Cache-Control: max-age=5, max-age=7\r\n", "cdn-cache-control");
    BOOST_TEST(!dup.malformed);
    BOOST_TEST(dup.max_age.value_or(-1) == 7);
}

// RFC 9213 §2.1: an empty targeted field is ignored (as if absent).
BOOST_AUTO_TEST_CASE(empty_targeted_field_is_absent) {
    BOOST_TEST(!cc_of("CDN-Cache-Control:\r\n", "cdn-cache-control").present);
    BOOST_TEST(cc_of("CDN-Cache-Control: none\r\n", "cdn-cache-control").present);
}

// RFC 9213 §2.2: the most specific valid targeted field replaces Cache-Control entirely.
BOOST_AUTO_TEST_CASE(targeted_field_precedence) {
    cache::route_cache_settings s;
    s.targeted_field = "bulwark-cache-control";
    response both("Cache-Control: no-store\r\nCDN-Cache-Control: max-age=20\r\nBulwark-Cache-Control: max-age=30\r\n");
    BOOST_TEST(cache::response_cache_control(both.head, s).max_age.value_or(-1) == 30);
    response cdn("Cache-Control: no-store\r\nCDN-Cache-Control: max-age=20\r\nBulwark-Cache-Control: MAX-AGE=1\r\n");
    auto c = cache::response_cache_control(cdn.head, s);
    BOOST_TEST(c.max_age.value_or(-1) == 20);
    BOOST_TEST(!c.no_store);
    response plain("Cache-Control: no-store\r\nCDN-Cache-Control: max-age=1,\r\n");  // trailing comma
    BOOST_TEST(cache::response_cache_control(plain.head, s).no_store);
}

BOOST_AUTO_TEST_SUITE_END()
