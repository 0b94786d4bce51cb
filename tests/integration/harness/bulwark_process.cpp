// harness/bulwark_process: fork/exec of the binary under test, readiness polling and /proc inspection.
#include "harness/bulwark_process.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "harness/ports.hpp"

namespace bulwark::test {
namespace {

using clock = std::chrono::steady_clock;

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return std::string(s);
}

// /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
bool read_stat(pid_t pid, std::string& comm, char& state, pid_t& ppid) {
    std::string s = read_text("/proc/" + std::to_string(pid) + "/stat");
    auto open = s.find('(');
    auto close = s.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 > s.size()) return false;
    comm = s.substr(open + 1, close - open - 1);
    std::istringstream rest(s.substr(close + 2));
    long pp = 0;
    rest >> state >> pp;
    ppid = static_cast<pid_t>(pp);
    return static_cast<bool>(rest);
}

struct spawn_spec {
    std::vector<std::string> argv;
    std::string out_path;
    std::string err_path;
};

// fork + exec with stdin=/dev/null and stdout/stderr to files. The child dies with this thread
// (PR_SET_PDEATHSIG survives exec), so a crashed test run leaves no master behind.
pid_t spawn(const spawn_spec& s) {
    std::vector<char*> argv;
    for (const auto& a : s.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        // Only async-signal-safe calls from here: the test process has threads.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        int in = ::open("/dev/null", O_RDONLY);
        int out = ::open(s.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = ::open(s.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0) ::_exit(127);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        if (in > 2) ::close(in);
        if (out > 2) ::close(out);
        if (err > 2) ::close(err);
        if (std::strchr(argv[0], '/'))
            ::execv(argv[0], argv.data());
        else
            ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

bool port_accepts(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

std::string bulwark_bin() {
    if (const char* b = std::getenv("BULWARK_BIN"); b && *b) return b;
    return std::filesystem::absolute(std::filesystem::path(source_dir()) / "build" / "bulwark").string();
}

std::string source_dir() {
    if (const char* s = std::getenv("BULWARK_SRCDIR"); s && *s) return s;
    return std::filesystem::current_path().string();
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
    auto deadline = clock::now() + timeout;
    for (;;) {
        if (pred()) return true;
        if (clock::now() >= deadline) return pred();
        std::this_thread::sleep_for(step);
    }
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_text(const std::string& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

bool file_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

std::string proc_comm(pid_t pid) {
    std::string comm;
    char state;
    pid_t ppid;
    return read_stat(pid, comm, state, ppid) ? comm : std::string();
}

std::optional<pid_t> proc_ppid(pid_t pid) {
    std::string comm;
    char state;
    pid_t ppid;
    if (!read_stat(pid, comm, state, ppid)) return std::nullopt;
    return ppid;
}

bool process_alive(pid_t pid) {
    std::string comm;
    char state = 0;
    pid_t ppid;
    return read_stat(pid, comm, state, ppid) && state != 'Z' && state != 'X';
}

std::vector<pid_t> child_pids(pid_t parent, std::string_view comm_filter) {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') continue;
        std::string comm;
        char state = 0;
        pid_t ppid = 0;
        if (!read_stat(static_cast<pid_t>(pid), comm, state, ppid)) continue;
        if (ppid != parent || state == 'Z' || state == 'X') continue;
        if (!comm_filter.empty() && comm != comm_filter) continue;
        out.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(d);
    return out;
}

std::optional<std::string> proc_status_field(pid_t pid, std::string_view field) {
    std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        if (colon != std::string::npos && std::string_view(line).substr(0, colon) == field)
            return trim(std::string_view(line).substr(colon + 1));
    }
    return std::nullopt;
}

long proc_vmhwm_kb(pid_t pid) {
    auto v = proc_status_field(pid, "VmHWM");  // "12345 kB"
    if (!v) return -1;
    return std::strtol(v->c_str(), nullptr, 10);
}

long proc_status_kb(pid_t pid, std::string_view field) {
    auto v = proc_status_field(pid, field);
    if (!v) return -1;
    return std::strtol(v->c_str(), nullptr, 10);
}

std::vector<pid_t> processes_with_argument(std::string_view arg) {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    const pid_t self = ::getpid();
    while (dirent* e = ::readdir(d)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0' || pid == self) continue;
        std::string cmdline = read_text("/proc/" + std::to_string(pid) + "/cmdline");
        bool match = false;
        for (std::size_t at = 0; at < cmdline.size();) {
            std::size_t nul = cmdline.find('\0', at);
            if (nul == std::string::npos) nul = cmdline.size();
            if (std::string_view(cmdline).substr(at, nul - at) == arg) match = true;
            at = nul + 1;
        }
        if (match && process_alive(static_cast<pid_t>(pid))) out.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(d);
    return out;
}

std::optional<pid_t> read_pid_file(const std::string& path) {
    std::string s = read_text(path);
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (end == s.c_str() || v <= 0) return std::nullopt;
    return static_cast<pid_t>(v);
}

namespace {

// Zombie children of this process (child_pids() leaves zombies out).
std::vector<pid_t> zombie_children() {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    const pid_t self = ::getpid();
    while (dirent* e = ::readdir(d)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') continue;
        std::string comm;
        char state = 0;
        pid_t ppid = 0;
        if (read_stat(static_cast<pid_t>(pid), comm, state, ppid) && ppid == self && state == 'Z')
            out.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(d);
    return out;
}

}  // namespace

child_subreaper::child_subreaper() { active_ = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0; }

child_subreaper::~child_subreaper() {
    if (!active_) return;
    auto bulwark_children = [] {
        std::vector<pid_t> out;
        for (pid_t c : child_pids(::getpid()))
            if (proc_comm(c).starts_with("bulwark")) out.push_back(c);
        return out;
    };
    for (pid_t c : bulwark_children()) {
        for (pid_t w : child_pids(c)) ::kill(w, SIGKILL);
        ::kill(c, SIGKILL);
    }
    wait_until(
        [&] {
            for (pid_t z : zombie_children()) ::waitpid(z, nullptr, WNOHANG);
            return bulwark_children().empty();
        },
        3s, 10ms);
    for (pid_t z : zombie_children()) ::waitpid(z, nullptr, WNOHANG);
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const std::function<void()>& tick) {
    temp_dir tmp;
    spawn_spec s{argv, tmp.file("out"), tmp.file("err")};
    pid_t pid = spawn(s);
    command_result r;
    int status = 0;
    auto deadline = clock::now() + timeout;
    for (;;) {
        pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) break;
        if (clock::now() >= deadline) {
            r.timed_out = true;
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        if (tick) tick();
        std::this_thread::sleep_for(5ms);
    }
    r.exit_code = decode_status(status);
    r.out = read_text(s.out_path);
    r.err = read_text(s.err_path);
    return r;
}

temp_dir::temp_dir() {
    char tmpl[] = "/tmp/bulwark-it-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
    // Workers may run as `nobody` (tests as root) and must be able to (re)open their logs here.
    ::chmod(path_.c_str(), 0777);
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

bulwark_process::bulwark_process() : port_(free_port()) {}

bulwark_process::~bulwark_process() { kill_all(); }

std::string bulwark_process::config(const config_options& o) const {
    std::string c = "[global]\n";
    c += "workers = " + std::to_string(o.workers) + "\n";
    bool sets_user = o.global_extra.starts_with("user") || o.global_extra.find("\nuser") != std::string::npos;
    if (::geteuid() == 0 && !sets_user) c += "user = nobody\n";
    c += "pid_file = bulwark.pid\n";
    c += "error_log = error.log\n";
    c += "log_level = info\n";
    c += o.global_extra;
    if (!o.global_extra.empty() && o.global_extra.back() != '\n') c += "\n";
    c += "\n[log]\naccess_log = access.log\n";
    c += "\n[listener:main]\nbind = 127.0.0.1:" + std::to_string(port_) + "\n";
    if (!o.servers.empty() && o.default_upstream) c += "upstream = backend\n";
    c += o.listener_extra;
    if (!o.listener_extra.empty() && o.listener_extra.back() != '\n') c += "\n";
    if (!o.servers.empty()) {
        c += "\n[upstream:backend]\n";
        for (const auto& s : o.servers) c += "server = " + s + "\n";
    }
    if (!o.tail.empty()) c += "\n" + o.tail;
    if (c.back() != '\n') c += "\n";
    return c;
}

void bulwark_process::write_config(std::string_view text) const { write_text(config_path(), text); }

void bulwark_process::start(const config_options& o) {
    write_config(config(o));
    start(static_cast<std::size_t>(o.workers));
}

void bulwark_process::start(std::size_t expected_workers, std::chrono::milliseconds timeout) {
    if (pid_ > 0 && !reaped_) throw std::runtime_error("bulwark_process: already started");
    spawn_spec s{{binary(), "--foreground", "-c", config_path()}, dir_.file("stdout.txt"),
                 dir_.file("stderr.txt")};
    pid_ = spawn(s);
    reaped_ = false;
    bool ready = wait_until(
        [&] {
            if (!running()) return true;  // exited: reported below
            auto w = worker_pids();
            return w.size() >= expected_workers && port_accepts(port_);
        },
        timeout);
    if (!running())
        throw std::runtime_error("bulwark exited during startup (status " + std::to_string(decode_status(status_)) +
                                 ")\n" + diagnostics());
    if (!ready)
        throw std::runtime_error("bulwark not ready within " + std::to_string(timeout.count()) + " ms (workers: " +
                                 std::to_string(worker_pids().size()) + "/" + std::to_string(expected_workers) +
                                 ")\n" + diagnostics());
}

std::vector<pid_t> bulwark_process::worker_pids() const {
    if (pid_ <= 0) return {};
    auto w = child_pids(pid_, "bulwark-worker");
    note_workers(w);
    return w;
}

void bulwark_process::note_workers(const std::vector<pid_t>& pids) const {
    seen_workers_.insert(pids.begin(), pids.end());
}

bool bulwark_process::wait_workers(std::size_t n, std::chrono::milliseconds timeout) const {
    return wait_until([&] { return worker_pids().size() == n; }, timeout);
}

void bulwark_process::signal(int sig) const {
    if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

bool bulwark_process::running() {
    if (pid_ <= 0 || reaped_) return false;
    int status = 0;
    pid_t w = ::waitpid(pid_, &status, WNOHANG);
    if (w == pid_) {
        reaped_ = true;
        status_ = status;
        return false;
    }
    if (w < 0 && errno == ECHILD) {
        // A master adopted by follow_master() that is not (or not yet) our child.
        if (process_alive(pid_)) return true;
        reaped_ = true;
        status_ = -1;  // unknown
        return false;
    }
    for (auto it = former_masters_.begin(); it != former_masters_.end();) {
        pid_t f = ::waitpid(*it, &status, WNOHANG);
        if (f == *it || (f < 0 && errno == ECHILD)) it = former_masters_.erase(it);
        else ++it;
    }
    return true;
}

void bulwark_process::follow_master(pid_t pid) {
    if (pid_ > 0 && !reaped_ && pid_ != pid) former_masters_.push_back(pid_);
    pid_ = pid;
    reaped_ = false;
    status_ = 0;
    note_workers(worker_pids());
}

std::optional<int> bulwark_process::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return std::nullopt;
    wait_until([&] { return !running(); }, timeout, 10ms);
    if (!reaped_) return std::nullopt;
    return status_;
}

bool bulwark_process::wait_for_text(const std::string& path, std::string_view needle,
                                    std::chrono::milliseconds timeout) const {
    return wait_until([&] { return read_text(path).find(needle) != std::string::npos; }, timeout, 50ms);
}

std::string bulwark_process::diagnostics() const {
    auto cut = [](std::string s) {
        if (s.size() > 4000) s = "..." + s.substr(s.size() - 4000);
        return s;
    };
    return "--- error.log ---\n" + cut(error_log()) + "\n--- stderr ---\n" + cut(stderr_text()) +
           "\n--- stdout ---\n" + cut(stdout_text());
}

command_result bulwark_process::run(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
    std::vector<std::string> argv{bulwark_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, timeout, [this] { running(); });
}

void bulwark_process::kill_all() {
    // Masters replaced by follow_master() that are still around (a test that failed half-way).
    for (pid_t f : former_masters_) {
        int status = 0;
        if (::waitpid(f, &status, WNOHANG) != 0) continue;  // reaped now, or not our child
        note_workers(child_pids(f, "bulwark-worker"));
        for (pid_t c : child_pids(f)) ::kill(c, SIGKILL);
        ::kill(f, SIGKILL);
        for (int i = 0; i < 300; ++i) {
            pid_t w = ::waitpid(f, &status, WNOHANG);
            if (w == f || (w < 0 && errno == ECHILD)) break;
            std::this_thread::sleep_for(10ms);
        }
    }
    former_masters_.clear();
    if (pid_ <= 0) return;
    if (!reaped_) {
        // Children first (workers and any helper process), then the master.
        note_workers(child_pids(pid_, "bulwark-worker"));
        for (pid_t c : child_pids(pid_)) ::kill(c, SIGKILL);
        ::kill(pid_, SIGKILL);
        int status = 0;
        for (int i = 0; i < 300; ++i) {  // at most 3 s
            pid_t w = ::waitpid(pid_, &status, WNOHANG);
            if (w == pid_ || (w < 0 && errno == ECHILD)) break;
            std::this_thread::sleep_for(10ms);
        }
        reaped_ = true;
        status_ = status;
    }
    // Workers left behind by a master that already exited (they would be re-parented).
    for (pid_t w : seen_workers_)
        if (process_alive(w) && proc_comm(w) == "bulwark-worker") ::kill(w, SIGKILL);
    wait_until(
        [&] {
            for (pid_t w : seen_workers_)
                if (process_alive(w) && proc_comm(w) == "bulwark-worker") return false;
            return true;
        },
        2s);
}

}  // namespace bulwark::test
