// proxy/client_session: the connection loop. The read buffer starts at 16 KiB and grows up to
// max_header_size only for a head that needs it; a served head stays in place until its exchange ends.
#include "proxy/client_session.hpp"

#include <cstring>

#include "core/log.hpp"
#include "http/headers.hpp"
#include "http/parser.hpp"
#include "proxy/exchange.hpp"
#include "proxy/io.hpp"

namespace bulwark::proxy {
namespace {
constexpr std::size_t initial_buffer = 16 * 1024;
}

client_session::client_session(runtime& rt, tcp_socket socket, const tcp::endpoint& peer, int listener_index)
    : rt_(rt), socket_(std::move(socket)), listener_(listener_index), gen_(rt.current()) {
    deadline_.socket = &socket_.socket();
    rt_.deadlines().add(deadline_);
    rt_.add_session(*this);
    // TCP_NODELAY and TCP_INQ are inherited from the listening socket (Linux), and the socket arrives
    // non-blocking (core/asio_accept.hpp): no syscall here.
    // IPv4-mapped IPv6 peers (a [::] listener) are logged and matched as the IPv4 address they are.
    const auto& a = peer.address();
    ip_address ip = a.is_v4() ? ip_address::from_bytes(a.to_v4().to_bytes().data(), false)
                              : ip_address::from_bytes(a.to_v6().to_bytes().data(), true);
    peer_ = ip.unmapped();
    address_len_ = peer_.format(address_, sizeof address_);
    cap_ = initial_buffer;
    buf_.reset(new char[cap_]);
    out_.reserve(4096);
}

client_session::~client_session() {
    error_code ec;
    socket_.close(ec);
    rt_.session_closed();
}

task<void> client_session::serve(runtime& rt, tcp_socket socket, tcp::endpoint peer, int listener_index) {
    client_session session(rt, std::move(socket), peer, listener_index);
    co_await session.run();
}

void client_session::drain_idle() {
    if (!idle_) return;
    auto grace = rt_.now() + drain_idle_grace;
    if (grace < deadline_.at) deadline_.arm(grace);
}

bool client_session::admit_connection() {
    const auto& l = gen_->cfg->listeners[static_cast<std::size_t>(listener_)];
    if (l.max_conns_per_ip == 0 || !rt_.shared()) return true;
    // Counted per listener: the scope is derived from its name, which survives reloads.
    auto scope = static_cast<std::uint32_t>(std::hash<std::string>{}(l.name));
    if (conn_slot_.acquire(rt_.shared()->limits(), peer_, l.max_conns_per_ip, rt_.now_ms(), scope)) return true;
    BW_LOG(warn, "client %s: max_conns_per_ip (%u) reached on listener \"%s\", closing the connection", address_,
           l.max_conns_per_ip, l.name.c_str());
    return false;
}

task<void> client_session::run() {
    if (!admit_connection()) co_return;
    // Fail closed: a TLS listener never serves plain HTTP, even when its contexts could not be built.
    if (!gen_->cfg->listeners[static_cast<std::size_t>(listener_)].tls.empty() && !co_await start_tls()) co_return;
    for (;;) {
        head_status st = co_await read_head();
        if (st != head_status::ready) break;
        // A reload since the last request: this one uses the new configuration, unless its listener
        // was removed, in which case it is served on the old one and the connection then closes.
        bool listener_gone = false;
        if (gen_ != rt_.current()) {
            int idx = rt_.current()->listener_index(gen_->cfg->listeners[static_cast<std::size_t>(listener_)].name);
            if (idx >= 0) {
                gen_ = rt_.current();
                listener_ = idx;
            } else {
                listener_gone = true;
            }
        }
        exchange ex(*this);
        bool keep = co_await ex.run() && !listener_gone;
        first_request_ = false;
        if (!keep || rt_.draining()) break;
    }
}

void client_session::make_room_for_head() {
    if (begin_ == end_) begin_ = end_ = 0;
    if (end_ < cap_) return;
    if (begin_ > 0) {
        std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        return;
    }
    // A head larger than the buffer: grow once to what the limit allows (+1 so the parser sees it
    // exceed the limit and answers 431 rather than waiting for more).
    std::size_t want = gen_->cfg->global.max_header_size + 1;
    if (want <= cap_) return;
    std::unique_ptr<char[]> bigger(new char[want]);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ = want;
}

task<client_session::head_status> client_session::read_head() {
    const auto& g = gen_->cfg->global;
    bool waiting_for_first_byte = true;
    for (;;) {
        // RFC 9112 §2.2: ignore empty lines before a request line.
        while (end_ - begin_ >= 2 && buf_[begin_] == '\r' && buf_[begin_ + 1] == '\n') begin_ += 2;
        if (end_ > begin_) {
            idle_ = false;
            const http::head_limits limits{g.max_header_size, g.max_headers, g.max_uri_size};
            auto r = http::parse_request({buf_.get() + begin_, end_ - begin_}, limits, req_);
            if (r.status == http::parse_status::complete) {
                deadline_.disarm();
                co_return head_status::ready;
            }
            if (r.status == http::parse_status::error) {
                co_await reject(r.error.status, r.error.reason);
                co_return head_status::rejected;
            }
            if (waiting_for_first_byte) {
                waiting_for_first_byte = false;
                deadline_.arm(rt_.now() + g.client_header_timeout);
            }
        } else {
            idle_ = true;
            auto timeout = first_request_ ? g.client_header_timeout : g.keepalive_timeout;
            if (rt_.draining()) timeout = std::min<std::chrono::milliseconds>(timeout, drain_idle_grace);
            deadline_.arm(rt_.now() + timeout);
        }
        make_room_for_head();
        std::size_t got = 0;
        error_code ec;
        got = co_await socket_.async_read_some(drained_buffer(buf_.get() + end_, cap_ - end_),
                                               asio::redirect_error(use_task, ec));
        timed_out_if(deadline_, ec);
        idle_ = false;
        if (ec) {
            if (ec == asio::error::timed_out && end_ > begin_) {
                co_await reject(408, "timed out reading the request head");
                co_return head_status::rejected;
            }
            co_return head_status::closed;
        }
        end_ += got;
    }
}

task<void> client_session::reject(int status, std::string_view why) {
    BW_LOG(info, "client %s: request rejected with %d: %.*s", address_, status, static_cast<int>(why.size()),
           why.data());
    http::write_error_response(status, true, out_);
    gather g;
    g.add(out_.data(), out_.size());
    deadline_.arm(rt_.now() + gen_->cfg->global.client_header_timeout);
    co_await send_all(socket_, g);
    deadline_.disarm();
}

}  // namespace bulwark::proxy
