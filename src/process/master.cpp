// process/master: the supervisor's loop (nginx's ngx_master_process_cycle). Signals arrive through a
// signalfd and are handled in one poll() loop together with the children's channels and the control
// socket; handlers only record what to do.
#include "process/master.hpp"

#include <cerrno>
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
#include "process/sd_notify.hpp"
#include "process/supervisor.hpp"
#include "process/worker.hpp"
#include "tls/resumption.hpp"
#include "health/monitor.hpp"

namespace bulwark::process {
namespace {

constexpr milliseconds stable_uptime{10'000};  // a worker up this long resets its back-off
constexpr milliseconds max_backoff{10'000};
constexpr milliseconds fast_stop_grace{2'000};

}  // namespace

supervisor::supervisor(master_startup s, const master_options& opts)
    : cfg_(std::move(s.cfg)), listeners_(std::move(s.listeners)), id_(std::move(s.id)), access_fd_(s.access_log_fd),
      shared_(s.shared), handles_(std::move(s.handles)), cache_(std::move(s.cache)), opts_(opts) {}

int supervisor::run() {
    if (!setup_signals()) return 1;
    open_control_socket();
    for (unsigned i = 0; i < cfg_->global.workers; ++i) spawn(add_worker());
    start_monitor_if_needed();
    for (;;) {
        if (state_ == master_state::draining && live_children() == 0) break;
        if (state_ == master_state::terminating && live_children() == 0) break;
        poll_once();
        reap();
        respawn_due();
        enforce_deadline();
        tls::rotate_ticket_keys_if_due(*cfg_);
        if (reload_pending_ && clock::now() >= reload_deadline_) finish_reload_if_done(true);
        if (upgrade_pid_ > 0 && clock::now() >= upgrade_deadline_) {
            ::kill(upgrade_pid_, SIGKILL);
            upgrade_failed("the new binary did not become ready within upgrade_timeout");
        }
    }
    if (opts_.ready_fd >= 0) notify_ready("bulwark stopped before becoming ready\n");
    if (control_fd_ >= 0) {
        ::close(control_fd_);
        if (!upgraded_) ::unlink(control_path_.c_str());  // after an upgrade it is the new master's
    }
    close_listeners(listeners_);
    remove_pid_file(cfg_->global.pid_file, ::getpid());
    if (upgraded_) ::unlink((cfg_->global.pid_file + ".oldbin").c_str());
    BW_LOG(notice, "master exiting");
    return exit_status_;
}

namespace {
constexpr int master_signals[] = {SIGCHLD, SIGHUP, SIGQUIT, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGWINCH};

sigset_t master_signal_set() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : master_signals) sigaddset(&set, s);
    return set;
}
}  // namespace

void block_master_signals() {
    // A signal ignored by whoever started us (sh does that to background jobs' INT and QUIT) is
    // discarded before it could reach the signalfd: restore the default, it stays blocked.
    for (int s : master_signals) ::signal(s, SIG_DFL);
    sigset_t set = master_signal_set();
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

// The signals are blocked since start-up (block_master_signals): what arrived meanwhile is read here.
bool supervisor::setup_signals() {
    sigset_t set = master_signal_set();
    signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) {
        BW_LOG(crit, "signalfd() failed: %s", std::strerror(errno));
        return false;
    }
    return true;
}

// A new worker entry on the lowest gauge slot no live or pending worker holds.
child& supervisor::add_worker() {
    unsigned slot = opts_.slot_base;
    auto taken = [&](unsigned s) {
        for (const auto& c : workers_)
            if (c.slot == s) return true;
        return false;
    };
    while (taken(slot)) ++slot;
    child c;
    c.slot = slot;
    workers_.push_back(c);
    return workers_.back();
}

// Active health checks run in one process for all workers: one probe per interval, not one per worker.
void supervisor::start_monitor_if_needed() {
    bool needed = false;
    for (const auto& u : cfg_->upstreams) needed |= u.health.enabled;
    if (!needed || !shared_) return;
    child& m = add_worker();
    m.monitor = true;
    spawn(m);
}

void supervisor::spawn(child& c) {
    int ch[2];
    if (!make_channel(ch)) {
        BW_LOG(crit, "socketpair() failed: %s", std::strerror(errno));
        schedule_respawn(c);
        return;
    }
    pid_t master_pid = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        BW_LOG(crit, "fork() failed: %s", std::strerror(errno));
        ::close(ch[0]);
        ::close(ch[1]);
        schedule_respawn(c);
        return;
    }
    if (pid == 0) {
        ::close(ch[0]);
        ::close(signal_fd_);
        if (control_fd_ >= 0) ::close(control_fd_);
        if (control_client_ >= 0) ::close(control_client_);
        for (auto& other : workers_)
            if (other.channel >= 0) ::close(other.channel);
        if (upgrade_fd_ >= 0) ::close(upgrade_fd_);
        if (c.monitor) {
            close_listeners(listeners_);
            std::string error;
            if (!drop_privileges(id_, error)) {
                BW_LOG(crit, "monitor: %s", error.c_str());
                ::_exit(2);
            }
            ::_exit(health::run_monitor({cfg_, &shared_->backends(), master_pid, ch[1]}));
        }
        worker_args a{static_cast<int>(c.slot), master_pid, cfg_, &listeners_, ch[1], access_fd_, id_, shared_, &handles_, cache_.get()};
        ::_exit(run_worker(a));
    }
    ::close(ch[1]);
    c.pid = pid;
    c.channel = ch[0];
    c.ready = false;
    c.awaiting_config = false;
    c.started = clock::now();
    c.respawn_at = clock::time_point::max();
    if (c.monitor) BW_LOG(info, "started the health-check monitor (pid %d)", static_cast<int>(pid));
    else BW_LOG(info, "started worker %u (pid %d)", c.slot, static_cast<int>(pid));
}

// A worker that had become ready and then died (killed, crashed on a request) is replaced at once, as
// nginx does: waiting would leave its share of connections unserved. Back-off is for children that
// die before they are ready (a start-up failure would otherwise spin).
void supervisor::schedule_respawn(child& c) {
    if (c.ready || (c.started != clock::time_point{} && clock::now() - c.started >= stable_uptime)) c.failures = 0;
    milliseconds delay = c.failures == 0 ? milliseconds(0)
                                         : std::min(max_backoff, milliseconds(100) * (1 << std::min(c.failures, 7u)));
    ++c.failures;
    c.respawn_at = clock::now() + delay;
    if (delay.count()) BW_LOG(warn, "respawning worker %u in %lld ms", c.slot, static_cast<long long>(delay.count()));
}

std::size_t supervisor::live_children() const {
    std::size_t n = 0;
    for (const auto& c : workers_) n += c.pid > 0;
    return n;
}

void supervisor::poll_once() {
    std::vector<pollfd> fds;
    fds.push_back({signal_fd_, POLLIN, 0});
    fds.push_back({control_fd_, static_cast<short>(control_fd_ >= 0 ? POLLIN : 0), 0});
    fds.push_back({upgrade_fd_, static_cast<short>(upgrade_fd_ >= 0 ? POLLIN : 0), 0});
    for (const auto& c : workers_)
        if (c.channel >= 0) fds.push_back({c.channel, POLLIN, 0});
    int r = ::poll(fds.data(), fds.size(), next_timeout_ms());
    if (r <= 0) return;
    if (fds[0].revents & POLLIN) read_signals();
    if (fds[1].revents & POLLIN) accept_control();
    if (fds[2].revents) read_upgrade_notice();
    for (std::size_t k = 3; k < fds.size(); ++k) {
        if (!fds[k].revents) continue;
        for (auto& c : workers_)
            if (c.channel == fds[k].fd) read_channel(c);
    }
}

int supervisor::next_timeout_ms() const {
    auto now = clock::now();
    auto next = now + milliseconds(1000);
    for (const auto& c : workers_) next = std::min(next, c.respawn_at);
    next = std::min(next, reload_deadline_);
    next = std::min(next, upgrade_deadline_);
    if (state_ == master_state::draining || state_ == master_state::terminating) next = std::min(next, deadline_);
    for (const auto& c : workers_)
        if (c.retiring && c.pid > 0) next = std::min(next, now + milliseconds(100));
    auto ms = std::chrono::duration_cast<milliseconds>(next - now).count();
    return static_cast<int>(std::max<long long>(0, ms));
}

void supervisor::read_signals() {
    signalfd_siginfo si;
    while (::read(signal_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        switch (si.ssi_signo) {
        case SIGQUIT: begin_stop(true); break;
        case SIGTERM:
        case SIGINT: begin_stop(false); break;
        case SIGUSR1: reopen_logs(); break;
        case SIGHUP: {
            std::string errors = reload();
            if (!errors.empty()) BW_LOG(error, "reload refused, still serving the previous configuration");
            break;
        }
        case SIGUSR2: {
            std::string why = begin_upgrade();
            if (!why.empty()) BW_LOG(error, "upgrade not started: %s", why.c_str());
            break;
        }
        default: break;  // SIGCHLD: reap() runs after every poll
        }
    }
}

void supervisor::read_channel(child& c) {
    message m;
    int r = receive_message(c.channel, m);
    if (r == 0) {  // the child closed its end: it is exiting; reap() collects it
        ::close(c.channel);
        c.channel = -1;
        if (c.awaiting_config) config_applied(c, "worker exited before applying the configuration");
    } else if (r > 0 && m.type == message_type::ready) {
        c.ready = true;
        maybe_all_ready();
    } else if (r > 0 && m.type == message_type::config_done) {
        config_applied(c, m.payload);
    }
    for (int extra : m.fds) ::close(extra);
}

void supervisor::maybe_all_ready() {
    if (state_ != master_state::starting) return;
    for (const auto& c : workers_)
        if (!c.ready && !c.retiring) return;
    state_ = master_state::running;
    BW_LOG(notice, "bulwark ready: %zu workers, %zu listening sockets", workers_.size(), listeners_.size());
    notify_ready("ok\n");
    notify_systemd("READY=1\nMAINPID=" + std::to_string(::getpid()) + "\n");
}

void supervisor::notify_ready(const char* text) {
    if (opts_.ready_fd < 0) return;
    [[maybe_unused]] auto n = ::write(opts_.ready_fd, text, std::strlen(text));
    ::close(opts_.ready_fd);
    opts_.ready_fd = -1;
}

void supervisor::reap() {
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (is_upgrade_child(pid, status)) continue;
        for (auto& c : workers_) {
            if (c.pid != pid) continue;
            log_exit(c, pid, status);
            c.pid = -1;
            if (c.channel >= 0) ::close(c.channel);
            c.channel = -1;
            if (c.awaiting_config) config_applied(c, "worker exited before applying the configuration");
            // Its requests are gone: zero its active-request gauges so least_conn does not drift.
            if (shared_) {
                shared_->backends().reset_worker_slot(c.slot);
                // Its connections are gone too; per-address counts cannot be told apart by worker, so
                // they restart from zero (briefly lenient rather than locking clients out).
                if (!c.retiring && !c.monitor) shared_->limits().forget_connections();
            }
            if (!c.retiring && (state_ == master_state::starting || state_ == master_state::running))
                schedule_respawn(c);
        }
        std::erase_if(workers_, [](const child& c) { return c.retiring && c.pid < 0; });
    }
}

void supervisor::log_exit(const child& c, pid_t pid, int status) {
    bool expected = c.retiring || state_ == master_state::draining || state_ == master_state::terminating;
    if (WIFSIGNALED(status))
        BW_LOG(warn, "worker %u (pid %d) killed by signal %d", c.slot, static_cast<int>(pid), WTERMSIG(status));
    else if (expected && WEXITSTATUS(status) == 0)
        BW_LOG(info, "worker %u (pid %d) exited", c.slot, static_cast<int>(pid));
    else
        BW_LOG(warn, "worker %u (pid %d) exited with status %d", c.slot, static_cast<int>(pid), WEXITSTATUS(status));
}

void supervisor::respawn_due() {
    if (state_ != master_state::starting && state_ != master_state::running) return;
    auto now = clock::now();
    for (auto& c : workers_)
        if (c.pid < 0 && !c.retiring && c.respawn_at <= now) spawn(c);
}

// Graceful stop of one worker (reload replaced it, or fewer workers are wanted): it stops accepting,
// finishes its requests and exits; shutdown_timeout bounds that.
void supervisor::retire(child& c) {
    c.retiring = true;
    c.respawn_at = clock::now() + cfg_->global.shutdown_timeout;  // reused as its drain deadline
    if (c.pid > 0 && c.channel >= 0) send_message(c.channel, {message_type::stop, {}, {}});
}

void supervisor::begin_stop(bool graceful) {
    if (graceful && (state_ == master_state::draining || state_ == master_state::terminating)) return;
    if (!graceful && state_ == master_state::terminating) return;
    state_ = graceful ? master_state::draining : master_state::terminating;
    if (!upgraded_) notify_systemd("STOPPING=1\n");
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

void supervisor::enforce_deadline() {
    auto now = clock::now();
    for (auto& c : workers_) {
        if (!c.retiring || c.pid <= 0 || now < c.respawn_at) continue;
        BW_LOG(warn, "retired worker pid %d did not finish in shutdown_timeout; killing it", static_cast<int>(c.pid));
        ::kill(c.pid, SIGKILL);
        c.respawn_at = clock::time_point::max();
    }
    if ((state_ != master_state::draining && state_ != master_state::terminating) || now < deadline_) return;
    for (auto& c : workers_) {
        if (c.pid <= 0) continue;
        BW_LOG(warn, "worker pid %d did not stop in time; killing it", static_cast<int>(c.pid));
        ::kill(c.pid, SIGKILL);
    }
    state_ = master_state::terminating;
    deadline_ = clock::time_point::max();
}

void supervisor::reopen_logs() {
    std::string error;
    if (!log::open(cfg_->global.error_log, error)) BW_LOG(error, "%s", error.c_str());
    int access = -1;
    if (!open_access_log(*cfg_, access, error)) {
        BW_LOG(error, "%s", error.c_str());
    } else if (access_fd_ > 2 && access > 2) {
        ::dup3(access, access_fd_, O_CLOEXEC);
        ::close(access);
    } else if (access >= 0) {
        access_fd_ = access;
    }
    BW_LOG(notice, "logs reopened");
    for (auto& c : workers_) send_logs(c);
}

void supervisor::send_logs(child& c) {
    if (c.channel < 0) return;
    message m{message_type::reopen_logs, {}, {}};
    m.fds.push_back(log::fd());
    if (access_fd_ >= 0) m.fds.push_back(access_fd_);
    send_message(c.channel, m);
}

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
    supervisor m(std::move(startup), opts);
    return m.run();
}

}  // namespace bulwark::process
