// proxy/upstream_pool: LIFO reuse; when full, the least recently used connection is closed.
#include "proxy/upstream_pool.hpp"

#include <algorithm>

namespace bulwark::proxy {

std::unique_ptr<upstream_conn> server_pool::take() {
    if (idle_.empty()) return nullptr;
    auto c = std::move(idle_.back());
    idle_.pop_back();
    c->reused = true;
    c->idle_token = 0;
    error_code ignored;
    c->socket.cancel(ignored);  // the watcher's handler then runs with operation_aborted
    return c;
}

void server_pool::put(std::unique_ptr<upstream_conn> c, time_point now) {
    if (max_idle_ == 0) return;
    if (idle_.size() >= max_idle_) idle_.erase(idle_.begin());
    c->idle_since = now;
    c->deadline.disarm();
    watch(*c);
    idle_.push_back(std::move(c));
}

void server_pool::watch(upstream_conn& c) {
    c.idle_token = ++next_token_;
    // The handler may run after the connection was taken or destroyed: it only compares tokens of
    // connections still in this pool (pools live as long as the worker).
    c.socket.async_wait(tcp::socket::wait_read, [this, token = c.idle_token](const error_code& ec) {
        if (!ec) drop(token);
    });
}

void server_pool::drop(std::uint64_t token) {
    std::erase_if(idle_, [token](const std::unique_ptr<upstream_conn>& c) { return c->idle_token == token; });
}

void server_pool::expire(time_point now, std::chrono::milliseconds max_idle_time) {
    std::erase_if(idle_, [&](const std::unique_ptr<upstream_conn>& c) { return now - c->idle_since > max_idle_time; });
}

}  // namespace bulwark::proxy
