// harness/http_client: a small blocking HTTP/1.1 client over a raw TCP socket. Every wait is bounded by
// the client's timeout (an expired wait throws), so a broken proxy fails a test instead of hanging it.
// Sends raw bytes (for malformed or hand-framed requests) and reads one response at a time with
// Content-Length, chunked or close-delimited framing, keeping the connection for keep-alive.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_response {
    std::string version;  // "HTTP/1.1"
    int status = 0;
    std::string reason;
    header_list headers;
    std::vector<int> interim;   // statuses of 1xx responses that preceded this one
    std::string body;           // the decoded body, up to the client's keep limit
    std::uint64_t body_size = 0;  // decoded body bytes, all of them
    std::uint64_t body_hash = 0xcbf29ce484222325ull;  // FNV-1a of the decoded body (pattern.hpp)
    bool chunked = false;         // the body arrived with chunked framing
    bool close_delimited = false;  // the body ended with the connection
    header_list trailers;          // trailer fields of a chunked body, in arrival order

    std::optional<std::string> header(std::string_view name) const;
    std::size_t header_count(std::string_view name) const;
    /// First value of a trailer field (case-insensitive name), if present.
    std::optional<std::string> trailer(std::string_view name) const;
};

/// Thrown when a wait expires or the connection fails.
struct client_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class http_client {
public:
    explicit http_client(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// Connects from `source_ip` (e.g. "127.0.0.2": all of 127.0.0.0/8 is local on Linux), so one test
    /// can be several clients to per-address balancers, limits and allow/deny rules.
    http_client(std::uint16_t port, const std::string& source_ip,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
    /// Bodies larger than this are counted and hashed but not kept in `body` (default 16 MB).
    void set_body_keep_limit(std::size_t n) { keep_limit_ = n; }

    void send(std::string_view bytes);
    /// Sends n pattern bytes starting at pattern offset `offset`, as a raw stream (no framing added).
    void send_pattern(std::uint64_t n, std::uint64_t offset = 0);

    /// Reads the next response. By default 1xx responses are skipped (their statuses go to `interim`);
    /// with stop_at_interim a 1xx response is returned as it is. A response to HEAD has no body.
    http_response read_response(bool head_request = false, bool stop_at_interim = false);

    /// Sends a request with Host, Content-Length (when body is non-empty or the method is POST/PUT) and
    /// the given headers, and reads its response.
    http_response request(std::string_view method, std::string_view target, const header_list& headers = {},
                          std::string_view body = {});
    http_response get(std::string_view target, const header_list& headers = {}) {
        return request("GET", target, headers);
    }

    /// True when the peer has closed the connection (EOF readable within `wait`); false if still open.
    bool peer_closed(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
    /// True when bytes (or EOF) become readable within `wait`; bytes already buffered count.
    bool readable(std::chrono::milliseconds wait);
    /// Reads exactly n raw bytes (buffered ones first), e.g. the frames after a 101 response.
    std::string read_bytes(std::size_t n);
    /// Half-closes the sending side (shutdown SHUT_WR); reading stays possible.
    void shutdown_send();
    bool is_open() const { return fd_ >= 0; }
    void close();
    std::uint16_t port() const { return port_; }

private:
    void connect_from(const char* source_ip);  // nullptr: the kernel's choice (127.0.0.1)
    bool fill(bool eof_ok);  // reads more into buf_; false on EOF when eof_ok
    std::string read_line();
    void read_exact(std::uint64_t n, http_response& r);
    void deliver(const char* p, std::size_t n, http_response& r);

    std::uint16_t port_;
    int fd_ = -1;
    std::chrono::milliseconds timeout_;
    std::size_t keep_limit_ = 16u << 20;
    std::string buf_;
    std::size_t pos_ = 0;  // consumed prefix of buf_
};

/// Builds "METHOD TARGET HTTP/1.1\r\nHost: ...\r\n<headers>\r\n" (no Content-Length added).
std::string request_head(std::string_view method, std::string_view target, const header_list& headers,
                         std::string_view host = "localhost");

}  // namespace bulwark::test
