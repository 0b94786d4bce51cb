// harness/bulwark_process: runs the real bulwark binary (BULWARK_BIN) in the foreground with a config
// written into a fresh temporary directory, waits until it accepts and its workers exist, and always
// kills what it started (master and workers, by pid) and removes the directory when destroyed.
// Also: /proc helpers (children, comm, status fields) and a bounded fork+exec runner for other commands.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::test {

using namespace std::chrono_literals;

/// Absolute path of the binary under test: $BULWARK_BIN, else $BULWARK_SRCDIR/build/bulwark, else
/// ./build/bulwark.
std::string bulwark_bin();
/// True when a TCP connection to 127.0.0.1:port is accepted (it is closed at once).
bool port_accepts(std::uint16_t port);
/// The repository root: $BULWARK_SRCDIR, else the current directory.
std::string source_dir();

/// Polls pred every `step` until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = 20ms);

std::string read_text(const std::string& path);  // "" when missing
void write_text(const std::string& path, std::string_view text);
bool file_exists(const std::string& path);

// /proc helpers. All return empty / nullopt when the process is gone.
std::string proc_comm(pid_t pid);
std::optional<pid_t> proc_ppid(pid_t pid);
/// Children of `parent`, optionally only those whose comm equals `comm`.
std::vector<pid_t> child_pids(pid_t parent, std::string_view comm = {});
/// The value of one /proc/PID/status line ("Uid", "Gid", "Groups", "VmHWM"...), without the name, trimmed.
std::optional<std::string> proc_status_field(pid_t pid, std::string_view field);
/// Peak resident set size (VmHWM) in kB, or -1.
long proc_vmhwm_kb(pid_t pid);
bool process_alive(pid_t pid);  // exists and is not a zombie
/// A field of /proc/PID/status counted in kB ("VmRSS", "RssAnon"...), or -1.
long proc_status_kb(pid_t pid, std::string_view field);
/// Live (non-zombie) processes other than this one with `arg` as one of their command-line arguments,
/// e.g. a config path: a master and its workers (which fork without exec) all carry it.
std::vector<pid_t> processes_with_argument(std::string_view arg);
/// The pid a pid file names, if it holds a positive number.
std::optional<pid_t> read_pid_file(const std::string& path);

/// While alive, this process is a child subreaper (PR_SET_CHILD_SUBREAPER): descendants orphaned by a
/// process that exits (the new master of a live upgrade, once the old one is gone) become our children,
/// so tests can wait for them and nothing is left to an init that may not reap. On destruction, it kills
/// (by pid) every remaining child whose comm starts with "bulwark", reaps every zombie child and turns
/// the attribute off. Create it before the bulwark_process objects of a test, so it outlives them.
class child_subreaper {
public:
    child_subreaper();
    ~child_subreaper();
    child_subreaper(const child_subreaper&) = delete;
    child_subreaper& operator=(const child_subreaper&) = delete;
    bool active() const { return active_; }

private:
    bool active_ = false;
};

struct command_result {
    int exit_code = -1;  // exit status, or 128+signal when killed by a signal
    bool timed_out = false;
    std::string out;
    std::string err;
};

/// Runs argv (argv[0] searched in PATH when it has no '/') with stdin from /dev/null; stdout and stderr
/// are captured. Killed (SIGKILL, by pid) when it outlives `timeout`. `tick`, when given, is called
/// every few milliseconds while waiting.
command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 30s,
                           const std::function<void()>& tick = {});

/// A fresh directory under /tmp, removed with everything in it on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

private:
    std::string path_;
};

/// The usual test configuration (see bulwark_process::config).
struct config_options {
    int workers = 1;
    std::vector<std::string> servers;  // `server =` lines of [upstream:backend]; none: no such section
    bool default_upstream = true;      // listener `upstream = backend` (when servers is not empty)
    std::string global_extra;          // extra lines for [global]; `user = nobody` is added when root
                                       // unless these lines set `user`
    std::string listener_extra;        // extra lines for [listener:main]
    std::string tail;                  // extra sections appended at the end

    /// The common case: one default upstream with these servers, workers = 1.
    static config_options with_servers(std::vector<std::string> s) {
        config_options o;
        o.servers = std::move(s);
        return o;
    }
};

