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

/// Parses a request head at the start of `data`. `max_head` bounds the head size (431 beyond).
parse_result parse_request(std::string_view data, std::size_t max_head, request_head& out);

/// Parses a response head; `request_was_head` decides framing (RFC 9112 §6.3).
parse_result parse_response(std::string_view data, std::size_t max_head, bool request_was_head,
                            response_head& out);

/// Case-insensitive comparison against an already lower-case name.
bool name_equals(std::string_view name, std::string_view lower);

}  // namespace bulwark::http
