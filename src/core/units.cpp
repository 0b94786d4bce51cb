// core/units: one strict reader for every number in the config; rejects signs, spaces and overflow.
#include "core/units.hpp"

#include <limits>

namespace bulwark {

std::optional<std::uint64_t> parse_uint(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;  // 19 digits always fit in 64 bits
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

namespace {

// Splits "64k" into ("64", "k").
std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return {text.substr(0, i), text.substr(i)};
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::optional<std::uint64_t> scaled(std::uint64_t v, std::uint64_t unit) {
    if (v > std::numeric_limits<std::uint64_t>::max() / unit) return std::nullopt;
    return v * unit;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
    auto [digits, suffix] = split_number(text);
    auto v = parse_uint(digits);
    if (!v) return std::nullopt;
    if (suffix.empty()) return v;
    if (iequals(suffix, "k")) return scaled(*v, 1024ULL);
    if (iequals(suffix, "m")) return scaled(*v, 1024ULL * 1024);
    if (iequals(suffix, "g")) return scaled(*v, 1024ULL * 1024 * 1024);
    return std::nullopt;
}

std::optional<milliseconds> parse_duration(std::string_view text) {
    auto [digits, suffix] = split_number(text);
    auto v = parse_uint(digits);
    if (!v) return std::nullopt;
    std::uint64_t unit;
    if (suffix.empty() || suffix == "s") unit = 1000;
    else if (suffix == "ms") unit = 1;
    else if (suffix == "m") unit = 60'000;
    else if (suffix == "h") unit = 3'600'000;
    else if (suffix == "d") unit = 86'400'000;
    else return std::nullopt;
    auto ms = scaled(*v, unit);
    if (!ms || *ms > static_cast<std::uint64_t>(std::numeric_limits<milliseconds::rep>::max()))
        return std::nullopt;
    return milliseconds(static_cast<milliseconds::rep>(*ms));
}

}  // namespace bulwark
