// core/strings: the small string helpers every module needs, in one place.
#pragma once

#include <string_view>

namespace bulwark {

/// Without leading and trailing characters from `chars` (by default HTTP's OWS: space and tab). The
/// result always points into `v` (an all-blank input gives the empty view at its end), so parsed
/// fields stay views into the read buffer.
constexpr std::string_view trim(std::string_view v, std::string_view chars = " \t") {
    // A plain loop: find_first_not_of costs a memchr per character, and this runs on every field.
    auto blank = [chars](char c) {
        for (char x : chars)
            if (c == x) return true;
        return false;
    };
    std::size_t b = 0, e = v.size();
    while (b < e && blank(v[b])) ++b;
    while (e > b && blank(v[e - 1])) --e;
    return v.substr(b, e - b);
}

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }

/// ASCII case-insensitive equality (header names, tokens).
constexpr bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

/// Calls `f(token)` for each trimmed element of a comma-separated list; stops when f returns true,
/// and returns whether it did.
template <class F>
constexpr bool any_list_item(std::string_view list, F f) {
    while (!list.empty()) {
        auto comma = list.find(',');
        if (f(trim(list.substr(0, comma)))) return true;
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    return false;
}

}  // namespace bulwark
