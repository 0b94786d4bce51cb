// http/parser: strict HTTP/1.1 head parsing (RFC 9112). Anything a peer could read two ways is refused:
// bare LF, obs-fold, whitespace before a colon, CTLs, CL with TE, duplicate CL, TE other than chunked.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/message.hpp"

namespace bulwark::http {

enum class parse_status {
    incomplete,  // need more bytes; nothing is wrong yet
    complete,    // head parsed; head.head_size bytes consumed
    error,       // malformed; `error.status` says what to answer
};

struct parse_error {
    int status = 400;               // 400, 405, 431, 501, 505 for requests; 502 means "bad origin"
    std::string_view reason = "";  // for the error log
};

struct parse_result {
    parse_status status;
    parse_error error;
};

struct head_limits {
    std::size_t max_head;                  // whole head, bytes (431 / 502 beyond)
    std::size_t max_field_lines = http::max_fields;  // field lines (431 / 502 beyond)
    std::size_t max_target = ~std::size_t{0};  // request target, bytes (414 beyond)
};

/// Parses a request head at the start of `data`.
parse_result parse_request(std::string_view data, const head_limits& limits, request_head& out);
inline parse_result parse_request(std::string_view data, std::size_t max_head, request_head& out) {
    return parse_request(data, head_limits{max_head}, out);
}

/// Parses a response head; `request_was_head` decides framing (RFC 9112 §6.3).
parse_result parse_response(std::string_view data, const head_limits& limits, bool request_was_head,
                            response_head& out);
inline parse_result parse_response(std::string_view data, std::size_t max_head, bool request_was_head,
                                   response_head& out) {
    return parse_response(data, head_limits{max_head}, request_was_head, out);
}

/// Case-insensitive comparison against an already lower-case name.
bool name_equals(std::string_view name, std::string_view lower);

}  // namespace bulwark::http
