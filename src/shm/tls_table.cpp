// shm/tls_table: seqlocks over plain PODs. Readers copy and re-check the sequence; the only lock-like
// state is a slot's odd sequence, which names its owner so that a SIGKILLed writer wedges nothing.
#include "shm/tls_table.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <unistd.h>

#include "shm/atomic.hpp"
#include "shm/hash.hpp"

namespace bulwark::shm {
namespace {

bool pid_alive(std::uint32_t pid) {
    return pid != 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH);
}

constexpr bool writing(std::uint64_t state) { return (state >> 32) & 1; }
constexpr std::uint64_t next_even(std::uint64_t state) { return ((state >> 32) + 1) << 32; }

}  // namespace

std::size_t tls_table::bytes_for(std::uint64_t cache_bytes) noexcept {
    std::uint64_t slots = cache_bytes / session_slot_bytes;
    if (slots == 0) slots = 1;
    return sizeof(tls_table_header) + static_cast<std::size_t>(slots) * session_slot_bytes;
}

tls_table tls_table::open_or_format(std::span<std::byte> mem, std::string& reason) {
    auto* h = reinterpret_cast<tls_table_header*>(mem.data());
    auto* s = reinterpret_cast<session_slot*>(mem.data() + sizeof(tls_table_header));
    const auto slots = static_cast<std::uint32_t>((mem.size() - sizeof(tls_table_header)) / session_slot_bytes);
    if (h->magic == tls_table_magic && h->version == tls_table_version && h->slots == slots) return {h, s};
    reason = h->magic == 0 ? "" : "layout or size changed";
    std::memset(mem.data(), 0, mem.size());
    h->version = tls_table_version;
    h->slots = slots;
    shm::store(h->magic, tls_table_magic);
    return {h, s};
}

void tls_table::publish_key(const ticket_key& fresh, std::int64_t now) noexcept {
    std::uint64_t seq = shm::load(header_->key_seq, std::memory_order_relaxed);
    shm::store(header_->key_seq, seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    header_->keys[1] = header_->keys[0];
    header_->keys[0] = fresh;
    header_->rotated_at = now;
    shm::store(header_->key_seq, seq + 2);
}

bool tls_table::has_keys() const noexcept { return load(header_->key_seq) >= 2; }

std::int64_t tls_table::rotated_at() const noexcept { return header_->rotated_at; }

void tls_table::read_keys(ticket_key out[2]) const noexcept {
    for (;;) {
        std::uint64_t before = load(header_->key_seq);
        if (before & 1) continue;  // the master is writing: a few stores, retry
        std::memcpy(out, header_->keys, sizeof header_->keys);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (load(header_->key_seq, std::memory_order_relaxed) == before) return;
    }
}

session_slot& tls_table::slot_of(std::span<const std::uint8_t> id) const noexcept {
    std::uint64_t h = hash_bytes(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
    return slots_[h % header_->slots];
}

// Makes the slot's sequence odd with our pid beside it, in one CAS. A slot left odd by a dead writer
// is taken over; one held by a live writer is skipped (the session is simply not cached).
bool tls_table::claim(session_slot& s, std::uint64_t& state) noexcept {
    state = load(s.state);
    if (writing(state) && pid_alive(static_cast<std::uint32_t>(state))) return false;
    std::uint64_t seq = state >> 32;
    std::uint64_t mine = ((seq + (writing(state) ? 2 : 1)) << 32) | static_cast<std::uint32_t>(::getpid());
    if (!cas(s.state, state, mine)) return false;
    state = mine;
    return true;
}

bool tls_table::store(std::span<const std::uint8_t> id, std::span<const std::uint8_t> der, std::int64_t expires) noexcept {
    if (id.empty() || id.size() > session_id_max || der.size() > session_der_max) return false;
    session_slot& s = slot_of(id);
    std::uint64_t state;
    if (!claim(s, state)) return false;
    std::atomic_thread_fence(std::memory_order_release);
    s.id_len = static_cast<std::uint32_t>(id.size());
    std::memcpy(s.id, id.data(), id.size());
    std::memcpy(s.der, der.data(), der.size());
    s.der_len = static_cast<std::uint32_t>(der.size());
    s.expires = expires;
    shm::store(s.state, next_even(state));
    return true;
}

std::size_t tls_table::find(std::span<const std::uint8_t> id, std::uint8_t* out, std::int64_t now) const noexcept {
    if (id.empty() || id.size() > session_id_max) return 0;
    session_slot& s = slot_of(id);
    std::uint64_t before = load(s.state);
    if (writing(before)) return 0;
    std::uint32_t id_len = s.id_len, der_len = s.der_len;
    std::int64_t expires = s.expires;
    if (id_len != id.size() || der_len == 0 || der_len > session_der_max || expires < now) return 0;
    if (std::memcmp(s.id, id.data(), id.size()) != 0) return 0;
    std::memcpy(out, s.der, der_len);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (load(s.state, std::memory_order_relaxed) != before) return 0;
    return der_len;
}

void tls_table::remove(std::span<const std::uint8_t> id) noexcept {
    if (id.empty() || id.size() > session_id_max) return;
    session_slot& s = slot_of(id);
    if (s.id_len != id.size() || std::memcmp(s.id, id.data(), id.size()) != 0) return;
    std::uint64_t state;
    if (!claim(s, state)) return;
    if (s.id_len == id.size() && std::memcmp(s.id, id.data(), id.size()) == 0) s.der_len = 0;
    shm::store(s.state, next_even(state));
}

}  // namespace bulwark::shm
