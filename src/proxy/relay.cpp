// proxy/relay: streams the response body from the origin to the client, one buffer at a time (a read
// waits for the previous write: back-pressure), keeping the origin's framing where the client can take
// it and re-framing where it cannot (to-EOF bodies chunked for 1.1 clients, de-chunked for 1.0 ones).
#include <charconv>
#include <cstring>

#include "core/log.hpp"
#include "http/chunked_forwarder.hpp"
#include "http/headers.hpp"
#include "proxy/client_session.hpp"
#include "proxy/exchange.hpp"
#include "proxy/io.hpp"

namespace bulwark::proxy {
namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";

http::response_body_mode choose_mode(const http::response_head& res, bool client_http10) {
    using enum http::body_framing;
    if (res.framing == to_eof) return client_http10 ? http::response_body_mode::close_delimited
                                                     : http::response_body_mode::add_chunked;
    if (res.framing == chunked && client_http10) return http::response_body_mode::close_delimited;
    return http::response_body_mode::as_is;
}

// Moves the payload of chunked input to the front of `buf`; returns payload bytes, or npos on error.
std::size_t dechunk_in_place(http::chunked_decoder& dec, char* buf, std::size_t len, bool& done) {
    std::size_t in = 0, out = 0;
    while (in < len && !done) {
        std::size_t used = 0;
        std::string_view data;
        auto r = dec.feed({buf + in, len - in}, used, data);
        if (r == http::chunked_decoder::result::error) return std::string_view::npos;
        if (!data.empty()) {
            std::memmove(buf + out, data.data(), data.size());
            out += data.size();
        }
        in += used;
        done = r == http::chunked_decoder::result::done;
    }
    return out;
}

}  // namespace

