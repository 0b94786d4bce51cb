// config/values: one reader per value type, all strict (no trailing junk, no silent clamping).
#include "config/values.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/cidr.hpp"
#include "core/strings.hpp"
#include "core/units.hpp"

namespace bulwark::config {
namespace {

bool has_space(std::string_view s) {
    return s.find_first_of(" \t") != std::string_view::npos;
}

std::string out_of_range(const key_spec& key) {
    return "must be within " + std::string(key.allowed);
}

}  // namespace

bool parse_range(const key_spec& key, std::uint64_t& lo, std::uint64_t& hi) {
    auto dots = key.allowed.find("..");
    if (dots == std::string_view::npos) return false;
    auto read = [&](std::string_view t) {
        return key.type == value_type::size ? parse_size(t) : parse_uint(t);
    };
    auto a = read(key.allowed.substr(0, dots));
    auto b = read(key.allowed.substr(dots + 2));
    if (!a || !b) return false;
    lo = *a;
    hi = *b;
    return true;
}

std::string parse_endpoint(std::string_view text, endpoint& out) {
    constexpr const char* form = "expected IPv4:port or [IPv6]:port with a numeric address, e.g. 127.0.0.1:8080";
    std::string_view host, port;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return form;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        out.ipv6 = true;
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return form;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host == "*") host = "0.0.0.0";
        out.ipv6 = false;
    }
    auto p = parse_uint(port);
    if (!p || *p == 0 || *p > 65535) return "port must be within 1..65535";
    std::string h(host);
    unsigned char buf[sizeof(in6_addr)];
    int family = out.ipv6 ? AF_INET6 : AF_INET;
    if (inet_pton(family, h.c_str(), buf) != 1) return form;
    // Canonical spelling, so [0:0::1] and [::1] are recognised as the same address.
    char canonical[INET6_ADDRSTRLEN];
    out.host = inet_ntop(family, buf, canonical, sizeof canonical) ? canonical : h;
    out.port = static_cast<std::uint16_t>(*p);
    return {};
}

std::string parse_server(std::string_view text, server& out) {
    auto space = text.find_first_of(" \t");
    std::string err = parse_endpoint(text.substr(0, space), out.address);
    if (!err.empty()) return err;
    while (space != std::string_view::npos) {
        text = text.substr(space);
        auto start = text.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        text = text.substr(start);
        space = text.find_first_of(" \t");
        std::string_view opt = text.substr(0, space);
        if (opt.starts_with("weight=")) {
            auto w = parse_uint(opt.substr(7));
            if (!w || *w < 1 || *w > 1000) return "weight must be within 1..1000";
            out.weight = static_cast<unsigned>(*w);
        } else if (opt.starts_with("max_conns=")) {
            auto m = parse_uint(opt.substr(10));
            if (!m || *m > 1000000) return "max_conns must be within 0..1000000";
            out.max_conns = static_cast<unsigned>(*m);
        } else if (opt == "backup") {
            out.backup = true;
        } else if (opt == "tls") {
            out.tls = true;
        } else {
            return "unknown server option '" + std::string(opt) + "' (allowed: weight=N, max_conns=N, backup, tls)";
        }
    }
    return {};
}

