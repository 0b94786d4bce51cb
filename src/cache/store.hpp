// cache/store: the HTTP cache's storage: one file-backed shared mapping (the [cache] file) holding a
// lock-free index and a log-structured object arena, shared by every worker and reused across reload,
// live upgrade and restart. Nothing in it is a pointer (offsets only); a record is trusted only after
// its checksum and its position (not yet overwritten by the arena's write head) are verified, so a
// worker killed at any instruction leaves nothing half-visible and no lock held.
//
// It stores opaque byte strings: a key, a head blob (the stage's serialized metadata and response
// head) and a body (lz4-compressed in chunks when asked). HTTP meaning lives in cache/policy.
// No Asio here (STYLE.md: shm-side code stays light); callable from workers, the monitor and the CLI.
// The file's layout is cache/store_layout.hpp; the implementation is split over cache/store_*.cpp.
// Readers and writers refer to the store's mapping: the store object must outlive them (it may move).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::cache {

namespace detail {
class store_impl;  // cache/store_impl.hpp
struct chunk_view;
}

/// Counters kept in the file (atomics), for -s status and metrics. Survive reload/upgrade/restart.
struct store_stats {
    std::uint64_t hits = 0, misses = 0, stale = 0, revalidated = 0, bypass = 0;
    std::uint64_t stored = 0;          // objects committed
    std::uint64_t evicted = 0;         // objects overwritten by the write head (or purged)
    std::uint64_t second_chances = 0;  // referenced objects copied forward instead of evicted (CLOCK)
    std::uint64_t bytes_stored = 0;    // bytes written into the arena (compressed), cumulative
    std::uint64_t bytes_served = 0;    // body bytes served from the cache, cumulative
    std::uint64_t live_objects = 0;    // index entries that point at live objects (approximate)
    std::uint64_t arena_bytes = 0;     // arena capacity
    std::uint64_t arena_used = 0;      // bytes between the eviction horizon and the write head
    std::uint64_t index_slots = 0;
};

enum class stat_counter { hits, misses, stale, revalidated, bypass, bytes_served };

/// A found entry: enough to read it later and to verify it is still the same object.
struct entry_ref {
    std::uint64_t position = 0;  // absolute arena position of the object's head record (0: none)
    std::uint64_t body_size = 0; // identity (uncompressed) body bytes
    std::uint64_t stored_ms = 0; // unix ms when committed (or re-headed by replace_head)
    explicit operator bool() const { return position != 0; }
};

class store;

/// Streams a body out of the store, one chunk (at most `max_chunk` identity bytes) at a time,
/// decompressing as it goes. Each next() copies out of the mapping, then checks that the bytes were
/// not overwritten meanwhile: false with `evicted()` means the object is gone mid-read.
class body_reader {
public:
    body_reader() = default;
    /// Copies up to `cap` identity bytes into `out` (cap >= store::max_chunk); sets `n`.
    /// Returns false on eviction or corruption (then stop serving), true otherwise (n == 0: end).
    bool next(char* out, std::size_t cap, std::size_t& n);
    /// When the next chunk is stored raw (not compressed): `data` views its bytes in the mapping, so
    /// they can be sent without a copy, and true. Nothing is verified yet: after using the bytes the
    /// caller must call confirm(), which fails when the ring overwrote them meanwhile (then the bytes
    /// used may be wrong: stop, and end the response). False (data empty) when the next chunk is
    /// compressed, or on eviction (see evicted()): then use next().
    bool next_view(std::string_view& data);
    bool confirm() const;
    /// Skips to identity offset `offset` (range requests) without decompressing the chunks before
    /// it; forward only (false for an offset before the current one, or past the end); false when
    /// evicted/corrupt.
    bool seek(std::uint64_t offset);
    bool evicted() const { return evicted_; }
    std::uint64_t remaining() const { return remaining_; }

private:
    friend class store;
    bool fail();
    bool load_chunk(detail::chunk_view& c);
    const detail::store_impl* st_ = nullptr;  // the mapping (stable when the store object moves)
    std::uint64_t chunk_pos_ = 0;   // arena position of the next chunk record (the head when inline_)
    std::uint64_t viewed_pos_ = 0;  // the chunk next_view() handed out, for confirm()
    std::uint64_t object_id_ = 0;   // every chunk record of the body carries it
    std::uint64_t offset_ = 0;      // identity offset of the next byte next() delivers
    std::uint64_t skip_ = 0;        // identity bytes still to drop from the next chunk (seek)
    std::uint64_t remaining_ = 0;
    std::uint32_t seq_ = 0;         // index of the next chunk record
    bool inline_ = false;           // the body's only chunk is inside the head record
    bool evicted_ = false;
};

