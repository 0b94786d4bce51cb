// proxy/tls_handshake: the TLS start of a client connection: handshake bounded by handshake_timeout,
// failures (non-TLS bytes, truncated or slow handshakes) logged at info and counted, then the verified
// client certificate kept for the headers the backend receives.
#include <openssl/ssl.h>

#include "core/log.hpp"
#include "proxy/client_session.hpp"
#include "proxy/io.hpp"
#include "shm/atomic.hpp"
#include "tls/resumption.hpp"

namespace bulwark::proxy {

task<bool> client_session::start_tls() {
    tls_ = gen_->tls;
    const auto& name = gen_->cfg->listeners[static_cast<std::size_t>(listener_)].name;
    ssl_st* ssl = tls_ && tls_->serves(listener_) ? tls_->new_connection(listener_) : nullptr;
    if (!ssl) {
        BW_LOG(error, "client %s: no TLS context for listener \"%s\" (see the error log at the last reload)", address_,
               name.c_str());
        co_return false;
    }
    socket_.attach_tls(ssl);
    deadline_.arm(rt_.now() + tls_->handshake_timeout(listener_));
    error_code ec = co_await socket_.handshake();
    timed_out_if(deadline_, ec);
    deadline_.disarm();
    shm::tls_table* table = tls::shared_table();
    if (ec) {
        if (table) shm::add(ec == asio::error::timed_out ? table->header().timed_out : table->header().failed, std::uint64_t{1});
        BW_LOG(info, "client %s: TLS handshake on listener \"%s\" failed: %s", address_, name.c_str(),
               ec == asio::error::timed_out ? "timed out (handshake_timeout)" : ec.message().c_str());
        co_return false;
    }
    if (table) {
        shm::add(table->header().handshakes, std::uint64_t{1});
        if (SSL_session_reused(ssl)) shm::add(table->header().resumed, std::uint64_t{1});
    }
    tls_settings_ = &tls_->settings_of(ssl);
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (rt_.access_log().enabled()) {
        tls_log_.append(SSL_get_version(ssl)).append(" ").append(SSL_get_cipher_name(ssl)).append(" ");
        tls_log_.append(sni ? sni : "-");
    }
    if (log::enabled(log::level::debug)) {
        BW_LOG(debug, "client %s: TLS handshake on listener \"%s\": %s %s, sni %s, [tls:%s]%s", address_, name.c_str(),
               SSL_get_version(ssl), SSL_get_cipher_name(ssl), sni ? sni : "-", tls_settings_->name.c_str(),
               SSL_session_reused(ssl) ? ", resumed" : "");
    }
    if (tls_settings_->verify != config::verify_client::off &&
        (!tls_settings_->client_cert_header.empty() || !tls_settings_->client_fingerprint_header.empty()))
        tls::client_certificate(ssl, client_subject_, client_fingerprint_);
    co_return true;
}

void client_session::add_client_certificate(http::forward_info& fwd) const {
    if (!tls_settings_) return;
    fwd.client_cert_header = tls_settings_->client_cert_header;
    fwd.client_fingerprint_header = tls_settings_->client_fingerprint_header;
    fwd.client_cert = client_subject_;
    fwd.client_fingerprint = client_fingerprint_;
}

}  // namespace bulwark::proxy
