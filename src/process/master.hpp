// process/master: the supervisor. Owns the listening sockets, the log files and the config generation;
// forks workers from that generation and respawns them; never serves traffic and never runs Asio.
#pragma once

#include <string>
#include <vector>

#include "config/model.hpp"
#include "process/listeners.hpp"
#include "process/privileges.hpp"
#include "shm/shared_state.hpp"

namespace bulwark::process {

struct master_options {
    std::string config_path;
    int ready_fd = -1;  // daemonizing parent waits on it: "ok" or an error line
};

/// What main() prepared as root before the master starts supervising.
struct master_startup {
    config::snapshot cfg;
    std::vector<listening_socket> listeners;
    identity id;
    int access_log_fd = -1;
    shm::shared_state* shared = nullptr;
    shm::backend_handles handles;
};

/// Runs the master until it stops; listeners, logs and shared memory are ready. Returns the exit status.
int run_master(master_startup startup, const master_options& opts);

/// Where the master listens for `bulwark -s reload`.
std::string control_socket_path(const config::config& cfg);

/// Opens the access log as configured: fd, -1 for "off", or 2 for stderr.
bool open_access_log(const config::config& cfg, int& fd, std::string& error);

}  // namespace bulwark::process
