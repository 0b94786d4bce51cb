// tls/termination: handshakes with real clients (curl, openssl s_client): the request reaches the
// origin with X-Forwarded-Proto: https, SNI picks among the listener's [tls:*] blocks, the client's
// capabilities pick ECDSA or RSA, ALPN says http/1.1, TLS 1.1 is refused, and bytes that are not a TLS
// handshake (or no bytes at all) are closed without disturbing other clients.
#include <boost/test/unit_test.hpp>

#include "harness/http_client.hpp"
#include "harness/origin.hpp"
#include "tls/tls_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::tls;

BOOST_AUTO_TEST_SUITE(tls_termination)

BOOST_AUTO_TEST_CASE(curl_request_over_tls_reaches_origin_with_forwarded_proto_https_and_hsts) {
    origin o("a");
    bulwark_process bw;
    auto opts = tls_options(o.address());
    opts.listener_extra += "hsts = max-age=63072000; includeSubDomains\n";
    bw.start(opts);
    auto r = curl(bw.port(), "/hello", "-H 'X-Forwarded-Proto: gopher'");
    BOOST_TEST(r.exit_code == 0, r.out << bw.diagnostics());
    BOOST_TEST(has(r.out, "HTTP/1.1 200"), r.out);
    BOOST_TEST(has(r.out, "Strict-Transport-Security: max-age=63072000; includeSubDomains"), r.out);
    BOOST_TEST(o.last_request().header("x-forwarded-proto").value_or("<none>") == "https");
    // The access log ends with the protocol, cipher and SNI name.
    BOOST_TEST(bw.wait_for_text(bw.access_log_path(), "\" \"TLSv1.3 TLS_AES_256_GCM_SHA384 a.test\"\n", 3s), bw.access_log());
}

BOOST_AUTO_TEST_CASE(sni_picks_the_named_section_and_unknown_names_get_the_default) {
    origin o("a");
    bulwark_process bw;
    auto opts = tls_options(o.address(), 1, "", tls_section("other", {"b_ec"}, "server_name = b.test\nserver_name = *.wild.test\n"));
    opts.listener_extra += "tls = other\n";
    bw.start(opts);
    auto subject = [&](const std::string& name) {
        auto r = s_client(bw.port(), "-servername " + name, get_close);
        auto at = r.out.find("subject=");
        return at == std::string::npos ? r.out : r.out.substr(at, r.out.find('\n', at) - at);
    };
    BOOST_TEST(has(subject("a.test"), "CN = a.test"));
    BOOST_TEST(has(subject("b.test"), "CN = b.test"));
    BOOST_TEST(has(subject("x.wild.test"), "CN = b.test"));
    BOOST_TEST(has(subject("a.b.wild.test"), "CN = a.test"), "a wildcard covers one label only");
    BOOST_TEST(has(subject("unknown.example"), "CN = a.test"), "unknown names get the first tls = of the listener");
}

BOOST_AUTO_TEST_CASE(ecdsa_or_rsa_certificate_follows_the_client_signature_algorithms) {
    origin o("a");
    bulwark_process bw;
    bw.start(tls_options(o.address()));
    auto rsa = s_client(bw.port(), "-servername a.test -tls1_2 -sigalgs RSA-PSS+SHA256:RSA+SHA256", get_close);
    BOOST_TEST(has(rsa.out, "Server public key is 2048 bit"), rsa.out);
    auto ec = s_client(bw.port(), "-servername a.test -tls1_3 -sigalgs ECDSA+SHA256", get_close);
    BOOST_TEST(has(ec.out, "Server public key is 256 bit"), ec.out);
    BOOST_TEST(has(ec.out, "HTTP/1.1 200"), ec.out);
}

BOOST_AUTO_TEST_CASE(alpn_selects_http11_and_refuses_h2_only_clients) {
    origin o("a");
    bulwark_process bw;
    bw.start(tls_options(o.address()));
    auto both = s_client(bw.port(), "-servername a.test -alpn h2,http/1.1", get_close);
    BOOST_TEST(has(both.out, "ALPN protocol: http/1.1"), both.out);
    auto h2 = s_client(bw.port(), "-servername a.test -alpn h2", get_close);
    BOOST_TEST(has(h2.out, "no application protocol"), h2.out);
}

