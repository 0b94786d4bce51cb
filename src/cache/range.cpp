// cache/range: the Range field (RFC 9110 §14.1.2, §14.2) against a stored representation's length;
// anything that is not a clean, small, non-overlapping bytes range-set is ignored (a 200 is always safe).
#include "cache/policy.hpp"

#include <algorithm>
#include <limits>

#include "cache/syntax.hpp"

namespace bulwark::cache {
namespace {

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

// 1*DIGIT, saturating (a first-pos beyond any length is just unsatisfiable); false when not digits.
bool parse_pos(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    out = 0;
    for (char c : s) {
        if (!syntax::is_digit(c)) return false;
        auto d = static_cast<std::uint64_t>(c - '0');
        out = out > (u64_max - d) / 10 ? u64_max : out * 10 + d;
    }
    return true;
}

struct spec {
    bool suffix = false;
    std::uint64_t first = 0, last = u64_max;  // last = u64_max: open-ended
};

bool parse_spec(std::string_view e, spec& s) {
    auto dash = e.find('-');
    if (dash == std::string_view::npos) return false;
    std::string_view a = e.substr(0, dash), b = e.substr(dash + 1);
    if (a.empty()) {  // suffix-range = "-" suffix-length
        s.suffix = true;
        return parse_pos(b, s.first);
    }
    if (!parse_pos(a, s.first)) return false;
    if (b.empty()) return true;
    return parse_pos(b, s.last) && s.last >= s.first;  // §14.1.1: last < first is invalid
}

// §14.1.1 satisfiable ranges, clamped to the representation.
bool resolve(const spec& s, std::uint64_t length, byte_range& r) {
    if (s.suffix) {
        if (s.first == 0 || length == 0) return false;
        r.first = length - std::min(s.first, length);
        r.last = length - 1;
        return true;
    }
    if (s.first >= length) return false;
    r.first = s.first;
    r.last = std::min(s.last, length - 1);
    return true;
}

bool overlapping(const std::vector<byte_range>& v) {  // at most max_ranges entries: quadratic is fine
    for (std::size_t i = 0; i < v.size(); ++i)
        for (std::size_t j = i + 1; j < v.size(); ++j)
            if (v[i].first <= v[j].last && v[j].first <= v[i].last) return true;
    return false;
}

}  // namespace

range_result parse_range(std::string_view value, std::uint64_t length, std::vector<byte_range>& out,
                         std::size_t max_ranges) {
    out.clear();
    value = trim(value);
    if (value.empty()) return range_result::none;
    auto eq = value.find('=');
    // §14.1.2: ranges-specifier = range-unit "=" range-set; the unit is case-insensitive.
    if (eq == std::string_view::npos || !iequals(value.substr(0, eq), "bytes")) return range_result::ignored;
    std::size_t specs = 0;
    bool bad = false, zero_length_suffix = false;
    bool closed = syntax::for_each_element(value.substr(eq + 1), [&](std::string_view e) {
        spec s;
        if (++specs > max_ranges || !parse_spec(e, s)) return bad = true;
        byte_range r;
        if (resolve(s, length, r)) out.push_back(r);
        else if (s.suffix && s.first > 0) zero_length_suffix = true;
        return false;
    });
    if (!closed || bad || specs == 0 || overlapping(out)) {
        out.clear();
        return range_result::ignored;
    }
    if (out.empty()) return zero_length_suffix ? range_result::ignored : range_result::unsatisfiable;
    return range_result::satisfiable;
}

}  // namespace bulwark::cache