/// Writes one object. append() may be called as the body streams in; nothing is visible to lookups
/// until commit(). Destroying an uncommitted writer (or a worker dying) abandons its space.
class object_writer {
public:
    object_writer() noexcept;  // out of line: state is incomplete here
    object_writer(object_writer&&) noexcept;
    object_writer& operator=(object_writer&&) noexcept;
    ~object_writer();
    /// False once the object failed (too large, no space, store gone): stop appending, do not commit.
    bool ok() const { return ok_; }
    bool append(const char* data, std::size_t n);
    /// Publishes the object under its key, replacing any previous one. False when it failed.
    bool commit();

private:
    friend class store;
    struct state;
    std::unique_ptr<state> s_;
    bool ok_ = false;
};

class store {
public:
    /// Bump when anything in the file's layout changes: a mismatch recreates the file.
    static constexpr std::uint32_t layout_version = 1;
    /// Largest identity chunk a body is cut into (each compressed on its own).
    static constexpr std::size_t max_chunk = 64 * 1024;

    store() noexcept;  // out of line: detail::store_impl is incomplete here
    store(store&&) noexcept;
    store& operator=(store&&) noexcept;
    ~store();

    /// Master, before forking: maps `path` when it holds a valid store of `size` bytes, else (missing,
    /// other version or size, bad header checksum, corrupt index) recreates it and says why in
    /// `note` (one line; empty when reused). Owner/group: chown'd so workers can map it after
    /// dropping root. Throws std::system_error / std::invalid_argument (size below 1 MiB).
    /// `note` reads "created cache file PATH" or "recreated cache file PATH: REASON".
    static store open_or_create(const std::string& path, std::uint64_t size, std::string& note,
                                uid_t owner = static_cast<uid_t>(-1), gid_t group = static_cast<gid_t>(-1));
    /// Another process (CLI: -s purge, -s cache-check): maps an existing store; throws when invalid.
    static store open_existing(const std::string& path, bool read_only);

    bool valid() const;
    /// The file behind the mapping and the file offset of bytes in it (a view from next_view()), so
    /// a raw chunk can go to a socket with sendfile(); fd -1 when unavailable.
    int file_fd() const;
    std::uint64_t file_offset(const char* p) const;
    const std::string& path() const;
    std::uint64_t size() const;

    /// Lock-free lookup. An empty ref when absent, evicted or corrupt.
    entry_ref find(std::string_view key) const;
    /// Copies the entry's head blob into `out`; false when the entry is gone (evicted, replaced).
    bool read_head(const entry_ref& e, std::string& out) const;
    /// A reader of the entry's body (check body_reader::next's result for eviction).
    body_reader open_body(const entry_ref& e) const;

    /// Starts an object. `compress`: store the body lz4-compressed (the caller decides from
    /// Content-Encoding / type / min_compress_size). `max_body` caps the identity body (0: no cap
    /// beyond the arena); past it the writer fails.
    object_writer begin(std::string_view key, std::string_view head, bool compress, std::uint64_t max_body);
    /// Replaces the head blob of `e` (a 304 refreshed it) keeping its body; false when `e` is gone.
    bool replace_head(std::string_view key, const entry_ref& e, std::string_view head);
    /// Marks the entry referenced (second chance against eviction): sets the CLOCK bit of its index
    /// slot; cheap, lock-free. Objects whose body fits one chunk get the second chance.
    void touch(const entry_ref& e) const;
    /// Removes `key`; true when something was removed.
    bool erase(std::string_view key);
    /// Removes every key starting with `prefix`; returns how many. Scans the whole index.
    std::size_t erase_prefix(std::string_view prefix);

    /// Coalescing of misses across workers: true when this process now fills `key` (or the previous
    /// filler died or held it longer than `max_hold_ms`); false when another live process (this one
    /// included) fills it. `now_ms`: any clock shared by the processes (CLOCK_MONOTONIC is).
    /// True without locking when coalescing is impossible (read-only mapping, lock table crowded).
    bool try_lock_fill(std::string_view key, std::uint64_t now_ms, std::uint64_t max_hold_ms);
    void unlock_fill(std::string_view key);

    void count(stat_counter c, std::uint64_t n = 1) const;
    store_stats stats() const;

    /// Verification pass (-s cache-check, tests): every index entry's record checksums, positions
    /// and key; every lock (fill locks, the arena lock) free or held by a live pid. Returns problems,
    /// one line each (empty: OK).
    std::vector<std::string> check() const;

private:
    explicit store(std::unique_ptr<detail::store_impl> impl) noexcept;
    friend class body_reader;
    friend class object_writer;
    std::unique_ptr<detail::store_impl> impl_;
};

}  // namespace bulwark::cache
