// http/parser: valid heads come back as views with the right framing and flags; every ambiguity a peer
// could read two ways (RFC 9112 §2.2, §5, §6) is refused with the status the proxy must answer.
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "parser_test_util.hpp"

BOOST_AUTO_TEST_SUITE(http_parser)

// ---- valid requests -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(get_request_fields_are_views_into_the_buffer) {
    parsed_request r("GET /a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\nX-Empty:\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    const auto& h = r.head;
    BOOST_TEST(h.method == "GET");
    BOOST_TEST(h.target == "/a/b?c=d");
    BOOST_TEST(h.version_minor == 1);
    BOOST_TEST(h.host == "example.com:8080");
    BOOST_TEST(framing_name(h.framing) == "none");
    BOOST_TEST(h.content_length == 0u);
    BOOST_TEST(h.head_size == r.bytes.size());
    BOOST_TEST_REQUIRE(h.field_count == 3u);
    BOOST_TEST(h.fields[0].name == "Host");
    BOOST_TEST(h.fields[0].value == "example.com:8080");
    BOOST_TEST(h.fields[1].name == "Accept");
    BOOST_TEST(h.fields[1].value == "*/*");
    BOOST_TEST(h.fields[2].name == "X-Empty");
    BOOST_TEST(h.fields[2].value == "");
    BOOST_TEST(inside(h.method, r.bytes));
    BOOST_TEST(inside(h.target, r.bytes));
    BOOST_TEST(inside(h.host, r.bytes));
    BOOST_TEST(inside(h.fields[1].name, r.bytes));
    BOOST_TEST(inside(h.fields[1].value, r.bytes));
    BOOST_TEST(h.idempotent);
    BOOST_TEST(!h.is_head);
    BOOST_TEST(!h.flags.connection_close);
    BOOST_TEST(!h.flags.connection_keep_alive);
    BOOST_TEST(!h.flags.connection_upgrade);
    BOOST_TEST(!h.flags.expect_continue);
}

BOOST_AUTO_TEST_CASE(field_values_are_trimmed_of_surrounding_whitespace) {
    parsed_request r(get_with("X-Padded: \t  some value \t \r\n"));
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.get("x-padded") == "some value");
}

BOOST_AUTO_TEST_CASE(get_finds_fields_case_insensitively_and_returns_the_first) {
    parsed_request r(get_with("X-Twice: one\r\nx-twice: two\r\n"));
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.get("x-twice") == "one");
    BOOST_TEST(r.head.get("host") == "example.com");
    BOOST_TEST(r.head.get("x-absent").empty());
}

BOOST_AUTO_TEST_CASE(head_size_excludes_the_body_that_follows) {
    std::string head = "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
    parsed_request r(head + "hello");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.head_size == head.size());
}

