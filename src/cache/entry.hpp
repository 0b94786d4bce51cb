// cache/entry: the head blob stored with each cache object: a fixed metadata block (freshness inputs,
// flags) followed by the response head as HTTP/1.1 text, so a hit is parsed by the same strict parser
// as an origin response. Framing (Content-Length, Transfer-Encoding), hop-by-hop fields, Age and the
// targeted cache-control fields are never stored: a hit gets them fresh. A Vary marker is a tiny
// entry under the primary key that names the request fields selecting among the variants.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/policy.hpp"
#include "http/message.hpp"

namespace bulwark::cache {

enum class entry_kind : std::uint16_t { response = 1, vary_marker = 2 };

struct entry_meta {
    static constexpr std::uint32_t magic_value = 0x45435742;  // "BWCE"
    std::uint32_t magic = magic_value;
    std::uint16_t version = 1;
    entry_kind kind = entry_kind::response;
    std::int64_t request_time = 0, response_time = 0, date = 0, age = 0, lifetime = 0;
    std::int64_t stale_while_revalidate = 0, stale_if_error = 0;
    std::uint8_t must_revalidate = 0, no_cache = 0, shared_ok = 0, reserved = 0;
    std::uint32_t head_len = 0;

    stored_times times() const;
    void set_times(const stored_times& t);
};

struct decoded_entry {
    entry_meta meta;
    std::string_view head;  // response: "HTTP/1.1 ...\r\n...\r\n\r\n"; marker: field names, '\n'-separated
};

/// `fields_to_drop`: extra lower-case names not to store (the configured targeted field).
std::string encode_response(const stored_times& t, bool shared_ok, const http::response_head& res,
                            std::string_view targeted_field);
/// Same from a ready head text (a 304 merged into a stored head).
std::string encode_response_text(const stored_times& t, bool shared_ok, std::string_view head_text);
std::string encode_vary_marker(const std::vector<std::string>& fields);
/// Nullopt when the blob is not one of ours (wrong magic, version or length).
std::optional<decoded_entry> decode(std::string_view blob);
std::vector<std::string> marker_fields(std::string_view head);

/// True for fields a stored response never keeps (see the file comment).
bool unstored_field(const http::head_common& res, std::string_view name, std::string_view targeted_field);

}  // namespace bulwark::cache
