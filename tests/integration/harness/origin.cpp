// harness/origin: Asio coroutine origin; one coroutine per connection, one thread per origin.
#include "harness/origin.hpp"

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "core/asio.hpp"
#include "harness/pattern.hpp"
#include "harness/websocket.hpp"

namespace bulwark::test {
namespace origin_detail {
class connection;
}
namespace {

using headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t max_head_bytes = 1 << 20;
constexpr std::size_t max_echo_bytes = 64u << 20;
constexpr std::size_t io_chunk = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return std::string(s);
}

bool contains_token(std::string_view list, std::string_view token) {
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t comma = list.find(',', pos);
        if (comma == std::string_view::npos) comma = list.size();
        if (iequals(trim(list.substr(pos, comma - pos)), token)) return true;
        pos = comma + 1;
    }
    return false;
}

template <class T>
bool parse_number(std::string_view s, T& out, int base = 10) {
    if (s.empty()) return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

std::string reason_for(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 413: return "Content Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

// Outside coroutines: g++ 12 cannot keep C arrays in a coroutine frame.
headers octet_stream() { return {{"Content-Type", "application/octet-stream"}}; }

std::string hex64(std::uint64_t v) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(v));
    return hex;
}

// Asio opens and accepts without SOCK_CLOEXEC: without this, the bulwark spawned by a test would
// inherit the origin's listening socket and keep its port accepting (into a queue nobody reads) after
// the origin stopped.
void set_cloexec(int fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

std::string hex_size(std::size_t k) {
    char line[32];
    std::snprintf(line, sizeof line, "%zx\r\n", k);
    return line;
}

}  // namespace

std::optional<std::string> recorded_request::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

std::size_t recorded_request::header_count(std::string_view name) const {
    return static_cast<std::size_t>(
        std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); }));
}

struct origin::impl {
    std::string name;
    // Owned through pointers so that stop() can destroy them in order: the acceptor first, then the
    // io_context, whose destruction destroys every suspended coroutine and so closes every connection.
    std::unique_ptr<asio::io_context> ioc = std::make_unique<asio::io_context>(1);
    std::unique_ptr<tcp_acceptor> acceptor = std::make_unique<tcp_acceptor>(ioc->get_executor());
    std::uint16_t port = 0;
    std::thread thread;
    std::atomic<std::size_t> accepted{0};
    std::atomic<std::size_t> open{0};
    std::atomic<std::size_t> requests{0};
    mutable std::mutex mu;
    recorded_request last;
    std::vector<recorded_request> log;             // under mu, the first max_log heads
    std::map<std::string, raw_script> raws;        // under mu
    std::atomic<std::size_t> ws_frames{0};
    std::atomic<std::size_t> ws_unmasked{0};
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::size_t> max_in_flight{0};
    std::map<std::string, std::size_t, std::less<>> per_path;  // under mu
    std::map<std::string, int, std::less<>> statuses;          // under mu: set_status() overrides
    bool stopped = false;
    static constexpr std::size_t max_log = 10000;

    // Records a request head (as it arrives) or its completion (same index): the log and `last`.
    std::size_t note(const recorded_request& r, std::size_t index = SIZE_MAX) {
        std::lock_guard lk(mu);
        last = r;
        if (index != SIZE_MAX) {
            if (index < log.size()) log[index] = r;
            return index;
        }
        if (log.size() >= max_log) return SIZE_MAX - 1;
        log.push_back(r);
        return log.size() - 1;
    }

    task<void> accept_loop();
    task<void> session(origin_detail::connection* c);  // takes ownership

    // A request head arrived for `path`: counts it and returns its set_status() override (0: none).
    int arrived(std::string_view path) {
        std::size_t now = in_flight.fetch_add(1) + 1;
        std::size_t seen = max_in_flight.load();
        while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
        }
        std::lock_guard lk(mu);
        auto it = per_path.find(path);
        if (it == per_path.end()) per_path.emplace(std::string(path), 1);
        else ++it->second;
        auto st = statuses.find(path);
        return st == statuses.end() ? 0 : st->second;
    }
};

