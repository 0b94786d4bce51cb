// http/chunked: the decoder finds the exact end of a chunked body however the bytes are split, reports
// the payload runs, and refuses every framing a downstream parser could read differently.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "http/chunked.hpp"
#include "printable.hpp"

namespace http = bulwark::http;
using decoder = http::chunked_decoder;

namespace {

using bulwark::test::printable;

std::string result_name(decoder::result r) {
    switch (r) {
    case decoder::result::need_more: return "need_more";
    case decoder::result::done: return "done";
    case decoder::result::error: return "error";
    }
    return "?";
}

struct outcome {
    std::string result;       // of the last call
    std::string payload;      // concatenated `data` of every call
    std::size_t consumed = 0; // total bytes the decoder claimed for the body
    bool finished = false;
    bool views_inside = true; // every `data` view pointed into the bytes it was given
};

// Feeds `wire` as a connection would: `step` new bytes arrive per read, and the caller hands the decoder
// everything received but not yet consumed, calling again while it consumes part of a buffer.
outcome decode(std::string_view wire, std::size_t step = std::string_view::npos) {
    decoder d;
    outcome out;
    std::size_t received = std::min(step, wire.size());
    for (int guard = 0; guard < 1'000'000; ++guard) {
        std::string_view in = wire.substr(out.consumed, received - out.consumed);
        std::size_t consumed = 0;
        std::string_view data;
        auto r = d.feed(in, consumed, data);
        out.result = result_name(r);
        if (r == decoder::result::error) break;
        if (!data.empty()) {
            out.views_inside = out.views_inside && data.data() >= in.data() &&
                               data.data() + data.size() <= in.data() + in.size();
            out.payload.append(data);
        }
        out.consumed += consumed;
        if (r == decoder::result::done) break;
        if (out.consumed == received) {
            if (received == wire.size()) break;  // the decoder wants more than there is
            received = std::min(wire.size(), received + std::min(step, wire.size()));
        }
    }
    out.finished = d.finished();
    return out;
}


// The body is refused whether it arrives at once or one byte at a time.
#define EXPECT_CHUNKED_ERROR(wire)                                                                        \
    do {                                                                                                  \
        std::string w_(wire);                                                                             \
        auto whole_ = decode(w_);                                                                         \
        auto bytes_ = decode(w_, 1);                                                                      \
        BOOST_TEST(whole_.result == "error", "whole: " << printable(w_) << " got " << whole_.result);     \
        BOOST_TEST(bytes_.result == "error", "byte by byte: " << printable(w_) << " got " << bytes_.result); \
    } while (0)

}  // namespace

BOOST_AUTO_TEST_SUITE(http_chunked)

BOOST_AUTO_TEST_CASE(whole_body_in_one_feed_is_decoded) {
    const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    auto o = decode(body);
    BOOST_TEST(o.result == "done");
    BOOST_TEST(o.finished);
    BOOST_TEST(o.payload == "hello world");
    BOOST_TEST(o.consumed == body.size());
    BOOST_TEST(o.views_inside);
}

BOOST_AUTO_TEST_CASE(single_feed_reports_one_payload_run_per_call) {
    const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    decoder d;
    std::size_t consumed = 0;
    std::string_view data;
    auto r = d.feed(body, consumed, data);
    BOOST_TEST(result_name(r) == "need_more");
    BOOST_TEST(data == "hello");
    BOOST_TEST(consumed == 8u);  // "5\r\nhello"
    BOOST_TEST(data.data() == body.data() + 3);
}

BOOST_AUTO_TEST_CASE(byte_by_byte_feeding_gives_the_same_result) {
    const std::string body = "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n1\r\n!\r\n0\r\nX-Sum: 1\r\n\r\n";
    auto whole = decode(body);
    BOOST_TEST(whole.result == "done");
    for (std::size_t step : {1u, 2u, 3u, 7u, 16u}) {
        auto o = decode(body, step);
        BOOST_TEST(o.result == "done", "step " << step);
        BOOST_TEST(o.finished, "step " << step);
        BOOST_TEST(o.payload == whole.payload, "step " << step);
        BOOST_TEST(o.consumed == body.size(), "step " << step);
        BOOST_TEST(o.views_inside, "step " << step);
    }
    BOOST_TEST(whole.payload == "hello0123456789!");
}

