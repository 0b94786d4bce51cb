// proxy/exchange: the request's spine. Ordering rule: the request (head and whole body) is forwarded
// before the response is read; `Expect: 100-continue` is answered by us, so no client waits on the origin.
#include "proxy/exchange.hpp"

#include <cstring>

#include "core/log.hpp"
#include "http/headers.hpp"
#include "http/parser.hpp"
#include "proxy/client_session.hpp"
#include "proxy/io.hpp"

namespace bulwark::proxy {
namespace {

constexpr std::string_view continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_timeout(const error_code& ec) { return ec == asio::error::timed_out; }

}  // namespace

exchange::exchange(client_session& s)
    : s_(s), rt_(s.rt_), gen_(*s.gen_), cfg_(s.gen_->cfg->global), req_(s.req_), res_(s.res_),
      body_pos_(s.begin_ + s.req_.head_size), body_done_(s.req_.framing == http::body_framing::none) {
    body_remaining_ = req_.framing == http::body_framing::length ? req_.content_length : 0;
    // RFC 9110 §7.8 / RFC 6455 §4.1: a GET with Connection: upgrade and Upgrade: websocket starts a
    // tunnel. Other upgrades (h2c, which RFC 9113 retired, TLS) are not passed on: Upgrade is hop-by-hop
    // and dropped, and the request is served as plain HTTP/1.1.
    upgrade_ = req_.flags.connection_upgrade && req_.version_minor == 1 && req_.method == "GET" &&
               http::name_equals(req_.get("upgrade"), "websocket");
    assign_request_id(gen_.cfg->listeners[static_cast<std::size_t>(s.listener_)]);
}

void exchange::assign_request_id(const config::listener& l) {
    request_id_ = req_.get("x-request-id");
    if (!request_id_.empty() || !l.request_id) return;
    static constexpr char hex[] = "0123456789abcdef";
    for (int half = 0; half < 2; ++half) {
        std::uint64_t r = rt_.random();
        for (int i = 0; i < 16; ++i, r >>= 4) generated_id_[half * 16 + i] = hex[r & 15];
    }
    request_id_ = {generated_id_, sizeof generated_id_};
    add_request_id_ = true;
}

http::head_limits exchange::response_limits() const {
    return {cfg_.max_header_size, cfg_.max_headers, ~std::size_t{0}};
}

bool exchange::client_wants_close() const {
    if (req_.flags.connection_close) return true;
    return req_.version_minor == 0 && !req_.flags.connection_keep_alive;
}

// The spine: route → admission (allow/deny, guards, rate limits) → upstream (balance, forward,
// relay) → guard accounting → access log.
task<bool> exchange::run() {
    const router::match match = gen_.routers[static_cast<std::size_t>(s_.listener_)].find(req_.host, req_.target);
    route_ = match.route;
    bool keep = false;
    if (gen_.cfg->listeners[static_cast<std::size_t>(s_.listener_)].redirect_https) {
        keep = co_await redirect_to_https();
    } else if (int refusal = co_await admit(); refusal != 0) {
        keep = co_await respond_error(refusal);
    } else if (match.upstream < 0) {
        keep = co_await respond_error(404);
    } else if (cfg_.max_body_size && req_.framing == http::body_framing::length &&
               req_.content_length > cfg_.max_body_size) {
        BW_LOG(info, "client %s: request rejected with 413: body of %llu bytes exceeds max_body_size", s_.address_,
               static_cast<unsigned long long>(req_.content_length));
        keep = co_await respond_error(413);
    } else if (route_ >= 0 && rt_.cache() && gen_.cfg->routes[static_cast<std::size_t>(route_)].cache.enabled) {
        keep = co_await cached_forward(gen_.upstreams[static_cast<std::size_t>(match.upstream)]);
    } else {
        keep = co_await forward_to(gen_.upstreams[static_cast<std::size_t>(match.upstream)]);
    }
    account_response();
    count_request();
    log_access();
    if (keep) {
        s_.begin_ = body_pos_;
        if (pipelined_.size() > s_.cap_) {
            keep = false;  // a pipelined head larger than our buffer: let the client resend it
        } else if (!pipelined_.empty()) {
            // The next request arrived with this body in the relay buffer: bring it back.
            std::memcpy(s_.buf_.get(), pipelined_.data(), pipelined_.size());
            s_.begin_ = 0;
            s_.end_ = pipelined_.size();
        }
    }
    co_return keep;
}

task<std::unique_ptr<upstream_conn>> exchange::connect(server_target& server) {
    auto conn = std::make_unique<upstream_conn>(rt_.io());
    rt_.deadlines().add(conn->deadline);
    conn->deadline.arm(rt_.now() + cfg_.upstream_connect_timeout);
    error_code ec;
    co_await conn->socket.async_connect(server.endpoint, asio::redirect_error(use_task, ec));
    if (conn->deadline.expired) ec = asio::error::timed_out;
    conn->deadline.disarm();
    if (ec) {
        status_ = is_timeout(ec) ? 504 : 502;
        log_upstream_error(server, "connect failed", ec);
        co_return nullptr;
    }
    server.pool->opened();
    conn->socket.set_option(tcp::no_delay(true), ec);
    conn->socket.non_blocking(true, ec);
    report_bytes_left(conn->socket.native_handle());
    if (server.needs_tls && !co_await start_upstream_tls(server, *conn)) co_return nullptr;
    co_return conn;
}

task<exchange::outcome> exchange::forward(server_target& server, upstream_conn& conn) {
    upstream_reusable_ = false;
    outcome sent = co_await send_request(server, conn);
    if (sent != outcome::relayed) co_return sent;
    outcome head = co_await read_response_head(server, conn, res_);
    if (head != outcome::relayed) co_return head;
    co_return co_await relay_response(server, conn, res_);
}

std::size_t exchange::take_request_body(std::string_view in, gather& g) {
    std::size_t n = 0;
    if (req_.framing == http::body_framing::length) {
        n = static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), body_remaining_));
        body_remaining_ -= n;
        body_done_ = body_remaining_ == 0;
        g.add(in.data(), n);
        return n;
    }
    if (req_.framing != http::body_framing::chunked) return 0;
    std::size_t verbatim = 0;
    while (n < in.size() && !body_done_) {
        auto step = body_chunks_.next(in.substr(n));
        if (step.st == http::chunked_forwarder::status::error) return body_error;
        n += step.consumed;
        if (step.verbatim) verbatim = n;
        else if (!step.forward.empty()) {
            g.add(in.data(), verbatim);
            g.add(step.forward.data(), step.forward.size());
            verbatim = 0;
        }
        body_done_ = step.st == http::chunked_forwarder::status::done;
    }
    if (verbatim) g.add(in.data(), verbatim);
    if (cfg_.max_body_size && body_chunks_.payload_bytes() > cfg_.max_body_size) return body_too_large;
    return n;
}