namespace origin_detail {

// One client connection of the origin.
class connection {
public:
    connection(origin::impl& o, tcp_socket sock) : o_(o), sock_(std::move(sock)) {}

    task<void> run() {
        for (;;) {
            recorded_request req;
            if (!co_await read_head(req)) co_return;
            o_.requests.fetch_add(1);
            std::size_t log_index = o_.note(req);
            bool keep_alive = wants_keep_alive(req);
            std::string path = req.target.substr(0, req.target.find('?'));
            const int override_status = o_.arrived(path);
            in_flight_guard flight{o_.in_flight};  // until the response is written or the connection ends

            auto expect = req.header("expect");
            if (expect && iequals(*expect, "100-continue") && has_body(req)) {
                if (!co_await write("HTTP/1.1 100 Continue\r\n\r\n")) co_return;
            }

            std::string echo;
            bool store = path == "/echo";
            bool too_big = false;
            fnv1a hash;
            std::uint64_t size = 0;
            auto sink = [&](const char* p, std::size_t n) {
                hash.update(p, n);
                size += n;
                if (store) {
                    if (echo.size() + n > max_echo_bytes) too_big = true;
                    else echo.append(p, n);
                }
            };
            if (!co_await read_body(req, sink)) co_return;
            req.body_size = size;
            req.body_hash = hash.value();
            req.complete = true;
            o_.note(req, log_index);

            // Non-streamed answers are built by prepare() and sent by flush().
            enum class how { prepared, sized, chunked, hang, raw, websocket } send = how::prepared;
            std::uint64_t n = 0;
            if (override_status != 0) {
                bool no_body = (override_status >= 100 && override_status < 200) || override_status == 204 ||
                               override_status == 304;
                prepare(override_status, headers{}, no_body ? "" : "status " + std::to_string(override_status),
                        keep_alive, !no_body);
            } else if (path == "/echo") {
                if (too_big) {
                    prepare(413, headers{}, "echo body too large", keep_alive);
                } else {
                    headers extra;
                    extra.emplace_back("X-Request-Chunked", req.chunked ? "yes" : "no");
                    prepare(200, extra, echo, keep_alive);
                }
            } else if (path == "/sink") {
                prepare(200, headers{}, std::to_string(req.body_size) + " " + hex64(req.body_hash), keep_alive);
            } else if (path.starts_with("/size/")) {
                if (parse_number(std::string_view(path).substr(6), n)) send = how::sized;
                else prepare(400, headers{}, "bad size", keep_alive);
            } else if (path == "/chunked" || path.starts_with("/chunked/")) {
                n = 100000;
                if (path.size() <= 9 || parse_number(std::string_view(path).substr(9), n)) send = how::chunked;
                else prepare(400, headers{}, "bad size", keep_alive);
            } else if (path.starts_with("/slow/")) {
                unsigned ms = 0;
                parse_number(std::string_view(path).substr(6), ms);
                steady_timer t(sock_.get_executor());
                t.expires_after(std::chrono::milliseconds(ms));
                error_code ec;
                co_await t.async_wait(asio::redirect_error(use_task, ec));
                prepare(200, headers{}, "slow " + std::to_string(ms), keep_alive);
            } else if (path.starts_with("/status/")) {
                int st = 200;
                parse_number(std::string_view(path).substr(8), st);
                bool no_body = (st >= 100 && st < 200) || st == 204 || st == 304;
                prepare(st, headers{}, no_body ? "" : "status " + std::to_string(st), keep_alive, !no_body);
            } else if (path == "/hang") {
                send = how::hang;
            } else if (path == "/who") {
                prepare(200, headers{}, o_.name, keep_alive);
            } else if (path.starts_with("/raw/")) {
                if (load_script(path.substr(5))) send = how::raw;
                else prepare(404, headers{}, "no script for " + path, keep_alive);
            } else if (path == "/ws") {
                if (prepare_websocket_accept(req)) send = how::websocket;
                else prepare(400, headers{}, "not a websocket handshake", keep_alive);
            } else if (path == "/hop") {
                headers extra;
                extra.emplace_back("Connection", "keep-alive, X-Origin-Hop");
                extra.emplace_back("X-Origin-Hop", "1");
                extra.emplace_back("Keep-Alive", "timeout=5");
                extra.emplace_back("X-Origin-End", "kept");
                prepare(200, extra, "hop", keep_alive, true, /*add_connection=*/false);
            } else {
                prepare(200, headers{}, req.method + " " + req.target, keep_alive);
            }

            bool ok = false;
            switch (send) {
            case how::prepared: ok = co_await flush(); break;
            case how::sized: ok = co_await send_sized(n, keep_alive); break;
            case how::chunked: ok = co_await send_chunked(n, keep_alive); break;
            case how::raw:
                for (std::size_t i = 0; i < script_.parts.size(); ++i) {
                    if (i > 0 && script_.pause.count() > 0) {
                        steady_timer t(sock_.get_executor());
                        t.expires_after(script_.pause);
                        error_code ec;
                        co_await t.async_wait(asio::redirect_error(use_task, ec));
                    }
                    if (!co_await write(script_.parts[i])) co_return;
                }
                if (script_.then == raw_script::after::close) co_return;
                if (script_.then == raw_script::after::drop_next) {
                    recorded_request next;
                    if (!co_await read_head(next)) co_return;
                    o_.requests.fetch_add(1);
                    std::size_t at = o_.note(next);
                    auto ignore = [](const char*, std::size_t) {};
                    if (co_await read_body(next, ignore)) {
                        next.complete = true;
                        o_.note(next, at);
                    }
                    co_return;  // closed without a response
                }
                ok = true;
                break;
            case how::websocket:
                if (!co_await flush()) co_return;
                co_await websocket_echo();
                co_return;
            case how::hang:
                // Never answer: read until the peer gives up (or the origin stops).
                for (;;) {
                    error_code ec;
                    co_await sock_.async_read_some(asio::buffer(tmp_), asio::redirect_error(use_task, ec));
                    if (ec) co_return;
                }
            }
            if (!ok || !keep_alive) co_return;
        }
    }

private:
    struct in_flight_guard {
        std::atomic<std::size_t>& n;
        ~in_flight_guard() { n.fetch_sub(1); }
    };

