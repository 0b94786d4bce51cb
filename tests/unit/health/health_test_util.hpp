// Helpers for the health unit tests: a backend table in a temp file, and tiny blocking origins on
// 127.0.0.1 (one thread each) whose answer can be switched while a test runs.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../shm/shm_test_util.hpp"
#include "shm/backend_table.hpp"
#include "shm/segment.hpp"

namespace health_test {

struct table_fixture {
    explicit table_fixture(std::uint32_t capacity = 64)
        : seg(bulwark::shm::segment::open_or_create(
                  dir.file("backends.shm"),
                  bulwark::shm::segment_header_bytes + bulwark::shm::backend_table::bytes_for(capacity), 1)
                  .seg),
          table(bulwark::shm::backend_table::open_or_format({seg.data(), seg.data_size()}, capacity, reason)) {}

    bulwark::shm::backend_handle add(const std::string& upstream, const std::string& address) {
        auto h = table.find_or_add(upstream, address, 0);
        if (!h) throw std::runtime_error("backend table full");
        return *h;
    }

    shm_test::temp_dir dir;
    bulwark::shm::segment seg;
    std::string reason;
    bulwark::shm::backend_table table;
};

/// A socket bound to 127.0.0.1:<port>, optionally listening. Bound but not listening, connections to
/// it are refused while the port stays ours.
inline int bind_loopback(bool listening, std::uint16_t& port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || (listening && ::listen(fd, 64) != 0) ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("bind/listen failed");
    }
    port = ntohs(a.sin_port);
    return fd;
}

/// A blocking origin: accepts, reads the request head, then answers as `mode` says.
class origin {
public:
    enum class mode { ok, error, close, silent };

    origin() { fd_ = bind_loopback(true, port_); }
    ~origin() {
        stop();
        ::close(fd_);
    }
    origin(const origin&) = delete;
    origin& operator=(const origin&) = delete;

    /// Starts the accept thread (after any fork(), so that children do not inherit a half thread).
    void start() { thread_ = std::thread([this] { loop(); }); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        for (int fd : held_) ::close(fd);
        held_.clear();
    }

    void set(mode m) { mode_ = m; }
    std::uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    unsigned accepts() const { return accepts_; }
    std::string last_request() {
        std::lock_guard<std::mutex> g(mutex_);
        return last_request_;
    }

private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            ++accepts_;
            serve(c);
        }
    }

    void serve(int c) {
        timeval tv{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string req;
        char buf[1024];
        while (req.find("\r\n\r\n") == std::string::npos) {
            ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            req.append(buf, static_cast<std::size_t>(n));
        }
        {
            std::lock_guard<std::mutex> g(mutex_);
            last_request_ = req;
        }
        const char* answer = nullptr;
        switch (mode_.load()) {
        case mode::ok:
            answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
            break;
        case mode::error:
            answer = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            break;
        case mode::close:
            break;
        case mode::silent:
            held_.push_back(c);  // never answered; closed when the origin stops
            return;
        }
        if (answer) (void)!::send(c, answer, std::char_traits<char>::length(answer), MSG_NOSIGNAL);
        ::close(c);
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<mode> mode_{mode::ok};
    std::atomic<unsigned> accepts_{0};
    std::vector<int> held_;  // touched by the thread only until stop() joined it
    std::mutex mutex_;
    std::string last_request_;
};

/// Polls `cond` every 10 ms until it holds or `limit` passes.
inline bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return cond();
}

}  // namespace health_test
