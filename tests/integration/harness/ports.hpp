// harness/ports: free ephemeral TCP ports on 127.0.0.1 (bind port 0, read it back, close), so tests never
// collide with each other or with fixed-port services (STYLE.md lesson 12: bind to port zero).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

namespace bulwark::test {

/// A port that was free a moment ago. The kernel hands out ephemeral ports in sequence, so it is not
/// reused immediately by another bind(0); the caller binds it soon after.
inline std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("free_port: socket() failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("free_port: bind/getsockname failed");
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace bulwark::test
