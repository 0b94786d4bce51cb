// http/message: request and response heads as views into the connection's read buffer. Nothing is
// copied; a head is valid as long as the bytes it was parsed from stay in place.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bulwark::http {

/// Capacity of a head's field array; `max_headers` in the config can only lower the limit.
inline constexpr std::size_t max_fields = 256;

struct field {
    std::string_view name;
    std::string_view value;
};

enum class body_framing : std::uint8_t {
    none,     // no body (GET without length, 204, 304, HEAD response, 1xx)
    length,   // Content-Length
    chunked,  // Transfer-Encoding: chunked
    to_eof,   // response without length: delimited by the origin closing
};

/// Flags gathered while parsing so later stages never search the fields again.
struct head_flags {
    bool connection_close = false;
    bool connection_keep_alive = false;
    bool connection_upgrade = false;
    bool expect_continue = false;
};

struct head_common {
    std::array<field, max_fields> fields;
    std::size_t field_count = 0;
    int version_minor = 1;  // HTTP/1.<minor>
    body_framing framing = body_framing::none;
    std::uint64_t content_length = 0;
    std::string_view connection;  // the Connection field's value, for hop-by-hop removal
    bool several_connection_fields = false;  // then hop-by-hop removal scans every Connection field
    head_flags flags;
    std::size_t head_size = 0;  // bytes up to and including the blank line

    const field* begin() const { return fields.data(); }
    const field* end() const { return fields.data() + field_count; }
    /// First field with this (lower-case) name, or an empty view.
    std::string_view get(std::string_view lower_name) const;
};

struct request_head : head_common {
    std::string_view method;
    std::string_view target;
    std::string_view host;  // Host field (or absolute-form authority), port included
    bool idempotent = false;
    bool is_head = false;
};

struct response_head : head_common {
    int status = 0;
    std::string_view reason;
};

}  // namespace bulwark::http
