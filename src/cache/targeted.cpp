// cache/targeted: one line of a targeted cache-control field (RFC 9213 §2.1) read as an RFC 8941
// Dictionary; any syntax error rejects the line, a value of the wrong type is simply not consumed.
#include "cache/targeted.hpp"

#include "cache/syntax.hpp"

namespace bulwark::cache {
namespace {

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

}  // namespace

bool parse_targeted_line(std::string_view line, cache_control& cc) {
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

}  // namespace bulwark::cache
