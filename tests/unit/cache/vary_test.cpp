// cache/vary: Vary's names (RFC 9111 §4.1) and the request's secondary key, normalised only where
// two spellings select the same representation (RFC 9110 §5.3 list combination, §12.5.3 codings).
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "cache/policy.hpp"
#include "cache_test_util.hpp"

namespace cache = bulwark::cache;
using bulwark::test::request;
using bulwark::test::response;

namespace {

std::string key(const std::string& fields, const std::vector<std::string>& vary) {
    request r(fields);
    return cache::variant_key(r.head, vary);
}

std::string ae(const std::string& value) { return key("Accept-Encoding: " + value + "\r\n", {"accept-encoding"}); }

std::string joined(const std::optional<std::vector<std::string>>& v) {
    if (!v) return "(nullopt)";
    std::string s;
    for (const auto& n : *v) s += (s.empty() ? "" : " ") + n;
    return s;
}

std::string vary_of(const std::string& fields, std::size_t max = 16) {
    response r(fields);
    return joined(cache::parse_vary(r.head, max));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_policy_vary)

// §4.1: names are case-insensitive: lower-cased, sorted, deduplicated across fields.
BOOST_AUTO_TEST_CASE(vary_names_lowered_sorted_deduplicated) {
    BOOST_TEST(vary_of("Vary: User-Agent, accept-encoding\r\nVary: ACCEPT-ENCODING, Accept\r\n") ==
               "accept accept-encoding user-agent");
    BOOST_TEST(vary_of("") == "");
    BOOST_TEST(vary_of("Vary:\r\n") == "");
    BOOST_TEST(vary_of("Vary: , a,,\r\n") == "a");
}

// §4.1: "*" anywhere means the response varies on things outside the request.
BOOST_AUTO_TEST_CASE(vary_star_wins) {
    BOOST_TEST(vary_of("Vary: accept\r\nVary: *\r\n") == "*");
}

// Malformed names or too many of them: not guessed (the response is then not stored).
BOOST_AUTO_TEST_CASE(vary_malformed_or_too_long_table) {
    for (const char* v : {"Vary: \"accept\"\r\n", "Vary: a b\r\n", "Vary: a;b\r\n", "Vary: a@\r\n"})
        BOOST_TEST(vary_of(v) == "(nullopt)", v);
    BOOST_TEST(vary_of("Vary: a, b, c\r\n", 2) == "(nullopt)");
    BOOST_TEST(vary_of("Vary: a, A, a\r\nVary: b\r\n", 2) == "a b");
}

// §4.1: an absent field matches only an absent field; an empty one is different.
BOOST_AUTO_TEST_CASE(absent_and_empty_fields_differ) {
    BOOST_TEST(key("", {"accept"}) == "accept");
    BOOST_TEST(key("Accept:\r\n", {"accept"}) == "accept=");
}

// RFC 9110 §5.3: several lines are one list; whitespace around commas does not count.
BOOST_AUTO_TEST_CASE(values_combined_and_whitespace_collapsed) {
    BOOST_TEST(key("Accept: text/html , application/json\r\nAccept: */*\r\n", {"accept"}) ==
               key("Accept: text/html,application/json,*/*\r\n", {"accept"}));
    BOOST_TEST(key("Accept: a\r\nX-B: 1\r\n", {"accept", "x-b"}) == "accept=a\nx-b=1");
    // Order inside a list is kept: it can carry preference.
    BOOST_TEST(key("Accept-Language: en, de\r\n", {"accept-language"}) !=
               key("Accept-Language: de, en\r\n", {"accept-language"}));
}

// §12.5.3: Accept-Encoding reduced to the codings the proxy tells apart.
BOOST_AUTO_TEST_CASE(accept_encoding_reduced_to_known_codings) {
    BOOST_TEST(ae("gzip, deflate, br") == ae("br,gzip"));
    BOOST_TEST(ae("br,gzip") == "accept-encoding=br,gzip,identity");
    BOOST_TEST(ae("GZIP;q=0.5, x-gzip") == "accept-encoding=gzip,identity");
    BOOST_TEST(ae("zstd, br;q=1.0, gzip;q=0.001") == "accept-encoding=br,gzip,identity,zstd");
    BOOST_TEST(ae("") == "accept-encoding=identity");
    BOOST_TEST(key("", {"accept-encoding"}) == "accept-encoding");
}

// §12.5.3: q=0 means "not acceptable"; "*" covers codings not listed; identity excluded explicitly.
BOOST_AUTO_TEST_CASE(accept_encoding_q_zero_and_star) {
    BOOST_TEST(ae("gzip;q=0, br") == "accept-encoding=br,identity");
    BOOST_TEST(ae("*") == "accept-encoding=br,gzip,identity,zstd");
    BOOST_TEST(ae("*;q=0, gzip") == "accept-encoding=gzip");
    BOOST_TEST(ae("*, br;q=0") == "accept-encoding=gzip,identity,zstd");
    BOOST_TEST(ae("identity;q=0, gzip") == "accept-encoding=gzip");
    BOOST_TEST(ae("gzip;q=0.000") == "accept-encoding=identity");
}

// §12.4.2: a malformed qvalue drops its element rather than guessing.
BOOST_AUTO_TEST_CASE(accept_encoding_malformed_qvalues_table) {
    for (const char* v : {"gzip;q=2", "gzip;q=1.5", "gzip;q=0.0001", "gzip;q=", "gzip;q=abc", "gzip;q=-1", "gzip;q=1.001"})
        BOOST_TEST(ae(std::string(v) + ", br") == "accept-encoding=br,identity", v);
}

BOOST_AUTO_TEST_SUITE_END()