    static bool has_body(const recorded_request& r) {
        if (auto te = r.header("transfer-encoding")) return true;
        if (auto cl = r.header("content-length")) return trim(*cl) != "0";
        return false;
    }

    static bool wants_keep_alive(const recorded_request& r) {
        auto c = r.header("connection");
        if (r.version == "HTTP/1.0") return c && contains_token(*c, "keep-alive");
        return !(c && contains_token(*c, "close"));
    }

    task<bool> fill() {
        error_code ec;
        std::size_t n = co_await sock_.async_read_some(asio::buffer(tmp_), asio::redirect_error(use_task, ec));
        if (ec || n == 0) co_return false;
        buf_.append(tmp_.data(), n);
        co_return true;
    }

    task<bool> write(std::string_view s) {
        error_code ec;
        co_await asio::async_write(sock_, asio::buffer(s.data(), s.size()), asio::redirect_error(use_task, ec));
        co_return !ec;
    }

    task<bool> read_head(recorded_request& req) {
        std::size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
            if (buf_.size() > max_head_bytes) co_return false;
            if (!co_await fill()) co_return false;
        }
        std::string head = buf_.substr(0, end + 2);
        buf_.erase(0, end + 4);
        std::size_t eol = head.find("\r\n");
        std::string_view line(head.data(), eol);
        auto sp1 = line.find(' ');
        auto sp2 = line.rfind(' ');
        if (sp1 == std::string_view::npos || sp2 == sp1) co_return false;
        req.method = std::string(line.substr(0, sp1));
        req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
        req.version = std::string(line.substr(sp2 + 1));
        std::size_t pos = eol + 2;
        while (pos < head.size()) {
            std::size_t e = head.find("\r\n", pos);
            std::string_view h(head.data() + pos, e - pos);
            pos = e + 2;
            auto colon = h.find(':');
            if (colon == std::string_view::npos) co_return false;
            req.headers.emplace_back(std::string(h.substr(0, colon)), trim(h.substr(colon + 1)));
        }
        co_return true;
    }

