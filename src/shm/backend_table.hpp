// shm/backend_table: the shared state of every upstream server, seen alike by all workers, the monitor
// and the master: up/down/draining, health streaks, passive-failure window, active requests (so
// least_conn is global) and totals for status/metrics.
//
// Servers are keyed by upstream name + address, found or added under a robust mutex only at startup
// and reload; the handle (an index) is then used lock-free. A reload that lists a server again gets
// the same handle back, with its state. Active requests are gauges per worker slot (one row per worker,
// written only by that worker) summed by readers; when a worker dies the master zeroes its row with
// reset_worker_slot(), so a crash mid-request never leaves a gauge drifting. Idle pooled connections
// are gauges of the same kind, and the pool totals (opened, reused, trimmed) are added once a second.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shm/layout.hpp"

namespace bulwark::shm {

enum class backend_state : std::uint8_t { up = 0, down = 1, draining = 2 };
std::string_view backend_state_name(backend_state s) noexcept;

struct backend_handle {
    std::uint32_t index = UINT32_MAX;
    bool valid() const noexcept { return index != UINT32_MAX; }
    friend bool operator==(backend_handle, backend_handle) = default;
};

struct backend_snapshot {
    std::string upstream;
    std::string address;
    backend_state state = backend_state::up;
    std::uint64_t state_since_ms = 0;
    std::uint32_t consecutive_failures = 0;
    std::uint32_t consecutive_successes = 0;
    std::uint64_t down_until_ms = 0;
    std::uint64_t active = 0;
    std::uint64_t requests = 0;
    std::uint64_t failures = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t idle = 0;             // idle pooled connections, summed over workers
    std::uint64_t conns_opened = 0;     // connections the workers opened to it
    std::uint64_t reused_requests = 0;  // requests sent on a pooled connection
    std::uint64_t trim_closed = 0;      // idle connections closed by the pools' housekeeping
};

class backend_table {
public:
    /// Bytes needed for `capacity` servers (a multiple of cache_line_bytes).
    static std::size_t bytes_for(std::uint32_t capacity) noexcept;

    /// Reuses the table in `mem` when its header matches (version, capacity, worker slots, size);
    /// otherwise formats `mem` as an empty table and says why in `reason`. Formatting happens only
    /// while no other process uses `mem` (the master, before forking). Throws std::invalid_argument
    /// when `mem` is smaller than bytes_for(capacity).
    static backend_table open_or_format(std::span<std::byte> mem, std::uint32_t capacity, std::string& reason);
    /// Attaches to a table formatted earlier (any capacity). Throws std::runtime_error if none.
    static backend_table attach(std::span<std::byte> mem);

    std::uint32_t capacity() const noexcept { return header_->capacity; }

    // ---- control plane: takes the robust lock -----------------------------------------------------
    /// Starts a reload: returns the new generation to pass to find_or_add().
    std::uint64_t begin_generation();
    std::uint64_t generation() const noexcept;
    /// The handle of (upstream, address), adding it with fresh state (up) if absent, and marks it as
    /// listed by `generation`. nullopt when the table is full or the key too long (`error` says which).
    std::optional<backend_handle> find_or_add(std::string_view upstream, std::string_view address,
                                              std::uint64_t generation, std::string* error = nullptr);
    std::optional<backend_handle> find(std::string_view upstream, std::string_view address);
    /// Frees the servers not listed since `generation` (call once no process uses older handles).
    std::size_t retire_older_than(std::uint64_t generation);
    /// Times the lock was recovered from a dead owner.
    std::uint64_t lock_recoveries() const noexcept;

    /// Zeroes the active-request gauges of a dead worker. Lock-free; call only after it was reaped.
    void reset_worker_slot(std::uint32_t worker) noexcept;

    // ---- data plane: lock-free --------------------------------------------------------------------
    backend_state state(backend_handle h) const noexcept;
    std::uint64_t state_since_ms(backend_handle h) const noexcept;
    /// Sets the state; returns the previous one. Exactly one caller sees a given change (log it then).
    backend_state exchange_state(backend_handle h, backend_state to, std::uint64_t now_ms) noexcept;
    /// Changes `from` to `to`; false when the state was not `from` (someone else changed it).
    bool transition(backend_handle h, backend_state from, backend_state to, std::uint64_t now_ms) noexcept;

    /// Health streaks: a success zeroes the failure streak and vice versa; both return the new streak.
    std::uint32_t record_success(backend_handle h) noexcept;
    std::uint32_t record_failure(backend_handle h) noexcept;
    std::uint32_t consecutive_failures(backend_handle h) const noexcept;
    std::uint32_t consecutive_successes(backend_handle h) const noexcept;
    /// Passive checks: counts a failure in a window of `window_ms` opened by the first failure;
    /// returns the failures in the current window (max_fails within fail_timeout).
    std::uint32_t passive_failure(backend_handle h, std::uint64_t now_ms, std::uint64_t window_ms) noexcept;
    void reset_passive(backend_handle h) noexcept;

    std::uint64_t down_until(backend_handle h) const noexcept;
    void set_down_until(backend_handle h, std::uint64_t until_ms) noexcept;

    /// Active requests: `worker` is the caller's worker slot (< max_worker_slots).
    void acquire(backend_handle h, std::uint32_t worker) noexcept;
    void release(backend_handle h, std::uint32_t worker) noexcept;
    std::uint64_t active(backend_handle h) const noexcept;
    std::uint32_t active_in_slot(backend_handle h, std::uint32_t worker) const noexcept;

    void add_request(backend_handle h) noexcept;
    void add_failure(backend_handle h) noexcept;
    void add_bytes(backend_handle h, std::uint64_t in, std::uint64_t out) noexcept;

    /// Connection pools (proxy/upstream_pool), once a second per worker: the worker's idle connections
    /// to the server (a gauge in its own row, like active) and what its totals grew by.
    void set_idle(backend_handle h, std::uint32_t worker, std::uint32_t idle) noexcept;
    std::uint64_t idle(backend_handle h) const noexcept;
    void add_pool_totals(backend_handle h, std::uint64_t opened, std::uint64_t reused, std::uint64_t trimmed) noexcept;

    /// Consistent enough for display: each field is read atomically on its own.
    backend_snapshot snapshot(backend_handle h) const;
    /// Handles of every live server, in table order.
    std::vector<backend_handle> live() const;

private:
    backend_table(std::byte* base) noexcept;
    backend_slot& slot(backend_handle h) const noexcept;
    std::uint32_t* gauge(std::uint32_t worker, std::uint32_t index) const noexcept;
    std::uint32_t* idle_gauge(std::uint32_t worker, std::uint32_t index) const noexcept;
    static void repair(void* self) noexcept;

    backend_table_header* header_;
    backend_slot* slots_;
    std::byte* gauges_;
    std::size_t row_bytes_;
};

}  // namespace bulwark::shm
