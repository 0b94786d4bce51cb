// shm/limit_table: request-rate buckets, concurrent-connection counters and "blocked until" marks per
// client key, shared by all workers, bounded in memory and lock-free (STYLE.md lesson 7).
//
// Entries are keyed by a 64-bit hash of (key bytes, limit id) under a random per-table seed. The
// table is 8-way set-associative: a key lives in one group of 8 slots whose 8 keys share a cache line.
// A new key takes an empty slot of its group or recycles the least recently used one, so a flood of
// new keys evicts stale keys, not hot ones; slots holding open connections or an active block are
// never recycled (if all 8 are, the request goes untracked and `overflows` counts it: fail open).
//
// Rate: GCRA (the virtual-scheduling form of a token bucket) in one 64-bit word per slot, updated by
// CAS: a bucket of `burst` requests (at least 1) refilled at `rate_per_sec`. Over any interval of D
// seconds a key gets at most burst + rate * D requests, however many processes ask.
//
// Time: `now_ms` is any millisecond clock shared by the processes (CLOCK_MONOTONIC or CLOCK_REALTIME);
// an entry found far in the future (clock stepped back, reboot) is treated as fresh.
//
// A worker that dies with connections open cannot release them: the master then calls
// forget_connections(), after which every count reads as zero and restarts (fail open until those
// connections close, rather than lock clients out for good).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "shm/layout.hpp"

namespace bulwark::shm {

/// A rate in the unit the table computes with; make it once per configured limit. Time is counted in
/// 1/64 ms, so rates above 64000/s per key are capped there; `burst` 0 counts as 1.
struct limit_rate {
    std::uint64_t interval = 0;   // time between two requests at the steady rate, in 1/64 ms
    std::uint64_t tolerance = 0;  // (burst - 1) * interval
    static limit_rate make(double rate_per_sec, std::uint32_t burst) noexcept;
};

struct acquire_result {
    bool allowed = true;
    std::uint32_t retry_after_ms = 0;  // when refused: wait this long before the next one is allowed
    std::uint32_t delay_ms = 0;        // when allowed: how far ahead of the steady rate it is ("delay" mode)
};

class limit_table {
public:
    /// Bytes for at least `slots` slots (rounded up to a power-of-two number of 8-slot groups).
    static std::size_t bytes_for(std::uint32_t slots) noexcept;

    /// Reuses the table in `mem` when its header matches `slots`; otherwise formats it (empty, fresh
    /// seed) and says why in `reason`. Format only while no other process uses `mem`. Throws
    /// std::invalid_argument when `mem` is smaller than bytes_for(slots).
    static limit_table open_or_format(std::span<std::byte> mem, std::uint32_t slots, std::string& reason);
    /// Attaches to a table formatted earlier. Throws std::runtime_error if none.
    static limit_table attach(std::span<std::byte> mem);

    std::uint32_t capacity() const noexcept { return header_->groups * limit_ways; }

    /// The entry key for `key` (client address bytes, header value...) under limit `limit_id`.
    std::uint64_t key_of(std::string_view key, std::uint32_t limit_id) const noexcept;

    // ---- request rate -----------------------------------------------------------------------------
    acquire_result try_acquire(std::uint64_t entry, std::uint32_t limit_id, const limit_rate& rate,
                               std::uint64_t now_ms) noexcept;
    acquire_result try_acquire(std::string_view key, std::uint32_t limit_id, double rate_per_sec,
                               std::uint32_t burst, std::uint64_t now_ms) noexcept;

    // ---- concurrent connections -------------------------------------------------------------------
    /// Counts one more open connection unless `max` are open already.
    bool conn_acquire(std::uint64_t entry, std::uint32_t max, std::uint64_t now_ms) noexcept;
    void conn_release(std::uint64_t entry) noexcept;
    std::uint32_t conns(std::uint64_t entry) const noexcept;
    /// A worker died: every connection count restarts from zero.
    void forget_connections() noexcept;

    // ---- blocking (brute-force guard) -------------------------------------------------------------
    /// Blocks `entry` until `until_ms` (extends, never shortens, an existing block).
    void block(std::uint64_t entry, std::uint64_t until_ms, std::uint64_t now_ms) noexcept;
    /// The end of the block in force at `now_ms`, or 0. Never inserts.
    std::uint64_t blocked_until(std::uint64_t entry, std::uint64_t now_ms) const noexcept;

    // ---- statistics -------------------------------------------------------------------------------
    bool contains(std::uint64_t entry) const noexcept;
    std::uint32_t used() const noexcept;  // slots holding a key (scans the table)
    std::uint64_t inserts() const noexcept;
    std::uint64_t evictions() const noexcept;
    std::uint64_t overflows() const noexcept;
    std::uint64_t limited(std::uint32_t limit_id) const noexcept;  // 0 for ids >= max_limit_ids

private:
    struct place {
        limit_group* group = nullptr;
        std::uint32_t way = 0;
    };
    explicit limit_table(std::byte* base) noexcept;
    place find(std::uint64_t entry) const noexcept;
    place find_or_insert(std::uint64_t entry, std::uint64_t now_ms) noexcept;
    bool evictable(limit_slot& s, std::uint64_t key, std::uint64_t now_ms) const noexcept;
    void touch(limit_slot& s, std::uint64_t now_ms) noexcept;

    limit_table_header* header_;
    limit_group* groups_;
};

}  // namespace bulwark::shm
