// cache/vary: the secondary cache key (RFC 9111 §4.1): Vary's field names, and the request's values
// for them normalised only where two spellings provably select the same representation.
#include "cache/policy.hpp"

#include <algorithm>

#include "cache/syntax.hpp"

namespace bulwark::cache {
namespace {

std::string lower_copy(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

// RFC 9110 §12.4.2 qvalue in thousandths; -1 when malformed.
int parse_qvalue(std::string_view v) {
    if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
    int q = (v[0] - '0') * 1000;
    if (v.size() == 1) return q;
    if (v[1] != '.' || v.size() > 5) return -1;
    int scale = 100;
    for (char c : v.substr(2)) {
        if (!syntax::is_digit(c) || (q == 1000 && c != '0')) return -1;
        q += (c - '0') * scale;
        scale /= 10;
    }
    return q;
}

// The codings this proxy tells apart (RFC 9110 §12.5.3); -1 = not listed.
struct accept_encoding {
    int gzip = -1, br = -1, zstd = -1, identity = -1, any = -1;
};

// One element "coding *( OWS ; OWS param )"; an element whose q is malformed is dropped.
void add_coding(std::string_view e, accept_encoding& ae) {
    auto semi = e.find(';');
    std::string_view coding = trim(e.substr(0, semi));
    int q = 1000;
    while (semi != std::string_view::npos) {
        e.remove_prefix(semi + 1);
        semi = e.find(';');
        std::string_view p = trim(e.substr(0, semi));
        auto eq = p.find('=');
        if (eq == std::string_view::npos || !iequals(trim(p.substr(0, eq)), "q")) continue;
        q = parse_qvalue(trim(p.substr(eq + 1)));
        if (q < 0) return;
    }
    int* slot = nullptr;
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) slot = &ae.gzip;
    else if (iequals(coding, "br")) slot = &ae.br;
    else if (iequals(coding, "zstd")) slot = &ae.zstd;
    else if (iequals(coding, "identity")) slot = &ae.identity;
    else if (coding == "*") slot = &ae.any;
    if (slot) *slot = std::max(*slot, q);  // listed twice: the more permissive weight
}

void append_accept_encoding(const http::request_head& req, std::string& key) {
    accept_encoding ae;
    syntax::for_each_field(req, "accept-encoding", [&ae](std::string_view v) {
        syntax::for_each_element(v, [&ae](std::string_view e) {
            add_coding(e, ae);
            return false;
        });
    });
    auto ok = [&ae](int q) { return q >= 0 ? q > 0 : ae.any > 0; };
    // §12.5.3: identity is acceptable unless excluded by identity;q=0 or by *;q=0 without identity.
    const bool identity = ae.identity >= 0 ? ae.identity > 0 : ae.any != 0;
    std::size_t start = key.size();
    auto add = [&](bool on, std::string_view name) {
        if (!on) return;
        if (key.size() > start) key += ',';
        key += name;
    };
    add(ok(ae.br), "br");
    add(ok(ae.gzip), "gzip");
    add(identity, "identity");
    add(ok(ae.zstd), "zstd");
}

// All lines of the field as one list, elements trimmed and joined by ",". A line with an open quote
// is kept whole (trimmed): it cannot be split soundly.
void append_combined(const http::request_head& req, std::string_view name, std::string& key) {
    const std::size_t start = key.size();
    syntax::for_each_field(req, name, [&](std::string_view v) {
        const std::size_t line_start = key.size();
        bool ok = syntax::for_each_element(v, [&](std::string_view e) {
            if (key.size() > start) key += ',';
            key += e;
            return false;
        });
        if (ok) return;
        key.resize(line_start);
        if (key.size() > start) key += ',';
        key += trim(v);
    });
}

}  // namespace

std::optional<std::vector<std::string>> parse_vary(const http::head_common& res, std::size_t max_fields) {
    std::vector<std::string> names;
    bool star = false, bad = false;
    syntax::for_each_field(res, "vary", [&](std::string_view v) {
        bool ok = syntax::for_each_element(v, [&](std::string_view e) {
            if (e == "*") star = true;
            else if (!syntax::is_token(e)) bad = true;
            else {
                std::string n = lower_copy(e);
                if (std::find(names.begin(), names.end(), n) != names.end()) return false;
                if (names.size() == max_fields) bad = true;
                else names.push_back(std::move(n));
            }
            return bad;
        });
        if (!ok) bad = true;
    });
    if (bad) return std::nullopt;
    if (star) return std::vector<std::string>{"*"};
    std::sort(names.begin(), names.end());
    return names;
}

std::string variant_key(const http::request_head& req, const std::vector<std::string>& vary_fields) {
    std::string key;
    for (const std::string& name : vary_fields) {
        if (!key.empty()) key += '\n';
        key += name;
        // §4.1: an absent field only matches an absent field, so "name" and "name=" differ.
        if (syntax::count_fields(req, name) == 0) continue;
        key += '=';
        if (name == "accept-encoding") append_accept_encoding(req, key);
        else append_combined(req, name, key);
    }
    return key;
}

}  // namespace bulwark::cache
