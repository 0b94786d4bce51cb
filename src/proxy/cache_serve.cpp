// proxy/cache_serve: answers from a stored response: conditional requests (304), ranges (206/416),
// HEAD, or the whole body decompressed chunk by chunk as it is sent. The stored head is parsed by the
// same parser as an origin's; Age, Content-Length and the cache status are written fresh.
#include <sys/sendfile.h>

#include <cerrno>
#include <charconv>
#include <chrono>

#include "cache/policy.hpp"
#include "core/log.hpp"
#include "http/headers.hpp"
#include "http/parser.hpp"
#include "proxy/client_session.hpp"
#include "proxy/exchange.hpp"

namespace bulwark::proxy {
namespace {

constexpr std::size_t sendfile_min = 16 * 1024;  // below it, one gathered write beats two calls

void append_number(std::string& out, std::uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// RFC 9110 §15.4.5: a 304 carries the fields that would update a cache, not the representation's.
bool kept_in_304(std::string_view name) {
    for (std::string_view n : {"cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified"})
        if (http::name_equals(name, n)) return true;
    return false;
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

void exchange::write_stored_head(const http::response_head& stored, int status, std::uint64_t length,
                                 const cache::byte_range* range, std::uint64_t total, cache_status st) {
    std::string& out = s_.out_;
    out.clear();
    out.append("HTTP/1.1 ");
    append_number(out, static_cast<std::uint64_t>(status));
    out.push_back(' ');
    out.append(status == stored.status && !stored.reason.empty() ? stored.reason : http::reason_phrase(status));
    out.append("\r\n");
    bool has_request_id = false;
    for (const http::field& f : stored) {
        if (status == 304 && !kept_in_304(f.name)) continue;
        if (http::name_equals(f.name, "x-request-id")) has_request_id = true;
        out.append(f.name);
        out.append(": ");
        out.append(f.value);
        out.append("\r\n");
    }
    out.append("Age: ");
    append_number(out, static_cast<std::uint64_t>(cache::current_age(cache_->entry.meta.times(), now_seconds())));
    out.append("\r\n");
    if (status == 206 && range) {
        out.append("Content-Range: bytes ");
        append_number(out, range->first);
        out.push_back('-');
        append_number(out, range->last);
        out.push_back('/');
        append_number(out, total);
        out.append("\r\n");
    } else if (status == 416) {
        out.append("Content-Range: bytes */");
        append_number(out, total);
        out.append("\r\n");
    }
    if (status != 304 && !(status >= 100 && status < 200) && status != 204) {
        out.append("Content-Length: ");
        append_number(out, length);
        out.append("\r\n");
    }
    if (!cache_->settings.status_header.empty()) {
        out.append(cache_->settings.status_header);
        out.append(": ");
        out.append(cache_status_text(st));
        out.append("\r\n");
    }
    const std::string& hsts = gen_.cfg->listeners[static_cast<std::size_t>(s_.listener_)].hsts;
    if (!hsts.empty() && stored.get("strict-transport-security").empty()) {
        out.append("Strict-Transport-Security: ");
        out.append(hsts);
        out.append("\r\n");
    }
    if (!has_request_id && !request_id_.empty()) {
        out.append("X-Request-Id: ");
        out.append(request_id_);
        out.append("\r\n");
    }
    if (close_client_) out.append("Connection: close\r\n");
    else if (req_.version_minor == 0) out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
}

// sendfile() for a file range; the caller's armed deadline bounds the waits (the socket is closed
// when it expires, which ends the wait).
task<error_code> exchange::send_file(int fd, std::uint64_t offset, std::size_t n) {
    auto off = static_cast<off_t>(offset);
    const int sock = s_.socket_.native_handle();
    while (n > 0) {
        ssize_t k = ::sendfile(sock, fd, &off, n);
        if (k > 0) {
            n -= static_cast<std::size_t>(k);
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && errno != EAGAIN) co_return error_code(errno, boost::system::system_category());
        if (k == 0) co_return asio::error::eof;
        error_code ec;
        co_await s_.socket_.socket().async_wait(tcp_socket::wait_write, asio::redirect_error(use_task, ec));
        if (s_.deadline_.expired) co_return asio::error::timed_out;
        if (ec) co_return ec;
    }
    co_return error_code{};
}

// The next piece of a stored body: a raw chunk straight from the mapping (no copy), a compressed
// one decompressed into the relay buffer. False when the object is gone or corrupt.
bool exchange::next_stored_part(cache::body_reader& reader, std::string_view& part, bool& viewed) {
    viewed = reader.next_view(part);
    if (viewed) return !part.empty();
    if (reader.evicted()) return false;
    std::size_t got = 0;
    if (!reader.next(relay_.get(), buffer_pool::buffer_size, got) || got == 0) return false;
    part = {relay_.get(), got};
    return true;
}

task<exchange::serve_result> exchange::serve_stored(cache_status st) {
    cache_context& c = *cache_;
    http::response_head& stored = res_;
    if (http::parse_response(c.entry.head, response_limits(), false, stored).status != http::parse_status::complete) {
        BW_LOG(error, "cache: stored head of %s does not parse; removing it", c.object_key.c_str());
        c.store.erase(c.object_key);
        co_return serve_result::not_served;
    }
    const std::uint64_t total = c.found.body_size;
    const std::string_view etag = stored.get("etag"), last_modified = stored.get("last-modified");
    int status = stored.status;
    std::vector<cache::byte_range> ranges;
    if (cache::not_modified(req_, etag, last_modified)) {
        status = 304;
    } else if (stored.status == 200 && !req_.get("range").empty() &&
               cache::if_range_allows(req_.get("if-range"), etag, last_modified)) {
        auto r = cache::parse_range(req_.get("range"), total, ranges);
        if (r == cache::range_result::unsatisfiable) status = 416;
        else if (r == cache::range_result::satisfiable && ranges.size() == 1) status = 206;
    }
    const cache::byte_range* range = status == 206 ? &ranges.front() : nullptr;
    const std::uint64_t length = range ? range->last - range->first + 1 : status == 416 ? 0 : total;
    const bool body = !req_.is_head && status != 304 && status != 416 && length > 0;

    if (!relay_.get()) relay_ = rt_.buffers().borrow();
    cache::body_reader reader;
    std::string_view part;
    bool viewed = false;  // `part` points into the mapping: confirm() once it is sent
    if (body) {
        reader = c.store.open_body(c.found);
        if ((range && !reader.seek(range->first)) || !next_stored_part(reader, part, viewed))
            co_return serve_result::not_served;  // evicted between lookup and read: go to the origin
    }
    close_client_ = client_wants_close() || rt_.draining() || !discard_buffered_body();
    write_stored_head(stored, status, length, range, total, st);
    c.status = st;
    status_ = status;
    c.store.touch(c.found);
    c.store.count(st == cache_status::hit           ? cache::stat_counter::hits
                  : st == cache_status::stale       ? cache::stat_counter::stale
                                                    : cache::stat_counter::revalidated);
    std::uint64_t left = body ? length : 0;
    bool head_pending = true;
    for (;;) {
        gather g;
        if (head_pending) g.add(s_.out_.data(), s_.out_.size());
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(part.size(), left));
        // Large raw parts go from the file to the socket without passing through user space (as
        // nginx's cache hits do); small ones are gathered with the head into one write.
        const bool by_sendfile = viewed && n >= sendfile_min && !s_.socket_.is_tls() && c.store.file_fd() >= 0;
        if (!by_sendfile) g.add(part.data(), n);
        left -= n;
        s_.deadline_.arm(rt_.now() + cfg_.client_body_timeout);
        error_code ec;
        if (g.count && !send_now(s_.socket_, g, ec)) ec = co_await send_rest(s_.socket_, g);
        if (!ec && by_sendfile) ec = co_await send_file(c.store.file_fd(), c.store.file_offset(part.data()), n);
        s_.deadline_.disarm();
        if (ec) co_return serve_result::client_gone;
        if (viewed && !reader.confirm()) {
            // The ring passed the bytes while they were sent: what went out may be wrong, so the
            // response is cut here and the client sees it incomplete (never a wrong complete body).
            BW_LOG(warn, "cache: %s was overwritten while being sent; closing the connection", c.object_key.c_str());
            co_return serve_result::client_gone;
        }
        head_pending = false;
        body_bytes_sent_ += n;
        response_started_ = true;
        if (left == 0) break;
        if (!next_stored_part(reader, part, viewed)) {
            BW_LOG(warn, "cache: %s was overwritten while being sent; closing the connection", c.object_key.c_str());
            co_return serve_result::client_gone;
        }
    }
    c.store.count(cache::stat_counter::bytes_served, body_bytes_sent_);
    co_return serve_result::served;
}

}  // namespace bulwark::proxy
