// harness/load_generator: continuous client traffic on threads of the test process while a test reloads
// or upgrades the proxy: keep-alive clients (one connection each, reused until the server says
// `Connection: close`), new-connection clients (one request per connection), slow clients (one slow
// request at a time, so some are always in flight) and WebSocket clients (one tunnel each, echoing a
// frame at an interval). Every outcome is counted; a failure keeps its reason and when it happened.
//
// Accounting: `sent` = requests started (a connect attempt counts), `succeeded` = complete responses with
// the expected status and body, `failed` = every other outcome (connect refused, reset, timeout, closed
// before or in the middle of the response, wrong status or body). `resets` counts connections that ended
// with ECONNRESET or EPIPE, whatever they were doing. A response carrying `Connection: close` is a
// success; the client then opens a new connection, as a browser would.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bulwark::test {

struct load_options {
    std::uint16_t port = 0;
    unsigned keepalive_clients = 2;
    unsigned new_connection_clients = 2;
    unsigned slow_clients = 2;
    unsigned websocket_clients = 0;

    std::string path = "/who";
    std::vector<std::string> bodies;  // accepted bodies of `path` (status 200 always required); empty: any
    std::string slow_path = "/slow/2000";
    std::string slow_body = "slow 2000";  // empty: any body

    std::chrono::milliseconds pause{2};             // between two requests of one keep-alive client
    std::chrono::milliseconds new_connection_pause{5};
    std::chrono::milliseconds ws_interval{50};      // between two echoes on a tunnel
    std::chrono::milliseconds timeout{10'000};      // per read/connect stall
};

struct load_counts {
    std::uint64_t sent = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::uint64_t resets = 0;

    std::uint64_t connections = 0;     // TCP connections opened by HTTP clients
    std::uint64_t reused = 0;          // requests sent on an already used keep-alive connection
    std::uint64_t server_closes = 0;   // responses with Connection: close on a keep-alive client
    std::uint64_t slow_sent = 0;
    std::uint64_t slow_succeeded = 0;
    std::uint64_t ws_tunnels = 0;      // tunnels opened (101 received)
    std::uint64_t ws_echoes = 0;       // frames echoed correctly
    std::uint64_t ws_failures = 0;     // failed handshakes, lost or wrong echoes, cut tunnels

    std::map<std::string, std::uint64_t> bodies;         // successful responses of `path` by body
    std::map<std::string, std::uint64_t> failure_kinds;  // failure counts by kind
    std::vector<std::string> failure_samples;            // the first few failures, with their time

    /// "sent=N succeeded=N failed=N resets=N ..." on one line, then failure details, if any.
    std::string summary() const;
};

class http_client;

/// Sends a WebSocket opening handshake for /ws on a fresh client; "" when 101 came back, else why not.
std::string open_websocket(http_client& c);
/// Connects to 127.0.0.1:port (bounded by `timeout`) and closes: 0 when accepted, else the errno
/// (ECONNREFUSED for a closed port, ETIMEDOUT when nothing answered in time).
int try_connect(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

class load_generator {
public:
    /// Starts the client threads at once.
    explicit load_generator(load_options o);
    ~load_generator();  // stop()
    load_generator(const load_generator&) = delete;
    load_generator& operator=(const load_generator&) = delete;

    /// Counts so far (requests in flight are not counted yet).
    load_counts counts() const;
    /// Waits until `n` more requests have succeeded than when called, or `timeout` passes.
    bool wait_succeeded(std::uint64_t n, std::chrono::milliseconds timeout) const;
    /// Waits until the traffic is known to flow before a test acts: 200 fast requests have succeeded,
    /// keep-alive connections are being reused, every slow client has a request in flight, and
    /// WebSocket clients have had an echo.
    bool wait_flowing(std::chrono::milliseconds timeout) const;
    /// Asks the clients to stop after their current request (slow ones finish theirs), joins them and
    /// returns the final counts. Idempotent.
    load_counts stop();

    /// Milliseconds since the generator started (failure samples are stamped with it).
    long long elapsed_ms() const;

private:
    struct state;
    void keepalive_client(unsigned id);
    void new_connection_client(unsigned id);
    void slow_client(unsigned id);
    void websocket_client(unsigned id);

    load_options o_;
    std::shared_ptr<state> s_;
    std::vector<std::thread> threads_;
    bool stopped_ = false;
};

}  // namespace bulwark::test
