// proxy/upstream_tls: TLS to a backend marked `tls`, on a freshly connected socket: the handshake is
// bounded by upstream_connect_timeout, resumes the server's last session, and a failure (a certificate
// that does not verify, a backend speaking plain HTTP) is a 502 logged with the reason.
#include <openssl/ssl.h>

#include "core/log.hpp"
#include "proxy/client_session.hpp"
#include "proxy/exchange.hpp"
#include "proxy/io.hpp"

namespace bulwark::proxy {

task<bool> exchange::start_upstream_tls(server_target& server, upstream_conn& conn) {
    // Fail closed: a server marked tls never gets a plain request, even without a context.
    ssl_st* ssl = server.tls ? server.tls->new_connection(server.host, server.pool->tls_session()) : nullptr;
    if (!ssl) {
        status_ = 502;
        log_upstream_error(server, "no TLS context for this server (see the error log at the last reload)", {});
        co_return false;
    }
    conn.socket.attach_tls(ssl, false);
    conn.deadline.arm(rt_.now() + cfg_.upstream_connect_timeout);
    error_code ec = co_await conn.socket.handshake();
    timed_out_if(conn.deadline, ec);
    conn.deadline.disarm();
    if (!ec) co_return true;
    status_ = ec == asio::error::timed_out ? 504 : 502;
    std::string why = tls::verify_failure(ssl);
    std::string what = "TLS handshake failed" + (why.empty() ? std::string() : " (" + why + ")");
    log_upstream_error(server, what, ec);
    co_return false;
}

}  // namespace bulwark::proxy
