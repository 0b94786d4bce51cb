// proxy/exchange: one request and its response. The file to read first: run() calls the stages in
// order: route → pick a server → forward the request (head, then body) → relay the response → log.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/asio.hpp"
#include "http/chunked.hpp"
#include "http/message.hpp"
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

    task<std::unique_ptr<upstream_conn>> connect(server_target& server);
    task<outcome> forward(server_target& server, upstream_conn& conn);
    task<outcome> send_request(server_target& server, upstream_conn& conn);
    task<outcome> read_response_head(server_target& server, upstream_conn& conn, http::response_head& res);
    task<outcome> relay_response(server_target& server, upstream_conn& conn, const http::response_head& res);
    task<error_code> send_to_client(const char* head, std::size_t head_len, const char* data, std::size_t len);

    /// Takes request-body bytes from `in`: forwards them whole (framing kept); returns bytes consumed.
    std::size_t take_request_body(std::string_view in);
    /// Back to the first body byte, for a retry (only ever when the body was not streamed).
    void rewind_request_body();
    /// Skips a request body that is already entirely in the buffer, so the connection can stay open.
    bool discard_buffered_body();
    task<bool> respond_error(int status);
    void log_upstream_error(const server_target& server, std::string_view what, const error_code& ec);
    void log_access();
    bool client_wants_close() const;

    client_session& s_;
    runtime& rt_;
    generation& gen_;
    const config::global_settings& cfg_;
    const http::request_head& req_;

    // Request body progress. Body bytes after the head in the client buffer start at body_pos_.
    std::size_t body_pos_;
    std::uint64_t body_remaining_ = 0;
    http::chunked_decoder body_chunks_;
    bool body_done_;
    bool body_streamed_ = false;  // body bytes were read beyond the head's buffer: cannot resend
    std::string pipelined_;       // bytes of the next request read together with this body

    buffer_pool::lease relay_;    // upstream → client (and client → upstream body) buffer
    std::size_t relay_len_ = 0;

    http::response_head res_;
    int status_ = 0;
    std::uint64_t body_bytes_sent_ = 0;
    bool response_started_ = false;
    bool close_client_ = false;
    bool upstream_reusable_ = false;
};

}  // namespace bulwark::proxy
