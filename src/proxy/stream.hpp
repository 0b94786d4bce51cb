// proxy/stream: one side of a proxied connection (client or backend), plain TCP or TLS on one fd.
// Plain costs one null test per operation (no virtual call); TLS runs OpenSSL directly on the fd
// (SSL_set_fd) and waits for readiness with async_wait on WANT_READ/WANT_WRITE, as nginx does, so the
// inline write_some fast path of proxy/io keeps its shape for both.
#pragma once

#include <cstddef>

#include "core/asio.hpp"
#include "proxy/io.hpp"

struct ssl_st;

namespace bulwark::proxy {

class stream {
public:
    using read_token = asio::redirect_error_t<std::decay_t<decltype(use_task)>>;

    explicit stream(tcp_socket socket) : socket_(std::move(socket)) {}
    explicit stream(asio::io_context& io) : socket_(io.get_executor()) {}
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;
    ~stream();

    tcp_socket& socket() { return socket_; }
    bool is_tls() const { return ssl_ != nullptr; }
    ssl_st* ssl() const { return ssl_; }

    /// Makes this a TLS stream, server (client side of the proxy) or client (backend side) end;
    /// takes ownership of `ssl`.
    void attach_tls(ssl_st* ssl, bool server_end = true);
    /// Runs the TLS handshake; the caller's armed deadline bounds it (the wait ends operation_aborted).
    task<error_code> handshake();

    void cancel(error_code& ec) { socket_.cancel(ec); }
    /// A TLS stream sends close_notify (its half-close) before the TCP shutdown.
    void shutdown(tcp::socket::shutdown_type what, error_code& ec);

    // The socket's own, for the backend side.
    task<void> async_connect(const tcp::endpoint& ep, read_token token) { return socket_.async_connect(ep, token); }
    template <class Option>
    void set_option(const Option& o, error_code& ec) { socket_.set_option(o, ec); }
    void non_blocking(bool on, error_code& ec) { socket_.non_blocking(on, ec); }
    int native_handle() { return socket_.native_handle(); }
    /// Sends close_notify once (non-blocking, best effort) and closes the socket.
    void close(error_code& ec);

    /// Same shape as the socket's: plain reads go to Asio's operation (drained_buffer), TLS reads to
    /// SSL_read with readiness waits.
    task<std::size_t> async_read_some(const drained_buffer& b, read_token token) {
        if (!ssl_) return socket_.async_read_some(b, token);
        return tls_read_some(static_cast<char*>(b.data()), b.size(), token.ec_);
    }

    // For proxy/io: the TLS halves of send_now and send_rest.
    bool tls_send_now(gather& g, error_code& ec);
    task<error_code> tls_send_rest(gather g);

private:
    enum class want { none, read, write };
    task<std::size_t> tls_read_some(char* p, std::size_t n, error_code& ec);
    want map_result(int ret, error_code& ec);
    std::size_t record_limit();

    tcp_socket socket_;
    ssl_st* ssl_ = nullptr;
    want blocked_on_ = want::none;  // what the last WANT_* result waits for
    bool shutdown_ok_ = false;      // the handshake finished and no fatal error since: close_notify may go
    std::uint64_t burst_bytes_ = 0; // bytes written since the connection was last idle (record sizing)
    std::int64_t last_write_ms_ = 0;
};

// proxy/io's four for the client side. Plain streams take the socket path inline: one null test more.
inline bool send_now(stream& s, gather& g, error_code& ec) {
    return s.is_tls() ? s.tls_send_now(g, ec) : send_now(s.socket(), g, ec);
}
inline task<error_code> send_rest(stream& s, gather g) {
    return s.is_tls() ? s.tls_send_rest(g) : send_rest(s.socket(), g);
}

}  // namespace bulwark::proxy
