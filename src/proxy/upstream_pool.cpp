// proxy/upstream_pool: LIFO reuse; when full, the least recently used connection is closed; once a
// second the oldest idle connections above the recent peak are closed.
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
        ++totals_.reused;
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
    // Only an explicit keepalive (or max_connections / max_conns) is reached here: under `auto` the
    // idle connections never outnumber the peak of uses, and housekeeping trims those.
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

void server_pool::housekeeping(time_point now, std::chrono::milliseconds max_idle_time) {
    const std::size_t before = idle_.size();
    expire(now, max_idle_time);
    // The front holds the least recently used connections: the ones traffic has needed least. Above
    // max_idle (a reload lowered keepalive) they go at once, as put() would have closed them.
    const std::size_t over_cap = idle_.size() > max_idle_ ? idle_.size() - max_idle_ : 0;
    const std::size_t n =
        std::min(idle_.size(), std::max(over_cap, trim_count(idle_.size(), in_use_, window_.peak())));
    idle_.erase(idle_.begin(), idle_.begin() + static_cast<std::ptrdiff_t>(n));
    totals_.trimmed += before - idle_.size();
    window_.rotate(in_use_);
}

void server_pool::publish(shm::backend_table& table, unsigned worker) {
    if (!handle_.valid()) return;
    table.set_idle(handle_, worker, static_cast<std::uint32_t>(idle_.size()));
    table.add_pool_totals(handle_, totals_.opened - published_.opened, totals_.reused - published_.reused,
                          totals_.trimmed - published_.trimmed);
    published_ = totals_;
}

}  // namespace bulwark::proxy