class bulwark_process {
public:
    bulwark_process();
    ~bulwark_process();  // SIGKILLs master and workers still alive, reaps, removes the directory
    bulwark_process(const bulwark_process&) = delete;
    bulwark_process& operator=(const bulwark_process&) = delete;

    const std::string& dir() const { return dir_.path(); }
    std::string file(std::string_view name) const { return dir_.file(name); }
    std::string config_path() const { return dir_.file("bulwark.ini"); }
    std::string error_log_path() const { return dir_.file("error.log"); }
    std::string access_log_path() const { return dir_.file("access.log"); }
    std::string pid_file_path() const { return dir_.file("bulwark.pid"); }
    /// The listener port used by config(); free when the process was constructed.
    std::uint16_t port() const { return port_; }

    /// Builds the standard config: [global] workers, pid_file = bulwark.pid, error_log = error.log,
    /// log_level = info (+ user = nobody when root); [log] access_log = access.log; [listener:main]
    /// bind = 127.0.0.1:port(); [upstream:backend] with the servers; then `tail`.
    std::string config(const config_options& o) const;
    /// Writes the config file (bulwark.ini in the directory).
    void write_config(std::string_view text) const;

    /// The executable start() runs (default bulwark_bin()), e.g. a copy that a test later replaces to
    /// upgrade to another build. run() always uses bulwark_bin(): the command-line client stays the real
    /// binary even when the started file is replaced by something else.
    void set_binary(std::string path) { bin_ = std::move(path); }
    std::string binary() const { return bin_.empty() ? bulwark_bin() : bin_; }

    /// Spawns `BULWARK_BIN --foreground -c bulwark.ini` and waits until `expected_workers` worker
    /// processes exist and port() accepts. Throws (with stderr and the error log) on failure.
    void start(std::size_t expected_workers = 1, std::chrono::milliseconds timeout = 10s);
    /// write_config(config(o)) then start(o.workers).
    void start(const config_options& o);

    pid_t master_pid() const { return pid_; }
    /// Current workers: children of the master whose comm is `bulwark-worker`.
    std::vector<pid_t> worker_pids() const;
    bool wait_workers(std::size_t n, std::chrono::milliseconds timeout = 5s) const;

    void signal(int sig) const;  // to the master
    /// Waits for the master to exit; returns its wait status (as waitpid reports it) or nullopt.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    bool running();  // the master has not exited yet

    std::string error_log() const { return read_text(error_log_path()); }
    std::string access_log() const { return read_text(access_log_path()); }
    std::string stdout_text() const { return read_text(dir_.file("stdout.txt")); }
    std::string stderr_text() const { return read_text(dir_.file("stderr.txt")); }
    /// Polls a file until it contains `needle`.
    bool wait_for_text(const std::string& path, std::string_view needle,
                       std::chrono::milliseconds timeout = 3s) const;
    /// Error log, stderr and stdout, for failure messages.
    std::string diagnostics() const;

    /// After a live upgrade: `pid` (the new master, not started by this object) becomes the process this
    /// object supervises: master_pid(), worker_pids(), signal(), running(), wait_exit() and the clean-up
    /// apply to it. running() and wait_exit() use waitpid when it is our child (see child_subreaper),
    /// else /proc (the exit status is then unknown: -1). The previous master is still reaped, and killed
    /// on destruction if it is still alive.
    void follow_master(pid_t pid);

    /// Runs the binary with extra arguments (e.g. {"-c", config_path(), "-s", "quit"}). While it runs,
    /// the master is reaped as soon as it exits, as its real parent (init or a supervisor) would: a
    /// `-s quit` client waiting for the master to disappear would otherwise wait on our zombie.
    command_result run(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 30s);

private:
    void kill_all();
    void note_workers(const std::vector<pid_t>& pids) const;

    temp_dir dir_;
    std::string bin_;
    std::vector<pid_t> former_masters_;  // masters replaced by follow_master(), not reaped yet
    std::uint16_t port_;
    pid_t pid_ = -1;
    bool reaped_ = true;
    int status_ = 0;
    mutable std::set<pid_t> seen_workers_;
};

}  // namespace bulwark::test
