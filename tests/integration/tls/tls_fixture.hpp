// tls/tls_fixture: a throw-away PKI made with the openssl CLI once per test run (a local CA, ECDSA
// P-256 and RSA leaves for a.test, an ECDSA leaf for b.test, a second a.test leaf for reloads, a client
// certificate, a TLS origin's, an OCSP response for the a.test ECDSA leaf), plus helpers that run `openssl s_client` and curl against a started bulwark.
// No private key is committed: everything lives in a temporary directory removed at exit.
#pragma once

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "harness/bulwark_process.hpp"

namespace bulwark::test::tls {

inline command_result sh(const std::string& script, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return run_command({"sh", "-c", script}, timeout);
}

class pki {
public:
    static const pki& get() {
        static pki p;
        return p;
    }
    std::string path(std::string_view name) const { return dir_.file(name); }

private:
    pki() {
        const std::string d = dir_.path();
        std::string script = "set -e; cd " + d + "\n" +
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem"
            " -days 2 -subj '/CN=bulwark test CA' 2>/dev/null\n"
            "leaf() { # name key-args subject san\n"
            "  openssl req -newkey $2 -nodes -keyout $1.key -out $1.csr -subj \"$3\" 2>/dev/null\n"
            "  printf 'subjectAltName=%s\\n' \"$4\" > $1.ext\n"
            "  openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out $1.pem -extfile $1.ext 2>/dev/null\n"
            "}\n"
            "leaf a_ec 'ec -pkeyopt ec_paramgen_curve:P-256' '/CN=a.test' 'DNS:a.test'\n"
            "leaf a_rsa 'rsa:2048' '/CN=a.test' 'DNS:a.test'\n"
            "leaf b_ec 'ec -pkeyopt ec_paramgen_curve:P-256' '/CN=b.test' 'DNS:b.test,DNS:*.wild.test'\n"
            "leaf a_new 'ec -pkeyopt ec_paramgen_curve:P-256' '/CN=a.test/O=renewed' 'DNS:a.test'\n"
            "leaf origin 'ec -pkeyopt ec_paramgen_curve:P-256' '/CN=origin' 'IP:127.0.0.1,DNS:origin.test'\n"
            "leaf client 'ec -pkeyopt ec_paramgen_curve:P-256' '/CN=client one/O=bulwark tests' 'DNS:client'\n"
            "printf 'V\\t301231235959Z\\t\\t%s\\tunknown\\t/CN=a.test\\n' $(openssl x509 -in a_ec.pem -noout -serial | cut -d= -f2) > index.txt\n"
            "openssl ocsp -index index.txt -rsigner ca.pem -rkey ca.key -CA ca.pem -issuer ca.pem -cert a_ec.pem"
            " -respout a_ec.ocsp -ndays 1 >/dev/null 2>&1\n"
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other_ca.key -out other_ca.pem"
            " -days 2 -subj '/CN=other CA' 2>/dev/null\n";
        auto r = sh(script, std::chrono::seconds(60));
        if (r.exit_code != 0) throw std::runtime_error("cannot make the test PKI: " + r.err);
    }
    temp_dir dir_;
};

/// A [tls:NAME] section with the given certificate pairs ("a_ec", "a_rsa"...) and extra lines.
inline std::string tls_section(const std::string& name, const std::vector<std::string>& leaves,
                               const std::string& extra = "") {
    const pki& p = pki::get();
    std::string s = "[tls:" + name + "]\n";
    for (const auto& l : leaves) s += "certificate = " + p.path(l + ".pem") + "\nkey = " + p.path(l + ".key") + "\n";
    return s + extra;
}

/// The common case: `workers`, one origin, listener main with tls = site (a_ec + a_rsa for a.test).
inline config_options tls_options(const std::string& origin_address, int workers = 1,
                                  const std::string& tls_extra = "", const std::string& more_sections = "") {
    config_options o = config_options::with_servers({origin_address});
    o.workers = workers;
    o.listener_extra = "tls = site\n";
    o.tail = tls_section("site", {"a_ec", "a_rsa"}, "server_name = a.test\n" + tls_extra) + more_sections;
    return o;
}

/// `openssl s_client` to 127.0.0.1:port with `args`, sending `request` (a shell printf format) and
/// waiting for the server to close (-ign_eof). Output in out (with -brief-like lines from s_client).
inline command_result s_client(std::uint16_t port, const std::string& args, const std::string& request = "") {
    const pki& p = pki::get();
    std::string cmd = "printf '" + request + "' | openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                      " -CAfile " + p.path("ca.pem") + " -ign_eof " + args + " 2>&1";
    return sh(cmd);
}

inline const char* get_close = "GET / HTTP/1.1\\r\\nHost: a.test\\r\\nConnection: close\\r\\n\\r\\n";

inline bool has(const std::string& text, std::string_view needle) { return text.find(needle) != std::string::npos; }

/// curl over https to a.test (resolved to 127.0.0.1) trusting the test CA; prints headers and body.
inline command_result curl(std::uint16_t port, const std::string& path = "/", const std::string& extra = "") {
    const pki& p = pki::get();
    const std::string port_text = std::to_string(port);
    return run_command({"sh", "-c",
                        "curl -sS -i --max-time 10 --cacert " + p.path("ca.pem") + " --resolve a.test:" + port_text +
                            ":127.0.0.1 " + extra + " https://a.test:" + port_text + path + " 2>&1"},
                       std::chrono::seconds(20));
}

/// Pid of the worker that logged the last TLS handshake (log_level = debug), or -1.
inline int last_handshake_pid(const bulwark_process& bw, bool* resumed = nullptr) {
    std::string log = bw.error_log();
    auto at = log.rfind("TLS handshake on listener");
    if (at == std::string::npos) return -1;
    auto line_start = log.rfind('\n', at);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    auto line_end = log.find('\n', at);
    std::string line = log.substr(line_start, line_end - line_start);
    if (resumed) *resumed = has(line, ", resumed");
    auto close = line.find("] ");
    return close == std::string::npos ? -1 : std::atoi(line.c_str() + close + 2);
}

}  // namespace bulwark::test::tls

namespace bulwark::test::tls {

/// Starts `bw` with `o`, its error log at debug level (handshake lines name the worker's pid).
inline void start_debug(bulwark_process& bw, const config_options& o) {
    std::string text = bw.config(o);
    auto at = text.find("log_level = info");
    if (at != std::string::npos) text.replace(at, 16, "log_level = debug");
    bw.write_config(text);
    bw.start(static_cast<std::size_t>(o.workers));
}

}  // namespace bulwark::test::tls
