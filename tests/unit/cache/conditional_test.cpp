// cache/conditional: a client's conditional request against a stored response (RFC 9110 §13), and a
// 304 folded into the stored head (RFC 9111 §3.2, §4.3.4).
#include <boost/test/unit_test.hpp>

#include <string>

#include "cache/policy.hpp"
#include "cache_test_util.hpp"

namespace cache = bulwark::cache;
using bulwark::test::request;
using bulwark::test::response;

namespace {

const std::string lm = "Sun, 06 Nov 1994 08:49:37 GMT";
const std::string later = "Mon, 07 Nov 1994 08:49:37 GMT";
const std::string earlier = "Sat, 05 Nov 1994 08:49:37 GMT";

bool nm(const std::string& fields, std::string_view etag = "\"v1\"", std::string_view last_modified = lm,
        std::string_view line = "GET /a HTTP/1.1") {
    request r(fields, line);
    return cache::not_modified(r.head, etag, last_modified);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_policy_conditional)

// §13.1.2: weak comparison; any member of the list; "*" matches a stored representation.
BOOST_AUTO_TEST_CASE(if_none_match_weak_comparison) {
    BOOST_TEST(cache::if_none_match_matches("\"v1\"", "\"v1\""));
    BOOST_TEST(cache::if_none_match_matches("W/\"v1\"", "\"v1\""));
    BOOST_TEST(cache::if_none_match_matches("\"v1\"", "W/\"v1\""));
    BOOST_TEST(cache::if_none_match_matches("\"x\", W/\"v1\"", "\"v1\""));
    BOOST_TEST(cache::if_none_match_matches("*", "\"v1\""));
    BOOST_TEST(!cache::if_none_match_matches("\"v2\"", "\"v1\""));
    BOOST_TEST(!cache::if_none_match_matches("\"V1\"", "\"v1\""));  // opaque-tags are case-sensitive
}

// §8.8.3: entity-tags may hold commas and backslashes; quotes delimit them.
BOOST_AUTO_TEST_CASE(entity_tags_with_commas_and_backslashes) {
    BOOST_TEST(cache::if_none_match_matches("\"a,b\"", "\"a,b\""));
    BOOST_TEST(!cache::if_none_match_matches("\"a\", \"b\"", "\"a,b\""));
    BOOST_TEST(cache::if_none_match_matches("\"a\\\"", "\"a\\\""));
}

// Malformed lists or stored tags never produce a 304 (table).
BOOST_AUTO_TEST_CASE(malformed_entity_tags_table) {
    const char* bad_lists[] = {"v1", "\"v1", "w/\"v1\"", "\"v1\" \"v1\"", "\"v1\"x", "W/ \"v1\"", "", ","};
    for (const char* l : bad_lists) BOOST_TEST(!cache::if_none_match_matches(l, "\"v1\""), l);
    for (const char* e : {"v1", "", "\"v1", "W/v1"}) BOOST_TEST(!cache::if_none_match_matches("\"v1\"", e), e);
}

// §13.2.2: If-None-Match decides for GET/HEAD.
BOOST_AUTO_TEST_CASE(not_modified_by_if_none_match) {
    BOOST_TEST(nm("If-None-Match: \"v1\"\r\n"));
    BOOST_TEST(nm("If-None-Match: \"a\"\r\nIf-None-Match: \"v1\"\r\n"));
    BOOST_TEST(!nm("If-None-Match: \"v2\"\r\n"));
    BOOST_TEST(nm("If-None-Match: \"v1\"\r\n", "\"v1\"", lm, "HEAD /a HTTP/1.1"));
    BOOST_TEST(!nm("If-None-Match: \"v1\"\r\n", "\"v1\"", lm, "POST /a HTTP/1.1"));  // 412 territory
}

// §13.2.2 step 3/4 and §13.1.3: If-Modified-Since is ignored when If-None-Match is present.
BOOST_AUTO_TEST_CASE(if_none_match_takes_precedence_over_if_modified_since) {
    BOOST_TEST(!nm("If-None-Match: \"v2\"\r\nIf-Modified-Since: " + later + "\r\n"));
    BOOST_TEST(nm("If-None-Match: \"v1\"\r\nIf-Modified-Since: " + earlier + "\r\n"));
}

// §13.1.3: not modified when Last-Modified <= If-Modified-Since.
BOOST_AUTO_TEST_CASE(not_modified_by_if_modified_since) {
    BOOST_TEST(nm("If-Modified-Since: " + lm + "\r\n"));
    BOOST_TEST(nm("If-Modified-Since: " + later + "\r\n"));
    BOOST_TEST(!nm("If-Modified-Since: " + earlier + "\r\n"));
    BOOST_TEST(!nm("If-Modified-Since: " + later + "\r\n", "\"v1\"", ""));  // nothing to compare
}

// §13.1.3: an invalid date, or more than one member, is ignored.
BOOST_AUTO_TEST_CASE(if_modified_since_invalid_or_repeated_is_ignored) {
    BOOST_TEST(!nm("If-Modified-Since: yesterday\r\n"));
    BOOST_TEST(!nm("If-Modified-Since: " + later + "\r\nIf-Modified-Since: " + later + "\r\n"));
    BOOST_TEST(!nm(""));
}

// §13.1.5: an entity-tag If-Range needs a strong match.
BOOST_AUTO_TEST_CASE(if_range_entity_tag_strong_comparison) {
    BOOST_TEST(cache::if_range_allows("\"v1\"", "\"v1\"", lm));
    BOOST_TEST(!cache::if_range_allows("W/\"v1\"", "W/\"v1\"", lm));
    BOOST_TEST(!cache::if_range_allows("\"v1\"", "W/\"v1\"", lm));
    BOOST_TEST(!cache::if_range_allows("\"v2\"", "\"v1\"", lm));
    BOOST_TEST(!cache::if_range_allows("\"v1", "\"v1\"", lm));
}

// §13.1.5: a date If-Range must equal Last-Modified exactly.
BOOST_AUTO_TEST_CASE(if_range_date_exact_match) {
    BOOST_TEST(cache::if_range_allows(lm, "\"v1\"", lm));
    BOOST_TEST(!cache::if_range_allows(later, "\"v1\"", lm));
    BOOST_TEST(!cache::if_range_allows("garbage", "\"v1\"", lm));
    BOOST_TEST(!cache::if_range_allows(lm, "\"v1\"", ""));
    BOOST_TEST(cache::if_range_allows("", "\"v1\"", lm));
}

// RFC 9111 §3.2: the 304's fields replace the stored ones, all lines of a name together.
BOOST_AUTO_TEST_CASE(merge_304_replaces_fields) {
    response stored("Date: " + earlier + "\r\nETag: \"v1\"\r\nCache-Control: max-age=5\r\nX-A: 1\r\nX-A: 2\r\n"
                    "Content-Type: text/plain\r\nContent-Length: 10\r\n");
    response fresh("Date: " + later + "\r\nCache-Control: max-age=60\r\nX-A: 3\r\n", 304);
    std::string merged = cache::merge_304_fields(stored.head, fresh.head);
    BOOST_TEST(merged == "ETag: \"v1\"\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nDate: " + later +
                             "\r\nCache-Control: max-age=60\r\nX-A: 3\r\n");
}

// §3.2: fields describing the stored body stay; hop-by-hop fields never enter; the old Age goes.
BOOST_AUTO_TEST_CASE(merge_304_keeps_body_fields_and_drops_hop_by_hop) {
    response stored("Content-Length: 10\r\nContent-Encoding: gzip\r\nAge: 50\r\nX-K: keep\r\n");
    response fresh("Content-Length: 0\r\nContent-Encoding: br\r\nContent-Range: bytes 0-1/2\r\n"
                   "Connection: x-k, close\r\nX-K: hop\r\nKeep-Alive: timeout=5\r\nAge: 3\r\n", 304);
    std::string merged = cache::merge_304_fields(stored.head, fresh.head);
    BOOST_TEST(merged == "Content-Length: 10\r\nContent-Encoding: gzip\r\nX-K: keep\r\nAge: 3\r\n");
}

BOOST_AUTO_TEST_SUITE_END()
