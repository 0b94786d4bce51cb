// cache/store_impl: the per-process view of a mapped cache file (cache/store_layout.hpp) and the
// operations the public calls are built from: record validation (copy, then verify position and
// checksums), the index (store_index.cpp), the ring allocator (store_arena.cpp), the file
// (store_file.cpp). Internal to src/cache; nothing here is a pointer into another process's memory.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cache/store_layout.hpp"
#include "shm/atomic.hpp"

namespace bulwark::cache::detail {

std::uint32_t crc(const void* data, std::size_t n, std::uint32_t seed = 0) noexcept;
std::uint64_t unix_ms() noexcept;
bool pid_alive(std::uint32_t pid) noexcept;
inline constexpr std::uint64_t align_record(std::uint64_t n) noexcept {
    return (n + layout::record_align - 1) & ~(layout::record_align - 1);
}

inline std::uint64_t slot_pos(std::uint64_t word) noexcept { return (word & layout::slot_pos_mask) * layout::record_align; }
inline std::uint64_t slot_tag(std::uint64_t word) noexcept {
    return (word >> layout::slot_tag_shift) & ((1u << layout::slot_tag_bits) - 1);
}
inline std::uint64_t key_tag(std::uint64_t key_hash) noexcept { return key_hash >> (64 - layout::slot_tag_bits); }
inline std::uint64_t make_slot(std::uint64_t key_hash, std::uint64_t pos) noexcept {
    return key_tag(key_hash) << layout::slot_tag_shift | (pos / layout::record_align);
}

/// The checksum of a record header and its key: meta_crc (and a chunk's patched link) taken as 0.
std::uint32_t meta_crc_of(const layout::record_header& h, const char* key) noexcept;

class store_impl {
public:
    std::string path;
    std::byte* base = nullptr;
    std::uint64_t size = 0;
    int fd = -1;  // the file, kept open for sendfile(); -1 when dup failed
    bool read_only = false;
    layout::file_header* hdr = nullptr;
    std::uint64_t* fills = nullptr;
    std::uint64_t* slots = nullptr;
    std::byte* arena = nullptr;
    std::uint64_t arena_bytes = 0;
    std::uint64_t groups = 0;
    std::uint64_t max_record = 0;  // largest record: a quarter of the arena, at most layout::max_record

    store_impl(std::string p, std::byte* b, std::uint64_t s, bool ro) noexcept;
    ~store_impl();
    store_impl(const store_impl&) = delete;
    store_impl& operator=(const store_impl&) = delete;

    // ---- positions and records ------------------------------------------------------------------
    std::byte* at(std::uint64_t pos) const noexcept { return arena + pos % arena_bytes; }
    const char* payload(std::uint64_t pos) const noexcept {
        return reinterpret_cast<const char*>(at(pos)) + sizeof(layout::record_header);
    }
    std::uint64_t horizon() const noexcept { return shm::load(hdr->horizon); }
    std::uint64_t write_head() const noexcept { return shm::load(hdr->write_head); }
    /// After copying out of a record: true when nothing can have overwritten it meanwhile.
    bool still_live(std::uint64_t pos) const noexcept {
        std::atomic_thread_fence(std::memory_order_acquire);
        return pos >= horizon();
    }
    /// Copies the header at `pos` and checks what needs no payload: bounds, own position, sizes.
    bool load_header(std::uint64_t pos, layout::record_header& h) const noexcept;
    /// Full check of a head record's header and key (in place), optionally the expected key.
    bool head_ok(std::uint64_t pos, layout::record_header& h) const noexcept;
    std::uint64_t key_hash(std::string_view key) const noexcept;
    void count(std::uint64_t& field, std::uint64_t n = 1) const noexcept {
        if (!read_only) shm::add(field, n);
    }
    void uncount(std::uint64_t& field) const noexcept;

    // ---- index (store_index.cpp) ----------------------------------------------------------------
    /// A key may sit in any of 16 slots: the 8 of its first group and the 8 of its second (two
    /// choices keep groups from overflowing long before the index is full).
    static constexpr std::size_t probe_slots = 2 * layout::index_ways;
    std::uint64_t group_index(std::uint64_t key_hash, std::size_t which) const noexcept {
        const std::uint64_t g1 = key_hash & (groups - 1);
        if (which == 0) return g1;
        const std::uint64_t g2 = (key_hash >> 24) & (groups - 1);
        return g2 != g1 ? g2 : g1 ^ 1;  // groups >= 2 (a file of 1 MiB has 32)
    }
    std::uint64_t* slot(std::uint64_t key_hash, std::size_t i) const noexcept {
        return slots + group_index(key_hash, i / layout::index_ways) * layout::index_ways + i % layout::index_ways;
    }
    /// True when `word` designates a live, intact head record of exactly `key`.
    bool matches(std::uint64_t word, std::string_view key, std::uint64_t hash,
                 layout::record_header* out = nullptr) const noexcept;
    /// Publishes the head record at `pos` for `key` (a CAS on one slot); false when it could not.
    bool publish(std::string_view key, std::uint64_t hash, std::uint64_t pos) noexcept;
    bool erase(std::string_view key) noexcept;
    std::size_t erase_prefix(std::string_view prefix) noexcept;
    /// Points the slot that designates `old_pos` at `new_pos` (clearing the referenced bit); 0 empties it.
    bool repoint(std::uint64_t key_hash, std::uint64_t old_pos, std::uint64_t new_pos) noexcept;

    // ---- arena (store_arena.cpp) ----------------------------------------------------------------
    /// Hands out `len` bytes (a multiple of record_align) at the write head; 0 when it cannot.
    std::uint64_t reserve(std::uint64_t len) noexcept;
    /// Writes a record: payload parts, then the header (crcs filled in here).
    void write_record(std::uint64_t pos, layout::record_header& h, const char* key, const char* head,
                      const char* data) noexcept;
    static void repair(void* self) noexcept;

    // ---- check (store_check.cpp) ----------------------------------------------------------------
    std::vector<std::string> check() const;

private:
    // Objects copied out for a second chance during one reservation, then written again.
    struct captured {
        std::vector<char> bytes;    // its records as they were: its chunks in order, then its head
        std::uint64_t old_pos = 0;  // its head record (the walk leaves that slot alone until repointed)
        std::uint64_t key_hash = 0;
    };
    static constexpr std::size_t max_captures = 4;  // bounded work per reservation
    std::uint64_t place(std::uint64_t len, bool top);
    bool make_room(std::uint64_t end);
    // CLOCK (store_clock.cpp): what the horizon is about to pass.
    void pass_head(std::uint64_t pos);
    void pass_first_chunk(std::uint64_t pos);
    bool moving(std::uint64_t head_pos) const noexcept;
    bool capture(std::uint64_t head_pos);
    void relocate(captured& c);
    std::string check_object(std::uint64_t slot, std::uint64_t word) const;
    captured captures_[max_captures];
    std::size_t captured_ = 0;   // entries filled during the current reservation
    std::size_t relocated_ = 0;  // entries of those already written again
};

}  // namespace bulwark::cache::detail
