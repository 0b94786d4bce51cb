// process/control_server: a unix socket next to the shared segment on which `bulwark -s reload` asks
// for a reload and waits for its outcome (nginx's `-s reload` only sends a signal and exits 0 even when
// the new configuration is broken). One request at a time; the answer is "ok" or "error" and reasons.
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.hpp"
#include "process/supervisor.hpp"

namespace bulwark::process {

std::string control_socket_path(const config::config& cfg) { return cfg.global.state_dir + "/bulwark.ctl"; }

void supervisor::open_control_socket() {
    control_path_ = control_socket_path(*cfg_);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (control_path_.size() >= sizeof addr.sun_path) {
        BW_LOG(warn, "control socket path %s too long: bulwark -s reload will not work", control_path_.c_str());
        return;
    }
    std::memcpy(addr.sun_path, control_path_.c_str(), control_path_.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ::unlink(control_path_.c_str());
    mode_t old = ::umask(077);  // only the master's user (root) may ask for a reload
    bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd, 8) == 0;
    ::umask(old);
    if (!ok) {
        BW_LOG(warn, "cannot open control socket %s: %s", control_path_.c_str(), std::strerror(errno));
        if (fd >= 0) ::close(fd);
        return;
    }
    control_fd_ = fd;
}

void supervisor::accept_control() {
    int c = ::accept4(control_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    timeval tv{1, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[64];
    ssize_t n = ::recv(c, buf, sizeof buf - 1, 0);
    std::string command = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    auto reply_now = [c](const std::string& text) mutable { reply_and_close(c, text); };
    if (command == "upgrade") {
        if (upgrade_client_ >= 0 || upgrade_pid_ > 0) return reply_now("error\nan upgrade is already in progress\n");
        std::string why = begin_upgrade();
        if (!why.empty()) return reply_now("error\n" + why + "\n");
        upgrade_client_ = c;  // answered when the new master is ready, or when it failed
        return;
    }
    if (command != "reload") return reply_now("error\nunknown command \"" + command + "\"\n");
    if (control_client_ >= 0) return reply_now("error\nanother reload is waiting for its outcome\n");
    std::string errors = reload();
    if (!errors.empty()) return reply_now("error\n" + errors);
    if (!reload_pending_) return reply_now("ok\n");
    control_client_ = c;  // answered by finish_reload_if_done()
}

void reply_and_close(int& fd, const std::string& text) {
    if (fd < 0) return;
    ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    ::close(fd);
    fd = -1;
}

void supervisor::answer_control(const std::string& text) { reply_and_close(control_client_, text); }

}  // namespace bulwark::process
