// observe/access_log: combined-format lines buffered per worker and written with one write(2) per
// second (or when the buffer fills), so logging costs no syscall per request.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace bulwark::observe {

struct access_entry {
    std::string_view client;
    std::string_view method;
    std::string_view target;
    int version_minor = 1;
    int status = 0;
    std::uint64_t body_bytes = 0;
    std::string_view referer;
    std::string_view user_agent;
    std::string_view request_id;  // appended as a quoted field when not empty
    std::string_view tls;         // "PROTOCOL CIPHER SNI" of a TLS connection, appended (quoted) after the id
};

class access_log {
public:
    /// fd < 0 disables logging ("off").
    explicit access_log(int fd);
    ~access_log();
    access_log(const access_log&) = delete;
    access_log& operator=(const access_log&) = delete;

    bool enabled() const { return fd_ >= 0; }
    void record(const access_entry& e, std::time_t now);
    void flush();
    /// Swaps in a reopened file (USR1); flushes what was buffered for the old one first.
    void replace_fd(int fd);

private:
    void refresh_time(std::time_t now);

    int fd_;
    std::string buf_;
    std::time_t time_cached_ = 0;
    char time_text_[32] = {};
    std::size_t time_len_ = 0;
};

}  // namespace bulwark::observe
