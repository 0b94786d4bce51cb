// cache/range: Range against a stored representation (RFC 9110 §14.1.2, §14.2): what is served as
// 206, what gets a 416, and what is ignored in favour of a plain 200.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "cache/policy.hpp"

namespace cache = bulwark::cache;
using rr = cache::range_result;

namespace {

std::string name(rr r) {
    switch (r) {
    case rr::none: return "none";
    case rr::satisfiable: return "satisfiable";
    case rr::unsatisfiable: return "unsatisfiable";
    case rr::ignored: return "ignored";
    }
    return "?";
}

// "satisfiable 0-4 10-19" or the result's name.
std::string range(std::string_view value, std::uint64_t length, std::size_t max = 16) {
    std::vector<cache::byte_range> out{{7, 7}};  // stale content must be cleared
    auto r = cache::parse_range(value, length, out, max);
    std::string s = name(r);
    for (const auto& b : out) s += " " + std::to_string(b.first) + "-" + std::to_string(b.last);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_policy_range)

// No Range field: nothing to do.
BOOST_AUTO_TEST_CASE(empty_value_is_none) {
    BOOST_TEST(range("", 100) == "none");
}

// §14.1.2: int-range, open-ended, suffix-range.
BOOST_AUTO_TEST_CASE(range_forms) {
    BOOST_TEST(range("bytes=0-499", 1000) == "satisfiable 0-499");
    BOOST_TEST(range("bytes=500-", 1000) == "satisfiable 500-999");
    BOOST_TEST(range("bytes=-200", 1000) == "satisfiable 800-999");
    BOOST_TEST(range("Bytes=0-0", 1000) == "satisfiable 0-0");  // the unit is case-insensitive
}

// §14.1.2: last-pos beyond the end is clamped; a suffix longer than the representation is all of it.
BOOST_AUTO_TEST_CASE(clamp_to_length) {
    BOOST_TEST(range("bytes=900-5000", 1000) == "satisfiable 900-999");
    BOOST_TEST(range("bytes=-5000", 1000) == "satisfiable 0-999");
    BOOST_TEST(range("bytes=0-99999999999999999999999", 1000) == "satisfiable 0-999");
}

// §14.1.1: first-pos at or beyond the length, or a zero suffix, is unsatisfiable (416).
BOOST_AUTO_TEST_CASE(unsatisfiable_ranges) {
    BOOST_TEST(range("bytes=1000-", 1000) == "unsatisfiable");
    BOOST_TEST(range("bytes=99999999999999999999-", 1000) == "unsatisfiable");
    BOOST_TEST(range("bytes=-0", 1000) == "unsatisfiable");
    BOOST_TEST(range("bytes=0-1", 0) == "unsatisfiable");
    BOOST_TEST(range("bytes=-5", 0) == "ignored");  // the whole (empty) representation: a 200
}

// §14.1.1: unsatisfiable members are dropped when another one is satisfiable.
BOOST_AUTO_TEST_CASE(multiple_ranges_keep_satisfiable_ones_in_order) {
    BOOST_TEST(range("bytes=500-599, 0-99", 1000) == "satisfiable 500-599 0-99");
    BOOST_TEST(range("bytes=0-9,2000-3000", 1000) == "satisfiable 0-9");
    BOOST_TEST(range("bytes=0-9,,20-29", 1000) == "satisfiable 0-9 20-29");  // empty elements (§5.6.1)
    BOOST_TEST(range("bytes=0-9,10-19", 1000) == "satisfiable 0-9 10-19");   // adjacent is not overlapping
}

// §14.2: overlapping or too many ranges may be ignored (a range-based DoS otherwise).
BOOST_AUTO_TEST_CASE(overlapping_or_too_many_ranges_are_ignored) {
    BOOST_TEST(range("bytes=0-499, 400-599", 1000) == "ignored");
    BOOST_TEST(range("bytes=-100, 950-", 1000) == "ignored");
    BOOST_TEST(range("bytes=0-0,2-2,4-4", 1000, 2) == "ignored");
    BOOST_TEST(range("bytes=0-0,2-2", 1000, 2) == "satisfiable 0-0 2-2");
}

// §14.2: an unknown unit or a malformed range-set is ignored (table).
BOOST_AUTO_TEST_CASE(malformed_ranges_table) {
    const char* bad[] = {"items=0-1", "bytes", "bytes=", "bytes=,", "bytes=abc", "bytes=1", "bytes=5-1",
                         "bytes=-", "bytes=--1", "bytes=1-2-3", "bytes=+1-2", "bytes= 0 - 1", "bytes=0x1-2",
                         "bytes =0-1", "bytes=0-1,x", "bytes=\"0-1\"", "bytes=\"0-1", "bytes=-1-"};
    for (const char* b : bad) BOOST_TEST(range(b, 1000) == "ignored", b);
}

BOOST_AUTO_TEST_SUITE_END()
