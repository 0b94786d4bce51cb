// fuzz/request_parser: parse_request on arbitrary bytes. Beyond "no crash", a complete head must keep the
// promises the proxy builds on (head_check.hpp), the answer must not depend on how the bytes were cut
// into reads, the limits must bite exactly at their values, and the head we forward upstream must be read
// by the same parser with the same framing: a proxy and its origin disagreeing on where a body ends is
// request smuggling.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "head_check.hpp"
#include "http/headers.hpp"
#include "http/message.hpp"
#include "http/parser.hpp"

namespace http = bulwark::http;
using bulwark::fuzz::inside;
using bulwark::fuzz::same_view;

namespace {

constexpr std::size_t big_head = 1 << 20;

bool same_request(const http::request_head& a, const http::request_head& b) {
    return bulwark::fuzz::same_common(a, b) && same_view(a.method, b.method) && same_view(a.target, b.target) &&
           same_view(a.host, b.host) && a.idempotent == b.idempotent && a.is_head == b.is_head;
}

bool is_request_error(int status) {
    return status == 400 || status == 405 || status == 414 || status == 431 || status == 501 || status == 505;
}

// True when a field named `name` appears in a Connection field of `req` (RFC 9110 §7.6.1).
bool named_in_connection(const http::request_head& req, std::string_view name) {
    for (const http::field& f : req) {
        if (!http::name_equals(f.name, "connection")) continue;
        std::string_view v = f.value;
        while (!v.empty()) {
            auto comma = v.find(',');
            std::string_view tok = v.substr(0, comma);
            while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
            while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
            std::string lower(tok);
            for (char& c : lower)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
            if (!lower.empty() && http::name_equals(name, lower)) return true;
            v = (comma == std::string_view::npos) ? std::string_view{} : v.substr(comma + 1);
        }
    }
    return false;
}

void check_complete(const http::request_head& req, std::string_view data) {
    auto lf = bulwark::fuzz::check_common(req, data, big_head);
    const std::string_view head = data.substr(0, req.head_size);
    FUZZ_CHECK(inside(req.method, head));
    FUZZ_CHECK(!req.method.empty());
    for (char c : req.method) FUZZ_CHECK(bulwark::fuzz::is_tchar(c));
    FUZZ_CHECK(req.method != "CONNECT");
    FUZZ_CHECK(req.is_head == (req.method == "HEAD"));
    // The target is a view of the request line, or "/" for an absolute-form target without a path.
    FUZZ_CHECK(inside(req.target, head) || req.target == "/");
    FUZZ_CHECK(!req.target.empty());
    FUZZ_CHECK(req.target[0] == '/' || (req.target == "*" && req.method == "OPTIONS"));
    for (char c : req.target) FUZZ_CHECK(c > 0x20 && c < 0x7f);
    FUZZ_CHECK(req.host.empty() || inside(req.host, head));
    int hosts = 0;
    for (const http::field& f : req) hosts += http::name_equals(f.name, "host");
    FUZZ_CHECK(hosts <= 1);
    if (req.version_minor == 1) FUZZ_CHECK(hosts == 1);
    // Requests never run to EOF (RFC 9112 §6.3 rule 7): no length means no body.
    FUZZ_CHECK(req.framing != http::body_framing::to_eof);
    if (lf.transfer_encoding_fields) {
        FUZZ_CHECK(req.version_minor == 1);
        FUZZ_CHECK(req.framing == http::body_framing::chunked);
    } else if (lf.content_length_fields && lf.length > 0) {
        FUZZ_CHECK(req.framing == http::body_framing::length);
    } else {
        FUZZ_CHECK(req.framing == http::body_framing::none);
    }
}

// Cutting the bytes short may only delay the answer, never change it.
void check_prefixes(const http::request_head& full, http::parse_result full_r, std::string_view data) {
    std::size_t cuts[] = {data.size() / 2, data.size() ? data.size() - 1 : 0,
                          full_r.status == http::parse_status::complete ? full.head_size : 0,
                          full_r.status == http::parse_status::complete ? full.head_size - 1 : 0};
    for (std::size_t cut : cuts) {
        if (cut > data.size()) continue;
        http::request_head part;
        auto r = http::parse_request(data.substr(0, cut), big_head, part);
        if (r.status == http::parse_status::complete) {
            FUZZ_CHECK(full_r.status == http::parse_status::complete);
            FUZZ_CHECK(same_request(part, full));
        } else if (r.status == http::parse_status::error) {
            FUZZ_CHECK(full_r.status == http::parse_status::error);
        }
        if (full_r.status == http::parse_status::complete && cut >= full.head_size)
            FUZZ_CHECK(r.status == http::parse_status::complete);
    }
}

// Each limit lets through a head that is exactly at it and refuses one unit less with its own status.
void check_limits(const http::request_head& req, std::string_view data) {
    auto sp1 = data.find(' ');
    auto sp2 = data.find(' ', sp1 + 1);
    const std::size_t target_size = sp2 - sp1 - 1;
    http::request_head again;
    auto r = http::parse_request(data, http::head_limits{req.head_size, req.field_count, target_size}, again);
    FUZZ_CHECK(r.status == http::parse_status::complete);
    FUZZ_CHECK(same_request(again, req));
    r = http::parse_request(data, req.head_size - 1, again);
    FUZZ_CHECK(r.status == http::parse_status::error && r.error.status == 431);
    r = http::parse_request(data, http::head_limits{big_head, http::max_fields, target_size - 1}, again);
    FUZZ_CHECK(r.status == http::parse_status::error && r.error.status == 414);
    if (req.field_count > 0) {
        r = http::parse_request(data, http::head_limits{big_head, req.field_count - 1}, again);
        FUZZ_CHECK(r.status == http::parse_status::error && r.error.status == 431);
    }
}

// The head sent upstream must frame the body exactly as we do, and carry no hop-by-hop field.
void check_forwarded(const http::request_head& req) {
    if (req.field_count + 8 > http::max_fields) return;  // we add a few fields; the origin's limit is its own
    http::forward_info fwd;
    fwd.client_address = "192.0.2.1";
    fwd.default_host = "default.test";
    std::string out;
    http::write_upstream_request(req, fwd, out);
    http::request_head up;
    auto r = http::parse_request(out, big_head, up);
    FUZZ_CHECK(r.status == http::parse_status::complete);
    FUZZ_CHECK(up.head_size == out.size());
    FUZZ_CHECK(up.version_minor == 1);
    FUZZ_CHECK(up.framing == req.framing);
    FUZZ_CHECK(up.content_length == req.content_length);
    FUZZ_CHECK(up.method == req.method);
    FUZZ_CHECK(up.target == req.target);
    FUZZ_CHECK(!up.flags.expect_continue);
    for (const http::field& f : up) {
        FUZZ_CHECK(!http::name_equals(f.name, "connection") && !http::name_equals(f.name, "keep-alive") &&
                   !http::name_equals(f.name, "te") && !http::name_equals(f.name, "upgrade") &&
                   !http::name_equals(f.name, "proxy-connection") && !http::name_equals(f.name, "expect"));
        // Fields the client listed in Connection stop here, in whichever Connection field they were named.
        if (!http::name_equals(f.name, "host") && !http::name_equals(f.name, "content-length") &&
            !http::name_equals(f.name, "transfer-encoding") && !http::name_equals(f.name, "x-forwarded-for") &&
            !http::name_equals(f.name, "x-forwarded-proto"))
            FUZZ_CHECK(!named_in_connection(req, f.name));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view data(reinterpret_cast<const char*>(bytes), size);
    http::request_head req;
    auto r = http::parse_request(data, big_head, req);
    if (r.status == http::parse_status::error) {
        FUZZ_CHECK(is_request_error(r.error.status));
        FUZZ_CHECK(!r.error.reason.empty());
    }
    // Parsing is a pure function of the bytes.
    http::request_head again;
    auto r2 = http::parse_request(data, big_head, again);
    FUZZ_CHECK(r2.status == r.status && r2.error.status == r.error.status);
    if (r.status == http::parse_status::complete) {
        FUZZ_CHECK(same_request(req, again));
        check_complete(req, data);
        check_limits(req, data);
        check_forwarded(req);
    } else if (r.status == http::parse_status::incomplete && !data.empty()) {
        // Incomplete at this size means too large once the limit is the size itself.
        auto r3 = http::parse_request(data, data.size(), again);
        FUZZ_CHECK(r3.status == http::parse_status::error && r3.error.status == 431);
    }
    check_prefixes(req, r, data);
    return 0;
}
