// harness/load_generator: client threads built on http_client; counters are atomics, failure details
// are kept under a mutex (failures are rare, the success path takes no lock except for the body map).
#include "harness/load_generator.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <sstream>

#include "harness/http_client.hpp"
#include "harness/websocket.hpp"

namespace bulwark::test {

using clock_type = std::chrono::steady_clock;

struct load_generator::state {
    clock_type::time_point t0 = clock_type::now();
    std::atomic<bool> stop{false};

    std::atomic<std::uint64_t> sent{0}, succeeded{0}, failed{0}, resets{0};
    std::atomic<std::uint64_t> connections{0}, reused{0}, server_closes{0};
    std::atomic<std::uint64_t> slow_sent{0}, slow_succeeded{0};
    std::atomic<std::uint64_t> ws_tunnels{0}, ws_echoes{0}, ws_failures{0};

    mutable std::mutex m;
    std::map<std::string, std::uint64_t> bodies;
    std::map<std::string, std::uint64_t> failure_kinds;
    std::vector<std::string> samples;

    long long ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count();
    }

    void body_seen(const std::string& b) {
        std::lock_guard lock(m);
        ++bodies[b.size() > 64 ? b.substr(0, 64) + "..." : b];
    }

    // Records one failure: its kind (counted) and, for the first ones, the details.
    void failure(const std::string& client, const std::string& kind, const std::string& detail) {
        std::lock_guard lock(m);
        ++failure_kinds[kind];
        if (samples.size() < 25) samples.push_back("t=" + std::to_string(ms()) + "ms " + client + ": " + kind + ": " + detail);
    }

    // Maps a client_error to a kind; counts resets.
    std::string classify(const std::string& what, bool reused_connection) {
        std::string kind;
        if (what.find("reset by peer") != std::string::npos) kind = "connection reset";
        else if (what.find("Broken pipe") != std::string::npos) kind = "connection reset (EPIPE on send)";
        else if (what.find("refused") != std::string::npos) kind = "connect refused";
        else if (what.find("timed out") != std::string::npos) kind = "timeout";
        else if (what.find("closed by peer") != std::string::npos) kind = "connection closed without a complete response";
        else kind = "client error";
        if (kind.starts_with("connection reset")) ++resets;
        if (reused_connection) kind += " (on a reused keep-alive connection)";
        return kind;
    }

    void sleep(std::chrono::milliseconds d) const {
        // Short slices, so stop() is not held up by a long pause.
        auto until = clock_type::now() + d;
        while (!stop.load() && clock_type::now() < until)
            std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(20)));
    }
};

namespace {

bool has_close(const http_response& r) {
    auto c = r.header("connection");
    if (!c) return false;
    std::string v = *c;
    for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return v.find("close") != std::string::npos;
}

// Empty when the response is acceptable, else why not.
std::string check(const http_response& r, const std::vector<std::string>& bodies) {
    if (r.status != 200) return "status " + std::to_string(r.status) + " body \"" + r.body.substr(0, 200) + "\"";
    if (!bodies.empty() && std::find(bodies.begin(), bodies.end(), r.body) == bodies.end())
        return "unexpected body \"" + r.body.substr(0, 200) + "\"";
    return {};
}

}  // namespace

std::string open_websocket(http_client& c) {
    try {
        c.send(request_head("GET", "/ws", {{"Upgrade", "websocket"},
                                           {"Connection", "Upgrade"},
                                           {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                           {"Sec-WebSocket-Version", "13"}}));
        http_response r = c.read_response();
        if (r.status != 101) return "handshake answered " + std::to_string(r.status) + " " + r.body.substr(0, 200);
        if (r.header("sec-websocket-accept").value_or("") != websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="))
            return "wrong Sec-WebSocket-Accept";
        return {};
    } catch (const client_error& e) {
        return e.what();
    }
}

int try_connect(std::uint16_t port, std::chrono::milliseconds timeout) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return errno;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    int err = 0;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
                err = ETIMEDOUT;
            } else {
                socklen_t len = sizeof err;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            }
        }
    }
    ::close(fd);
    return err;
}

