// core/units: sizes, durations and plain numbers as written in the config; strict about junk and overflow.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>

#include "core/units.hpp"

using bulwark::parse_duration;
using bulwark::parse_size;
using bulwark::parse_uint;

namespace {

// -1 stands for "rejected" so that failures print both sides.
long long size_or_fail(std::string_view text) {
    auto v = parse_size(text);
    return v ? static_cast<long long>(*v) : -1;
}

long long ms_or_fail(std::string_view text) {
    auto v = parse_duration(text);
    return v ? static_cast<long long>(v->count()) : -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_units)

BOOST_AUTO_TEST_CASE(size_accepts_bare_numbers_and_binary_suffixes) {
    BOOST_TEST(size_or_fail("0") == 0);
    BOOST_TEST(size_or_fail("512") == 512);
    BOOST_TEST(size_or_fail("64k") == 64 * 1024);
    BOOST_TEST(size_or_fail("64K") == 64 * 1024);
    BOOST_TEST(size_or_fail("1m") == 1024 * 1024);
    BOOST_TEST(size_or_fail("1M") == 1024 * 1024);
    BOOST_TEST(size_or_fail("1g") == 1024LL * 1024 * 1024);
    BOOST_TEST(size_or_fail("1G") == 1024LL * 1024 * 1024);
    BOOST_TEST(size_or_fail("3g") == 3LL * 1024 * 1024 * 1024);
}

BOOST_AUTO_TEST_CASE(size_rejects_junk) {
    for (const char* bad : {"", "-1", "+1", "1.5k", "k", "1kb", " 1", "1 ", "1 k", "1t", "0x10", "1kk", "m1"})
        BOOST_TEST(!parse_size(bad).has_value(), "parse_size accepted '" << bad << "'");
}

BOOST_AUTO_TEST_CASE(size_rejects_overflow) {
    // 2^34 g = 2^64 bytes: one past the largest 64-bit value.
    BOOST_TEST(!parse_size("17179869184g").has_value());
    BOOST_TEST(!parse_size("99999999999999999999").has_value());
    BOOST_TEST(!parse_size("9999999999999999999k").has_value());
    auto largest = parse_size("17179869183g");
    BOOST_REQUIRE(largest.has_value());
    BOOST_TEST(*largest == 17179869183ULL * 1024 * 1024 * 1024);
}

BOOST_AUTO_TEST_CASE(duration_accepts_units_and_bare_seconds) {
    BOOST_TEST(ms_or_fail("500ms") == 500);
    BOOST_TEST(ms_or_fail("0ms") == 0);
    BOOST_TEST(ms_or_fail("30s") == 30'000);
    BOOST_TEST(ms_or_fail("30") == 30'000);
    BOOST_TEST(ms_or_fail("5m") == 300'000);
    BOOST_TEST(ms_or_fail("1h") == 3'600'000);
    BOOST_TEST(ms_or_fail("1d") == 86'400'000);
    BOOST_TEST(ms_or_fail("1500ms") == 1500);
}

BOOST_AUTO_TEST_CASE(duration_rejects_junk) {
    for (const char* bad : {"", "1x", "ms", "s", "-1s", "+1s", "1.5s", " 1s", "1s ", "1 s", "1sec", "1msx", "1w"})
        BOOST_TEST(!parse_duration(bad).has_value(), "parse_duration accepted '" << bad << "'");
}

BOOST_AUTO_TEST_CASE(duration_rejects_overflow) {
    BOOST_TEST(!parse_duration("9999999999999999999d").has_value());
    BOOST_TEST(!parse_duration("1000000000000000000s").has_value());
    BOOST_TEST(!parse_duration("9223372036854775808ms").has_value());  // INT64_MAX + 1
    BOOST_TEST(!parse_duration("99999999999999999999").has_value());   // 20 digits
    BOOST_TEST(ms_or_fail("9223372036854775807ms") == 9223372036854775807LL);
}

BOOST_AUTO_TEST_CASE(uint_is_plain_decimal) {
    auto v = parse_uint("0");
    BOOST_REQUIRE(v.has_value());
    BOOST_TEST(*v == 0u);
    v = parse_uint("65535");
    BOOST_REQUIRE(v.has_value());
    BOOST_TEST(*v == 65535u);
    v = parse_uint("007");
    BOOST_REQUIRE(v.has_value());
    BOOST_TEST(*v == 7u);
    v = parse_uint("9999999999999999999");  // 19 digits always fit
    BOOST_REQUIRE(v.has_value());
    BOOST_TEST(*v == 9999999999999999999ULL);
    for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1k", "1.0", "0x1", "99999999999999999999"})
        BOOST_TEST(!parse_uint(bad).has_value(), "parse_uint accepted '" << bad << "'");
}

BOOST_AUTO_TEST_SUITE_END()
