// cache/http_date: HTTP-date in its three forms (RFC 9110 §5.6.7); everything else is invalid, and an
// invalid date is never a time (callers then treat Expires as already expired, RFC 9111 §5.3).
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cache/policy.hpp"
#include "cache_test_util.hpp"

namespace cache = bulwark::cache;
using bulwark::test::t0;

BOOST_AUTO_TEST_SUITE(cache_policy_date)

// §5.6.7: the preferred format, the RFC's own example.
BOOST_AUTO_TEST_CASE(imf_fixdate_is_parsed) {
    BOOST_TEST(cache::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").value_or(-1) == 784111777);
    BOOST_TEST(cache::parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT").value_or(-1) == 0);
    BOOST_TEST(cache::parse_http_date(bulwark::test::t0_date).value_or(-1) == t0);
}

// §5.6.7: recipients MUST accept the two obsolete formats.
BOOST_AUTO_TEST_CASE(obsolete_rfc850_and_asctime_forms_are_parsed) {
    BOOST_TEST(cache::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").value_or(-1) == 784111777);
    BOOST_TEST(cache::parse_http_date("Sun Nov  6 08:49:37 1994").value_or(-1) == 784111777);
    BOOST_TEST(cache::parse_http_date("Sun Nov 16 08:49:37 1994").value_or(-1) == 784111777 + 10 * 86400);
}

// §5.6.7: two-digit years far in the future are read as the past century; pivot at 70.
BOOST_AUTO_TEST_CASE(rfc850_two_digit_year_pivot) {
    BOOST_TEST(cache::parse_http_date("Thursday, 01-Jan-26 00:00:00 GMT").value_or(-1) == t0);
    BOOST_TEST(cache::parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT").value_or(-1) == 0);
}

// §5.6.7: leap seconds (second 60) are in the grammar; 29 February only in leap years.
BOOST_AUTO_TEST_CASE(calendar_limits) {
    BOOST_TEST(cache::parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT").has_value());
    BOOST_TEST(!cache::parse_http_date("Sun, 29 Feb 2023 00:00:00 GMT").has_value());
    BOOST_TEST(cache::parse_http_date("Wed, 31 Dec 2025 23:59:60 GMT").value_or(-1) == t0);
}

// §5.6.7: "HTTP-date is case sensitive"; anything else is not a date (table of malformed input).
BOOST_AUTO_TEST_CASE(malformed_dates_are_invalid) {
    const char* bad[] = {
        "",
        "0",
        "-1",
        "now",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT extra",
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun, 06 Nov 1994 08:49:37 GMT\x01",
        "99999999999999999999999",
    };
    for (const char* b : bad) BOOST_TEST(!cache::parse_http_date(b).has_value(), "accepted: " << b);
}

// Field values arrive trimmed, but surrounding OWS is not part of the date either way.
BOOST_AUTO_TEST_CASE(surrounding_whitespace_is_ignored) {
    BOOST_TEST(cache::parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT\t").value_or(-1) == 784111777);
}

// §5.6.7: we generate IMF-fixdate only, and it parses back to the same second.
BOOST_AUTO_TEST_CASE(format_is_imf_fixdate_and_round_trips) {
    BOOST_TEST(cache::format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
    BOOST_TEST(cache::format_http_date(t0) == bulwark::test::t0_date);
    for (std::int64_t t : {std::int64_t{0}, std::int64_t{951782400}, t0, std::int64_t{4102444799}, std::int64_t{253402300799}}) {
        auto s = cache::format_http_date(t);
        BOOST_TEST(s.size() == 29u);
        BOOST_TEST(cache::parse_http_date(s).value_or(-1) == t, s);
    }
}

// Out-of-range times clamp to what four year digits can say instead of printing garbage.
BOOST_AUTO_TEST_CASE(format_clamps_out_of_range_times) {
    BOOST_TEST(cache::format_http_date(-5) == "Thu, 01 Jan 1970 00:00:00 GMT");
    BOOST_TEST(cache::format_http_date(INT64_MAX) == "Fri, 31 Dec 9999 23:59:59 GMT");
}

BOOST_AUTO_TEST_SUITE_END()