std::string load_counts::summary() const {
    std::ostringstream s;
    s << "sent=" << sent << " succeeded=" << succeeded << " failed=" << failed << " resets=" << resets
      << " (connections=" << connections << " keep-alive reuses=" << reused << " server Connection: close="
      << server_closes << "; slow " << slow_succeeded << "/" << slow_sent << "; websocket tunnels=" << ws_tunnels
      << " echoes=" << ws_echoes << " failures=" << ws_failures << ")";
    if (!bodies.empty()) {
        s << " bodies:";
        for (const auto& [b, n] : bodies) s << " \"" << b << "\"=" << n;
    }
    for (const auto& [k, n] : failure_kinds) s << "\n  failures of kind \"" << k << "\": " << n;
    for (const auto& f : failure_samples) s << "\n  " << f;
    return s.str();
}

load_generator::load_generator(load_options o) : o_(std::move(o)), s_(std::make_shared<state>()) {
    for (unsigned i = 0; i < o_.keepalive_clients; ++i) threads_.emplace_back([this, i] { keepalive_client(i); });
    for (unsigned i = 0; i < o_.new_connection_clients; ++i)
        threads_.emplace_back([this, i] { new_connection_client(i); });
    for (unsigned i = 0; i < o_.slow_clients; ++i) threads_.emplace_back([this, i] { slow_client(i); });
    for (unsigned i = 0; i < o_.websocket_clients; ++i) threads_.emplace_back([this, i] { websocket_client(i); });
}

load_generator::~load_generator() { stop(); }

long long load_generator::elapsed_ms() const { return s_->ms(); }

load_counts load_generator::counts() const {
    load_counts c;
    c.sent = s_->sent;
    c.succeeded = s_->succeeded;
    c.failed = s_->failed;
    c.resets = s_->resets;
    c.connections = s_->connections;
    c.reused = s_->reused;
    c.server_closes = s_->server_closes;
    c.slow_sent = s_->slow_sent;
    c.slow_succeeded = s_->slow_succeeded;
    c.ws_tunnels = s_->ws_tunnels;
    c.ws_echoes = s_->ws_echoes;
    c.ws_failures = s_->ws_failures;
    std::lock_guard lock(s_->m);
    c.bodies = s_->bodies;
    c.failure_kinds = s_->failure_kinds;
    c.failure_samples = s_->samples;
    return c;
}

