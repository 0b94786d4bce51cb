// proxy/cache_stage: the cache step of the exchange (see cache_stage.hpp for the flow). Lookups are
// lock-free reads of the shared store; a miss takes the key's fill lock so that concurrent misses
// in every worker make one origin request (nginx's proxy_cache_lock), the others waiting up to
// lock_timeout for the stored response.
#include "proxy/cache_stage.hpp"

#include <chrono>

#include "cache/key.hpp"
#include "core/log.hpp"
#include "http/headers.hpp"
#include "http/parser.hpp"
#include "proxy/client_session.hpp"
#include "proxy/exchange.hpp"

namespace bulwark::proxy {
namespace {

// Row of the shared limit table that counts uses of a key for cache_min_uses (no configured limit
// uses an id this high).
constexpr std::uint32_t min_uses_table_id = 0x00ca'c4e0;
constexpr double min_uses_refill_per_sec = 1.0 / 600;  // a use is forgotten after 10 minutes

std::uint64_t wall_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

}  // namespace

std::string_view cache_status_text(cache_status s) {
    switch (s) {
    case cache_status::hit: return "HIT";
    case cache_status::miss: return "MISS";
    case cache_status::stale: return "STALE";
    case cache_status::revalidated: return "REVALIDATED";
    case cache_status::bypass: return "BYPASS";
    case cache_status::none: break;
    }
    return "";
}

std::string_view exchange::scheme() const { return s_.socket_.is_tls() ? "https" : "http"; }

// Reads the entry stored under `key` into blob/entry; false when there is none usable.
bool exchange::load_entry(const std::string& key) {
    cache_context& c = *cache_;
    c.found = c.store.find(key);
    if (!c.found || !c.store.read_head(c.found, c.blob)) return false;
    auto d = cache::decode(c.blob);
    if (!d) return false;
    c.entry = *d;
    return true;
}

// The primary key's entry, or through its Vary marker the variant this request selects.
void exchange::cache_lookup() {
    cache_context& c = *cache_;
    c.has_entry = false;
    c.variant_prefix.clear();
    c.object_key = c.key;
    if (!load_entry(c.key)) return;
    if (c.entry.meta.kind == cache::entry_kind::vary_marker) {
        std::vector<std::string> fields = cache::marker_fields(c.entry.head);
        if (fields.empty()) return;
        c.variant_prefix = cache::variant_entry_key(c.key, fields.front());  // nonce: see start_fill
        fields.erase(fields.begin());
        c.object_key = cache::variant_entry_key(c.variant_prefix, cache::variant_key(req_, fields));
        c.has_entry = load_entry(c.object_key) && c.entry.meta.kind == cache::entry_kind::response;
        return;
    }
    c.has_entry = true;
}

bool exchange::min_uses_reached() {
    const unsigned uses = cache_->route.min_uses;
    shm::shared_state* shared = rt_.shared();
    if (uses <= 1 || !shared) return true;
    // A bucket of uses-1 tokens refilling slowly: the first uses-1 requests take one each, the next
    // finds it empty, which is when the response gets stored.
    auto r = shared->limits().try_acquire(cache_->key, min_uses_table_id, min_uses_refill_per_sec, uses - 1,
                                          runtime::fresh_ms());
    return !r.allowed;
}

// Another worker (or exchange) fills this key: wait for its stored response, or for the lock to
// come free (it did not store, or died), in which case this exchange fills it.
task<bool> exchange::wait_for_filler() {
    cache_context& c = *cache_;
    const auto start = std::chrono::steady_clock::now();
    steady_timer timer(rt_.io().get_executor());
    std::chrono::milliseconds step{2};
    const auto hold = static_cast<std::uint64_t>(c.settings.lock_timeout.count());
    while (std::chrono::steady_clock::now() - start < c.settings.lock_timeout) {
        timer.expires_after(step);
        error_code ec;
        co_await timer.async_wait(asio::redirect_error(use_task, ec));
        if (rt_.draining() && ec) co_return false;
        step = std::min(step * 2, std::chrono::milliseconds(50));
        cache_lookup();
        if (c.has_entry) co_return true;
        if (c.store.try_lock_fill(c.key, runtime::fresh_ms(), hold)) {
            c.fill_locked = true;
            co_return false;
        }
    }
    BW_LOG(info, "cache: waited lock_timeout for another request to fill %s; going to the origin", c.key.c_str());
    co_return false;
}

// The stored validators go upstream instead of the client's own preconditions (RFC 9111 §4.3.1).
void exchange::prepare_validation() {
    cache_context& c = *cache_;
    http::response_head& stored = res_;
    c.validators.clear();
    if (http::parse_response(c.entry.head, response_limits(), false, stored).status != http::parse_status::complete)
        return;
    if (auto etag = stored.get("etag"); !etag.empty()) c.validators += "If-None-Match: " + std::string(etag) + "\r\n";
    if (auto lm = stored.get("last-modified"); !lm.empty())
        c.validators += "If-Modified-Since: " + std::string(lm) + "\r\n";
    c.revalidating = !c.validators.empty();
}

task<bool> exchange::purge() {
    cache_context& c = *cache_;
    bool allowed = false;
    for (const auto& range : c.settings.purge_allow) allowed |= range.contains(s_.peer_);
    if (!allowed) {
        BW_LOG(info, "client %s: PURGE %s refused: not in purge_allow", s_.address_, c.key.c_str());
        co_return co_await respond_error(403);
    }
    const bool removed = c.store.erase(c.key);  // a Vary marker's variants go with it (its nonce)
    BW_LOG(notice, "client %s: PURGE %s: %s", s_.address_, c.key.c_str(), removed ? "removed" : "not cached");
    co_return co_await respond_error(removed ? 200 : 404);
}

// RFC 9111 §4.4: a non-error response to an unsafe method invalidates the target and the same-host
// Location / Content-Location. Called before the body is relayed, while `res` is still readable.
void exchange::invalidate_for_unsafe(const http::response_head& res) {
    if (res.status < 200 || res.status >= 400) return;
    std::string key;
    for (const std::string& target : cache::invalidation_targets(req_, res)) {
        cache::build_key(cache_->route.key, {scheme(), &req_, target}, key);
        if (cache_->store.erase(key)) BW_LOG(info, "cache: %.*s %s invalidated %s", static_cast<int>(req_.method.size()),
                                             req_.method.data(), std::string(req_.target).c_str(), key.c_str());
    }
}

// stale-while-revalidate (RFC 5861): the client already has the stale response; one request per
// key (the fill lock) refreshes it, on this connection's time, sending nothing to the client.
task<void> exchange::refresh_in_background(upstream_target& target) {
    cache_context& c = *cache_;
    const auto hold = static_cast<std::uint64_t>(c.settings.lock_timeout.count());
    if (!c.store.try_lock_fill(c.object_key, runtime::fresh_ms(), hold)) co_return;
    const int status = status_;
    const std::uint64_t sent = body_bytes_sent_;
    const bool close = close_client_;
    c.silent = true;
    c.fetch_whole = true;
    prepare_validation();
    c.request_time = static_cast<std::int64_t>(wall_ms() / 1000);
    co_await forward_to(target);
    c.store.unlock_fill(c.object_key);
    c.silent = false;
    status_ = status;
    body_bytes_sent_ = sent;
    close_client_ = close;
}

task<bool> exchange::cached_forward(upstream_target& target) {
    const config::route& route = gen_.cfg->routes[static_cast<std::size_t>(route_)];
    cache_ = std::make_unique<cache_context>(*rt_.cache(), route.cache, gen_.cfg->cache);
    cache_context& c = *cache_;
    c.policy.methods.assign(route.cache.methods.begin(), route.cache.methods.end());
    c.policy.valid = route.cache.valid;
    c.policy.targeted_field = c.settings.targeted_field;
    cache::build_key(route.cache.key, {scheme(), &req_}, c.key);
    if (req_.method == "PURGE") co_return co_await purge();
    const bool eligible = !upgrade_ && cache::method_cacheable(req_.method, c.policy);
    if (!eligible) {
        if (!cache::is_unsafe_method(req_.method)) {
            c.status = cache_status::bypass;
            c.store.count(cache::stat_counter::bypass);
        }
        co_return co_await forward_to(target);  // unsafe methods invalidate in cache_answers_instead
    }
    c.request_cc = cache::parse_cache_control(req_);
    c.pragma_no_cache = !c.request_cc.present && req_.get("pragma").find("no-cache") != std::string_view::npos;
    c.request_time = static_cast<std::int64_t>(wall_ms() / 1000);
    cache_lookup();
    if (c.has_entry) {
        const cache::stored_times times = c.entry.meta.times();
        const bool authorized_ok = req_.get("authorization").empty() || cache::may_serve_authorized(c.entry.meta.shared_ok);
        const auto use = authorized_ok ? cache::evaluate(times, c.request_cc, c.pragma_no_cache, c.request_time)
                                       : cache::usability::must_validate;
        if (use != cache::usability::must_validate) {
            const auto st = use == cache::usability::fresh ? cache_status::hit : cache_status::stale;
            serve_result r = co_await serve_stored(st);
            if (r == serve_result::client_gone) co_return false;
            if (r == serve_result::served) {
                if (st == cache_status::stale) co_await refresh_in_background(target);
                co_return !close_client_;
            }
        }
        if (c.request_cc.only_if_cached) co_return co_await respond_error(504);  // RFC 9111 §5.2.1.7
        c.stale_on_error = authorized_ok && cache::usable_on_error(times, c.request_cc, c.request_time);
        if (authorized_ok) prepare_validation();
    } else if (c.request_cc.only_if_cached) {
        co_return co_await respond_error(504);  // RFC 9111 §5.2.1.7
    } else if (!c.store.try_lock_fill(c.key, runtime::fresh_ms(), static_cast<std::uint64_t>(c.settings.lock_timeout.count()))) {
        if (co_await wait_for_filler()) {
            serve_result r = co_await serve_stored(cache_status::hit);
            if (r != serve_result::not_served) co_return r == serve_result::served && !close_client_;
        }
    } else {
        c.fill_locked = true;
    }
    c.status = cache_status::miss;
    c.store.count(cache::stat_counter::misses);
    c.fetch_whole = true;
    const bool keep = co_await forward_to(target);
    if (c.fill_locked) c.store.unlock_fill(c.key);
    c.fill_locked = false;
    co_return keep;
}

}  // namespace bulwark::proxy