    // Delivers the decoded body to sink(ptr, n) piece by piece; never holds more than one read.
    template <class Sink>
    task<bool> read_body(recorded_request& req, Sink& sink) {
        auto te = req.header("transfer-encoding");
        if (te && contains_token(*te, "chunked")) {
            req.chunked = true;
            for (;;) {
                std::size_t eol;
                while ((eol = buf_.find("\r\n")) == std::string::npos) {
                    if (buf_.size() > 4096) co_return false;
                    if (!co_await fill()) co_return false;
                }
                std::string_view size_field(buf_.data(), eol);
                size_field = size_field.substr(0, size_field.find(';'));
                std::string sf = trim(size_field);
                std::uint64_t n = 0;
                if (!parse_number(std::string_view(sf), n, 16)) co_return false;
                buf_.erase(0, eol + 2);
                if (n == 0) {
                    // Trailer section: fields until an empty line.
                    for (;;) {
                        while ((eol = buf_.find("\r\n")) == std::string::npos)
                            if (!co_await fill()) co_return false;
                        bool empty = eol == 0;
                        if (!empty) note_trailer(req, eol);
                        buf_.erase(0, eol + 2);
                        if (empty) co_return true;
                    }
                }
                if (!co_await consume(n, sink)) co_return false;
                while (buf_.size() < 2)
                    if (!co_await fill()) co_return false;
                if (buf_.compare(0, 2, "\r\n") != 0) co_return false;
                buf_.erase(0, 2);
            }
        }
        if (auto cl = req.header("content-length")) {
            std::uint64_t n = 0;
            if (!parse_number(std::string_view(trim(*cl)), n)) co_return false;
            co_return co_await consume(n, sink);
        }
        co_return true;
    }

