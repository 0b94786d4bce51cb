// cache/cache_control: Cache-Control (RFC 9111 §5.2) and targeted fields (RFC 9213, Structured Field
// dictionaries) parsed into one struct; a bad argument or a conflicting duplicate sets `malformed`.
#include "cache/policy.hpp"

#include "cache/syntax.hpp"

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

// ---- targeted fields: RFC 8941 Dictionary (RFC 9213 §2.1) -------------------------------------------

enum class item_kind { none, integer, other_number, string, token, bytes, boolean_true, boolean_false, inner_list };

struct sf_item {
    item_kind kind = item_kind::none;
    std::int64_t integer = 0;  // saturated at 2^31 (§1.2.2); negative values stay negative
};

struct sf_reader {
    std::string_view s;
    std::size_t i = 0;

    bool at_end() const { return i >= s.size(); }
    char peek() const { return at_end() ? '\0' : s[i]; }
    void skip_sp() {
        while (peek() == ' ') ++i;
    }
    void skip_ows() {
        while (peek() == ' ' || peek() == '\t') ++i;
    }

    static bool lcalpha(char c) { return c >= 'a' && c <= 'z'; }
    static bool alpha(char c) { return lcalpha(c) || (c >= 'A' && c <= 'Z'); }

    bool key(std::string_view& out) {
        std::size_t b = i;
        if (!lcalpha(peek()) && peek() != '*') return false;
        while (!at_end() && (lcalpha(s[i]) || syntax::is_digit(s[i]) || s[i] == '_' || s[i] == '-' ||
                             s[i] == '.' || s[i] == '*'))
            ++i;
        out = s.substr(b, i - b);
        return true;
    }

    bool number(sf_item& item) {
        bool neg = peek() == '-';
        if (neg) ++i;
        std::size_t b = i, n = 0;
        std::int64_t v = 0;
        while (syntax::is_digit(peek())) {
            if (v < syntax::delta_seconds_max) v = v * 10 + (s[i] - '0');
            ++i, ++n;
        }
        if (n == 0 || n > 15) return false;
        if (peek() == '.') {  // decimal: valid SF, but not a delta-seconds
            ++i;
            std::size_t f = 0;
            while (syntax::is_digit(peek())) ++i, ++f;
            if (f == 0 || f > 3 || i - b - f - 1 > 12) return false;
            item.kind = item_kind::other_number;
            return true;
        }
        item.kind = item_kind::integer;
        item.integer = neg ? -v : (v < syntax::delta_seconds_max ? v : syntax::delta_seconds_max);
        return true;
    }

    bool bare_item(sf_item& item) {
        char c = peek();
        if (c == '-' || syntax::is_digit(c)) return number(item);
        if (c == '"') {
            for (++i; !at_end(); ++i) {
                auto u = static_cast<unsigned char>(s[i]);
                if (s[i] == '\\') {
                    if (++i >= s.size() || (s[i] != '"' && s[i] != '\\')) return false;
                } else if (s[i] == '"') {
                    ++i;
                    item.kind = item_kind::string;
                    return true;
                } else if (u < 0x20 || u > 0x7e) {
                    return false;
                }
            }
            return false;
        }
        if (c == '?') {
            ++i;
            if (peek() != '0' && peek() != '1') return false;
            item.kind = s[i++] == '1' ? item_kind::boolean_true : item_kind::boolean_false;
            return true;
        }
        if (c == ':') {
            for (++i; !at_end() && s[i] != ':'; ++i) {
                char b = s[i];
                if (!alpha(b) && !syntax::is_digit(b) && b != '+' && b != '/' && b != '=') return false;
            }
            if (at_end()) return false;
            ++i;
            item.kind = item_kind::bytes;
            return true;
        }
        if (alpha(c) || c == '*') {
            while (!at_end() && (syntax::is_tchar(s[i]) || s[i] == ':' || s[i] == '/')) ++i;
            item.kind = item_kind::token;
            return true;
        }
        return false;
    }

    bool parameters() {  // parsed for syntax, then ignored (RFC 9213 §2.1)
        while (peek() == ';') {
            ++i;
            skip_sp();
            std::string_view k;
            if (!key(k)) return false;
            if (peek() == '=') {
                ++i;
                sf_item ignored;
                if (!bare_item(ignored)) return false;
            }
        }
        return true;
    }

    bool item_or_inner_list(sf_item& item) {
        if (peek() != '(') return bare_item(item) && parameters();
        ++i;
        for (;;) {
            skip_sp();
            if (peek() == ')') {
                ++i;
                item.kind = item_kind::inner_list;
                return parameters();
            }
            sf_item member;
            if (!bare_item(member) || !parameters()) return false;
            if (peek() != ' ' && peek() != ')') return false;
        }
    }
};

// RFC 9213 §2.1: values that violate a directive's inferred type are not consumed; a later member
// with the same key replaces an earlier one (RFC 8941 §4.2.2).
void apply_targeted(std::string_view key, const sf_item& v, cache_control& cc) {
    auto seconds = [&v](std::optional<std::int64_t>& slot) {
        if (v.kind == item_kind::integer && v.integer >= 0) slot = v.integer;
        else slot.reset();
    };
    auto flag = [&v](bool& slot) { slot = v.kind == item_kind::boolean_true; };
    if (key == "max-age") seconds(cc.max_age);
    else if (key == "s-maxage") seconds(cc.s_maxage);
    else if (key == "stale-while-revalidate") seconds(cc.stale_while_revalidate);
    else if (key == "stale-if-error") seconds(cc.stale_if_error);
    else if (key == "no-cache" || key == "private") {
        bool& on = key == "no-cache" ? cc.no_cache : cc.private_;
        bool& fields = key == "no-cache" ? cc.no_cache_fields : cc.private_fields;
        on = v.kind == item_kind::boolean_true || v.kind == item_kind::string;
        fields = v.kind == item_kind::string;
    } else if (key == "no-store") flag(cc.no_store);
    else if (key == "public") flag(cc.public_);
    else if (key == "must-revalidate") flag(cc.must_revalidate);
    else if (key == "proxy-revalidate") flag(cc.proxy_revalidate);
    else if (key == "no-transform") flag(cc.no_transform);
    else if (key == "immutable") flag(cc.immutable);
    else if (key == "must-understand") flag(cc.must_understand);
}

// One field line as a Dictionary; false on any parse error (the whole field is then ignored, §2.1).
bool parse_dictionary(std::string_view line, cache_control& cc) {
    sf_reader r{line};
    r.skip_sp();
    if (r.at_end()) return true;
    for (;;) {
        std::string_view k;
        if (!r.key(k)) return false;
        sf_item v;
        if (r.peek() == '=') {
            ++r.i;
            if (!r.item_or_inner_list(v)) return false;
        } else {
            v.kind = item_kind::boolean_true;
            if (!r.parameters()) return false;
        }
        apply_targeted(k, v, cc);
        r.skip_ows();
        if (r.at_end()) return true;
        if (r.peek() != ',') return false;
        ++r.i;
        r.skip_ows();
        if (r.at_end()) return false;  // trailing comma
    }
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
            if (!parse_dictionary(value, cc)) cc.malformed = true;
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
