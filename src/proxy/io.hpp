// proxy/io: socket helpers for the relay. Writes go out inline with a non-blocking write_some and fall
// back to async_write only for the rest (BENCHMARKING.md: an async op that completes at once still pays
// a scheduler post and an extra epoll_wait).
#pragma once

#include <array>
#include <cstddef>

#include "core/asio.hpp"
#include "proxy/deadline.hpp"

namespace bulwark::proxy {

class stream;

/// Up to four buffers written with one gather call.
struct gather {
    std::array<asio::const_buffer, 4> bufs;
    std::size_t count = 0;
    void add(const void* p, std::size_t n) {
        if (n) bufs[count++] = asio::const_buffer(p, n);
    }
    std::size_t bytes() const {
        std::size_t n = 0;
        for (std::size_t i = 0; i < count; ++i) n += bufs[i].size();
        return n;
    }
};

/// Writes what the socket takes now, without waiting. True when `g` went out whole, or on a hard error
/// (in `ec`); false when the rest, left in `g`, needs send_rest(). Hot paths call the pair directly:
///     if (!send_now(s, g, ec)) ec = co_await send_rest(s, g);
/// which costs no coroutine frame when the write completes inline (the usual case).
bool send_now(tcp_socket& s, gather& g, error_code& ec);
/// Waits until the socket has taken `g`; the caller's armed deadline bounds the wait.
task<error_code> send_rest(tcp_socket& s, gather g);
// send_now and send_rest for a proxy::stream (plain or TLS) are in proxy/stream.hpp; the two below
// serve both kinds of socket.

/// Both, for paths where a frame does not matter.
template <class Socket>
task<error_code> send_all(Socket& s, gather g) {
    error_code ec;
    if (!send_now(s, g, ec)) ec = co_await send_rest(s, g);
    co_return ec;
}

/// Reads at least one byte; returns timed_out when the deadline closed the socket. Hot paths inline
/// the read instead (co_await s.async_read_some, then timed_out_if()) to save a coroutine frame.
template <class Socket>
task<error_code> read_some(Socket& s, deadline_entry& d, char* p, std::size_t n, std::size_t& got) {
    error_code ec;
    got = co_await s.async_read_some(drained_buffer(p, n), asio::redirect_error(use_task, ec));
    if (d.expired) ec = asio::error::timed_out;
    co_return ec;
}

inline void timed_out_if(const deadline_entry& d, error_code& ec) {
    if (d.expired) ec = asio::error::timed_out;
}

}  // namespace bulwark::proxy
