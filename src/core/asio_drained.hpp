// core/asio_drained: reads that know when the socket is empty, so the next read need not try recv()
// before waiting.
//
// Asio reads speculatively: async_read_some calls recv() at once and waits for epoll only when that
// fails with EAGAIN. Between requests a socket is usually empty, so that first recv() usually fails:
// 1.8 wasted syscalls per proxied request under load (issue 3, counted with perf tracepoints).
//
// Asio already has the means to skip it: its reactor keeps a try_speculative_ flag per descriptor,
// clears it when an operation reports done_and_exhausted, and sets it again on every epoll event for
// the descriptor, so nothing that arrives later can be missed. Asio 1.18's receive operation reports
// exhaustion only at EOF, though, because a short read alone does not prove the socket empty: a FIN
// may already be queued behind the data, and with edge-triggered epoll it raises no further event.
//
// The kernel can say. With TCP_INQ set on a socket (Linux >= 4.18; accepted sockets inherit it from
// the listener), recvmsg() returns the bytes still queued after the read, and reports 1 when a FIN
// was received, precisely so that a caller keeps reading. Reads into a drained_buffer use an operation
// that reads with recvmsg() and reports exhaustion when that count is 0. On a socket without TCP_INQ
// no count comes back and the operation behaves exactly as Asio's own.
//
// The operation is a full specialization of Asio's template for our buffer type, written against
// Asio 1.18 (Boost 1.74, Debian 12); with any other Asio a drained_buffer is an ordinary buffer.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstring>

#include <boost/asio/buffer.hpp>
#include <boost/asio/version.hpp>

#include "core/tcp_inq.hpp"

namespace bulwark {

/// A buffer to read into; see the header comment. Behaves as a mutable_buffer everywhere else.
struct drained_buffer : boost::asio::mutable_buffer {
    drained_buffer(void* data, std::size_t size) : boost::asio::mutable_buffer(data, size) {}
};

}  // namespace bulwark

#if BOOST_ASIO_VERSION == 101800 && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
namespace boost::asio::detail {

template <>
class reactive_socket_recv_op_base<bulwark::drained_buffer> : public reactor_op {
public:
    reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                                 socket_ops::state_type state, const bulwark::drained_buffer& buffer,
                                 socket_base::message_flags flags, func_type complete_func)
        : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
          socket_(socket),
          state_(state),
          buffer_(buffer),
          flags_(flags) {}

    static status do_perform(reactor_op* base) {
        auto* o = static_cast<reactive_socket_recv_op_base*>(base);
        iovec iov{o->buffer_.data(), o->buffer_.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n;
        do n = ::recvmsg(o->socket_, &msg, o->flags_);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
            o->ec_ = boost::system::error_code(errno, boost::asio::error::get_system_category());
            o->bytes_transferred_ = 0;
            return done;
        }
        o->bytes_transferred_ = static_cast<std::size_t>(n);
        const bool stream = (o->state_ & socket_ops::stream_oriented) != 0;
        if (n == 0 && stream) {
            if (o->buffer_.size() == 0) return done;  // an empty read is no EOF, as in Asio
            o->ec_ = boost::asio::error::eof;
            return done_and_exhausted;  // as Asio's own: after EOF a further read waits for an event
        }
        return stream && nothing_left(msg) ? done_and_exhausted : done;
    }

private:
    // The kernel's TCP_CM_INQ count after this read: 0 means empty and no FIN queued.
    static bool nothing_left(msghdr& msg) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != IPPROTO_TCP || c->cmsg_type != TCP_CM_INQ) continue;
            int left;
            std::memcpy(&left, CMSG_DATA(c), sizeof left);
            return left == 0;
        }
        return false;  // no TCP_INQ on this socket: behave as Asio does
    }

    socket_type socket_;
    socket_ops::state_type state_;
    bulwark::drained_buffer buffer_;
    socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
#endif
