// harness/http_client: poll()-bounded blocking socket I/O and HTTP/1.1 response framing.
#include "harness/http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "harness/pattern.hpp"

namespace bulwark::test {
namespace {

using clock = std::chrono::steady_clock;

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

bool has_token(std::string_view list, std::string_view token) {
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t comma = list.find(',', pos);
        if (comma == std::string_view::npos) comma = list.size();
        if (iequals(trim(list.substr(pos, comma - pos)), token)) return true;
        pos = comma + 1;
    }
    return false;
}

// Waits for `events` on fd until the deadline; throws on expiry.
void wait_fd(int fd, short events, clock::time_point deadline, const char* what) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0) throw client_error(std::string("http_client: timed out ") + what);
        pollfd p{fd, events, 0};
        int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
        if (r > 0) return;
        if (r < 0 && errno != EINTR) throw client_error(std::string("http_client: poll failed ") + what);
    }
}

}  // namespace

std::optional<std::string> http_response::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

std::size_t http_response::header_count(std::string_view name) const {
    return static_cast<std::size_t>(
        std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); }));
}

std::optional<std::string> http_response::trailer(std::string_view name) const {
    for (const auto& [k, v] : trailers)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

std::string request_head(std::string_view method, std::string_view target, const header_list& headers,
                         std::string_view host) {
    std::string h;
    h.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    bool has_host =
        std::any_of(headers.begin(), headers.end(), [](const auto& kv) { return iequals(kv.first, "host"); });
    if (!has_host) h.append("Host: ").append(host).append("\r\n");
    for (const auto& [k, v] : headers) h.append(k).append(": ").append(v).append("\r\n");
    h += "\r\n";
    return h;
}

http_client::http_client(std::uint16_t port, std::chrono::milliseconds timeout) : port_(port), timeout_(timeout) {
    connect_from(nullptr);
}

http_client::http_client(std::uint16_t port, const std::string& source_ip, std::chrono::milliseconds timeout)
    : port_(port), timeout_(timeout) {
    connect_from(source_ip.c_str());
}

void http_client::connect_from(const char* source_ip) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) throw client_error("http_client: socket() failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (source_ip) {
        sockaddr_in src{};
        src.sin_family = AF_INET;
        if (::inet_pton(AF_INET, source_ip, &src.sin_addr) != 1) {
            close();
            throw client_error(std::string("http_client: bad source address ") + source_ip);
        }
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
            int e = errno;
            close();
            throw client_error(std::string("http_client: bind to ") + source_ip + " failed: " + std::strerror(e));
        }
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port_);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (errno != EINPROGRESS) {
            int e = errno;
            close();
            throw client_error(std::string("http_client: connect failed: ") + std::strerror(e));
        }
        wait_fd(fd_, POLLOUT, clock::now() + timeout_, "connecting");
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            close();
            throw client_error(std::string("http_client: connect failed: ") + std::strerror(err));
        }
    }
}

http_client::~http_client() { close(); }

void http_client::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void http_client::send(std::string_view bytes) {
    if (fd_ < 0) throw client_error("http_client: send on a closed connection");
    auto deadline = clock::now() + timeout_;
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            deadline = clock::now() + timeout_;  // the timeout bounds each stall, not the whole transfer
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            wait_fd(fd_, POLLOUT, deadline, "sending");
            continue;
        }
        throw client_error(std::string("http_client: send failed: ") + std::strerror(errno));
    }
}

void http_client::send_pattern(std::uint64_t n, std::uint64_t offset) {
    std::string chunk(256 * 1024, '\0');
    for (std::uint64_t off = 0; off < n;) {
        std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), n - off));
        fill_pattern(offset + off, chunk.data(), k);
        send(std::string_view(chunk.data(), k));
        off += k;
    }
}

bool http_client::fill(bool eof_ok) {
    if (fd_ < 0) throw client_error("http_client: read on a closed connection");
    if (pos_ > 0 && pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    } else if (pos_ > (1u << 20)) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    auto deadline = clock::now() + timeout_;
    char tmp[256 * 1024];
    for (;;) {
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n > 0) {
            buf_.append(tmp, static_cast<std::size_t>(n));
            return true;
        }
        if (n == 0) {
            if (eof_ok) return false;
            throw client_error("http_client: connection closed by peer in the middle of a response");
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            wait_fd(fd_, POLLIN, deadline, "waiting for response bytes");
            continue;
        }
        if (errno == ECONNRESET && eof_ok) return false;
        throw client_error(std::string("http_client: recv failed: ") + std::strerror(errno));
    }
}

std::string http_client::read_line() {
    for (;;) {
        auto eol = buf_.find("\r\n", pos_);
        if (eol != std::string::npos) {
            std::string line = buf_.substr(pos_, eol - pos_);
            pos_ = eol + 2;
            return line;
        }
        if (buf_.size() - pos_ > (1u << 20)) throw client_error("http_client: line longer than 1 MB");
        fill(false);
    }
}

void http_client::deliver(const char* p, std::size_t n, http_response& r) {
    r.body_size += n;
    fnv1a h(r.body_hash);
    h.update(p, n);
    r.body_hash = h.value();
    if (r.body.size() < keep_limit_) r.body.append(p, std::min(n, keep_limit_ - r.body.size()));
}