BOOST_AUTO_TEST_CASE(incomplete_body_needs_more) {
    const std::string body = "5\r\nhello\r\n0\r\n\r\n";
    for (std::size_t n = 0; n < body.size(); ++n) {
        auto o = decode(body.substr(0, n));
        BOOST_TEST(o.result == "need_more", "prefix of " << n << " bytes");
        BOOST_TEST(!o.finished, "prefix of " << n << " bytes");
        BOOST_TEST(o.consumed == n, "prefix of " << n << " bytes");
    }
}

BOOST_AUTO_TEST_CASE(hex_sizes_are_case_insensitive) {
    auto o = decode("a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n");
    BOOST_TEST(o.result == "done");
    BOOST_TEST(o.payload == "0123456789abcdefghijk");
}

BOOST_AUTO_TEST_CASE(large_chunk_streams_across_feeds) {
    const std::string payload(100'000, 'z');
    const std::string body = "186a0\r\n" + payload + "\r\n0\r\n\r\n";
    auto o = decode(body, 4096);
    BOOST_TEST(o.result == "done");
    BOOST_TEST(o.payload.size() == payload.size());
    BOOST_TEST((o.payload == payload));
    BOOST_TEST(o.consumed == body.size());
}

BOOST_AUTO_TEST_CASE(chunk_extensions_are_skipped) {
    const std::string body = "5;name=value\r\nhello\r\n3 ; a=\"x y\";b\r\nabc\r\n0;last=1\r\n\r\n";
    auto o = decode(body);
    BOOST_TEST(o.result == "done");
    BOOST_TEST(o.payload == "helloabc");
    BOOST_TEST(o.consumed == body.size());
    auto b = decode(body, 1);
    BOOST_TEST(b.result == "done");
    BOOST_TEST(b.payload == "helloabc");
}

BOOST_AUTO_TEST_CASE(trailers_are_consumed_up_to_the_blank_line) {
    const std::string body = "3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Other: yes\r\n\r\n";
    auto o = decode(body);
    BOOST_TEST(o.result == "done");
    BOOST_TEST(o.payload == "abc");
    BOOST_TEST(o.consumed == body.size());
    auto b = decode(body, 1);
    BOOST_TEST(b.result == "done");
    BOOST_TEST(b.consumed == body.size());
}

BOOST_AUTO_TEST_CASE(empty_body_is_just_the_last_chunk) {
    auto o = decode("0\r\n\r\n");
    BOOST_TEST(o.result == "done");
    BOOST_TEST(o.payload.empty());
    BOOST_TEST(o.consumed == 5u);
}

BOOST_AUTO_TEST_CASE(decoding_stops_exactly_at_the_end_of_the_body) {
    const std::string body = "4\r\nwiki\r\n0\r\nX-T: 1\r\n\r\n";
    const std::string next = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    for (std::size_t step : {std::string_view::npos, std::size_t{1}, std::size_t{5}}) {
        auto o = decode(body + next, step);
        BOOST_TEST(o.result == "done");
        BOOST_TEST(o.consumed == body.size(), "step " << step);
        BOOST_TEST(o.payload == "wiki");
    }

    decoder d;
    std::size_t consumed = 0;
    std::string_view data;
    const std::string wire = "0\r\n\r\nEXTRA";
    BOOST_TEST(result_name(d.feed(wire, consumed, data)) == "done");
    BOOST_TEST(consumed == 5u);
    BOOST_TEST(d.finished());
    // Once done, further bytes are not part of the body.
    BOOST_TEST(result_name(d.feed("EXTRA", consumed, data)) == "done");
    BOOST_TEST(consumed == 0u);
}

BOOST_AUTO_TEST_CASE(reset_starts_a_new_body) {
    decoder d;
    std::size_t consumed = 0;
    std::string_view data;
    BOOST_TEST(result_name(d.feed("0\r\n\r\n", consumed, data)) == "done");
    d.reset();
    BOOST_TEST(!d.finished());
    BOOST_TEST(result_name(d.feed("2\r\nhi", consumed, data)) == "need_more");
    BOOST_TEST(data == "hi");
}

BOOST_AUTO_TEST_CASE(fifteen_hex_digits_are_accepted) {
    auto o = decode("000000000000005\r\nhello\r\n0\r\n\r\n");
    BOOST_TEST(o.result == "done");
    BOOST_TEST(o.payload == "hello");
}

// ---- errors ---------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(invalid_hex_size_is_an_error) {
    EXPECT_CHUNKED_ERROR("g\r\nabc\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("5x\r\nhello\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("-5\r\nhello\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("0x5\r\nhello\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("\r\nhello\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR(";ext\r\nhello\r\n0\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(size_with_16_or_more_hex_digits_is_an_error) {
    EXPECT_CHUNKED_ERROR("0000000000000005\r\nhello\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("ffffffffffffffff\r\n");
    EXPECT_CHUNKED_ERROR("10000000000000000\r\n");
}

BOOST_AUTO_TEST_CASE(missing_crlf_after_data_is_an_error) {
    EXPECT_CHUNKED_ERROR("5\r\nhelloX\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("5\r\nhello0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("5\r\nhello\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("5\r\nhello\rX0\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(bare_lf_after_size_is_an_error) {
    EXPECT_CHUNKED_ERROR("5\nhello\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("5;ext\nhello\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("5\r\nhello\r\n0\n\r\n");
    EXPECT_CHUNKED_ERROR("5\rhello\r\n0\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(bare_lf_in_trailer_is_an_error) {
    EXPECT_CHUNKED_ERROR("0\r\nX-T: 1\n\r\n");
    EXPECT_CHUNKED_ERROR("0\r\nX-T: 1\nX-U: 2\r\n\r\n");
}

// A lenient origin reads "0\r\n\n" as the end of the body; if we took the LF as the start of a trailer
// line, the bytes after it would reach the origin as a second, smuggled request.
BOOST_AUTO_TEST_CASE(bare_lf_at_the_start_of_a_trailer_line_is_an_error) {
    EXPECT_CHUNKED_ERROR("0\r\n\nGET /admin HTTP/1.1\r\nHost: internal\r\n\r\n");
    EXPECT_CHUNKED_ERROR("0\r\nX-T: 1\r\n\n\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(ctl_in_trailer_is_an_error) {
    EXPECT_CHUNKED_ERROR("0\r\nX-T: a\x01z\r\n\r\n");
    EXPECT_CHUNKED_ERROR("0\r\n\x01X-T: a\r\n\r\n");
    EXPECT_CHUNKED_ERROR(std::string("0\r\nX-T: a") + '\0' + "\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(ctl_in_extension_is_an_error) {
    EXPECT_CHUNKED_ERROR("5;a=\x01\r\nhello\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR(std::string("5;a=") + '\0' + "\r\nhello\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("5;a=\x7f\r\nhello\r\n0\r\n\r\n");
    EXPECT_CHUNKED_ERROR("0;a\x1b\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(obs_fold_in_trailer_is_an_error) {
    EXPECT_CHUNKED_ERROR("0\r\nX-T: a\r\n b\r\n\r\n");
    EXPECT_CHUNKED_ERROR("0\r\nX-T: a\r\n\tb\r\n\r\n");
    EXPECT_CHUNKED_ERROR("0\r\n X-T: a\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(missing_final_crlf_is_an_error) {
    EXPECT_CHUNKED_ERROR("0\r\n\rX");
    EXPECT_CHUNKED_ERROR("0\r\n\r\r\n");
    EXPECT_CHUNKED_ERROR("0\r\nX-T: 1\r\r\n");
}

BOOST_AUTO_TEST_CASE(error_reason_is_reported) {
    decoder d;
    std::size_t consumed = 0;
    std::string_view data;
    BOOST_TEST(result_name(d.feed("zz\r\n", consumed, data)) == "error");
    BOOST_TEST(!d.error_reason().empty());
    BOOST_TEST(!d.finished());
}

BOOST_AUTO_TEST_SUITE_END()
