// tls/upstream_context: client contexts for TLS backends.
#include "tls/upstream_context.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/pem.hpp"

namespace bulwark::tls {
namespace {

constexpr unsigned char alpn_offered[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int session_slot_index() {
    static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return slot;
}

// OpenSSL hands every new session (TLS 1.3: each ticket, after the handshake) to the slot.
int on_new_session(SSL* ssl, SSL_SESSION* sess) {
    auto* slot = static_cast<session_slot*>(SSL_get_ex_data(ssl, session_slot_index()));
    if (!slot) return 0;
    if (slot->session) SSL_SESSION_free(slot->session);
    slot->session = sess;
    return 1;  // we keep the reference
}

}  // namespace

session_slot::~session_slot() {
    if (session) SSL_SESSION_free(session);
}

std::unique_ptr<upstream_context> upstream_context::build(const config::config& cfg, const config::upstream& u,
                                                          std::vector<config::diagnostic>& errors) {
    auto fail = [&](int line, const std::string& msg) {
        errors.push_back({cfg.file, line, msg});
        return nullptr;
    };
    auto bytes = [&](const std::string& path) -> const std::string* {
        auto it = cfg.tls_files.find(path);
        return it == cfg.tls_files.end() ? nullptr : &it->second;
    };
    std::unique_ptr<upstream_context> out(new upstream_context);
    out->sni_ = u.tls_sni;
    out->verify_ = u.tls_verify;
    SSL_CTX* ctx = out->ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx) return fail(0, "[upstream:" + u.name + "]: cannot create a TLS context: " + openssl_reason());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_alpn_protos(ctx, alpn_offered, sizeof alpn_offered);
    if (u.tls_verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        if (!u.tls_ca.empty()) {
            const std::string* ca = bytes(u.tls_ca);
            if (!ca) return fail(u.tls_ca_line, "tls_ca = " + u.tls_ca + ": not read");
            if (add_ca_certificates(SSL_CTX_get_cert_store(ctx), *ca) == 0) return fail(u.tls_ca_line, "tls_ca = " + u.tls_ca + ": no PEM certificate");
        } else if (SSL_CTX_load_verify_file(ctx, X509_get_default_cert_file()) != 1) {
            // The public system bundle, loaded whole now: no lookup per handshake.
            ERR_clear_error();
            SSL_CTX_set_default_verify_paths(ctx);
        }
    }
    if (!u.tls_certificate.empty()) {
        const std::string* cert = bytes(u.tls_certificate);
        const std::string* key = bytes(u.tls_key);
        if (!cert) return fail(u.tls_certificate_line, "tls_certificate = " + u.tls_certificate + ": not read");
        if (!key) return fail(u.tls_key_line, "tls_key = " + u.tls_key + ": not read");
        bool ok = false;
        {
            bio_ptr cb(*cert);
            X509* leaf = PEM_read_bio_X509(cb.b, nullptr, nullptr, nullptr);
            ok = leaf && SSL_CTX_use_certificate(ctx, leaf) == 1;
            X509_free(leaf);
            while (ok)
                if (X509* chain = PEM_read_bio_X509(cb.b, nullptr, nullptr, nullptr)) SSL_CTX_add0_chain_cert(ctx, chain);
                else break;
            ERR_clear_error();
        }
        if (!ok) return fail(u.tls_certificate_line, "tls_certificate = " + u.tls_certificate + ": no PEM certificate");
        EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio_ptr(*key).b, nullptr, nullptr, nullptr);
        ok = pkey && SSL_CTX_use_PrivateKey(ctx, pkey) == 1 && SSL_CTX_check_private_key(ctx) == 1;
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        if (!ok) return fail(u.tls_key_line, "tls_key = " + u.tls_key + ": no private key matching tls_certificate");
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    return out;
}

upstream_context::~upstream_context() { SSL_CTX_free(ctx_); }

ssl_st* upstream_context::new_connection(const std::string& address, session_slot& slot) const {
    SSL* ssl = SSL_new(ctx_);
    if (!ssl) return nullptr;
    if (!sni_.empty()) {
        SSL_set_tlsext_host_name(ssl, sni_.c_str());
        if (verify_) SSL_set1_host(ssl, sni_.c_str());
    } else if (verify_) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), address.c_str());
    }
    SSL_set_ex_data(ssl, session_slot_index(), &slot);
    if (slot.session) SSL_set_session(ssl, slot.session);
    return ssl;
}

std::string verify_failure(ssl_st* ssl) {
    long r = SSL_get_verify_result(ssl);
    return r == X509_V_OK ? std::string() : X509_verify_cert_error_string(r);
}

}  // namespace bulwark::tls