bool load_generator::wait_succeeded(std::uint64_t n, std::chrono::milliseconds timeout) const {
    const std::uint64_t target = s_->succeeded + n;
    auto deadline = clock_type::now() + timeout;
    while (clock_type::now() < deadline) {
        if (s_->succeeded >= target) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return s_->succeeded >= target;
}

bool load_generator::wait_flowing(std::chrono::milliseconds timeout) const {
    auto deadline = clock_type::now() + timeout;
    auto flowing = [&] {
        // Every keep-alive client is reusing its connection, and a few hundred requests went through.
        bool fast = (o_.keepalive_clients + o_.new_connection_clients == 0) ||
                    (s_->succeeded >= s_->slow_succeeded + 200 && s_->reused >= 2 * o_.keepalive_clients);
        // Slow requests in flight are enough: waiting for one to complete would cost 2 s per test.
        bool slow = o_.slow_clients == 0 || s_->slow_sent >= o_.slow_clients;
        bool ws = o_.websocket_clients == 0 || s_->ws_echoes > 0;
        return fast && slow && ws;
    };
    while (clock_type::now() < deadline) {
        if (flowing()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return flowing();
}

load_counts load_generator::stop() {
    if (!stopped_) {
        s_->stop = true;
        for (auto& t : threads_)
            if (t.joinable()) t.join();
        stopped_ = true;
    }
    return counts();
}

void load_generator::keepalive_client(unsigned id) {
    state& s = *s_;
    const std::string name = "keep-alive client " + std::to_string(id);
    std::unique_ptr<http_client> c;
    bool used = false;
    while (!s.stop) {
        ++s.sent;
        try {
            if (!c) {
                c = std::make_unique<http_client>(o_.port, o_.timeout);
                ++s.connections;
                used = false;
            } else {
                ++s.reused;
            }
            http_response r = c->get(o_.path);
            std::string bad = check(r, o_.bodies);
            if (bad.empty()) {
                ++s.succeeded;
                s.body_seen(r.body);
            } else {
                ++s.failed;
                s.failure(name, "bad response", bad);
            }
            used = true;
            if (has_close(r) || !c->is_open()) {
                ++s.server_closes;
                c.reset();
            }
        } catch (const client_error& e) {
            ++s.failed;
            s.failure(name, s.classify(e.what(), used), e.what());
            c.reset();
        }
        s.sleep(o_.pause);
    }
}

void load_generator::new_connection_client(unsigned id) {
    state& s = *s_;
    const std::string name = "new-connection client " + std::to_string(id);
    for (std::uint64_t n = 0; !s.stop; ++n) {
        ++s.sent;
        try {
            http_client c(o_.port, o_.timeout);
            ++s.connections;
            // Every other request asks the server to close, so TIME_WAIT is spread over both ends.
            header_list h;
            if (n % 2) h.emplace_back("Connection", "close");
            http_response r = c.get(o_.path, h);
            std::string bad = check(r, o_.bodies);
            if (bad.empty()) {
                ++s.succeeded;
                s.body_seen(r.body);
            } else {
                ++s.failed;
                s.failure(name, "bad response", bad);
            }
        } catch (const client_error& e) {
            ++s.failed;
            s.failure(name, s.classify(e.what(), false), e.what());
        }
        s.sleep(o_.new_connection_pause);
    }
}

void load_generator::slow_client(unsigned id) {
    state& s = *s_;
    const std::string name = "slow client " + std::to_string(id);
    while (!s.stop) {
        ++s.sent;
        ++s.slow_sent;
        try {
            http_client c(o_.port, o_.timeout);
            ++s.connections;
            http_response r = c.get(o_.slow_path);
            std::string bad = r.status != 200 ? "status " + std::to_string(r.status) + " body \"" + r.body.substr(0, 200) + "\""
                              : (!o_.slow_body.empty() && r.body != o_.slow_body) ? "unexpected body \"" + r.body.substr(0, 200) + "\""
                                                                                 : std::string();
            if (bad.empty()) {
                ++s.succeeded;
                ++s.slow_succeeded;
            } else {
                ++s.failed;
                s.failure(name, "bad slow response", bad);
            }
        } catch (const client_error& e) {
            ++s.failed;
            s.failure(name, "slow request: " + s.classify(e.what(), false), e.what());
        }
        s.sleep(std::chrono::milliseconds(10));
    }
}

void load_generator::websocket_client(unsigned id) {
    state& s = *s_;
    const std::string name = "websocket client " + std::to_string(id);
    while (!s.stop) {
        std::unique_ptr<http_client> c;
        try {
            c = std::make_unique<http_client>(o_.port, o_.timeout);
            std::string why = open_websocket(*c);
            if (!why.empty()) {
                ++s.ws_failures;
                s.failure(name, "websocket handshake failed", why);
                s.sleep(std::chrono::milliseconds(200));
                continue;
            }
            ++s.ws_tunnels;
        } catch (const client_error& e) {
            ++s.ws_failures;
            s.failure(name, "websocket handshake: " + s.classify(e.what(), false), e.what());
            s.sleep(std::chrono::milliseconds(200));
            continue;
        }
        // The tunnel lives until the generator stops; any break counts as a cut tunnel.
        for (std::uint64_t n = 0; !s.stop; ++n) {
            const std::string payload = "echo " + std::to_string(id) + "/" + std::to_string(n);
            try {
                c->send(ws_encode(ws_op::text, payload, true, 0x11223344u + static_cast<std::uint32_t>(n)));
                ws_frame f = ws_read(*c);
                if (f.opcode != ws_op::text || f.payload != payload) {
                    ++s.ws_failures;
                    s.failure(name, "websocket echo differs",
                              "opcode " + std::to_string(f.opcode) + " payload \"" + f.payload.substr(0, 100) + "\"");
                    break;
                }
                ++s.ws_echoes;
            } catch (const client_error& e) {
                ++s.ws_failures;
                s.failure(name, "websocket tunnel cut: " + s.classify(e.what(), false), e.what());
                break;
            }
            s.sleep(o_.ws_interval);
        }
    }
}

}  // namespace bulwark::test
