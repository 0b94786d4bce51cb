// tls/client_certificates: verify_client = require refuses a client without a certificate and passes
// a verified one's subject and fingerprint to the backend (stripping forged copies); optional serves
// both, and only a verified certificate produces the headers.
#include <boost/test/unit_test.hpp>

#include "harness/origin.hpp"
#include "tls/tls_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::tls;

namespace {

std::string mtls_extra(const char* mode) {
    const pki& p = pki::get();
    return "client_ca = " + p.path("ca.pem") + "\nverify_client = " + mode +
           "\nclient_cert_header = X-Client-Subject\nclient_fingerprint_header = X-Client-Fingerprint\n";
}

std::string client_cert_args() {
    const pki& p = pki::get();
    return "--cert " + p.path("client.pem") + " --key " + p.path("client.key");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_client_certificates)

BOOST_AUTO_TEST_CASE(require_refuses_no_certificate_and_forwards_a_verified_subject) {
    origin o("a");
    bulwark_process bw;
    bw.start(tls_options(o.address(), 1, mtls_extra("require")));
    auto none = curl(bw.port());
    BOOST_TEST(!has(none.out, "HTTP/1.1 200"), none.out);
    BOOST_TEST(o.requests() == 0u);
    auto good = curl(bw.port(), "/", client_cert_args() + " -H 'X-Client-Subject: CN=forged'");
    BOOST_TEST(has(good.out, "HTTP/1.1 200"), good.out << bw.diagnostics());
    auto req = o.last_request();
    BOOST_TEST(req.header("x-client-subject").value_or("<none>") == "O=bulwark tests,CN=client one");
    auto fp = run_command({"sh", "-c", "openssl x509 -in " + pki::get().path("client.pem") +
                                           " -noout -fingerprint -sha256 | cut -d= -f2 | tr -d ':' | tr A-F a-f"});
    std::string expected = fp.out.substr(0, fp.out.find('\n'));
    BOOST_TEST(req.header("x-client-fingerprint").value_or("<none>") == expected);
}

BOOST_AUTO_TEST_CASE(optional_serves_clients_without_a_certificate_without_the_headers) {
    origin o("a");
    bulwark_process bw;
    bw.start(tls_options(o.address(), 1, mtls_extra("optional")));
    auto none = curl(bw.port(), "/", "-H 'X-Client-Subject: CN=forged'");
    BOOST_TEST(has(none.out, "HTTP/1.1 200"), none.out);
    BOOST_TEST(!o.last_request().header("x-client-subject").has_value(), "a forged subject is removed");
    auto good = curl(bw.port(), "/", client_cert_args());
    BOOST_TEST(has(good.out, "HTTP/1.1 200"), good.out);
    BOOST_TEST(o.last_request().header("x-client-subject").value_or("<none>") == "O=bulwark tests,CN=client one");
}

BOOST_AUTO_TEST_SUITE_END()
