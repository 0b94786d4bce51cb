// cache/syntax: the RFC 9110 field grammar pieces cache/policy's files share (tchar, delta-seconds,
// quoted-string aware list walking); internal to src/cache, never allocates.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/strings.hpp"
#include "http/message.hpp"
#include "http/parser.hpp"

namespace bulwark::cache::syntax {

/// RFC 9111 §1.2.2: a delta-seconds too large to represent is sent on as 2^31.
inline constexpr std::int64_t delta_seconds_max = std::int64_t{1} << 31;

/// RFC 9110 §5.6.2 tchar.
constexpr bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    for (char x : std::string_view("!#$%&'*+-.^_`|~"))
        if (c == x) return true;
    return false;
}

constexpr bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// 1*DIGIT, saturating at 2^31 (§1.2.2); nullopt for anything else (sign, space, empty).
constexpr std::optional<std::int64_t> parse_delta_seconds(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::int64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        if (v < delta_seconds_max) v = v * 10 + (c - '0');
    }
    return v < delta_seconds_max ? v : delta_seconds_max;
}

/// Length of the quoted-string starting at s[0] == '"' (quotes included), 0 when unterminated.
constexpr std::size_t quoted_length(std::string_view s) {
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '"') return i + 1;
    }
    return 0;
}

/// Calls `f(element)` for each trimmed, non-empty element of a #list (RFC 9110 §5.6.1: empty
/// elements are ignored), splitting on commas outside quoted-strings. Returns false when a quote is
/// left open (the list is malformed); stops early, returning true, when f returns true.
template <class F>
constexpr bool for_each_element(std::string_view list, F f) {
    std::size_t start = 0, i = 0;
    while (i <= list.size()) {
        if (i == list.size() || list[i] == ',') {
            auto e = trim(list.substr(start, i - start));
            if (!e.empty() && f(e)) return true;
            start = ++i;
        } else if (list[i] == '"') {
            auto n = quoted_length(list.substr(i));
            if (n == 0) return false;
            i += n;
        } else {
            ++i;
        }
    }
    return true;
}

/// Calls `f(value)` for every field named `lower_name` in `head`, in order.
template <class F>
void for_each_field(const http::head_common& head, std::string_view lower_name, F f) {
    for (const http::field& fl : head)
        if (http::name_equals(fl.name, lower_name)) f(fl.value);
}

inline std::size_t count_fields(const http::head_common& head, std::string_view lower_name) {
    std::size_t n = 0;
    for_each_field(head, lower_name, [&n](std::string_view) { ++n; });
    return n;
}

}  // namespace bulwark::cache::syntax
