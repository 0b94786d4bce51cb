// cache/store: the public calls. Lookups (find, read_head, touch) never lock and never block; they
// copy out of the mapping and then verify. Fill locks are one CAS word each, recorded with the
// holder's pid and start time so that a dead or stuck filler never keeps others waiting.
#include "cache/store.hpp"

#include <unistd.h>

#include <algorithm>

#include "cache/store_impl.hpp"

namespace bulwark::cache {

using detail::store_impl;
using layout::record_header;

entry_ref store::find(std::string_view key) const {
    if (!impl_) return {};
    const std::uint64_t hash = impl_->key_hash(key);
    for (std::size_t i = 0; i < store_impl::probe_slots; ++i) {
        record_header h;
        if (impl_->matches(shm::load(*impl_->slot(hash, i)), key, hash, &h))
            return {h.pos, h.body_size, h.stored_ms};
    }
    return {};
}

namespace {

// True while some index slot still designates the head record at `pos`.
bool indexed(const store_impl& st, std::uint64_t key_hash, std::uint64_t pos) {
    for (std::size_t i = 0; i < store_impl::probe_slots; ++i) {
        std::uint64_t word = shm::load(*st.slot(key_hash, i));
        if (word != 0 && detail::slot_pos(word) == pos) return true;
    }
    return false;
}

}  // namespace

bool store::read_head(const entry_ref& e, std::string& out) const {
    record_header h;
    if (!impl_ || !impl_->head_ok(e.position, h) || !indexed(*impl_, h.key_hash, e.position)) return false;
    try {
        out.assign(impl_->payload(e.position) + h.key_len, h.head_len);
    } catch (...) {
        return false;
    }
    return detail::crc(out.data(), out.size()) == h.head_crc && impl_->still_live(e.position);
}

body_reader store::open_body(const entry_ref& e) const {
    body_reader r;
    record_header h;
    if (!impl_ || !impl_->head_ok(e.position, h)) {
        r.evicted_ = true;
        return r;
    }
    r.st_ = impl_.get();
    r.object_id_ = h.object_id;
    r.remaining_ = h.body_size;
    r.inline_ = (h.flags & layout::flag_inline) != 0;
    r.chunk_pos_ = r.inline_ ? e.position : h.link;
    return r;
}

bool store::replace_head(std::string_view key, const entry_ref& e, std::string_view head) {
    if (!impl_ || impl_->read_only) return false;
    const std::uint64_t hash = impl_->key_hash(key);
    record_header h;
    if (!impl_->matches(detail::make_slot(hash, e.position), key, hash, &h)) return false;
    std::string data;  // an inline body moves with the head (at most max_chunk bytes)
    try {
        if (h.flags & layout::flag_inline) data.assign(impl_->payload(e.position) + h.key_len + h.head_len, h.data_len);
    } catch (...) {
        return false;
    }
    if (!impl_->still_live(e.position) || detail::crc(data.data(), data.size()) != h.data_crc) return false;
    const std::uint64_t len = detail::align_record(sizeof h + key.size() + head.size() + data.size());
    const std::uint64_t pos = impl_->reserve(len);
    if (pos == 0) return false;
    h.stored_bytes = h.stored_bytes - h.len + len;
    h.len = static_cast<std::uint32_t>(len);
    h.head_len = static_cast<std::uint32_t>(head.size());
    h.stored_ms = detail::unix_ms();
    impl_->write_record(pos, h, key.data(), head.data(), data.data());
    if (!impl_->repoint(hash, e.position, pos)) return false;  // replaced or evicted meanwhile
    impl_->count(impl_->hdr->bytes_stored, len);
    return true;
}

void store::touch(const entry_ref& e) const {
    if (!impl_ || impl_->read_only || e.position < impl_->arena_bytes) return;
    record_header h;
    if (!impl_->load_header(e.position, h) || !impl_->still_live(e.position)) return;
    for (std::size_t i = 0; i < store_impl::probe_slots; ++i) {
        std::uint64_t* slot = impl_->slot(h.key_hash, i);
        std::uint64_t word = shm::load(*slot);
        while (word != 0 && detail::slot_pos(word) == e.position && (word & layout::slot_ref_bit) == 0) {
            if (shm::cas(*slot, word, word | layout::slot_ref_bit)) return;
        }
    }
}

bool store::erase(std::string_view key) { return impl_ && impl_->erase(key); }

std::size_t store::erase_prefix(std::string_view prefix) { return impl_ ? impl_->erase_prefix(prefix) : 0; }

// ---- fill locks ---------------------------------------------------------------------------------

namespace {

std::uint64_t fill_tag(std::uint64_t hash) noexcept {
    std::uint64_t t = hash >> 48;
    return t == 0 ? 1 : t;
}

std::uint32_t fill_pid(std::uint64_t word) noexcept {
    return static_cast<std::uint32_t>((word >> 26) & layout::fill_pid_mask);
}

std::uint64_t* fill_entry(const store_impl& st, std::uint64_t hash, std::size_t i) noexcept {
    return st.fills + ((hash >> 20) + i) % layout::fill_lock_entries;
}

std::uint32_t self_pid() noexcept { return static_cast<std::uint32_t>(::getpid()) & layout::fill_pid_mask; }

}  // namespace

bool store::try_lock_fill(std::string_view key, std::uint64_t now_ms, std::uint64_t max_hold_ms) {
    if (!impl_ || impl_->read_only) return true;  // no coalescing possible: fill
    max_hold_ms = std::min(max_hold_ms, layout::fill_ms_mask / 2);  // ages are kept modulo 2^26 ms
    const std::uint64_t hash = impl_->key_hash(key), tag = fill_tag(hash);
    const std::uint64_t mine = tag << 48 | std::uint64_t{self_pid()} << 26 | (now_ms & layout::fill_ms_mask);
    for (int attempt = 0; attempt < 4; ++attempt) {
        std::uint64_t* free = nullptr;
        std::uint64_t* held = nullptr;
        std::uint64_t word = 0;
        for (std::size_t i = 0; i < layout::fill_lock_probe && held == nullptr; ++i) {
            std::uint64_t* e = fill_entry(*impl_, hash, i);
            std::uint64_t w = shm::load(*e);
            if (w == 0 && free == nullptr) free = e;
            if (w != 0 && (w >> 48) == tag) held = e, word = w;
        }
        if (held != nullptr) {
            const std::uint64_t age = (now_ms - word) & layout::fill_ms_mask;
            if (detail::pid_alive(fill_pid(word)) && age < max_hold_ms) return false;
            if (shm::cas(*held, word, mine)) return true;  // the filler died or overstayed
            continue;
        }
        if (free == nullptr) return true;  // table full around this key: fill without coalescing
        std::uint64_t expected = 0;
        if (shm::cas(*free, expected, mine)) return true;
    }
    return false;
}

void store::unlock_fill(std::string_view key) {
    if (!impl_ || impl_->read_only) return;
    const std::uint64_t hash = impl_->key_hash(key), tag = fill_tag(hash);
    for (std::size_t i = 0; i < layout::fill_lock_probe; ++i) {
        std::uint64_t* e = fill_entry(*impl_, hash, i);
        std::uint64_t w = shm::load(*e);
        if (w != 0 && (w >> 48) == tag && fill_pid(w) == self_pid() && shm::cas(*e, w, std::uint64_t{0})) return;
    }
}

// ---- statistics ---------------------------------------------------------------------------------

void store::count(stat_counter c, std::uint64_t n) const {
    if (!impl_) return;
    layout::file_header& h = *impl_->hdr;
    switch (c) {
        case stat_counter::hits: impl_->count(h.hits, n); break;
        case stat_counter::misses: impl_->count(h.misses, n); break;
        case stat_counter::stale: impl_->count(h.stale, n); break;
        case stat_counter::revalidated: impl_->count(h.revalidated, n); break;
        case stat_counter::bypass: impl_->count(h.bypass, n); break;
        case stat_counter::bytes_served: impl_->count(h.bytes_served, n); break;
    }
}

store_stats store::stats() const {
    store_stats s;
    if (!impl_) return s;
    layout::file_header& h = *impl_->hdr;
    auto get = [](std::uint64_t& f) { return shm::load(f, std::memory_order_relaxed); };
    s.hits = get(h.hits);
    s.misses = get(h.misses);
    s.stale = get(h.stale);
    s.revalidated = get(h.revalidated);
    s.bypass = get(h.bypass);
    s.stored = get(h.stored);
    s.evicted = get(h.evicted);
    s.second_chances = get(h.second_chances);
    s.bytes_stored = get(h.bytes_stored);
    s.bytes_served = get(h.bytes_served);
    s.live_objects = get(h.live_objects);
    s.arena_bytes = impl_->arena_bytes;
    const std::uint64_t hz = impl_->horizon(), head = impl_->write_head();
    s.arena_used = head > hz ? head - hz : 0;
    s.index_slots = impl_->groups * layout::index_ways;
    return s;
}

std::vector<std::string> store::check() const {
    if (!impl_) return {"no cache file mapped"};
    return impl_->check();
}

}  // namespace bulwark::cache
