// config: [tls:NAME] and the listener's tls keys become the model, and their mistakes name the line.
#include <boost/test/unit_test.hpp>

#include <string>

#include "config/loader.hpp"

namespace cfg = bulwark::config;

namespace {

const std::string base = "[listener:web]\nbind = 127.0.0.1:8443\n";  // lines 1-2

std::string errors_of(const cfg::load_result& r) {
    std::string out;
    for (const auto& d : r.errors) out += d.text() + "\n";
    return out;
}

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(config_tls)

BOOST_AUTO_TEST_CASE(sections_and_listener_keys_load_with_defaults) {
    auto r = cfg::load_text(base + "tls = site\ntls = other\nhsts = max-age=10; includeSubDomains\n"
                                   "[tls:site]\ncertificate = /c1.pem\nkey = /k1.pem\ncertificate = /c2.pem\nkey = /k2.pem\n"
                                   "server_name = Example.COM\nserver_name = *.example.com\n"
                                   "[tls:other]\ncertificate = /o.pem\nkey = /o.key\nprotocols = TLSv1.3\n"
                                   "session_cache = off\nverify_client = optional\nclient_ca = /ca.pem\n",
                            "/etc/t.ini");
    BOOST_TEST_REQUIRE(r.errors.empty(), errors_of(r));
    const auto& c = *r.cfg;
    BOOST_TEST(c.listeners[0].tls.size() == 2u);
    BOOST_TEST(c.listeners[0].hsts == "max-age=10; includeSubDomains");
    BOOST_TEST(c.tls[0].certificates.size() == 2u);
    BOOST_TEST(c.tls[0].certificates[1].key == "/k2.pem");
    BOOST_TEST(c.tls[0].certificates[1].key_line == 10);
    BOOST_TEST(c.tls[0].server_names[0] == "example.com");
    BOOST_TEST(c.tls[0].tls12);
    BOOST_TEST(c.tls[0].session_cache == 4u * 1024 * 1024);
    BOOST_TEST(c.tls[0].handshake_timeout.count() == 10'000);
    BOOST_TEST(c.tls[0].ciphersuites == "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
    BOOST_TEST(!c.tls[1].tls12);
    BOOST_TEST(c.tls[1].tls13);
    BOOST_TEST(c.tls[1].session_cache == 0u);
    BOOST_TEST((c.tls[1].verify == cfg::verify_client::optional));
}

BOOST_AUTO_TEST_CASE(mistakes_name_their_lines) {
    auto r = cfg::load_text(base + "tls = nowhere\nredirect_https = on\n"       // 3, 4
                                   "[tls:a]\ncertificate = /c.pem\n"             // 5, 6
                                   "protocols = TLSv1.1\nverify_client = require\n"  // 7, 8
                                   "server_name = a.*.example.com\n",           // 9
                            "t.ini");
    std::string e = errors_of(r);
    BOOST_TEST(has(e, "t.ini:3: tls = nowhere: no [tls:nowhere] section"), e);
    BOOST_TEST(has(e, "t.ini:5: [tls:a] needs 'key'"), e);
    BOOST_TEST(has(e, "t.ini:7: protocols: TLSv1.1 is not supported"), e);
    BOOST_TEST(has(e, "t.ini:8: verify_client = require needs client_ca"), e);
    BOOST_TEST(has(e, "t.ini:9: server_name = a.*.example.com"), e);
}

BOOST_AUTO_TEST_CASE(redirect_on_a_tls_listener_and_hsts_on_a_plain_one_are_refused) {
    auto r = cfg::load_text(base + "tls = a\nredirect_https = on\n[listener:plain]\nbind = 127.0.0.1:8080\nhsts = max-age=1\n"
                                   "[tls:a]\ncertificate = /c.pem\nkey = /k.pem\n",
                            "t.ini");
    std::string e = errors_of(r);
    BOOST_TEST(has(e, "t.ini:4: redirect_https = on: the listener already serves TLS"), e);
    BOOST_TEST(has(e, "t.ini:7: hsts:"), e);
}

BOOST_AUTO_TEST_CASE(upstream_tls_options_load) {
    auto r = cfg::load_text(base + "upstream = app\n[upstream:app]\nserver = 10.0.0.1:443 tls weight=2\n"
                                   "tls_sni = app.internal\ntls_verify = off\n",
                            "t.ini");
    BOOST_TEST_REQUIRE(r.errors.empty(), errors_of(r));
    BOOST_TEST(r.cfg->upstreams[0].servers[0].tls);
    BOOST_TEST(r.cfg->upstreams[0].servers[0].weight == 2u);
    BOOST_TEST(r.cfg->upstreams[0].tls_sni == "app.internal");
    BOOST_TEST(!r.cfg->upstreams[0].tls_verify);
}

BOOST_AUTO_TEST_SUITE_END()