void http_client::read_exact(std::uint64_t n, http_response& r) {
    while (n > 0) {
        if (pos_ == buf_.size()) fill(false);
        std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, buf_.size() - pos_));
        deliver(buf_.data() + pos_, k, r);
        pos_ += k;
        n -= k;
    }
}

http_response http_client::read_response(bool head_request, bool stop_at_interim) {
    http_response r;
    std::vector<int> interim;
    for (;;) {
        r = http_response{};
        std::string status_line = read_line();
        auto sp1 = status_line.find(' ');
        if (sp1 == std::string::npos || !status_line.starts_with("HTTP/"))
            throw client_error("http_client: bad status line: " + status_line);
        r.version = status_line.substr(0, sp1);
        auto sp2 = status_line.find(' ', sp1 + 1);
        std::string code = status_line.substr(sp1 + 1, sp2 == std::string::npos ? std::string::npos : sp2 - sp1 - 1);
        if (std::from_chars(code.data(), code.data() + code.size(), r.status).ec != std::errc{})
            throw client_error("http_client: bad status line: " + status_line);
        if (sp2 != std::string::npos) r.reason = status_line.substr(sp2 + 1);
        for (;;) {
            std::string line = read_line();
            if (line.empty()) break;
            auto colon = line.find(':');
            if (colon == std::string::npos) throw client_error("http_client: bad header line: " + line);
            r.headers.emplace_back(line.substr(0, colon), trim(std::string_view(line).substr(colon + 1)));
        }
        if (r.status >= 100 && r.status < 200 && r.status != 101) {
            if (stop_at_interim) return r;
            interim.push_back(r.status);
            continue;
        }
        break;
    }
    r.interim = std::move(interim);
    if (head_request || r.status == 204 || r.status == 304 || r.status == 101) return r;

    auto te = r.header("transfer-encoding");
    if (te && has_token(*te, "chunked")) {
        r.chunked = true;
        for (;;) {
            std::string size_line = read_line();
            std::string hex = trim(std::string_view(size_line).substr(0, size_line.find(';')));
            std::uint64_t n = 0;
            auto res = std::from_chars(hex.data(), hex.data() + hex.size(), n, 16);
            if (hex.empty() || res.ec != std::errc{} || res.ptr != hex.data() + hex.size())
                throw client_error("http_client: bad chunk size line: " + size_line);
            if (n == 0) {
                for (;;) {
                    std::string line = read_line();
                    if (line.empty()) break;
                    auto colon = line.find(':');
                    if (colon == std::string::npos) throw client_error("http_client: bad trailer line: " + line);
                    r.trailers.emplace_back(line.substr(0, colon), trim(std::string_view(line).substr(colon + 1)));
                }
                return r;
            }
            read_exact(n, r);
            if (!read_line().empty()) throw client_error("http_client: chunk not followed by CRLF");
        }
    }
    if (auto cl = r.header("content-length")) {
        std::string v = trim(*cl);
        std::uint64_t n = 0;
        auto res = std::from_chars(v.data(), v.data() + v.size(), n);
        if (res.ec != std::errc{} || res.ptr != v.data() + v.size())
            throw client_error("http_client: bad Content-Length: " + *cl);
        read_exact(n, r);
        return r;
    }
    // Close-delimited body.
    r.close_delimited = true;
    for (;;) {
        if (pos_ == buf_.size() && !fill(true)) break;
        std::size_t k = buf_.size() - pos_;
        deliver(buf_.data() + pos_, k, r);
        pos_ += k;
    }
    close();
    return r;
}

http_response http_client::request(std::string_view method, std::string_view target, const header_list& headers,
                                   std::string_view body) {
    header_list h = headers;
    bool has_cl = std::any_of(h.begin(), h.end(), [](const auto& kv) {
        return iequals(kv.first, "content-length") || iequals(kv.first, "transfer-encoding");
    });
    if (!has_cl && (!body.empty() || method == "POST" || method == "PUT"))
        h.emplace_back("Content-Length", std::to_string(body.size()));
    std::string msg = request_head(method, target, h);
    msg.append(body);
    send(msg);
    return read_response(method == "HEAD");
}

bool http_client::peer_closed(std::chrono::milliseconds wait) {
    if (fd_ < 0) return true;
    if (pos_ < buf_.size()) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(wait.count()));
    if (r <= 0) return false;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    return false;
}

}  // namespace bulwark::test

namespace bulwark::test {

bool http_client::readable(std::chrono::milliseconds wait) {
    if (fd_ < 0) return true;
    if (pos_ < buf_.size()) return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
}

std::string http_client::read_bytes(std::size_t n) {
    std::string out;
    out.reserve(n);
    while (out.size() < n) {
        if (pos_ == buf_.size()) fill(false);
        std::size_t k = std::min(n - out.size(), buf_.size() - pos_);
        out.append(buf_, pos_, k);
        pos_ += k;
    }
    return out;
}

void http_client::shutdown_send() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

}  // namespace bulwark::test
