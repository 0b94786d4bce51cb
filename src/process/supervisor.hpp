// process/supervisor: the master's state (internal to src/process). master.cpp runs the loop, signals and
// children; reload.cpp validates and applies a new configuration; control_server.cpp answers
// `bulwark -s reload`. The master never runs Asio and never serves traffic.
//
//   starting ──all READY──► running ──QUIT──► draining ──children gone / timeout──► exit
//       │                    │  │ └─TERM/INT─► terminating ──children gone / 2 s──► exit
//       │                    │  └─HUP / -s reload─► (validate; apply in place or replace workers)
//       └── a child dies ──► respawn (back-off) ◄──┘
#pragma once

#include <chrono>
#include <list>
#include <string>
#include <vector>

#include "process/master.hpp"

namespace bulwark::process {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Sends a control answer and closes the connection (no-op when fd < 0); fd is reset to -1.
void reply_and_close(int& fd, const std::string& text);

enum class master_state { starting, running, draining, terminating };

struct child {
    pid_t pid = -1;
    int channel = -1;
    unsigned slot = 0;       // row in the shared gauges; also the worker's number in logs
    bool ready = false;
    bool retiring = false;   // replaced or no longer wanted: drains, then is not respawned
    bool monitor = false;    // the health-check process rather than a worker
    bool awaiting_config = false;
    clock::time_point started{};
    unsigned failures = 0;
    clock::time_point respawn_at = clock::time_point::max();
};

class supervisor {
public:
    supervisor(master_startup s, const master_options& opts);
    int run();

private:
    friend class reload_transaction;

    // master.cpp
    bool setup_signals();
    void spawn(child& c);
    child& add_worker();
    void start_monitor_if_needed();
    void schedule_respawn(child& c);
    std::size_t live_children() const;
    void poll_once();
    int next_timeout_ms() const;
    void read_signals();
    void read_channel(child& c);
    void maybe_all_ready();
    void notify_ready(const char* text);
    void reap();
    void log_exit(const child& c, pid_t pid, int status);
    void respawn_due();
    void begin_stop(bool graceful);
    void enforce_deadline();
    void reopen_logs();
    void send_logs(child& c);
    void retire(child& c);

    // reload.cpp
    std::string reload();  // empty on success, else every reason, one per line
    void config_applied(child& c, const std::string& error);
    void finish_reload_if_done(bool timed_out);

    // upgrade.cpp
    std::string begin_upgrade();  // empty when the new binary was started, else why not
    void read_upgrade_notice();
    void upgrade_failed(const std::string& why);
    bool is_upgrade_child(pid_t pid, int status);

    // control_server.cpp
    void open_control_socket();
    void accept_control();
    void answer_control(const std::string& text);

    config::snapshot cfg_;
    std::vector<listening_socket> listeners_;
    identity id_;
    int access_fd_;
    shm::shared_state* shared_;
    shm::backend_handles handles_;
    std::unique_ptr<cache::store> cache_;
    master_options opts_;
    std::list<child> workers_;  // stable addresses: children are added and removed while referenced
    int signal_fd_ = -1;
    master_state state_ = master_state::starting;
    clock::time_point deadline_ = clock::time_point::max();
    int exit_status_ = 0;

    // A reload waiting for the workers' answers, and the control client waiting for its outcome.
    int control_fd_ = -1;
    std::string control_path_;
    int control_client_ = -1;
    bool reload_pending_ = false;
    std::string reload_errors_;
    clock::time_point reload_deadline_ = clock::time_point::max();

    // A live upgrade in progress: the new master's pid, the pipe it reports readiness on, its deadline.
    pid_t upgrade_pid_ = -1;
    int upgrade_fd_ = -1;
    clock::time_point upgrade_deadline_ = clock::time_point::max();
    bool upgraded_ = false;  // the new master took over: we drain and leave its files alone
    int upgrade_client_ = -1;  // `-s upgrade` waiting for the outcome
};

}  // namespace bulwark::process
