// proxy/runtime: everything one worker owns: the current config generation (routers, balancers,
// server addresses), the connection pools that outlive generations, buffers, deadlines, the access log
// and the registry of client sessions used for draining. Single-threaded: no locks, no atomics.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/intrusive/list.hpp>

#include "cache/store.hpp"
#include "config/model.hpp"
#include "core/asio.hpp"
#include "core/clock.hpp"
#include "observe/access_log.hpp"
#include "proxy/balancer.hpp"
#include "proxy/deadline.hpp"
#include "proxy/router.hpp"
#include "proxy/upstream_pool.hpp"
#include "shm/shared_state.hpp"
#include "tls/server_context.hpp"
#include "tls/upstream_context.hpp"

namespace bulwark::proxy {

struct server_target {
    tcp::endpoint endpoint;
    std::string text;  // "127.0.0.1:9001", for logs
    server_pool* pool;
    shm::backend_handle shared;  // state shared by all workers (invalid: not tracked)
    bool needs_tls = false;                      // server = ... tls
    const tls::upstream_context* tls = nullptr;  // its upstream's client context (null: could not be built)
    std::string host;  // the numeric address alone, verified when the upstream sets no tls_sni
};

struct upstream_target {
    std::string name;
    const config::upstream* cfg;        // owned by the generation's snapshot
    std::vector<server_target> servers;
    std::unique_ptr<balancer> picker;
    std::vector<server_live> live;      // scratch for the picker, refreshed from shared state per pick
    std::time_t all_down_logged = 0;    // at most one "every server is down" line per second
    bool needs_active = false;          // the picker reads active counts (least_conn, random_two, max_conns)
    std::shared_ptr<const tls::upstream_context> tls;  // null: no server marked tls
};

/// What one config snapshot means to a worker; requests hold it for their whole life.
struct generation {
    /// Index of the listener called `name` in this generation, or -1 when it was removed.
    int listener_index(const std::string& name) const;

    config::snapshot cfg;
    std::vector<upstream_target> upstreams;
    std::vector<router> routers;  // one per listener
    std::vector<std::uint32_t> listener_counters;  // rows in the shared counter table (npos: none)
    std::vector<std::uint32_t> route_counters;
    std::shared_ptr<const tls::server_contexts> tls;  // null: no [tls:NAME] in this snapshot
};

/// Fixed-size byte buffers recycled per worker so relays allocate nothing once warm. Held only while
/// an exchange relays a body. 128 KiB: a 100 KiB response then goes out in one read and one write,
/// where 64 KiB took two of each and cost the client and the origin a wake-up more per response
/// (issue 3, A/B of the two sizes: 100 KiB responses 23.2k -> 26.2k requests/s, though the proxy's
/// own CPU per response rose; nginx uses 16 x 16 KiB in scripts/bench).
class buffer_pool {
public:
    static constexpr std::size_t buffer_size = 128 * 1024;
    struct lease {
        buffer_pool* pool = nullptr;
        std::unique_ptr<char[]> data;
        lease() = default;
        lease(buffer_pool* p, std::unique_ptr<char[]> d) : pool(p), data(std::move(d)) {}
        lease(lease&&) = default;
        lease& operator=(lease&&) = default;
        ~lease() {
            if (pool && data) pool->free_.push_back(std::move(data));
        }
        char* get() const { return data.get(); }
    };
    lease borrow() {
        if (free_.empty()) return {this, std::make_unique<char[]>(buffer_size)};
        auto d = std::move(free_.back());
        free_.pop_back();
        return {this, std::move(d)};
    }

private:
    std::vector<std::unique_ptr<char[]>> free_;
};

using session_hook = boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

class session_base : public session_hook {
public:
    virtual ~session_base() = default;
    /// Draining: a connection between requests gets a short grace (drain_idle_grace) for a request
    /// already on its way, which is answered with Connection: close; then it is closed.
    virtual void drain_idle() = 0;
};

/// What a worker's runtime is built from.
struct runtime_setup {
    config::snapshot cfg;
    int access_log_fd = -1;
    unsigned worker_index = 0;  // also the worker's slot in the shared gauges
    shm::shared_state* shared = nullptr;
    const shm::backend_handles* handles = nullptr;
    cache::store* cache = nullptr;
};

/// Closing an idle keep-alive connection races with a request the client is sending; clients that
/// reuse connections send again within milliseconds, so a second of grace avoids nearly all of it.
inline constexpr std::chrono::milliseconds drain_idle_grace{1000};

class runtime {
public:
    explicit runtime(asio::io_context& io, const runtime_setup& setup);

    unsigned worker_index() const { return worker_index_; }
    /// Shared state; null only in processes that run without one (unit tests).
    shm::shared_state* shared() const { return shared_; }
    /// The shared cache; null while no route caches.
    cache::store* cache() const { return cache_; }

    asio::io_context& io() { return io_; }
    const std::shared_ptr<generation>& current() const { return current_; }
    const config::global_settings& settings() const { return current_->cfg->global; }
    cached_clock& clock() { return clock_; }
    time_point now() const { return clock_.now(); }
    /// Milliseconds of CLOCK_MONOTONIC, cached per sweep tick: for decisions that a tick of error does
    /// not change (is a server's down time over).
    std::uint64_t now_ms() const {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count());
    }
    /// Read now (vDSO, no syscall): for timestamps other workers compare with theirs (failure windows,
    /// rate limits), where a worker's cached clock lagging another's would count wrongly.
    static std::uint64_t fresh_ms() {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now().time_since_epoch())
                                              .count());
    }
    deadline_list& deadlines() { return deadlines_; }
    buffer_pool& buffers() { return buffers_; }
    observe::access_log& access_log() { return access_log_; }

    void add_session(session_base& s) { sessions_.push_back(s); }
    /// Counted when accepted (before the session's coroutine first runs, so max_connections is exact)
    /// and uncounted by the session's destructor (its hook unlinks itself from the list).
    void connection_opened() { ++session_count_; }
    void session_closed() { --session_count_; }
    std::size_t session_count() const { return session_count_; }
    bool draining() const { return draining_; }
    /// Stops new requests on idle connections; in-flight exchanges finish and then close.
    void start_drain();

    /// Reload: new requests use `cfg` from now on; exchanges in flight keep the generation they hold.
    /// Pools of servers that stay are kept; pools of servers no longer listed close when idle.
    void apply(config::snapshot cfg, const shm::backend_handles& handles);

    /// Fast non-cryptographic randomness (request ids), seeded from the kernel once per worker.
    std::uint64_t random();

    /// Called by the sweep timer: deadlines every tick, housekeeping once a second.
    void tick();

private:
    std::shared_ptr<generation> build_generation(config::snapshot cfg, const shm::backend_handles* handles);

    unsigned worker_index_;
    shm::shared_state* shared_;
    cache::store* cache_;
    std::unique_ptr<cache::store> own_cache_;  // mapped by path when a reload enabled caching

    asio::io_context& io_;
    cached_clock clock_;
    deadline_list deadlines_;
    buffer_pool buffers_;
    observe::access_log access_log_;
    std::unordered_map<std::string, std::unique_ptr<server_pool>> pools_;  // by upstream '\0' address
    std::shared_ptr<generation> current_;
    boost::intrusive::list<session_base, boost::intrusive::constant_time_size<false>> sessions_;
    bool draining_ = false;
    std::size_t session_count_ = 0;  // the list's size without walking it
    std::uint64_t random_state_ = 0;
    std::time_t last_housekeeping_ = 0;
};

}  // namespace bulwark::proxy
