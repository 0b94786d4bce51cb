// proxy/tunnel: after a 101 answer to an upgrade request (WebSocket), bytes are copied both ways
// untouched. Each direction reads, then writes (back-pressure); activity in either re-arms both
// deadlines, so only a tunnel silent both ways for tunnel_timeout is closed. A client's FIN is passed
// on as a half-close; the origin closing ends the tunnel.
#include "core/log.hpp"
#include "proxy/client_session.hpp"
#include "proxy/exchange.hpp"

namespace bulwark::proxy {

task<void> exchange::pump_client_to_upstream(upstream_conn& conn, bool& finished, steady_timer& done) {
    buffer_pool::lease buf = rt_.buffers().borrow();
    // Bytes the client sent right after its handshake are already in the session buffer.
    gather first;
    first.add(s_.buf_.get() + body_pos_, s_.end_ - body_pos_);
    body_pos_ = s_.end_;
    error_code ec = co_await send_all(conn.socket, first);
    while (!ec) {
        std::size_t got = 0;
        ec = co_await read_some(s_.socket_, s_.deadline_, buf.get(), buffer_pool::buffer_size, got);
        if (ec) break;
        s_.deadline_.arm(rt_.now() + cfg_.tunnel_timeout);
        conn.deadline.arm(rt_.now() + cfg_.tunnel_timeout);
        gather g;
        g.add(buf.get(), got);
        ec = co_await send_all(conn.socket, g);
    }
    error_code ignored;
    if (ec == asio::error::eof) conn.socket.shutdown(tcp::socket::shutdown_send, ignored);
    else conn.socket.cancel(ignored);  // error or timeout: end the other direction too
    finished = true;
    done.cancel();
}

task<exchange::outcome> exchange::tunnel(upstream_conn& conn, std::size_t upstream_pending_from) {
    upgrade_accepted_ = true;
    s_.deadline_.arm(rt_.now() + cfg_.tunnel_timeout);
    conn.deadline.arm(rt_.now() + cfg_.tunnel_timeout);
    bool pump_finished = false;
    steady_timer pump_done(rt_.io().get_executor(), steady_timer::time_point::max());
    asio::co_spawn(rt_.io(), pump_client_to_upstream(conn, pump_finished, pump_done), asio::detached);

    char* buf = relay_.get();
    gather pending;
    pending.add(buf + upstream_pending_from, relay_len_ - upstream_pending_from);
    error_code ec = co_await send_all(s_.socket_, pending);
    while (!ec) {
        std::size_t got = 0;
        ec = co_await read_some(conn.socket, conn.deadline, buf, buffer_pool::buffer_size, got);
        if (ec) break;
        s_.deadline_.arm(rt_.now() + cfg_.tunnel_timeout);
        conn.deadline.arm(rt_.now() + cfg_.tunnel_timeout);
        body_bytes_sent_ += got;
        gather g;
        g.add(buf, got);
        ec = co_await send_all(s_.socket_, g);
    }
    if (ec == asio::error::timed_out) BW_LOG(info, "client %s: tunnel idle for tunnel_timeout, closing", s_.address_);
    // The origin side ended: close both, and wait for the other direction to let go of them.
    error_code ignored;
    s_.socket_.cancel(ignored);
    conn.socket.close(ignored);
    if (!pump_finished) co_await pump_done.async_wait(asio::redirect_error(use_task, ignored));
    s_.deadline_.disarm();
    co_return outcome::relayed;
}

}  // namespace bulwark::proxy
