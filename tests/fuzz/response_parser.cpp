// fuzz/response_parser: parse_response on arbitrary bytes; the first byte's low bit says whether the
// request was HEAD. As for requests: complete heads keep head_check.hpp's promises, the framing follows
// RFC 9112 §6.3, cutting the bytes short never changes the answer, and the head we send on to the client
// is read back with the same framing (a client that disagrees with us would take body bytes for the next
// response).
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

bool same_response(const http::response_head& a, const http::response_head& b) {
    return bulwark::fuzz::same_common(a, b) && a.status == b.status && same_view(a.reason, b.reason);
}

bool named_in_connection(const http::response_head& res, std::string_view name) {
    for (const http::field& f : res) {
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

void check_complete(const http::response_head& res, std::string_view data, bool was_head) {
    auto lf = bulwark::fuzz::check_common(res, data, big_head);
    const std::string_view head = data.substr(0, res.head_size);
    FUZZ_CHECK(res.status >= 100 && res.status <= 999);
    FUZZ_CHECK(res.reason.empty() || inside(res.reason, head));
    for (char c : res.reason) {
        auto u = static_cast<unsigned char>(c);
        FUZZ_CHECK(c == '\t' || (u >= 0x20 && u != 0x7f));
    }
    // RFC 9112 §6.3, in its order.
    if (was_head || res.status < 200 || res.status == 204 || res.status == 304)
        FUZZ_CHECK(res.framing == http::body_framing::none);
    else if (lf.transfer_encoding_fields)
        FUZZ_CHECK(res.framing == http::body_framing::chunked);
    else if (lf.content_length_fields)
        FUZZ_CHECK(res.framing == (lf.length ? http::body_framing::length : http::body_framing::none));
    else
        FUZZ_CHECK(res.framing == http::body_framing::to_eof);
}

void check_prefixes(const http::response_head& full, http::parse_result full_r, std::string_view data,
                    bool was_head) {
    const bool complete = full_r.status == http::parse_status::complete;
    std::size_t cuts[] = {data.size() / 2, data.size() ? data.size() - 1 : 0, complete ? full.head_size : 0,
                          complete ? full.head_size - 1 : 0};
    for (std::size_t cut : cuts) {
        http::response_head part;
        auto r = http::parse_response(data.substr(0, cut), big_head, was_head, part);
        if (r.status == http::parse_status::complete) {
            FUZZ_CHECK(complete);
            FUZZ_CHECK(same_response(part, full));
        } else if (r.status == http::parse_status::error) {
            FUZZ_CHECK(full_r.status == http::parse_status::error);
        }
        if (complete && cut >= full.head_size) FUZZ_CHECK(r.status == http::parse_status::complete);
    }
}

void check_limits(const http::response_head& res, std::string_view data, bool was_head) {
    http::response_head again;
    auto r = http::parse_response(data, http::head_limits{res.head_size, res.field_count}, was_head, again);
    FUZZ_CHECK(r.status == http::parse_status::complete);
    FUZZ_CHECK(same_response(again, res));
    r = http::parse_response(data, res.head_size - 1, was_head, again);
    FUZZ_CHECK(r.status == http::parse_status::error && r.error.status == 502);
    if (res.field_count > 0) {
        r = http::parse_response(data, http::head_limits{big_head, res.field_count - 1}, was_head, again);
        FUZZ_CHECK(r.status == http::parse_status::error && r.error.status == 502);
    }
}

// What we send the client frames the body as we relay it: untouched, or re-chunked when it ran to EOF.
void check_forwarded(const http::response_head& res, bool was_head) {
    if (res.field_count + 4 > http::max_fields) return;
    const bool to_eof = res.framing == http::body_framing::to_eof;
    http::response_info info;
    info.mode = to_eof ? http::response_body_mode::add_chunked : http::response_body_mode::as_is;
    std::string out;
    http::write_client_response(res, info, out);
    http::response_head down;
    auto r = http::parse_response(out, big_head, was_head, down);
    FUZZ_CHECK(r.status == http::parse_status::complete);
    FUZZ_CHECK(down.head_size == out.size());
    FUZZ_CHECK(down.status == res.status);
    FUZZ_CHECK(down.framing == (to_eof ? http::body_framing::chunked : res.framing));
    FUZZ_CHECK(down.content_length == res.content_length);
    for (const http::field& f : down) {
        FUZZ_CHECK(!http::name_equals(f.name, "connection") && !http::name_equals(f.name, "keep-alive") &&
                   !http::name_equals(f.name, "te") && !http::name_equals(f.name, "upgrade") &&
                   !http::name_equals(f.name, "proxy-connection"));
        if (!http::name_equals(f.name, "content-length") && !http::name_equals(f.name, "transfer-encoding"))
            FUZZ_CHECK(!named_in_connection(res, f.name));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0) return 0;
    const bool was_head = bytes[0] & 1;
    const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
    http::response_head res;
    auto r = http::parse_response(data, big_head, was_head, res);
    if (r.status == http::parse_status::error) {
        FUZZ_CHECK(r.error.status == 502);  // whatever an origin gets wrong, the client sees a bad gateway
        FUZZ_CHECK(!r.error.reason.empty());
    }
    http::response_head again;
    auto r2 = http::parse_response(data, big_head, was_head, again);
    FUZZ_CHECK(r2.status == r.status && r2.error.status == r.error.status);
    if (r.status == http::parse_status::complete) {
        FUZZ_CHECK(same_response(res, again));
        check_complete(res, data, was_head);
        check_limits(res, data, was_head);
        check_forwarded(res, was_head);
        // Only the framing depends on the request method.
        auto r3 = http::parse_response(data, big_head, !was_head, again);
        FUZZ_CHECK(r3.status == http::parse_status::complete);
        FUZZ_CHECK(again.status == res.status && again.head_size == res.head_size);
    } else if (r.status == http::parse_status::incomplete) {
        auto r3 = http::parse_response(data, data.size(), was_head, again);
        FUZZ_CHECK(r3.status == http::parse_status::error && r3.error.status == 502);
    }
    check_prefixes(res, r, data, was_head);
    return 0;
}
