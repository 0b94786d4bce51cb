// core/asio: the only header that includes Asio; fixes Boost 1.74's missing <utility> under g++ 12 and
// fixes the concrete executor and awaitable types that every worker-side file uses.
#pragma once

#include <utility>  // must precede asio/awaitable.hpp (Boost 1.74 + g++ 12, C++20)

// A worker runs one io_context on one thread, so Asio's internal locking is pure cost (BENCHMARKING.md:
// -1,350 instructions per request). The integration harness, which runs origins on threads, opts out.
#ifndef BULWARK_ASIO_THREADS
#define BOOST_ASIO_DISABLE_THREADS 1
#endif

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "core/asio_drained.hpp"  // before any read is instantiated

namespace bulwark {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using tcp = asio::ip::tcp;

// Concrete executor types instead of any_io_executor (BENCHMARKING.md: -2,380 instructions per request).
using executor = asio::io_context::executor_type;
using tcp_socket = asio::basic_stream_socket<tcp, executor>;
using tcp_acceptor = asio::basic_socket_acceptor<tcp, executor>;
using steady_timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                                asio::wait_traits<std::chrono::steady_clock>, executor>;
using local_socket = asio::basic_stream_socket<asio::local::stream_protocol, executor>;

template <class T>
using task = asio::awaitable<T, executor>;
inline constexpr asio::use_awaitable_t<executor> use_task{};

}  // namespace bulwark
