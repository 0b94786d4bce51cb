// process/master: a signal-driven state machine (nginx's ngx_master_process_cycle). Signals arrive
// through a signalfd and are handled in one poll() loop together with the children's channels:
//
//   starting ──all READY──► running ──QUIT──► draining ──children gone / timeout──► exit
//       │                      │  └─TERM/INT─► terminating ──children gone / 2 s──► exit
//       └── a child dies ──► respawn (back-off) ◄──┘
#include "process/master.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.hpp"
#include "process/channel.hpp"
#include "process/pidfile.hpp"
#include "process/worker.hpp"

namespace bulwark::process {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds stable_uptime{10'000};  // a worker up this long resets its back-off
constexpr milliseconds max_backoff{10'000};
constexpr milliseconds fast_stop_grace{2'000};

enum class state { starting, running, draining, terminating };

struct child {
    pid_t pid = -1;
    int channel = -1;
    bool ready = false;
    clock::time_point started{};
    unsigned failures = 0;
    clock::time_point respawn_at = clock::time_point::max();
};

class master {
public:
    master(master_startup s, const master_options& opts)
        : cfg_(std::move(s.cfg)), listeners_(std::move(s.listeners)), id_(std::move(s.id)),
          access_fd_(s.access_log_fd), shared_(s.shared), handles_(std::move(s.handles)), opts_(opts),
          workers_(cfg_->global.workers) {}

    int run() {
        if (!setup_signals()) return 1;
        for (std::size_t i = 0; i < workers_.size(); ++i) spawn(i);
        while (state_ != state::terminating || live_children() > 0) {
            if ((state_ == state::draining) && live_children() == 0) break;
            poll_once();
            reap();
            respawn_due();
            enforce_deadline();
        }
        if (opts_.ready_fd >= 0) notify_ready("bulwark stopped before becoming ready\n");
        close_listeners(listeners_);
        remove_pid_file(cfg_->global.pid_file, ::getpid());
        BW_LOG(notice, "master exiting");
        return exit_status_;
    }

private:
    bool setup_signals() {
        sigset_t set;
        sigemptyset(&set);
        for (int s : {SIGCHLD, SIGHUP, SIGQUIT, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGWINCH}) {
            sigaddset(&set, s);
            // A signal ignored by whoever started us (sh does that to background jobs' INT and QUIT)
            // is discarded before it could reach the signalfd: restore the default, it stays blocked.
            ::signal(s, SIG_DFL);
        }
        ::sigprocmask(SIG_BLOCK, &set, nullptr);
        ::signal(SIGPIPE, SIG_IGN);
        signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (signal_fd_ < 0) {
            BW_LOG(crit, "signalfd() failed: %s", std::strerror(errno));
            return false;
        }
        return true;
    }

    void spawn(std::size_t i) {
        child& c = workers_[i];
        int ch[2];
        if (!make_channel(ch)) {
            BW_LOG(crit, "socketpair() failed: %s", std::strerror(errno));
            schedule_respawn(i);
            return;
        }
        pid_t master_pid = ::getpid();
        pid_t pid = ::fork();
        if (pid < 0) {
            BW_LOG(crit, "fork() failed: %s", std::strerror(errno));
            ::close(ch[0]);
            ::close(ch[1]);
            schedule_respawn(i);
            return;
        }
        if (pid == 0) {
            ::close(ch[0]);
            ::close(signal_fd_);
            for (auto& other : workers_)
                if (other.channel >= 0) ::close(other.channel);
            worker_args a{static_cast<int>(i), master_pid, cfg_, &listeners_, ch[1], access_fd_, id_, shared_, &handles_};
            ::_exit(run_worker(a));
        }
        ::close(ch[1]);
        c.pid = pid;
        c.channel = ch[0];
        c.ready = false;
        c.started = clock::now();
        c.respawn_at = clock::time_point::max();
        BW_LOG(info, "started worker %zu (pid %d)", i, static_cast<int>(pid));
    }

    void schedule_respawn(std::size_t i) {
        child& c = workers_[i];
        if (c.started != clock::time_point{} && clock::now() - c.started >= stable_uptime) c.failures = 0;
        milliseconds delay = c.failures == 0 ? milliseconds(0)
                                             : std::min(max_backoff, milliseconds(100) * (1 << std::min(c.failures, 7u)));
        ++c.failures;
        c.respawn_at = clock::now() + delay;
        if (delay.count()) BW_LOG(warn, "respawning worker %zu in %lld ms", i, static_cast<long long>(delay.count()));
    }

    std::size_t live_children() const {
        std::size_t n = 0;
        for (const auto& c : workers_) n += c.pid > 0;
        return n;
    }

    void poll_once() {
        std::vector<pollfd> fds;
        fds.push_back({signal_fd_, POLLIN, 0});
        for (const auto& c : workers_)
            if (c.channel >= 0) fds.push_back({c.channel, POLLIN, 0});
        int timeout = next_timeout_ms();
        int r = ::poll(fds.data(), fds.size(), timeout);
        if (r <= 0) return;
        if (fds[0].revents & POLLIN) read_signals();
        for (std::size_t k = 1; k < fds.size(); ++k)
            if (fds[k].revents) read_channel(fds[k].fd);
    }

    int next_timeout_ms() const {
        auto now = clock::now();
        auto next = now + milliseconds(1000);
        for (const auto& c : workers_) next = std::min(next, c.respawn_at);
        if (state_ == state::draining || state_ == state::terminating) next = std::min(next, deadline_);
        auto ms = std::chrono::duration_cast<milliseconds>(next - now).count();
        return static_cast<int>(std::max<long long>(0, ms));
    }

    void read_signals() {
        signalfd_siginfo si;
        while (::read(signal_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
            switch (si.ssi_signo) {
            case SIGQUIT: begin_stop(true); break;
            case SIGTERM:
            case SIGINT: begin_stop(false); break;
            case SIGUSR1: reopen_logs(); break;
            case SIGHUP: BW_LOG(notice, "SIGHUP: reload is not supported by this version; ignored"); break;
            case SIGUSR2: BW_LOG(notice, "SIGUSR2: live upgrade is not supported by this version; ignored"); break;
            default: break;  // SIGCHLD: reap() runs after every poll
            }
        }
    }

    void read_channel(int fd) {
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            child& c = workers_[i];
            if (c.channel != fd) continue;
            message m;
            int r = receive_message(fd, m);
            if (r == 0) {  // the child closed its end: it is exiting; reap() collects it
                ::close(c.channel);
                c.channel = -1;
            } else if (r > 0 && m.type == message_type::ready) {
                c.ready = true;
                maybe_all_ready();
            }
            for (int extra : m.fds) ::close(extra);
        }
    }

    void maybe_all_ready() {
        if (state_ != state::starting) return;
        for (const auto& c : workers_)
            if (!c.ready) return;
        state_ = state::running;
        BW_LOG(notice, "bulwark ready: %zu workers, %zu listening sockets", workers_.size(), listeners_.size());
        notify_ready("ok\n");
    }

    void notify_ready(const char* text) {
        if (opts_.ready_fd < 0) return;
        [[maybe_unused]] auto n = ::write(opts_.ready_fd, text, std::strlen(text));
        ::close(opts_.ready_fd);
        opts_.ready_fd = -1;
    }

    void reap() {
        int status;
        pid_t pid;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
            for (std::size_t i = 0; i < workers_.size(); ++i) {
                child& c = workers_[i];
                if (c.pid != pid) continue;
                log_exit(i, pid, status);
                c.pid = -1;
                // Its requests are gone: zero its active-request gauges so least_conn does not drift.
                if (shared_) shared_->backends().reset_worker_slot(static_cast<std::uint32_t>(i));
                if (c.channel >= 0) ::close(c.channel);
                c.channel = -1;
                if (state_ == state::starting || state_ == state::running) schedule_respawn(i);
            }
        }
    }

    void log_exit(std::size_t i, pid_t pid, int status) {
        bool expected = state_ == state::draining || state_ == state::terminating;
        if (WIFSIGNALED(status))
            BW_LOG(warn, "worker %zu (pid %d) killed by signal %d", i, static_cast<int>(pid), WTERMSIG(status));
        else if (expected && WEXITSTATUS(status) == 0)
            BW_LOG(info, "worker %zu (pid %d) exited", i, static_cast<int>(pid));
        else
            BW_LOG(warn, "worker %zu (pid %d) exited with status %d", i, static_cast<int>(pid), WEXITSTATUS(status));
    }

    void respawn_due() {
        if (state_ != state::starting && state_ != state::running) return;
        auto now = clock::now();
        for (std::size_t i = 0; i < workers_.size(); ++i)
            if (workers_[i].pid < 0 && workers_[i].respawn_at <= now) spawn(i);
    }

    void begin_stop(bool graceful) {
        if (graceful && (state_ == state::draining || state_ == state::terminating)) return;
        if (!graceful && state_ == state::terminating) return;
        state_ = graceful ? state::draining : state::terminating;
        deadline_ = clock::now() + (graceful ? cfg_->global.shutdown_timeout : fast_stop_grace);
        BW_LOG(notice, "%s", graceful ? "graceful stop requested" : "fast stop requested");
        // Our copies of the listening sockets go now; the workers close theirs as they stop.
        close_listeners(listeners_);
        for (auto& c : workers_) {
            if (c.pid <= 0) continue;
            if (graceful && c.channel >= 0) send_message(c.channel, {message_type::stop, {}, {}});
            else ::kill(c.pid, SIGTERM);
        }
    }

    void enforce_deadline() {
        if ((state_ != state::draining && state_ != state::terminating) || clock::now() < deadline_) return;
        for (auto& c : workers_) {
            if (c.pid <= 0) continue;
            BW_LOG(warn, "worker pid %d did not stop in time; killing it", static_cast<int>(c.pid));
            ::kill(c.pid, SIGKILL);
        }
        state_ = state::terminating;
        deadline_ = clock::time_point::max();
    }

    void reopen_logs() {
        std::string error;
        if (!log::open(cfg_->global.error_log, error)) BW_LOG(error, "%s", error.c_str());
        int access = -1;
        if (!open_access_log(*cfg_, access, error)) {
            BW_LOG(error, "%s", error.c_str());
        } else if (access_fd_ > 2 && access > 2) {
            ::dup3(access, access_fd_, O_CLOEXEC);
            ::close(access);
        }
        BW_LOG(notice, "logs reopened");
        for (auto& c : workers_) {
            if (c.channel < 0) continue;
            message m{message_type::reopen_logs, {}, {}};
            m.fds.push_back(log::fd());
            if (access_fd_ >= 0) m.fds.push_back(access_fd_);
            send_message(c.channel, m);
        }
    }

    config::snapshot cfg_;
    std::vector<listening_socket> listeners_;
    identity id_;
    int access_fd_;
    shm::shared_state* shared_;
    shm::backend_handles handles_;
    master_options opts_;
    std::vector<child> workers_;
    int signal_fd_ = -1;
    state state_ = state::starting;
    clock::time_point deadline_ = clock::time_point::max();
    int exit_status_ = 0;
};

}  // namespace

bool open_access_log(const config::config& cfg, int& fd, std::string& error) {
    const std::string& p = cfg.log.access_log;
    if (p == "off") {
        fd = -1;
        return true;
    }
    if (p == "stderr") {
        fd = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
        return true;
    }
    fd = ::open(p.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        error = "cannot open access log " + p + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

int run_master(master_startup startup, const master_options& opts) {
    log::set_role("master");
    master m(std::move(startup), opts);
    return m.run();
}

}  // namespace bulwark::process
