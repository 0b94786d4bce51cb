// process/listeners: SO_REUSEADDR for quick restarts, IPV6_V6ONLY so [::]:80 and 0.0.0.0:80 can both
// be bound, a deep backlog (the kernel caps it at somaxconn), non-blocking for the workers' Asio.
#include "process/listeners.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bulwark::process {
namespace {

constexpr int backlog = 4096;

}  // namespace

int open_listener(const config::endpoint& ep, std::string& error) {
    sockaddr_storage ss{};
    socklen_t len;
    if (ep.ipv6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(ep.port);
        inet_pton(AF_INET6, ep.host.c_str(), &a->sin6_addr);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(ep.port);
        inet_pton(AF_INET, ep.host.c_str(), &a->sin_addr);
        len = sizeof *a;
    }
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = "socket() for " + ep.text() + " failed: " + std::strerror(errno);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ep.ipv6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, backlog) != 0) {
        error = "cannot listen on " + ep.text() + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

bool open_listeners(const config::config& cfg, std::vector<listening_socket>& out, std::string& error) {
    for (std::size_t i = 0; i < cfg.listeners.size(); ++i) {
        for (const auto& ep : cfg.listeners[i].binds) {
            int fd = open_listener(ep, error);
            if (fd < 0) {
                close_listeners(out);
                return false;
            }
            out.push_back({fd, static_cast<int>(i), ep.text()});
        }
    }
    return true;
}

void close_listeners(std::vector<listening_socket>& sockets) {
    for (auto& s : sockets)
        if (s.fd >= 0) ::close(s.fd);
    sockets.clear();
}

}  // namespace bulwark::process
