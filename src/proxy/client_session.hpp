// proxy/client_session: one downstream connection. Reads request heads (keep-alive, pipelining), hands
// each to an exchange, and closes on error, on Connection: close or when the worker drains.
//
//   idle ──bytes──► reading head ──complete──► exchange ──keep-alive──► idle
//     │                 │ timeout/error             │ close/drain/error
//     └──── drain ──────┴───────────────────────────┴──────────────────► closed
#pragma once

#include <memory>
#include <string>

#include "core/asio.hpp"
#include "core/cidr.hpp"
#include "http/headers.hpp"
#include "http/message.hpp"
#include "limit/conn.hpp"
#include "proxy/stream.hpp"
#include "proxy/deadline.hpp"
#include "proxy/runtime.hpp"

namespace bulwark::proxy {

class client_session final : public session_base {
public:
    client_session(runtime& rt, tcp_socket socket, const tcp::endpoint& peer, int listener_index);
    ~client_session() override;

    /// Coroutine that owns the session for the connection's lifetime.
    static task<void> serve(runtime& rt, tcp_socket socket, tcp::endpoint peer, int listener_index);

    void drain_idle() override;

private:
    friend class exchange;
    enum class head_status { ready, closed, rejected };

    task<void> run();
    bool admit_connection();
    task<head_status> read_head();
    void make_room_for_head();
    task<void> reject(int status, std::string_view why);
    // proxy/tls_handshake.cpp
    task<bool> start_tls();
    void add_client_certificate(http::forward_info& fwd) const;

    runtime& rt_;
    stream socket_;  // plain or TLS; named as before so call sites read send_now(s_.socket_, ...)
    deadline_entry deadline_;
    int listener_;
    std::shared_ptr<generation> gen_;

    // Read buffer: [begin_, end_) is unread input; the current head sits at begin_ while it is served.
    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;

    http::request_head req_;
    http::response_head res_;  // the current exchange's response head (parsed fresh each time)
    std::string out_;  // serialized heads, reused across requests
    ip_address peer_{};
    char address_[64] = {};
    std::size_t address_len_ = 0;
    limit::conn_slot conn_slot_;  // counts this connection against max_conns_per_ip, across workers
    // TLS: the contexts the handshake ran on (kept for the connection's life; a reload's new ones
    // serve new connections) and the verified client certificate.
    std::shared_ptr<const tls::server_contexts> tls_;
    const config::tls_settings* tls_settings_ = nullptr;
    std::string client_subject_;
    std::string client_fingerprint_;
    std::string tls_log_;  // "TLSv1.3 TLS_AES_128_GCM_SHA256 www.example.com" for the access log
    bool idle_ = true;
    bool first_request_ = true;
};

}  // namespace bulwark::proxy
