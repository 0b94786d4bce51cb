// tls/certificate_reload: a reload swaps the certificate for new handshakes while an open keep-alive
// connection goes on with the old one; a missing certificate or a key that does not match it is a
// FILE:LINE error of `bulwark -t` and of `-s reload`, which leaves the old configuration serving.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "harness/origin.hpp"
#include "tls/tls_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::tls;

namespace {

std::string served_subject(std::uint16_t port) {
    auto r = s_client(port, "-servername a.test", get_close);
    auto at = r.out.find("subject=");
    return at == std::string::npos ? r.out : r.out.substr(at, r.out.find('\n', at) - at);
}

// The line number of the first line of `text` starting with `prefix`.
int line_of(const std::string& text, const std::string& prefix) {
    int line = 1;
    for (std::size_t at = 0; at < text.size(); ++line) {
        if (text.compare(at, prefix.size(), prefix) == 0) return line;
        at = text.find('\n', at);
        if (at == std::string::npos) break;
        ++at;
    }
    return -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_certificate_reload)

BOOST_AUTO_TEST_CASE(reload_serves_the_new_certificate_and_keeps_the_open_connection) {
    origin o("a");
    bulwark_process bw;
    auto opts = tls_options(o.address(), 2);
    bw.start(opts);
    BOOST_TEST(!has(served_subject(bw.port()), "renewed"));

    // A keep-alive connection made before the reload: a shell loop feeding s_client two requests, the
    // second one after the reload.
    const std::string flag = bw.file("reloaded.flag");
    const pki& p = pki::get();
    std::string script = "( printf 'GET /one HTTP/1.1\\r\\nHost: a.test\\r\\n\\r\\n'; while [ ! -e " + flag +
                         " ]; do sleep 0.05; done; printf 'GET /two HTTP/1.1\\r\\nHost: a.test\\r\\nConnection: close\\r\\n\\r\\n' ) | "
                         "openssl s_client -connect 127.0.0.1:" + std::to_string(bw.port()) + " -servername a.test -CAfile " +
                         p.path("ca.pem") + " -ign_eof > " + bw.file("keepalive.out") + " 2>&1";
    pid_t keepalive = ::fork();
    if (keepalive == 0) {
        ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    BOOST_TEST_REQUIRE(wait_until([&] { return o.requests() == 2u; }, 5s));  // served_subject() made the first

    opts.tail = tls_section("site", {"a_new"}, "server_name = a.test\n");
    bw.write_config(bw.config(opts));
    auto r = bw.run({"-c", bw.config_path(), "-s", "reload"}, 30s);
    BOOST_TEST(r.exit_code == 0, r.out << r.err << bw.diagnostics());
    BOOST_TEST(has(served_subject(bw.port()), "O = renewed"), "new handshakes get the new certificate");

    write_text(flag, "1");
    int status = 0;
    BOOST_TEST_REQUIRE(wait_until([&] { return ::waitpid(keepalive, &status, WNOHANG) == keepalive; }, 10s));
    std::string out = read_text(bw.file("keepalive.out"));
    BOOST_TEST(o.requests() == 4u, out);
    BOOST_TEST(o.last_request().target == "/two", "the second request went over the old connection");
    auto second = out.rfind("HTTP/1.1 200");
    BOOST_TEST((second != std::string::npos && second != out.find("HTTP/1.1 200")), out);
    BOOST_TEST(!has(out, "renewed"), "the open connection kept its certificate");
}

BOOST_AUTO_TEST_CASE(bad_certificate_and_mismatched_key_are_refused_by_check_and_reload) {
    origin o("a");
    bulwark_process bw;
    auto opts = tls_options(o.address());
    bw.start(opts);
    const pki& p = pki::get();
    write_text(bw.file("broken.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");

    struct bad_case {
        std::string section;
        std::string line_prefix;
        std::string message;
    };
    const bad_case cases[] = {
        {"[tls:site]\ncertificate = " + bw.file("broken.pem") + "\nkey = " + p.path("a_ec.key") + "\n", "certificate = ",
         "no PEM certificate"},
        {"[tls:site]\ncertificate = " + p.path("a_ec.pem") + "\nkey = " + p.path("b_ec.key") + "\n", "key = ",
         "does not match certificate"},
        {"[tls:site]\ncertificate = " + bw.file("missing.pem") + "\nkey = " + p.path("a_ec.key") + "\n", "certificate = ",
         "cannot read"},
    };
    for (const auto& c : cases) {
        opts.tail = c.section;
        const std::string text = bw.config(opts);
        bw.write_config(text);
        const std::string where = bw.config_path() + ":" + std::to_string(line_of(text, c.line_prefix)) + ":";
        auto check = bw.run({"-c", bw.config_path(), "-t"}, 30s);
        BOOST_TEST(check.exit_code == 1);
        BOOST_TEST(has(check.err, where), where << " in: " << check.err);
        BOOST_TEST(has(check.err, c.message), check.err);
        auto reload = bw.run({"-c", bw.config_path(), "-s", "reload"}, 30s);
        BOOST_TEST(reload.exit_code != 0);
        BOOST_TEST(has(reload.out + reload.err, where), reload.out << reload.err);
        BOOST_TEST(has(served_subject(bw.port()), "CN = a.test"), "the old configuration keeps serving");
    }
    auto ok = curl(bw.port());
    BOOST_TEST(has(ok.out, "HTTP/1.1 200"), ok.out);
}

BOOST_AUTO_TEST_SUITE_END()
