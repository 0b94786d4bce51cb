// cache/key: template expansion; no allocation beyond `out` growing once per worker.
#include "cache/key.hpp"

#include "core/strings.hpp"

namespace bulwark::cache {
namespace {

std::string_view host_part(std::string_view host) {
    if (!host.empty() && host[0] == '[') return host.substr(0, host.find(']') + 1);
    return host.substr(0, host.find(':'));
}

void append_lower(std::string& out, std::string_view v) {
    for (char c : v) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c);
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// The request's value of an $http_NAME variable (nginx spelling: '_' stands for '-').
std::string_view header_value(const http::request_head& req, std::string_view var_name) {
    for (const http::field& f : req) {
        if (f.name.size() != var_name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < var_name.size() && same; ++i) {
            char a = f.name[i] >= 'A' && f.name[i] <= 'Z' ? static_cast<char>(f.name[i] | 0x20) : f.name[i];
            char b = var_name[i] == '_' ? '-' : var_name[i];
            b = b >= 'A' && b <= 'Z' ? static_cast<char>(b | 0x20) : b;
            same = a == b;
        }
        if (same) return f.value;
    }
    return {};
}

}  // namespace

void build_key(std::string_view tmpl, const key_inputs& in, std::string& out) {
    out.clear();
    const http::request_head& req = *in.req;
    const std::string_view target = in.target.empty() ? req.target : in.target;
    const auto query = target.find('?');
    for (std::size_t i = 0; i < tmpl.size();) {
        if (tmpl[i] != '$') {
            out.push_back(tmpl[i++]);
            continue;
        }
        std::size_t end = i + 1;
        while (end < tmpl.size() && is_name_char(tmpl[end])) ++end;
        std::string_view var = tmpl.substr(i + 1, end - i - 1);
        // The longest known variable that prefixes the name wins ($hostx is $host then "x").
        auto take = [&](std::string_view name) {
            if (!var.starts_with(name)) return false;
            end = i + 1 + name.size();
            return true;
        };
        if (var.starts_with("http_") && var.size() > 5) out.append(header_value(req, var.substr(5)));
        else if (take("scheme")) out.append(in.scheme);
        else if (take("host")) append_lower(out, host_part(req.host));
        else if (take("request_uri")) out.append(target);
        else if (take("uri")) out.append(target.substr(0, query));
        else if (take("args")) out.append(query == std::string_view::npos ? std::string_view{} : target.substr(query + 1));
        else if (take("method")) out.append(req.method);
        else {
            out.push_back('$');  // validated at load: not reached with a checked template
            end = i + 1;
        }
        i = end;
    }
}

}  // namespace bulwark::cache
