// process/master: the supervisor. Owns the listening sockets, the log files and the config generation;
// forks workers from that generation and respawns them; never serves traffic and never runs Asio.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "process/listeners.hpp"
#include "process/privileges.hpp"
#include "cache/store.hpp"
#include "shm/shared_state.hpp"

namespace bulwark::process {

struct master_options {
    std::string config_path;
    int ready_fd = -1;       // daemonizing parent (or the old master of an upgrade) waits on it: "ok" or an error
    std::string exe_path;    // what a live upgrade executes
    unsigned slot_base = 0;  // first shared-gauge row of our workers (an upgrade alternates halves)
};

// Environment of a binary started by a live upgrade.
inline constexpr const char* env_inherited_fds = "BULWARK_INHERITED_FDS";      // "fd:address;..."
inline constexpr const char* env_upgrade_notify_fd = "BULWARK_UPGRADE_NOTIFY_FD";  // write "ok" when ready
inline constexpr const char* env_slot_base = "BULWARK_SLOT_BASE";

/// What main() prepared as root before the master starts supervising.
struct master_startup {
    config::snapshot cfg;
    std::vector<listening_socket> listeners;
    identity id;
    int access_log_fd = -1;
    shm::shared_state* shared = nullptr;
    shm::backend_handles handles;
    std::unique_ptr<cache::store> cache;  // null while no route caches
};

/// Runs the master until it stops; listeners, logs and shared memory are ready. Returns the exit status.
int run_master(master_startup startup, const master_options& opts);

/// Blocks the signals the master handles (they wait for its signalfd) and ignores SIGPIPE. Called
/// first thing at start-up: a signal sent as soon as the port answers (a reload or stop right after
/// start) must wait for the master's loop, not kill it with the default action.
void block_master_signals();

/// Where the master listens for `bulwark -s reload`.
std::string control_socket_path(const config::config& cfg);

/// Opens the access log as configured: fd, -1 for "off", or 2 for stderr.
bool open_access_log(const config::config& cfg, int& fd, std::string& error);

}  // namespace bulwark::process
