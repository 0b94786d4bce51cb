// demo_backend: a tiny HTTP/1.1 origin for `make run`; one thread, keep-alive, every request gets a 200 naming
// this backend, so round-robin across backends is visible with curl. Not part of bulwark: uses only core/asio.hpp.
// Usage: demo-backend PORT NAME   (listens on 127.0.0.1:PORT; SIGINT/SIGTERM exit 0, SIGINT unless ignored)
// Request bodies (Content-Length or chunked) are read and discarded, and their size is reported. A malformed
// request gets a 400 and the connection is closed. Exceptions are fine here: this is a demo, not the data plane.
#include "core/asio.hpp"

#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

namespace {

using namespace bulwark;

constexpr std::size_t max_head_size = 64 * 1024;
constexpr std::size_t max_line_size = 4096;  // a chunk-size line or a trailer line

struct parse_error {};  // the request cannot be read one way only: answer 400 and close

bool iequals(std::string_view a, std::string_view b) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return std::ranges::equal(a, b, {}, lower, lower);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Parses all of `s` as a number in `base`; throws parse_error on anything else (empty, sign, overflow).
std::uint64_t parse_number(std::string_view s, int base) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) throw parse_error{};
    return v;
}

struct request {
    std::string method, target, xff;
    bool has_length = false, chunked = false, close = false;
    std::uint64_t length = 0;
};

// Parses the head (request line and fields, without the final empty line), RFC 9112 §3 and §5, strictly enough
// for a demo: no obs-fold, one framing (CL xor chunked), HTTP/1.0 and 1.1 only.
request parse_head(std::string_view head) {
    request r;
    auto next_line = [&head] {
        auto p = head.find("\r\n");
        std::string_view l = head.substr(0, p);
        head = p == std::string_view::npos ? std::string_view{} : head.substr(p + 2);
        return l;
    };
    std::string_view line = next_line();
    auto sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp1 == 0 || sp2 <= sp1 + 1 || line.find(' ', sp1 + 1) != sp2) {
        throw parse_error{};
    }
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") throw parse_error{};
    bool keep_alive_token = false;
    r.close = version == "HTTP/1.0";
    while (!head.empty()) {
        line = next_line();
        auto colon = line.find(':');
        if (colon == 0 || colon == std::string_view::npos) throw parse_error{};
        std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
        if (name.find_first_of(" \t") != std::string_view::npos) throw parse_error{};  // obs-fold or BWS
        if (iequals(name, "content-length")) {
            std::uint64_t n = parse_number(value, 10);
            if (r.has_length && n != r.length) throw parse_error{};
            r.has_length = true;
            r.length = n;
        } else if (iequals(name, "transfer-encoding")) {
            if (r.chunked || !iequals(value, "chunked")) throw parse_error{};
            r.chunked = true;
        } else if (iequals(name, "connection")) {
            for (std::string_view v = value; !v.empty();) {
                auto comma = v.find(',');
                std::string_view token = trim(v.substr(0, comma));
                v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
                if (iequals(token, "close")) r.close = true;
                if (iequals(token, "keep-alive")) keep_alive_token = true;
            }
        } else if (iequals(name, "x-forwarded-for")) {
            if (!r.xff.empty()) r.xff += ", ";
            r.xff += value;
        }
    }
    if (r.has_length && r.chunked) throw parse_error{};  // RFC 9112 §6.3: could be read two ways
    if (version == "HTTP/1.0" && keep_alive_token) r.close = false;
    return r;
}

class connection {
public:
    explicit connection(tcp_socket s) : sock_(std::move(s)) {}

    task<void> serve(std::string_view id) {
        for (;;) {
            while (buf_.starts_with("\r\n")) buf_.erase(0, 2);  // RFC 9112 §2.2: ignore leading empty lines
            if (buf_.empty()) co_await fill();                   // EOF here is the client's normal close
            auto end = co_await until("\r\n\r\n", max_head_size);
            request r = parse_head(std::string_view{buf_}.substr(0, end));
            buf_.erase(0, end + 4);
            std::uint64_t body = r.has_length ? r.length : 0;
            if (r.has_length) co_await discard(body);
            if (r.chunked) body = co_await discard_chunked();
            std::string text = "hello from " + std::string{id} + ": " + r.method + " " + r.target + "\n";
            text += "x-forwarded-for: " + (r.xff.empty() ? std::string{"-"} : r.xff) + "\n";
            if (r.has_length || r.chunked) text += "request body: " + std::to_string(body) + " bytes\n";
            std::string head = "HTTP/1.1 200 OK\r\nServer: demo-backend\r\nContent-Type: text/plain\r\n"
                               "Content-Length: " + std::to_string(text.size()) + "\r\n";
            head += r.close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";  // for 1.0 clients
            if (r.method == "HEAD") text.clear();  // RFC 9110 §9.3.2: same head, no content
            std::array<asio::const_buffer, 2> out{asio::buffer(head), asio::buffer(text)};
            co_await asio::async_write(sock_, out, use_task);
            if (r.close) co_return;
        }
    }

