// tls/upstream_tls: servers marked `tls` are reached over TLS, verified against tls_ca (a wrong CA is
// a 502 with the reason in the log), by IP address or by tls_sni, resuming their session on the next
// connection, and with a client certificate when the backend asks for one. The backend is a real
// `openssl s_server -www`, which answers with a page that says whether the session was reused.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/http_client.hpp"
#include "harness/ports.hpp"
#include "tls/tls_fixture.hpp"

using namespace bulwark::test;
using namespace bulwark::test::tls;

namespace {

// `openssl s_server -www` on a free port, killed by pid when destroyed.
class tls_origin {
public:
    explicit tls_origin(const std::string& extra = "") : port_(free_port()) {
        const pki& p = pki::get();
        std::string cmd = "exec openssl s_server -quiet -www -accept 127.0.0.1:" + std::to_string(port_) + " -cert " +
                          p.path("origin.pem") + " -key " + p.path("origin.key") + " " + extra + " >/dev/null 2>&1";
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        if (!wait_until([&] { return port_accepts(port_); }, 5s)) throw std::runtime_error("openssl s_server did not start");
    }
    ~tls_origin() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

private:
    std::uint16_t port_;
    pid_t pid_ = -1;
};

config_options upstream_options(const std::string& address, const std::string& upstream_extra) {
    config_options o;
    o.tail = "[upstream:backend]\nserver = " + address + " tls\nkeepalive = 0\n" + upstream_extra;
    o.listener_extra = "upstream = backend\n";
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_upstream)

BOOST_AUTO_TEST_CASE(right_ca_works_and_the_next_connection_resumes_the_session) {
    tls_origin origin;
    bulwark_process bw;
    bw.start(upstream_options(origin.address(), "tls_ca = " + pki::get().path("ca.pem") + "\n"));
    http_client c(bw.port());
    auto first = c.get("/");
    BOOST_TEST(first.status == 200, first.body << bw.diagnostics());
    BOOST_TEST(has(first.body, "New, TLSv1.3"), first.body);
    http_client c2(bw.port());
    auto second = c2.get("/");
    BOOST_TEST(second.status == 200);
    BOOST_TEST(has(second.body, "Reused, TLSv1.3"), "the worker kept the server's session: " << second.body);
}

BOOST_AUTO_TEST_CASE(wrong_ca_is_a_502_logged_with_the_reason) {
    tls_origin origin;
    bulwark_process bw;
    bw.start(upstream_options(origin.address(), "tls_ca = " + pki::get().path("other_ca.pem") + "\n"));
    http_client c(bw.port());
    auto r = c.get("/");
    BOOST_TEST(r.status == 502);
    BOOST_TEST(bw.wait_for_text(bw.error_log_path(), "certificate verify failed"), bw.error_log());
    BOOST_TEST(has(bw.error_log(), "TLS handshake failed"), bw.error_log());
}

BOOST_AUTO_TEST_CASE(tls_sni_is_sent_and_verified_and_tls_verify_off_accepts_any_certificate) {
    tls_origin origin;
    bulwark_process bw;
    auto opts = upstream_options(origin.address(), "tls_ca = " + pki::get().path("ca.pem") + "\ntls_sni = wrong.test\n");
    opts.tail += "[upstream:lax]\nserver = " + origin.address() + " tls\ntls_verify = off\ntls_sni = wrong.test\n"
                 "[upstream:named]\nserver = " + origin.address() + " tls\ntls_ca = " + pki::get().path("ca.pem") +
                 "\ntls_sni = origin.test\n"
                 "[route:lax]\npath_prefix = /lax\nupstream = lax\n[route:named]\npath_prefix = /named\nupstream = named\n";
    bw.start(opts);
    http_client c(bw.port());
    BOOST_TEST(c.get("/").status == 502, "the certificate does not name wrong.test");
    BOOST_TEST(c.get("/lax").status == 200);
    BOOST_TEST(c.get("/named").status == 200);
}

BOOST_AUTO_TEST_CASE(client_certificate_is_presented_to_a_backend_that_requires_one) {
    const pki& p = pki::get();
    tls_origin origin("-Verify 1 -verify_return_error -CAfile " + p.path("ca.pem"));
    bulwark_process bw;
    auto opts = upstream_options(origin.address(), "tls_ca = " + p.path("ca.pem") + "\ntls_certificate = " +
                                                       p.path("client.pem") + "\ntls_key = " + p.path("client.key") + "\n");
    opts.tail += "[upstream:anonymous]\nserver = " + origin.address() + " tls\ntls_ca = " + p.path("ca.pem") +
                 "\n[route:anonymous]\npath_prefix = /anonymous\nupstream = anonymous\n";
    bw.start(opts);
    http_client c(bw.port());
    BOOST_TEST(c.get("/").status == 200, bw.diagnostics());
    BOOST_TEST(c.get("/anonymous").status == 502);
}

BOOST_AUTO_TEST_SUITE_END()
