// cache/http_date: HTTP-date (RFC 9110 §5.6.7) to and from unix seconds; strict grammar, no locale, no clock.
#include "cache/policy.hpp"

#include <array>

#include "core/strings.hpp"

namespace bulwark::cache {
namespace {

constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> days = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_days = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                       "Friday", "Saturday", "Sunday"};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, int m, int d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

constexpr bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr int days_in_month(std::int64_t y, int m) {
    constexpr int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : n[m - 1];
}

// Reads exactly `n` digits at `s[pos]`.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

int month_index(std::string_view s) {  // case-sensitive: "HTTP-date is case sensitive" (§5.6.7)
    for (std::size_t i = 0; i < months.size(); ++i)
        if (s == months[i]) return static_cast<int>(i) + 1;
    return 0;
}

template <std::size_t N>
bool one_of(std::string_view s, const std::array<std::string_view, N>& names) {
    for (auto n : names)
        if (s == n) return true;
    return false;
}

// "HH:MM:SS" at s[pos]; second 60 is a leap second (§5.6.7 allows it).
bool time_of_day(std::string_view s, std::size_t pos, int& h, int& m, int& sec) {
    return pos + 8 <= s.size() && digits(s, pos, 2, h) && s[pos + 2] == ':' && digits(s, pos + 3, 2, m) &&
           s[pos + 5] == ':' && digits(s, pos + 6, 2, sec) && h <= 23 && m <= 59 && sec <= 60;
}

std::optional<std::int64_t> to_unix(std::int64_t y, int mon, int d, int h, int m, int s) {
    if (mon < 1 || d < 1 || d > days_in_month(y, mon)) return std::nullopt;
    return days_from_civil(y, mon, d) * 86400 + h * 3600 + m * 60 + s;
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::int64_t> imf_fixdate(std::string_view s) {
    int d = 0, y = 0, h = 0, m = 0, sec = 0;
    if (s.size() != 29 || !one_of(s.substr(0, 3), days) || s.substr(3, 2) != ", " || !digits(s, 5, 2, d) ||
        s[7] != ' ' || s[11] != ' ' || !digits(s, 12, 4, y) || s[16] != ' ' || !time_of_day(s, 17, h, m, sec) ||
        s.substr(25) != " GMT")
        return std::nullopt;
    return to_unix(y, month_index(s.substr(8, 3)), d, h, m, sec);
}

// rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT". Two-digit years: 70-99 are 19xx, 00-69 are 20xx
// (the §5.6.7 "more than 50 years in the future" rule needs a clock; this pivot agrees with it until 2020+50).
std::optional<std::int64_t> rfc850_date(std::string_view s) {
    auto comma = s.find(',');
    if (comma == std::string_view::npos || !one_of(s.substr(0, comma), long_days)) return std::nullopt;
    s.remove_prefix(comma);
    int d = 0, yy = 0, h = 0, m = 0, sec = 0;
    if (s.size() != 24 || s.substr(0, 2) != ", " || !digits(s, 2, 2, d) || s[4] != '-' || s[8] != '-' ||
        !digits(s, 9, 2, yy) || s[11] != ' ' || !time_of_day(s, 12, h, m, sec) || s.substr(20) != " GMT")
        return std::nullopt;
    return to_unix(yy < 70 ? 2000 + yy : 1900 + yy, month_index(s.substr(5, 3)), d, h, m, sec);
}

// asctime-date: "Sun Nov  6 08:49:37 1994" (day is 2DIGIT or SP DIGIT)
std::optional<std::int64_t> asctime_date(std::string_view s) {
    int d = 0, y = 0, h = 0, m = 0, sec = 0;
    if (s.size() != 24 || !one_of(s.substr(0, 3), days) || s[3] != ' ' || s[7] != ' ') return std::nullopt;
    if (s[8] == ' ') {
        if (!digits(s, 9, 1, d)) return std::nullopt;
    } else if (!digits(s, 8, 2, d)) {
        return std::nullopt;
    }
    if (s[10] != ' ' || !time_of_day(s, 11, h, m, sec) || s[19] != ' ' || !digits(s, 20, 4, y))
        return std::nullopt;
    return to_unix(y, month_index(s.substr(4, 3)), d, h, m, sec);
}

void put2(std::string& out, int v) {
    out += static_cast<char>('0' + v / 10);
    out += static_cast<char>('0' + v % 10);
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view text) {
    text = trim(text);
    if (text.size() == 29) return imf_fixdate(text);
    if (auto r = asctime_date(text)) return r;
    return rfc850_date(text);
}

std::string format_http_date(std::int64_t t) {
    // Clamp to what four year digits can say: 1970-01-01 .. 9999-12-31 23:59:59.
    constexpr std::int64_t last = 253402300799;
    t = t < 0 ? 0 : (t > last ? last : t);
    const std::int64_t z = t / 86400 + 719468, secs = t % 86400;
    const std::int64_t era = z / 146097, doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    const int y = static_cast<int>(yoe + era * 400 + (m <= 2));
    const std::int64_t weekday = (t / 86400 + 3) % 7;  // 1970-01-01 was a Thursday (index 3)

    std::string out;
    out.reserve(29);
    out += days[static_cast<std::size_t>(weekday)];
    out += ", ";
    put2(out, d);
    out += ' ';
    out += months[static_cast<std::size_t>(m - 1)];
    out += ' ';
    put2(out, y / 100);
    put2(out, y % 100);
    out += ' ';
    put2(out, static_cast<int>(secs / 3600));
    out += ':';
    put2(out, static_cast<int>(secs / 60 % 60));
    out += ':';
    put2(out, static_cast<int>(secs % 60));
    out += " GMT";
    return out;
}

}  // namespace bulwark::cache
