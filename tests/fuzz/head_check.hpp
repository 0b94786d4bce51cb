// fuzz/head_check: invariants every parsed head must hold, shared by the request and response targets.
// They are the promises the proxy builds on: views stay inside the bytes read, the head ends at the first
// blank line, and the framing is the one the length fields imply, so nothing can be read two ways.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "http/message.hpp"
#include "http/parser.hpp"

namespace bulwark::fuzz {

/// What the length fields of a complete head say, recomputed here independently of the parser.
struct length_fields {
    int content_length_fields = 0;
    int transfer_encoding_fields = 0;
    bool length_valid = false;
    std::uint64_t length = 0;
};

inline bool is_tchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

inline bool decimal(std::string_view v, std::uint64_t& out) {
    if (v.empty()) return false;
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return false;
        auto d = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10) return false;
        n = n * 10 + d;
    }
    out = n;
    return true;
}

/// Checks the parts of a complete head common to requests and responses; returns its length fields.
inline length_fields check_common(const http::head_common& h, std::string_view data, std::size_t max_head) {
    FUZZ_CHECK(h.head_size >= 4);
    FUZZ_CHECK(h.head_size <= data.size());
    FUZZ_CHECK(h.head_size <= max_head);
    // The head ends at the first blank line: nothing after it, nothing before it.
    FUZZ_CHECK(data.find("\r\n\r\n") + 4 == h.head_size);
    const std::string_view head = data.substr(0, h.head_size);
    FUZZ_CHECK(head.find('\0') == std::string_view::npos);
    FUZZ_CHECK(h.field_count <= http::max_fields);
    FUZZ_CHECK(h.version_minor == 0 || h.version_minor == 1);
    FUZZ_CHECK(h.connection.empty() || inside(h.connection, head));

    length_fields lf;
    bool connection_fields = false, connection_seen = false;
    for (const http::field& f : h) {
        FUZZ_CHECK(inside(f.name, head));
        FUZZ_CHECK(inside(f.value, head));
        FUZZ_CHECK(!f.name.empty());
        for (char c : f.name) FUZZ_CHECK(is_tchar(c));
        // The name is followed by its colon (no whitespace before it, RFC 9112 §5.1).
        FUZZ_CHECK(f.name.data() + f.name.size() < head.data() + head.size());
        FUZZ_CHECK(f.name.data()[f.name.size()] == ':');
        for (char c : f.value) {
            auto u = static_cast<unsigned char>(c);
            FUZZ_CHECK(c == '\t' || (u >= 0x20 && u != 0x7f));
        }
        if (!f.value.empty()) {
            FUZZ_CHECK(f.value.front() != ' ' && f.value.front() != '\t');
            FUZZ_CHECK(f.value.back() != ' ' && f.value.back() != '\t');
        }
        // A field name that some other server could read as a length field never gets through.
        FUZZ_CHECK(!http::name_equals(f.name, "content_length"));
        FUZZ_CHECK(!http::name_equals(f.name, "transfer_encoding"));
        if (http::name_equals(f.name, "content-length")) {
            ++lf.content_length_fields;
            lf.length_valid = decimal(f.value, lf.length);
            FUZZ_CHECK(lf.length_valid);
            FUZZ_CHECK(h.content_length == lf.length);
        } else if (http::name_equals(f.name, "transfer-encoding")) {
            ++lf.transfer_encoding_fields;
            FUZZ_CHECK(http::name_equals(f.value, "chunked"));
        } else if (http::name_equals(f.name, "connection")) {
            connection_fields = true;
            connection_seen |= same_view(f.value, h.connection);
        }
    }
    // `connection` is the value of a Connection field (which one, when there are several, is the
    // forwarding code's business: the forwarded-head checks look at all of them).
    FUZZ_CHECK(connection_fields ? connection_seen : h.connection.empty());
    FUZZ_CHECK(lf.content_length_fields <= 1);
    FUZZ_CHECK(lf.transfer_encoding_fields <= 1);
    FUZZ_CHECK(lf.content_length_fields + lf.transfer_encoding_fields <= 1);
    if (lf.content_length_fields == 0) FUZZ_CHECK(h.content_length == 0);
    if (h.framing == http::body_framing::length) FUZZ_CHECK(h.content_length > 0);
    if (h.framing == http::body_framing::chunked) FUZZ_CHECK(lf.transfer_encoding_fields == 1);
    if (h.framing == http::body_framing::to_eof)
        FUZZ_CHECK(lf.content_length_fields == 0 && lf.transfer_encoding_fields == 0);
    return lf;
}

/// Two parses of the same bytes gave the same head (same views, not only equal text).
inline bool same_common(const http::head_common& a, const http::head_common& b) {
    if (a.field_count != b.field_count || a.version_minor != b.version_minor || a.framing != b.framing ||
        a.content_length != b.content_length || a.head_size != b.head_size || !same_view(a.connection, b.connection))
        return false;
    if (a.flags.connection_close != b.flags.connection_close ||
        a.flags.connection_keep_alive != b.flags.connection_keep_alive ||
        a.flags.connection_upgrade != b.flags.connection_upgrade || a.flags.expect_continue != b.flags.expect_continue)
        return false;
    for (std::size_t i = 0; i < a.field_count; ++i)
        if (!same_view(a.fields[i].name, b.fields[i].name) || !same_view(a.fields[i].value, b.fields[i].value))
            return false;
    return true;
}

}  // namespace bulwark::fuzz