BOOST_AUTO_TEST_CASE(tls11_is_refused_and_tls12_and_tls13_work) {
    origin o("a");
    bulwark_process bw;
    bw.start(tls_options(o.address()));
    auto old = s_client(bw.port(), "-servername a.test -tls1_1", get_close);
    BOOST_TEST(!has(old.out, "HTTP/1.1 200"), old.out);
    BOOST_TEST((has(old.out, "alert protocol version") || has(old.out, "no protocols available")), old.out);
    for (const char* v : {"-tls1_2", "-tls1_3"}) {
        auto r = s_client(bw.port(), std::string("-servername a.test ") + v, get_close);
        BOOST_TEST(has(r.out, "HTTP/1.1 200"), v << ": " << r.out);
    }
}

BOOST_AUTO_TEST_CASE(garbage_and_stalled_handshakes_are_closed_and_the_worker_serves_others) {
    origin o("a");
    bulwark_process bw;
    bw.start(tls_options(o.address(), 1, "handshake_timeout = 1s\n"));
    http_client stalled(bw.port());  // connects, sends nothing
    http_client half(bw.port());
    half.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));  // a truncated ClientHello
    http_client plain(bw.port());
    plain.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    BOOST_TEST(plain.peer_closed(3000ms), "plain HTTP on the TLS port is closed");
    auto ok = curl(bw.port());
    BOOST_TEST(has(ok.out, "HTTP/1.1 200"), "a TLS client is served meanwhile: " << ok.out);
    BOOST_TEST(stalled.peer_closed(4000ms), "a silent client is closed after handshake_timeout");
    BOOST_TEST(half.peer_closed(4000ms), "a truncated handshake is closed after handshake_timeout");
    BOOST_TEST(bw.wait_for_text(bw.error_log_path(), "timed out (handshake_timeout)"), bw.error_log());
    BOOST_TEST(has(bw.error_log(), "[info]"));
    BOOST_TEST(bw.worker_pids().size() == 1u);
    auto again = curl(bw.port());
    BOOST_TEST(has(again.out, "HTTP/1.1 200"), again.out);
    auto status = bw.run({"-c", bw.config_path(), "-s", "status"}, 10s);
    auto row = status.out.substr(status.out.find("\nTLS ") + 1);
    unsigned long handshakes = 0, resumed = 0, failed = 0, timed_out = 0;
    BOOST_TEST(std::sscanf(row.c_str(), "TLS %lu %lu %lu %lu", &handshakes, &resumed, &failed, &timed_out) == 4, status.out);
    BOOST_TEST(handshakes == 2u, status.out);
    BOOST_TEST(failed >= 1u, "the plain request is counted: " << status.out);
    BOOST_TEST(timed_out == 2u, "the silent and the truncated handshakes: " << status.out);
}

BOOST_AUTO_TEST_CASE(ocsp_response_is_stapled_for_clients_that_ask) {
    origin o("a");
    bulwark_process bw;
    bw.start(tls_options(o.address(), 1, "ocsp_response = " + pki::get().path("a_ec.ocsp") + "\n"));
    auto r = s_client(bw.port(), "-servername a.test -status -sigalgs ECDSA+SHA256", get_close);
    BOOST_TEST(has(r.out, "OCSP Response Status: successful"), r.out);
    BOOST_TEST(has(r.out, "Cert Status: good"), r.out);
    auto plain = s_client(bw.port(), "-servername a.test", get_close);
    BOOST_TEST(!has(plain.out, "OCSP Response Status"), "only clients that ask get it");
    auto rsa = s_client(bw.port(), "-servername a.test -status -tls1_2 -sigalgs RSA-PSS+SHA256", get_close);
    BOOST_TEST(has(rsa.out, "Server public key is 2048 bit"), rsa.out);
    BOOST_TEST(has(rsa.out, "OCSP response: no response sent"), "the response is about the ECDSA certificate: " << rsa.out);
}

BOOST_AUTO_TEST_CASE(plain_listener_with_redirect_https_answers_308_to_the_https_url) {
    bulwark_process bw;
    config_options opts;
    opts.listener_extra = "redirect_https = on\n";
    bw.start(opts);
    http_client c(bw.port());
    auto r = c.get("/path/x?q=1", {{"Host", "www.example.com:8080"}});
    BOOST_TEST(r.status == 308);
    BOOST_TEST(r.header("location").value_or("<none>") == "https://www.example.com/path/x?q=1");
    auto again = c.get("/", {{"Host", "www.example.com"}});
    BOOST_TEST(again.status == 308, "the connection stays open for the next request");
}

BOOST_AUTO_TEST_SUITE_END()
