// cache/cache_control: Cache-Control (RFC 9111 §5.2) parsed into one struct (a bad argument or a
// conflicting duplicate sets `malformed`), and the choice between it and the targeted fields (RFC 9213).
#include "cache/policy.hpp"

#include "cache/syntax.hpp"
#include "cache/targeted.hpp"

namespace bulwark::cache {
namespace {

using syntax::parse_delta_seconds;

// ---- Cache-Control: #( token [ "=" ( token / quoted-string ) ] ) -----------------------------------

struct directive {
    std::string_view name, arg;
    bool has_arg = false;
};

// One list element; false when it is not a directive (bad name, bad argument, text after a quote).
bool split_directive(std::string_view e, directive& d) {
    auto eq = e.find('=');
    d.name = e.substr(0, eq);
    d.has_arg = eq != std::string_view::npos;
    if (!syntax::is_token(d.name)) return false;
    if (!d.has_arg) return true;
    d.arg = e.substr(eq + 1);
    if (!d.arg.empty() && d.arg.front() == '"') {
        if (syntax::quoted_length(d.arg) != d.arg.size()) return false;
        d.arg = d.arg.substr(1, d.arg.size() - 2);  // escapes stay: no defined argument needs them
        return true;
    }
    return syntax::is_token(d.arg);
}

// A delta-seconds argument; §4.2.1: a second, different value is treated as invalid freshness.
void set_seconds(std::optional<std::int64_t>& slot, const directive& d, cache_control& cc) {
    auto v = d.has_arg ? parse_delta_seconds(d.arg) : std::nullopt;
    if (!v || (slot && *slot != *v)) {
        cc.malformed = true;
        return;
    }
    slot = v;
}

// A directive defined without an argument (§5.2: "no argument is defined (nor allowed)").
void set_flag(bool& slot, const directive& d, cache_control& cc) {
    if (d.has_arg) cc.malformed = true;
    slot = true;
}

void apply(const directive& d, cache_control& cc) {
    auto is = [&d](std::string_view n) { return iequals(d.name, n); };
    if (is("max-age")) set_seconds(cc.max_age, d, cc);
    else if (is("s-maxage")) set_seconds(cc.s_maxage, d, cc);
    else if (is("stale-while-revalidate")) set_seconds(cc.stale_while_revalidate, d, cc);
    else if (is("stale-if-error")) set_seconds(cc.stale_if_error, d, cc);
    else if (is("min-fresh")) set_seconds(cc.min_fresh, d, cc);
    else if (is("max-stale")) {
        if (d.has_arg) set_seconds(cc.max_stale, d, cc);
        else cc.max_stale_any = true;
    } else if (is("no-cache")) {
        cc.no_cache = true;  // no-cache="field" is handled as plain no-cache (§5.2.2.4 allows it)
        if (d.has_arg) cc.no_cache_fields = true;
    } else if (is("private")) {
        cc.private_ = true;  // private="field": a shared cache may not store the response either way here
        if (d.has_arg) cc.private_fields = true;
    } else if (is("no-store")) set_flag(cc.no_store, d, cc);
    else if (is("public")) set_flag(cc.public_, d, cc);
    else if (is("must-revalidate")) set_flag(cc.must_revalidate, d, cc);
    else if (is("proxy-revalidate")) set_flag(cc.proxy_revalidate, d, cc);
    else if (is("no-transform")) set_flag(cc.no_transform, d, cc);
    else if (is("immutable")) set_flag(cc.immutable, d, cc);
    else if (is("only-if-cached")) set_flag(cc.only_if_cached, d, cc);
    else if (is("must-understand")) set_flag(cc.must_understand, d, cc);
    // §5.2.3: unrecognised directives are ignored.
}

void parse_classic(std::string_view value, cache_control& cc) {
    bool ok = syntax::for_each_element(value, [&cc](std::string_view e) {
        directive d;
        if (!split_directive(e, d)) cc.malformed = true;
        else apply(d, cc);
        return false;
    });
    if (!ok) cc.malformed = true;
}

}  // namespace

cache_control parse_cache_control(const http::head_common& head, std::string_view name) {
    cache_control cc;
    const bool targeted = name != "cache-control" && name != "pragma";
    bool non_empty = false;
    syntax::for_each_field(head, name, [&](std::string_view value) {
        cc.present = true;
        if (!trim(value).empty()) non_empty = true;
        if (targeted) {
            if (!parse_targeted_line(value, cc)) cc.malformed = true;
        } else {
            parse_classic(value, cc);
        }
    });
    // RFC 9213 §2.1: an empty targeted field is ignored as if absent.
    if (targeted && !non_empty) cc = cache_control{};
    return cc;
}

cache_control response_cache_control(const http::response_head& res, const route_cache_settings& settings) {
    if (!settings.targeted_field.empty() && settings.targeted_field != "cache-control") {
        auto own = parse_cache_control(res, settings.targeted_field);
        if (own.present && !own.malformed) return own;
    }
    auto cdn = parse_cache_control(res, "cdn-cache-control");
    if (cdn.present && !cdn.malformed) return cdn;
    return parse_cache_control(res, "cache-control");
}

}  // namespace bulwark::cache
