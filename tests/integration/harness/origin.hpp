// harness/origin: a scripted HTTP/1.1 origin server on 127.0.0.1 with its own io_context and thread.
// It keeps connections alive, decodes Content-Length and chunked request bodies without storing them
// (only /echo keeps the body, up to 64 MB), counts accepted connections and requests, and records the
// last request so tests can see exactly what the proxy forwarded.
//
// Behaviour by path (the query string is ignored; every response carries `X-Origin: NAME`):
//   /echo            200, echoes the request body (Content-Length framing); `X-Request-Chunked: yes|no`
//   /sink            200, body "SIZE HASH" (decimal byte count, 16-hex-digit FNV-1a of the body)
//   /size/N          200, N pattern bytes (harness/pattern.hpp), Content-Length, generated while sent
//   /chunked[/N]     200, N pattern bytes (default 100000) with Transfer-Encoding: chunked, uneven chunks
//   /slow/MS         waits MS milliseconds, then 200 "slow MS"
//   /status/N        status N, body "status N" (no body for 1xx, 204 and 304)
//   /hang            never answers; keeps reading until the peer closes
//   /who             200, body NAME
//   /hop             200 "hop", with hop-by-hop response headers (Connection: keep-alive, X-Origin-Hop;
//                    X-Origin-Hop: 1; Keep-Alive: timeout=5) that a proxy must remove
//   /raw/NAME        the bytes scripted with set_raw(NAME, ...), written exactly as given after the request
//                    body was read; then the connection is kept, closed, or dropped at the next request
//                    (see raw_script). Unscripted names get 404.
//   /ws              a WebSocket handshake (RFC 6455: 101 with Sec-WebSocket-Accept) when the request
//                    carries Upgrade: websocket, Connection: upgrade, Sec-WebSocket-Version: 13 and a key
//                    (else 400); then it echoes every data frame (same opcode, unmasked), answers ping
//                    with pong and close with close (then closes). Text "push" is echoed and followed
//                    100 ms later by a text frame "pushed by origin"; text "close-please" gets a close
//                    frame (code 1000) and the TCP connection closed.
//   anything else    200, body "METHOD TARGET"
// A request carrying `Expect: 100-continue` gets `100 Continue` before its body is read, as real
// servers do. A path given to set_status() answers that status instead of the behaviour above (how a
// test makes /healthz fail), and requests are counted per path and while in flight (head received,
// response not yet written) for balancing tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::test {

struct recorded_request {
    std::string method;
    std::string target;
    std::string version;                                      // "HTTP/1.1"
    std::vector<std::pair<std::string, std::string>> headers;  // in arrival order, names as received
    bool chunked = false;                                     // body arrived with chunked framing
    bool complete = false;                                    // the whole body has been read
    std::uint64_t body_size = 0;                              // decoded body bytes
    std::uint64_t body_hash = 0;                              // FNV-1a of the decoded body
    std::vector<std::pair<std::string, std::string>> trailers;  // trailer fields of a chunked body

    /// First value of a header (case-insensitive name), if present.
    std::optional<std::string> header(std::string_view name) const;
    /// How many times a header (case-insensitive name) occurs.
    std::size_t header_count(std::string_view name) const;
};

/// What /raw/NAME answers: `parts` written in order with `pause` between two of them, then `then`.
struct raw_script {
    enum class after {
        keep,       // keep the connection and serve the next request on it
        close,      // close the connection at once (a keep-alive connection the origin drops while idle)
        drop_next,  // keep it, read the next request (head and body, counted and recorded) and close
                    // without answering: the race a proxy's retry rules are about
    };
    std::vector<std::string> parts;
    std::chrono::milliseconds pause{0};
    after then = after::keep;

    static raw_script of(std::string bytes, after then = after::keep) {
        raw_script s;
        s.parts.push_back(std::move(bytes));
        s.then = then;
        return s;
    }
};

class origin {
public:
    explicit origin(std::string name = "origin");
    /// Listens on 127.0.0.1:port (reuse_address), e.g. where an origin stopped earlier listened: a
    /// server that goes down and comes back on its address. Throws when the port cannot be bound.
    origin(std::string name, std::uint16_t port);
    ~origin();
    origin(const origin&) = delete;
    origin& operator=(const origin&) = delete;

    std::uint16_t port() const;
    std::string address() const;  // "127.0.0.1:PORT"
    const std::string& name() const;

    std::size_t connections() const;       // connections accepted so far
    std::size_t open_connections() const;  // connections currently open
    std::size_t requests() const;          // request heads received so far
    recorded_request last_request() const;  // the most recent request (body fields filled when read)
    /// Every request head received so far, in order (the first 10000).
    std::vector<recorded_request> request_log() const;
    /// Requests received so far with this method (exact match).
    std::size_t requests_with_method(std::string_view method) const;

    /// Requests received so far whose path (the target without its query) is exactly `path`; not capped.
    std::size_t requests_to(std::string_view path) const;
    /// Requests whose head has arrived and whose response has not been written completely yet.
    std::size_t in_flight() const;
    /// The highest in_flight() seen since the start or the last reset_max_in_flight().
    std::size_t max_in_flight() const;
    void reset_max_in_flight();

    /// From now on `path` (exact, query ignored) answers `status` with body "status N" (no body for
    /// 1xx, 204, 304), e.g. set_status("/healthz", 500); status 0 restores the normal behaviour.
    void set_status(const std::string& path, int status);

    /// Scripts the answer of /raw/NAME (replacing an earlier script of that name).
    void set_raw(const std::string& name, raw_script script);

    std::size_t ws_frames() const;           // WebSocket frames received on /ws connections
    std::size_t ws_unmasked_frames() const;  // of which not masked (a client must mask, RFC 6455 §5.3)

    /// Stops accepting, closes every connection and joins the thread. Called by the destructor.
    void stop();

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace bulwark::test
