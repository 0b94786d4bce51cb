// proxy/admission: the limit stage of the exchange. allow/deny (listener, then route), brute-force
// guards, then request-rate limits, all against tables shared by every worker. A request with no
// rules configured pays one branch.
#include "core/log.hpp"
#include "limit/acl.hpp"
#include "proxy/client_session.hpp"
#include "proxy/exchange.hpp"

namespace bulwark::proxy {
namespace {

std::string_view header_of(void* ctx, std::string_view lower_name) {
    return static_cast<const http::request_head*>(ctx)->get(lower_name);
}

}  // namespace

std::span<const int> exchange::route_limits() const {
    if (route_ < 0) return {};
    return gen_.cfg->routes[static_cast<std::size_t>(route_)].limits;
}

limit::request_facts exchange::limit_facts() {
    limit::request_facts f;
    f.client = &s_.peer_;
    if (route_ >= 0) f.route_name = gen_.cfg->routes[static_cast<std::size_t>(route_)].name;
    f.header = header_of;
    f.ctx = const_cast<http::request_head*>(&req_);
    return f;
}

task<int> exchange::admit() {
    const auto& l = gen_.cfg->listeners[static_cast<std::size_t>(s_.listener_)];
    if (!limit::acl_allows(l.acl, s_.peer_)) {
        BW_LOG(info, "client %s: request rejected with 403: denied by listener \"%s\"", s_.address_, l.name.c_str());
        co_return 403;
    }
    if (route_ >= 0) {
        const auto& r = gen_.cfg->routes[static_cast<std::size_t>(route_)];
        if (!limit::acl_allows(r.acl, s_.peer_)) {
            BW_LOG(info, "client %s: request rejected with 403: denied by route \"%s\"", s_.address_, r.name.c_str());
            co_return 403;
        }
    }
    shm::shared_state* shared = rt_.shared();
    if (!shared || (l.limits.empty() && route_limits().empty())) co_return 0;

    const auto facts = limit_facts();
    const std::uint64_t now = runtime::fresh_ms();
    std::uint64_t delay_ms = 0;
    for (std::span<const int> limits : {std::span<const int>(l.limits), route_limits()}) {
        if (limit::blocked(shared->limits(), limits, gen_.cfg->limits, facts, now)) {
            BW_LOG(info, "client %s: request rejected with 403: blocked by a brute-force guard", s_.address_);
            co_return 403;
        }
        limit::verdict v = limit::check_request(shared->limits(), limits, gen_.cfg->limits, facts, now);
        if (!v.allowed) {
            retry_after_ = v.retry_after_s;
            BW_LOG(info, "client %s: request rejected with 429: over limit \"%s\"", s_.address_,
                   gen_.cfg->limits[static_cast<std::size_t>(v.limit_index)].name.c_str());
            co_return 429;
        }
        delay_ms = std::max(delay_ms, v.delay_ms);
    }
    if (delay_ms > 0) {
        // nginx's limit_req without nodelay: requests within the burst are spaced out to the rate.
        steady_timer wait(rt_.io().get_executor(), std::chrono::milliseconds(delay_ms));
        error_code ignored;
        co_await wait.async_wait(asio::redirect_error(use_task, ignored));
    }
    co_return 0;
}

void exchange::account_response() {
    shm::shared_state* shared = rt_.shared();
    const auto& l = gen_.cfg->listeners[static_cast<std::size_t>(s_.listener_)];
    if (!shared || (l.limits.empty() && route_limits().empty())) return;
    const auto facts = limit_facts();
    for (std::span<const int> limits : {std::span<const int>(l.limits), route_limits()})
        if (limit::record_response(shared->limits(), limits, gen_.cfg->limits, facts, status_, runtime::fresh_ms()))
            BW_LOG(warn, "client %s: blocked by a brute-force guard after repeated %d responses", s_.address_, status_);
}

}  // namespace bulwark::proxy
