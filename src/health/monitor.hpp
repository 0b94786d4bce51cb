// health/monitor: active health checks, run by the one monitor process the master forks, so there is
// one probe per interval per server in total, and no worker spends time probing. Each server of an
// upstream with `health_check` gets its own timer: every health_interval it connects, sends
// `METHOD PATH HTTP/1.1`, and reads the status line within health_timeout. Results go to the shared
// backend table: health_fall consecutive failures take an up server down (down_until = never, so only
// the monitor brings it back), health_rise consecutive successes bring a down server up. Each change is
// made with the table's CAS and logged once, here.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>

#include "config/model.hpp"
#include "shm/backend_table.hpp"

namespace boost::asio {
class io_context;
}

namespace bulwark::health {

struct monitor_args {
    config::snapshot cfg;
    shm::backend_table* table = nullptr;  // attached by the master; the mapping is inherited by fork
    pid_t master_pid = 0;
    int channel_fd = -1;  // SOCK_SEQPACKET to the master: EOF means the master is gone
};

/// Entry point of the forked monitor process (privileges already dropped by the caller); returns the
/// exit status. Stops on SIGTERM, SIGINT, SIGQUIT, a `stop` message or EOF on the channel.
int run_monitor(const monitor_args& args);

/// The probing itself, on an io_context run by the caller (one thread).
class monitor {
public:
    monitor(boost::asio::io_context& io, shm::backend_table& table, config::snapshot cfg);
    ~monitor();
    monitor(const monitor&) = delete;
    monitor& operator=(const monitor&) = delete;

    /// Starts a probe loop per server with an active check (the first probe right away).
    void start();
    /// Replaces the configuration (reload): probe loops restart from the new one, the streaks in the
    /// table carry over. Servers held down by a check that the new configuration no longer has are
    /// handed back to passive checks (available again at once). Call on the io_context's thread.
    void update(config::snapshot cfg);
    /// Cancels every probe and timer; the io_context then runs out of work.
    void stop();

    /// Servers being probed (for tests and the status line).
    std::size_t probed_servers() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace bulwark::health
