// http/parser: one pass over a complete head. We first look for the blank line (memmem), so the field
// loop runs once per head, not once per read; bare LF and obs-fold are refused rather than guessed at.
#include "http/parser.hpp"

#include "core/strings.hpp"

#include <algorithm>
#include <cstring>

namespace bulwark::http {
namespace {

// RFC 9110 §5.6.2 tchar.
constexpr bool tchar_table_entry(unsigned char c) {
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

struct char_tables {
    bool tchar[256];
    bool value[256];   // field-vchar, SP, HTAB, obs-text (RFC 9110 §5.5)
    bool target[256];  // visible ASCII, no SP or CTL
    constexpr char_tables() : tchar(), value(), target() {
        for (int c = 0; c < 256; ++c) {
            auto u = static_cast<unsigned char>(c);
            tchar[c] = tchar_table_entry(u);
            value[c] = c == '\t' || (c >= 0x20 && c != 0x7f);
            target[c] = c > 0x20 && c < 0x7f;
        }
    }
};
constexpr char_tables chars;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!chars.tchar[static_cast<unsigned char>(c)]) return false;
    return true;
}


bool parse_content_length(std::string_view v, std::uint64_t& out) {
    if (v.empty() || v.size() > 18) return false;  // 18 digits cannot overflow 63 bits
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = n;
    return true;
}

// Walks the comma-separated tokens of a Connection value.
void scan_connection_tokens(std::string_view v, head_flags& flags) {
    any_list_item(v, [&](std::string_view tok) {
        if (name_equals(tok, "close")) flags.connection_close = true;
        else if (name_equals(tok, "keep-alive")) flags.connection_keep_alive = true;
        else if (name_equals(tok, "upgrade")) flags.connection_upgrade = true;
        return false;
    });
}

struct field_state {
    bool seen_length = false;
    bool seen_te = false;
    int hosts = 0;
};

parse_result fail(int status, std::string_view why) { return {parse_status::error, {status, why}}; }
constexpr parse_result ok{parse_status::complete, {}};

// Reads the field lines between `pos` and the blank line at `end`; fills fields and framing facts.
parse_result parse_fields(std::string_view data, std::size_t pos, std::size_t field_limit, head_common& out,
                          field_state& st, std::string_view* host, int bad_status) {
    out.field_count = 0;
    for (;;) {
        auto nl = data.find('\n', pos);
        if (nl == std::string_view::npos) return fail(bad_status, "unterminated head");
        if (nl == pos || data[nl - 1] != '\r') return fail(bad_status, "bare LF in head");
        std::string_view line = data.substr(pos, nl - 1 - pos);
        pos = nl + 1;
        if (line.empty()) break;
        if (line[0] == ' ' || line[0] == '\t') return fail(bad_status, "obs-fold line in head");
        std::size_t i = 0;
        while (i < line.size() && chars.tchar[static_cast<unsigned char>(line[i])]) ++i;
        if (i == 0 || i == line.size() || line[i] != ':')
            return fail(bad_status, "invalid field name or whitespace before colon");
        std::string_view name = line.substr(0, i);
        std::string_view value = trim(line.substr(i + 1));
        for (char c : value)
            if (!chars.value[static_cast<unsigned char>(c)]) return fail(bad_status, "control character in field value");
        if (out.field_count >= field_limit) return fail(bad_status == 400 ? 431 : 502, "too many header fields");
        out.fields[out.field_count++] = {name, value};

        switch (name.size()) {
        case 4:
            if (host && name_equals(name, "host")) {
                ++st.hosts;
                *host = value;
            }
            break;
        case 6:
            if (name_equals(name, "expect") && name_equals(value, "100-continue")) out.flags.expect_continue = true;
            break;
        case 10:
            if (name_equals(name, "connection")) {
                if (!out.connection.empty()) out.several_connection_fields = true;
                out.connection = value;
                scan_connection_tokens(value, out.flags);
            }
            break;
        case 14:
            if (name_equals(name, "content-length")) {
                std::uint64_t n;
                if (st.seen_length) return fail(bad_status, "duplicate Content-Length");
                if (!parse_content_length(value, n)) return fail(bad_status, "invalid Content-Length");
                st.seen_length = true;
                out.content_length = n;
            } else if (name_equals(name, "content_length")) {
                return fail(bad_status, "Content_Length field (could be read as Content-Length)");
            }
            break;
        case 17:
            if (name_equals(name, "transfer-encoding")) {
                if (st.seen_te) return fail(bad_status, "duplicate Transfer-Encoding");
                if (!name_equals(value, "chunked")) return fail(bad_status, "Transfer-Encoding other than chunked");
                st.seen_te = true;
            } else if (name_equals(name, "transfer_encoding")) {
                return fail(bad_status, "Transfer_Encoding field (could be read as Transfer-Encoding)");
            }
            break;
        default:
            break;
        }
    }
    out.head_size = pos;
    if (st.seen_length && st.seen_te) return fail(bad_status, "both Content-Length and Transfer-Encoding");
    return ok;
}

// Finds the end of the head; reports incomplete or too large.
parse_result locate_head(std::string_view data, std::size_t max_head, int too_large_status) {
    auto end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (data.size() >= max_head) return fail(too_large_status, "head larger than max_header_size");
        // A head terminated by bare LFs would never complete: refuse it now rather than at the timeout.
        for (auto nl = data.find('\n'); nl != std::string_view::npos; nl = data.find('\n', nl + 1))
            if (nl == 0 || data[nl - 1] != '\r') return fail(too_large_status == 431 ? 400 : 502, "bare LF in head");
        return {parse_status::incomplete, {}};
    }
    if (end + 4 > max_head) return fail(too_large_status, "head larger than max_header_size");
    return ok;
}

