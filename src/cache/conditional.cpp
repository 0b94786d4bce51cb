// cache/conditional: validators against a stored response: If-None-Match / If-Modified-Since (RFC 9110
// §13.1.2, §13.1.3, §13.2.2), If-Range (§13.1.5), and folding a 304's fields into the stored head
// (RFC 9111 §3.2, §4.3.4). Anything malformed fails the condition, so the client gets the full answer.
#include "cache/policy.hpp"

#include "cache/syntax.hpp"
#include "http/headers.hpp"

namespace bulwark::cache {
namespace {

struct entity_tag {
    bool weak = false;
    std::string_view opaque;  // with its quotes
};

// etagc = %x21 / %x23-7E / obs-text (§8.8.3); a backslash is an ordinary character here.
bool etagc(char c) {
    auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u != 0x7f);
}

// Reads one entity-tag at the start of `s`; returns its length, 0 when there is none.
std::size_t read_etag(std::string_view s, entity_tag& out) {
    std::size_t i = 0;
    out.weak = s.substr(0, 2) == "W/";
    if (out.weak) i = 2;
    if (i >= s.size() || s[i] != '"') return 0;
    std::size_t j = i + 1;
    while (j < s.size() && etagc(s[j])) ++j;
    if (j >= s.size() || s[j] != '"') return 0;
    out.opaque = s.substr(i, j + 1 - i);
    return j + 1;
}

std::optional<entity_tag> parse_etag(std::string_view s) {
    s = trim(s);
    entity_tag t;
    if (read_etag(s, t) != s.size() || s.empty()) return std::nullopt;
    return t;
}

// Walks `1#entity-tag`; false when the list is malformed. Calls f(tag) for each tag.
template <class F>
bool for_each_etag(std::string_view list, F f) {
    std::size_t i = 0;
    bool need_comma = false;
    while (i < list.size()) {
        char c = list[i];
        if (c == ' ' || c == '\t') {
            ++i;
        } else if (c == ',') {
            need_comma = false;
            ++i;
        } else {
            entity_tag t;
            std::size_t n = need_comma ? 0 : read_etag(list.substr(i), t);
            if (n == 0) return false;
            f(t);
            i += n;
            need_comma = true;
        }
    }
    return true;
}

bool weak_match(std::string_view list, const entity_tag& stored) {
    if (trim(list) == "*") return true;  // a stored representation exists
    bool found = false;
    bool ok = for_each_etag(list, [&](const entity_tag& t) { found = found || t.opaque == stored.opaque; });
    return ok && found;
}

// Fields a 304 must not change: they describe the stored body's framing and coding (§3.2).
bool describes_body(std::string_view name) {
    return http::name_equals(name, "content-length") || http::name_equals(name, "content-encoding") ||
           http::name_equals(name, "transfer-encoding") || http::name_equals(name, "content-range");
}

void append_line(std::string& out, const http::field& f) {
    out.append(f.name);
    out.append(": ");
    out.append(f.value);
    out.append("\r\n");
}

}  // namespace

bool if_none_match_matches(std::string_view if_none_match, std::string_view etag) {
    if (trim(if_none_match) == "*") return true;
    auto stored = parse_etag(etag);
    return stored && weak_match(if_none_match, *stored);
}

bool not_modified(const http::request_head& req, std::string_view etag, std::string_view last_modified) {
    if (req.method != "GET" && req.method != "HEAD") return false;  // others get 412, not 304 (§13.1.2)
    // §13.2.2 step 3: If-None-Match decides when present; If-Modified-Since is then ignored.
    if (syntax::count_fields(req, "if-none-match") > 0) {
        bool any = false, star = false, bad = false;
        auto stored = parse_etag(etag);
        syntax::for_each_field(req, "if-none-match", [&](std::string_view v) {
            if (trim(v) == "*") star = true;
            else if (!for_each_etag(v, [&](const entity_tag& t) { any = any || (stored && t.opaque == stored->opaque); }))
                bad = true;
        });
        return !bad && (star || any);
    }
    // §13.1.3: ignored when not a valid HTTP-date or when it has more than one member.
    if (syntax::count_fields(req, "if-modified-since") != 1) return false;
    auto since = parse_http_date(req.get("if-modified-since"));
    auto modified = parse_http_date(last_modified);
    return since && modified && *modified <= *since;
}

bool if_range_allows(std::string_view if_range, std::string_view etag, std::string_view last_modified) {
    if_range = trim(if_range);
    if (if_range.empty()) return true;
    if (if_range.front() == '"' || if_range.substr(0, 2) == "W/") {
        // §13.1.5: strong comparison; a weak tag never allows the range.
        auto want = parse_etag(if_range);
        auto have = parse_etag(etag);
        return want && have && !want->weak && !have->weak && want->opaque == have->opaque;
    }
    auto want = parse_http_date(if_range);
    auto have = parse_http_date(last_modified);
    return want && have && *want == *have;
}

std::string merge_304_fields(const http::head_common& stored, const http::head_common& nm) {
    auto updates = [&nm](const http::field& f) {
        return !describes_body(f.name) && !http::is_hop_by_hop(nm, f.name);
    };
    std::string out;
    for (const http::field& f : stored) {
        if (http::is_hop_by_hop(stored, f.name) || http::name_equals(f.name, "age")) continue;
        bool replaced = false;  // only by a line the 304 may update
        for (const http::field& n : nm)
            if (iequals(n.name, f.name) && updates(n)) replaced = true;
        if (!replaced) append_line(out, f);
    }
    for (const http::field& n : nm)
        if (updates(n)) append_line(out, n);
    return out;
}

}  // namespace bulwark::cache
