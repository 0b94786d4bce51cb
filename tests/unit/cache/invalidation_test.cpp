// cache/invalidation: an unsafe request's success invalidates its target, and Location /
// Content-Location only on the same host (RFC 9111 §4.4).
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "cache/policy.hpp"
#include "cache_test_util.hpp"

namespace cache = bulwark::cache;
using bulwark::test::request;
using bulwark::test::response;

namespace {

std::string targets(std::string_view line, const std::string& res_fields, int status = 200) {
    request q("", line);
    response r(res_fields, status);
    std::string out;
    for (const auto& t : cache::invalidation_targets(q.head, r.head)) out += (out.empty() ? "" : " ") + t;
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_policy_invalidation)

// RFC 9110 §9.2.1: GET, HEAD, OPTIONS, TRACE are safe; everything else, unknown methods included, is not.
BOOST_AUTO_TEST_CASE(unsafe_methods) {
    for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE"}) BOOST_TEST(!cache::is_unsafe_method(m), m);
    for (const char* m : {"POST", "PUT", "DELETE", "PATCH", "PURGE", "FOO", "get"})
        BOOST_TEST(cache::is_unsafe_method(m), m);
}

// §4.4: the target URI is invalidated by a non-error response to an unsafe method.
BOOST_AUTO_TEST_CASE(unsafe_success_invalidates_target) {
    BOOST_TEST(targets("POST /a/b?c HTTP/1.1", "") == "/a/b?c");
    BOOST_TEST(targets("DELETE /x HTTP/1.1", "", 302) == "/x");
    BOOST_TEST(targets("GET /a HTTP/1.1", "") == "");
}

// §4.4: only non-error status codes (2xx, 3xx) invalidate.
BOOST_AUTO_TEST_CASE(error_responses_invalidate_nothing) {
    BOOST_TEST(targets("POST /a HTTP/1.1", "", 404) == "");
    BOOST_TEST(targets("POST /a HTTP/1.1", "", 500) == "");
}

// §4.4: Location and Content-Location on the same host, as paths.
BOOST_AUTO_TEST_CASE(same_host_location_and_content_location) {
    BOOST_TEST(targets("POST /a HTTP/1.1", "Location: /b\r\nContent-Location: http://EXAMPLE.com/c?d#frag\r\n") ==
               "/a /b /c?d");
    BOOST_TEST(targets("POST /a HTTP/1.1", "Location: http://example.com:80\r\n") == "/a /");
    BOOST_TEST(targets("POST /a HTTP/1.1", "Location: //example.com/z\r\n") == "/a /z");
    BOOST_TEST(targets("POST /a HTTP/1.1", "Location: /a\r\n") == "/a");  // no duplicates
}

// §4.4: a cache MUST NOT invalidate URIs of another host (denial of service).
BOOST_AUTO_TEST_CASE(other_hosts_are_never_invalidated) {
    BOOST_TEST(targets("POST /a HTTP/1.1", "Location: http://evil.example/b\r\n") == "/a");
    BOOST_TEST(targets("POST /a HTTP/1.1", "Location: http://example.com:8080/b\r\n") == "/a");
    BOOST_TEST(targets("POST /a HTTP/1.1", "Location: http://user@example.com/b\r\n") == "/a");
    BOOST_TEST(targets("POST /a HTTP/1.1", "Location: ftp://example.com/b\r\n") == "/a");
    BOOST_TEST(targets("POST /a HTTP/1.1", "Location: mailto:x@example.com\r\n") == "/a");
}

// RFC 3986 §5.2: relative references resolve against the request target.
BOOST_AUTO_TEST_CASE(relative_references_resolve) {
    BOOST_TEST(targets("PUT /d/e/f HTTP/1.1", "Location: g\r\n") == "/d/e/f /d/e/g");
    BOOST_TEST(targets("PUT /d/e/f HTTP/1.1", "Location: ../g?x\r\n") == "/d/e/f /d/g?x");
    BOOST_TEST(targets("PUT /d/e/f HTTP/1.1", "Location: /../../g\r\n") == "/d/e/f /g");
    BOOST_TEST(targets("PUT /d/e/f?q HTTP/1.1", "Location: ?r\r\n") == "/d/e/f?q /d/e/f?r");
}

BOOST_AUTO_TEST_SUITE_END()