    template <class Sink>
    task<bool> consume(std::uint64_t n, Sink& sink) {
        while (n > 0) {
            if (buf_.empty() && !co_await fill()) co_return false;
            std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, buf_.size()));
            sink(buf_.data(), k);
            buf_.erase(0, k);
            n -= k;
        }
        co_return true;
    }

    std::string head(int status, const headers& extra,
                     bool keep_alive, bool add_connection) {
        std::string h = "HTTP/1.1 " + std::to_string(status) + " " + reason_for(status) + "\r\n";
        h += "X-Origin: " + o_.name + "\r\n";
        for (const auto& [k, v] : extra) h += k + ": " + v + "\r\n";
        if (add_connection && !keep_alive) h += "Connection: close\r\n";
        return h;
    }

    // Not a coroutine: g++ 12 mis-copies non-trivial by-value coroutine parameters (an SSO std::string
    // passed by value ends up pointing into the caller's frame), so coroutines here take only
    // references, pointers and scalars. The message is built into out_ and flushed by the caller.
    void prepare(int status, const headers& extra, std::string_view body, bool keep_alive, bool with_length = true,
                 bool add_connection = true) {
        out_ = head(status, extra, keep_alive, add_connection);
        if (with_length) out_ += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        out_ += "\r\n";
        out_.append(body);
    }

    task<bool> flush() { co_return co_await write(out_); }

    void note_trailer(recorded_request& req, std::size_t eol) {
        std::string_view line(buf_.data(), eol);
        auto colon = line.find(':');
        if (colon == std::string_view::npos) req.trailers.emplace_back(std::string(line), "");
        else req.trailers.emplace_back(std::string(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }

    bool load_script(const std::string& name) {
        std::lock_guard lk(o_.mu);
        auto it = o_.raws.find(name);
        if (it == o_.raws.end()) return false;
        script_ = it->second;
        return true;
    }

    // RFC 6455 §4.2.1: a GET with Upgrade: websocket, Connection: upgrade, version 13 and a key.
    bool prepare_websocket_accept(const recorded_request& req) {
        auto upgrade = req.header("upgrade");
        auto conn = req.header("connection");
        auto version = req.header("sec-websocket-version");
        auto key = req.header("sec-websocket-key");
        if (req.method != "GET" || !upgrade || !contains_token(*upgrade, "websocket") || !conn ||
            !contains_token(*conn, "upgrade") || !version || *version != "13" || !key || key->empty())
            return false;
        out_ = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
        out_ += "Sec-WebSocket-Accept: " + websocket_accept(*key) + "\r\n";
        out_ += "X-Origin: " + o_.name + "\r\n\r\n";
        return true;
    }

    void prepare_frame(int opcode, std::string_view payload, bool fin = true) {
        out_ = ws_encode(opcode, payload, /*mask=*/false, 0, fin);
    }

    // After the 101: echo frames until either side closes.
    task<void> websocket_echo() {
        for (;;) {
            std::optional<ws_frame> f;
            while (!(f = ws_decode(buf_))) {
                if (!co_await fill()) co_return;
            }
            o_.ws_frames.fetch_add(1);
            if (!f->masked) o_.ws_unmasked.fetch_add(1);
            if (f->opcode < 0) co_return;  // absurd length: give up
            if (f->opcode == ws_op::close) {
                prepare_frame(ws_op::close, std::string_view(f->payload).substr(0, 2));
                co_await flush();
                co_return;
            }
            if (f->opcode == ws_op::pong) continue;
            if (f->opcode == ws_op::ping) {
                prepare_frame(ws_op::pong, f->payload);
                if (!co_await flush()) co_return;
                continue;
            }
            if (f->opcode == ws_op::text && f->payload == "close-please") {
                prepare_frame(ws_op::close, std::string_view("\x03\xe8", 2));
                co_await flush();
                co_return;
            }
            prepare_frame(f->opcode, f->payload, f->fin);
            if (!co_await flush()) co_return;
            if (f->opcode == ws_op::text && f->payload == "push") {
                steady_timer t(sock_.get_executor());
                t.expires_after(std::chrono::milliseconds(100));
                error_code ec;
                co_await t.async_wait(asio::redirect_error(use_task, ec));
                prepare_frame(ws_op::text, "pushed by origin");
                if (!co_await flush()) co_return;
            }
        }
    }

    task<bool> send_sized(std::uint64_t n, bool keep_alive) {
        std::string h = head(200, octet_stream(), keep_alive, true);
        h += "Content-Length: " + std::to_string(n) + "\r\n\r\n";
        if (!co_await write(h)) co_return false;
        std::string chunk(io_chunk, '\0');
        for (std::uint64_t off = 0; off < n;) {
            std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(io_chunk, n - off));
            fill_pattern(off, chunk.data(), k);
            if (!co_await write(std::string_view(chunk.data(), k))) co_return false;
            off += k;
        }
        co_return true;
    }

    task<bool> send_chunked(std::uint64_t n, bool keep_alive) {
        std::string h = head(200, octet_stream(), keep_alive, true);
        h += "Transfer-Encoding: chunked\r\n\r\n";
        if (!co_await write(h)) co_return false;
        static constexpr std::size_t sizes[] = {1000, 7, 8192, 1, 30000, 65536, 333};
        std::string out;
        std::size_t i = 0;
        for (std::uint64_t off = 0; off < n; ++i) {
            std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(sizes[i % 7], n - off));
            out = hex_size(k);
            std::size_t at = out.size();
            out.resize(at + k);
            fill_pattern(off, out.data() + at, k);
            out += "\r\n";
            if (!co_await write(out)) co_return false;
            off += k;
        }
        co_return co_await write("0\r\n\r\n");
    }

    origin::impl& o_;
    tcp_socket sock_;
    std::string buf_;
    std::string out_;
    raw_script script_;
    std::array<char, io_chunk> tmp_{};
};

}  // namespace origin_detail

