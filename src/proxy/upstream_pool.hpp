// proxy/upstream_pool: per-worker idle keep-alive connections to one backend server, most recently used
// first (warm connections, and the oldest ones age out). A connection taken from the pool is marked
// reused, which is what the retry rule looks at.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/asio.hpp"
#include "proxy/deadline.hpp"
#include "proxy/stream.hpp"
#include "tls/upstream_context.hpp"

namespace bulwark::proxy {

struct upstream_conn {
    explicit upstream_conn(asio::io_context& io) : socket(io) { deadline.socket = &socket.socket(); }
    stream socket;  // plain or TLS (server = ... tls)
    deadline_entry deadline;
    time_point idle_since{};
    bool reused = false;
    std::uint64_t idle_token = 0;  // non-zero while a watcher read is pending (identifies it)
};

// Idle connections are checked before reuse without costing the common case a syscall:
// - after a response that must have no body (HEAD, 204, 304, 1xx), a read is kept pending on the idle
//   connection (as nginx's keepalive module does for every one), so bytes an origin sends late, which
//   would desynchronise the next exchange, get the connection dropped at once;
// - a connection idle for longer than `peek_after` is peeked (MSG_PEEK) when taken: one the origin
//   closed meanwhile (Node.js closes after 5 s, for example) is dropped instead of failing a POST.
// A connection reused within `peek_after` that the origin closed is the retry rule's case.
class server_pool {
public:
    static constexpr std::chrono::milliseconds peek_after{1000};

    explicit server_pool(unsigned max_idle) : max_idle_(max_idle) {}

    std::unique_ptr<upstream_conn> take(time_point now);
    /// `after_bodiless` arms the watcher described above.
    void put(std::unique_ptr<upstream_conn> c, time_point now, bool after_bodiless);
    /// Closes connections idle for longer than `max_idle_time`.
    void expire(time_point now, std::chrono::milliseconds max_idle_time);
    void set_max_idle(unsigned n) { max_idle_ = n; }
    std::size_t idle() const { return idle_.size(); }
    /// The latest TLS session with this server, resumed by the next connection.
    tls::session_slot& tls_session() { return tls_session_; }

private:
    void watch(upstream_conn& c);
    void drop(std::uint64_t token);
    static bool still_open(upstream_conn& c);

    std::vector<std::unique_ptr<upstream_conn>> idle_;  // back = most recently used
    unsigned max_idle_;
    std::uint64_t next_token_ = 0;
    tls::session_slot tls_session_;
};

}  // namespace bulwark::proxy
