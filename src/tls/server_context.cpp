// tls/server_context: SSL_CTX set-up (Mozilla intermediate defaults from the schema), SNI among the
// listener's contexts, ALPN and OCSP stapling. Resumption (tickets, shared cache) is tls/resumption.
#include "tls/server_context.hpp"

#include <cstring>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls/pem.hpp"
#include "tls/resumption.hpp"

namespace bulwark::tls {
namespace {

// Length-prefixed ALPN protocols we serve, in preference order; "h2" goes first once HTTP/2 exists.
constexpr unsigned char alpn_served[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int listener_index_slot() {
    static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return slot;
}

int on_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen, void*) {
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, outlen, alpn_served, sizeof alpn_served, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;  // RFC 7301 §3.2: no_application_protocol
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

bool name_matches(const std::string& pattern, std::string_view host) {
    if (pattern.starts_with("*.")) {
        auto dot = host.find('.');
        return dot != std::string_view::npos && dot > 0 && host.substr(dot) == std::string_view(pattern).substr(1);
    }
    return pattern == host;
}

}  // namespace

std::shared_ptr<const server_contexts> server_contexts::build(const config::snapshot& cfg,
                                                              std::vector<config::diagnostic>& errors) {
    std::shared_ptr<server_contexts> out(new server_contexts);
    out->keep_ = cfg;
    out->entries_.reserve(cfg->tls.size());  // the OCSP callbacks point at entries
    bool ok = true;
    for (std::size_t i = 0; i < cfg->tls.size(); ++i) ok &= out->build_one(*cfg, i, errors);
    if (!ok) return nullptr;
    for (const auto& l : cfg->listeners) out->by_listener_.push_back(l.tls);
    return out;
}

server_contexts::~server_contexts() {
    for (auto& e : entries_) {
        SSL_CTX_free(e.ctx);
        X509_free(e.ocsp_for);
    }
}

bool server_contexts::build_one(const config::config& cfg, std::size_t index, std::vector<config::diagnostic>& errors) {
    const config::tls_settings& t = cfg.tls[index];
    auto fail = [&](int line, const std::string& msg) {
        errors.push_back({cfg.file, line, msg});
        return false;
    };
    auto bytes = [&](const std::string& path) -> const std::string* {
        auto it = cfg.tls_files.find(path);
        return it == cfg.tls_files.end() ? nullptr : &it->second;
    };
    entry e;
    e.settings = &t;
    e.ctx = SSL_CTX_new(TLS_server_method());
    if (!e.ctx) return fail(t.line, "[tls:" + t.name + "]: cannot create a TLS context: " + openssl_reason());
    entries_.push_back(e);
    SSL_CTX* ctx = e.ctx;
    SSL_CTX_set_min_proto_version(ctx, t.tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, t.tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
    // Idle connections give their 2 x ~34 KiB of record buffers back; writes may move (proxy/client_stream).
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    SSL_CTX_set_read_ahead(ctx, 1);  // one recv() per burst of records, not two per record
    SSL_CTX_set_dh_auto(ctx, 1);     // ffdhe2048 for the DHE suites (RFC 7919)
    if (SSL_CTX_set_cipher_list(ctx, t.ciphers.c_str()) != 1)
        return fail(t.line, "[tls:" + t.name + "] ciphers: " + openssl_reason());
    if (SSL_CTX_set_ciphersuites(ctx, t.ciphersuites.c_str()) != 1)
        return fail(t.line, "[tls:" + t.name + "] ciphersuites: " + openssl_reason());
    if (SSL_CTX_set1_groups_list(ctx, t.groups.c_str()) != 1)
        return fail(t.line, "[tls:" + t.name + "] groups: " + openssl_reason());
    for (const auto& c : t.certificates) {
        const std::string* cert = bytes(c.certificate);
        const std::string* key = bytes(c.key);
        if (!cert) return fail(c.certificate_line, "certificate = " + c.certificate + ": not read");
        if (!key) return fail(c.key_line, "key = " + c.key + ": not read");
        bio_ptr cb(*cert);
        X509* leaf = PEM_read_bio_X509_AUX(cb.b, nullptr, nullptr, nullptr);
        if (!leaf) return fail(c.certificate_line, "certificate = " + c.certificate + ": no PEM certificate: " + openssl_reason());
        bool used = SSL_CTX_use_certificate(ctx, leaf) == 1;
        if (used && !entries_.back().ocsp_for) entries_.back().ocsp_for = X509_dup(leaf);  // the first one
        X509_free(leaf);
        if (!used) return fail(c.certificate_line, "certificate = " + c.certificate + ": " + openssl_reason());
        while (X509* chain = PEM_read_bio_X509(cb.b, nullptr, nullptr, nullptr)) SSL_CTX_add0_chain_cert(ctx, chain);
        ERR_clear_error();  // the end of the chain reads as an error
        bio_ptr kb(*key);
        EVP_PKEY* pkey = PEM_read_bio_PrivateKey(kb.b, nullptr, nullptr, nullptr);
        if (!pkey) return fail(c.key_line, "key = " + c.key + ": no PEM private key: " + openssl_reason());
        used = SSL_CTX_use_PrivateKey(ctx, pkey) == 1;
        EVP_PKEY_free(pkey);
        if (!used || SSL_CTX_check_private_key(ctx) != 1)
            return fail(c.key_line, "key = " + c.key + ": does not match certificate " + c.certificate);
    }
    if (!t.client_ca.empty()) {
        const std::string* ca = bytes(t.client_ca);
        if (!ca) return fail(t.client_ca_line, "client_ca = " + t.client_ca + ": not read");
        STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
        if (add_ca_certificates(SSL_CTX_get_cert_store(ctx), *ca, names) == 0) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            return fail(t.client_ca_line, "client_ca = " + t.client_ca + ": no PEM certificate");
        }
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    if (t.verify != config::verify_client::off)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (t.verify == config::verify_client::require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                           nullptr);
    if (!t.ocsp_response.empty()) {
        const std::string* der = bytes(t.ocsp_response);
        if (!der) return fail(t.ocsp_line, "ocsp_response = " + t.ocsp_response + ": not read");
        const auto* p = reinterpret_cast<const unsigned char*>(der->data());
        OCSP_RESPONSE* r = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der->size()));
        if (!r) return fail(t.ocsp_line, "ocsp_response = " + t.ocsp_response + ": not a DER OCSP response");
        OCSP_RESPONSE_free(r);
        entries_.back().ocsp = *der;
        SSL_CTX_set_tlsext_status_cb(ctx, &server_contexts::on_status);
        SSL_CTX_set_tlsext_status_arg(ctx, &entries_.back());
    }
    // Same id context in every worker and generation, so cached sessions resume anywhere.
    unsigned char sid_ctx[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(t.name.data()), t.name.size(), sid_ctx);
    SSL_CTX_set_session_id_context(ctx, sid_ctx, SSL_MAX_SID_CTX_LENGTH);
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn, nullptr);
    SSL_CTX_set_tlsext_servername_callback(ctx, &server_contexts::on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx, this);
    configure_resumption(ctx, t);
    return true;
}

