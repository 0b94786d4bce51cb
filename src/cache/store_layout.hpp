// cache/store_layout: the bytes of the cache file, and nothing else. Plain PODs of fixed-width integers
// addressed by offsets from the file's start and by absolute arena positions (never pointers), so the
// same file means the same thing to every process and to the next binary. Shared fields that change
// are touched only through std::atomic_ref (shm/atomic.hpp). Changing anything here means bumping
// store::layout_version (a mismatch recreates the file rather than misreading it).
//
//   [0, 4096)              file_header: immutable part (checksummed) + alloc state + lock + stats
//   [4096, 8192)           fill locks: fill_lock_entries words (tag | pid | ms)
//   [index_offset, ...)    index: index_groups groups of index_ways 64-bit slots (one cache line each);
//                          a key may sit in either of two groups (cache/store_impl.hpp, slot())
//   [arena_offset, size)   arena: a ring of 64-byte aligned records; absolute position p lives at
//                          arena_offset + p % arena_bytes; positions start at arena_bytes (0 = none)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shm/layout.hpp"

namespace bulwark::cache::layout {

inline constexpr std::uint64_t file_magic = 0x31'48'43'43'4b'52'41'57;  // "WARKCCH1", little-endian
inline constexpr std::size_t header_bytes = 4096;
inline constexpr std::size_t fill_lock_entries = 512;
inline constexpr std::size_t fill_lock_probe = 4;
inline constexpr std::size_t index_ways = 8;
inline constexpr std::uint64_t record_align = 64;
inline constexpr std::uint64_t max_record = 16 * 1024 * 1024;  // record lengths fit 32 bits with room
inline constexpr std::uint64_t arena_bytes_per_slot = 4096;  // index: one slot per 2-4 KiB (groups: 2^n)

// Slot word: bit 63 referenced (CLOCK), bits 51..62 tag (key hash bits 52..63), bits 0..50 position / 64:
// positions up to 2^57 bytes (years of writing at 1 GB/s; past max_position the file is recreated).
inline constexpr std::uint64_t slot_ref_bit = std::uint64_t{1} << 63;
inline constexpr unsigned slot_tag_shift = 51;
inline constexpr unsigned slot_tag_bits = 12;
inline constexpr std::uint64_t slot_pos_mask = (std::uint64_t{1} << slot_tag_shift) - 1;
inline constexpr std::uint64_t max_position = std::uint64_t{1} << 56;

// Fill-lock word: tag (16 bits of the key hash, never 0) << 48 | pid (22 bits) << 26 | the caller's
// millisecond clock mod 2^26 (about 18 hours; hold times are clamped to half of it).
inline constexpr std::uint64_t fill_ms_mask = (std::uint64_t{1} << 26) - 1;
inline constexpr std::uint64_t fill_pid_mask = (std::uint64_t{1} << 22) - 1;

// Record kinds (first word of every record). `extent_magic` is what the allocator writes when it hands
// out space; the writer stores the final kind last (release), once every other byte is in place. The
// ring walk accepts every kind, and does not pass an extent_magic record of a live writer (briefly).
inline constexpr std::uint32_t extent_magic = 0x54584557;  // "WEXT"
inline constexpr std::uint32_t head_magic = 0x44484357;    // "WCHD"
inline constexpr std::uint32_t chunk_magic = 0x4b434357;   // "WCCK"
inline constexpr std::uint32_t pad_magic = 0x44415057;     // "WPAD": unused tail of the ring's last lap

inline constexpr std::uint32_t flag_compressed = 1;  // the data is one lz4 block
inline constexpr std::uint32_t flag_inline = 2;      // head record: the body's only chunk follows the head blob

struct file_header {
    // Immutable after creation; header_crc covers these fields (crc itself taken as 0).
    std::uint64_t magic;  // written last at creation
    std::uint32_t layout_version;
    std::uint32_t header_size;  // header_bytes
    std::uint64_t size;         // bytes of the whole file
    std::uint64_t index_offset;
    std::uint64_t index_groups;  // power of two
    std::uint64_t arena_offset;
    std::uint64_t arena_bytes;  // multiple of record_align
    std::uint64_t created_unix_ms;
    std::uint64_t seed;  // mixed into the key hash: clients cannot aim URLs at one index group
    std::uint32_t creator_pid;
    std::uint32_t header_crc;
    std::uint8_t reserved0[40];

    // Allocation state: changed only under `lock`, read by everyone (atomics).
    alignas(shm::cache_line_bytes) std::uint64_t write_head;  // next position handed out
    std::uint64_t horizon;         // every position below it may be overwritten: dead
    std::uint64_t next_object_id;  // atomic fetch_add, not under the lock
    std::uint8_t reserved1[40];
    alignas(shm::cache_line_bytes) shm::robust_mutex_data lock;

    // Statistics (atomics, relaxed).
    alignas(shm::cache_line_bytes) std::uint64_t hits, misses, stale, revalidated, bypass, bytes_served;
    std::uint64_t stored, evicted, bytes_stored, live_objects, second_chances, lock_recoveries;
};

// At the start of every record, 64-byte aligned. Payload after it: head record = key, head blob, then
// (flag_inline) the body's data; chunk record = the data. A reader trusts a record only when magic,
// pos (== where it was found), object id, seq and the checksums agree AND, after it copied what it
// needed, pos is still at or ahead of the horizon.
struct record_header {
    std::uint32_t magic;
    std::uint32_t len;  // bytes of the whole record including padding, multiple of record_align
    std::uint64_t pos;  // absolute arena position of this record
    std::uint64_t object_id;
    std::uint64_t key_hash;
    std::uint64_t link;       // head: first external chunk (0: none); chunk: next chunk (0: last; patched later)
    std::uint64_t body_size;  // head: identity bytes of the whole body
    std::uint64_t stored_ms;  // unix ms the record was written (head: of the commit)
    std::uint64_t stored_bytes;  // head: bytes the object occupies in the arena (all its records)
    std::uint32_t key_len, head_len;  // head
    std::uint32_t seq;        // chunk: index within the body (0 first); head: number of external chunks
    std::uint32_t ident_len;  // identity bytes of this record's data
    std::uint32_t data_len;   // stored bytes of this record's data
    std::uint32_t flags;
    std::uint32_t meta_crc;  // crc32 of this header (crcs and a chunk's link taken as 0) and the key
    std::uint32_t head_crc;  // crc32 of the head blob
    std::uint32_t data_crc;  // crc32 of the stored data
    std::uint32_t writer_pid;  // who reserved the extent: with stored_ms, tells the ring walk that a
                               // live writer is still copying into an extent_magic record
};

static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);  // address-free across processes
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);
static_assert(shm::is_shm_pod<file_header> && sizeof(file_header) <= header_bytes);
static_assert(shm::is_shm_pod<record_header> && sizeof(record_header) == 104);
static_assert(offsetof(file_header, write_head) % shm::cache_line_bytes == 0);
static_assert(offsetof(file_header, hits) % 8 == 0 && offsetof(record_header, link) % 8 == 0);
static_assert(fill_lock_entries * sizeof(std::uint64_t) == 4096);

}  // namespace bulwark::cache::layout
