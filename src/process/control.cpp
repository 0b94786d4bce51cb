// process/control: signal client and daemonizing, the two things main() does around the master.
#include "process/control.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include "process/master.hpp"
#include "process/pidfile.hpp"

namespace bulwark::process {

namespace {

// kill(pid, 0) succeeds on a zombie; a master that exited but whose parent has not reaped it yet
// (a shell running it in the foreground of a script) is gone for our purpose.
bool process_gone(pid_t pid) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    FILE* f = std::fopen(path, "r");
    if (!f) return false;
    char buf[512];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* close = std::strrchr(buf, ')');
    return close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X');
}

}  // namespace

namespace {

// Asks the master over its control socket and prints the outcome. The master answers a reload once
// every worker has applied the new configuration, an upgrade once the new master is ready, or says why
// it refused.
int request(const config::config& cfg, const std::string& command) {
    const std::string path = control_socket_path(cfg);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::fprintf(stderr, "bulwark: cannot reach the master at %s: %s (is bulwark running?)\n", path.c_str(),
                     std::strerror(errno));
        if (fd >= 0) ::close(fd);
        return 1;
    }
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(cfg.global.upgrade_timeout).count() + 30;
    timeval tv{static_cast<time_t>(wait), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::send(fd, command.data(), command.size(), MSG_NOSIGNAL);
    std::string reply(64 * 1024, '\0');
    ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
    ::close(fd);
    if (n <= 0) {
        std::fprintf(stderr, "bulwark: no answer from the master about the %s\n", command.c_str());
        return 1;
    }
    reply.resize(static_cast<std::size_t>(n));
    const std::string detail = reply.substr(reply.find('\n') + 1);
    if (reply.starts_with("ok")) {
        if (command == "upgrade") std::printf("upgrade complete: %s", detail.c_str());
        else std::printf("configuration reloaded\n");
        return 0;
    }
    if (command == "upgrade")
        std::fprintf(stderr, "bulwark: upgrade failed, the previous binary is still serving:\n%s", detail.c_str());
    else
        std::fprintf(stderr, "bulwark: reload refused, the previous configuration is still serving:\n%s", detail.c_str());
    return 1;
}

}  // namespace

int send_control(const config::config& cfg, const std::string& action) {
    if (action == "reload" || action == "upgrade") return request(cfg, action);
    int sig;
    if (action == "quit") sig = SIGQUIT;
    else if (action == "stop") sig = SIGTERM;
    else if (action == "reopen") sig = SIGUSR1;
    else {
        std::fprintf(stderr, "bulwark: unknown signal \"%s\" (allowed: reload, upgrade, reopen, quit, stop, status)\n",
                     action.c_str());
        return 2;
    }
    std::string error;
    pid_t pid = read_pid_file(cfg.global.pid_file, error);
    if (pid < 0) {
        std::fprintf(stderr, "bulwark: %s\n", error.c_str());
        return 1;
    }
    if (::kill(pid, sig) != 0) {
        std::fprintf(stderr, "bulwark: cannot signal process %d: %s\n", static_cast<int>(pid), std::strerror(errno));
        return 1;
    }
    if (sig == SIGUSR1) return 0;
    // Wait for the master to finish: graceful stops may take up to shutdown_timeout.
    auto limit = std::chrono::steady_clock::now() + cfg.global.shutdown_timeout + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < limit) {
        if (process_gone(pid)) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::fprintf(stderr, "bulwark: process %d still running after the shutdown timeout\n", static_cast<int>(pid));
    return 1;
}

int daemonize() {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid > 0) {
        ::close(pipefd[1]);
        // Only the daemon waits for its signals (block_master_signals); this parent stays interruptible.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        char buf[512];
        ssize_t n = ::read(pipefd[0], buf, sizeof buf - 1);
        if (n > 0 && std::strncmp(buf, "ok", 2) == 0) ::_exit(0);
        if (n > 0) {
            buf[n] = '\0';
            std::fprintf(stderr, "bulwark: %s", buf);
        } else {
            std::fprintf(stderr, "bulwark: failed to start (see the error log)\n");
        }
        ::_exit(1);
    }
    ::close(pipefd[0]);
    ::setsid();
    if (::chdir("/") != 0) { /* keep going: no file is opened relative to the cwd after this */ }
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        if (devnull > 1) ::close(devnull);
    }
    return pipefd[1];
}

}  // namespace bulwark::process
