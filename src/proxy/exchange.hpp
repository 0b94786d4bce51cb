// proxy/exchange: one request and its response. The file to read first: run() calls the stages in
// order: route → pick a server → forward the request (head, then body) → relay the response → log.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/asio.hpp"
#include "http/chunked_forwarder.hpp"
#include "http/headers.hpp"
#include "http/parser.hpp"
#include "http/message.hpp"
#include "proxy/cache_stage.hpp"
#include "proxy/io.hpp"
#include "limit/rate.hpp"
#include "proxy/runtime.hpp"

namespace bulwark::proxy {

class client_session;

class exchange {
public:
    explicit exchange(client_session& s);

    /// Serves the request whose head the session just parsed. True when the connection may carry
    /// another request (its next bytes start at the session's begin_).
    task<bool> run();

private:
    enum class outcome {
        relayed,        // the response went to the client
        stale,          // a reused connection closed before any response byte: retry on a fresh one
        failed,         // nothing sent to the client yet; answer status_
        client_gone,    // the client vanished or the response was cut: close
    };

    // admission.cpp
    task<int> admit();  // 0, or the status that refuses the request (403, 429)
    limit::request_facts limit_facts();
    void account_response();
    std::span<const int> route_limits() const;

    // cache_stage.cpp: lookup, coalescing, purge, invalidation
    task<bool> cached_forward(upstream_target& target);
    bool load_entry(const std::string& key);
    void cache_lookup();
    bool min_uses_reached();
    task<bool> wait_for_filler();
    task<bool> purge();
    void invalidate_for_unsafe(const http::response_head& res);
    task<void> refresh_in_background(upstream_target& target);
    void prepare_validation();
    std::string_view scheme() const;
    // cache_serve.cpp: a response from the store
    enum class serve_result { not_served, served, client_gone };
    task<serve_result> serve_stored(cache_status st);
    bool next_stored_part(cache::body_reader& reader, std::string_view& part, bool& viewed);
    task<error_code> send_file(int fd, std::uint64_t offset, std::size_t n);
    void write_stored_head(const http::response_head& stored, int status, std::uint64_t length,
                           const cache::byte_range* range, std::uint64_t total, cache_status st);
    // cache_fill.cpp: an origin response on a caching route
    task<bool> cache_answers_instead(const http::response_head& res, outcome& result);
    void refresh_stored_head(const http::response_head& not_modified);
    void start_fill(const http::response_head& res);
    void fill_body(const char* data, std::size_t n);
    void fill_chunked(std::string_view framed);
    void finish_fill();
    task<bool> respond_failed();

    // upstream_stage.cpp
    task<bool> forward_to(upstream_target& target);
    std::size_t pick_server(upstream_target& target, std::uint64_t tried);
    bool over_max_conns(const upstream_target& target, std::size_t idx) const;
    void note_result(upstream_target& target, server_target& server, bool ok, std::string_view reason);

    task<std::unique_ptr<upstream_conn>> connect(server_target& server);
    task<outcome> forward(server_target& server, upstream_conn& conn);
    task<outcome> send_request(server_target& server, upstream_conn& conn);
    task<outcome> read_response_head(server_target& server, upstream_conn& conn, http::response_head& res);
    task<outcome> relay_response(server_target& server, upstream_conn& conn, const http::response_head& res);
    task<error_code> send_to_client(const char* head, std::size_t head_len, const char* data, std::size_t len);
    /// After a 101 to an upgrade request: copies bytes both ways until one side closes or goes idle.
    task<outcome> tunnel(upstream_conn& conn, std::size_t upstream_pending_from);
    task<void> pump_client_to_upstream(upstream_conn& conn, bool& finished, steady_timer& done);
    void assign_request_id(const config::listener& l);

    /// Takes request-body bytes from `in` (framing kept, trailers filtered into trailer_out_); returns
    /// bytes consumed, or body_error / body_too_large.
    std::size_t take_request_body(std::string_view in, gather& g);
    task<outcome> stream_request_body(server_target& server, upstream_conn& conn);
    http::forward_info forwarding(const server_target& server) const;
    static constexpr std::size_t body_error = ~std::size_t{0};
    static constexpr std::size_t body_too_large = ~std::size_t{0} - 1;
    /// Back to the first body byte, for a retry (only ever when the body was not streamed).
    void rewind_request_body();
    /// Skips a request body that is already entirely in the buffer, so the connection can stay open.
    bool discard_buffered_body();
    task<bool> respond_error(int status);
    task<bool> redirect_to_https();  // proxy/https_redirect.cpp
    task<bool> start_upstream_tls(server_target& server, upstream_conn& conn);  // proxy/upstream_tls.cpp
    void log_upstream_error(const server_target& server, std::string_view what, const error_code& ec);
    void log_access();
    void count_request();
    bool client_wants_close() const;
    http::head_limits response_limits() const;

    client_session& s_;
    runtime& rt_;
    generation& gen_;
    const config::global_settings& cfg_;
    const http::request_head& req_;
    http::response_head& res_;  // lives in the session: its field array is too big to zero per request

    // Request body progress. Body bytes after the head in the client buffer start at body_pos_.
    std::size_t body_pos_;
    std::uint64_t body_remaining_ = 0;
    http::chunked_forwarder body_chunks_;
    std::uint64_t body_total_ = 0;  // payload bytes seen, against max_body_size
    bool body_done_;
    bool body_streamed_ = false;  // body bytes were read beyond the head's buffer: cannot resend
    std::string pipelined_;       // bytes of the next request read together with this body

    buffer_pool::lease relay_;    // upstream → client (and client → upstream body) buffer
    std::size_t relay_len_ = 0;

    int status_ = 0;
    std::uint64_t body_bytes_sent_ = 0;
    bool response_started_ = false;
    bool close_client_ = false;
    bool upstream_reusable_ = false;
    bool upstream_io_error_ = false;
    std::uint64_t upstream_bytes_out_ = 0;  // request bytes written to the server (for its totals)  // the failure was talking to the server (passive checks count it)
    int route_ = -1;                // index into config::routes, -1 for the listener's default
    std::uint32_t retry_after_ = 0; // seconds, sent with a 429
    bool upgrade_ = false;          // the client asked for a protocol upgrade (WebSocket)
    bool upgrade_accepted_ = false; // the origin answered 101: the connection became a tunnel
    std::string_view request_id_;   // the request's X-Request-Id, or generated_id_
    bool add_request_id_ = false;
    char generated_id_[32];
    std::unique_ptr<cache_context> cache_;  // only on routes with cache = on
};

}  // namespace bulwark::proxy
