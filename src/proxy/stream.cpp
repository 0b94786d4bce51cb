// proxy/stream: TLS reads and writes on the non-blocking fd. Writes coalesce a gather (head +
// body) into full records through one scratch buffer and size records dynamically: small records
// right after idle (the first bytes of a response reach the browser in the first TCP round trip),
// 16 KiB ones once a burst is under way.
#include "proxy/stream.hpp"

#include <time.h>

#include <algorithm>
#include <cstring>

#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proxy/io.hpp"

namespace bulwark::proxy {
namespace {

constexpr std::size_t full_record = 16 * 1024;
constexpr std::size_t small_record = 4 * 1024 - 64;  // a few TCP segments including record overhead
constexpr std::uint64_t small_record_burst = 64 * 1024;  // bytes sent in small records after idle
constexpr std::int64_t idle_after_ms = 1000;

// One worker, one thread: the write path coalesces through one buffer. A write that must wait keeps
// its record inside OpenSSL (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), so the next user may overwrite it.
alignas(64) char scratch[full_record];

std::int64_t coarse_ms() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO: no syscall
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void consume(gather& g, std::size_t n) {
    std::size_t first = 0;
    while (first < g.count && n >= g.bufs[first].size()) n -= g.bufs[first++].size();
    if (first < g.count) g.bufs[first] += n;
    std::size_t k = 0;
    for (std::size_t i = first; i < g.count; ++i) g.bufs[k++] = g.bufs[i];
    g.count = k;
}

}  // namespace

stream::~stream() {
    if (!ssl_) return;
    // A connection that ends without close_notify marks its session not resumable (OpenSSL's
    // ssl_clear_bad_session): a clean one says goodbye first, so its session stays usable.
    if (shutdown_ok_) {
        ERR_clear_error();
        SSL_shutdown(ssl_);
    }
    SSL_free(ssl_);
}

void stream::attach_tls(ssl_st* ssl, bool server_end) {
    ssl_ = ssl;
    SSL_set_fd(ssl_, socket_.native_handle());
    if (server_end) SSL_set_accept_state(ssl_);
    else SSL_set_connect_state(ssl_);
}

void stream::shutdown(tcp::socket::shutdown_type what, error_code& ec) {
    if (ssl_ && shutdown_ok_ && what != tcp::socket::shutdown_receive) {
        ERR_clear_error();
        SSL_shutdown(ssl_);
        shutdown_ok_ = false;
    }
    socket_.shutdown(what, ec);
}

void stream::close(error_code& ec) {
    if (ssl_ && shutdown_ok_) {
        // close_notify is a courtesy (RFC 8446 §6.1): one non-blocking attempt, no wait for the peer's.
        ERR_clear_error();
        SSL_shutdown(ssl_);
        shutdown_ok_ = false;
    }
    socket_.close(ec);
}

stream::want stream::map_result(int ret, error_code& ec) {
    int err = SSL_get_error(ssl_, ret);
    switch (err) {
    case SSL_ERROR_WANT_READ: return want::read;
    case SSL_ERROR_WANT_WRITE: return want::write;
    case SSL_ERROR_ZERO_RETURN:
        ec = asio::error::eof;
        break;
    case SSL_ERROR_SYSCALL:
        ec = errno ? error_code(errno, asio::error::get_system_category()) : error_code(asio::error::eof);
        shutdown_ok_ = false;
        break;
    default: {
        unsigned long e = ERR_peek_last_error();
        ec = e ? error_code(static_cast<int>(e), asio::error::get_ssl_category()) : error_code(asio::error::eof);
        shutdown_ok_ = false;
        break;
    }
    }
    ERR_clear_error();
    return want::none;
}

task<error_code> stream::handshake() {
    error_code ec;
    for (;;) {
        ERR_clear_error();
        int r = SSL_do_handshake(ssl_);
        if (r == 1) {
            shutdown_ok_ = true;
            co_return error_code{};
        }
        want w = map_result(r, ec);
        if (w == want::none) co_return ec ? ec : error_code(asio::error::connection_aborted);
        co_await socket_.async_wait(w == want::read ? tcp_socket::wait_read : tcp_socket::wait_write,
                                    asio::redirect_error(use_task, ec));
        if (ec) co_return ec;
    }
}

task<std::size_t> stream::tls_read_some(char* p, std::size_t n, error_code& ec) {
    for (;;) {
        ec = {};
        std::size_t got = 0;
        ERR_clear_error();
        int r = SSL_read_ex(ssl_, p, n, &got);
        if (r == 1) co_return got;
        want w = map_result(r, ec);
        if (w == want::none) co_return 0;
        co_await socket_.async_wait(w == want::read ? tcp_socket::wait_read : tcp_socket::wait_write,
                                    asio::redirect_error(use_task, ec));
        if (ec) co_return 0;
    }
}

std::size_t stream::record_limit() {
    return burst_bytes_ < small_record_burst ? small_record : full_record;
}

bool stream::tls_send_now(gather& g, error_code& ec) {
    if (blocked_on_ == want::none) {
        // A new write (not the retry of a blocked one): after a pause, start with small records again.
        std::int64_t now = coarse_ms();
        if (now - last_write_ms_ > idle_after_ms) burst_bytes_ = 0;
        last_write_ms_ = now;
    }
    while (g.count) {
        // The same gather always yields the same record (a retry must repeat its length).
        std::size_t limit = record_limit();
        const void* p;
        std::size_t n;
        if (g.count == 1 || g.bufs[0].size() >= limit) {
            p = g.bufs[0].data();
            n = std::min(g.bufs[0].size(), limit);
        } else {
            n = 0;
            for (std::size_t i = 0; i < g.count && n < limit; ++i) {
                std::size_t take = std::min(g.bufs[i].size(), limit - n);
                std::memcpy(scratch + n, g.bufs[i].data(), take);
                n += take;
            }
            p = scratch;
        }
        std::size_t wrote = 0;
        ERR_clear_error();
        int r = SSL_write_ex(ssl_, p, n, &wrote);
        if (r == 1) {
            blocked_on_ = want::none;
            burst_bytes_ += wrote;
            consume(g, wrote);
            continue;
        }
        blocked_on_ = map_result(r, ec);
        if (blocked_on_ == want::none) return true;  // hard error in ec
        return false;
    }
    return true;
}

task<error_code> stream::tls_send_rest(gather g) {
    error_code ec;
    while (blocked_on_ != want::none) {
        co_await socket_.async_wait(blocked_on_ == want::read ? tcp_socket::wait_read : tcp_socket::wait_write,
                                    asio::redirect_error(use_task, ec));
        if (ec) {
            shutdown_ok_ = false;
            co_return ec;
        }
        if (tls_send_now(g, ec)) co_return ec;
    }
    co_return ec;
}

}  // namespace bulwark::proxy
