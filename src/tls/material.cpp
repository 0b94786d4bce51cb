// tls/material: file reading and validation by building the contexts once, in the master.
#include "tls/material.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tls/server_context.hpp"
#include "tls/upstream_context.hpp"

namespace bulwark::tls {
namespace {

bool read_file(const std::string& path, std::string& out, std::string& why) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = std::strerror(errno);
        return false;
    }
    std::ostringstream s;
    s << in.rdbuf();
    out = s.str();
    return true;
}

}  // namespace

config::load_result with_tls_files(config::load_result loaded) {
    if (!loaded.cfg) return loaded;
    bool upstream_files = false;
    for (const auto& u : loaded.cfg->upstreams) upstream_files |= !u.tls_ca.empty() || !u.tls_certificate.empty();
    if (loaded.cfg->tls.empty() && !upstream_files) return loaded;
    auto cfg = std::make_shared<config::config>(*loaded.cfg);
    std::vector<config::diagnostic> errors;
    auto want = [&](const std::string& key, const std::string& path, int line) {
        if (path.empty() || cfg->tls_files.count(path)) return;
        std::string bytes, why;
        if (!read_file(path, bytes, why)) errors.push_back({cfg->file, line, key + " = " + path + ": cannot read: " + why});
        else cfg->tls_files.emplace(path, std::move(bytes));
    };
    for (const auto& t : cfg->tls) {
        for (const auto& c : t.certificates) {
            want("certificate", c.certificate, c.certificate_line);
            want("key", c.key, c.key_line);
        }
        want("client_ca", t.client_ca, t.client_ca_line);
        want("ocsp_response", t.ocsp_response, t.ocsp_line);
    }
    for (const auto& u : cfg->upstreams) {
        want("tls_ca", u.tls_ca, u.tls_ca_line);
        want("tls_certificate", u.tls_certificate, u.tls_certificate_line);
        want("tls_key", u.tls_key, u.tls_key_line);
    }
    if (errors.empty()) server_contexts::build(cfg, errors);
    for (const auto& u : cfg->upstreams)
        if (errors.empty() && (!u.tls_ca.empty() || !u.tls_certificate.empty())) upstream_context::build(*cfg, u, errors);
    if (!errors.empty()) return {nullptr, std::move(errors)};
    return {cfg, {}};
}

config::snapshot attach_files(const config::snapshot& cfg, std::map<std::string, std::string> files) {
    if (files.empty()) return cfg;
    auto out = std::make_shared<config::config>(*cfg);
    out->tls_files = std::move(files);
    return out;
}

}  // namespace bulwark::tls
