// shm/layout: every structure that lives in a shared segment, and nothing else. They are plain
// trivially-copyable PODs of fixed-width integers: an all-zero page is a valid "empty" state, the same
// bytes mean the same thing to every process and to the next binary after an upgrade, and nothing
// holds a pointer (tables address their parts by index or offset from their own start). Fields that
// several processes update are accessed through std::atomic_ref (shm/atomic.hpp), which is lock-free
// and address-free for these types: a process killed mid-update never leaves a lock behind.
// Changing anything here means bumping the layout version of the table (or segment) concerned.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace bulwark::shm {

inline constexpr std::size_t cache_line_bytes = 64;

// ---- segment (shm/segment) -------------------------------------------------------------------------
inline constexpr std::uint64_t segment_magic = 0x31'4d'48'53'4b'52'41'57;  // "WARKSHM1", little-endian
inline constexpr std::size_t segment_header_bytes = 256;                    // data starts here

struct segment_header {
    std::uint64_t magic;  // written last when the file is created
    std::uint32_t layout_version;
    std::uint32_t header_bytes;
    std::uint64_t size;  // total bytes of the file, header included
    std::uint32_t creator_pid;
    std::uint32_t reserved0;
    std::uint64_t generation;  // atomic: 1 at creation, +1 each time open_or_create reuses the file
    std::uint64_t created_unix_ms;
    std::uint8_t reserved[segment_header_bytes - 48];
};

// ---- robust mutex (shm/robust_mutex) ---------------------------------------------------------------
inline constexpr std::uint32_t robust_mutex_ready = 0x524f4255;  // "ROBU": set by init()

struct robust_mutex_data {
    pthread_mutex_t native;   // PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST
    std::uint32_t ready;      // robust_mutex_ready once initialised (a zeroed mutex is not robust)
    std::uint32_t owner_pid;  // atomic; diagnostics only (0 when free)
    std::uint64_t recoveries; // atomic; times a dead owner's lock was taken over
};

// ---- backend table (shm/backend_table) -------------------------------------------------------------
inline constexpr std::uint64_t backend_table_magic = 0x31'4b'4e'42'4b'52'41'57;  // "WARKBNK1"
// 2 (issue 16): backend_slot gained the pool totals (conns_opened, reused_requests, trim_closed) and
// an idle-connection gauge matrix follows the active one. A table of version 1 is recreated, not read:
// state and totals of every server start again from zero after an upgrade from a version-1 binary
// (the old and the new binary then keep separate tables until the old workers have drained).
inline constexpr std::uint32_t backend_table_version = 2;
inline constexpr std::uint32_t max_worker_slots = 128;  // per-worker gauge columns
inline constexpr std::size_t backend_key_bytes = 128;   // "upstream" '\0' "address"

enum backend_slot_status : std::uint32_t {
    slot_empty = 0,     // never used: ends a probe sequence
    slot_claiming = 1,  // being written under the lock (repair turns it into retired)
    slot_live = 2,
    slot_retired = 3,   // tombstone: probing continues past it, an insert may reuse it
};

struct alignas(cache_line_bytes) backend_table_header {
    std::uint64_t magic;  // written last by format
    std::uint32_t layout_version;
    std::uint32_t capacity;      // number of backend_slot entries
    std::uint32_t worker_slots;  // rows of the active-request matrix
    std::uint32_t worker_rows_used;  // atomic high-water mark: readers sum rows below it
    std::uint64_t bytes;       // total bytes of the table
    std::uint64_t generation;  // atomic: reload generation, see backend_table::begin_generation
    std::uint64_t live;        // atomic: live slots (for status output)
    robust_mutex_data lock;    // guards insert / retire only
};

