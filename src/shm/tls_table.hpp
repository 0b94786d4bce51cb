// shm/tls_table: what TLS resumption needs from every worker: the ticket keys the master generates and
// rotates (current + previous, seqlock'd: one writer, readers retry) and a bounded cache of sessions by
// id (direct-mapped slots, each its own seqlock). A writer killed mid-update leaves one slot odd; the
// next writer takes it over once that pid is dead, and readers never trust an odd slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace bulwark::shm {

inline constexpr std::uint64_t tls_table_magic = 0x31'53'4c'54'4b'52'41'57;  // "WARKTLS1"
inline constexpr std::uint32_t tls_table_version = 1;

struct ticket_key {
    std::uint8_t name[16];
    std::uint8_t aes[32];
    std::uint8_t hmac[32];
};

struct alignas(64) tls_table_header {
    std::uint64_t magic;
    std::uint32_t version;
    std::uint32_t slots;
    std::uint64_t key_seq;     // atomic; odd while the master writes keys
    std::int64_t rotated_at;   // unix seconds of the last rotation (written under key_seq)
    ticket_key keys[2];        // [0] current (encrypts), [1] previous (still decrypts)
    std::uint64_t handshakes;  // atomic counters, for status
    std::uint64_t resumed;
    std::uint64_t failed;      // handshake errors, non-TLS bytes, truncated handshakes
    std::uint64_t timed_out;   // handshake_timeout reached
};

inline constexpr std::size_t session_slot_bytes = 2048;
inline constexpr std::size_t session_id_max = 32;

struct alignas(64) session_slot {
    std::uint64_t state;  // atomic; sequence << 32 | writer pid: odd sequence while that writer fills the slot
    std::uint32_t id_len;
    std::uint32_t der_len;  // 0: empty
    std::int64_t expires;   // unix seconds
    std::uint8_t id[session_id_max];
    std::uint8_t der[session_slot_bytes - 56];
};
static_assert(sizeof(session_slot) == session_slot_bytes);

class tls_table {
public:
    static constexpr std::size_t session_der_max = sizeof(session_slot::der);

    /// Bytes for a table caching about `cache_bytes` of sessions (at least one slot).
    static std::size_t bytes_for(std::uint64_t cache_bytes) noexcept;
    /// Reuses the table in `mem` when its header matches (keys survive restarts, reloads and upgrades),
    /// otherwise formats it. `reason` says why it was formatted.
    static tls_table open_or_format(std::span<std::byte> mem, std::string& reason);

    // Ticket keys. Master only: makes `fresh` current and the current one previous.
    void publish_key(const ticket_key& fresh, std::int64_t now) noexcept;
    bool has_keys() const noexcept;
    std::int64_t rotated_at() const noexcept;
    /// Any process: a consistent copy of both keys.
    void read_keys(ticket_key out[2]) const noexcept;

    // Sessions by id. `der` is an i2d_SSL_SESSION encoding; larger than session_der_max: not stored.
    bool store(std::span<const std::uint8_t> id, std::span<const std::uint8_t> der, std::int64_t expires) noexcept;
    /// Copies the session into `out` (session_der_max bytes); 0 when absent, expired or being written.
    std::size_t find(std::span<const std::uint8_t> id, std::uint8_t* out, std::int64_t now) const noexcept;
    void remove(std::span<const std::uint8_t> id) noexcept;

    tls_table_header& header() noexcept { return *header_; }
    std::uint32_t slots() const noexcept { return header_->slots; }

private:
    tls_table(tls_table_header* h, session_slot* s) noexcept : header_(h), slots_(s) {}
    session_slot& slot_of(std::span<const std::uint8_t> id) const noexcept;
    bool claim(session_slot& s, std::uint64_t& state) noexcept;

    tls_table_header* header_;
    session_slot* slots_;
};

}  // namespace bulwark::shm