bool server_contexts::serves(int listener) const {
    return listener >= 0 && static_cast<std::size_t>(listener) < by_listener_.size() &&
           !by_listener_[static_cast<std::size_t>(listener)].empty();
}

ssl_st* server_contexts::new_connection(int listener) const {
    const auto& list = by_listener_[static_cast<std::size_t>(listener)];
    SSL* ssl = SSL_new(entries_[static_cast<std::size_t>(list.front())].ctx);
    if (ssl) SSL_set_ex_data(ssl, listener_index_slot(), reinterpret_cast<void*>(static_cast<std::intptr_t>(listener)));
    return ssl;
}

const config::tls_settings& server_contexts::settings_of(ssl_st* ssl) const {
    SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
    for (const auto& e : entries_)
        if (e.ctx == ctx) return *e.settings;
    return *entries_.front().settings;
}

std::chrono::milliseconds server_contexts::handshake_timeout(int listener) const {
    const auto& list = by_listener_[static_cast<std::size_t>(listener)];
    return entries_[static_cast<std::size_t>(list.front())].settings->handshake_timeout;
}

int server_contexts::select(int listener, std::string_view host) const {
    const auto& list = by_listener_[static_cast<std::size_t>(listener)];
    for (int i : list)  // exact names first, then wildcards
        for (const auto& n : entries_[static_cast<std::size_t>(i)].settings->server_names)
            if (!n.starts_with("*.") && n == host) return i;
    for (int i : list)
        for (const auto& n : entries_[static_cast<std::size_t>(i)].settings->server_names)
            if (n.starts_with("*.") && name_matches(n, host)) return i;
    return list.front();
}

int server_contexts::on_servername(ssl_st* ssl, int*, void* arg) {
    const auto* self = static_cast<const server_contexts*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_NOACK;
    char lower[256];
    std::size_t n = 0;
    for (; name[n] && n < sizeof lower; ++n) lower[n] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[n])));
    auto listener = static_cast<int>(reinterpret_cast<std::intptr_t>(SSL_get_ex_data(ssl, listener_index_slot())));
    SSL_CTX* chosen = self->entries_[static_cast<std::size_t>(self->select(listener, {lower, n}))].ctx;
    if (chosen != SSL_get_SSL_CTX(ssl)) {
        // As nginx does: SSL_set_SSL_CTX swaps certificates only; verification follows the new context.
        SSL_set_SSL_CTX(ssl, chosen);
        SSL_set_verify(ssl, SSL_CTX_get_verify_mode(chosen), SSL_CTX_get_verify_callback(chosen));
        SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(chosen));
        SSL_clear_options(ssl, SSL_get_options(ssl) & ~SSL_CTX_get_options(chosen));
        SSL_set_options(ssl, SSL_CTX_get_options(chosen));
    }
    return SSL_TLSEXT_ERR_OK;
}

int server_contexts::on_status(ssl_st* ssl, void* arg) {
    const auto* e = static_cast<const entry*>(arg);
    // The response is about the first certificate: an RSA client of an ECDSA + RSA section gets none.
    X509* served = SSL_get_certificate(ssl);
    if (e->ocsp.empty() || !served || !e->ocsp_for || X509_cmp(served, e->ocsp_for) != 0) return SSL_TLSEXT_ERR_NOACK;
    auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(e->ocsp.size()));  // OpenSSL frees it
    if (!copy) return SSL_TLSEXT_ERR_NOACK;
    std::memcpy(copy, e->ocsp.data(), e->ocsp.size());
    SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(e->ocsp.size()));
    return SSL_TLSEXT_ERR_OK;
}

bool client_certificate(ssl_st* ssl, std::string& subject, std::string& fingerprint) {
    X509* cert = SSL_get0_peer_certificate(ssl);
    if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return false;
    BIO* b = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    subject.assign(data, static_cast<std::size_t>(n));
    BIO_free(b);
    for (char& c : subject)
        if (c == '\r' || c == '\n') c = ' ';  // never a field break
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    X509_digest(cert, EVP_sha256(), md, &len);
    static constexpr char hex[] = "0123456789abcdef";
    fingerprint.clear();
    for (unsigned i = 0; i < len; ++i) {
        fingerprint.push_back(hex[md[i] >> 4]);
        fingerprint.push_back(hex[md[i] & 15]);
    }
    return true;
}

}  // namespace bulwark::tls
