// core/asio_accept: a connection accepted by accept4() handed to Asio without the two syscalls Asio
// would spend on it.
//
// Asio accepts with accept() and wraps the descriptor with assign(), so it must assume two things it
// cannot know: that the descriptor is blocking (the first operation sets O_NONBLOCK: an ioctl per
// connection) and that it may be a dup() of another one (closing it then first removes it from epoll
// explicitly: an epoll_ctl per connection; the kernel drops a closed descriptor from epoll by itself
// when no duplicate exists). accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) makes both known, and
// adopt_accepted() records it in the socket's state, which Asio keeps in a protected member. Written
// against Asio 1.18 (Boost 1.74, Debian 12); with any other Asio it falls back to Asio's own calls.
#pragma once

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/version.hpp>

namespace bulwark {

/// Wraps `fd`, a socket returned by accept4(SOCK_NONBLOCK | SOCK_CLOEXEC), in `socket` (registered
/// with the reactor), already in non-blocking mode as far as Asio is concerned.
template <class Protocol, class Executor>
void adopt_accepted(boost::asio::basic_stream_socket<Protocol, Executor>& socket, const Protocol& protocol, int fd,
                    boost::system::error_code& ec) {
    using socket_type = boost::asio::basic_stream_socket<Protocol, Executor>;
    socket.assign(protocol, fd, ec);
    if (ec) return;
#if BOOST_ASIO_VERSION == 101800 && !defined(BOOST_ASIO_HAS_IOCP) && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
    struct state_access : socket_type {
        static auto& state(socket_type& s) { return (s.*(&state_access::impl_)).get_implementation().state_; }
    };
    namespace ops = boost::asio::detail::socket_ops;
    auto& state = state_access::state(socket);
    state = static_cast<ops::state_type>((state & ~ops::possible_dup) | ops::user_set_non_blocking |
                                         ops::internal_non_blocking);
#else
    socket.non_blocking(true, ec);
#endif
}

}  // namespace bulwark
