// fuzz/chunked: the chunked decoder fed the same body whole and in pieces. Input layout: byte 0 holds, in
// its low 3 bits, how many piece-size bytes follow (0: one-byte pieces), and in bit 3 whether the split
// run uses stop_at_trailers(); piece sizes cycle through those bytes (each 1..256); the rest is the body.
// The decoder never claims more bytes than it was given, always makes progress, returns payload views
// that end where it stopped, and reaches the same verdict, the same body end and the same payload however
// the body was cut: the proxy reads it in whatever pieces the network delivers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "http/chunked.hpp"
#include "http/chunked_forwarder.hpp"

namespace http = bulwark::http;
using bulwark::fuzz::inside;

namespace {

using result = http::chunked_decoder::result;

struct outcome {
    result verdict = result::need_more;
    std::size_t consumed = 0;  // body bytes up to and including the final CRLF (when done)
    std::string payload;       // chunk data in order
};

// Feeds `body` in pieces whose sizes cycle through `sizes` (empty: the whole body at once).
outcome run(http::chunked_decoder& d, std::string_view body, const std::vector<std::size_t>& sizes) {
    outcome o;
    std::size_t off = 0, piece_index = 0;
    while (off < body.size()) {
        std::size_t piece = sizes.empty() ? body.size() - off : sizes[piece_index++ % sizes.size()];
        std::string_view in = body.substr(off, piece);
        while (!in.empty()) {
            std::size_t consumed = ~std::size_t{0};
            std::string_view data;
            result r = d.feed(in, consumed, data);
            if (r == result::error) {
                FUZZ_CHECK(!d.error_reason().empty());
                FUZZ_CHECK(!d.finished());
                o.verdict = r;
                return o;
            }
            FUZZ_CHECK(consumed <= in.size());
            FUZZ_CHECK(consumed > 0 || r == result::done);  // progress, or nothing left to take
            if (!data.empty()) {
                FUZZ_CHECK(inside(data, in.substr(0, consumed)));
                FUZZ_CHECK(data.data() + data.size() == in.data() + consumed);  // a run ends the call
            }
            o.payload.append(data);
            o.consumed += consumed;
            if (r == result::done) {
                FUZZ_CHECK(d.finished() && d.in_trailers());
                o.verdict = r;
                return o;
            }
            FUZZ_CHECK(!d.finished());
            in.remove_prefix(consumed);
        }
        off += piece;
    }
    o.verdict = result::need_more;
    FUZZ_CHECK(o.consumed == body.size());
    return o;
}

struct forwarded {
    http::chunked_forwarder::status verdict = http::chunked_forwarder::status::need_more;
    std::size_t consumed = 0;
    std::string out;  // what would be sent on
};

// Runs the forwarder (the proxy's relay of chunked bodies) over `body` in the same pieces.
forwarded run_forwarder(http::chunked_forwarder& fw, std::string_view body, const std::vector<std::size_t>& sizes) {
    using st = http::chunked_forwarder::status;
    forwarded f;
    std::size_t off = 0, piece_index = 0;
    while (off < body.size()) {
        const std::size_t piece = sizes[piece_index++ % sizes.size()];
        std::string_view in = body.substr(off, piece);
        while (!in.empty()) {
            http::chunked_forwarder::step s = fw.next(in);
            if (s.st == st::error) {
                FUZZ_CHECK(!fw.error_reason().empty());
                f.verdict = st::error;
                return f;
            }
            FUZZ_CHECK(s.consumed <= in.size());
            FUZZ_CHECK(s.consumed > 0);
            if (s.verbatim) FUZZ_CHECK(s.forward.data() == in.data() && s.forward.size() == s.consumed);
            f.out.append(s.forward);
            f.consumed += s.consumed;
            if (s.st == st::done) {
                f.verdict = st::done;
                return f;
            }
            in.remove_prefix(s.consumed);
        }
        off += piece;
    }
    return f;
}

// A trailer field name as a lenient next hop might read it: up to the colon, whitespace trimmed (a line
// without a colon is no field at all).
std::string lenient_name(std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return {};
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    std::string lower(name);
    for (char& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
    return lower;
}

// What the forwarder sends is a valid chunked body with the same payload, identical to the input up to
// the trailers, and its trailers carry no field that could frame or route the message at the next hop.
void check_forwarder(std::string_view body, const std::vector<std::size_t>& sizes, const outcome& whole) {
    using st = http::chunked_forwarder::status;
    http::chunked_forwarder fw;
    forwarded f = run_forwarder(fw, body, sizes);
    const bool too_large_trailer = f.verdict == st::error && fw.error_reason() == "trailer section too large";
    if (whole.verdict == result::error) FUZZ_CHECK(f.verdict == st::error);
    if (whole.verdict == result::need_more) FUZZ_CHECK(f.verdict == st::need_more || too_large_trailer);
    if (whole.verdict != result::done) return;
    FUZZ_CHECK(f.verdict == st::done || too_large_trailer);
    if (f.verdict != st::done) return;
    FUZZ_CHECK(f.consumed == whole.consumed);
    FUZZ_CHECK(fw.payload_bytes() == whole.payload.size());

    http::chunked_decoder d;
    d.stop_at_trailers();
    std::size_t trailer_at = 0;
    outcome again;
    {
        std::string_view in = f.out;
        std::string payload;
        result r = result::need_more;
        while (!in.empty()) {
            std::size_t consumed = 0;
            std::string_view data;
            bool before = d.in_trailers();
            r = d.feed(in, consumed, data);
            FUZZ_CHECK(r != result::error);
            payload.append(data);
            in.remove_prefix(consumed);
            if (!before && d.in_trailers()) trailer_at = f.out.size() - in.size();
            if (r == result::done) break;
        }
        FUZZ_CHECK(r == result::done && in.empty());
        FUZZ_CHECK(payload == whole.payload);
    }
    FUZZ_CHECK(trailer_at > 0 && f.out.compare(0, trailer_at, body.substr(0, trailer_at)) == 0);
    std::string_view trailers = std::string_view(f.out).substr(trailer_at);
    while (!trailers.empty()) {
        auto end = trailers.find("\r\n");
        std::string_view line = trailers.substr(0, end);
        trailers.remove_prefix(end == std::string_view::npos ? trailers.size() : end + 2);
        std::string name = lenient_name(line);
        FUZZ_CHECK(name != "content-length" && name != "transfer-encoding" && name != "host" &&
                   name != "content_length" && name != "transfer_encoding");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0) return 0;
    std::size_t n = bytes[0] & 7;
    if (size < 1 + n) return 0;
    std::vector<std::size_t> sizes;
    for (std::size_t i = 0; i < n; ++i) sizes.push_back(static_cast<std::size_t>(bytes[1 + i]) + 1);
    if (sizes.empty()) sizes.push_back(1);
    const std::string_view body(reinterpret_cast<const char*>(bytes) + 1 + n, size - 1 - n);

    http::chunked_decoder whole_d;
    outcome whole = run(whole_d, body, {});
    http::chunked_decoder split_d;
    if (bytes[0] & 8) split_d.stop_at_trailers();
    outcome split = run(split_d, body, sizes);

    FUZZ_CHECK(whole.verdict == split.verdict);
    FUZZ_CHECK(whole.payload == split.payload);
    if (whole.verdict != result::error) FUZZ_CHECK(whole.consumed == split.consumed);
    if (whole.verdict == result::error) FUZZ_CHECK(whole_d.error_reason() == split_d.error_reason());

    if (whole.verdict == result::done) {
        // The body ends with the CRLF of the last-chunk or of the last trailer line's blank line.
        FUZZ_CHECK(whole.consumed >= 5);  // "0\r\n\r\n" at least
        FUZZ_CHECK(body.substr(whole.consumed - 2, 2) == "\r\n");
        FUZZ_CHECK(whole.payload.size() < whole.consumed);
        // Once done, the decoder takes nothing more.
        std::size_t consumed = ~std::size_t{0};
        std::string_view data;
        FUZZ_CHECK(whole_d.feed(body.substr(whole.consumed), consumed, data) == result::done);
        FUZZ_CHECK(consumed == 0 && data.empty());
    }

    check_forwarder(body, sizes, whole);

    // reset() gives a decoder that behaves as a new one.
    whole_d.reset();
    FUZZ_CHECK(!whole_d.finished() && !whole_d.in_trailers());
    outcome again = run(whole_d, body, {});
    FUZZ_CHECK(again.verdict == whole.verdict && again.payload == whole.payload && again.consumed == whole.consumed);
    return 0;
}
