// http/parser (responses): status lines, the framing rules of RFC 9112 §6.3 and every malformed
// response the proxy must answer with 502 rather than relay.
#include <boost/test/unit_test.hpp>

#include "parser_test_util.hpp"

BOOST_AUTO_TEST_SUITE(http_response_parser)

// ---- responses ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(status_line_with_reason_is_parsed) {
    parsed_response r("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nServer: origin\r\n\r\n");
    BOOST_TEST(r.status() == "complete");
    BOOST_TEST(r.head.status == 404);
    BOOST_TEST(r.head.reason == "Not Found");
    BOOST_TEST(r.head.version_minor == 1);
    BOOST_TEST(r.head.head_size == r.bytes.size());
    BOOST_TEST_REQUIRE(r.head.field_count == 2u);
    BOOST_TEST(r.head.fields[1].name == "Server");
    BOOST_TEST(r.head.fields[1].value == "origin");
    BOOST_TEST(inside(r.head.reason, r.bytes));
}

BOOST_AUTO_TEST_CASE(status_line_without_reason_is_parsed) {
    parsed_response bare("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
    BOOST_TEST(bare.status() == "complete");
    BOOST_TEST(bare.head.status == 200);
    BOOST_TEST(bare.head.reason.empty());

    parsed_response trailing_space("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
    BOOST_TEST(trailing_space.status() == "complete");
    BOOST_TEST(trailing_space.head.status == 200);
    BOOST_TEST(trailing_space.head.reason.empty());
}

BOOST_AUTO_TEST_CASE(http10_response_is_parsed) {
    parsed_response r("HTTP/1.0 200 OK\r\nServer: old\r\n\r\n");
    BOOST_TEST(r.status() == "complete");
    BOOST_TEST(r.head.version_minor == 0);
    BOOST_TEST(r.head.status == 200);
    BOOST_TEST(framing_name(r.head.framing) == "to_eof");
}

BOOST_AUTO_TEST_CASE(response_to_head_request_has_no_body) {
    parsed_response length("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true);
    BOOST_TEST(length.status() == "complete");
    BOOST_TEST(framing_name(length.head.framing) == "none");

    parsed_response chunked("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true);
    BOOST_TEST(chunked.status() == "complete");
    BOOST_TEST(framing_name(chunked.head.framing) == "none");

    parsed_response neither("HTTP/1.1 200 OK\r\n\r\n", true);
    BOOST_TEST(neither.status() == "complete");
    BOOST_TEST(framing_name(neither.head.framing) == "none");
}

BOOST_AUTO_TEST_CASE(status_1xx_204_304_have_no_body_even_with_content_length) {
    for (const char* line : {"HTTP/1.1 100 Continue", "HTTP/1.1 101 Switching Protocols", "HTTP/1.1 103 Early Hints",
                             "HTTP/1.1 204 No Content", "HTTP/1.1 304 Not Modified"}) {
        parsed_response r(std::string(line) + "\r\nContent-Length: 42\r\n\r\n");
        BOOST_TEST(r.status() == "complete", line);
        BOOST_TEST(framing_name(r.head.framing) == "none", line);
    }
}

BOOST_AUTO_TEST_CASE(chunked_response_has_chunked_framing) {
    parsed_response r(ok_with("Transfer-Encoding: chunked\r\n"));
    BOOST_TEST(r.status() == "complete");
    BOOST_TEST(framing_name(r.head.framing) == "chunked");
}

BOOST_AUTO_TEST_CASE(content_length_response_has_length_framing) {
    parsed_response r(ok_with("Content-Length: 77\r\n"));
    BOOST_TEST(r.status() == "complete");
    BOOST_TEST(framing_name(r.head.framing) == "length");
    BOOST_TEST(r.head.content_length == 77u);
}

BOOST_AUTO_TEST_CASE(response_without_length_is_delimited_by_eof) {
    parsed_response r(ok_with("Server: s\r\n"));
    BOOST_TEST(r.status() == "complete");
    BOOST_TEST(framing_name(r.head.framing) == "to_eof");
}

BOOST_AUTO_TEST_CASE(response_content_length_zero_has_no_body) {
    parsed_response r(ok_with("Content-Length: 0\r\n"));
    BOOST_TEST(r.status() == "complete");
    BOOST_TEST(framing_name(r.head.framing) == "none");
}

BOOST_AUTO_TEST_CASE(response_connection_close_sets_the_flag) {
    parsed_response r(ok_with("Connection: close\r\nContent-Length: 1\r\n"));
    BOOST_TEST(r.status() == "complete");
    BOOST_TEST(r.head.flags.connection_close);
    BOOST_TEST(r.head.connection == "close");
}

BOOST_AUTO_TEST_CASE(incomplete_response_returns_incomplete) {
    parsed_response r("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n");
    BOOST_TEST(r.status() == "incomplete");
}

BOOST_AUTO_TEST_CASE(response_head_larger_than_max_is_502) {
    const std::string head = ok_with("Content-Length: 1\r\n");
    parsed_response r(head, false, head.size() - 1);
    BOOST_TEST(r.status() == "error");
    BOOST_TEST(r.result.error.status == 502);
}

BOOST_AUTO_TEST_CASE(response_content_length_with_transfer_encoding_is_502) {
    EXPECT_RESPONSE_ERROR(ok_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 502);
    EXPECT_RESPONSE_ERROR(ok_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 502);
}

BOOST_AUTO_TEST_CASE(response_invalid_content_length_is_502) {
    EXPECT_RESPONSE_ERROR(ok_with("Content-Length: -1\r\n"), 502);
    EXPECT_RESPONSE_ERROR(ok_with("Content-Length: 0x5\r\n"), 502);
    EXPECT_RESPONSE_ERROR(ok_with("Content-Length: \r\n"), 502);
    EXPECT_RESPONSE_ERROR(ok_with("Content-Length: 1000000000000000000\r\n"), 502);
    EXPECT_RESPONSE_ERROR(ok_with("Content-Length: 5\r\nContent-Length: 5\r\n"), 502);
}

BOOST_AUTO_TEST_CASE(response_transfer_encoding_other_than_chunked_is_502) {
    EXPECT_RESPONSE_ERROR(ok_with("Transfer-Encoding: gzip, chunked\r\n"), 502);
    EXPECT_RESPONSE_ERROR(ok_with("Transfer-Encoding: identity\r\n"), 502);
}

BOOST_AUTO_TEST_CASE(response_malformed_field_lines_are_502) {
    EXPECT_RESPONSE_ERROR(ok_with("X-A : b\r\n"), 502);
    EXPECT_RESPONSE_ERROR(ok_with("X-A: b\r\n folded\r\n"), 502);
    EXPECT_RESPONSE_ERROR(ok_with("X-A: b\x01\r\n"), 502);
    EXPECT_RESPONSE_ERROR("HTTP/1.1 200 OK\r\nX-A: b\nX-B: c\r\n\r\n", 502);
}

BOOST_AUTO_TEST_CASE(response_with_more_than_100_fields_is_502) {
    std::string fields;
    for (int i = 0; i < 101; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
    EXPECT_RESPONSE_ERROR(ok_with(fields), 502);
}

BOOST_AUTO_TEST_CASE(bad_status_line_is_502) {
    for (const char* line : {"HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 abc OK", "HTTP/1.1  200 OK",
                             "HTTP/1.1 200OK", "HTTP/1.1 099 Low", "HTTP/2.0 200 OK", "HTTP/1.2 200 OK",
                             "ICY 200 OK", "HTTP/1.1", "http/1.1 200 OK", "HTTP/1.1 200 O\x01K"}) {
        BOOST_TEST_CONTEXT("status line: " << printable(line)) {
            EXPECT_RESPONSE_ERROR(std::string(line) + "\r\nContent-Length: 0\r\n\r\n", 502);
        }
    }
}

BOOST_AUTO_TEST_CASE(bare_lf_in_status_line_is_502) {
    EXPECT_RESPONSE_ERROR("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", 502);
}

BOOST_AUTO_TEST_SUITE_END()
