// harness/blackhole: a listening socket on 127.0.0.1 whose accept queue is full and never drained, so
// the kernel drops every further SYN and a connect() to it stays in SYN-SENT: the loopback stand-in for
// an unreachable server (Linux: listen(fd, 0) queues one connection; the next SYN is dropped).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace bulwark::test {

class blackhole_listener {
public:
    /// Listens with backlog 0 and fills the queue with `fillers` connections that are never accepted.
    explicit blackhole_listener(int fillers = 4) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("blackhole_listener: socket() failed");
        sockaddr_in a = loopback(0);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 0) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            ::close(fd_);
            throw std::runtime_error("blackhole_listener: bind/listen failed");
        }
        port_ = ntohs(a.sin_port);
        for (int i = 0; i < fillers; ++i) {
            int c = start_connect();
            if (c >= 0) fillers_.push_back(c);
            // Let each handshake land (or be dropped) before the next one.
            pollfd p{c, POLLOUT, 0};
            ::poll(&p, 1, 50);
        }
    }
    ~blackhole_listener() {
        for (int c : fillers_) ::close(c);
        if (fd_ >= 0) ::close(fd_);
    }
    blackhole_listener(const blackhole_listener&) = delete;
    blackhole_listener& operator=(const blackhole_listener&) = delete;

    std::uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

    /// True when a fresh connect does not complete within `wait`: the blackhole works on this kernel.
    bool verify(std::chrono::milliseconds wait = std::chrono::milliseconds(300)) const {
        int c = start_connect();
        if (c < 0) return false;
        pollfd p{c, POLLOUT, 0};
        int r = ::poll(&p, 1, static_cast<int>(wait.count()));
        ::close(c);
        return r == 0;
    }

private:
    static sockaddr_in loopback(std::uint16_t port) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        return a;
    }
    int start_connect() const {
        int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c < 0) return -1;
        sockaddr_in a = loopback(port_);
        ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS expected
        return c;
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::vector<int> fillers_;
};

}  // namespace bulwark::test