void exchange::rewind_request_body() {
    body_pos_ = s_.begin_ + req_.head_size;
    body_remaining_ = req_.framing == http::body_framing::length ? req_.content_length : 0;
    body_chunks_.reset();
    body_done_ = req_.framing == http::body_framing::none;
}

bool exchange::discard_buffered_body() {
    if (body_done_) return true;
    if (body_streamed_) return false;
    gather ignored;
    std::size_t n = take_request_body({s_.buf_.get() + body_pos_, s_.end_ - body_pos_}, ignored);
    if (n >= body_too_large) return false;
    body_pos_ += n;
    return body_done_;
}

http::forward_info exchange::forwarding(const server_target& server) const {
    const auto& l = gen_.cfg->listeners[static_cast<std::size_t>(s_.listener_)];
    http::forward_info fwd{{s_.address_, s_.address_len_}, scheme(), server.text};
    s_.add_client_certificate(fwd);
    for (const auto& range : l.trusted_proxies)
        if (range.contains(s_.peer_)) fwd.trusted_client = true;
    fwd.add_forwarded = l.forwarded;
    fwd.add_via = l.via;
    if (add_request_id_) fwd.request_id = request_id_;
    fwd.upgrade = upgrade_;
    if (cache_ && cache_->fetch_whole) {
        fwd.drop_conditionals = true;
        if (cache_->revalidating) fwd.extra_fields = cache_->validators;
    }
    return fwd;
}

