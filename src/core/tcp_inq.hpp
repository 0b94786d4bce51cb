// core/tcp_inq: TCP_INQ, the socket option behind core/asio_drained.hpp, without Asio, so that the
// master can set it on listening sockets (accepted sockets inherit it).
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#ifndef TCP_INQ  // Linux >= 4.18; older glibc headers lack the name
#define TCP_INQ 36
#define TCP_CM_INQ TCP_INQ
#endif

namespace bulwark {

/// Asks the kernel to report the bytes left after each read (TCP_INQ). False when it cannot: reads on
/// that socket then simply stay speculative.
inline bool report_bytes_left(int fd) {
    int one = 1;
    return ::setsockopt(fd, IPPROTO_TCP, TCP_INQ, &one, sizeof one) == 0;
}

}  // namespace bulwark