std::string check_value(const key_spec& key, std::string_view value) {
    using enum value_type;
    if (value.empty()) return "needs a value";
    std::uint64_t lo = 0, hi = 0;
    bool ranged = parse_range(key, lo, hi);
    switch (key.type) {
    case count_or_auto:
        if (value == "auto") return {};
        [[fallthrough]];
    case count: {
        auto v = parse_uint(value);
        if (!v) return key.type == count ? "expected a number" : "expected a number or auto";
        if (ranged && (*v < lo || *v > hi)) return out_of_range(key);
        return {};
    }
    case size: {
        auto v = parse_size(value);
        if (!v) return "expected a size such as 512, 64k, 1m or 1g";
        if (ranged && (*v < lo || *v > hi)) return out_of_range(key);
        return {};
    }
    case duration:
        if (!parse_duration(value)) return "expected a duration such as 500ms, 30s, 5m or 1h";
        return {};
    case text:
    case reference:
        if (has_space(value)) return "expected a single word";
        return {};
    case path:
    case phrase:
        return {};
    case log_target:
        if (value == "off" && key.allowed.find("off") == std::string_view::npos)
            return "cannot be off (allowed: " + std::string(key.allowed) + ")";
        return {};
    case choice: {
        std::string_view rest = key.allowed;
        while (!rest.empty()) {
            auto bar = rest.find('|');
            if (rest.substr(0, bar) == value) return {};
            rest = (bar == std::string_view::npos) ? std::string_view{} : rest.substr(bar + 1);
        }
        return "must be one of " + std::string(key.allowed);
    }
    case endpoint: {
        bulwark::config::endpoint e;
        return parse_endpoint(value, e);
    }
    case server: {
        bulwark::config::server s;
        return parse_server(value, s);
    }
    case url_prefix:
        if (value[0] != '/' || has_space(value)) return "must start with / and contain no spaces";
        return {};
    case cidr:
        if (!bulwark::cidr::parse(value)) return "expected an address range such as 10.0.0.0/8 or 2001:db8::/32";
        return {};
    }
    return {};
}

}  // namespace bulwark::config

namespace bulwark::config {

std::string parse_request_key(std::string_view text, bool for_limit, request_key& out) {
    if (text == "client_ip") out = {request_key::kind::client_ip, {}};
    else if (text == "uri" && !for_limit) out = {request_key::kind::uri, {}};
    else if (text == "route" && for_limit) out = {request_key::kind::route, {}};
    else if (text.starts_with("header:") && text.size() > 7) {
        out = {request_key::kind::header, std::string(text.substr(7))};
        for (char& c : out.header) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
    } else {
        return for_limit ? "expected client_ip, route or header:NAME" : "expected uri, client_ip or header:NAME";
    }
    return {};
}

std::string parse_health_request(std::string_view text, health_check& out) {
    auto space = text.find(' ');
    std::string_view method = text.substr(0, space);
    std::string_view path = space == std::string_view::npos ? std::string_view{} : trim(text.substr(space));
    if (method.empty() || path.empty() || path[0] != '/' || path.find(' ') != std::string_view::npos)
        return "expected a method and a path, e.g. GET /healthz";
    out.enabled = true;
    out.method = method;
    out.path = path;
    return {};
}

std::string parse_status_range(std::string_view text, int& low, int& high) {
    auto dash = text.find('-');
    auto lo = parse_uint(text.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : parse_uint(text.substr(dash + 1));
    if (!lo || !hi || *lo < 100 || *hi > 599 || *lo > *hi) return "expected a status or a range such as 200-399";
    low = static_cast<int>(*lo);
    high = static_cast<int>(*hi);
    return {};
}

std::string parse_rate(std::string_view text, double& per_second) {
    auto slash = text.find('/');
    auto n = parse_uint(text.substr(0, slash));
    std::string_view unit = slash == std::string_view::npos ? std::string_view{} : text.substr(slash + 1);
    if (!n || *n == 0 || (unit != "s" && unit != "m")) return "expected requests per second or minute, e.g. 100/s or 30/m";
    per_second = unit == "s" ? static_cast<double>(*n) : static_cast<double>(*n) / 60.0;
    return {};
}

std::string parse_status_list(std::string_view text, std::vector<int>& out) {
    out.clear();
    while (!text.empty()) {
        auto comma = text.find(',');
        auto code = parse_uint(trim(text.substr(0, comma)));
        if (!code || *code < 100 || *code > 599) return "expected status codes such as 401,403";
        out.push_back(static_cast<int>(*code));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    }
    return {};
}

}  // namespace bulwark::config