task<exchange::outcome> exchange::send_request(server_target& server, upstream_conn& conn) {
    http::write_upstream_request(req_, forwarding(server), s_.out_);
    gather g;
    g.add(s_.out_.data(), s_.out_.size());
    if (!body_done_) {
        std::size_t n = take_request_body({s_.buf_.get() + body_pos_, s_.end_ - body_pos_}, g);
        if (n >= body_too_large) {
            status_ = n == body_too_large ? 413 : 400;
            BW_LOG(info, "client %s: request rejected with %d: %s", s_.address_, status_,
                   n == body_too_large ? "chunked body exceeds max_body_size" : "invalid chunked body");
            co_return outcome::failed;
        }
        body_pos_ += n;
        // RFC 9110 §10.1.1: no 100 (Continue) to an HTTP/1.0 client.
        if (req_.flags.expect_continue && req_.version_minor == 1 && !body_done_ && body_pos_ == s_.end_) {
            error_code ec = co_await send_to_client(continue_100.data(), continue_100.size(), nullptr, 0);
            if (ec) co_return outcome::client_gone;
        }
    }
    conn.deadline.arm(rt_.now() + cfg_.upstream_timeout);
    upstream_bytes_out_ += g.bytes();
    error_code ec;
    if (!send_now(conn.socket, g, ec)) ec = co_await send_rest(conn.socket, g);
    if (ec) {
        if (conn.reused && req_.idempotent) co_return outcome::stale;
        status_ = conn.deadline.expired ? 504 : 502;
        log_upstream_error(server, "sending the request failed", ec);
        co_return outcome::failed;
    }
    if (body_done_) co_return outcome::relayed;
    co_return co_await stream_request_body(server, conn);
}

// The rest of the body streams through the relay buffer, one read then one write (back-pressure).
task<exchange::outcome> exchange::stream_request_body(server_target& server, upstream_conn& conn) {
    if (!relay_.get()) relay_ = rt_.buffers().borrow();
    body_streamed_ = true;
    while (!body_done_) {
        std::size_t got = 0;
        s_.deadline_.arm(rt_.now() + cfg_.client_body_timeout);
        error_code ec = co_await read_some(s_.socket_, s_.deadline_, relay_.get(), buffer_pool::buffer_size, got);
        s_.deadline_.disarm();
        if (ec) {
            BW_LOG(info, "client %s: %s while reading the request body", s_.address_,
                   is_timeout(ec) ? "timed out" : ec.message().c_str());
            co_return outcome::client_gone;
        }
        gather part;
        std::size_t n = take_request_body({relay_.get(), got}, part);
        if (n >= body_too_large) {
            BW_LOG(info, "client %s: %s; closing", s_.address_,
                   n == body_too_large ? "request body exceeds max_body_size" : "invalid chunked request body");
            co_return outcome::client_gone;
        }
        if (n < got) pipelined_.assign(relay_.get() + n, got - n);
        conn.deadline.arm(rt_.now() + cfg_.upstream_timeout);
        ec = co_await send_all(conn.socket, part);
        upstream_bytes_out_ += part.bytes();
        if (ec) {
            status_ = conn.deadline.expired ? 504 : 502;
            log_upstream_error(server, "sending the request body failed", ec);
            co_return outcome::failed;
        }
    }
    // Everything buffered for this request has been consumed; the next one starts clean.
    body_pos_ = s_.end_;
    co_return outcome::relayed;
}

task<exchange::outcome> exchange::read_response_head(server_target& server, upstream_conn& conn,
                                                     http::response_head& res) {
    if (!relay_.get()) relay_ = rt_.buffers().borrow();
    relay_len_ = 0;
    std::size_t received = 0;
    for (;;) {
        // Parse what is buffered first: several interim (1xx) heads may arrive in one read.
        if (relay_len_ > 0) {
            auto r = http::parse_response({relay_.get(), relay_len_}, response_limits(), req_.is_head, res);
            if (r.status == http::parse_status::error) {
                status_ = 502;
                log_upstream_error(server, r.error.reason, {});
                co_return outcome::failed;
            }
            if (r.status == http::parse_status::complete) {
                if (res.status >= 200) co_return outcome::relayed;
                if (res.status == 101) {
                    if (upgrade_) co_return outcome::relayed;  // relay_response hands over to the tunnel
                    status_ = 502;
                    log_upstream_error(server, "unsolicited 101 Switching Protocols", {});
                    co_return outcome::failed;
                }
                // Interim responses other than 100 (ours was sent already) go to 1.1 clients.
                if (res.status != 100 && req_.version_minor == 1) {
                    error_code cec = co_await send_to_client(relay_.get(), res.head_size, nullptr, 0);
                    if (cec) co_return outcome::client_gone;
                }
                std::memmove(relay_.get(), relay_.get() + res.head_size, relay_len_ - res.head_size);
                relay_len_ -= res.head_size;
                continue;
            }
        }
        if (relay_len_ == buffer_pool::buffer_size) {
            status_ = 502;
            log_upstream_error(server, "response head too large", {});
            co_return outcome::failed;
        }
        std::size_t got = 0;
        conn.deadline.arm(rt_.now() + cfg_.upstream_timeout);
        error_code ec;
        got = co_await conn.socket.async_read_some(
            drained_buffer(relay_.get() + relay_len_, buffer_pool::buffer_size - relay_len_),
            asio::redirect_error(use_task, ec));
        timed_out_if(conn.deadline, ec);
        conn.deadline.disarm();
        if (ec) {
            if (received == 0 && conn.reused && req_.idempotent && !body_streamed_ && !is_timeout(ec))
                co_return outcome::stale;
            status_ = is_timeout(ec) ? 504 : 502;
            log_upstream_error(server, is_timeout(ec) ? "timed out reading the response head"
                                                      : "failed reading the response head", ec);
            co_return outcome::failed;
        }
        relay_len_ += got;
        received += got;
    }
}

