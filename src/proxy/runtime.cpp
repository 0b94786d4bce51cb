// proxy/runtime: builds a generation from a config snapshot, reusing pools of servers that stay.
#include "proxy/runtime.hpp"

#include <sys/random.h>

#include "core/log.hpp"

namespace bulwark::proxy {
namespace {
// Backends commonly close idle keep-alive connections after 60 s or more; closing ours first avoids
// sending a request into a connection the backend is closing.
constexpr std::chrono::milliseconds upstream_idle_timeout{50'000};

// The most idle connections a worker keeps to a server: the operator's keepalive, or under
// keepalive = auto whatever the recent peak needs (trimmed by housekeeping), which can never exceed
// the client connections one worker serves (each has at most one request upstream at a time) nor the
// server's max_conns (requests in flight across all workers).
unsigned idle_cap(const config::upstream& u, const config::server& s, const config::global_settings& g) {
    std::size_t cap = u.keepalive == config::upstream::keepalive_auto ? g.max_connections : u.keepalive;
    if (s.max_conns > 0) cap = std::min<std::size_t>(cap, s.max_conns);
    return static_cast<unsigned>(std::min<std::size_t>(cap, UINT32_MAX));
}
}  // namespace

runtime::runtime(asio::io_context& io, const runtime_setup& setup)
    : worker_index_(setup.worker_index), shared_(setup.shared), cache_(setup.cache), io_(io), access_log_(setup.access_log_fd) {
    current_ = build_generation(setup.cfg, setup.handles);
}

std::shared_ptr<generation> runtime::build_generation(config::snapshot cfg, const shm::backend_handles* handles) {
    auto gen = std::make_shared<generation>();
    for (std::size_t ui = 0; ui < cfg->upstreams.size(); ++ui) {
        const auto& u = cfg->upstreams[ui];
        std::vector<server_spec> specs;
        std::vector<server_target> servers;
        for (std::size_t si = 0; si < u.servers.size(); ++si) {
            const auto& s = u.servers[si];
            // Keyed like the shared backend table (upstream + address), so a pool's totals belong to
            // exactly one row of it. TLS connections (and their resumable sessions, which carry a client
            // certificate's authentication) are also never shared between TLS settings.
            auto& pool = pools_[u.name + '\0' + s.address.text() +
                                (s.tls ? "|tls|" + u.tls_sni + "|" + u.tls_ca + "|" + u.tls_certificate +
                                             (u.tls_verify ? "|verify" : "|any")
                                       : std::string())];
            const unsigned cap = idle_cap(u, s, cfg->global);
            if (!pool) pool = std::make_unique<server_pool>(cap);
            pool->set_max_idle(cap);
            shm::backend_handle h = handles && ui < handles->size() && si < (*handles)[ui].size()
                                        ? (*handles)[ui][si]
                                        : shm::backend_handle{};
            pool->set_handle(h);
            servers.push_back({tcp::endpoint(asio::ip::make_address(s.address.host), s.address.port),
                               s.address.text(), pool.get(), h});
        }
        for (std::size_t si = 0; si < u.servers.size(); ++si)
            specs.push_back({u.servers[si].weight, u.servers[si].max_conns, u.servers[si].backup, servers[si].text});
        auto picker = balancer::make(u.balance, specs);
        // Stagger the workers' starting points so they do not all send their first request to one server.
        for (unsigned i = 0; i < worker_index_ % std::max<std::size_t>(1, specs.size()); ++i) picker->pick({});
        std::shared_ptr<const tls::upstream_context> tls_ctx;
        bool any_tls = false;
        for (const auto& s : u.servers) any_tls |= s.tls;
        if (any_tls) {
            std::vector<config::diagnostic> errors;
            tls_ctx = tls::upstream_context::build(*cfg, u, errors);
            for (const auto& d : errors) BW_LOG(error, "TLS context: %s", d.text().c_str());
        }
        for (std::size_t si = 0; si < u.servers.size(); ++si) {
            servers[si].host = u.servers[si].address.host;
            servers[si].needs_tls = u.servers[si].tls;
            if (u.servers[si].tls) servers[si].tls = tls_ctx.get();
        }
        std::vector<server_live> live(servers.size());
        bool needs_active = u.balance == config::balance_kind::least_conn || u.balance == config::balance_kind::random_two;
        for (const auto& s : u.servers) needs_active |= s.max_conns > 0;
        gen->upstreams.push_back({u.name, &u, std::move(servers), std::move(picker), std::move(live), 0, needs_active,
                                  std::move(tls_ctx)});
    }
    for (std::size_t i = 0; i < cfg->listeners.size(); ++i) gen->routers.emplace_back(*cfg, static_cast<int>(i));
    for (const auto& l : cfg->listeners)
        gen->listener_counters.push_back(shared_ ? shared_->counters().find("listener:" + l.name) : shm::counter_table::npos);
    for (const auto& r : cfg->routes)
        gen->route_counters.push_back(shared_ ? shared_->counters().find("route:" + r.name) : shm::counter_table::npos);
    if (!cfg->tls.empty()) {
        // The master built the same contexts from the same bytes before accepting the configuration.
        std::vector<config::diagnostic> errors;
        gen->tls = tls::server_contexts::build(cfg, errors);
        for (const auto& d : errors) BW_LOG(error, "TLS context: %s", d.text().c_str());
    }
    gen->cfg = std::move(cfg);
    return gen;
}

std::uint64_t runtime::random() {
    if (random_state_ == 0 && ::getrandom(&random_state_, sizeof random_state_, 0) != sizeof random_state_)
        random_state_ = static_cast<std::uint64_t>(clock_.now().time_since_epoch().count()) | 1;
    // splitmix64
    std::uint64_t z = (random_state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int generation::listener_index(const std::string& name) const {
    for (std::size_t i = 0; i < cfg->listeners.size(); ++i)
        if (cfg->listeners[i].name == name) return static_cast<int>(i);
    return -1;
}

void runtime::apply(config::snapshot cfg, const shm::backend_handles& handles) {
    if (!cache_ && cfg->cache.used) {
        // Caching was enabled by this reload: the master created the file; map it by path.
        try {
            own_cache_ = std::make_unique<cache::store>(cache::store::open_existing(cfg->cache.path, false));
            cache_ = own_cache_.get();
        } catch (const std::exception& e) {
            BW_LOG(error, "cache %s: %s; serving without the cache", cfg->cache.path.c_str(), e.what());
        }
    }
    auto gen = build_generation(std::move(cfg), &handles);
    // Servers that left the configuration: their idle connections go now, and connections still in
    // use are closed when their exchange ends (no idle slots). The pool objects themselves stay, as
    // exchanges of the old generation still point at them.
    for (auto& [address, pool] : pools_) {
        bool listed = false;
        for (const auto& u : gen->upstreams)
            for (const auto& s : u.servers) listed |= s.pool == pool.get();
        if (listed) continue;
        pool->set_max_idle(0);
        pool->expire(time_point::max(), std::chrono::milliseconds(0));
        // Its row in the shared table may be retired and given to another server: last words first.
        if (shared_) pool->publish(shared_->backends(), worker_index_);
        pool->set_handle({});
    }
    current_ = std::move(gen);
}

void runtime::start_drain() {
    draining_ = true;
    // drain_idle may end a session (unlinking it), so step before calling it.
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        session_base& s = *it++;
        s.drain_idle();
    }
    for (auto& [key, pool] : pools_) {
        pool->expire(time_point::max(), std::chrono::milliseconds(0));
        if (shared_) pool->publish(shared_->backends(), worker_index_);
    }
}

void runtime::tick() {
    clock_.update();
    deadlines_.sweep(clock_.now());
    if (clock_.wall() != last_housekeeping_) {
        last_housekeeping_ = clock_.wall();
        access_log_.flush();
        for (auto& [key, pool] : pools_) {
            pool->housekeeping(clock_.now(), upstream_idle_timeout);
            if (shared_) pool->publish(shared_->backends(), worker_index_);
        }
    }
}

}  // namespace bulwark::proxy
