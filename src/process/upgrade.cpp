// process/upgrade: USR2 and `bulwark -s upgrade`. The master executes the binary at the path it was
// started from (a package upgrade has replaced that file), handing over the listening sockets by fd
// and the shared segment by path. Only when the new master reports that its workers are ready do the
// old workers drain; if it exits or stays silent past upgrade_timeout, it is killed, the pid file is
// put back and nothing else changes (rollback).
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.hpp"
#include "process/supervisor.hpp"

namespace bulwark::process {
namespace {

// The new master's gauge rows: the half the old master's workers do not use.
unsigned other_slot_base(unsigned base) { return base == 0 ? 64 : 0; }

}  // namespace

std::string supervisor::begin_upgrade() {
    if (upgrade_pid_ > 0) return "an upgrade is already in progress";
    if (state_ != master_state::running) return "bulwark is not running normally (starting or stopping)";
    if (opts_.exe_path.empty() || ::access(opts_.exe_path.c_str(), X_OK) != 0)
        return "cannot execute " + opts_.exe_path + ": " + std::strerror(errno);
    const std::string& pid_file = cfg_->global.pid_file;
    const std::string old_pid_file = pid_file + ".oldbin";
    if (::rename(pid_file.c_str(), old_pid_file.c_str()) != 0)
        return "cannot rename " + pid_file + " to " + old_pid_file + ": " + std::strerror(errno);
    int notify[2];
    if (::pipe2(notify, O_CLOEXEC) != 0) {
        ::rename(old_pid_file.c_str(), pid_file.c_str());
        return std::string("pipe() failed: ") + std::strerror(errno);
    }
    const std::string fds = encode_inherited(listeners_);
    const std::string notify_fd = std::to_string(notify[1]);
    const std::string slot_base = std::to_string(other_slot_base(opts_.slot_base));
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(notify[0]);
        ::close(notify[1]);
        ::rename(old_pid_file.c_str(), pid_file.c_str());
        return std::string("fork() failed: ") + std::strerror(errno);
    }
    if (pid == 0) {
        // The sockets and the notify pipe must survive exec; everything else of ours closes.
        for (const auto& l : listeners_) ::fcntl(l.fd, F_SETFD, 0);
        ::fcntl(notify[1], F_SETFD, 0);
        ::setenv(env_inherited_fds, fds.c_str(), 1);
        ::setenv(env_upgrade_notify_fd, notify_fd.c_str(), 1);
        ::setenv(env_slot_base, slot_base.c_str(), 1);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        const char* argv[] = {opts_.exe_path.c_str(), "-c", opts_.config_path.c_str(), "--foreground", nullptr};
        ::execv(opts_.exe_path.c_str(), const_cast<char* const*>(argv));
        BW_LOG(crit, "upgrade: cannot execute %s: %s", opts_.exe_path.c_str(), std::strerror(errno));
        ::_exit(127);
    }
    ::close(notify[1]);
    upgrade_pid_ = pid;
    upgrade_fd_ = notify[0];
    upgrade_deadline_ = clock::now() + cfg_->global.upgrade_timeout;
    BW_LOG(notice, "live upgrade: started %s as pid %d", opts_.exe_path.c_str(), static_cast<int>(pid));
    return {};
}

void supervisor::read_upgrade_notice() {
    char buf[256];
    ssize_t n = ::read(upgrade_fd_, buf, sizeof buf - 1);
    if (n > 0 && std::strncmp(buf, "ok", 2) == 0) {
        ::close(upgrade_fd_);
        upgrade_fd_ = -1;
        upgrade_deadline_ = clock::time_point::max();
        BW_LOG(notice, "live upgrade: new master pid %d is ready; draining the old workers",
               static_cast<int>(upgrade_pid_));
        upgraded_ = true;
        reply_and_close(upgrade_client_, "ok\nnew master pid " + std::to_string(upgrade_pid_) + "\n");
        upgrade_pid_ = -1;  // no longer ours to watch: it outlives us
        begin_stop(true);
        return;
    }
    std::string why = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "the new binary exited before it was ready";
    while (!why.empty() && why.back() == '\n') why.pop_back();
    ::kill(upgrade_pid_, SIGKILL);
    upgrade_failed(why);
}

bool supervisor::is_upgrade_child(pid_t pid, int status) {
    if (pid != upgrade_pid_ || upgrade_pid_ <= 0) return false;
    upgrade_pid_ = -1;
    if (upgrade_fd_ >= 0)
        upgrade_failed(WIFEXITED(status) ? "the new binary exited with status " + std::to_string(WEXITSTATUS(status))
                                         : "the new binary was killed by signal " + std::to_string(WTERMSIG(status)));
    return true;
}

void supervisor::upgrade_failed(const std::string& why) {
    if (upgrade_fd_ >= 0) ::close(upgrade_fd_);
    upgrade_fd_ = -1;
    upgrade_deadline_ = clock::time_point::max();
    const std::string& pid_file = cfg_->global.pid_file;
    ::rename((pid_file + ".oldbin").c_str(), pid_file.c_str());
    // The new master may have replaced our control socket before failing: take it back.
    if (control_fd_ >= 0) ::close(control_fd_);
    control_fd_ = -1;
    open_control_socket();
    BW_LOG(error, "live upgrade failed, still serving with pid %d: %s", static_cast<int>(::getpid()), why.c_str());
    reply_and_close(upgrade_client_, "error\n" + why + "\n");
}

}  // namespace bulwark::process