    task<void> bad_request() {
        static constexpr std::string_view reply =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
            "Connection: close\r\n\r\nbad request\n";
        error_code ec;
        co_await asio::async_write(sock_, asio::buffer(reply), asio::redirect_error(use_task, ec));
    }

private:
    task<void> fill() {  // appends at least one byte to buf_; throws system_error on EOF or error
        std::size_t n = co_await sock_.async_read_some(asio::buffer(chunk_), use_task);
        buf_.append(chunk_.data(), n);
    }

    task<std::size_t> until(std::string_view delim, std::size_t limit) {  // position of delim in buf_
        for (;;) {
            if (auto p = buf_.find(delim); p != std::string::npos) co_return p;
            if (buf_.size() > limit) throw parse_error{};
            co_await fill();
        }
    }

    task<std::string> line() {  // one CRLF-terminated line, consumed
        auto p = co_await until("\r\n", max_line_size);
        std::string l = buf_.substr(0, p);
        buf_.erase(0, p + 2);
        co_return l;
    }

    task<void> discard(std::uint64_t n) {  // reads and drops n body bytes, never holding more than one read
        while (n > 0) {
            if (buf_.empty()) co_await fill();
            std::size_t take = n < buf_.size() ? static_cast<std::size_t>(n) : buf_.size();
            buf_.erase(0, take);
            n -= take;
        }
    }

    task<std::uint64_t> discard_chunked() {  // RFC 9112 §7.1: size [; ext] CRLF data CRLF ... 0 CRLF trailers CRLF
        std::uint64_t total = 0;
        for (;;) {
            std::string l = co_await line();
            std::uint64_t n = parse_number(trim(std::string_view{l}.substr(0, l.find(';'))), 16);
            if (n == 0) break;
            co_await discard(n);
            if (!(co_await line()).empty()) throw parse_error{};
            total += n;
        }
        while (!(co_await line()).empty()) {}  // trailer fields, ignored
        co_return total;
    }

    tcp_socket sock_;
    std::string buf_;                   // bytes read and not yet consumed
    std::array<char, 16 * 1024> chunk_;  // one read; a member, not in the coroutine frame
};

task<void> session(tcp_socket s, std::string_view id) {
    connection c{std::move(s)};
    bool bad = false;
    try {
        co_await c.serve(id);
    } catch (const parse_error&) {
        bad = true;
    } catch (const std::exception&) {
        // EOF, reset or a failed write: the client is gone, nothing to answer.
    }
    if (bad) co_await c.bad_request();  // co_await is not allowed inside a handler, hence the flag
}

task<void> accept_loop(tcp_acceptor& acceptor, std::string_view id) {
    for (;;) {
        error_code ec;
        tcp_socket s = co_await acceptor.async_accept(asio::redirect_error(use_task, ec));
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) continue;  // e.g. EMFILE or a connection reset before accept: keep serving the others
        s.set_option(tcp::no_delay(true), ec);
        asio::co_spawn(acceptor.get_executor(), session(std::move(s), id), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: demo-backend PORT NAME\n");
        return 2;
    }
    std::string_view port_arg{argv[1]};
    unsigned port = 0;
    auto [end, perr] = std::from_chars(port_arg.data(), port_arg.data() + port_arg.size(), port);
    if (perr != std::errc{} || end != port_arg.data() + port_arg.size() || port == 0 || port > 65535) {
        std::fprintf(stderr, "demo-backend: bad port '%s'\n", argv[1]);
        return 2;
    }
    const std::string id = std::string{argv[2]} + " (127.0.0.1:" + std::string{port_arg} + ")";
    try {
        asio::io_context io{1};
        tcp_acceptor acceptor{io.get_executor(),
                              tcp::endpoint{asio::ip::make_address_v4("127.0.0.1"),
                                            static_cast<unsigned short>(port)}};
        asio::basic_signal_set<executor> signals{io.get_executor(), SIGTERM};
        // An inherited SIG_IGN for SIGINT stays (sh background job), so run-demo's Ctrl-C stops bulwark first.
        struct sigaction old_int {};
        if (sigaction(SIGINT, nullptr, &old_int) == 0 && old_int.sa_handler != SIG_IGN) signals.add(SIGINT);
        signals.async_wait([&io](error_code, int) { io.stop(); });
        asio::co_spawn(io.get_executor(), accept_loop(acceptor, id), asio::detached);
        std::printf("demo-backend: %s listening\n", id.c_str());
        std::fflush(stdout);
        io.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "demo-backend: 127.0.0.1:%s: %s\n", argv[1], e.what());
        return 1;
    }
    return 0;
}