BOOST_AUTO_TEST_CASE(post_with_content_length_has_length_framing) {
    parsed_request r("POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 1234\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.method == "POST");
    BOOST_TEST(framing_name(r.head.framing) == "length");
    BOOST_TEST(r.head.content_length == 1234u);
    BOOST_TEST(!r.head.idempotent);
    BOOST_TEST(!r.head.is_head);
}

BOOST_AUTO_TEST_CASE(content_length_zero_means_no_body) {
    parsed_request r("POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(framing_name(r.head.framing) == "none");
    BOOST_TEST(r.head.content_length == 0u);
}

BOOST_AUTO_TEST_CASE(content_length_of_18_digits_is_accepted) {
    parsed_request r("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 999999999999999999\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.content_length == 999999999999999999ull);
    BOOST_TEST(framing_name(r.head.framing) == "length");
}

BOOST_AUTO_TEST_CASE(post_with_transfer_encoding_chunked_has_chunked_framing) {
    parsed_request r("POST /submit HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(framing_name(r.head.framing) == "chunked");
}

BOOST_AUTO_TEST_CASE(head_request_is_flagged_and_idempotent) {
    parsed_request r("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.method == "HEAD");
    BOOST_TEST(r.head.is_head);
    BOOST_TEST(r.head.idempotent);
}

BOOST_AUTO_TEST_CASE(idempotent_methods_are_recognised) {
    for (std::string m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"}) {
        parsed_request r(m + " / HTTP/1.1\r\nHost: h\r\n\r\n");
        EXPECT_REQUEST_OK(r);
        BOOST_TEST(r.head.idempotent, m);
    }
    for (std::string m : {"POST", "PATCH", "get", "PROPFIND"}) {
        parsed_request r(m + " / HTTP/1.1\r\nHost: h\r\n\r\n");
        EXPECT_REQUEST_OK(r);
        BOOST_TEST(!r.head.idempotent, m);
        BOOST_TEST(!r.head.is_head, m);
    }
}

BOOST_AUTO_TEST_CASE(http10_request_without_host_is_accepted) {
    parsed_request r("GET /old HTTP/1.0\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.version_minor == 0);
    BOOST_TEST(r.head.host.empty());
    BOOST_TEST(r.head.field_count == 0u);
    BOOST_TEST(r.head.head_size == r.bytes.size());
}

BOOST_AUTO_TEST_CASE(connection_close_sets_the_close_flag) {
    parsed_request r(get_with("Connection: close\r\n"));
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.flags.connection_close);
    BOOST_TEST(!r.head.flags.connection_keep_alive);
    BOOST_TEST(r.head.connection == "close");
}

BOOST_AUTO_TEST_CASE(connection_tokens_are_case_insensitive_and_comma_separated) {
    parsed_request r(get_with("Connection: Keep-Alive ,  UPGRADE,x-custom\r\n"));
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(!r.head.flags.connection_close);
    BOOST_TEST(r.head.flags.connection_keep_alive);
    BOOST_TEST(r.head.flags.connection_upgrade);
    BOOST_TEST(r.head.connection == "Keep-Alive ,  UPGRADE,x-custom");
}

BOOST_AUTO_TEST_CASE(expect_100_continue_sets_the_flag) {
    parsed_request r("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.flags.expect_continue);

    parsed_request other(get_with("Expect: something-else\r\n"));
    EXPECT_REQUEST_OK(other);
    BOOST_TEST(!other.head.flags.expect_continue);
}

BOOST_AUTO_TEST_CASE(obs_text_in_a_value_is_accepted) {
    parsed_request r(get_with("X-Latin: caf\xe9\tna\xefve\r\n"));
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.get("x-latin") == "caf\xe9\tna\xefve");
}

BOOST_AUTO_TEST_CASE(absolute_form_target_sets_host_and_origin_form_target) {
    parsed_request r("GET http://host:81/p?q HTTP/1.1\r\nHost: other.example\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.host == "host:81");
    BOOST_TEST(r.head.target == "/p?q");
}

BOOST_AUTO_TEST_CASE(absolute_form_without_path_targets_the_root) {
    parsed_request r("GET http://host:81 HTTP/1.1\r\nHost: host:81\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.host == "host:81");
    BOOST_TEST(r.head.target == "/");
}

BOOST_AUTO_TEST_CASE(absolute_form_with_userinfo_is_400) {
    EXPECT_REQUEST_ERROR("GET http://user@host/p HTTP/1.1\r\nHost: host\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(target_neither_origin_nor_absolute_form_is_400) {
    EXPECT_REQUEST_ERROR("GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(options_asterisk_form_is_accepted) {
    parsed_request r("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.method == "OPTIONS");
    BOOST_TEST(r.head.target == "*");
    BOOST_TEST(r.head.host == "h");
}

// ---- incomplete and too large ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(incomplete_head_returns_incomplete) {
    const std::string full = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    for (std::size_t n = 0; n < full.size(); ++n) {
        parsed_request r(full.substr(0, n));
        BOOST_TEST(r.status() == "incomplete", "prefix of " << n << " bytes: " << printable(r.bytes));
    }
    parsed_request r(full);
    EXPECT_REQUEST_OK(r);
}

BOOST_AUTO_TEST_CASE(head_of_exactly_max_size_is_accepted) {
    const std::string head = get_with("X-Pad: 0123456789\r\n");
    parsed_request r(head, head.size());
    EXPECT_REQUEST_OK(r);
}

BOOST_AUTO_TEST_CASE(head_larger_than_max_is_431) {
    const std::string head = get_with("X-Pad: 0123456789\r\n");
    parsed_request r(head, head.size() - 1);
    BOOST_TEST(r.status() == "error");
    BOOST_TEST(r.result.error.status == 431);
}

BOOST_AUTO_TEST_CASE(incomplete_head_already_at_max_is_431) {
    const std::string partial = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: aaaaaaaaaaaaaaaaaaaa";
    parsed_request at_max(partial, partial.size());
    BOOST_TEST(at_max.status() == "error");
    BOOST_TEST(at_max.result.error.status == 431);

    parsed_request beyond(partial, partial.size() - 10);
    BOOST_TEST(beyond.status() == "error");
    BOOST_TEST(beyond.result.error.status == 431);

    parsed_request below(partial, partial.size() + 1);
    BOOST_TEST(below.status() == "incomplete");
}

BOOST_AUTO_TEST_CASE(one_hundred_fields_are_accepted) {
    std::string fields;
    for (int i = 1; i < 100; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
    parsed_request r(get_with(fields));
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.field_count == 100u);
}

BOOST_AUTO_TEST_CASE(more_than_100_fields_is_431) {
    std::string fields;
    for (int i = 1; i < 101; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
    EXPECT_REQUEST_ERROR(get_with(fields), 431);
}

BOOST_AUTO_TEST_CASE(field_limit_follows_max_headers) {
    std::string head = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
    http::request_head req;
    BOOST_TEST(http::parse_request(head, http::head_limits{4096, 2}, req).error.status == 431);
    BOOST_TEST(static_cast<int>(http::parse_request(head, http::head_limits{4096, 3}, req).status) ==
               static_cast<int>(http::parse_status::complete));
}

BOOST_AUTO_TEST_CASE(target_longer_than_max_uri_size_is_414) {
    std::string head = "GET /" + std::string(300, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
    http::request_head req;
    auto r = http::parse_request(head, http::head_limits{4096, 100, 256}, req);
    BOOST_TEST(r.error.status == 414);
    BOOST_TEST(static_cast<int>(http::parse_request(head, http::head_limits{4096, 100, 301}, req).status) ==
               static_cast<int>(http::parse_status::complete));
}

// ---- request line ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bare_lf_in_request_line_is_400) {
    EXPECT_REQUEST_ERROR("GET / HTTP/1.1\nHost: h\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(space_in_target_is_400) {
    EXPECT_REQUEST_ERROR("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(two_spaces_between_method_and_target_is_400) {
    EXPECT_REQUEST_ERROR("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(control_character_in_target_is_400) {
    EXPECT_REQUEST_ERROR("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(invalid_method_characters_are_400) {
    EXPECT_REQUEST_ERROR("G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR(" / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(http_2_0_and_http_1_2_are_505) {
    EXPECT_REQUEST_ERROR("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    EXPECT_REQUEST_ERROR("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
}

BOOST_AUTO_TEST_CASE(garbage_version_is_400) {
    EXPECT_REQUEST_ERROR("GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET / JUNK\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET /\r\nHost: h\r\n\r\n", 400);
}

// HTTP-version = HTTP-name "/" DIGIT "." DIGIT (RFC 9112 §2.3): a version that is not digits is a
// syntax error (400), not a well-formed version we do not support (505).
BOOST_AUTO_TEST_CASE(version_with_non_digits_is_400) {
    EXPECT_REQUEST_ERROR("GET / HTTP/1.x\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET / HTTP/a.b\r\nHost: h\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET / HTTP/1-1\r\nHost: h\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(connect_is_405) {
    EXPECT_REQUEST_ERROR("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405);
}

// ---- field lines ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bare_lf_in_a_field_line_is_400) {
    EXPECT_REQUEST_ERROR("GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET / HTTP/1.1\r\nHost: h\r\nX-A: b\n\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(bare_cr_in_a_field_line_is_400) {
    EXPECT_REQUEST_ERROR(get_with("X-A: b\rX-B: c\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(obs_fold_is_400) {
    EXPECT_REQUEST_ERROR(get_with("X-A: first\r\n second\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("X-A: first\r\n\tsecond\r\n"), 400);
    EXPECT_REQUEST_ERROR("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(whitespace_before_colon_is_400) {
    EXPECT_REQUEST_ERROR(get_with("X-A : b\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("X-A\t: b\r\n"), 400);
    EXPECT_REQUEST_ERROR("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(empty_field_name_is_400) {
    EXPECT_REQUEST_ERROR(get_with(": value\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(field_line_without_colon_is_400) {
    EXPECT_REQUEST_ERROR(get_with("X-No-Colon\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(invalid_character_in_field_name_is_400) {
    EXPECT_REQUEST_ERROR(get_with("X(A): b\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("X/A: b\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(ctl_in_a_field_value_is_400) {
    EXPECT_REQUEST_ERROR(get_with(std::string("X-A: a") + '\0' + "b\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("X-A: a\x01z\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("X-A: a\x7fz\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("X-A: a\x1bz\r\n"), 400);
}

// ---- Host -----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(missing_host_in_http11_is_400) {
    EXPECT_REQUEST_ERROR("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(two_host_fields_are_400) {
    EXPECT_REQUEST_ERROR("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400);
    EXPECT_REQUEST_ERROR("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

// ---- message framing ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(content_length_with_transfer_encoding_is_400) {
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(duplicate_content_length_is_400_even_when_identical) {
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 5\r\nContent-Length: 6\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 5\r\nContent-Length: 5\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 5\r\ncontent-length: 5\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 5, 5\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(content_length_with_sign_is_400) {
    EXPECT_REQUEST_ERROR(get_with("Content-Length: +5\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Content-Length: -5\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(content_length_with_inner_spaces_is_400) {
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 1 0\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 1\t0\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(content_length_in_hex_is_400) {
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 0x10\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 1a\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(empty_content_length_is_400) {
    EXPECT_REQUEST_ERROR(get_with("Content-Length:\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Content-Length:   \r\n"), 400);
}

BOOST_AUTO_TEST_CASE(content_length_of_19_or_more_digits_is_400) {
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 1000000000000000000\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 0000000000000000005\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Content-Length: 99999999999999999999999\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(transfer_encoding_other_than_chunked_is_400) {
    for (const char* te : {"xchunked", "chunked, identity", "identity", "gzip, chunked", "chunkedx", "gzip",
                           "chunked;q=1", "chunked,"}) {
        BOOST_TEST_CONTEXT("Transfer-Encoding: " << te) {
            EXPECT_REQUEST_ERROR("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " + std::string(te) + "\r\n\r\n",
                                 400);
        }
    }
}

BOOST_AUTO_TEST_CASE(duplicate_transfer_encoding_is_400) {
    EXPECT_REQUEST_ERROR(get_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(transfer_encoding_in_http10_is_400) {
    EXPECT_REQUEST_ERROR("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

BOOST_AUTO_TEST_CASE(underscore_framing_field_names_are_400) {
    EXPECT_REQUEST_ERROR(get_with("Transfer_Encoding: chunked\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("Content_Length: 5\r\n"), 400);
    EXPECT_REQUEST_ERROR(get_with("content_length: 5\r\n"), 400);
}

BOOST_AUTO_TEST_CASE(other_underscore_field_names_are_accepted) {
    parsed_request r(get_with("X_Custom_Field: v\r\n"));
    EXPECT_REQUEST_OK(r);
    BOOST_TEST(r.head.get("x_custom_field") == "v");
}

BOOST_AUTO_TEST_SUITE_END()

// A head terminated only by bare LFs never contains CRLFCRLF; it must be refused at once, not left
// waiting for client_header_timeout.
BOOST_AUTO_TEST_SUITE(http_parser_bare_lf)
BOOST_AUTO_TEST_CASE(head_ended_by_bare_lfs_is_400_before_it_completes) {
    bulwark::http::request_head req;
    auto r = bulwark::http::parse_request("GET / HTTP/1.1\nHost: h\n\n", 32 * 1024, req);
    BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(bulwark::http::parse_status::error));
    BOOST_TEST(r.error.status == 400);
    bulwark::http::response_head res;
    auto rr = bulwark::http::parse_response("HTTP/1.1 200 OK\nContent-Length: 0\n\n", 32 * 1024, false, res);
    BOOST_TEST(static_cast<int>(rr.status) == static_cast<int>(bulwark::http::parse_status::error));
    BOOST_TEST(rr.error.status == 502);
}
BOOST_AUTO_TEST_SUITE_END()