task<error_code> exchange::send_to_client(const char* head, std::size_t head_len, const char* data,
                                          std::size_t len) {
    if (cache_ && cache_->silent) co_return error_code{};  // a background refresh has no client
    gather g;
    g.add(head, head_len);
    g.add(data, len);
    s_.deadline_.arm(rt_.now() + cfg_.client_body_timeout);
    error_code ec = co_await send_all(s_.socket_, g);
    s_.deadline_.disarm();
    co_return ec;
}

void exchange::log_upstream_error(const server_target& server, std::string_view what, const error_code& ec) {
    if (ec) upstream_io_error_ = true;
    BW_LOG(error, "upstream server %s: %.*s%s%s, client: %s, request: \"%.*s %.*s\"", server.text.c_str(),
           static_cast<int>(what.size()), what.data(), ec ? ": " : "", ec ? ec.message().c_str() : "",
           s_.address_, static_cast<int>(req_.method.size()), req_.method.data(),
           static_cast<int>(req_.target.size()), req_.target.data());
}

task<bool> exchange::respond_error(int status) {
    status_ = status;
    // A refused body (413) is not read: the client may still be sending it, so the connection ends.
    bool close = status == 413 || client_wants_close() || rt_.draining() || !discard_buffered_body();
    http::write_error_response(status, close, s_.out_);
    if (!request_id_.empty()) {
        // Errors carry the request id too, so a user's report can be found in the logs.
        auto end = s_.out_.find("\r\n") + 2;
        s_.out_.insert(end, "X-Request-Id: " + std::string(request_id_) + "\r\n");
    }
    if (status == 429 && retry_after_) {
        auto end = s_.out_.find("\r\n") + 2;
        s_.out_.insert(end, "Retry-After: " + std::to_string(retry_after_) + "\r\n");
    }
    if (req_.is_head) {
        // Same head, no body (RFC 9110 §9.3.2).
        auto end = s_.out_.find("\r\n\r\n");
        s_.out_.resize(end + 4);
    }
    error_code ec = co_await send_to_client(s_.out_.data(), s_.out_.size(), nullptr, 0);
    co_return !ec && !close;
}

void exchange::count_request() {
    shm::shared_state* shared = rt_.shared();
    if (!shared) return;
    shared->counters().count(gen_.listener_counters[static_cast<std::size_t>(s_.listener_)], status_, body_bytes_sent_);
    if (route_ >= 0) shared->counters().count(gen_.route_counters[static_cast<std::size_t>(route_)], status_, body_bytes_sent_);
}

void exchange::log_access() {
    auto& log = rt_.access_log();
    if (!log.enabled()) return;
    observe::access_entry e;
    e.client = {s_.address_, s_.address_len_};
    e.method = req_.method;
    e.target = req_.target;
    e.version_minor = req_.version_minor;
    e.status = status_;
    e.body_bytes = body_bytes_sent_;
    e.referer = req_.get("referer");
    e.user_agent = req_.get("user-agent");
    if (gen_.cfg->listeners[static_cast<std::size_t>(s_.listener_)].request_id) e.request_id = request_id_;
    e.tls = s_.tls_log_;
    log.record(e, rt_.clock().wall());
}

}  // namespace bulwark::proxy
