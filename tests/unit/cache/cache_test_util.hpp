// cache/policy tests: heads built the way production builds them, by parsing real bytes.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "cache/policy.hpp"
#include "http/parser.hpp"

namespace bulwark::test {

namespace http = bulwark::http;

/// Owns the bytes its head's views point into; pinned so the views stay valid.
struct request {
    explicit request(std::string fields, std::string_view line = "GET /a/b?c HTTP/1.1")
        : bytes(std::string(line) + "\r\nHost: example.com\r\n" + fields + "\r\n") {
        auto r = http::parse_request(bytes, http::head_limits{64 * 1024, 200}, head);
        BOOST_TEST_REQUIRE((r.status == http::parse_status::complete), "request did not parse: " << r.error.reason);
    }
    request(const request&) = delete;
    request& operator=(const request&) = delete;
    std::string bytes;
    http::request_head head;
};

struct response {
    explicit response(std::string fields, int status = 200)
        : bytes("HTTP/1.1 " + std::to_string(status) + " X\r\n" + fields + "\r\n") {
        auto r = http::parse_response(bytes, http::head_limits{64 * 1024, 200}, false, head);
        BOOST_TEST_REQUIRE((r.status == http::parse_status::complete), "response did not parse: " << r.error.reason);
    }
    response(const response&) = delete;
    response& operator=(const response&) = delete;
    std::string bytes;
    http::response_head head;
};

/// 2026-01-01 00:00:00 UTC and its IMF-fixdate, the clock of most tests.
inline constexpr std::int64_t t0 = 1767225600;
inline const std::string t0_date = "Thu, 01 Jan 2026 00:00:00 GMT";

inline std::string date_field(std::int64_t t) { return "Date: " + cache::format_http_date(t) + "\r\n"; }

}  // namespace bulwark::test
