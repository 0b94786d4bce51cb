// proxy/upstream_pool: per-worker idle keep-alive connections to one server of one upstream, most
// recently used first (warm connections, and the oldest ones age out). A connection taken from the
// pool is marked reused, which is what the retry rule looks at. How many stay idle follows recent
// traffic (proxy/pool_window.hpp), below the operator's `keepalive` when one is set.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/asio.hpp"
#include "proxy/deadline.hpp"
#include "proxy/pool_window.hpp"
#include "shm/backend_table.hpp"
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
//
// Sizing: every attempt to send a request to the server holds a use (begin_use/end_use) for its
// whole life, connecting included; the peak of uses over the last seconds is what the pool keeps open
// (idle + in use). put() only enforces `max_idle` (the operator's keepalive, or the bounds of
// keepalive = auto); housekeeping() closes the idle connections above the recent peak, gradually.
class server_pool {
public:
    static constexpr std::chrono::milliseconds peek_after{1000};

    /// Connections a pool reports in the shared backend table (per-worker counts, published once a
    /// second so the hot path writes no shared cache line for them).
    struct totals {
        std::uint64_t opened = 0;   // new connections made for this server
        std::uint64_t reused = 0;   // requests sent on a connection taken from the pool
        std::uint64_t trimmed = 0;  // idle connections closed by housekeeping (peak trim, idle timeout)
    };

    explicit server_pool(unsigned max_idle) : max_idle_(max_idle) {}

    // Per request, O(1), no clock read beyond the caller's cached `now`:
    std::unique_ptr<upstream_conn> take(time_point now);
    /// `after_bodiless` arms the watcher described above.
    void put(std::unique_ptr<upstream_conn> c, time_point now, bool after_bodiless);
    void begin_use() noexcept { window_.note(++in_use_); }
    void end_use() noexcept { in_use_ -= in_use_ > 0; }
    void opened() noexcept { ++totals_.opened; }

    /// Once a second: closes connections idle for longer than `max_idle_time`, then trims the idle
    /// ones above the recent peak (pool_window.hpp), oldest first, and starts a new window bucket.
    void housekeeping(time_point now, std::chrono::milliseconds max_idle_time);
    /// Closes connections idle for longer than `max_idle_time` (not counted as trimmed: reload, drain).
    void expire(time_point now, std::chrono::milliseconds max_idle_time);

    void set_max_idle(unsigned n) { max_idle_ = n; }
    unsigned max_idle() const { return max_idle_; }
    std::size_t idle() const { return idle_.size(); }
    unsigned in_use() const { return in_use_; }
    const totals& counts() const { return totals_; }

    /// The server's row in the shared backend table (invalid: none, or the server left the config).
    void set_handle(shm::backend_handle h) { handle_ = h; }
    shm::backend_handle handle() const { return handle_; }
    /// Writes this worker's idle gauge and adds the totals counted since the last call.
    void publish(shm::backend_table& table, unsigned worker);
    /// The latest TLS session with this server, resumed by the next connection.
    tls::session_slot& tls_session() { return tls_session_; }

private:
    void watch(upstream_conn& c);
    void drop(std::uint64_t token);
    static bool still_open(upstream_conn& c);

    std::vector<std::unique_ptr<upstream_conn>> idle_;  // back = most recently used
    unsigned max_idle_;
    unsigned in_use_ = 0;
    peak_window window_;
    std::uint64_t next_token_ = 0;
    totals totals_, published_;
    shm::backend_handle handle_;
    tls::session_slot tls_session_;
};

/// Holds one use of a pool for an attempt (see server_pool's sizing note).
class pool_use {
public:
    explicit pool_use(server_pool& p) noexcept : pool_(p) { pool_.begin_use(); }
    ~pool_use() { pool_.end_use(); }
    pool_use(const pool_use&) = delete;
    pool_use& operator=(const pool_use&) = delete;

private:
    server_pool& pool_;
};

}  // namespace bulwark::proxy
