// cache/store_arena: the log-structured ring. Space is handed out at the write head under one short
// robust lock; before any byte of the previous lap is overwritten the eviction horizon is moved past
// it (readers validate against the horizon after copying). Passing a referenced small object gives it
// a second chance (CLOCK): it is copied forward once instead of being lost, one per reservation.
#include "cache/store_impl.hpp"

#include <algorithm>
#include <cstring>

#include "shm/robust_mutex.hpp"

namespace bulwark::cache::detail {
namespace {

using layout::record_header;

constexpr std::uint64_t second_chance_max = 1024 * 1024;  // larger objects are not copied forward

bool known_magic(std::uint32_t m) noexcept {
    return m == layout::extent_magic || m == layout::head_magic || m == layout::chunk_magic || m == layout::pad_magic;
}

// The prefix the allocator writes at once, so that the ring walk can step over the extent even
// before (or if never) its writer fills it.
void write_prefix(std::byte* p, std::uint32_t magic, std::uint64_t len, std::uint64_t pos) noexcept {
    auto* h = reinterpret_cast<record_header*>(p);
    h->len = static_cast<std::uint32_t>(len);
    h->pos = pos;
    h->magic = magic;
}

}  // namespace

std::uint64_t store_impl::reserve(std::uint64_t len) noexcept {
    if (read_only || len == 0 || len % layout::record_align != 0 || len > arena_bytes / 4) return 0;
    if (write_head() >= layout::max_position) return 0;  // see store_file's inspect(): recreated at next open
    try {
        shm::robust_mutex m(hdr->lock);
        shm::robust_lock guard(m, &store_impl::repair, this);
        if (guard.recovered()) count(hdr->lock_recoveries);
        return place(len, &stash_);
    } catch (...) {
        return 0;
    }
}

// Under the lock. Pads the lap's tail when `len` does not fit before the ring's end, makes room,
// relocates at most one second-chance object, then hands out [head, head + len).
std::uint64_t store_impl::place(std::uint64_t len, stash* s) {
    for (;;) {
        const std::uint64_t head = shm::load(hdr->write_head, std::memory_order_relaxed);
        const std::uint64_t tail = arena_bytes - head % arena_bytes;
        const bool pad = tail < len;
        make_room(head + (pad ? tail : len), s);
        if (pad) {
            write_prefix(at(head), layout::pad_magic, tail, head);
            shm::store(hdr->write_head, head + tail);
        } else if (s == nullptr || !s->pending) {
            write_prefix(at(head), layout::extent_magic, len, head);
            shm::store(hdr->write_head, head + len);
            return head;
        }
        if (s != nullptr && s->pending) {
            relocate(*s);
            s = nullptr;  // bounded work: one copy per reservation
        }
    }
}

// Moves the horizon until [horizon, end) spans at most one lap, stepping record by record.
void store_impl::make_room(std::uint64_t end, stash* s) {
    std::uint64_t h = shm::load(hdr->horizon, std::memory_order_relaxed);
    if (end - h <= arena_bytes) return;
    const std::uint64_t head = shm::load(hdr->write_head, std::memory_order_relaxed);
    while (end - h > arena_bytes) {
        const auto* r = reinterpret_cast<const record_header*>(at(h));
        const std::uint32_t magic = r->magic, len = r->len;
        const std::uint64_t pos = r->pos;
        const bool ok = known_magic(magic) && pos == h && len >= layout::record_align &&
                        len % layout::record_align == 0 && h + len <= head && h % arena_bytes + len <= arena_bytes;
        if (!ok) {  // a trampled prefix (a stale writer): step over it line by line
            h += layout::record_align;
            continue;
        }
        if (magic == layout::head_magic) pass_head(h, s);
        if (magic == layout::chunk_magic) pass_first_chunk(h);
        h += len;
    }
    shm::store(hdr->horizon, h, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // the horizon is visible before any overwrite
}

// The horizon is about to pass the head record at `pos`: drop its index slot (an eviction), or stash
// a copy of a referenced, intact, single-record object to be written again at the head.
void store_impl::pass_head(std::uint64_t pos, stash* s) {
    record_header h;
    std::memcpy(&h, at(pos), sizeof h);
    for (std::size_t i = 0; i < probe_slots; ++i) {
        std::uint64_t* slot_p = slot(h.key_hash, i);
        std::uint64_t word = shm::load(*slot_p);
        if (word == 0 || slot_pos(word) != pos) continue;
        record_header full;
        if (s != nullptr && !s->pending && (word & layout::slot_ref_bit) != 0 && (h.flags & layout::flag_inline) &&
            h.len <= second_chance_max && h.len <= arena_bytes / 8 && head_ok(pos, full) &&
            crc(payload(pos) + full.key_len, full.head_len) == full.head_crc &&
            crc(payload(pos) + full.key_len + full.head_len, full.data_len) == full.data_crc) {
            const char* p = reinterpret_cast<const char*>(at(pos));
            s->bytes.assign(p, p + full.len);
            s->old_pos = pos;
            s->key_hash = full.key_hash;
            s->pending = true;
            return;
        }
        if (shm::cas(*slot_p, word, std::uint64_t{0})) {
            count(hdr->evicted);
            uncount(hdr->live_objects);
        }
        return;
    }
}

// The horizon is about to pass a chunk record: when it is the first chunk of an indexed object, that
// object is evicted now (its head record, later in the ring, would only lead to a broken body).
void store_impl::pass_first_chunk(std::uint64_t pos) {
    record_header c;
    std::memcpy(&c, at(pos), sizeof c);
    if (c.seq != 0) return;
    for (std::size_t i = 0; i < probe_slots; ++i) {
        std::uint64_t* slot_p = slot(c.key_hash, i);
        std::uint64_t word = shm::load(*slot_p);
        record_header h;
        if (word == 0 || slot_tag(word) != key_tag(c.key_hash) || !load_header(slot_pos(word), h)) continue;
        if (h.magic != layout::head_magic || h.link != pos || h.object_id != c.object_id) continue;
        if (shm::cas(*slot_p, word, std::uint64_t{0})) {
            count(hdr->evicted);
            uncount(hdr->live_objects);
        }
    }
}

// Writes the stashed record at the head under a new position and repoints its slot.
void store_impl::relocate(stash& s) {
    s.pending = false;
    const std::uint64_t np = place(s.bytes.size(), nullptr);
    auto* h = reinterpret_cast<record_header*>(s.bytes.data());
    h->pos = np;
    h->meta_crc = meta_crc_of(*h, s.bytes.data() + sizeof *h);
    std::memcpy(at(np), s.bytes.data(), s.bytes.size());
    // Replaced or erased meanwhile: the copy is garbage for the ring to pass over.
    if (repoint(s.key_hash, s.old_pos, np)) count(hdr->second_chances);
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
    h.head_crc = crc(head, h.head_len);
    h.data_crc = crc(data, h.data_len);
    h.meta_crc = meta_crc_of(h, key);
    std::memcpy(p, &h, sizeof h);
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