task<exchange::outcome> exchange::relay_response(server_target& server, upstream_conn& conn,
                                                 const http::response_head& res) {
    if (cache_) {
        outcome answered = outcome::relayed;
        if (co_await cache_answers_instead(res, answered)) co_return answered;
    }
    const bool silent = cache_ && cache_->silent;
    const bool http10 = req_.version_minor == 0;
    const auto mode = choose_mode(res, http10);
    close_client_ = client_wants_close() || rt_.draining() || !body_done_ ||
                    mode == http::response_body_mode::close_delimited;
    status_ = res.status;
    http::response_info info{mode, close_client_, http10, request_id_, res.status == 101};
    info.hsts = gen_.cfg->listeners[static_cast<std::size_t>(s_.listener_)].hsts;
    if (cache_) {
        info.extra_fields = cache_->status_line;
        info.drop_targeted = cache_->settings.targeted_field.empty() ? std::string_view("cdn-cache-control")
                                                                     : std::string_view(cache_->settings.targeted_field);
    }
    http::write_client_response(res, info, s_.out_);
    if (res.status == 101) {
        error_code ec = co_await send_to_client(s_.out_.data(), s_.out_.size(), nullptr, 0);
        if (ec) co_return outcome::client_gone;
        co_return co_await tunnel(conn, res.head_size);
    }

    char* buf = relay_.get();
    std::size_t pos = res.head_size;
    std::uint64_t remaining = res.content_length;
    http::chunked_decoder dec;        // de-chunking for HTTP/1.0 clients
    http::chunked_forwarder chunks;   // verbatim relay with trailer filtering
    bool done = res.framing == http::body_framing::none;
    bool head_pending = true;
    bool clean_end = true;  // no stray bytes after the body: the connection can be reused
    char size_line[24];

    for (;;) {
        std::string_view avail(buf + pos, relay_len_ - pos);
        gather g;
        if (head_pending) g.add(s_.out_.data(), s_.out_.size());
        switch (res.framing) {
        case http::body_framing::none:
            clean_end = avail.empty();
            break;
        case http::body_framing::length: {
            auto n = static_cast<std::size_t>(std::min<std::uint64_t>(avail.size(), remaining));
            g.add(avail.data(), n);
            fill_body(avail.data(), n);
            remaining -= n;
            done = remaining == 0;
            clean_end = n == avail.size();
            break;
        }
        case http::body_framing::chunked: {
            if (mode == http::response_body_mode::close_delimited) {
                std::size_t n = dechunk_in_place(dec, buf + pos, avail.size(), done);
                if (n == std::string_view::npos) goto bad_chunk;
                g.add(buf + pos, n);
                fill_body(buf + pos, n);
                break;
            }
            std::size_t used = 0, verbatim = 0;
            while (used < avail.size() && !done) {
                auto step = chunks.next(avail.substr(used));
                if (step.st == http::chunked_forwarder::status::error) goto bad_chunk;
                used += step.consumed;
                if (step.verbatim) verbatim = used;
                else if (!step.forward.empty()) {
                    g.add(avail.data(), verbatim);
                    g.add(step.forward.data(), step.forward.size());
                    verbatim = 0;
                }
                done = step.st == http::chunked_forwarder::status::done;
            }
            if (verbatim) g.add(avail.data(), verbatim);
            fill_chunked(avail.substr(0, used));
            clean_end = used == avail.size();
            break;
        }
        case http::body_framing::to_eof:
            fill_body(avail.data(), avail.size());
            if (!avail.empty() && mode == http::response_body_mode::add_chunked) {
                auto r = std::to_chars(size_line, size_line + sizeof size_line - 2, avail.size(), 16);
                *r.ptr++ = '\r';
                *r.ptr++ = '\n';
                g.add(size_line, static_cast<std::size_t>(r.ptr - size_line));
                g.add(avail.data(), avail.size());
                g.add(crlf.data(), crlf.size());
            } else {
                g.add(avail.data(), avail.size());
            }
            break;
        }
        if (silent) {
            head_pending = false;
        } else if (g.count) {
            std::size_t bytes = g.bytes();
            s_.deadline_.arm(rt_.now() + cfg_.client_body_timeout);
            error_code ec;
            if (!send_now(s_.socket_, g, ec)) ec = co_await send_rest(s_.socket_, g);
            s_.deadline_.disarm();
            if (ec) {
                BW_LOG(info, "client %s: %s while sending the response", s_.address_,
                       s_.deadline_.expired ? "timed out" : ec.message().c_str());
                co_return outcome::client_gone;
            }
            body_bytes_sent_ += bytes - (head_pending ? s_.out_.size() : 0);
            head_pending = false;
            response_started_ = true;
        }
        if (done) break;

        std::size_t got = 0;
        conn.deadline.arm(rt_.now() + cfg_.upstream_timeout);
        error_code ec;
        got = co_await conn.socket.async_read_some(drained_buffer(buf, buffer_pool::buffer_size),
                                                   asio::redirect_error(use_task, ec));
        timed_out_if(conn.deadline, ec);
        conn.deadline.disarm();
        pos = 0;
        relay_len_ = got;
        if (ec == asio::error::eof && res.framing == http::body_framing::to_eof) {
            finish_fill();
            if (!silent && mode == http::response_body_mode::add_chunked) {
                gather end;
                end.add(last_chunk.data(), last_chunk.size());
                if (co_await send_all(s_.socket_, end)) co_return outcome::client_gone;
            }
            co_return outcome::relayed;  // an EOF-delimited origin connection is never reused
        }
        if (ec) {
            log_upstream_error(server, ec == asio::error::timed_out ? "timed out reading the response body"
                                                                    : "response body cut short", ec);
            co_return outcome::client_gone;
        }
    }
    finish_fill();
    upstream_reusable_ = clean_end && res.framing != http::body_framing::to_eof && !res.flags.connection_close &&
                         (res.version_minor == 1 || res.flags.connection_keep_alive);
    co_return outcome::relayed;

bad_chunk:
    log_upstream_error(server, "invalid chunked response body", {});
    if (!response_started_) {
        status_ = 502;
        co_return outcome::failed;
    }
    co_return outcome::client_gone;
}

}  // namespace bulwark::proxy
