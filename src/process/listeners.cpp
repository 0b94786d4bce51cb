// process/listeners: SO_REUSEADDR for quick restarts, IPV6_V6ONLY so [::]:80 and 0.0.0.0:80 can both
// be bound, a deep backlog (the kernel caps it at somaxconn), non-blocking for the workers' Asio.
#include "process/listeners.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/tcp_inq.hpp"

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

void tune_listeners(const config::config& cfg, const std::vector<listening_socket>& sockets) {
    for (const auto& s : sockets) {
        // One second: a client that stays silent is handed over when the kernel repeats its SYN-ACK.
        int defer = cfg.listeners[static_cast<std::size_t>(s.listener_index)].defer_accept ? 1 : 0;
        ::setsockopt(s.fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
        report_bytes_left(s.fd);
    }
}

bool open_listeners(const config::config& cfg, std::vector<listening_socket>& out, std::string& error,
                    std::vector<listening_socket> inherited) {
    for (std::size_t i = 0; i < cfg.listeners.size(); ++i) {
        for (const auto& ep : cfg.listeners[i].binds) {
            auto it = std::find_if(inherited.begin(), inherited.end(),
                                   [&](const listening_socket& l) { return l.address == ep.text() && l.fd >= 0; });
            if (it != inherited.end()) {
                ::fcntl(it->fd, F_SETFD, FD_CLOEXEC);
                out.push_back({it->fd, static_cast<int>(i), ep.text()});
                it->fd = -1;
                continue;
            }
            int fd = open_listener(ep, error);
            if (fd < 0) {
                close_listeners(out);
                close_listeners(inherited);
                return false;
            }
            out.push_back({fd, static_cast<int>(i), ep.text()});
        }
    }
    close_listeners(inherited);  // sockets the new configuration dropped
    tune_listeners(cfg, out);
    return true;
}

std::string encode_inherited(const std::vector<listening_socket>& sockets) {
    std::string out;
    for (const auto& s : sockets) {
        if (s.fd < 0) continue;
        if (!out.empty()) out += ';';
        out += std::to_string(s.fd) + ":" + s.address;
    }
    return out;
}

std::vector<listening_socket> decode_inherited(const char* env) {
    std::vector<listening_socket> out;
    std::string_view rest = env ? env : "";
    while (!rest.empty()) {
        auto semi = rest.find(';');
        std::string_view item = rest.substr(0, semi);
        auto colon = item.find(':');
        if (colon != std::string_view::npos) {
            int fd = std::atoi(std::string(item.substr(0, colon)).c_str());
            if (fd > 2 && ::fcntl(fd, F_GETFD) >= 0) out.push_back({fd, 0, std::string(item.substr(colon + 1))});
        }
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    }
    return out;
}

void close_listeners(std::vector<listening_socket>& sockets) {
    for (auto& s : sockets)
        if (s.fd >= 0) ::close(s.fd);
    sockets.clear();
}

}  // namespace bulwark::process
