// tls/resumption: OpenSSL callbacks over shm/tls_table. Tickets are AES-256-CBC + HMAC-SHA256 (the
// RFC 5077 §4 layout OpenSSL uses); the previous key still decrypts, and a ticket under it is renewed.
#include "tls/resumption.hpp"

#include <cstring>
#include <ctime>
#include <optional>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "core/log.hpp"
#include "shm/atomic.hpp"
#include "shm/segment.hpp"

namespace bulwark::tls {
namespace {

constexpr std::uint32_t tls_segment_version = 1;  // bump with shm::tls_table_version
constexpr long session_lifetime_s = 86'400;       // Mozilla intermediate: one day
std::optional<shm::segment> segment_;
std::optional<shm::tls_table> table_;

shm::ticket_key fresh_key() {
    shm::ticket_key k;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&k), sizeof k) != 1)
        throw std::runtime_error("RAND_bytes failed: no randomness for ticket keys");
    return k;
}

std::chrono::milliseconds shortest_rotation(const config::config& cfg) {
    std::chrono::milliseconds r = std::chrono::hours(12);
    bool any = false;
    for (const auto& t : cfg.tls) {
        if (!t.session_tickets) continue;
        r = any ? std::min(r, t.ticket_key_rotation) : t.ticket_key_rotation;
        any = true;
    }
    return r;
}

int init_mac(EVP_MAC_CTX* mac, const shm::ticket_key& k) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<std::uint8_t*>(k.hmac), sizeof k.hmac),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(mac, params);
}

int on_ticket_key(SSL*, unsigned char name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
    shm::ticket_key keys[2];
    table_->read_keys(keys);
    if (enc) {
        if (RAND_bytes(iv, 16) != 1) return -1;
        std::memcpy(name, keys[0].name, 16);
        if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, keys[0].aes, iv) != 1) return -1;
        return init_mac(mac, keys[0]) == 1 ? 1 : -1;
    }
    for (int i = 0; i < 2; ++i) {
        if (std::memcmp(name, keys[i].name, 16) != 0) continue;
        if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, keys[i].aes, iv) != 1) return -1;
        if (init_mac(mac, keys[i]) != 1) return -1;
        return i == 0 ? 1 : 2;  // 2: valid, but issue a ticket under the current key
    }
    return 0;  // unknown (or rotated out): full handshake
}

int on_new_session(SSL*, SSL_SESSION* sess) {
    unsigned len = 0;
    const unsigned char* id = SSL_SESSION_get_id(sess, &len);
    int der_len = i2d_SSL_SESSION(sess, nullptr);
    if (der_len <= 0 || static_cast<std::size_t>(der_len) > shm::tls_table::session_der_max) return 0;
    std::uint8_t der[shm::tls_table::session_der_max];
    unsigned char* p = der;
    i2d_SSL_SESSION(sess, &p);
    table_->store({id, len}, {der, static_cast<std::size_t>(der_len)}, SSL_SESSION_get_time(sess) + SSL_SESSION_get_timeout(sess));
    return 0;  // we keep no reference
}

SSL_SESSION* on_get_session(SSL*, const unsigned char* id, int len, int* copy) {
    *copy = 0;
    std::uint8_t der[shm::tls_table::session_der_max];
    std::size_t n = table_->find({id, static_cast<std::size_t>(len)}, der, std::time(nullptr));
    if (n == 0) return nullptr;
    const unsigned char* p = der;
    return d2i_SSL_SESSION(nullptr, &p, static_cast<long>(n));
}

void on_remove_session(SSL_CTX*, SSL_SESSION* sess) {
    unsigned len = 0;
    const unsigned char* id = SSL_SESSION_get_id(sess, &len);
    table_->remove({id, len});
}

}  // namespace

void open_shared_table(const config::config& cfg, std::string& notes) {
    if (cfg.tls.empty()) return;
    std::uint64_t cache = 0;
    for (const auto& t : cfg.tls) cache = std::max(cache, t.session_cache);
    const std::size_t bytes = shm::align_up(shm::tls_table::bytes_for(cache)) + shm::segment_header_bytes;
    auto opened = shm::segment::open_or_create(cfg.global.state_dir + "/tls.shm", bytes, tls_segment_version);
    if (opened.created && !opened.reason.empty()) notes += "TLS shared memory recreated: " + opened.reason + "\n";
    segment_ = std::move(opened.seg);
    std::string reason;
    table_ = shm::tls_table::open_or_format(segment_->area(0, segment_->data_size()), reason);
    if (!reason.empty()) notes += "TLS session table formatted: " + reason + "\n";
    if (!table_->has_keys()) table_->publish_key(fresh_key(), std::time(nullptr));
}

bool read_handshake_counts(const std::string& state_dir, handshake_counts& out) {
    try {
        auto seg = shm::segment::open_existing(state_dir + "/tls.shm", tls_segment_version, shm::segment_access::read_only);
        const auto* h = reinterpret_cast<const shm::tls_table_header*>(seg.data());
        if (h->magic != shm::tls_table_magic) return false;
        auto& m = const_cast<shm::tls_table_header&>(*h);
        out = {shm::load(m.handshakes), shm::load(m.resumed), shm::load(m.failed), shm::load(m.timed_out)};
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

shm::tls_table* shared_table() { return table_ ? &*table_ : nullptr; }

void rotate_ticket_keys_if_due(const config::config& cfg) {
    if (!table_ || cfg.tls.empty()) return;
    const std::int64_t now = std::time(nullptr);
    const auto every = std::chrono::duration_cast<std::chrono::seconds>(shortest_rotation(cfg)).count();
    if (now - table_->rotated_at() < every) return;
    try {
        table_->publish_key(fresh_key(), now);
        BW_LOG(info, "TLS ticket keys rotated (the previous key still decrypts)");
    } catch (const std::exception& e) {
        BW_LOG(error, "TLS ticket keys not rotated: %s", e.what());
    }
}

void configure_resumption(ssl_ctx_st* ctx, const config::tls_settings& t) {
    SSL_CTX_set_timeout(ctx, session_lifetime_s);
    if (!t.session_tickets) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    else if (table_) SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket_key);
    SSL_CTX_set_num_tickets(ctx, 1);  // one ticket per handshake is enough for HTTP/1.1 clients
    if (t.session_cache == 0 || !table_) {
        SSL_CTX_set_session_cache_mode(ctx, t.session_cache == 0 ? SSL_SESS_CACHE_OFF : SSL_SESS_CACHE_SERVER);
        return;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    SSL_CTX_sess_set_get_cb(ctx, on_get_session);
    SSL_CTX_sess_set_remove_cb(ctx, on_remove_session);
}

}  // namespace bulwark::tls
