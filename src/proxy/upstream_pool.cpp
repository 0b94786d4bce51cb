// proxy/upstream_pool: LIFO reuse; when full, the least recently used connection is closed.
#include "proxy/upstream_pool.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>

namespace bulwark::proxy {

std::unique_ptr<upstream_conn> server_pool::take(time_point now) {
    while (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        if (c->idle_token) {
            c->idle_token = 0;
            error_code ignored;
            c->socket.cancel(ignored);  // the watcher's handler then runs with operation_aborted
        } else if (now - c->idle_since > peek_after && !still_open(*c)) {
            continue;
        }
        c->reused = true;
        return c;
    }
    return nullptr;
}

bool server_pool::still_open(upstream_conn& c) {
    char byte;
    ssize_t n = ::recv(c.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);  // nothing to read: healthy and idle
}

void server_pool::put(std::unique_ptr<upstream_conn> c, time_point now, bool after_bodiless) {
    if (max_idle_ == 0) return;
    if (idle_.size() >= max_idle_) idle_.erase(idle_.begin());
    c->idle_since = now;
    c->deadline.disarm();
    if (after_bodiless) watch(*c);
    idle_.push_back(std::move(c));
}

void server_pool::watch(upstream_conn& c) {
    c.idle_token = ++next_token_;
    // The handler may run after the connection was taken or destroyed: it only compares tokens of
    // connections still in this pool (pools live as long as the worker).
    // Any byte read means the connection is dropped, so where it lands does not matter.
    static char sink;
    c.socket.socket().async_read_some(asio::buffer(&sink, 1),
                             [this, token = c.idle_token](const error_code& ec, std::size_t) {
                                 if (ec != asio::error::operation_aborted) drop(token);
                             });
}

void server_pool::drop(std::uint64_t token) {
    std::erase_if(idle_, [token](const std::unique_ptr<upstream_conn>& c) { return c->idle_token == token; });
}

void server_pool::expire(time_point now, std::chrono::milliseconds max_idle_time) {
    std::erase_if(idle_, [&](const std::unique_ptr<upstream_conn>& c) { return now - c->idle_since > max_idle_time; });
}

}  // namespace bulwark::proxy
