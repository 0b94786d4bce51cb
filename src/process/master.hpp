// process/master: the supervisor. Owns the listening sockets, the log files and the config generation;
// forks workers from that generation and respawns them; never serves traffic and never runs Asio.
#pragma once

#include <string>
#include <vector>

#include "config/model.hpp"
#include "process/listeners.hpp"
#include "process/privileges.hpp"

namespace bulwark::process {

struct master_options {
    std::string config_path;
    int ready_fd = -1;  // daemonizing parent waits on it: "ok" or an error line
};

/// Runs the master until it stops; listeners and logs are already open. Returns the exit status.
int run_master(config::snapshot cfg, std::vector<listening_socket> listeners, identity id, int access_log_fd,
               const master_options& opts);

/// Opens the access log as configured: fd, -1 for "off", or 2 for stderr.
bool open_access_log(const config::config& cfg, int& fd, std::string& error);

}  // namespace bulwark::process
