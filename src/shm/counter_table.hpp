// shm/counter_table: request counters per listener and per route ("listener:web", "route:api"), shared
// by every worker, for `bulwark -s status` and the metrics endpoint to come. Keys are written only by
// the master (at start and reload, one writer, so no lock); workers look their rows up by key when they
// build a configuration snapshot and then only add to them, lock-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::shm {

inline constexpr std::uint64_t counter_table_magic = 0x31'52'54'4e'4b'52'41'57;  // "WARKNTR1"
inline constexpr std::uint32_t counter_table_version = 1;
inline constexpr std::uint32_t counter_slots = 1024;
inline constexpr std::size_t counter_key_bytes = 80;

struct counter_table_header {
    std::uint64_t magic;
    std::uint32_t version;
    std::uint32_t slots;
    std::uint64_t reserved[6];
};

struct alignas(64) counter_slot {
    std::uint32_t live;  // atomic; set (release) once `key` is complete
    std::uint32_t reserved;
    char key[counter_key_bytes];
    std::uint64_t requests;   // atomic
    std::uint64_t status[5];  // atomic; responses by class 1xx..5xx
    std::uint64_t bytes_out;  // atomic; body bytes sent to clients
};

class counter_table {
public:
    static constexpr std::uint32_t npos = ~std::uint32_t{0};
    struct row {
        std::string key;
        std::uint64_t requests = 0;
        std::uint64_t status[5] = {};
        std::uint64_t bytes_out = 0;
    };

    static std::size_t bytes_for() noexcept;
    /// Reuses the table in `mem` when its header matches, otherwise formats it (before forking only).
    static counter_table open_or_format(std::span<std::byte> mem, std::string& reason);
    static counter_table attach(std::span<std::byte> mem);

    /// Master only: the row of `key`, added if absent; npos when full or the key is too long.
    std::uint32_t find_or_add(std::string_view key) noexcept;
    std::uint32_t find(std::string_view key) const noexcept;
    /// One answered request with `status` and `body_bytes`.
    void count(std::uint32_t row_index, int status, std::uint64_t body_bytes) noexcept;
    std::vector<row> rows() const;

private:
    explicit counter_table(std::byte* base) noexcept;
    counter_table_header* header_;
    counter_slot* slots_;
};

}  // namespace bulwark::shm