bool parse_version(std::string_view v, int& minor) {
    if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return false;
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) return false;
    minor = v[7] - '0';
    return true;
}

bool method_is(std::string_view m, std::string_view want) { return m == want; }

void classify_method(request_head& r) {
    const auto m = r.method;
    r.is_head = method_is(m, "HEAD");
    r.idempotent = r.is_head || method_is(m, "GET") || method_is(m, "PUT") || method_is(m, "DELETE") ||
                   method_is(m, "OPTIONS") || method_is(m, "TRACE");
}

// absolute-form "http://authority/path" (RFC 9112 §3.2.2): the authority replaces Host.
parse_result split_absolute_form(request_head& r) {
    std::string_view t = r.target;
    std::size_t scheme = 0;
    if (t.size() > 7 && name_equals(t.substr(0, 7), "http://")) scheme = 7;
    else if (t.size() > 8 && name_equals(t.substr(0, 8), "https://")) scheme = 8;
    else return fail(400, "request target is neither origin-form nor absolute-form");
    auto slash = t.find('/', scheme);
    std::string_view authority = t.substr(scheme, slash == std::string_view::npos ? std::string_view::npos : slash - scheme);
    if (authority.empty() || authority.find('@') != std::string_view::npos)
        return fail(400, "invalid authority in absolute-form target");
    r.host = authority;
    r.target = (slash == std::string_view::npos) ? std::string_view("/") : t.substr(slash);
    return ok;
}

}  // namespace

