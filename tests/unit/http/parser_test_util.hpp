// http/parser tests: helpers shared by the request and response parser test files.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "http/parser.hpp"
#include "printable.hpp"

namespace http = bulwark::http;

namespace {

using bulwark::test::printable;

constexpr std::size_t default_max = 32 * 1024;

std::string status_name(http::parse_status s) {
    switch (s) {
    case http::parse_status::incomplete: return "incomplete";
    case http::parse_status::complete: return "complete";
    case http::parse_status::error: return "error";
    }
    return "?";
}

std::string framing_name(http::body_framing f) {
    switch (f) {
    case http::body_framing::none: return "none";
    case http::body_framing::length: return "length";
    case http::body_framing::chunked: return "chunked";
    case http::body_framing::to_eof: return "to_eof";
    }
    return "?";
}


constexpr std::size_t default_max_fields = 100;

// Owns the bytes the head's views point into; neither copyable nor movable so the views stay valid.
struct parsed_request {
    explicit parsed_request(std::string b, std::size_t max_head = default_max) : bytes(std::move(b)) {
        // 100 fields: the default of max_headers, which the session passes as the field limit.
        result = http::parse_request(bytes, http::head_limits{max_head, default_max_fields}, head);
    }
    parsed_request(const parsed_request&) = delete;
    parsed_request& operator=(const parsed_request&) = delete;

    std::string bytes;
    http::request_head head;
    http::parse_result result{};
    std::string status() const { return status_name(result.status); }
};

struct parsed_response {
    explicit parsed_response(std::string b, bool request_was_head = false, std::size_t max_head = default_max)
        : bytes(std::move(b)) {
        result = http::parse_response(bytes, http::head_limits{max_head, default_max_fields}, request_was_head, head);
    }
    parsed_response(const parsed_response&) = delete;
    parsed_response& operator=(const parsed_response&) = delete;

    std::string bytes;
    http::response_head head;
    http::parse_result result{};
    std::string status() const { return status_name(result.status); }
};

// A valid HTTP/1.1 GET carrying Host plus `fields` (each "Name: value\r\n").
inline std::string get_with(std::string_view fields) {
    return "GET /index.html HTTP/1.1\r\nHost: example.com\r\n" + std::string(fields) + "\r\n";
}

// Same shape for a response.
inline std::string ok_with(std::string_view fields) { return "HTTP/1.1 200 OK\r\n" + std::string(fields) + "\r\n"; }

// A view lies inside the parsed buffer (nothing was copied).
bool inside(std::string_view view, const std::string& buffer) {
    return view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size();
}

}  // namespace

#define EXPECT_REQUEST_OK(parsed)                                                                         \
    BOOST_TEST((parsed).status() == "complete",                                                           \
               "input: " << printable((parsed).bytes) << " reason: " << (parsed).result.error.reason)

#define EXPECT_REQUEST_ERROR(input, code)                                                                 \
    do {                                                                                                  \
        parsed_request p_(input);                                                                         \
        BOOST_TEST(p_.status() == "error", "input: " << printable(p_.bytes) << " got " << p_.status());   \
        BOOST_TEST(p_.result.error.status == (code), "input: " << printable(p_.bytes) << " got "          \
                                                                << p_.result.error.status);               \
    } while (0)

#define EXPECT_RESPONSE_ERROR(input, code)                                                                \
    do {                                                                                                  \
        parsed_response p_(input);                                                                        \
        BOOST_TEST(p_.status() == "error", "input: " << printable(p_.bytes) << " got " << p_.status());   \
        BOOST_TEST(p_.result.error.status == (code), "input: " << printable(p_.bytes) << " got "          \
                                                                << p_.result.error.status);               \
    } while (0)
