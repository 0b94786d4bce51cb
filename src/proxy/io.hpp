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
/// Both, for paths where a frame does not matter.
task<error_code> send_all(tcp_socket& s, gather g);

/// Reads at least one byte; returns timed_out when the deadline closed the socket. Hot paths inline
/// the read instead (co_await s.async_read_some, then timed_out_if()) to save a coroutine frame.
task<error_code> read_some(tcp_socket& s, deadline_entry& d, char* p, std::size_t n, std::size_t& got);
// The same four for the client side, plain or TLS, are declared in proxy/stream.hpp.

inline void timed_out_if(const deadline_entry& d, error_code& ec) {
    if (d.expired) ec = asio::error::timed_out;
}

}  // namespace bulwark::proxy
