// proxy/upstream_pool: per-worker idle keep-alive connections to one backend server, most recently used
// first (warm connections, and the oldest ones age out). A connection taken from the pool is marked
// reused, which is what the retry rule looks at.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/asio.hpp"
#include "proxy/deadline.hpp"

namespace bulwark::proxy {

struct upstream_conn {
    explicit upstream_conn(asio::io_context& io) : socket(io.get_executor()) { deadline.socket = &socket; }
    tcp_socket socket;
    deadline_entry deadline;
    time_point idle_since{};
    bool reused = false;
    std::uint64_t idle_token = 0;  // identifies this connection's stay in a pool, for the idle watcher
};

// While a connection sits idle, a pending wait for readability watches it (as nginx's keepalive
// module does): an origin that closes, or sends bytes nobody asked for (a late body after a 204,
// say), has the connection dropped instead of desynchronising the next request sent on it.
class server_pool {
public:
    explicit server_pool(unsigned max_idle) : max_idle_(max_idle) {}

    std::unique_ptr<upstream_conn> take();
    void put(std::unique_ptr<upstream_conn> c, time_point now);
    /// Closes connections idle for longer than `max_idle_time`.
    void expire(time_point now, std::chrono::milliseconds max_idle_time);
    void set_max_idle(unsigned n) { max_idle_ = n; }
    std::size_t idle() const { return idle_.size(); }

private:
    void watch(upstream_conn& c);
    void drop(std::uint64_t token);

    std::vector<std::unique_ptr<upstream_conn>> idle_;  // back = most recently used
    unsigned max_idle_;
    std::uint64_t next_token_ = 0;
};

}  // namespace bulwark::proxy