task<void> origin::impl::accept_loop() {
    for (;;) {
        error_code ec;
        tcp_socket sock = co_await acceptor->async_accept(asio::redirect_error(use_task, ec));
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
            continue;
        }
        set_cloexec(sock.native_handle());
        accepted.fetch_add(1);
        sock.set_option(tcp::no_delay(true), ec);
        auto* c = new origin_detail::connection(*this, std::move(sock));
        asio::co_spawn(ioc->get_executor(), session(c), asio::detached);
    }
}

task<void> origin::impl::session(origin_detail::connection* c) {
    std::unique_ptr<origin_detail::connection> owner(c);
    open.fetch_add(1);
    struct guard {
        std::atomic<std::size_t>& n;
        ~guard() { n.fetch_sub(1); }
    } g{open};
    co_await owner->run();
}

origin::origin(std::string name) : origin(std::move(name), 0) {}

origin::origin(std::string name, std::uint16_t port) : impl_(std::make_shared<impl>()) {
    impl_->name = std::move(name);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    impl_->acceptor->open(ep.protocol());
    set_cloexec(impl_->acceptor->native_handle());
    impl_->acceptor->set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor->bind(ep);
    impl_->acceptor->listen(1024);
    impl_->port = impl_->acceptor->local_endpoint().port();
    asio::co_spawn(impl_->ioc->get_executor(), impl_->accept_loop(), asio::detached);
    impl_->thread = std::thread([i = impl_.get()] { i->ioc->run(); });
}

origin::~origin() { stop(); }

void origin::stop() {
    if (!impl_ || impl_->stopped) return;
    impl_->stopped = true;
    impl_->ioc->stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->acceptor.reset();
    impl_->ioc.reset();  // destroys the suspended coroutines: every connection closes
}

std::uint16_t origin::port() const { return impl_->port; }
std::string origin::address() const { return "127.0.0.1:" + std::to_string(impl_->port); }
const std::string& origin::name() const { return impl_->name; }
std::size_t origin::connections() const { return impl_->accepted.load(); }
std::size_t origin::open_connections() const { return impl_->open.load(); }
std::size_t origin::requests() const { return impl_->requests.load(); }

recorded_request origin::last_request() const {
    std::lock_guard lk(impl_->mu);
    return impl_->last;
}

std::vector<recorded_request> origin::request_log() const {
    std::lock_guard lk(impl_->mu);
    return impl_->log;
}

std::size_t origin::requests_with_method(std::string_view method) const {
    std::lock_guard lk(impl_->mu);
    return static_cast<std::size_t>(std::count_if(impl_->log.begin(), impl_->log.end(),
                                                  [&](const recorded_request& r) { return r.method == method; }));
}

std::size_t origin::requests_to(std::string_view path) const {
    std::lock_guard lk(impl_->mu);
    auto it = impl_->per_path.find(path);
    return it == impl_->per_path.end() ? 0 : it->second;
}

std::size_t origin::in_flight() const { return impl_->in_flight.load(); }
std::size_t origin::max_in_flight() const { return impl_->max_in_flight.load(); }
void origin::reset_max_in_flight() { impl_->max_in_flight.store(impl_->in_flight.load()); }

void origin::set_status(const std::string& path, int status) {
    std::lock_guard lk(impl_->mu);
    if (status == 0) impl_->statuses.erase(path);
    else impl_->statuses[path] = status;
}

void origin::set_raw(const std::string& name, raw_script script) {
    std::lock_guard lk(impl_->mu);
    impl_->raws[name] = std::move(script);
}

std::size_t origin::ws_frames() const { return impl_->ws_frames.load(); }
std::size_t origin::ws_unmasked_frames() const { return impl_->ws_unmasked.load(); }

}  // namespace bulwark::test
