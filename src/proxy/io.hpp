// proxy/io: socket helpers for the relay. Writes go out inline with a non-blocking write_some and fall
// back to async_write only for the rest (BENCHMARKING.md: an async op that completes at once still pays
// a scheduler post and an extra epoll_wait).
#pragma once

#include <array>
#include <cstddef>

#include "core/asio.hpp"
#include "proxy/deadline.hpp"

namespace bulwark::proxy {

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

/// Writes everything in `g`; `deadline` (armed by the caller) bounds the wait for a slow reader.
task<error_code> send_all(tcp_socket& s, gather g);

/// Reads at least one byte; returns timed_out when the deadline closed the socket.
task<error_code> read_some(tcp_socket& s, deadline_entry& d, char* p, std::size_t n, std::size_t& got);

}  // namespace bulwark::proxy
