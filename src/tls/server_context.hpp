// tls/server_context: one SSL_CTX per [tls:NAME] of a config snapshot, built from the file bytes the
// master read (config::tls_files), never from disk. Connections keep the SSL_CTX they started with
// (OpenSSL refcounts it), so a reload swaps certificates for new handshakes only.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "config/model.hpp"

struct ssl_st;
struct ssl_ctx_st;
struct x509_st;

namespace bulwark::tls {

class server_contexts {
public:
    /// Builds every [tls:NAME] of `cfg`; problems come back as FILE:LINE diagnostics (and null).
    static std::shared_ptr<const server_contexts> build(const config::snapshot& cfg,
                                                        std::vector<config::diagnostic>& errors);
    ~server_contexts();
    server_contexts(const server_contexts&) = delete;
    server_contexts& operator=(const server_contexts&) = delete;

    bool serves(int listener) const;
    /// A server-side SSL for a new connection on `listener`, its default context selected; SNI may
    /// switch it during the handshake. Null on allocation failure.
    ssl_st* new_connection(int listener) const;
    /// The settings of the context the handshake ended on.
    const config::tls_settings& settings_of(ssl_st* ssl) const;
    /// handshake_timeout of the listener's default context.
    std::chrono::milliseconds handshake_timeout(int listener) const;

private:
    server_contexts() = default;
    struct entry {
        ssl_ctx_st* ctx = nullptr;
        const config::tls_settings* settings = nullptr;
        std::string ocsp;            // DER, empty: no stapling
        x509_st* ocsp_for = nullptr;  // the certificate it is about (the section's first)
    };
    bool build_one(const config::config& cfg, std::size_t index, std::vector<config::diagnostic>& errors);
    int select(int listener, std::string_view host) const;
    static int on_servername(ssl_st* ssl, int* alert, void* arg);
    static int on_status(ssl_st* ssl, void* arg);

    config::snapshot keep_;  // owns the settings the entries point into (null while validating)
    std::vector<entry> entries_;
    std::vector<std::vector<int>> by_listener_;  // [listener] → entries, the first is the default
};

/// Subject (RFC 2253) and SHA-256 fingerprint (hex) of the verified client certificate, if any.
bool client_certificate(ssl_st* ssl, std::string& subject, std::string& fingerprint);

}  // namespace bulwark::tls