bool name_equals(std::string_view name, std::string_view lower_name) {
    if (name.size() != lower_name.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (lower(name[i]) != lower_name[i]) return false;
    return true;
}

std::string_view head_common::get(std::string_view lower_name) const {
    for (const field& f : *this)
        if (name_equals(f.name, lower_name)) return f.value;
    return {};
}

parse_result parse_request(std::string_view data, const head_limits& limits, request_head& out) {
    const std::size_t max_head = limits.max_head;
    // Tolerate empty lines before a request (RFC 9112 §2.2) only as CRLF pairs; the caller strips them.
    if (auto r = locate_head(data, max_head, 431); r.status != parse_status::complete) return r;
    auto nl = data.find('\n');
    if (nl == 0 || data[nl - 1] != '\r') return fail(400, "bare LF in request line");
    std::string_view line = data.substr(0, nl - 1);
    auto sp1 = line.find(' ');
    auto sp2 = (sp1 == std::string_view::npos) ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return fail(400, "malformed request line");
    out.method = line.substr(0, sp1);
    out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(out.method)) return fail(400, "invalid method");
    if (out.target.empty()) return fail(400, "empty request target");
    if (out.target.size() > limits.max_target) return fail(414, "request target longer than max_uri_size");
    for (char c : out.target)
        if (!chars.target[static_cast<unsigned char>(c)]) return fail(400, "invalid character in request target");
    if (!parse_version(version, out.version_minor)) {
        bool well_formed = version.size() == 8 && version.starts_with("HTTP/") && version[6] == '.' &&
                           version[5] >= '0' && version[5] <= '9' && version[7] >= '0' && version[7] <= '9';
        if (well_formed) return fail(505, "unsupported HTTP version");
        return fail(400, "malformed HTTP version");
    }
    if (out.method == "CONNECT") return fail(405, "CONNECT is not proxied");
    classify_method(out);

    out.flags = {};
    out.connection = {};
    out.several_connection_fields = false;
    out.content_length = 0;
    out.host = {};
    field_state st;
    const std::size_t field_limit = std::min(limits.max_field_lines, max_fields);
    if (auto r = parse_fields(data, nl + 1, field_limit, out, st, &out.host, 400); r.status != parse_status::complete)
        return r;
    if (st.hosts > 1) return fail(400, "several Host fields");
    if (out.version_minor == 1 && st.hosts == 0) return fail(400, "HTTP/1.1 request without Host");
    if (out.target[0] != '/') {
        if (out.target == "*" && out.method == "OPTIONS") {
            // asterisk-form, forwarded as is
        } else if (auto r = split_absolute_form(out); r.status != parse_status::complete) {
            return r;
        }
    }
    if (st.seen_te) {
        if (out.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
        out.framing = body_framing::chunked;
    } else if (st.seen_length && out.content_length > 0) {
        out.framing = body_framing::length;
    } else {
        out.framing = body_framing::none;
    }
    return ok;
}

parse_result parse_response(std::string_view data, const head_limits& limits, bool request_was_head,
                            response_head& out) {
    const std::size_t max_head = limits.max_head;
    if (auto r = locate_head(data, max_head, 502); r.status != parse_status::complete) return r;
    auto nl = data.find('\n');
    if (nl == 0 || data[nl - 1] != '\r') return fail(502, "bare LF in status line");
    std::string_view line = data.substr(0, nl - 1);
    if (line.size() < 12 || !parse_version(line.substr(0, 8), out.version_minor) || line[8] != ' ')
        return fail(502, "malformed status line");
    int status = 0;
    for (int i = 9; i < 12; ++i) {
        char c = line[static_cast<std::size_t>(i)];
        if (c < '0' || c > '9') return fail(502, "malformed status code");
        status = status * 10 + (c - '0');
    }
    if (status < 100) return fail(502, "malformed status code");
    if (line.size() > 12 && line[12] != ' ') return fail(502, "malformed status line");
    out.status = status;
    out.reason = line.size() > 13 ? line.substr(13) : std::string_view{};
    for (char c : out.reason)
        if (!chars.value[static_cast<unsigned char>(c)]) return fail(502, "control character in reason phrase");

    out.flags = {};
    out.connection = {};
    out.several_connection_fields = false;
    out.content_length = 0;
    field_state st;
    const std::size_t field_limit = std::min(limits.max_field_lines, max_fields);
    if (auto r = parse_fields(data, nl + 1, field_limit, out, st, nullptr, 502); r.status != parse_status::complete)
        return r;
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means its framing is faulty.
    if (st.seen_te && out.version_minor == 0) return fail(502, "Transfer-Encoding in an HTTP/1.0 response");
    // RFC 9112 §6.3: these never carry a body, whatever their fields say.
    if (request_was_head || status < 200 || status == 204 || status == 304) out.framing = body_framing::none;
    else if (st.seen_te) out.framing = body_framing::chunked;
    else if (st.seen_length) out.framing = out.content_length ? body_framing::length : body_framing::none;
    else out.framing = body_framing::to_eof;
    return ok;
}

}  // namespace bulwark::http
