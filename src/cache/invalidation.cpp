// cache/invalidation: which stored URIs an unsafe request's success invalidates (RFC 9111 §4.4); other
// hosts' URIs never are, so a response cannot evict entries of a site it does not serve.
#include "cache/policy.hpp"

#include <algorithm>

#include "core/strings.hpp"

namespace bulwark::cache {
namespace {

// RFC 3986 §5.2.4 on the path part (the query is left alone).
std::string remove_dot_segments(std::string_view in) {
    std::string out;
    while (!in.empty()) {
        if (in.starts_with("../")) in.remove_prefix(3);
        else if (in.starts_with("./")) in.remove_prefix(2);
        else if (in.starts_with("/./")) in.remove_prefix(2);
        else if (in == "/.") in = "/";
        else if (in.starts_with("/../") || in == "/..") {
            in = in.size() == 3 ? std::string_view("/") : in.substr(3);
            auto slash = out.rfind('/');
            out.resize(slash == std::string::npos ? 0 : slash);
        } else if (in == "." || in == "..") {
            in = {};
        } else {
            auto next = in.find('/', 1);
            out.append(in.substr(0, next));
            in = next == std::string_view::npos ? std::string_view{} : in.substr(next);
        }
    }
    return out;
}

std::string normalize_path(std::string_view path_and_query) {
    auto q = path_and_query.find('?');
    std::string out = remove_dot_segments(path_and_query.substr(0, q));
    if (out.empty() || out.front() != '/') out.insert(0, 1, '/');
    if (q != std::string_view::npos) out.append(path_and_query.substr(q));
    return out;
}

// Host and port compared case-insensitively, with the scheme's default port implied.
bool same_authority(std::string_view a, std::string_view b, std::string_view scheme) {
    auto strip = [scheme](std::string_view h) {
        if (iequals(scheme, "http") && h.ends_with(":80")) h.remove_suffix(3);
        else if (iequals(scheme, "https") && h.ends_with(":443")) h.remove_suffix(4);
        if (h.ends_with(":")) h.remove_suffix(1);
        return h;
    };
    return !a.empty() && a.find('@') == std::string_view::npos && iequals(strip(a), strip(b));
}

bool is_scheme(std::string_view s) {
    if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
              c == '-' || c == '.'))
            return false;
    return true;
}

// The path ("/a?b") of a Location / Content-Location reference when it names the request's host.
std::optional<std::string> same_host_path(std::string_view ref, const http::request_head& req) {
    ref = trim(ref.substr(0, ref.find('#')));
    if (ref.empty()) return std::nullopt;
    std::string_view scheme = "http";  // only used to imply the default port
    auto colon = ref.find(':');
    auto first_delim = ref.find_first_of("/?");
    if (colon != std::string_view::npos && colon < first_delim) {  // absolute URI
        scheme = ref.substr(0, colon);
        if (!is_scheme(scheme) || !(iequals(scheme, "http") || iequals(scheme, "https"))) return std::nullopt;
        ref.remove_prefix(colon + 1);
        if (!ref.starts_with("//")) return std::nullopt;
    }
    if (ref.starts_with("//")) {  // authority present: must be the request's
        ref.remove_prefix(2);
        auto end = ref.find_first_of("/?");
        if (!same_authority(ref.substr(0, end), req.host, scheme)) return std::nullopt;
        ref = end == std::string_view::npos ? std::string_view{} : ref.substr(end);
        return normalize_path(ref);
    }
    if (ref.front() == '/' || ref.front() == '?') {
        if (ref.front() == '/') return normalize_path(ref);
        auto base = req.target.substr(0, req.target.find('?'));  // "?q" replaces only the query
        return normalize_path(std::string(base) + std::string(ref));
    }
    // Relative path: merge with the request target's directory (RFC 3986 §5.2.3).
    auto base = req.target.substr(0, req.target.find('?'));
    auto slash = base.rfind('/');
    std::string merged(slash == std::string_view::npos ? std::string_view("/") : base.substr(0, slash + 1));
    merged.append(ref);
    return normalize_path(merged);
}

}  // namespace

bool is_unsafe_method(std::string_view method) {
    // RFC 9110 §9.2.1: only these are safe; an unknown method counts as unsafe (§4.4).
    return !(method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE");
}

std::vector<std::string> invalidation_targets(const http::request_head& req, const http::response_head& res) {
    std::vector<std::string> out;
    if (!is_unsafe_method(req.method) || res.status < 200 || res.status >= 400) return out;  // non-error only
    auto add = [&out](std::string p) {
        if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
    };
    // The target as sent: it is what the primary key was built from.
    if (!req.target.empty() && req.target.front() == '/') add(std::string(req.target));
    for (std::string_view name : {"location", "content-location"})
        if (auto p = same_host_path(res.get(name), req)) add(std::move(*p));
    return out;
}

}  // namespace bulwark::cache
