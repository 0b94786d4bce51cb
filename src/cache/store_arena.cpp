// cache/store_arena: the log-structured ring. Space is handed out at the write head under one short
// robust lock; before any byte of the previous lap is overwritten the eviction horizon is moved past
// it (readers validate against the horizon after copying). What the horizon passes is evicted, or
// given a second chance (cache/store_clock.cpp), at most one object per reservation.
#include "cache/store_impl.hpp"

#include <algorithm>
#include <unistd.h>

#include <cstring>

#include "shm/robust_mutex.hpp"

namespace bulwark::cache::detail {
namespace {

using layout::record_header;

bool known_magic(std::uint32_t m) noexcept {
    return m == layout::extent_magic || m == layout::head_magic || m == layout::chunk_magic || m == layout::pad_magic;
}

// The prefix the allocator writes at once, so that the ring walk can step over the extent even
// before (or if never) its writer fills it.
void write_prefix(std::byte* p, std::uint32_t magic, std::uint64_t len, std::uint64_t pos) noexcept {
    auto* h = reinterpret_cast<record_header*>(p);
    h->len = static_cast<std::uint32_t>(len);
    h->pos = pos;
    if (magic == layout::extent_magic) {  // a pad may be a single line: shorter than a header
        h->stored_ms = unix_ms();
        h->writer_pid = static_cast<std::uint32_t>(::getpid());
    }
    shm::store(h->magic, magic);
}

// A writer that reserved this extent a moment ago and is alive is still copying into it: passing it
// would let its late bytes land on the next lap's records. A dead or long-stalled writer is passed
// (its bytes, should they come, fail the checksums of what they hit).
constexpr std::uint64_t in_flight_grace_ms = 2000;

bool in_flight(const record_header* r) noexcept {
    if (shm::load(const_cast<record_header*>(r)->magic) != layout::extent_magic) return false;
    const std::uint64_t since = r->stored_ms, now = unix_ms();
    return (now < since || now - since < in_flight_grace_ms) && pid_alive(r->writer_pid);
}

}  // namespace

std::uint64_t store_impl::reserve(std::uint64_t len) noexcept {
    if (read_only || len == 0 || len % layout::record_align != 0 || len > max_record) return 0;
    if (write_head() >= layout::max_position) return 0;  // see store_file's inspect(): recreated at next open
    try {
        shm::robust_mutex m(hdr->lock);
        shm::robust_lock guard(m, &store_impl::repair, this);
        if (guard.recovered()) count(hdr->lock_recoveries);
        captured_ = relocated_ = 0;
        return place(len, true);
    } catch (...) {
        return 0;
    }
}

// Under the lock. Pads the lap's tail when `len` does not fit before the ring's end, makes room, writes
// again what the walk captured for a second chance (only at the top level: the nested reservations
// of those copies may capture more, up to max_captures), then hands out [head, head + len).
std::uint64_t store_impl::place(std::uint64_t len, bool top) {
    for (;;) {
        const std::uint64_t head = shm::load(hdr->write_head, std::memory_order_relaxed);
        const std::uint64_t tail = arena_bytes - head % arena_bytes;
        const bool pad = tail < len;
        if (!make_room(head + (pad ? tail : len))) return 0;  // a live writer is still copying
        if (pad) {
            write_prefix(at(head), layout::pad_magic, tail, head);
            shm::store(hdr->write_head, head + tail);
        } else if (!top || relocated_ == captured_) {
            write_prefix(at(head), layout::extent_magic, len, head);
            shm::store(hdr->write_head, head + len);
            return head;
        }
        for (; top && relocated_ < captured_; ++relocated_) relocate(captures_[relocated_]);
    }
}

// Moves the horizon until [horizon, end) spans at most one lap, stepping record by record; false when
// it stopped short at an extent a live writer is still filling.
bool store_impl::make_room(std::uint64_t end) {
    std::uint64_t h = shm::load(hdr->horizon, std::memory_order_relaxed);
    if (end - h <= arena_bytes) return true;
    bool room = true;
    const std::uint64_t head = shm::load(hdr->write_head, std::memory_order_relaxed);
    while (end - h > arena_bytes) {
        const auto* r = reinterpret_cast<const record_header*>(at(h));
        const std::uint32_t magic = r->magic, len = r->len;
        const std::uint64_t pos = r->pos;
        const std::uint64_t min_len = magic == layout::pad_magic ? layout::record_align : sizeof(record_header);
        const bool ok = known_magic(magic) && pos == h && len >= min_len &&
                        len % layout::record_align == 0 && h + len <= head && h % arena_bytes + len <= arena_bytes;
        if (!ok) {  // a trampled prefix (a stale writer): step over it line by line
            h += layout::record_align;
            continue;
        }
        if (in_flight(r)) {
            room = false;
            break;
        }
        if (magic == layout::head_magic) pass_head(h);
        if (magic == layout::chunk_magic) pass_first_chunk(h);
        h += len;
    }
    shm::store(hdr->horizon, h, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // the horizon is visible before any overwrite
    return room;
}

void store_impl::write_record(std::uint64_t pos, record_header& h, const char* key, const char* head,
                              const char* data) noexcept {
    char* p = reinterpret_cast<char*>(at(pos));
    char* q = p + sizeof h;
    if (h.key_len) std::memcpy(q, key, h.key_len);
    q += h.key_len;
    if (h.head_len) std::memcpy(q, head, h.head_len);
    q += h.head_len;
    if (h.data_len) std::memcpy(q, data, h.data_len);
    h.pos = pos;
    h.stored_ms = h.stored_ms != 0 ? h.stored_ms : unix_ms();
    h.writer_pid = static_cast<std::uint32_t>(::getpid());
    h.head_crc = crc(head, h.head_len);
    h.data_crc = crc(data, h.data_len);
    h.meta_crc = meta_crc_of(h, key);
    record_header unfinished = h;  // every byte but the kind, then the kind (release): finished
    unfinished.magic = layout::extent_magic;
    std::memcpy(p, &unfinished, sizeof unfinished);
    shm::store(reinterpret_cast<record_header*>(p)->magic, h.magic);
}

// EOWNERDEAD: the owner died somewhere in place(). Each step stores one word and keeps
// horizon <= write_head <= horizon + arena, so the state is consistent unless the file is damaged;
// then everything is dropped (the horizon joins the head) rather than trusted.
void store_impl::repair(void* self) noexcept {
    auto* st = static_cast<store_impl*>(self);
    const std::uint64_t a = st->arena_bytes;
    std::uint64_t head = shm::load(st->hdr->write_head), hz = shm::load(st->hdr->horizon);
    if (head < a || hz < a || hz > head || head - hz > a || head % layout::record_align ||
        hz % layout::record_align) {
        head = align_record(std::max({head, hz, a})) + a;
        shm::store(st->hdr->horizon, head);
        shm::store(st->hdr->write_head, head);
    }
}

}  // namespace bulwark::cache::detail
