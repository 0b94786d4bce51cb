// observe/access_log: `$remote_addr - - [$time_local] "$request" $status $body_bytes_sent
// "$http_referer" "$http_user_agent"`, with quotes and control bytes in fields escaped as \xHH.
#include "observe/access_log.hpp"

#include <charconv>
#include <unistd.h>

namespace bulwark::observe {
namespace {

constexpr std::size_t flush_threshold = 60 * 1024;

void append_escaped(std::string& out, std::string_view v) {
    if (v.empty()) {
        out.push_back('-');
        return;
    }
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char c : v) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == '"' || u == '\\' || u >= 0x7f) {
            out.append("\\x");
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 15]);
        } else {
            out.push_back(c);
        }
    }
}

void append_number(std::string& out, std::uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

}  // namespace

access_log::access_log(int fd) : fd_(fd) {
    if (fd_ >= 0) buf_.reserve(flush_threshold + 4096);
}

access_log::~access_log() { flush(); }

void access_log::refresh_time(std::time_t now) {
    if (now == time_cached_) return;
    time_cached_ = now;
    std::tm tm{};
    ::localtime_r(&now, &tm);
    time_len_ = std::strftime(time_text_, sizeof time_text_, "%d/%b/%Y:%H:%M:%S %z", &tm);
}

void access_log::record(const access_entry& e, std::time_t now) {
    if (fd_ < 0) return;
    refresh_time(now);
    buf_.append(e.client);
    buf_.append(" - - [");
    buf_.append(time_text_, time_len_);
    buf_.append("] \"");
    append_escaped(buf_, e.method);
    buf_.push_back(' ');
    append_escaped(buf_, e.target);
    buf_.append(e.version_minor == 0 ? " HTTP/1.0\" " : " HTTP/1.1\" ");
    append_number(buf_, static_cast<std::uint64_t>(e.status));
    buf_.push_back(' ');
    append_number(buf_, e.body_bytes);
    buf_.append(" \"");
    append_escaped(buf_, e.referer);
    buf_.append("\" \"");
    append_escaped(buf_, e.user_agent);
    if (!e.request_id.empty() || !e.tls.empty()) {
        buf_.append("\" \"");
        append_escaped(buf_, e.request_id.empty() ? std::string_view("-") : e.request_id);
    }
    if (!e.tls.empty()) {
        buf_.append("\" \"");
        append_escaped(buf_, e.tls);
    }
    buf_.append("\"\n");
    if (buf_.size() >= flush_threshold) flush();
}

void access_log::flush() {
    std::size_t off = 0;
    while (fd_ >= 0 && off < buf_.size()) {
        ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
        if (n <= 0) break;  // a full disk loses log lines, never requests
        off += static_cast<std::size_t>(n);
    }
    buf_.clear();
}

void access_log::replace_fd(int fd) {
    flush();
    if (fd_ > 2) ::close(fd_);
    fd_ = fd;
}

}  // namespace bulwark::observe
