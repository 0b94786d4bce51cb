// config/cache_values: the typed values of the cache keys ([cache] and the route's cache_*); each
// returns an error message naming what is allowed, or an empty string.
#include <algorithm>

#include "config/values.hpp"
#include "core/strings.hpp"
#include "core/units.hpp"

namespace bulwark::config {
namespace {

bool is_tchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Statuses cacheable by default (RFC 9110 §15.1), used when cache_valid names only a duration.
constexpr int default_valid_statuses[] = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501};

}  // namespace

std::string parse_cache_valid(std::string_view text, std::vector<std::pair<int, std::int64_t>>& out) {
    std::vector<std::string_view> words;
    for (std::size_t at = 0; at < text.size();) {
        auto end = text.find(' ', at);
        if (end == std::string_view::npos) end = text.size();
        if (end > at) words.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    constexpr const char* usage = "expected statuses (or any) then a duration, e.g. 200 301 10m";
    if (words.empty()) return usage;
    auto d = parse_duration(words.back());
    if (!d) return usage;
    const std::int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(*d).count();
    words.pop_back();
    if (words.empty()) {
        for (int s : default_valid_statuses) out.emplace_back(s, seconds);
        return {};
    }
    for (auto w : words) {
        if (w == "any") {
            out.emplace_back(0, seconds);
            continue;
        }
        auto code = parse_uint(w);
        if (!code || *code < 200 || *code > 599) return usage;
        out.emplace_back(static_cast<int>(*code), seconds);
    }
    return {};
}

std::string parse_cache_methods(std::string_view text, std::vector<std::string>& out) {
    out.clear();
    for (std::size_t at = 0; at < text.size();) {
        auto end = text.find(' ', at);
        if (end == std::string_view::npos) end = text.size();
        std::string_view m = text.substr(at, end - at);
        at = end + 1;
        if (m.empty()) continue;
        if (m != "GET" && m != "HEAD") return "expected GET and/or HEAD (other methods are never answered from the cache)";
        if (std::find(out.begin(), out.end(), m) == out.end()) out.emplace_back(m);
    }
    if (out.empty()) return "expected GET and/or HEAD";
    return {};
}

std::string check_cache_key(std::string_view text) {
    static constexpr std::string_view vars[] = {"$scheme", "$host", "$request_uri", "$uri", "$args", "$method"};
    for (std::size_t at = text.find('$'); at != std::string_view::npos; at = text.find('$', at + 1)) {
        std::string_view rest = text.substr(at);
        bool known = rest.starts_with("$http_") && rest.size() > 6 && is_tchar(rest[6]);
        for (auto v : vars) known |= rest.starts_with(v);
        if (!known) return "unknown variable; allowed: $scheme $host $request_uri $uri $args $method $http_NAME";
    }
    return {};
}

std::string check_field_name(std::string_view text) {
    if (text == "off") return {};
    if (text.empty() || !std::all_of(text.begin(), text.end(), is_tchar)) return "expected a header field name or off";
    return {};
}

}  // namespace bulwark::config