struct alignas(cache_line_bytes) backend_slot {
    std::uint32_t status;  // atomic, backend_slot_status
    std::uint32_t key_len;
    std::uint64_t key_hash;
    char key[backend_key_bytes];
    std::uint64_t seen_generation;  // last reload generation that listed this server
    std::uint64_t state_word;       // atomic: since_ms << 8 | backend_state
    std::uint64_t streaks;          // atomic: consecutive successes << 32 | consecutive failures
    std::uint64_t fail_window;      // atomic: window start ms << 16 | failures in window
    std::uint64_t down_until_ms;    // atomic
    std::uint64_t requests;         // atomic totals
    std::uint64_t failures;
    std::uint64_t bytes_in;
    std::uint64_t bytes_out;
    std::uint64_t conns_opened;     // atomic pool totals, added by each worker once a second
    std::uint64_t reused_requests;
    std::uint64_t trim_closed;
};
// After the slots: std::uint32_t active[worker_slots][capacity], then std::uint32_t
// idle[worker_slots][capacity], each row padded to a cache line, so that a worker only ever writes its
// own rows (no false sharing between workers).

// ---- limit table (shm/limit_table) -----------------------------------------------------------------
inline constexpr std::uint64_t limit_table_magic = 0x31'4d'49'4c'4b'52'41'57;  // "WARKLIM1"
inline constexpr std::uint32_t limit_table_version = 1;
inline constexpr std::uint32_t limit_ways = 8;          // slots per group (probe window)
inline constexpr std::uint32_t max_limit_ids = 256;     // limit ids with a "requests limited" counter

struct alignas(cache_line_bytes) limit_table_header {
    std::uint64_t magic;  // written last by format
    std::uint32_t layout_version;
    std::uint32_t groups;  // power of two
    std::uint64_t bytes;
    std::uint64_t seed;        // per-table hash seed (keys chosen by clients must not aim at a group)
    std::uint64_t conn_epoch;  // atomic: bumped when a worker dies; older connection counts read as 0
    std::uint64_t inserts;     // atomic counters
    std::uint64_t evictions;
    std::uint64_t overflows;   // a group held only pinned entries: the request was not tracked
    std::uint64_t limited[max_limit_ids];  // atomic: requests refused per limit id
};

// Every word below carries in its top 16 bits a tag taken from the owning key's hash. A slot is
// recycled by swapping its key only; a word whose tag is not the current key's reads as fresh, and a
// CAS prepared for the previous key fails. So no step of a recycle can be half-done.
struct limit_slot {
    std::uint64_t rate_word;     // tag << 48 | GCRA theoretical arrival time, in 1/64 ms
    std::uint64_t conn_word;     // tag << 48 | (conn_epoch & 0xffff) << 32 | open connections
    std::uint64_t block_word;    // tag << 48 | blocked until (ms)
    std::uint64_t last_used_ms;  // LRU age, for eviction only
};

struct alignas(cache_line_bytes) limit_group {
    std::uint64_t keys[limit_ways];  // atomic: 64-bit key hash, 0 = empty; one cache line to probe
    limit_slot slots[limit_ways];
};

// ---- checks ----------------------------------------------------------------------------------------
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint64_t>::required_alignment <= alignof(std::uint64_t));
static_assert(std::atomic_ref<std::uint32_t>::required_alignment <= alignof(std::uint32_t));

template <class T>
inline constexpr bool is_shm_pod = std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T>;
static_assert(is_shm_pod<segment_header> && sizeof(segment_header) == segment_header_bytes);
static_assert(is_shm_pod<robust_mutex_data>);
static_assert(is_shm_pod<backend_table_header> && sizeof(backend_table_header) % cache_line_bytes == 0);
static_assert(is_shm_pod<backend_slot> && sizeof(backend_slot) == 256);
static_assert(offsetof(backend_slot, state_word) % 8 == 0 && offsetof(backend_slot, requests) % 8 == 0 &&
              offsetof(backend_slot, trim_closed) % 8 == 0);
static_assert(is_shm_pod<limit_table_header> && sizeof(limit_table_header) % cache_line_bytes == 0);
static_assert(is_shm_pod<limit_slot> && sizeof(limit_slot) == 32);
static_assert(is_shm_pod<limit_group> && sizeof(limit_group) == 320);
static_assert(offsetof(limit_group, slots) == cache_line_bytes);

}  // namespace bulwark::shm
