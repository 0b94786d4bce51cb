// proxy/io: the two primitives every relay uses.
#include "proxy/io.hpp"

#include <span>

namespace bulwark::proxy {

bool send_now(tcp_socket& s, gather& g, error_code& ec) {
    std::size_t total = g.bytes();
    if (total == 0) return true;
    std::span<asio::const_buffer> bufs(g.bufs.data(), g.count);
    std::size_t n = s.write_some(bufs, ec);
    if (!ec && n == total) return true;
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return true;
    ec = {};
    // Keep what the inline write did not take.
    std::size_t first = 0;
    while (first < g.count && n >= g.bufs[first].size()) n -= g.bufs[first++].size();
    if (first < g.count) g.bufs[first] += n;
    std::size_t k = 0;
    for (std::size_t i = first; i < g.count; ++i) g.bufs[k++] = g.bufs[i];
    g.count = k;
    return false;
}

task<error_code> send_rest(tcp_socket& s, gather g) {
    error_code ec;
    std::span<asio::const_buffer> rest(g.bufs.data(), g.count);
    co_await asio::async_write(s, rest, asio::redirect_error(use_task, ec));
    co_return ec;
}

}  // namespace bulwark::proxy
