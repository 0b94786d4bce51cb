// process/channel: header {type, payload length} + payload in one datagram; fds ride as ancillary data.
#include "process/channel.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace bulwark::process {
namespace {
constexpr std::size_t max_fds = 64;  // listening sockets travel on reload
constexpr std::size_t max_payload = 1 << 20;
}  // namespace

bool make_channel(int fds[2]) {
    return ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0;
}

bool send_message(int fd, const message& m) {
    std::uint32_t header[2] = {static_cast<std::uint32_t>(m.type), static_cast<std::uint32_t>(m.payload.size())};
    iovec iov[2] = {{header, sizeof header}, {const_cast<char*>(m.payload.data()), m.payload.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = m.payload.empty() ? 1 : 2;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds)];
    if (!m.fds.empty()) {
        std::size_t n = std::min(m.fds.size(), max_fds);
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        std::memcpy(CMSG_DATA(c), m.fds.data(), sizeof(int) * n);
    }
    for (;;) {
        ssize_t r = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (r >= 0) return true;
        if (errno != EINTR) return false;
    }
}

int receive_message(int fd, message& m) {
    std::uint32_t header[2] = {};
    std::vector<char> body(max_payload);
    iovec iov[2] = {{header, sizeof header}, {body.data(), body.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t r;
    do r = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r == 0) return 0;
    if (r < static_cast<ssize_t>(sizeof header)) return -1;
    m.type = static_cast<message_type>(header[0]);
    std::size_t len = std::min<std::size_t>(header[1], static_cast<std::size_t>(r) - sizeof header);
    m.payload.assign(body.data(), len);
    m.fds.clear();
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const int* p = reinterpret_cast<const int*>(CMSG_DATA(c));
        m.fds.assign(p, p + n);
    }
    return 1;
}

}  // namespace bulwark::process
