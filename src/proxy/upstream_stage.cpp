// proxy/upstream_stage: the balance-and-forward stage. The server is picked from the state every worker
// shares (up/down, active requests, slow-start ramp); its active gauge is held for the attempt; the
// result feeds the passive health check. A failed connect tries the next server; once a request went
// out it is never sent to another one (only retried on a fresh connection by the stale-pool rule).
#include "core/log.hpp"
#include "health/passive.hpp"
#include "proxy/client_session.hpp"
#include "proxy/exchange.hpp"

namespace bulwark::proxy {
namespace {

// Holds one active request on a server in this worker's row of the shared gauges.
class active_request {
public:
    active_request(shm::shared_state* shared, shm::backend_handle h, unsigned slot)
        : table_(shared && h.valid() ? &shared->backends() : nullptr), h_(h), slot_(slot) {
        if (table_) table_->acquire(h_, slot_);
    }
    void count_request() {
        if (table_) table_->add_request(h_);
    }
    ~active_request() {
        if (table_) table_->release(h_, slot_);
    }
    active_request(const active_request&) = delete;
    active_request& operator=(const active_request&) = delete;

private:
    shm::backend_table* table_;
    shm::backend_handle h_;
    unsigned slot_;
};

}  // namespace

// max_conns is checked after counting ourselves in: two workers racing for a server's last slot both
// count first, and the fence guarantees at least one of them sees the other, so the limit holds
// across workers (at worst both step back and the request goes elsewhere).
bool exchange::over_max_conns(const upstream_target& target, std::size_t idx) const {
    const unsigned max = target.cfg->servers[idx].max_conns;
    shm::shared_state* shared = rt_.shared();
    if (max == 0 || !shared || !target.servers[idx].shared.valid()) return false;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return shared->backends().active(target.servers[idx].shared) > max;
}

std::size_t exchange::pick_server(upstream_target& target, std::uint64_t tried) {
    shm::shared_state* shared = rt_.shared();
    if (shared) {
        auto& table = shared->backends();
        const std::uint64_t now = rt_.now_ms();
        const bool ramps = target.cfg->slow_start.count() > 0;
        // Only what this picker uses is read: summing a server's per-worker gauges is the costly part.
        for (std::size_t i = 0; i < target.servers.size(); ++i) {
            shm::backend_handle h = target.servers[i].shared;
            if (!h.valid()) continue;
            target.live[i] = {health::available(table, h, now), target.needs_active ? table.active(h) : 0,
                              ramps ? health::ramp(table, h, target.cfg->slow_start, now) : 1.0};
        }
    }
    pick_input in{target.live, tried, 0, 0};
    switch (target.cfg->balance) {
    case config::balance_kind::ip_hash:
        in.hash = hash_bytes({reinterpret_cast<const char*>(s_.peer_.bytes.data()), s_.peer_.v6 ? 16u : 4u});
        break;
    case config::balance_kind::hash: {
        const auto& key = target.cfg->hash_key;
        std::string_view text = key.what == config::request_key::kind::uri        ? req_.target
                              : key.what == config::request_key::kind::header     ? req_.get(key.header)
                              : std::string_view(s_.address_, s_.address_len_);
        in.hash = hash_bytes(text);
        break;
    }
    case config::balance_kind::random_two:
        in.random = rt_.random();
        break;
    default:
        break;
    }
    return target.picker->pick(in);
}

void exchange::note_result(upstream_target& target, server_target& server, bool ok, std::string_view reason) {
    shm::shared_state* shared = rt_.shared();
    if (!shared || !server.shared.valid()) return;
    auto& table = shared->backends();
    if (!ok) table.add_failure(server.shared);
    // Received: the response head and the body relayed; sent: the request as written.
    table.add_bytes(server.shared, ok ? res_.head_size + body_bytes_sent_ : 0, upstream_bytes_out_);
    // As nginx: a group of one server never marks it down, as there is nothing else to send to.
    if (target.servers.size() == 1) return;
    const std::uint64_t now = runtime::fresh_ms();
    health::outcome o = ok ? health::on_success(table, server.shared, now)
                           : health::on_failure(table, server.shared, *target.cfg, now);
    if (o.changed) health::log_change(*target.cfg, server.text, o, reason);
}

task<bool> exchange::forward_to(upstream_target& target) {
    std::uint64_t tried = 0;
    outcome result = outcome::failed;
    status_ = 502;
    for (std::size_t attempt = 0; attempt < target.servers.size(); ++attempt) {
        std::size_t idx = pick_server(target, tried);
        if (idx == balancer::npos) {
            if (attempt == 0) {
                // Every server is down (or at max_conns): answer at once instead of trying them all.
                status_ = 503;
                if (rt_.clock().wall() != target.all_down_logged) {
                    target.all_down_logged = rt_.clock().wall();
                    BW_LOG(error, "upstream \"%s\": no server available (all down or at max_conns), answering 503",
                           target.name.c_str());
                }
            }
            break;
        }
        if (idx < 64) tried |= std::uint64_t{1} << idx;
        server_target& server = target.servers[idx];
        active_request gauge(rt_.shared(), server.shared, rt_.worker_index());
        if (over_max_conns(target, idx)) {
            // Another worker took the last slot between our pick and our count: leave it to them.
            --attempt;
            continue;
        }
        gauge.count_request();
        pool_use use(*server.pool);  // counts towards the pool's recent peak, connecting included
        std::unique_ptr<upstream_conn> conn = server.pool->take(rt_.now());
        if (!conn) conn = co_await connect(server);
        if (!conn) {
            note_result(target, server, false, status_ == 504 ? "connect timed out" : "connect failed");
            continue;  // the next server may answer (status_ says why this one did not)
        }
        result = co_await forward(server, *conn);
        if (result == outcome::stale) {
            rewind_request_body();
            BW_LOG(info, "upstream \"%s\" server %s closed a pooled connection; retrying on a new one",
                   target.name.c_str(), server.text.c_str());
            conn = co_await connect(server);
            if (!conn) {
                // The server went away (that is why it closed): nothing reached it, try the next one.
                note_result(target, server, false, status_ == 504 ? "connect timed out" : "connect failed");
                result = outcome::failed;
                continue;
            }
            result = co_await forward(server, *conn);
            if (result == outcome::stale) {
                status_ = 502;
                result = outcome::failed;
            }
        }
        if (result == outcome::relayed) note_result(target, server, true, "request succeeded");
        // Passive checks count what nginx's default proxy_next_upstream counts: errors and timeouts
        // talking to the server, not responses it got wrong.
        else if (result == outcome::failed && upstream_io_error_)
            note_result(target, server, false, status_ == 504 ? "timed out" : "connection error");
        if (result == outcome::relayed && upstream_reusable_)
            server.pool->put(std::move(conn), rt_.now(), res_.framing == http::body_framing::none);
        break;
    }
    if (result == outcome::relayed) co_return !close_client_ && !upgrade_accepted_;
    if (result == outcome::failed) co_return co_await respond_failed();
    co_return false;
}

}  // namespace bulwark::proxy
